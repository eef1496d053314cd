"""K-fold cross-validation of a segmentation recipe on the train split, without the final fit (to compare recipes).

    OMP_NUM_THREADS=2 .venv/bin/python bench/seg_cv.py --out results.json [--profile full] [--folds 5] [--ema 0.995] [--seed 42]

Each fold's model trains on the other folds exactly as `wbc_train_seg` trains the final model (its own keep-best
hold-out) and is scored on the held-out fold at full size; prints the per-fold table and the mean +- sd per dataset.
"""
import os, json, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True, help='JSON file for the CV record')
    ap.add_argument('--profile', default='full')
    ap.add_argument('--folds', type=int, default=5)
    ap.add_argument('--ema', type=float, default=None)
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--precision', default='auto')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_segmentation_wbc
    from wbc_nb.splits import split_train_test
    from wbc_nb.unet import train_segmenter
    df = split_train_test(load_segmentation_wbc(a.data))
    _, meta = train_segmenter(df, profile=a.profile, folds=a.folds, ema=a.ema, seed=a.seed, precision=a.precision,
                              device='cpu', final=False, progress=False)
    Path(a.out).write_text(json.dumps(meta['cv'] | dict(training=meta['training']), indent=1))
    cv = meta['cv']
    print("| fold | nucleus Dice D1 | nucleus Dice D2 | cell Dice D1 | cell Dice D2 | best epoch / run | seconds |\n|---|---|---|---|---|---|---|")
    for r in cv['per_fold']:
        t = r['test']
        print(f"| {r['fold']} | {t['dataset1']['nucleus_dice']:.4f} | {t['dataset2']['nucleus_dice']:.4f} | {t['dataset1']['cell_dice']:.4f} | "
              f"{t['dataset2']['cell_dice']:.4f} | {r.get('best_epoch', '-')} / {r['epochs_run']} | {r['seconds']:,.0f} |")
    g = lambda d, k: f"{cv[f'{d}.{k}_mean']:.4f} +- {cv[f'{d}.{k}_std']:.4f}"
    print(f"| **mean +- sd** | {g('dataset1', 'nucleus_dice')} | {g('dataset2', 'nucleus_dice')} | {g('dataset1', 'cell_dice')} | {g('dataset2', 'cell_dice')} | | |")

if __name__ == '__main__': main()
