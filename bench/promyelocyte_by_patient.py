"""Where the promyelocyte calls go wrong, by diagnosis and by patient (analysis of out-of-fold predictions; nothing trained).

    .venv/bin/python bench/promyelocyte_by_patient.py RUN [--dir /tmp/wbc_cls_cv] [--data DIR] [--min 10]

RUN is a deepapl run of bench/cls_cv.py or bench/gpu_cls.py (its RUN.npz: out-of-fold probabilities in load_deepapl
order). Prints promyelocyte recall and the share called blast per diagnosis, blast recall per diagnosis, and
promyelocyte recall per patient with at least --min promyelocytes.
"""
import argparse, os, warnings
from pathlib import Path
import numpy as np, pandas as pd

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run'); ap.add_argument('--dir', default='/tmp/wbc_cls_cv'); ap.add_argument('--min', type=int, default=10)
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    a = ap.parse_args()
    from wbc_nb.data import load_deepapl
    z = np.load(Path(a.dir)/f'{a.run}.npz')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); df = load_deepapl(a.data)
    if len(df) != len(z['y']) or (df.cls.to_numpy() != z['y']).any(): raise SystemExit(f"{a.run}: its cells are not load_deepapl's rows")
    d = pd.DataFrame(dict(y=z['y'], pred=np.asarray(z['classes'])[z['prob'].argmax(1)], dx=df.diagnosis.to_numpy(), patient=df.patient.to_numpy()))
    rate = lambda g, c: float(np.mean(g.pred == c))
    for c, other in (('promyelocyte', 'blast'), ('blast', 'promyelocyte')):
        for dx, g in d[d.y == c].groupby('dx'):
            print(f"{c}s in {dx} patients: n {len(g)}, recall {rate(g, c):.3f}, called {other} {rate(g, other):.3f}")
    pm = d[d.y == 'promyelocyte']
    per = pm.groupby('patient').agg(n=('y', 'size'), diagnosis=('dx', 'first'))
    per['recall'] = pm.groupby('patient').apply(lambda g: rate(g, 'promyelocyte'))
    print(per[per.n >= a.min].sort_values('recall').round(3).to_string())

if __name__ == '__main__': main()
