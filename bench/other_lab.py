"""Another laboratory (not a test): a DeepAPL cell model scores segmentation_WBC's labelled cells, no retraining.

    .venv/bin/wbc_train_cls --task deepapl --out /tmp/m_none --epochs 15 [--stain reinhard]
    .venv/bin/python bench/other_lab.py --model /tmp/m_none --name raw96 [--data DIR]

segmentation_WBC's two datasets (Jiangxi Tecom and CellaVision pictures, five white-cell classes in its class files)
are laid out as folders per class with canonical names (symbolic links under /tmp/wbc_other_lab, nothing copied), and
each is scored with `wbc_eval_cls` as the model was trained. Appends one row per dataset to
bench/results/other_lab.md (machine described).
"""
import os, sys, json, argparse, datetime, platform, subprocess, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')
HERE = Path(__file__).resolve().parent
CLASSES = ('neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil')

def folders(data, dest:Path)->dict:
    "One folder per class for each dataset of segmentation_WBC (symbolic links); {dataset: folder}."
    from wbc_nb.data import load_segmentation_wbc
    df = load_segmentation_wbc(data)
    out = {}
    for ds, g in df[df.label_name.notna()].groupby('dataset'):
        root = dest/f'dataset{ds}'
        for r in g.itertuples():
            d = root/r.label_name; d.mkdir(parents=True, exist_ok=True)
            if not (d/Path(r.image).name).exists(): os.symlink(Path(r.image).resolve(), d/Path(r.image).name)
        out[int(ds)] = root
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', required=True); ap.add_argument('--name', required=True); ap.add_argument('--data')
    a = ap.parse_args()
    exe = Path(sys.executable).parent/'wbc_eval_cls'
    meta = json.loads((Path(a.model)/'classifier.json').read_text())
    rows = []
    for ds, root in folders(a.data, Path('/tmp/wbc_other_lab')).items():
        r = subprocess.run([str(exe), '--model', a.model, '--data', str(root), '--json'], capture_output=True, text=True, check=True)
        res = json.loads(r.stdout)
        rec = ' / '.join(f"{res.get(f'cell.recall.{c}', float('nan')):.2f}" for c in CLASSES)
        rows.append(f"| {a.name} | {meta['size']} px, {meta['training']['epochs']} ep, stain {meta.get('stain', 'none')} | {ds} | "
                    f"{res['cell.n_cells']} | {res['cell.balanced_accuracy']:.3f} | {res['cell.accuracy']:.3f} | {rec} | {datetime.date.today()} |")
    md = HERE/'results'/'other_lab.md'
    if not md.exists():
        md.write_text("# Another laboratory: DeepAPL-trained cell models on segmentation_WBC\n\n"
                      f"`bench/other_lab.py` (see its docstring). Machine: {os.cpu_count()} CPU cores, {platform.processor() or 'x86_64'}.\n\n"
                      "| name | model | dataset | cells | balanced accuracy | accuracy | recall neutrophil / lymphocyte / monocyte / eosinophil / basophil | date |\n"
                      "|---|---|---|---|---|---|---|---|\n")
    with open(md, 'a') as f: f.write('\n'.join(rows) + '\n')
    print('\n'.join(rows))

if __name__ == '__main__': main()
