"""CPU speed of the networks in fp32 and bf16 (not a test): training steps and batch-1 prediction, one process.

    OMP_NUM_THREADS=2 .venv/bin/python bench/precision_bench.py [--sizes 160,192,224] [--fit] [--data DIR]

Rows: the light U-Net (random weights; the cost of a trained one) at each size, a training step at batch 8
(forward, Dice + CE loss, backward, AdamW step) and a batch-1 forward pass, each as fp32 (contiguous), fp32 with
channels-last weights, and bf16 autocast with channels-last weights (what `precision='auto'` does on a CPU with AMX);
then the 96 px cell classifier at batch 64. Median of the timed repeats after one warm-up. `--fit` adds 3 epochs of
the `full` profile's training on the real segmentation_WBC train split per precision (fit seconds per epoch).
"""
import time, argparse, warnings
warnings.filterwarnings('ignore')
import numpy as np, torch

def median_time(fn, n:int)->float:
    fn(); ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))

VARIANTS = {'fp32': (torch.contiguous_format, None), 'fp32, channels-last': (torch.channels_last, None),
            'bf16, channels-last': (torch.channels_last, torch.bfloat16)}

def bench_net(name, model, x, y, loss, n_train, n_infer):
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    rows = []
    for v, (fmt, dt) in VARIANTS.items():
        m, xx = model.to(memory_format=fmt).train(), x.contiguous(memory_format=fmt)
        def step():
            with torch.autocast('cpu', dtype=dt, enabled=dt is not None): out = m(xx)
            loss(out.float(), y).backward(); opt.step(); opt.zero_grad()
        t_train = median_time(step, n_train)
        m.eval(); x1 = xx[:1]
        def infer():
            with torch.inference_mode(), torch.autocast('cpu', dtype=dt, enabled=dt is not None): m(x1)
        rows.append((name, v, t_train, median_time(infer, n_infer)))
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='160,192,224'); ap.add_argument('--fit', action='store_true'); ap.add_argument('--data')
    a = ap.parse_args()
    from wbc_nb.unet import seg_model
    from wbc_nb.seg_fit import seg_loss
    from wbc_nb.classifier import cls_model
    from wbc_nb.precision import cpu_has_amx
    torch.manual_seed(0)
    rows = []
    for s in (int(v) for v in a.sizes.split(',')):
        rows += bench_net(f'light U-Net {s} px', seg_model('light', size=s), torch.randn(8, 3, s, s), torch.randint(0, 3, (8, s, s)),
                          seg_loss('dice_ce'), 7, 41)
    ce = torch.nn.CrossEntropyLoss()
    rows += bench_net('cell classifier 96 px', cls_model(8, 3, (16, 24, 48, 96, 128)), torch.randn(64, 3, 96, 96),
                      torch.randint(0, 8, (64,)), lambda o, t: ce(o[:, :8], t), 7, 41)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, AMX: {cpu_has_amx()}")
    print("| network | arithmetic | training step, s (batch 8; classifier 64) | ms / picture (batch 1) |\n|---|---|---|---|")
    for n, v, tt, ti in rows: print(f"| {n} | {v} | {tt:.3f} | {ti*1e3:.1f} |")
    if a.fit:
        from wbc_nb.data import load_segmentation_wbc
        from wbc_nb.splits import split_train_test
        from wbc_nb.unet import train_segmenter
        df = split_train_test(load_segmentation_wbc(a.data))
        print("\n| `full` profile, 224 px, real train split | seconds per epoch (3 epochs, keep-best validation included) |\n|---|---|")
        for p in ('fp32', 'bf16'):
            _, meta = train_segmenter(df, profile='full', epochs=3, device='cpu', precision=p, progress=False)
            print(f"| {p} | {meta['final_fit']['seconds']/3:.1f} |")

if __name__ == '__main__': main()
