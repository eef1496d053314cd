"""Segmentation benchmark (not a test): wbc_nb U-Nets vs the Otsu baseline vs fastai `unet_learner(resnet34)`
vs segmentation_models_pytorch `Unet('resnet18')`, on one split with one training budget.

    python bench/seg_bench.py [--data DIR] [--budget 180] [--size 128] [--threads 2] [--only NAMES]
                              [--precision fp32|auto] [--tta 1|2|4|8] [--saved NAME=DIR,...] [--out DIR]

Every competitor runs in its own subprocess (so its peak memory is its own) and gets the same wall-clock training
budget: the number of one-cycle epochs is set from its measured training speed so that training takes about
`--budget` seconds. All use the 70/30 split of `wbc_nb.splits.split_train_test` (seed 42); keep-best uses the same
15 % hold-out of the train part; the test part is only used for the final scores. `fast-profile` is the exact
`train_segmenter(profile='fast')` call (its own epochs, not the budget), timed end to end with test evaluation.

`--precision` is the arithmetic every trained competitor trains and predicts in (`auto`: bf16 on a CPU with AMX, as
our profiles do; the speed probe that sets the epochs runs in it too), `--tta` the dihedral views every competitor
averages at prediction. `--saved NAME=DIR` adds a row for a model already trained (e.g. the shipped `full` profile),
scored and timed in the same run without training.

Writes bench/results/seg_bench.json and bench/results/seg_bench.md (machine described), and trained models under
/tmp/wbc_seg_bench/NAME (never in the repository).
"""
import os, sys, json, time, argparse, platform, subprocess, resource, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')

HERE = Path(__file__).resolve().parent
RESULTS = HERE/'results'
MODELS = Path('/tmp/wbc_seg_bench')

# name: (kind, options)
CONFIGS = {
    'fast-profile':     ('profile', dict(profile='fast')),
    'otsu':             ('otsu', {}),
    'light-rgb':        ('ours', dict(arch='light', prep='rgb')),
    'light-gray_clahe': ('ours', dict(arch='light', prep='gray_clahe')),
    'fastai-resnet34':  ('fastai', dict(prep='rgb')),
    'smp-resnet18':     ('smp', dict(prep='rgb')),
    'resnet18-dynunet': ('ours', dict(arch='resnet18', prep='rgb')),
    'light_x-rgb':      ('ours', dict(arch='light_x', prep='rgb')),
}

def machine()->dict:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return dict(nproc=os.cpu_count(), cpu=cpu, gpu=gpu, torch=torch.__version__, torch_threads=torch.get_num_threads(),
                python=platform.python_version(), platform=platform.platform(),
                mem_gb=round(os.sysconf('SC_PAGE_SIZE')*os.sysconf('SC_PHYS_PAGES')/2**30, 1))

def _split(data):
    from wbc_nb.data import load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    df = split_train_test(load_segmentation_wbc(data))
    rows = df[df.split == 'train'].reset_index(drop=True)
    import numpy as np
    valid = np.where(split_train_test(rows, test_size=0.15, stratify='dataset', col='_v')['_v'] == 'test')[0]
    return df, rows, valid

def _evaluate(df, seg):
    "Test scores per dataset (evaluate_segmenter) + nucleus ROC AUC from the same probabilities."
    import numpy as np
    from wbc_nb.metrics import evaluate_segmenter, roc_auc
    from wbc_nb.core import read_mask
    probs = {}
    def predict(img):
        p = seg.predict_proba(img); probs[len(probs)] = p[..., 2]
        return p.argmax(-1).astype(np.uint8)
    t0 = time.time()
    per, summary = evaluate_segmenter(df, predict, split='test')
    sec = time.time() - t0
    test = df[df.split == 'test']
    tg = [read_mask(m) for m in test['mask']]
    pl = [probs[i] for i in range(len(tg))]
    for ds in sorted(test.dataset.unique()):
        idx = [i for i, d in enumerate(test.dataset) if d == ds]
        summary[f'dataset{int(ds)}']['nucleus_auc'] = roc_auc([pl[i] for i in idx], [tg[i] for i in idx])
    return summary, sec

