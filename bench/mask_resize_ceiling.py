"""How much Dice resizing the ground truth alone costs (not a test): each test mask of the 70/30 split is brought to
`S` x `S` with nearest-neighbour interpolation (`INTER_NEAREST` and the pixel-centre `INTER_NEAREST_EXACT` that
`resize_pair` uses), put back at full size as `to_original` puts predictions back, and scored against itself.

    .venv/bin/python bench/mask_resize_ceiling.py [--sizes 128,160,192]
"""
import argparse, warnings
import numpy as np, cv2
warnings.filterwarnings('ignore')
from wbc_nb.data import load_segmentation_wbc
from wbc_nb.splits import split_train_test
from wbc_nb.preprocess import to_original
from wbc_nb.core import read_mask

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); ap.add_argument('--sizes', default='128,160,192,224,256')
a = ap.parse_args()
test = split_train_test(load_segmentation_wbc(), seed=42).query("split == 'test'")
masks = [(int(r.dataset), read_mask(r.mask)) for r in test.itertuples()]
for name, flag in (('INTER_NEAREST', cv2.INTER_NEAREST), ('INTER_NEAREST_EXACT', cv2.INTER_NEAREST_EXACT)):
    for S in map(int, a.sizes.split(',')):
        d = {1: [], 2: []}
        for ds, m in masks:
            back = to_original(np.eye(3, dtype=np.float32)[cv2.resize(m, (S, S), interpolation=flag)], m.shape).argmax(-1)
            p, t = back == 2, m == 2; d[ds].append(2*(p & t).sum()/(p.sum() + t.sum()))
        print(f"{name:20s} {S:4d} px: nucleus Dice D1 {np.mean(d[1]):.4f}  D2 {np.mean(d[2]):.4f}")
