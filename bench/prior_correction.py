"""Balanced-error decision rule on out-of-fold probabilities (not a test): divide each cell's probabilities by the
training folds' class prior to the power `tau` and take the arg-max. With the loss weighted by frequency^-0.5
(`weight_power` 0.5), tau = 0.5 is the rule fixed beforehand; other values are shown for context only.

    .venv/bin/python bench/prior_correction.py c96e15_init c128e15_init    # names of bench/cls_cv.py runs (/tmp/wbc_cls_cv/NAME.npz)
"""
import sys, warnings
import numpy as np
from sklearn.metrics import balanced_accuracy_score
from wbc_nb.cls_fit import balance
warnings.filterwarnings('ignore')
for name in sys.argv[1:]:
    d = np.load(f'/tmp/wbc_cls_cv/{name}.npz', allow_pickle=True)
    c = list(d['classes']); y = np.array([c.index(v) for v in d['y']]); P, f = d['prob'], d['fold']
    three = [c.index(k) for k in ('neutrophil', 'promyelocyte', 'blast')]; m = np.isin(y, three)
    for tau in (0, 0.25, 0.5, 0.75, 1.0):
        Z = np.zeros_like(P)
        for k in np.unique(f):
            Z[f == k] = balance(P[f == k], np.bincount(y[f != k], minlength=len(c)), tau)   # the training folds' prior
        pred = Z.argmax(1); p3 = np.array(three)[Z[m][:, three].argmax(1)]
        pro = (pred[y == c.index('promyelocyte')] == c.index('promyelocyte')).mean()
        print(f"{name} tau {tau}: balanced accuracy {balanced_accuracy_score(y, pred):.3f}, 3-class {(p3 == y[m]).mean():.3f}, promyelocyte recall {pro:.3f}")