def _infer_timing(seg, df, reps=30):
    "Median ms per image of the whole predict (preprocess, network, resize back) on 300x300 images, batch 1 and 16."
    import numpy as np
    from wbc_nb.core import read_image
    d2 = df[(df.split == 'test') & (df.dataset == 2)]
    imgs = [read_image(p) for p in d2.image[:16]]
    for _ in range(3): seg.predict(imgs[0])
    t1 = []
    for i in range(reps):
        t = time.perf_counter(); seg.predict(imgs[i % len(imgs)]); t1.append(time.perf_counter() - t)
    seg.predict_batch(imgs, bs=16)
    t16 = []
    for _ in range(max(3, reps//6)):
        t = time.perf_counter(); seg.predict_batch(imgs, bs=16); t16.append((time.perf_counter() - t)/len(imgs))
    return dict(ms_bs1=1000*float(np.median(t1)), ms_bs1_min=1000*float(np.min(t1)), ms_bs16=1000*float(np.median(t16)),
                image_shape=list(imgs[0].shape))

def _learner(kind, opts, dls, size):
    from wbc_nb.unet import seg_learner
    from wbc_nb.seg_fit import seg_metrics, KeepBest, SegLoss
    from fastai.vision.all import Learner, unet_learner, resnet34, CrossEntropyLossFlat
    if kind == 'ours': return seg_learner(dls, opts['arch'], size=size, loss='dice_ce'), 3e-3
    if kind == 'fastai':   # fastai's defaults: its loss (CrossEntropyLossFlat), its default lr; our metrics and keep-best
        learn = unet_learner(dls, resnet34, pretrained=False, n_out=3, loss_func=CrossEntropyLossFlat(axis=1),
                             metrics=seg_metrics(), cbs=[KeepBest('nucleus_dice')])
        return learn, 1e-3
    if kind == 'smp':
        import segmentation_models_pytorch as smp
        m = smp.Unet('resnet18', encoder_weights=None, classes=3)
        return Learner(dls, m, loss_func=SegLoss(), metrics=seg_metrics(), cbs=[KeepBest('nucleus_dice')]), 3e-3
    raise ValueError(kind)

def _saved(a)->dict:
    "The `--saved NAME=DIR,...` models: {name: folder}."
    return dict(s.split('=', 1) for s in a.saved.split(',') if s)

def run_one(name, a)->dict:
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    kind, opts = CONFIGS[name] if name in CONFIGS else ('saved', dict(dir=_saved(a)[name]))
    rec = dict(name=name, kind=kind, **{k: v for k, v in opts.items()}, load_before=os.getloadavg()[0])
    t_all = time.time()
    df, rows, valid = _split(a.data)
    if kind == 'otsu':
        from wbc_nb.baseline import otsu_segment
        class _Otsu:
            def predict_proba(self, img):
                m = otsu_segment(img); return np.eye(3, dtype=np.float32)[m]
            def predict(self, img): return otsu_segment(img)
            def predict_batch(self, imgs, bs=16): return [otsu_segment(i) for i in imgs]
        seg = _Otsu()
        rec['train_seconds'] = 0.0
    elif kind == 'saved':
        from wbc_nb.unet import load_segmenter
        seg = load_segmenter(opts['dir'], tta=a.tta, precision=a.precision)
        rec.update(train_seconds=None, size=seg.size, arch=seg.meta.get('arch'), epochs=seg.meta.get('final_fit', {}).get('epochs_run'))
    elif kind == 'profile':
        from wbc_nb.unet import train_segmenter, Segmenter, save_segmenter
        learn, meta = train_segmenter(df, profile=opts['profile'], progress=False)
        rec.update(train_seconds=meta['final_fit']['seconds'], epochs=meta['final_fit']['epochs_run'], arch=meta['arch'],
                   size=meta['size'], best_epoch=meta['final_fit'].get('best_epoch'),
                   train_img_per_s=meta['final_fit']['n_train']*meta['final_fit']['epochs_run']/meta['final_fit']['seconds'])
        seg = Segmenter.from_learner(learn, meta, tta=a.tta, precision=a.precision)
    else:
        from fastai.vision.all import set_seed
        from wbc_nb.preprocess import seg_arrays, seg_dls, seg_augs
        from wbc_nb.unet import Segmenter, save_segmenter
        from wbc_nb.precision import amp_dtype, use_precision
        set_seed(42, reproducible=True)
        imgs, msks = seg_arrays(rows, a.size, opts.get('prep', 'rgb'))
        dls = seg_dls(imgs, msks, valid, bs=8, aug=seg_augs(seed=42))
        learn, lr = _learner(kind, opts, dls, a.size)
        # speed probe: a few training steps in the run's arithmetic, then epochs = budget * speed / n_train
        dt = amp_dtype(dls.device, a.precision)
        learn.model.train().to(memory_format=torch.channels_last); opt = torch.optim.Adam(learn.model.parameters(), lr=1e-6)
        ts = []
        while len(ts) < 4:
            for xb, yb in dls.train:
                t = time.perf_counter()
                with torch.autocast('cpu', dtype=dt, enabled=dt is not None):
                    loss = learn.loss_func(learn.model(xb.contiguous(memory_format=torch.channels_last)), yb)
                loss.backward(); opt.step(); opt.zero_grad()
                ts.append(time.perf_counter() - t)
                if len(ts) >= 4: break
        ips = dls.bs/float(np.median(ts[1:]))
        epochs = max(1, int(round(a.budget*ips*0.9/len(dls.train_ds))))   # 0.9: validation and data time
        set_seed(42, reproducible=True)
        learn, lr = _learner(kind, opts, dls, a.size)   # fresh weights after the probe
        use_precision(learn, a.precision)
        t0 = time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
        sec = time.time() - t0
        kb = learn.keep_best
        rec.update(epochs=epochs, lr=lr, train_seconds=round(sec, 1), probe_img_per_s=round(ips, 2),
                   train_img_per_s=len(dls.train_ds)*epochs/sec, best_epoch=kb.best_epoch,
                   valid_nucleus_dice=float(kb.best), size=a.size,
                   params_m=sum(p.numel() for p in learn.model.parameters())/1e6)
        meta = dict(size=a.size, preprocessing=dict(mode=opts.get('prep', 'rgb'), clip=2.0, tile=8))
        if kind == 'fastai':   # fastai's unet_learner normalises with ImageNet statistics too (our dls do)
            pass
        seg = Segmenter(learn.model, meta, tta=a.tta, precision=a.precision)
        if hasattr(learn.model, 'seg_config'):
            save_segmenter(learn, MODELS/name, dict(bench=rec))
            rec['model_dir'] = str(MODELS/name)
    summary, eval_sec = _evaluate(df, seg)
    rec.update(eval_seconds=round(eval_sec, 1))
    if kind == 'profile':
        rec['total_seconds'] = round(time.time() - t_all, 1)
        from wbc_nb.unet import save_segmenter
        save_segmenter(learn, MODELS/name, dict(meta, test=summary))
        rec['model_dir'] = str(MODELS/name)
    for ds in ('dataset1', 'dataset2', 'overall'):
        for k, v in summary[ds].items(): rec[f"{ds.replace('dataset', 'd')}_{k}"] = v
    rec.update(_infer_timing(seg, df))
    rec['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024
    rec['load_after'] = os.getloadavg()[0]
    return rec

COLS = [('name', 'config'), ('d1_nucleus_dice', 'D1 nuc Dice'), ('d2_nucleus_dice', 'D2 nuc Dice'), ('d1_cell_dice', 'D1 cell Dice'),
        ('d2_cell_dice', 'D2 cell Dice'), ('d1_nucleus_auc', 'D1 nuc AUC'), ('d2_nucleus_auc', 'D2 nuc AUC'), ('epochs', 'epochs'),
        ('train_seconds', 'train s'), ('train_img_per_s', 'train img/s'), ('ms_bs1', 'ms/img bs1'), ('ms_bs16', 'ms/img bs16'),
        ('peak_rss_mb', 'peak RSS MB'), ('load_before', 'load avg')]

def write_md(res, path):
    m = res['machine']
    def f(v, c=''):
        if v is None: return ''
        if isinstance(v, float): return f'{v:.4f}' if ('dice' in c or 'auc' in c) else f'{v:.1f}'
        return str(v)
    lines = ['# Segmentation benchmark', '',
             f"Machine: {m['nproc']} CPU cores ({m['cpu']}), {m['mem_gb']} GB RAM, GPU: {m['gpu'] or 'none'}; "
             f"torch {m['torch']}, torch threads {res['args']['threads']}, Python {m['python']}. Arithmetic: "
             f"{res['args'].get('precision', 'fp32')}; views averaged at prediction: {res['args'].get('tta', 1)}.",
             f"Run: {res['started']} to {res['finished']}; `python bench/seg_bench.py {res['cmdline']}`.", '',
             f"Split: 70/30 `split_train_test` (seed 42): {res['n_train']} train (of which {res['n_valid']} hold-out for keep-best), "
             f"{res['n_test']} test images. Training budget per competitor: about {res['args']['budget']} s of wall-clock time "
             f"at {res['args']['size']} px (the number of epochs follows from each model's measured speed); `fast-profile` is "
             "`train_segmenter(profile='fast')` with its own fixed epochs. Dice and AUC: mean over test images at their original size "
             "(`evaluate_segmenter`); ms/img: the whole `predict` (preprocess, network, resize back) of 300x300 images, median.", '',
             '| ' + ' | '.join(c[1] for c in COLS) + ' |', '|' + '---|'*len(COLS)]
    for r in res['runs']: lines.append('| ' + ' | '.join(f(r.get(c[0]), c[0]) for c in COLS) + ' |')
    lines += ['', res.get('notes', '')]
    Path(path).write_text('\n'.join(lines) + '\n')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=None); ap.add_argument('--budget', type=float, default=180)
    ap.add_argument('--size', type=int, default=128); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--only', default=','.join(CONFIGS)); ap.add_argument('--one', default=None)
    ap.add_argument('--out', default=str(RESULTS)); ap.add_argument('--notes', default='')
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'auto', 'bf16']); ap.add_argument('--tta', type=int, default=1)
    ap.add_argument('--saved', default='', help='NAME=DIR,...: saved models to score and time in the same run (no training)')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if a.one:
        rec = run_one(a.one, a)
        (out/f'{a.one}.json.tmp').write_text(json.dumps(rec, indent=1, default=str)); return
    import torch; torch.set_num_threads(a.threads)
    df, rows, valid = _split(a.data)
    res = dict(machine=machine(), args=vars(a), cmdline=' '.join(sys.argv[1:]), started=time.strftime('%Y-%m-%d %H:%M:%S'),
               n_train=len(rows), n_valid=len(valid), n_test=int((df.split == 'test').sum()), runs=[], notes=a.notes)
    prev = out/'seg_bench.json'
    if prev.exists() and a.only != ','.join(CONFIGS):   # partial rerun: keep the other configs' rows
        old = json.loads(prev.read_text()); res['runs'] = [r for r in old['runs'] if r['name'] not in a.only.split(',')]
    names = a.only.split(',') + list(_saved(a))
    for name in names:
        print(f'== {name}', flush=True)
        cmd = [sys.executable, __file__, '--one', name, '--budget', str(a.budget), '--size', str(a.size),
               '--threads', str(a.threads), '--out', str(out), '--precision', a.precision, '--tta', str(a.tta),
               '--saved', a.saved] + (['--data', a.data] if a.data else [])
        p = subprocess.run(cmd)
        f = out/f'{name}.json.tmp'
        if p.returncode == 0 and f.exists():
            rec = json.loads(f.read_text()); f.unlink(); res['runs'].append(rec)
            print({k: rec.get(k) for k in ('d1_nucleus_dice', 'd2_nucleus_dice', 'd1_cell_dice', 'd2_cell_dice', 'epochs', 'ms_bs1')}, flush=True)
        else: res['runs'].append(dict(name=name, error=f'exit code {p.returncode}'))
        order = list(CONFIGS); res['runs'].sort(key=lambda r: order.index(r['name']) if r['name'] in order else 99)
        res['finished'] = time.strftime('%Y-%m-%d %H:%M:%S')
        (out/'seg_bench.json').write_text(json.dumps(res, indent=1, default=str))
        write_md(res, out/'seg_bench.md')

if __name__ == '__main__': main()
