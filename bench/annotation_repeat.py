"""How well segmentation_WBC's masks agree with themselves: cells that were photographed (or filed) twice and
annotated twice, and what a model scores on the same cells.

    .venv/bin/python bench/annotation_repeat.py [--model DIR] [--data DIR]

Every pair of pictures of one dataset is aligned by phase correlation (translation only, sub-pixel) on the grey
pictures. A pair counts as the same cell when the correlation peak is >= 0.8 and the aligned pictures correlate at
>= 0.97 (away from a 6 px margin); everything else in the data stays far below both (the next pair down: peak 0.62).
The second mask is moved by the same shift (each class's indicator bilinearly, cut at 0.5) and compared with the first: nucleus Dice (255) and whole-cell
Dice (> 0). With `--model`, the model's prediction of each picture of a pair is scored against that picture's own mask
and against its twin's (aligned), beside the split each picture is in (a train picture was seen in training).
"""
import argparse, itertools, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import numpy as np, cv2

from wbc_nb.core import data_root
from wbc_nb.metrics import binary_scores
DATA = str(data_root(cwd=Path(__file__).resolve().parent))   # --data, else $WBC_NB_DATA, else ../shared/data

def dice(p, t): return binary_scores(p, t)['dice']   # the project's metric: both empty -> 1.0

def pad(a, side):
    out = np.zeros((side, side) + a.shape[2:], a.dtype); out[:a.shape[0], :a.shape[1]] = a; return out

def twins(imgs:list, peak:float=0.8, ncc_min:float=0.97, margin:int=6)->list:
    "(i, j, dx, dy, peak, ncc) for every pair of `imgs` that shows the same picture content up to a translation."
    side = max(max(i.shape[:2]) for i in imgs)
    G = [pad(cv2.cvtColor(i, cv2.COLOR_RGB2GRAY).astype(np.float32), side) for i in imgs]
    win = cv2.createHanningWindow((side, side), cv2.CV_32F)
    out = []
    for i, j in itertools.combinations(range(len(imgs)), 2):
        (dx, dy), r = cv2.phaseCorrelate(G[i], G[j], win)
        if r < peak: continue
        b = cv2.warpAffine(G[j], np.float32([[1, 0, -dx], [0, 1, -dy]]), (side, side), flags=cv2.INTER_LINEAR)
        h, w = imgs[i].shape[:2]
        x, y = G[i][margin:h - margin, margin:w - margin], b[margin:h - margin, margin:w - margin]
        ncc = float(((x - x.mean())*(y - y.mean())).mean()/(x.std()*y.std() + 1e-6))
        if ncc >= ncc_min: out.append((i, j, dx, dy, r, ncc))
    return out

def moved(mask, dx, dy, shape)->np.ndarray:
    """`mask` shifted by (-dx, -dy) onto the first picture's grid (`shape`): each class's indicator moved bilinearly and
    cut at 0.5, so that a fractional shift moves the borders by that fraction instead of rounding them."""
    side = max(max(mask.shape), *shape)
    M = np.float32([[1, 0, -dx], [0, 1, -dy]])
    go = lambda b: cv2.warpAffine(pad(b.astype(np.float32), side), M, (side, side), flags=cv2.INTER_LINEAR)[:shape[0], :shape[1]] >= 0.5
    out = np.zeros(shape, np.uint8); out[go(mask > 0)] = 1; out[go(mask == 2)] = 2
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model'); ap.add_argument('--data', default=DATA)
    a = ap.parse_args()
    from wbc_nb.data import load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    from wbc_nb.core import read_image, read_mask
    df = split_train_test(load_segmentation_wbc(a.data))
    seg = None
    if a.model:
        from wbc_nb.unet import load_segmenter
        seg = load_segmenter(a.model)
    print("| dataset | pictures | shift (px) | peak | correlation | nucleus Dice | cell Dice | splits |"
          + (" model nucleus Dice: own mask / twin's mask (first, then second picture) |" if seg else "")
          + "\n|---|---|---|---|---|---|---|---|" + ("---|" if seg else ""))
    for d, rows in df.groupby('dataset'):
        rows = rows.reset_index(drop=True)
        imgs = [read_image(p) for p in rows.image]; masks = [read_mask(p) for p in rows['mask']]
        agree = []
        for i, j, dx, dy, r, ncc in twins(imgs):
            mi, mj = masks[i], moved(masks[j], dx, dy, masks[i].shape)
            nd, cd = dice(mi == 2, mj == 2), dice(mi > 0, mj > 0); agree.append((nd, cd))
            line = (f"| {d} | {rows.stem[i]}, {rows.stem[j]} | ({dx:.2f}, {dy:.2f}) | {r:.2f} | {ncc:.3f} | {nd:.4f} | {cd:.4f} | "
                    f"{rows.split[i]}, {rows.split[j]} |")
            if seg:
                pi, pj = seg.predict(imgs[i]) == 2, seg.predict(imgs[j]) == 2
                back = moved(masks[i], -dx, -dy, masks[j].shape)   # the first mask on the second picture's grid
                line += f" {dice(pi, mi == 2):.4f} / {dice(pi, mj == 2):.4f}; {dice(pj, masks[j] == 2):.4f} / {dice(pj, back == 2):.4f} |"
            print(line)
        if agree: print(f"| {d} | mean of {len(agree)} pairs | | | | {np.mean([x[0] for x in agree]):.4f} | {np.mean([x[1] for x in agree]):.4f} | |" + (" |" if seg else ""))

if __name__ == '__main__': main()
