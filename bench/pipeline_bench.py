"""Pipeline benchmark (not a test): the speed and memory of `wbc_predict`, U-Net + classifier beside the Otsu-only pipeline.

    flock /tmp/wbc_train.lock .venv/bin/python bench/pipeline_bench.py [--data DIR] [--seg DIR] [--cls DIR] [--threads 2]

On the 300x300 CellaVision pictures of segmentation_WBC Dataset 2, for each pipeline configuration:

1. `one`: one 300x300 picture end to end (segment, instances, classify), median and 90th percentile over `--reps`
   calls, from an array in memory (reading excluded) and from its file (reading included);
2. `folder`: `predict_files` on the Dataset 2 folder (what `wbc_predict` runs: read, pipeline, mask and overlay PNGs,
   cells.csv, summary.json), pictures per second with 1 and 2 worker processes;
3. `big`: a 4000x3000 field (a mosaic of Dataset 2 pictures), read, tiled, stitched, cells found and classified,
   with the peak memory (max RSS) of its process, then its mask and overlay written.

Each (configuration, measurement) runs in a fresh subprocess, so every peak memory is its own. Torch gets `--threads`
threads in single-process runs (each of the 2 workers gets 1). Models: `--seg` / `--cls` folders, else the newest
trained ones found under /tmp (segmenter.json / classifier.json), else freshly initialised ones of the default
architectures (timing does not depend on the weights); the results say which.

Writes bench/results/pipeline_bench.json and bench/results/pipeline_bench.md; scratch files under /tmp/wbc_pipeline_bench.
"""
import os, sys, json, time, argparse, platform, subprocess, resource, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')

HERE = Path(__file__).resolve().parent
RESULTS = HERE/'results'
SCRATCH = Path('/tmp/wbc_pipeline_bench')
TARGETS = dict(one_ms=75, images_per_s=20, big_peak_gb=4)

# name: (use the segmenter, use the classifier)
CONFIGS = {'otsu': (False, False), 'unet': (True, False), 'unet+cls': (True, True)}

def machine()->dict:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    return dict(nproc=os.cpu_count(), cpu=cpu, torch=torch.__version__, python=platform.python_version(),
                platform=platform.platform(), mem_gb=round(os.sysconf('SC_PAGE_SIZE')*os.sysconf('SC_PHYS_PAGES')/2**30, 1))

def _newest(name:str, min_size:int, prefer=lambda m: False, exclude=()):
    "The newest /tmp folder holding `name` of a trained model of at least `min_size` px (preferring `prefer(meta)`), or None."
    hits = []
    for root, dirs, files in os.walk('/tmp'):
        dirs[:] = [d for d in dirs if not d.startswith('.') and d not in ('wbc_pipeline_bench', 'pipeline_seg_init')]
        if name not in files or any(str(root).startswith(str(e)) for e in exclude): continue
        try: meta = json.loads((Path(root)/name).read_text())
        except Exception: continue
        if isinstance(meta.get('training'), dict) and int(meta.get('size', 0)) >= min_size:
            hits.append((bool(prefer(meta)), (Path(root)/name).stat().st_mtime, Path(root)))
    return max(hits)[2] if hits else None

