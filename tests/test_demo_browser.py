"""The demo app in a real browser: Voila serves it on 127.0.0.1, Playwright drives Debian's Chromium.

Needs `apt-get install -y chromium` and `pip install voila playwright` (no browser download: Playwright is pointed
at /usr/bin/chromium); skipped with the reason when they are missing. Screenshots and the latency table go to a
temporary folder, or to `$WBC_DEMO_RESULTS` when set (`WBC_DEMO_RESULTS=bench/results` records
`bench/results/demo_latency.md` and `bench/results/demo_screenshots/`).
"""
import importlib.util, json, os, platform, shutil, socket, statistics, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('WBC_CHROMIUM', '/usr/bin/chromium')  # Debian's package; never a downloaded browser
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync']
LATENCY_MAX = float(os.environ.get('WBC_DEMO_LATENCY_MAX', '1.0'))  # seconds, Segment + Classify (median of runs)
N_RUNS = int(os.environ.get('WBC_DEMO_RUNS', '5'))

def _missing():
    if not Path(CHROMIUM).exists(): return f"{CHROMIUM} not found (install it: apt-get install -y chromium)"
    for m in ('voila', 'playwright'):
        if importlib.util.find_spec(m) is None: return f"python package {m} not installed (pip install voila playwright)"
    return None

browser = pytest.mark.skipif(_missing() is not None, reason=_missing() or '')

