"""Self-supervised pretraining of the U-Net on our own unlabelled pictures, and what it buys a segmenter trained after it.

    .venv/bin/python bench/seg_pretrain.py pretrain --out DIR [--minutes 25] [--size 160] [--seed 42]
    .venv/bin/python bench/seg_pretrain.py finetune --init DIR --out DIR [--profile fast] [--seed 42]
    .venv/bin/python bench/seg_holdout.py DIR           # judge on the keep-best hold-out, never the test split

Pretext task: masked-block reconstruction. Each picture (resized to `size` as the segmenter sees it) is cut into
16 px blocks; half of them, drawn anew for every picture and step, are set to the mean colour, and the whole light
`DynamicUnet` predicts the normalised RGB picture; the loss is the mean squared error on the masked pixels. Random
dihedral views. No label of any kind is read.

Pictures: DeepAPL's crops (every patient; unreadable files skipped), ALL_Taleqani's original fields, and the
segmentation_WBC pictures of the 70/30 split's train side only (its test pictures are never read).

`finetune` trains a segmenter exactly as `wbc_train_seg` does (same profile, seed and hold-out), except that every
layer but the last 1x1 convolution starts from the pretrained weights.
"""
import sys, json, time, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

from wbc_nb.core import data_root
DATA = str(data_root(cwd=Path(__file__).resolve().parent))   # --data, else $WBC_NB_DATA, else ../shared/data

def unlabelled_pictures(data:str, size:int)->tuple:
    "Every usable unlabelled picture, resized to size x size (uint8, N x size x size x 3), and counts per source."
    from concurrent.futures import ThreadPoolExecutor
    from wbc_nb.data import load_deepapl, load_taleqani, load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    from wbc_nb.core import read_image
    from wbc_nb.preprocess import resize_pair
    seg = split_train_test(load_segmentation_wbc(data))
    paths = {'DeepAPL': list(load_deepapl(data, on_bad='drop').path),
             'ALL_Taleqani': list(load_taleqani(data, on_bad='drop').path),
             'segmentation_WBC train': list(seg[seg.split == 'train'].image)}
    def one(p):
        try: return resize_pair(read_image(p), None, size)[0]
        except Exception as e: print(f"skipped {p}: {e}", file=sys.stderr); return None
    out, counts = [], {}
    with ThreadPoolExecutor(2) as ex:
        for k, ps in paths.items():
            got = [a for a in ex.map(one, ps) if a is not None]
            out += got; counts[k] = len(got)
    return np.stack(out), counts

def block_mask(n:int, size:int, block:int, ratio:float, g:torch.Generator)->torch.Tensor:
    "N x 1 x size x size float mask, 1 where a block is hidden."
    k = size//block
    m = (torch.rand(n, 1, k, k, generator=g) < ratio).float()
    return F.interpolate(m, scale_factor=block, mode='nearest')

def pretrain(X:np.ndarray, size:int, minutes:float, bs:int=16, lr:float=2e-3, block:int=16, ratio:float=0.5,
             seed:int=42, arch:str='light')->tuple:
    "Train `seg_model(arch)` to fill masked blocks for about `minutes`; returns (model, record)."
    from fastai.vision.all import imagenet_stats
    from wbc_nb.unet import seg_model
    from wbc_nb.preprocess import dihedral
    torch.manual_seed(seed); g = torch.Generator().manual_seed(seed); rng = np.random.default_rng(seed)
    model = seg_model(arch, size=size, n_out=3)
    mean = torch.tensor(imagenet_stats[0]).view(1, 3, 1, 1); std = torch.tensor(imagenet_stats[1]).view(1, 3, 1, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    def batch():
        idx = rng.choice(len(X), bs, replace=False)
        x = (torch.from_numpy(X[idx]).permute(0, 3, 1, 2).float()/255 - mean)/std
        x = torch.cat([dihedral(xi[None], int(k)) for xi, k in zip(x, rng.integers(0, 8, bs))])
        m = block_mask(bs, size, block, ratio, g)
        return x*(1 - m), x, m
    def step(sched=None):
        xin, x, m = batch()
        loss = (((model(xin) - x)**2)*m).sum()/(m.sum()*3).clamp(min=1)
        opt.zero_grad(); loss.backward(); opt.step()
        if sched: sched.step()
        return float(loss)
    model.train()
    for gp in opt.param_groups: gp['lr'] = lr/25
    t0 = time.time(); [step() for _ in range(3)]; per = (time.time() - t0)/3   # speed probe (warm-up at a low rate)
    n = max(10, int(minutes*60/per))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=n)
    t0, losses = time.time(), []
    for i in range(n):
        losses.append(step(sched))
        if (i + 1) % max(1, n//20) == 0: print(f"step {i + 1}/{n}: loss {np.mean(losses[-50:]):.4f} ({time.time() - t0:.0f} s)", flush=True)
    return model, dict(steps=n, bs=bs, lr=lr, block=block, ratio=ratio, seed=seed, seconds=round(time.time() - t0, 1),
                       probe_s_per_step=round(per, 3), first_loss=float(np.mean(losses[:50])), last_loss=float(np.mean(losses[-50:])))

def last_conv_prefix(model:nn.Module)->str:
    "Name prefix of the network's last 1x1 convolution (the class head), which is not transferred."
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)][-1]
    return name + '.'

