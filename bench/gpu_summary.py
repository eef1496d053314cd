"""Print a short table of a GPU session's results (bench/gpu_session.sh): per segmenter, the final fit's epochs and
seconds, the K-fold CV means +- sd and the test split; per classifier run, its headline numbers."""
import sys, json
from pathlib import Path
res = Path(sys.argv[1])
for m in sorted(res.glob('seg*/segmenter.json')):
    j = json.loads(m.read_text()); ff, cv, te = j.get('final_fit', {}), j.get('cv') or {}, j.get('test') or {}
    print(f"{m.parent.name}: size {j.get('size')}, final fit {ff.get('epochs_run')} epochs (best {ff.get('best_epoch')}) in {ff.get('seconds')} s, "
          f"total {j.get('training', {}).get('total_seconds')} s")
    for g in ('dataset1', 'dataset2'):
        c = ' '.join(f"{k} {cv.get(f'{g}.{k}_mean', float('nan')):.4f}+-{cv.get(f'{g}.{k}_std', float('nan')):.4f}" for k in ('nucleus_dice', 'cell_dice'))
        t = ' '.join(f"{k} {te.get(g, {}).get(k, float('nan')):.4f}" for k in ('nucleus_dice', 'cell_dice'))
        print(f"  {g}: CV {c} | test {t}")
    for f in cv.get('per_fold', []): print(f"  fold {f['fold']}: {f.get('epochs_run')} epochs in {f.get('seconds')} s")
for m in sorted(res.glob('cls/*.json')):
    j = json.loads(m.read_text())
    if 'cell' not in j: continue
    c, p = j['cell'], j['patient']
    print(f"{j['name']}: bal.acc {c['cell.balanced_accuracy']:.3f}, 3-class {c.get('cell.accuracy_3class', float('nan')):.3f}, "
          f"promyelocyte {c.get('cell.recall.promyelocyte', float('nan')):.3f}, ECE {c['cell.ece']:.3f}, "
          f"APL head AUC {p.get('cnn_apl_head', {}).get('auc', float('nan')):.3f}, colour {p.get('colour', {}).get('auc', float('nan')):.3f}, {j['seconds']} s")
