"""CPU speed of `Segmenter.predict` on 300x300 Dataset 2 pictures (batch 1), one process, models side by side.

    OMP_NUM_THREADS=2 .venv/bin/python bench/seg_speed.py MODEL_DIR [MODEL_DIR ...] [--data DIR] [--n 40] [--passes 3]

For each model: the median ms per picture of `predict` as shipped (batch norms folded into the convolutions,
channels-last: `Segmenter.net`) and of the unfused network as trained (`Segmenter.model`), with the largest
probability difference between the two. Passes alternate between the models so that drift hits all alike.
"""
import os, time, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+'); ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    ap.add_argument('--n', type=int, default=40); ap.add_argument('--passes', type=int, default=3)
    a = ap.parse_args()
    from wbc_nb.unet import load_segmenter
    from wbc_nb.core import read_image
    imgs = [read_image(p) for p in sorted(Path(a.data, 'segmentation_WBC', 'Dataset 2').glob('*.bmp'))[:a.n]]
    segs = {m: load_segmenter(m) for m in a.models}
    variants = {(m, v): s for m, s in segs.items() for v in ('fused', 'unfused')}
    nets = {m: (s.net, s.model) for m, s in segs.items()}
    times = {k: [] for k in variants}
    for s in segs.values(): s.predict(imgs[0])
    for _ in range(a.passes):
        for (m, v), s in variants.items():
            s.net = nets[m][0] if v == 'fused' else nets[m][1]
            for im in imgs:
                t = time.perf_counter(); s.predict(im); times[(m, v)].append(time.perf_counter() - t)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(imgs)} pictures x {a.passes} passes, batch 1")
    print("| model | size | ms / picture, shipped (fused) | ms, unfused | max prob. difference |\n|---|---|---|---|---|")
    for m, s in segs.items():
        s.net = nets[m][0]; p0 = s.predict_proba(imgs[0]); s.net = nets[m][1]; p1 = s.predict_proba(imgs[0]); s.net = nets[m][0]
        print(f"| {m} | {s.size} | {np.median(times[(m, 'fused')])*1e3:.1f} | {np.median(times[(m, 'unfused')])*1e3:.1f} | {np.abs(p0 - p1).max():.1e} |")

if __name__ == '__main__': main()