# The backend: the library's pipeline (Otsu baseline without a segmentation model) with a cell classifier. Trained
# models are used when $WBC_DEMO_SEG_DIR / $WBC_DEMO_CLS_DIR name them; otherwise an untrained classifier of the
# library's own architecture (random weights, fixed seed) stands in, so the timing includes a real forward pass.
SETUP = '''
import os, torch
from wbc_nb.pipeline import WBCPipeline
seg_dir, cls_dir = os.environ.get('WBC_DEMO_SEG_DIR') or None, os.environ.get('WBC_DEMO_CLS_DIR') or None
if cls_dir: pipe = WBCPipeline.from_dirs(seg_dir, cls_dir)
else:  # the library's cell network (9 classes and an APL head, 96 px crops) with random weights
    from wbc_nb.classifier import Classifier, cls_model
    from wbc_nb.data import CLASSES
    torch.manual_seed(0)
    clf = Classifier(cls_model(len(CLASSES), n_aux=1), dict(task='deepapl', classes=list(CLASSES), size=96, frac=0.72))
    pipe = WBCPipeline(WBCPipeline.from_dirs(seg_dir).segmenter if seg_dir else None, clf)
'''

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _sample(dest:Path)->tuple:
    "A 360 x 363 smear picture: a real DeepAPL crop when the data is there, else a synthetic one."
    from wbc_nb.core import data_root, read_image
    import cv2
    d = data_root()/'DeepAPL'/'Data'/'All'
    for p in sorted(d.glob('Patient_*/Signed slides/Lymphocyte/*.jpg'))[:20] if d.is_dir() else []:
        try: img = read_image(p)
        except ValueError: continue
        if img.shape[:2] == (363, 360) or abs(img.shape[0] - 363) + abs(img.shape[1] - 360) <= 8:
            shutil.copy(p, dest/p.name); return dest/p.name, f'DeepAPL {p.parent.parent.parent.name}/{p.name}', img.shape
    from wbc_nb.synth import synth_field
    img = synth_field(363, 360, n_cells=1, radius=(40, 50), seed=4)[0]
    cv2.imwrite(str(dest/'synthetic_360x363.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return dest/'synthetic_360x363.png', 'synthetic (no DeepAPL data found)', img.shape

def _field(dest:Path)->str:
    "A field with several cells in the samples folder: an ALL_Taleqani field when the data is there, else synthetic."
    from wbc_nb.core import data_root
    import cv2
    fs = sorted((data_root()/'ALL_Taleqani'/'Original'/'Pre').glob('*.jpg'))
    if fs: shutil.copy(fs[0], dest/fs[0].name); return fs[0].name
    from wbc_nb.synth import synth_field
    img = synth_field(256, 256, n_cells=3, touching_pairs=1, radius=(18, 26), seed=5)[0]
    cv2.imwrite(str(dest/'synthetic_field.png'), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)); return 'synthetic_field.png'

@pytest.fixture(scope='module')
def out_dir(tmp_path_factory):
    d = Path(os.environ['WBC_DEMO_RESULTS']) if os.environ.get('WBC_DEMO_RESULTS') else tmp_path_factory.mktemp('demo_results')
    if not d.is_absolute(): d = ROOT/d
    (d/'demo_screenshots').mkdir(parents=True, exist_ok=True)
    return d

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    from wbc_nb.demo import write_app_notebook
    d = tmp_path_factory.mktemp('voila')
    (d/'samples').mkdir()
    sample, origin, shape = _sample(d/'samples')
    field = _field(d/'samples')
    write_app_notebook(d/'app.ipynb', samples_dir=d/'samples', pipeline='pipe', setup=SETUP)
    (d/'notes.txt').write_text('not a picture\n')
    import cv2
    cv2.imwrite(str(d/'blank.png'), np.full((120, 160, 3), 235, np.uint8))        # no cells
    cv2.imwrite(str(d/'huge.png'), np.full((8, 2100, 3), 235, np.uint8))          # wider than the app's 2048 px
    port = _free_port()
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('WBC_DEMO_THREADS', '2'), 'NO_ALBUMENTATIONS_UPDATE': '1',
           'MPLBACKEND': 'Agg', 'PYTHONPATH': str(ROOT), 'JUPYTER_RUNTIME_DIR': str(d/'runtime')}
    log = open(d/'voila.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'voila', 'app.ipynb', '--no-browser', f'--port={port}',
                             '--Voila.ip=127.0.0.1', '--show_tracebacks=True'], cwd=d, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try: socket.create_connection(('127.0.0.1', port), 0.2).close(); break
            except OSError:
                if proc.poll() is not None: pytest.fail(f"voila exited: {(d/'voila.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield dict(url=f'http://127.0.0.1:{port}/', dir=d, sample=sample, origin=origin, shape=shape, field=field, log=d/'voila.log')
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

@pytest.fixture(scope='module')
def page(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = br.new_page(viewport={'width': 1100, 'height': 1000})
        errors = []
        pg.on('pageerror', lambda e: errors.append(str(e)))
        pg.goto(server['url'], timeout=120_000)
        try: pg.wait_for_selector('.wbc-demo', timeout=180_000)
        except Exception: pytest.fail(f"the app did not show; voila log:\n{server['log'].read_text()[-3000:]}")
        pg.errors = errors
        yield pg
        br.close()

def _upload(pg, path):
    with pg.expect_file_chooser() as fc: pg.locator('.wbc-demo .widget-upload').click()
    fc.value.set_files(str(path))

def _visible(pg, sel): return pg.locator(sel).first.is_visible()

def _lum(css:str)->float:
    "Relative luminance (0 black .. 1 white) of a CSS rgb()/rgba() colour."
    v = [float(x) for x in css[css.index('(') + 1:css.index(')')].split(',')[:3]]
    return (0.2126*v[0] + 0.7152*v[1] + 0.0722*v[2])/255

def _run_no(pg)->int:
    "The app's count of segmentation runs, as its status line shows it."
    return int(pg.get_attribute('.wbc-status [data-run]', 'data-run'))

def _click_and_time(pg, button:str, step:str)->float:
    "Click a button from inside the page and time until the status shows `step` for this run (seconds); fail on an error."
    run = _run_no(pg) + (button == 'Segment')
    t0 = time.perf_counter()
    pg.evaluate("b => [...document.querySelectorAll('.wbc-demo button')].find(e => e.textContent.trim() == b).click()", button)
    pg.wait_for_function(f'''() => !!document.querySelector('.wbc-status [data-step="{step}"][data-run="{run}"]')
                                   || !!document.querySelector('.wbc-message .wbc-error')''', polling='raf', timeout=60_000)
    dt = time.perf_counter() - t0
    err = pg.locator('.wbc-message .wbc-error')
    assert not err.count(), f"{button}: the app says: {err.inner_text()}"
    return dt

@browser
def test_demo_in_browser(page, server, out_dir):
    pg, shots = page, out_dir/'demo_screenshots'
    assert 'Upload a picture' in pg.inner_text('.wbc-status')
    assert pg.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0, "warnings or errors on the page"
    assert not _visible(pg, '.wbc-demo button:has-text("Classify")')          # no Classify before segmentation
    pg.screenshot(path=str(shots/'0_start_light.png'))

    # a file that is not a picture: plain-words message inside the app, nothing loaded
    _upload(pg, server['dir']/'notes.txt')
    pg.wait_for_selector('.wbc-message .wbc-error', timeout=30_000)
    assert 'not a picture' in pg.inner_text('.wbc-message')
    assert pg.locator('.wbc-demo button:has-text("Segment")').is_disabled()
    pg.screenshot(path=str(shots/'0_error_light.png'))

    # a picture too large: refused with its size and the limit
    _upload(pg, server['dir']/'huge.png')
    pg.wait_for_function("() => (document.querySelector('.wbc-message')?.innerText || '').includes('too large')", timeout=30_000)
    assert '2100 x 8 pixels' in pg.inner_text('.wbc-message')

    # a picture without cells: segmented, then a message and no Classify
    _upload(pg, server['dir']/'blank.png')
    pg.wait_for_selector('.wbc-status [data-step="load"]', timeout=30_000, state='attached')
    pg.locator('.wbc-demo button:has-text("Segment")').click()
    pg.wait_for_function("() => (document.querySelector('.wbc-message')?.innerText || '').includes('No white cells')", timeout=30_000)
    assert not _visible(pg, '.wbc-demo button:has-text("Classify")')

    # a good picture afterwards: the app is still usable
    _upload(pg, server['sample'])
    pg.wait_for_selector('.wbc-status [data-step="load"]', timeout=30_000, state='attached')
    assert not _visible(pg, '.wbc-message')
    assert pg.locator('.wbc-demo button:has-text("Segment")').is_enabled()

    # the spinner shows while the backend works: watch the spinner's style from inside the page
    pg.evaluate('''() => { window.__spun = false; const el = document.querySelector('.wbc-busy');
        new MutationObserver(() => { if (getComputedStyle(el).display !== 'none') window.__spun = true; })
        .observe(el, {attributes: true, attributeFilter: ['style', 'class']}); }''')
    t_seg = _click_and_time(pg, 'Segment', 'segment')
    assert pg.evaluate('window.__spun'), "the spinner never showed during segmentation"
    assert not _visible(pg, '.wbc-busy')
    assert _visible(pg, '.wbc-overlay') and _visible(pg, '.wbc-mask')
    assert pg.evaluate("() => document.querySelector('.wbc-overlay').naturalWidth") == server['shape'][1]
    assert 'Segmented' in pg.inner_text('.wbc-status')
    links = pg.locator('a.wbc-download')
    assert links.count() == 3
    hrefs = [links.nth(i).get_attribute('href') for i in range(3)]
    assert [h.split(',')[0] for h in hrefs] == ['data:image/png;base64', 'data:image/png;base64', 'data:text/csv;base64']
    assert [links.nth(i).get_attribute('download').rsplit('_', 1)[1] for i in range(3)] == ['mask.png', 'overlay.png', 'cells.csv']
    pg.screenshot(path=str(shots/'1_segmented_light.png'), full_page=True)

    assert _visible(pg, '.wbc-demo button:has-text("Classify")')
    t_cls = _click_and_time(pg, 'Classify', 'classify')
    assert _visible(pg, '.wbc-results')
    assert 'probability' in pg.inner_text('.wbc-call')
    assert pg.locator('.wbc-chart rect.wbc-bar').count() >= 2
    assert pg.locator('table.wbc-table tbody tr').count() >= 1
    assert 'class' in pg.inner_text('table.wbc-table thead')
    pg.screenshot(path=str(shots/'2_classified_light.png'), full_page=True)

    # dark theme restyles the whole app (and the page), light brings it back
    bg_light = pg.evaluate("getComputedStyle(document.querySelector('.wbc-demo')).backgroundColor")
    pg.locator('.wbc-demo button:has-text("Dark theme")').click()
    pg.wait_for_selector('.wbc-demo.wbc-dark', timeout=10_000)
    pg.wait_for_timeout(100)
    bg = pg.evaluate("getComputedStyle(document.querySelector('.wbc-demo')).backgroundColor")
    body = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    fg_table = pg.evaluate("getComputedStyle(document.querySelector('table.wbc-table td')).color")
    btn = pg.evaluate("getComputedStyle(document.querySelector('.wbc-demo .widget-upload')).backgroundColor")
    sel = pg.evaluate("getComputedStyle(document.querySelector('.wbc-demo select')).backgroundColor")
    assert _lum(bg_light) > 0.9 and _lum(bg) < 0.15 and _lum(body) < 0.15, (bg_light, bg, body)
    assert _lum(fg_table) > 0.7, fg_table
    assert _lum(btn) < 0.4 and _lum(sel) < 0.4, (btn, sel)          # the widgets too, not only the container
    pg.screenshot(path=str(shots/'3_classified_dark.png'), full_page=True)
    pg.locator('.wbc-demo button:has-text("Light theme")').click()
    pg.wait_for_selector('.wbc-demo.wbc-light', timeout=10_000)
    assert _lum(pg.evaluate("getComputedStyle(document.querySelector('.wbc-demo')).backgroundColor")) > 0.9

    # responsiveness: Segment + Classify, timed from the click to the results on screen, a few times
    runs = [(t_seg, t_cls)]
    for k in range(2, N_RUNS + 1):
        runs.append((_click_and_time(pg, 'Segment', 'segment'), _click_and_time(pg, 'Classify', 'classify')))
    kernel = json.loads(pg.evaluate("() => JSON.stringify(document.querySelector('.wbc-status').innerText)"))

    # the sample picker: a field with several cells, segmented and classified
    pg.select_option('.wbc-demo select', label=server['field'])
    pg.wait_for_function(f"() => (document.querySelector('.wbc-status')?.innerText || '').startsWith({json.dumps(server['field'])})", timeout=30_000)
    _click_and_time(pg, 'Segment', 'segment'); _click_and_time(pg, 'Classify', 'classify')
    assert pg.locator('table.wbc-table tbody tr').count() >= 2
    pg.screenshot(path=str(shots/'4_field_light.png'), full_page=True)

    _record(out_dir, runs, server, kernel)
    assert not pg.errors, f"JavaScript errors on the page: {pg.errors}"
    med = statistics.median([a + b for a, b in runs])
    msg = f"Segment + Classify took {med:.2f} s (median of {len(runs)} runs), limit {LATENCY_MAX} s"
    if med > LATENCY_MAX and os.getloadavg()[0] > 1.5*os.cpu_count():  # other jobs hold the cores: not a fair measurement
        warnings.warn(f"{msg}; not failed: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        return
    assert med <= LATENCY_MAX, msg

def _record(out_dir:Path, runs:list, server:dict, status:str):
    tot = [a + b for a, b in runs]
    rows = '\n'.join(f'| {i + 1} | {a:.3f} | {b:.3f} | {a + b:.3f} |' for i, (a, b) in enumerate(runs))
    import torch
    load = ' / '.join(f'{x:.1f}' for x in os.getloadavg())
    md = f"""# Demo responsiveness (browser-measured)

Segment + Classify in the demo app served by Voila, driven by Playwright in Debian's Chromium (headless), timed
from the button click (dispatched inside the page) to the step's result on screen (overlay and mask; call, chart
and table). Written by `tests/test_demo_browser.py`; reproduce with

    WBC_DEMO_RESULTS=bench/results .venv/bin/python -m pytest -q tests/test_demo_browser.py -k in_browser

- picture: {server['origin']}, {server['shape'][1]} x {server['shape'][0]} pixels
- backend: `WBCPipeline`, segmenter {os.environ.get('WBC_DEMO_SEG_DIR') or 'Otsu baseline (no segmentation model)'}; classifier {os.environ.get('WBC_DEMO_CLS_DIR') or "the library's `ClsNet` (`cls_model(9, n_aux=1)`, 96 px crops, APL head) with random weights: the cost of a trained one, not its answers"}
- machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), kernel OMP_NUM_THREADS={os.environ.get('WBC_DEMO_THREADS', '2')}, torch {torch.__version__}; load average {load} (other jobs share the cores, so numbers vary)
- status line after the last run: {status}

| run | Segment (s) | Classify (s) | total (s) |
|---|---|---|---|
{rows}

Median total over the {len(runs)} runs: **{statistics.median(tot):.3f} s** (limit {LATENCY_MAX} s); slowest {max(tot):.3f} s.
Run 1 is the first click after the page opened (the app runs the pipeline once on a tiny synthetic smear when it
starts, so the first click does not pay for the first network call of the process).
"""
    (out_dir/'demo_latency.md').write_text(md)
