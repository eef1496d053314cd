"""The pipeline's seg_scale='auto' on pictures larger than it segments whole (analysis, not a test).

    .venv/bin/python bench/large_pictures.py MODEL_DIR [MODEL_DIR ...] [--split holdout|test]
    # segmenter folders; data at WBC_NB_DATA or ../shared/data

(a) segmentation_WBC's Dataset 2 pictures enlarged 2x and 3x (cubic; masks nearest), as a camera of higher
    resolution gives: nucleus and cell Dice, mean over pictures, and the scales chosen. `--split holdout` (the
    default) takes the Dataset 2 pictures of each model's own keep-best hold-out, which it never trained on and which
    are not the test split, so the figures may choose things; `--split test` the 28 test pictures (sessions 12's
    figures; report only);
(b) 3x3 montages of ALL_Taleqani's tuning fields without Pro (672 px, the tuning fifth of bench/field_seg.py): cells
    found against the same fields one by one, and the scales chosen;
(c) the first 40 of bench/field_seg.py's 200 DeepAPL crops enlarged 2x: pictures with a cell within 40 px of the centre
    (80 px at 2x), pictures with exactly one cell.
To compare with another version of the package, run it with that version first on PYTHONPATH (e.g. a `git worktree`).
"""
import os, warnings
from pathlib import Path
import numpy as np, cv2
warnings.filterwarnings('ignore')

def main(models, split='holdout'):
    import wbc_nb
    from wbc_nb.data import load_segmentation_wbc, load_taleqani, load_deepapl
    from wbc_nb.splits import split_train_test
    from wbc_nb.unet import load_segmenter, _holdout
    from wbc_nb.pipeline import WBCPipeline
    from wbc_nb.core import read_image, read_mask
    from wbc_nb.metrics import seg_scores
    print('package', wbc_nb.__file__)
    D = os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data'))
    df = split_train_test(load_segmentation_wbc(D))
    def d2_pictures(seg):
        "Dataset 2 pictures and masks of the test split, or of the hold-out `seg` chose its epoch on."
        if split == 'test': rows = df[df.split == 'test']
        else:
            tr, cfg = df[df.split == 'train'].reset_index(drop=True), seg.meta.get('training', {})
            rows = tr.iloc[_holdout(tr, cfg.get('valid_pct', 0.15), cfg.get('seed', 42), 'dataset')]
        return [(read_image(r.image), read_mask(r.mask)) for r in rows[rows.dataset == 2].itertuples()]
    tq = split_train_test(load_taleqani(D), test_size=0.8, seed=0); tq = tq[(tq.split == 'train') & (tq.label != 'pro')].reset_index(drop=True)
    fields = [read_image(p) for p in tq.path]
    mont = [np.vstack([np.hstack(fields[k*9 + 3*r: k*9 + 3*r + 3]) for r in range(3)]) for k in range(len(fields)//9)]
    crops = []
    for p in load_deepapl(D).sample(200, random_state=0).head(40).path:
        try: crops.append(read_image(p))
        except Exception: pass
    for model in models:
        seg = load_segmenter(model)
        pipe, d2 = WBCPipeline(seg, seg_scale='auto'), d2_pictures(seg)
        for k in (2, 3):
            imgs = [cv2.resize(i, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC) for i, _ in d2]
            gts = [cv2.resize(g, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST) for _, g in d2]
            masks, tiles, ms, scales, found = pipe.segment_many(imgs)
            sc = [seg_scores(m, g) for m, g in zip(masks, gts)]
            print(f"{model} (a) D2 {split} x{k} ({len(imgs)}): nucleus {np.mean([s['nucleus_dice'] for s in sc]):.4f} cell {np.mean([s['cell_dice'] for s in sc]):.4f}; scales {sorted(set(float(round(s, 2)) for s in scales))}; median ms {np.median(ms):.0f}")
        singles = pipe.run(fields[:len(mont)*9]); multi = pipe.run(mont)
        n1 = sum(len(r.cells) for r in singles); n9 = sum(len(r.cells) for r in multi)
        print(f"{model} (b) {len(mont)} montages of 9 fields: {n9} cells (the same fields one by one: {n1}; ratio {n9/n1:.3f}); montage scales {[round(r.seg_scale, 2) for r in multi]}")
        imgs = [cv2.resize(i, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) for i in crops]
        res = pipe.run(imgs)
        ok = sum(1 for r, im in zip(res, imgs) if len(r.cells) >= 1 and np.hypot(*(np.array(im.shape[:2])/2 - r.cells[['cy', 'cx']].to_numpy(float)).T).min() <= 80)
        one = sum(1 for r in res if len(r.cells) == 1)
        print(f"{model} (c) DeepAPL x2 ({len(imgs)}): a cell within 40 px (80 at 2x) of the centre on {ok}; exactly one cell on {one}; scales {sorted(set(float(round(r.seg_scale, 2)) for r in res))}")

if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+'); ap.add_argument('--split', choices=('holdout', 'test'), default='holdout')
    a = ap.parse_args(); main(a.models, a.split)