def models(seg, cls)->dict:
    "Model folders to use and where they came from; fresh default models are written under SCRATCH."
    out = {}
    from wbc_nb.unet import SEG_PROFILES
    arch, size = SEG_PROFILES['fast']['arch'], SEG_PROFILES['fast']['size']
    seg = Path(seg) if seg else _newest('segmenter.json', size, lambda m: m['training'].get('profile') == 'fast', [SCRATCH])
    if seg is None:
        from wbc_nb.unet import seg_model, save_segmenter
        seg = save_segmenter(seg_model(arch, size=size), SCRATCH/'models'/'segmenter')
        out['seg_origin'] = f"freshly initialised default architecture ({arch}, {size} px; weights random)"
    else:
        mt = json.loads((Path(seg)/'segmenter.json').read_text())
        out['seg_origin'] = f"trained model found at {seg} ({mt.get('arch')}, {mt.get('size')} px, profile {mt['training'].get('profile')})"
    cls = Path(cls) if cls else _newest('classifier.json', 64, lambda m: m.get('task') == 'deepapl', [SCRATCH])
    if cls is None:
        from wbc_nb.classifier import cls_model, Classifier, save_classifier, TASKS
        t = TASKS['deepapl']
        net = Classifier(cls_model(len(t['classes']), n_aux=1), dict(task='deepapl', classes=t['classes'], size=t['size'],
                                                                      frac=t['frac'], mode='raw'))
        cls = save_classifier(net, SCRATCH/'models'/'classifier')
        out['cls_origin'] = f"freshly initialised default network (deepapl task, {len(t['classes'])} classes + APL head, {t['size']} px crops; weights random)"
    else:
        mt = json.loads((Path(cls)/'classifier.json').read_text())
        out['cls_origin'] = f"trained model found at {cls} (task {mt.get('task')}, {len(mt.get('classes', []))} classes, {mt.get('size')} px crops, mode {mt.get('mode')})"
    out.update(seg=str(seg), cls=str(cls))
    return out

