"""Score segmenters on the keep-best hold-out of the train split at full size (the pictures each final fit held out
for choosing its epoch; never the test split), to choose between recipes without looking at the test split.

    .venv/bin/python bench/seg_holdout.py MODEL_DIR [MODEL_DIR ...] [--data DIR]

Each model is scored on its own hold-out: `wbc_nb.unet._holdout` of the 70/30 train rows with the seed and valid_pct
its segmenter.json records (15 %, stratified by dataset; the same pictures for every model trained with the default
seed 42). Prints nucleus and cell Dice per dataset.
"""
import os, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    from wbc_nb.unet import load_segmenter, _holdout
    from wbc_nb.metrics import evaluate_segmenter
    df = split_train_test(load_segmentation_wbc(a.data))
    rows = df[df.split == 'train'].reset_index(drop=True)
    print("| model | seed | hold-out pictures | size | D1 nucleus | D2 nucleus | mean of the two | D1 cell | D2 cell |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for m in a.models:
        seg = load_segmenter(m)
        tr = seg.meta.get('training', {})
        seed, pct = tr.get('seed', 42), tr.get('valid_pct', 0.15)
        held = rows.iloc[_holdout(rows, pct, seed, 'dataset')]
        _, s = evaluate_segmenter(held, seg.predict)
        n1, n2 = s['dataset1']['nucleus_dice'], s['dataset2']['nucleus_dice']
        print(f"| {m} | {seed} | {len(held)} | {seg.size} | {n1:.4f} | {n2:.4f} | {(n1 + n2)/2:.4f} | {s['dataset1']['cell_dice']:.4f} | {s['dataset2']['cell_dice']:.4f} |")

if __name__ == '__main__': main()
