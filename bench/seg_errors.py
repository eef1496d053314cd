"""Where a segmenter's nucleus errors lie, on its keep-best hold-out (never the test split), and what changes at the
output end do to them.

    .venv/bin/python bench/seg_errors.py MODEL_DIR [MODEL_DIR ...] [--tta 1] [--ensemble]

Per model (each on the hold-out its seed drew, as in bench/seg_holdout.py) and dataset: nucleus Dice as shipped
(bilinear resizing back to full size), the share of nucleus error pixels within about 1 px of the true nucleus border,
nucleus Dice with the nucleus probability weighted by w before the arg-max, and with area instead of bilinear
resizing back (where the picture is smaller than the model's input). `--ensemble` adds a row for the models'
probabilities averaged (they must share a seed, so that none has trained on the others' hold-out).
"""
import os, argparse, warnings
from pathlib import Path
from unittest import mock
warnings.filterwarnings('ignore')
import numpy as np, cv2

WEIGHTS = (0.5, 0.7, 0.9, 1.0, 1.1, 1.25)

def dice(p, t): s = p.sum() + t.sum(); return 1.0 if s == 0 else 2*(p & t).sum()/s

def scores(probs, truth):
    "Per-picture figures of one model (or ensemble): probs at model size, truth masks at full size."
    out = []
    for P, t in zip(probs, truth):
        h, w = t.shape; tn = t == 2
        lin = cv2.resize(P, (w, h), interpolation=cv2.INTER_LINEAR)
        area = cv2.resize(P, (w, h), interpolation=cv2.INTER_AREA if h*w < P.shape[0]*P.shape[1] else cv2.INTER_LINEAR)
        pn = lin.argmax(-1) == 2
        border = cv2.morphologyEx(tn.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        near = cv2.dilate(border, np.ones((3, 3), np.uint8)) > 0
        err = pn ^ tn
        row = dict(dice=dice(pn, tn), err=int(err.sum()), err_near=int((err & near).sum()),
                   area=dice(area.argmax(-1) == 2, tn))
        for wt in WEIGHTS:
            q = lin.copy(); q[..., 2] *= wt; row[f'w{wt}'] = dice(q.argmax(-1) == 2, tn)
        out.append(row)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--tta', type=int, default=1)
    ap.add_argument('--ensemble', action='store_true')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    from wbc_nb.core import read_image, read_mask
    from wbc_nb import unet
    df = split_train_test(load_segmentation_wbc(a.data))
    rows = df[df.split == 'train'].reset_index(drop=True)
    segs = {m: unet.load_segmenter(m, tta=a.tta) for m in a.models}
    seeds = {m: s.meta.get('training', {}).get('seed', 42) for m, s in segs.items()}
    if a.ensemble and len(set(seeds.values())) > 1: raise SystemExit(f"--ensemble needs models of one seed, got {seeds}")
    results = {}
    with mock.patch.object(unet, 'to_original', lambda p, shape: p):   # probabilities at model size; resized here
        for m, s in segs.items():
            held = rows.iloc[unet._holdout(rows, 0.15, seeds[m], 'dataset')]
            imgs, truth = [read_image(p) for p in held.image], [read_mask(p) for p in held['mask']]
            results[m] = (held.dataset.to_numpy(), truth, s.proba_batch(imgs))
    table = {m: (ds, scores(P, t)) for m, (ds, t, P) in results.items()}
    if a.ensemble:
        ds, t, _ = results[a.models[0]]
        table['+'.join(Path(m).name for m in a.models)] = (ds, scores([sum(ps)/len(ps) for ps in zip(*(r[2] for r in results.values()))], t))
    print(f"hold-out of each model's seed, {a.tta} view(s)")
    print("| model | dataset | pictures | nucleus Dice | median | error px within ~1 px of the border | area resize | "
          + " | ".join(f"w {w}" for w in WEIGHTS) + " |\n|" + "---|"*(7 + len(WEIGHTS)))
    for m, (ds, rs) in table.items():
        for d in sorted(set(ds)):
            r = [x for x, dd in zip(rs, ds) if dd == d]
            mean = lambda k: np.mean([x[k] for x in r])
            print(f"| {m} | D{d} | {len(r)} | {mean('dice'):.4f} | {np.median([x['dice'] for x in r]):.4f} | "
                  f"{sum(x['err_near'] for x in r)/sum(x['err'] for x in r):.3f} | {mean('area'):.4f} | "
                  + " | ".join(f"{mean(f'w{w}'):.4f}" for w in WEIGHTS) + " |")

if __name__ == '__main__': main()
