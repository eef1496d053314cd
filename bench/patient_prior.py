"""Per-patient prior adaptation of the cell calls, on out-of-fold probabilities (analysis, not a test; nothing trained).

A patient's class mix varies far more than one crop can show (APL: many promyelocytes; AML: many blasts). Each
patient's class prior is estimated from its own cells' calibrated probabilities, without labels (EM, Saerens et al.
2002, smoothed towards the training prior by `alpha` pseudo-cells), and every cell is called with it:

    q_i(c) ∝ p_i(c) pi_P(c) / rho(c)              pi_P <- (sum_i q_i + alpha pi) / (n + alpha)
    call_i = argmax_c balanced_i(c) pi_P(c) / pi(c)

pi is the fold model's training prior and rho = pi^0.5 (normalised) the part of it that the loss, weighted by
frequency^-0.5, leaves in the probabilities; both follow exactly from each run's stored `prob` / `balanced` pair.
With pi_P = pi the call is the balanced call. Probabilities (ECE, patient AUC) are unchanged.

The diagnosis prior (session 12) mixes, instead, the class shares of the training folds' APL and AML patients by the
patient's APL score s (the mean of its cells' out-of-fold APL-head outputs; no labels):
pi_P = s pi_APL + (1 - s) pi_AML, call_i = argmax_c balanced_i(c) pi_P(c) / pi(c). A row with the true diagnosis
as s shows what a perfect patient score would give.

    .venv/bin/python bench/patient_prior.py s10_base_f7 s10_base_f42 [--alpha 20,0,5,50]   # bench/cls_cv.py runs

The cells' patients come from the DeepAPL loader in the order `cv_experiment` used (the crop cache's `ok` rows).
"""
import argparse, warnings
import numpy as np
warnings.filterwarnings('ignore')
OUT = '/tmp/wbc_cls_cv'

def cell_patients(y):
    "Patient id and diagnosis of every cell of a deepapl run, in the run's row order (checked against its labels)."
    from wbc_nb.data import load_deepapl
    df = load_deepapl(None)
    ok = np.load(f'{OUT}/crops_deepapl_96_raw.npz')['ok']
    df = df[ok].reset_index(drop=True)
    if len(df) != len(y) or (df.cls.astype(str).to_numpy() != y).any(): raise SystemExit('the crop cache does not match the run')
    return df.patient.astype(str).to_numpy(), df.diagnosis.astype(str).to_numpy()

def adapt(prob, bal, groups, alpha=20., tol=1e-6, steps=200):
    "Scores whose arg-max is the call with each group's EM-estimated prior (see the module docstring); also the priors."
    r = prob/np.maximum(bal, 1e-30); rho = r.mean(0); rho /= rho.sum()   # prob / balanced ∝ rho, the same for every row
    pi = rho**2/np.sum(rho**2)
    out, priors = np.zeros_like(bal, dtype=np.float64), {}
    for g in np.unique(groups):
        m = groups == g; p = prob[m].astype(np.float64); piP = pi.copy()
        for _ in range(steps):
            q = p*piP/rho; q /= q.sum(1, keepdims=True)
            new = (q.sum(0) + alpha*pi)/(m.sum() + alpha)
            done = np.abs(new - piP).max() < tol; piP = new
            if done: break
        s = bal[m]*piP/pi
        out[m] = s/s.sum(1, keepdims=True); priors[g] = piP
    return out, priors

def diagnosis_prior(bal, y, cl, fold, dx, s):
    "Calls with each cell's prior mixed from the training folds' APL and AML class shares by its patient's APL score `s`."
    yi = np.array([cl.index(v) for v in y]); C = len(cl); out = np.zeros_like(bal, dtype=np.float64)
    share = lambda m: (np.bincount(yi[m], minlength=C) + 0.5)/(m.sum() + 0.5*C)
    for k in np.unique(fold):
        te, tr = fold == k, fold != k
        pi, pa, pm = share(tr), share(tr & (dx == 'APL')), share(tr & (dx != 'APL'))
        q = bal[te]*(s[te, None]*pa + (1 - s[te, None])*pm)/pi
        out[te] = q/q.sum(1, keepdims=True)
    return out

def prior_check(name, est, pats, dx, y, cl, alpha)->str:
    "How well each patient's estimated promyelocyte share follows its true share (the first alpha)."
    k = cl.index('promyelocyte'); ps = sorted(est)
    e = np.array([est[p][k] for p in ps]); t = np.array([(y[pats == p] == 'promyelocyte').mean() for p in ps])
    g = np.array([dx[pats == p][0] for p in ps])
    by = '; '.join(f"{v}: estimated {e[g == v].mean():.3f}, true {t[g == v].mean():.3f}" for v in np.unique(g))
    return f"{name}, alpha {alpha:g}: promyelocyte share per patient, estimated vs true: correlation {np.corrcoef(e, t)[0, 1]:.2f} over {len(ps)} patients ({by})"

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('runs', nargs='+'); ap.add_argument('--alpha', default='20,0,5,50', help='pseudo-cells; the first is the one fixed beforehand')
    a = ap.parse_args()
    from wbc_nb.diagnosis import cell_metrics
    keys = [('cell.balanced_accuracy', 'balanced accuracy'), ('cell.accuracy_3class', '3-class'), ('cell.recall.promyelocyte', 'promyelocyte recall'), ('cell.recall.blast', 'blast recall')]
    notes = []
    print('| run | call | ' + ' | '.join(k for _, k in keys) + ' |'); print('|---|---|' + '---|'*len(keys))
    for name in a.runs:
        d = np.load(f'{OUT}/{name}.npz'); cl = d['classes'].astype(str).tolist(); y = d['y'].astype(str)
        pats, dx = cell_patients(y)
        rows, est = [('balanced call (product)', d['balanced'])], {}
        for j, al in enumerate(float(v) for v in a.alpha.split(',')):
            S = np.zeros_like(d['balanced'], dtype=np.float64)
            for k in np.unique(d['fold']):   # each fold model's own prior
                f = d['fold'] == k
                S[f], pri = adapt(d['prob'][f], d['balanced'][f], pats[f], al)
                if j == 0: est.update(pri)
            rows.append((f'patient prior, alpha {al:g}', S))
        apl = {p: d['aux'][pats == p].mean() for p in np.unique(pats)}   # the APL head's patient score, out of fold
        s = np.array([apl[p] for p in pats]); bal = d['balanced'].astype(np.float64)
        rows += [('diagnosis prior (APL head score)', diagnosis_prior(bal, y, cl, d['fold'], dx, s)),
                 ('diagnosis prior (true diagnosis; information)', diagnosis_prior(bal, y, cl, d['fold'], dx, (dx == 'APL').astype(float)))]
        notes.append(prior_check(name, est, pats, dx, y, cl, float(a.alpha.split(',')[0])))
        for what, P in rows:
            m = cell_metrics(y, P, cl)
            print(f"| {name} | {what} | " + ' | '.join(f"{m[k]:.3f}" for k, _ in keys) + ' |')
    print('\n'.join(notes))

if __name__ == '__main__': main()
