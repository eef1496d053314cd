"""Do measurements of the segmented cell add to the CNN's cell classes? Stacking analysis on out-of-fold predictions (not a test).

    .venv/bin/python bench/cls_stack.py RUN [--seg SEG_DIR] [--dir /tmp/wbc_cls_cv] [--data DIR]

RUN is a deepapl run of bench/cls_cv.py (RUN.npz: out-of-fold calibrated probabilities and folds, in the order of the
readable `load_deepapl` rows). Every DeepAPL picture is segmented at its own resolution (about 360 px) by the U-Net in
SEG_DIR, and its centre cell is measured: areas, nucleus-to-cell ratio, nucleus shape (lobes, solidity, circularity,
eccentricity, offset from the cell's centre), Lab colour of nucleus and cytoplasm against the picture's background,
and fine texture (difference of Gaussians at 1 and 3 px: granules) in each. The 96 px crops the CNN sees keep about
a third of the picture's linear resolution, so granules are what these measurements could add.

A gradient-boosted classifier or a logistic regression (class-balanced, so its arg-max is the balanced call) is fitted, for each fold, on the
other folds' cells only (the same patient-grouped folds as RUN), on three inputs: the CNN's log-probabilities alone
(what restacking alone changes), the measurements alone, and both; and the equal-weight geometric mean of the CNN's
balanced probabilities with those of the measurements-alone model (nothing fitted on the CNN's outputs). The CNN row itself uses its balanced call
(probabilities / training prior^0.5, `wbc_nb.classifier.balance`).
Measurements are cached next to RUN (morph_<seg hash>.npz).
"""
import argparse, os, warnings, hashlib, json, time
from pathlib import Path
import numpy as np, pandas as pd, cv2

FEATURES = ['cell_area', 'nuc_area', 'nc_ratio', 'n_lobes', 'nuc_solidity', 'nuc_circularity', 'nuc_eccentricity', 'nuc_offset',
            *[f'{r}_{c}' for r in ('nuc', 'cyt') for c in ('L', 'a', 'b', 'L_sd', 'a_sd', 'b_sd', 'dL', 'da', 'db')],
            'nuc_dog_sd', 'cyt_dog_sd', 'cyt_dark_share', 'cyt_bright_share', 'found']