def init_callback(path:str):
    "A fastai callback that loads the pretrained weights (all but the class head) before training starts."
    from fastai.callback.core import Callback
    from safetensors.torch import load_file
    sd = load_file(str(Path(path)/'pretrained.safetensors'))
    class InitFromPretrained(Callback):
        order = -10
        def before_fit(self):
            if getattr(self, 'done', False): return
            model = self.learn.model; head = last_conv_prefix(model); own = model.state_dict()
            take = {k: v for k, v in sd.items() if not k.startswith(head) and k in own and own[k].shape == v.shape}
            missing = [k for k in own if k not in take and not k.startswith(head) and not k.endswith('num_batches_tracked')]
            if missing: raise RuntimeError(f"{path}: the pretrained weights lack {len(missing)} tensors, e.g. {missing[:3]}")
            model.load_state_dict(take, strict=False); self.done = True
            print(f"started from {path}: {len(take)} tensors (class head {head!r} left as initialised)", flush=True)
    return InitFromPretrained()

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('pretrain'); p.add_argument('--out', required=True); p.add_argument('--minutes', type=float, default=25)
    p.add_argument('--size', type=int, default=160); p.add_argument('--seed', type=int, default=42)
    f = sub.add_parser('finetune'); f.add_argument('--init', required=True); f.add_argument('--out', required=True)
    f.add_argument('--profile', default='fast'); f.add_argument('--seed', type=int, default=42)
    f.add_argument('--epochs', type=int, default=None, help="the profile's by default")
    for q in (p, f): q.add_argument('--data', default=DATA)
    a = ap.parse_args()
    out = Path(a.out)
    if out.exists() and any(out.iterdir()): raise SystemExit(f"{out} is not empty: nothing written")
    out.mkdir(parents=True, exist_ok=True)
    if a.cmd == 'pretrain':
        from safetensors.torch import save_file
        t0 = time.time(); X, counts = unlabelled_pictures(a.data, a.size)
        print(f"{len(X)} pictures {counts} read in {time.time() - t0:.0f} s", flush=True)
        model, rec = pretrain(X, a.size, a.minutes, seed=a.seed)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out/'pretrained.safetensors'))
        (out/'pretrained.json').write_text(json.dumps(dict(pictures=counts, size=a.size, **rec, arch=model.seg_config), indent=1))
        print(json.dumps(rec))
    else:
        from wbc_nb.data import load_segmentation_wbc
        from wbc_nb.splits import split_train_test
        from wbc_nb.unet import train_segmenter, save_segmenter
        df = split_train_test(load_segmentation_wbc(a.data))
        learn, meta = train_segmenter(df, profile=a.profile, device='cpu', seed=a.seed, epochs=a.epochs, progress=False,
                                      cbs=[init_callback(a.init)])
        meta['training']['pretrained_init'] = str(a.init)
        save_segmenter(learn, out, meta)
        print(json.dumps(meta['final_fit']))

if __name__ == '__main__': main()
