"""Classifier CV on the crops that bench/gpu_bundle.py packed (for a GPU machine without ../shared/data).

    python bench/gpu_cls.py --name g96e60_init --epochs 60 --init .gpu/init --out DIR [--device cuda] [--k 5] [--tta 8] [--seed 42]

Same protocol as bench/cls_cv.py --task deepapl (patient-grouped 5-fold CV, `wbc_nb.diagnosis.cells_experiment`), on
the JPEG-carried 96 px crops, with the cell models' views (8) unless `--tta` says otherwise; writes DIR/<name>.json (+ .npz and patient tables).
"""
import os, json, time, argparse, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')
ROOT = Path(__file__).resolve().parent.parent

def load_cells(d:Path):
    import numpy as np, pandas as pd, cv2
    z = np.load(d/'cells.npz')
    jp, off = z['jpeg'], z['offsets']
    X = np.stack([cv2.imdecode(jp[a:b], cv2.IMREAD_COLOR)[..., ::-1] for a, b in zip(off[:-1], off[1:])])
    df = pd.read_csv(d/'cells.csv', keep_default_na=False)
    return df, np.ascontiguousarray(X), z['colour']

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--name', required=True); ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--init'); ap.add_argument('--chs'); ap.add_argument('--bundle', default=str(ROOT/'.gpu'))
    ap.add_argument('--out', required=True); ap.add_argument('--device', default='cuda'); ap.add_argument('--k', type=int, default=5)
    ap.add_argument('--tta', type=int, help="dihedral views averaged at prediction (default: the deepapl task's, 8)"); ap.add_argument('--seed', type=int, default=42, help='fold seed')
    a = ap.parse_args()
    from cls_cv import machine   # bench/ is this script's folder
    from wbc_nb.cls_experiments import cells_experiment
    t0 = time.time()
    df, X, col = load_cells(Path(a.bundle))
    kw = dict(epochs=a.epochs, device=a.device)
    if a.init: kw['init'] = a.init
    if a.chs: kw['chs'] = tuple(int(c) for c in a.chs.split(','))
    res = cells_experiment(df, X, col, a.name, a.out, k=a.k, seed=a.seed, size=96, tta=a.tta, t0=t0,
                           log=lambda s: print(f"[{a.name}] {s}", flush=True), **kw)
    Path(a.out, f'{a.name}.json').write_text(json.dumps({**res, 'machine': machine()}, indent=1, default=str))
    print(f"[{a.name}] done in {time.time() - t0:.0f} s (scores: bench/gpu_summary.py)", flush=True)

if __name__ == '__main__': main()
