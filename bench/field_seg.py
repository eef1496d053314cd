"""How well segmenters find the white cells of multi-cell fields: ALL_Taleqani, against the dataset's own `Segmented/`
pictures (a weak reference: a colour threshold, touching cells merged; see nbs/07a_instances_eval.ipynb).

    .venv/bin/python bench/field_seg.py [MODEL_DIR[@SCALE,SCALE...] ...] [--part tuning|evaluation] [--with-pro]
                                        [--colour] [--crops] [--data DIR] [--json FILE]

Fields: `split_train_test(load_taleqani(), test_size=0.8, seed=0)` as in 07a: its 'train' part is the tuning fifth
(120 fields), 'test' the 480 evaluation fields. Pro fields are left out unless --with-pro (their reference is nearly
black). Each model runs through `WBCPipeline` (default instance step) at each scale given (default 1; `auto` or
`auto:T` for `seg_scale='auto'` with `scale_target=T`); --colour adds
the colour rule of 07a (`colour_mask`, declumped, cells of 200 px or more) as a peer. Scores: the share of fields
counted within one cell of the reference, the mean count difference, and one-to-one centroid matches within 10 px
(`match_centroids`), pooled over fields: precision, recall, F1. With --crops, each automatic arm also reports the
share of single-cell pictures it leaves at scale 1: segmentation_WBC's 120 test pictures and 200 DeepAPL crops
(`load_deepapl().sample(200, random_state=0)`).
"""
import os, json, time, argparse, warnings
from pathlib import Path
warnings.filterwarnings('ignore')

def score(rows):
    import numpy as np
    n, nr, m = (np.array([r[k] for r in rows], float) for k in ('n', 'n_ref', 'matched'))
    p, r = m.sum()/max(n.sum(), 1), m.sum()/max(nr.sum(), 1)
    return dict(fields=len(rows), within1=float(np.mean(abs(n - nr) <= 1)), mean_diff=float(np.mean(n - nr)),
                cells=int(n.sum()), ref_cells=int(nr.sum()), precision=float(p), recall=float(r),
                f1=float(2*p*r/(p + r)) if p + r else 0.0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='*', help='segmenter folders, each optionally @scale[,scale...] (seg_scale values)')
    ap.add_argument('--part', default='tuning', choices=('tuning', 'evaluation'))
    ap.add_argument('--with-pro', action='store_true')
    ap.add_argument('--colour', action='store_true', help="also score 07a's colour rule")
    ap.add_argument('--crops', action='store_true', help='automatic arms: share of single-cell pictures kept at scale 1')
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(Path(__file__).resolve().parent.parent.parent/'shared'/'data')))
    ap.add_argument('--json', default=None, help='also write the per-arm scores here')
    a = ap.parse_args()
    import numpy as np
    from wbc_nb.core import read_image
    from wbc_nb.data import load_taleqani
    from wbc_nb.splits import split_train_test
    from wbc_nb.morphology import reference_instances, instance_table, match_centroids, colour_mask, mask_instances
    from wbc_nb.pipeline import WBCPipeline
    from wbc_nb.unet import load_segmenter
    tq = split_train_test(load_taleqani(a.data), test_size=0.8, seed=0)
    tq = tq[tq.split == ('train' if a.part == 'tuning' else 'test')]
    if not a.with_pro: tq = tq[tq.label != 'pro']
    paths, labels = list(tq.path), list(tq.label)
    refs = [instance_table(reference_instances(read_image(s))) for s in tq.seg_path]
    arms = []
    if a.colour:
        arms.append(('colour rule (07a)', lambda ps: [mask_instances(colour_mask(read_image(p)), min_size=200)[1] for p in ps], None))
    for spec in a.models:
        d, _, sc = spec.partition('@')
        seg = load_segmenter(d)
        for s in sc.split(',') if sc else ['1']:
            auto, _, t = s.partition(':')
            pipe = WBCPipeline(seg, seg_scale='auto', scale_target=float(t or 32)) if auto == 'auto' else WBCPipeline(seg, seg_scale=float(s))
            arms.append((f'{d} @ {s}', lambda ps, pipe=pipe: [r.cells for r in pipe.run(ps)], pipe))
    out = {}
    print(f"{a.part} fields: {len(paths)} ({'with' if a.with_pro else 'without'} Pro)\n")
    print("| arm | within 1 cell | mean count diff | cells / reference | centroid precision | recall | F1 | s |\n|---|---|---|---|---|---|---|---|")
    crops = []
    if a.crops:
        from wbc_nb.data import load_segmentation_wbc, load_deepapl
        seg_test = split_train_test(load_segmentation_wbc(a.data)).query("split == 'test'")
        crops = [('segmentation_WBC test', list(seg_test.image)), ('DeepAPL 200', list(load_deepapl(a.data).sample(200, random_state=0).path))]
    for name, fn, pipe in arms:
        t0, rows = time.time(), []
        for j in range(0, len(paths), 16):
            for t, ref, lab in zip(fn(paths[j:j + 16]), refs[j:j + 16], labels[j:j + 16]):
                mc = match_centroids(t, ref, 10)
                rows.append(dict(label=lab, n=mc['n_pred'], n_ref=mc['n_ref'], matched=mc['matched']))
        s = score(rows)
        s['by_class'] = {l: score([r for r in rows if r['label'] == l]) for l in sorted(set(labels))}
        out[name] = s
        print(f"| {name} | {s['within1']:.3f} | {s['mean_diff']:+.2f} | {s['cells']} / {s['ref_cells']} | {s['precision']:.3f} | "
              f"{s['recall']:.3f} | **{s['f1']:.3f}** | {time.time() - t0:.0f} |", flush=True)
        for cname, cps in (crops if pipe is not None and pipe.seg_scale == 'auto' else []):
            kept = [r.seg_scale == 1 for j in range(0, len(cps), 16) for r in pipe.run(cps[j:j + 16])]
            s[f'kept_1 {cname}'] = float(np.mean(kept))
            print(f"    {name}, {cname}: {sum(kept)} of {len(kept)} pictures kept at scale 1", flush=True)
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1))

if __name__ == '__main__': main()
