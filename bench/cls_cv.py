"""Classifier cross-validation benchmark (not a test): the issue-5 protocol on the real data, one configuration a run.

    flock /tmp/wbc_train.lock .venv/bin/python bench/cls_cv.py --task deepapl --name c64 [--size 64] [--epochs 10]
        [--route cells|field] [--combine A,B] [--mode raw|masked|both --seg SEG_DIR] [--tta 8] [--also-tta 1] [--seed 42] [--init SEG_DIR] [--weight-power 0.5] [--aux-w 0.5] [--chs 16,24,48,96,128] [--stain reinhard] [--precision bf16] [--augment '{"rotate": 0.5}'] [--data DIR]

`deepapl`: patient-grouped 5-fold CV on DeepAPL (folds stratified by diagnosis): out-of-fold cell metrics (balanced
accuracy over the classes present, 3-class neutrophil / promyelocyte / blast accuracy, per-class recall, ECE), and
the APL vs AML patient AUC (pooled out of fold, bootstrap 95% CI) of the network's scores beside the colour-only and
experts'-shares baselines on the same folds (`wbc_nb.diagnosis.cv_experiment`).
`taleqani`: 5-fold CV by field on ALL_Taleqani (no patient ids): 4-class and 2-class field accuracy, for one route
of `wbc_nb.fields` (`--route cells`: each white cell, pooled per field; `--route field`: the whole field).
`--combine A,B` scores the equal-weight geometric mean of two earlier taleqani runs' out-of-fold probabilities (same
folds required; nothing is trained or tuned). `--also-tta V,...` (deepapl) scores the same fold models with other view
counts too, each as its own run `<name>_tta<V>` (one training, so only the views differ). `--seed` sets the folds
(default 42, the folds of every run before session 9).

Each run appends one row to bench/results/cls_cv.md (with the machine) and writes its full JSON to
bench/results/cls_cv/<name>.json; out-of-fold predictions go to /tmp/wbc_cls_cv/ (not the repository).
"""
import os, json, time, argparse, platform, datetime, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')
HERE = Path(__file__).resolve().parent
RESULTS = HERE/'results'

def machine()->str:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ', no GPU'
    return f"{os.cpu_count()} CPU cores ({cpu}){gpu}, torch {torch.__version__} with {torch.get_num_threads()} threads"

def row(res:dict, args)->str:
    s = res['settings']
    if 'combine' in s: cfg = f"geometric mean of {' and '.join(s['combine'])}"
    else: cfg = (f"{s['route']} route, " if 'route' in s else '') + f"size {s['size']}, {s.get('epochs', 10)} ep, mode {s['mode']}" + (f", tta {s['tta']}" if s['tta'] > 1 else '') \
          + (f", fold seed {s['seed']}" if s.get('seed', 42) != 42 else '') + (f", views of {s['views_of']}" if 'views_of' in s else '') \
          + (", init seg" if args.init else '') + (f", wp {args.weight_power}" if args.weight_power != 0.5 else '') \
          + (f", chs {args.chs}" if args.chs else '') \
          + (f", stain {args.stain}" if args.stain != 'none' else '') \
          + (f", augment {args.augment}" if args.augment else '') \
          + (f", {s['precision_used']}" if s.get('precision_used', 'fp32') != 'fp32' else '')
    if res['task'] == 'deepapl':
        c, p = res['cell'], res['patient']
        if 'cell.argmax.balanced_accuracy' in c:   # runs since the balanced call: cell columns are its calls
            cfg += f", balanced call (plain arg-max: {c['cell.argmax.balanced_accuracy']:.3f} / {c.get('cell.argmax.accuracy_3class', float('nan')):.3f} / {c.get('cell.argmax.recall.promyelocyte', float('nan')):.3f})"
        auc = lambda k: f"{p[k]['auc']:.3f} [{p[k]['lo']:.2f}-{p[k]['hi']:.2f}]" if k in p else ''
        return (f"| {res['name']} | deepapl | {cfg} | {c['cell.balanced_accuracy']:.3f} | {c.get('cell.accuracy_3class', float('nan')):.3f} "
                f"| {c.get('cell.recall.promyelocyte', float('nan')):.3f} | {c['cell.ece']:.3f} | {auc('cnn_apl_head')} | {auc('cnn_shares')} "
                f"| {auc('expert_shares')} | {auc('colour')} | | | {res['seconds']} | {datetime.date.today()} |")
    f = res['field']
    return (f"| {res['name']} | taleqani | {cfg} | | | | {f['field.ece']:.3f} | | | | | {f['field.accuracy_4class']:.3f} "
            f"| {f['field.accuracy_2class']:.3f} | {res['seconds']} | {datetime.date.today()} |")

