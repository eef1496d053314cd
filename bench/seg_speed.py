"""CPU speed of `Segmenter.predict` on 300x300 Dataset 2 pictures (batch 1), one process, models side by side.

    OMP_NUM_THREADS=2 .venv/bin/python bench/seg_speed.py MODEL_DIR [MODEL_DIR ...] [--data DIR] [--n 40] [--passes 3] [--tta 1]

For each model: the median ms per picture of `predict` as shipped (batch norms folded into the convolutions,
channels-last: `Segmenter.net`, in the arithmetic `precision='auto'` picks: bf16 on a CPU with AMX), of the same in
fp32, and of the unfused network as trained (`Segmenter.model`) in fp32, with the largest probability difference
between shipped and unfused. `--tta 1,4` times each model with those numbers of views. Passes alternate between the
models so that drift hits all alike.
"""
import os, time, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+'); ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    ap.add_argument('--n', type=int, default=40); ap.add_argument('--passes', type=int, default=3)
    ap.add_argument('--tta', default='1', help='views to time, e.g. 1,2,4')
    a = ap.parse_args()
    from wbc_nb.unet import load_segmenter
    from wbc_nb.core import read_image
    imgs = [read_image(p) for p in sorted(Path(a.data, 'segmentation_WBC', 'Dataset 2').glob('*.bmp'))[:a.n]]
    ttas = [int(t) for t in a.tta.split(',')]
    segs = {(m, t): load_segmenter(m, tta=t) for m in a.models for t in ttas}
    shipped = {k: s.dtype for k, s in segs.items()}
    VARS = ('shipped', 'fused fp32', 'unfused fp32')
    def setup(s, k, v):
        s.net, s.dtype = (s._fused, shipped[k] if v == 'shipped' else None) if v != 'unfused fp32' else (s.model, None)
    for s in segs.values(): s._fused = s.net; s.predict(imgs[0])
    times = {(k, v): [] for k in segs for v in VARS}
    for _ in range(a.passes):
        for (k, v) in times:
            s = segs[k]; setup(s, k, v)
            for im in imgs:
                t = time.perf_counter(); s.predict(im); times[(k, v)].append(time.perf_counter() - t)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(imgs)} pictures x {a.passes} passes, batch 1")
    print("| model | size | views | shipped arithmetic | ms / picture, shipped | ms, fused fp32 | ms, unfused fp32 | max prob. difference shipped vs unfused |\n|---|---|---|---|---|---|---|---|")
    from wbc_nb.precision import precision_name
    for (m, t), s in segs.items():
        setup(s, (m, t), 'shipped'); p0 = s.predict_proba(imgs[0]); setup(s, (m, t), 'unfused fp32'); p1 = s.predict_proba(imgs[0]); setup(s, (m, t), 'shipped')
        ms = lambda v: f"{np.median(times[((m, t), v)])*1e3:.1f}"
        print(f"| {m} | {s.size} | {t} | {precision_name(shipped[(m, t)])} | {ms('shipped')} | {ms('fused fp32')} | {ms('unfused fp32')} | {np.abs(p0 - p1).max():.1e} |")

if __name__ == '__main__': main()
