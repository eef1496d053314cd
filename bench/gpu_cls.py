"""Classifier CV on the crops that bench/gpu_bundle.py packed (for a GPU machine without ../shared/data).

    python bench/gpu_cls.py --name g96e60_init --epochs 60 --init .gpu/init --out DIR [--device cuda] [--k 5]

Same protocol as bench/cls_cv.py --task deepapl (patient-grouped 5-fold CV, `wbc_nb.diagnosis.cells_experiment`), on
the JPEG-carried 96 px crops; writes DIR/<name>.json (+ .npz and patient tables).
"""
import os, sys, json, time, argparse, warnings, platform
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
    a = ap.parse_args()
    import torch
    from wbc_nb.diagnosis import cells_experiment
    t0 = time.time()
    df, X, col = load_cells(Path(a.bundle))
    kw = dict(epochs=a.epochs, device=a.device)
    if a.init: kw['init'] = a.init
    if a.chs: kw['chs'] = tuple(int(c) for c in a.chs.split(','))
    res = cells_experiment(df, X, col, a.name, a.out, k=a.k, seed=42, size=96, tta=1, t0=t0,
                           log=lambda s: print(f"[{a.name}] {s}", flush=True), **kw)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    res['machine'] = f"{os.cpu_count()} CPU cores, {gpu}, torch {torch.__version__}, python {platform.python_version()}"
    Path(a.out, f'{a.name}.json').write_text(json.dumps(res, indent=1, default=str))
    c, p = res['cell'], res['patient']
    print(f"[{a.name}] done {time.time() - t0:.0f} s: bal.acc {c['cell.balanced_accuracy']:.3f}, 3-class {c.get('cell.accuracy_3class', float('nan')):.3f}, "
          f"promyelocyte {c.get('cell.recall.promyelocyte', float('nan')):.3f}, APL head AUC {p.get('cnn_apl_head', {}).get('auc', float('nan')):.3f}, "
          f"colour {p.get('colour', {}).get('auc', float('nan')):.3f}", flush=True)

if __name__ == '__main__': main()