HEADER = """# Classifier cross-validation

Protocol: `bench/cls_cv.py` (see its docstring). DeepAPL: patient-grouped 5-fold CV, 82 patients; cell metrics out of
fold; patient AUCs pooled out of fold with bootstrap 95% intervals, all four scores on the same folds. ALL_Taleqani:
5-fold CV by field (no patient ids). Targets (issue 5): balanced accuracy >= 0.80, 3-class >= 0.93, promyelocyte
recall >= 0.70, patient AUC >= 0.90 and >= colour + 0.05; fields 4-class >= 0.95, 2-class >= 0.98.

| name | task | settings | cell bal. acc | 3-class acc | promyelocyte recall | ECE | AUC APL head | AUC class shares | AUC experts' shares | AUC colour | field 4-class | field 2-class | seconds | date |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--task', default='deepapl', choices=['deepapl', 'taleqani'])
    ap.add_argument('--name', required=True)
    ap.add_argument('--data'); ap.add_argument('--size', type=int); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--mode', default='raw', choices=['raw', 'masked', 'both']); ap.add_argument('--seg')
    ap.add_argument('--init'); ap.add_argument('--tta', type=int, help='dihedral views averaged (default: the task\'s, 8 for deepapl cells, 1 for taleqani)')
    ap.add_argument('--also-tta', default='', help='deepapl: other view counts scored by the same fold models, e.g. 1')
    ap.add_argument('--seed', type=int, default=42, help='fold seed (patient-grouped folds)')
    ap.add_argument('--weight-power', type=float, default=0.5); ap.add_argument('--aux-w', type=float, default=0.5)
    ap.add_argument('--chs', help='encoder channels, e.g. 16,24,48,96,128 (the light U-Net\'s, needed with --init)')
    ap.add_argument('--route', default='cells', choices=['cells', 'field'], help='taleqani: cells (pooled) or the whole field')
    ap.add_argument('--combine', help='A,B: two earlier taleqani runs (their /tmp/wbc_cls_cv/NAME.npz), equal-weight geometric mean')
    ap.add_argument('--stain', default='none', choices=['none', 'reinhard', 'patient'], help='stain normalisation of every crop (reinhard), or of each patient\'s crops together (patient: one Lab mean and spread per patient, mapped to the mean over patients; no labels used)')
    ap.add_argument('--precision', default='fp32', choices=['auto', 'fp32', 'bf16', 'fp16'], help='training arithmetic (fp32, the classifier\'s default; auto: bf16 on a CPU with AMX)')
    ap.add_argument('--augment', help='CellAugment arguments as JSON, e.g. \'{"rotate": 0.5}\' (default: its defaults)')
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    if a.tta is None:
        from wbc_nb.classifier import TASKS
        a.tta = TASKS[a.task]['tta']
    import torch; torch.set_num_threads(a.threads)
    t0 = time.time()
    if a.combine: res = combine(a.name, a.combine.split(','))
    else:
        from wbc_nb.precision import amp_dtype, precision_name
        res = experiment(a); res['settings']['precision_used'] = precision_name(amp_dtype('cpu', a.precision))
    runs = [res] + [json.loads(Path(f'{OUT}/{a.name}_tta{v}.json').read_text()) for v in also_tta(a)]
    (RESULTS/'cls_cv').mkdir(parents=True, exist_ok=True)
    md = RESULTS/'cls_cv.md'
    if not md.exists(): md.write_text(HEADER.replace('| name |', f'Machine of the first run: {machine()}.\n\n| name |', 1))
    for r in runs:
        r['settings'].setdefault('precision_used', res['settings']['precision_used'])
        (RESULTS/'cls_cv'/f"{r['name']}.json").write_text(json.dumps({**r, 'machine': machine()}, indent=1, default=str))
        with open(md, 'a') as f: f.write(row(r, a) + '\n')
        print(row(r, a))
    print(f"{time.time() - t0:.0f} s on {machine()}")

def also_tta(a)->list: return [int(v) for v in a.also_tta.split(',') if v and int(v) != a.tta]

OUT = '/tmp/wbc_cls_cv'

def combine(name:str, runs:list)->dict:
    "Equal-weight geometric mean of two taleqani runs' out-of-fold field probabilities (same fields, folds and classes)."
    import numpy as np
    from wbc_nb.fields import pool_fields
    from wbc_nb.diagnosis import field_metrics, ece
    z = [np.load(f'{OUT}/{r}.npz') for r in runs]
    for k in ('y', 'fold', 'classes'):
        if not all((zz[k] == z[0][k]).all() for zz in z): raise SystemExit(f"--combine: the runs differ in {k!r}")
    prob = np.concatenate([zz['prob'] for zz in z])
    p, _ = pool_fields(prob, np.tile(np.arange(len(z[0]['y'])), len(z)), len(z[0]['y']))
    y, cl = z[0]['y'].astype(str), z[0]['classes'].astype(str).tolist()
    secs = sum(json.loads((RESULTS/'cls_cv'/f'{r}.json').read_text())['seconds'] for r in runs)
    return dict(task='taleqani', name=name, settings=dict(combine=runs, tta=1), seconds=secs,
                field={**field_metrics(y, p, cl), 'field.ece': ece(p, np.array([cl.index(c) for c in y]))})

def experiment(a)->dict:
    from wbc_nb.cls_experiments import cv_experiment
    from wbc_nb.classifier import TASKS
    size = a.size or (None if a.task == 'taleqani' else TASKS[a.task]['size'])
    kw = dict(epochs=a.epochs, weight_power=a.weight_power, aux_w=a.aux_w)
    if a.init: kw['init'] = a.init
    if a.chs: kw['chs'] = tuple(int(c) for c in a.chs.split(','))
    if a.stain == 'reinhard': kw['stain'] = a.stain
    kw['precision'] = a.precision
    if a.augment: kw['augment'] = json.loads(a.augment)
    if a.task == 'taleqani': kw['route'] = a.route
    else: kw['also_tta'] = tuple(also_tta(a))
    crops = f"{a.task}_{a.route}" if a.task == 'taleqani' else a.task
    if a.stain == 'patient': return patient_stain_experiment(a, size, f"{OUT}/crops_{crops}_{size}_raw.npz", kw)
    return cv_experiment(a.task, a.name, a.data, out=OUT, size=size, mode=a.mode, seg=a.seg, tta=a.tta, k=5, seed=a.seed,
                         cache=f"{OUT}/crops_{crops}_{size}_{'seg' if a.seg else 'raw'}.npz", **kw)

def patient_reinhard(X, groups):
    "Reinhard normalisation with one Lab mean and spread per group (patient), pooled over its crops' pixels, mapped to the mean over groups."
    import numpy as np, cv2
    lab = np.stack([cv2.cvtColor(np.ascontiguousarray(x[..., :3]), cv2.COLOR_RGB2LAB) for x in X]).astype(np.float32)
    groups = np.asarray(groups); stats = {}
    for g in np.unique(groups):
        v = lab[groups == g].reshape(-1, 3); stats[g] = (v.mean(0), v.std(0))
    tm, ts = np.mean([m for m, _ in stats.values()], 0), np.mean([s for _, s in stats.values()], 0)
    out = X.copy()
    for i, (l, g) in enumerate(zip(lab, groups)):
        m, s = stats[g]
        out[i, ..., :3] = cv2.cvtColor(np.clip((l - m)/np.maximum(s, 1.)*ts + tm, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return out

def patient_stain_experiment(a, size, cache, kw):
    "The deepapl protocol on crops normalised per patient (the colour baseline keeps the raw pictures' statistics)."
    from wbc_nb.data import load_deepapl
    from wbc_nb.cls_experiments import cell_arrays, cells_experiment
    df = load_deepapl(a.data)
    X, col, ok = cell_arrays(df.path, size, 0.72, cache)
    df, X, col = df[ok].reset_index(drop=True), X[ok], col[ok]
    res = cells_experiment(df, patient_reinhard(X, df.patient.to_numpy()), col, a.name, OUT, size=size, mode='raw', tta=a.tta, seed=a.seed, **kw)
    res['settings']['stain'] = 'patient'
    return res

if __name__ == '__main__': main()