def measure(img:np.ndarray, msk:np.ndarray)->np.ndarray:
    "Measurements of the centre cell of one picture (class mask `msk`); `found` 0 and the rest 0 when no cell is there."
    from wbc_nb.classifier import centre_component
    cell = centre_component(msk)
    nuc, cyt = cell & (msk == 2), cell & (msk == 1)
    out = dict.fromkeys(FEATURES, 0.)
    if nuc.sum() < 20: return np.array([out[k] for k in FEATURES], np.float32)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    bg = (msk == 0)
    bgm = lab[bg].mean(0) if bg.sum() > 100 else lab.reshape(-1, 3).mean(0)
    L = lab[..., 0]
    dog = cv2.GaussianBlur(L, (0, 0), 1.0) - cv2.GaussianBlur(L, (0, 0), 3.0)
    a_cell, a_nuc = float(cell.sum()), float(nuc.sum())
    stats = cv2.connectedComponentsWithStats(nuc.astype(np.uint8), connectivity=8)[2]
    lobes = int((stats[1:, cv2.CC_STAT_AREA] >= 20).sum())
    cs, _ = cv2.findContours(nuc.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(np.concatenate(cs))
    per = sum(cv2.arcLength(c, True) for c in cs)
    m = cv2.moments(nuc.astype(np.uint8), binaryImage=True)
    mu20, mu02, mu11 = m['mu20']/m['m00'], m['mu02']/m['m00'], m['mu11']/m['m00']
    d = np.sqrt(((mu20 - mu02)/2)**2 + mu11**2); l1, l2 = (mu20 + mu02)/2 + d, (mu20 + mu02)/2 - d
    ys, xs = np.nonzero(cell)
    out.update(cell_area=a_cell, nuc_area=a_nuc, nc_ratio=a_nuc/a_cell, n_lobes=lobes,
               nuc_solidity=a_nuc/max(cv2.contourArea(hull), 1.), nuc_circularity=4*np.pi*a_nuc/max(per, 1.)**2,
               nuc_eccentricity=float(np.sqrt(max(1 - l2/max(l1, 1e-9), 0))),
               nuc_offset=float(np.hypot(m['m10']/m['m00'] - xs.mean(), m['m01']/m['m00'] - ys.mean())/np.sqrt(a_cell)),
               found=1.)
    for r, reg in (('nuc', nuc), ('cyt', cyt)):
        if reg.sum() < 20: continue
        v = lab[reg]; mu, sd = v.mean(0), v.std(0)
        out.update({f'{r}_L': mu[0], f'{r}_a': mu[1], f'{r}_b': mu[2], f'{r}_L_sd': sd[0], f'{r}_a_sd': sd[1], f'{r}_b_sd': sd[2],
                    f'{r}_dL': mu[0] - bgm[0], f'{r}_da': mu[1] - bgm[1], f'{r}_db': mu[2] - bgm[2]})
    out['nuc_dog_sd'] = float(dog[nuc].std())
    if cyt.sum() >= 20:
        out.update(cyt_dog_sd=float(dog[cyt].std()), cyt_dark_share=float((dog[cyt] < -4).mean()), cyt_bright_share=float((dog[cyt] > 4).mean()))
    return np.array([out[k] for k in FEATURES], np.float32)

def measurements(paths, seg_dir:str, cache:Path)->np.ndarray:
    from wbc_nb.unet import load_segmenter
    from wbc_nb.core import read_image
    key = hashlib.sha1(json.dumps([list(map(str, paths)), str(seg_dir), FEATURES]).encode()).hexdigest()
    if cache.is_file():
        z = np.load(cache)
        if str(z['key']) == key: return z['F']
    seg = load_segmenter(seg_dir)
    F, t0 = np.zeros((len(paths), len(FEATURES)), np.float32), time.time()
    for i in range(0, len(paths), 16):
        imgs = [read_image(p) for p in paths[i:i + 16]]
        for j, (im, pr) in enumerate(zip(imgs, seg.proba_batch(imgs))):
            F[i + j] = measure(im, pr.argmax(-1).astype(np.uint8))
        if i % 800 == 0: print(f"measured {i + len(imgs)} of {len(paths)} ({time.time() - t0:.0f} s)", flush=True)
    np.savez(cache, F=F, key=key)
    return F

def stacked(Z:np.ndarray, y:np.ndarray, fold:np.ndarray, how:str='gbm', seed:int=0)->np.ndarray:
    "Out-of-fold class-balanced gradient boosting ('gbm') or logistic regression ('logreg') on `Z`: each fold predicted by a model fitted on the other folds."
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    P = np.zeros((len(y), y.max() + 1), np.float32)
    for k in np.unique(fold):
        tr = fold != k
        m = (HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
                                            class_weight='balanced', early_stopping=False, random_state=seed) if how == 'gbm' else
             make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight='balanced', max_iter=3000)))
        m.fit(Z[tr], y[tr])
        P[np.ix_(~tr, m.classes_)] = m.predict_proba(Z[~tr])
    return P

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run'); ap.add_argument('--seg', default='/tmp/s6/seg_full_cv5'); ap.add_argument('--dir', default='/tmp/wbc_cls_cv')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_deepapl
    from wbc_nb.diagnosis import cell_metrics
    from wbc_nb.classifier import balance
    z = np.load(Path(a.dir)/f'{a.run}.npz')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); df = load_deepapl(a.data)
    ok = np.load(Path(a.dir)/'crops_deepapl_96_raw.npz')['ok']
    df = df[ok].reset_index(drop=True)
    if len(df) != len(z['y']) or (df.cls.to_numpy() != z['y']).any(): raise SystemExit(f"{a.run}: its cells are not the readable load_deepapl rows")
    classes = list(z['classes']); y = np.array([classes.index(c) for c in z['y']]); fold, P = z['fold'], z['prob']
    F = measurements(df.path.tolist(), a.seg, Path(a.dir)/f"morph_{hashlib.sha1(str(a.seg).encode()).hexdigest()[:8]}.npz")
    print(f"centre cell found in {F[:, -1].mean():.3f} of {len(F)} pictures")
    B = np.zeros_like(P)
    for k in np.unique(fold):   # the CNN's own balanced call, with each fold's training prior
        B[fold == k] = balance(P[fold == k], np.bincount(y[fold != k], minlength=len(classes)) + 1, 0.5)
    logp = np.log(np.clip(P, 1e-6, 1))
    rows = {'CNN (balanced call)': B}
    for how in ('gbm', 'logreg'):
        Fm = stacked(F, y, fold, how)
        rows.update({f'{how}: CNN restacked': stacked(logp, y, fold, how), f'{how}: measurements alone': Fm,
                     f'{how}: CNN + measurements': stacked(np.hstack([logp, F]), y, fold, how),
                     f'{how}: CNN x measurements (geometric mean)': np.sqrt(B*Fm)})
    keys = ['cell.balanced_accuracy', 'cell.accuracy_3class', 'cell.recall.promyelocyte', 'cell.recall.blast', 'cell.recall.eosinophil',
            'cell.recall.basophil', 'cell.recall.myelocyte']
    t = pd.DataFrame({n: {k.replace('cell.', ''): cell_metrics(z['y'], p, classes).get(k, np.nan) for k in keys} for n, p in rows.items()}).T
    print(f"{a.run}, {len(y)} cells, 5 patient-grouped folds (those of the run):")
    print(t.round(3).to_string())

if __name__ == '__main__': main()
