"""How the cell classifier's cross-validated scores grow with the number of training patients (analysis, not a test).

    flock /tmp/wbc_train.lock .venv/bin/python bench/cls_learning_curve.py --init SEG_DIR --frac 0.5 [--frac 1] [--epochs 40] [--seed 42] [--data DIR]

The DeepAPL protocol of bench/cls_cv.py (the same patient-grouped folds, recipe and eight views), except that each
fold's model trains on a share `frac` of that fold's training patients, drawn within each diagnosis (seeded by the fold
seed and the fold's size), and is scored on the whole held-out fold, which is the same for every share. So the rows
differ only in how many patients the models learnt from. Prints one line per share: patients per fold, balanced
accuracy (balanced call), 3-class accuracy, promyelocyte and blast recall, APL-head patient AUC; writes each run's
summary to /tmp/wbc_cls_cv/curve_<frac>.json.
"""
import os, math, time, argparse, warnings
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')
OUT = '/tmp/wbc_cls_cv'

def patient_share(df, frac:float, seed:int):
    "The rows of `df` whose patient is in a share `frac` of its patients, drawn within each diagnosis (at least one each)."
    import numpy as np
    if frac >= 1: return df
    rng, keep = np.random.default_rng([seed, len(df)]), []
    for _, g in sorted(df.groupby('diagnosis').patient.unique().items()):
        g = sorted(g); keep += [g[i] for i in rng.permutation(len(g))[:max(1, math.ceil(frac*len(g)))]]
    return df[df.patient.isin(keep)].reset_index(drop=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--init', required=True, help='U-Net folder whose encoder starts every model (as bench/cls_cv.py --init)')
    ap.add_argument('--frac', type=float, action='append', required=True, help='share of each fold\'s training patients (repeatable)')
    ap.add_argument('--epochs', type=int, default=40); ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--data'); ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    from wbc_nb.cls_experiments import cv_experiment
    from wbc_nb.diagnosis import _fit_default
    for frac in a.frac:
        t0, used = time.time(), []
        def fit(df, X, **kw):
            sub = patient_share(df.assign(_row=np.arange(len(df))), frac, a.seed)
            used.append(sub.patient.nunique())
            return _fit_default(sub.drop(columns='_row'), X[sub._row.to_numpy()], **kw)
        r = cv_experiment('deepapl', f'curve_{frac:g}', a.data, out=OUT, seed=a.seed, cache=f'{OUT}/crops_deepapl_96_raw.npz',
                          epochs=a.epochs, init=a.init, fit=fit, log=lambda s: None)
        c, p = r['cell'], r['patient']
        print(f"frac {frac:g}: training patients per fold {used}; balanced accuracy {c['cell.balanced_accuracy']:.3f}, "
              f"3-class {c['cell.accuracy_3class']:.3f}, promyelocyte recall {c['cell.recall.promyelocyte']:.3f}, "
              f"blast recall {c['cell.recall.blast']:.3f}; APL head AUC {p['cnn_apl_head']['auc']:.3f}; {time.time() - t0:.0f} s", flush=True)

if __name__ == '__main__': main()
