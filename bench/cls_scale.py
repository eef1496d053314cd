"""The pipeline's cell calls on pictures of another scale: DeepAPL crops resized (analysis, not a test).

    .venv/bin/python bench/cls_scale.py SEG_DIR CLS_DIR [--n 100] [--start 0] [--ruler-only]

Pictures: `load_deepapl().sample(200, random_state=0)`, `--n` of them from `--start` (the truncated JPEGs skipped), each
resized by 0.5, 0.75, 1.5 and 2 (area / cubic). Prints (1) `rbc_diameter` of the pictures as they are (median and
10-90%: `wbc_nb.adapters.RBC_REF` comes from this line with n = 200) and, per factor, the share of pictures whose
measured scale is within 0.8-1.25 of the factor; (2) unless --ruler-only, for each factor the share of pictures whose
centre cell gets the same call as at the native size, with the red-cell window (`ref_rbc=RBC_REF`) and with the
fixed 360 px window (`ref_rbc=None`, the default), and the native calls' change between the two.
"""
import os, argparse, warnings
from pathlib import Path
import numpy as np, cv2
warnings.filterwarnings('ignore')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('seg'); ap.add_argument('cls'); ap.add_argument('--n', type=int, default=100); ap.add_argument('--start', type=int, default=0); ap.add_argument('--ruler-only', action='store_true')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_deepapl
    from wbc_nb.core import read_image
    from wbc_nb.unet import load_segmenter
    from wbc_nb.classifier import load_classifier
    from wbc_nb.adapters import rbc_diameter, CropClassifier, RBC_REF
    from wbc_nb.pipeline import WBCPipeline
    imgs = []
    for p in load_deepapl(a.data).sample(200, random_state=0).path[a.start:a.start + a.n]:
        try: imgs.append(read_image(p))
        except Exception: pass
    seg = load_segmenter(a.seg)
    sized = {f: imgs if f == 1 else [cv2.resize(i, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA) for i in imgs]
             for f in (1, 0.5, 0.75, 1.5, 2)}
    rb = {f: np.array([rbc_diameter(i, seg.predict(i)) for i in ims]) for f, ims in sized.items()}
    print(f"{len(imgs)} pictures; red-cell diameter as they are: median {np.nanmedian(rb[1]):.1f} px, 10-90% {np.nanpercentile(rb[1], 10):.1f}-{np.nanpercentile(rb[1], 90):.1f}, none found {np.isnan(rb[1]).sum()}")
    print('measured scale within 0.8-1.25 of the factor: ' + ', '.join(f"x{f}: {np.mean((r := rb[f]/rb[1]/f) > 0.8) - np.mean(r >= 1.25):.2f}" for f in (0.5, 0.75, 1.5, 2)))
    if a.ruler_only: return
    clf = load_classifier(a.cls)
    def calls(ims, ref_rbc):
        pipe = WBCPipeline(seg, CropClassifier(clf, ref_rbc=ref_rbc)); out = []
        for r, im in zip(pipe.run(ims), ims):
            c = r.cells
            out.append(c.pred.iloc[int(np.argmin(np.hypot(c.cx - im.shape[1]/2, c.cy - im.shape[0]/2)))] if len(c) else None)
        return out
    same = lambda x, y: np.mean([u == v and u is not None for u, v in zip(x, y)])
    base = {k: calls(imgs, k) for k in (RBC_REF, None)}
    nat_new, nat_old = base.values()
    print(f"native calls, red-cell window vs fixed window: the same on {same(nat_new, nat_old):.2f}")
    print('| factor | same call as native, red-cell window | fixed 360 px window |\n|---|---|---|')
    for f in (0.5, 0.75, 1.5, 2):
        print(f"| x{f} | {same(calls(sized[f], RBC_REF), nat_new):.2f} | {same(calls(sized[f], None), nat_old):.2f} |")

if __name__ == '__main__': main()