def big_field(d2:Path, dest:Path, W=4000, H=3000)->Path:
    "A W x H mosaic of Dataset 2 pictures, written once as PNG."
    if dest.exists(): return dest
    import numpy as np, cv2
    from wbc_nb.core import read_image
    files = sorted(d2.glob('*.bmp'))
    rows, k = [], 0
    for r in range(-(-H//300)):
        row = []
        for c in range(-(-W//300)): row.append(read_image(files[k % len(files)])); k += 1
        rows.append(np.concatenate(row, 1))
    img = np.concatenate(rows, 0)[:H, :W]
    dest.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(dest), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return dest

def _rss_gb()->float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20

def child(a):
    "One measurement in this process; prints one JSON line."
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    from wbc_nb.core import read_image
    from wbc_nb.pipeline import WBCPipeline
    from wbc_nb.predict import predict_files, write_image_files
    use_seg, use_cls = CONFIGS[a.config]
    d2 = Path(a.d2)
    t0 = time.perf_counter()
    pipe = WBCPipeline.from_dirs(a.seg if use_seg else None, a.cls if use_cls else None)
    load_s = time.perf_counter() - t0
    out = dict(config=a.config, task=a.task, pipeline=pipe.describe(), load_s=round(load_s, 3))
    if a.task == 'one':
        files = sorted(d2.glob('*.bmp'))[:a.reps]
        imgs = [read_image(f) for f in files]
        for im in imgs[:3]: pipe(im)  # warm-up
        mem, disk, steps, ncell = [], [], [], []
        for f, im in zip(files, imgs):
            t = time.perf_counter(); r = pipe(im); mem.append((time.perf_counter() - t)*1000); steps.append(r.timings)
            ncell.append(len(r.cells))
            t = time.perf_counter(); pipe(f); disk.append((time.perf_counter() - t)*1000)
        out.update(n=len(imgs), ms_median=float(np.median(mem)), ms_p90=float(np.percentile(mem, 90)),
                   file_ms_median=float(np.median(disk)),
                   steps_ms={k: round(float(np.median([s.get(k, 0) for s in steps])), 2) for k in ('segment', 'instances', 'classify')},
                   cells_per_image=round(float(np.mean(ncell)), 2))
    elif a.task == 'folder':
        dest = SCRATCH/f'out_{a.config}_w{a.workers}'
        t = time.perf_counter()
        s = _predict(predict_files, d2, dest, a, use_seg, use_cls)
        total = time.perf_counter() - t
        ov = s['overall']
        out.update(workers=a.workers, n=ov['n_images'], failed=ov['n_failed'], cells=ov['n_cells'],
                   images_per_s=ov['timings']['images_per_s'], wall_s=ov['timings']['wall_s'], total_s=round(total, 2),
                   images_per_s_incl_load=round(ov['n_images']/total, 2), median_image_ms=ov['timings']['median_image_ms'])
    elif a.task == 'big':
        f = Path(a.big)
        base = _rss_gb()
        t = time.perf_counter(); r = pipe(f); run_s = time.perf_counter() - t
        peak = _rss_gb()
        t = time.perf_counter(); write_image_files(r, SCRATCH/'big_out'); save_s = time.perf_counter() - t
        out.update(shape=list(r.mask.shape), tiles=r.tiles, cells=len(r.cells), run_s=round(run_s, 2), save_s=round(save_s, 2),
                   steps_s={k: round(v/1000, 2) for k, v in r.timings.items()}, rss_before_gb=round(base, 3),
                   peak_gb=round(peak, 3), peak_incl_save_gb=round(_rss_gb(), 3))
    print('RESULT ' + json.dumps(out))

def _predict(predict_files, d2, dest, a, use_seg, use_cls):
    "predict_files with the model folder holding the wanted models (a folder of symlinks)."
    m = SCRATCH/f'model_{a.config}'
    m.mkdir(parents=True, exist_ok=True)
    for stem, src, use in (('segmenter', a.seg, use_seg), ('classifier', a.cls, use_cls)):
        link = m/stem
        if link.is_symlink() or link.exists(): link.unlink()
        if use: link.symlink_to(Path(src).resolve())
    files = sorted(d2.glob('*.bmp'))*a.repeat  # the pictures, not the masks beside them; repeated to amortise worker start
    return predict_files(files, dest, model=m if (use_seg or use_cls) else None, workers=a.workers, overwrite=True)

def run(a, config, task, **kw)->dict:
    cmd = [sys.executable, __file__, '--child', '--config', config, '--task', task, '--threads', str(a.threads),
           '--reps', str(a.reps), '--repeat', str(a.repeat), '--d2', a.d2, '--seg', a.seg, '--cls', a.cls, '--big', a.big] + \
          [x for k, v in kw.items() for x in (f'--{k}', str(v))]
    print(f'== {config} {task} {kw}', flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': str(a.threads)})
    line = next((l for l in p.stdout.splitlines() if l.startswith('RESULT ')), None)
    if line is None:
        print(p.stdout[-2000:], p.stderr[-3000:]); return dict(config=config, task=task, error=p.stderr.strip().splitlines()[-1:])
    res = json.loads(line[7:]); print(res, flush=True)
    return res

def report(res:list, info:dict)->str:
    def get(c, t, w=None):
        return next((r for r in res if r['config'] == c and r['task'] == t and (w is None or r.get('workers') == w)), {})
    L = ["# Pipeline benchmark", "",
         f"Machine: {info['machine']['cpu']}, {info['machine']['nproc']} cores visible, {info['machine']['mem_gb']} GB; "
         f"torch {info['machine']['torch']} with {info['threads']} threads (workers: 1 each); run {info['date']} "
         f"({info['seconds']:.0f} s). Reproduce: `flock /tmp/wbc_train.lock .venv/bin/python bench/pipeline_bench.py` "
         "with no training running.", "",
         f"- Segmenter: {info['models']['seg_origin']}.", f"- Classifier: {info['models']['cls_origin']}.",
         "- Pictures: the 100 CellaVision 300x300 pictures of segmentation_WBC Dataset 2; the 4000x3000 field is a mosaic of them.",
         "- `otsu`: the baseline pipeline (no model); `unet`: U-Net only; `unet+cls`: U-Net + classifier (the issue's 'models loaded').", "",
         "| measurement | target | " + " | ".join(CONFIGS) + " |", "|---|---|" + "---|"*len(CONFIGS)]
    def row(name, target, f):
        vals = []
        for c in CONFIGS:
            try: vals.append(f(c))
            except Exception: vals.append('n/a')
        L.append(f"| {name} | {target} | " + " | ".join(vals) + " |")
    row('one 300x300 picture, in memory: median ms (p90)', f"<= {TARGETS['one_ms']}", lambda c: f"{get(c, 'one')['ms_median']:.1f} ({get(c, 'one')['ms_p90']:.1f})")
    row('  segment / instances / classify ms (median)', '', lambda c: ' / '.join(f"{v:.1f}" for v in get(c, 'one')['steps_ms'].values()))
    row('one 300x300 picture from its file: median ms', '', lambda c: f"{get(c, 'one')['file_ms_median']:.1f}")
    row(f'folder of {100*info["repeat"]}, 1 process: pictures/s', f">= {TARGETS['images_per_s']}", lambda c: f"{get(c, 'folder', 1)['images_per_s']:.1f}")
    row(f'folder of {100*info["repeat"]}, 2 workers: pictures/s', f">= {TARGETS['images_per_s']}", lambda c: f"{get(c, 'folder', 2)['images_per_s']:.1f}")
    row('  same, including model loading and worker start', '', lambda c: f"{get(c, 'folder', 2)['images_per_s_incl_load']:.1f}")
    row('4000x3000 field: seconds (tiles, cells)', '', lambda c: f"{get(c, 'big')['run_s']:.1f} ({get(c, 'big')['tiles']}, {get(c, 'big')['cells']})")
    row('4000x3000 field: peak memory GB (process max RSS)', f"< {TARGETS['big_peak_gb']}", lambda c: f"{get(c, 'big')['peak_gb']:.2f}")
    row('  memory after imports and model load, GB', '', lambda c: f"{get(c, 'big')['rss_before_gb']:.2f}")
    row('  writing its mask + overlay PNGs: s', '', lambda c: f"{get(c, 'big')['save_s']:.1f}")
    L += ["", "Pictures/s of the folder runs count the pipeline and the writing of every output (masks, overlays, cells.csv, "
          "summary.json), not the model loading; the 2-worker figure includes starting the worker processes (each loads "
          f"the models). The folder is the 100 Dataset 2 pictures given {info['repeat']} times (the .bmp files only: the .png masks "
          "beside them would be processed as pictures too). The `one` figures are `WBCPipeline.__call__` on one picture "
          "(batch of 1), after 3 warm-up calls.", ""]
    return '\n'.join(L)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=None); ap.add_argument('--seg', default=None); ap.add_argument('--cls', default=None)
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--reps', type=int, default=30)
    ap.add_argument('--only', default=None, help='comma-separated configs')
    ap.add_argument('--field', default='4000x3000', help='size of the large field, WxH')
    ap.add_argument('--repeat', type=int, default=3, help='folder runs: each Dataset 2 picture this many times')
    ap.add_argument('--child', action='store_true'); ap.add_argument('--config'); ap.add_argument('--task')
    ap.add_argument('--workers', type=int, default=1); ap.add_argument('--d2'); ap.add_argument('--big')
    a = ap.parse_args()
    if a.child: return child(a)
    t00 = time.time()
    from wbc_nb.core import data_root
    from wbc_nb.data import load_segmentation_wbc
    df = load_segmentation_wbc(a.data if a.data else data_root()/'segmentation_WBC')
    a.d2 = str(Path(df[df.dataset == 2].image.iloc[0]).parent)
    W, H = (int(v) for v in a.field.split('x'))
    a.big = str(big_field(Path(a.d2), SCRATCH/f'field_{W}x{H}.png', W, H))
    m = models(a.seg, a.cls); a.seg, a.cls = m['seg'], m['cls']
    confs = a.only.split(',') if a.only else list(CONFIGS)
    res = []
    for c in confs:
        res.append(run(a, c, 'one'))
        for w in (1, 2): res.append(run(a, c, 'folder', workers=w))
        res.append(run(a, c, 'big'))
    info = dict(machine=machine(), threads=a.threads, repeat=a.repeat, models=m, date=time.strftime('%Y-%m-%d %H:%M'), seconds=time.time() - t00,
                command=' '.join(sys.argv))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS/'pipeline_bench.json').write_text(json.dumps(dict(info=info, results=res), indent=1))
    (RESULTS/'pipeline_bench.md').write_text(report(res, info))
    print((RESULTS/'pipeline_bench.md').read_text())

if __name__ == '__main__': main()
