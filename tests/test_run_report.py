"""`wbc_run` as a user runs it (a separate process, on a synthetic data root, the `smoke` profile), then its
report.html opened in Debian's Chromium through Playwright: every section there, every figure decoded, no errors.

The browser part is skipped with the reason when /usr/bin/chromium or playwright is missing (`make test` installs
Chromium with apt where it can). `WBC_REPORT_SHOTS=DIR` keeps a full-page screenshot of the report.
"""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import pytest
from wbc_nb.synth import synth_seg_folder, synth_deepapl, synth_taleqani

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'NO_ALBUMENTATIONS_UPDATE': '1', 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'}
CHROMIUM = os.environ.get('WBC_CHROMIUM', '/usr/bin/chromium')
SECTIONS = ['data', 'segmentation', 'cells', 'fields', 'pipeline', 'models', 'timings']

def _missing():
    if not Path(CHROMIUM).exists(): return f"{CHROMIUM} not found (install it: apt-get install -y chromium)"
    if importlib.util.find_spec('playwright') is None: return "python package playwright not installed"
    return None

@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    synth_seg_folder(root/'segmentation_WBC', n=10, size=64)
    synth_deepapl(root/'DeepAPL', n_patients=10, n_per_type=2, size=48)
    for f in root.glob('DeepAPL/Data/All/Patient_0[13579]/*/Promyelocyte/*.jpg'): f.unlink()
    synth_taleqani(root/'ALL_Taleqani', n_per_class=5, size=64)
    out = tmp_path_factory.mktemp('runs')
    r = subprocess.run([str(BIN/'wbc_run'), '--data', str(root), '--out', str(out), '--profile', 'smoke', '--device', 'cpu', '--quiet'],
                       capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith('report: '), r.stdout[-2000:]
    rep = Path(last[len('report: '):])
    assert rep.is_file() and rep.parent.parent == out
    return rep.parent, root, out

def test_run_writes_everything(run_dir):
    d, _, _ = run_dir
    assert sorted(p.name for p in d.iterdir()) == ['metrics.json', 'models', 'predictions', 'report.html']
    res = json.loads((d/'metrics.json').read_text())
    assert res['failed'] == {} and res['skipped'] == []
    for k in ('seg.u_net.dataset1.nucleus_dice', 'seg.otsu.dataset2.cell_dice', 'cell.balanced_accuracy', 'patient.auc.cnn_shares',
              'field.accuracy_2class', 'pipeline.ms_median'):
        assert k in res['metrics'], k
    for m in ('segmenter/segmenter.json', 'cells/classifier.json', 'fields/classifier.json'): assert (d/'models'/m).is_file(), m
    assert (d/'predictions'/'cells.csv').is_file() and (d/'predictions'/'summary.json').is_file()

def test_reuse_trains_nothing(run_dir):
    d, root, out = run_dir
    r = subprocess.run([str(BIN/'wbc_run'), '--data', str(root), '--out', str(out), '--profile', 'smoke', '--device', 'cpu',
                        '--quiet', '--reuse', str(d)], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    d2 = Path(r.stdout.strip().splitlines()[-1][len('report: '):]).parent
    assert d2 != d and (d/'report.html').is_file()  # the first run is untouched
    a, b = (json.loads((x/'metrics.json').read_text())['metrics'] for x in (d, d2))
    assert abs(a['cell.balanced_accuracy'] - b['cell.balanced_accuracy']) < 1e-9
    assert 'reused from' in (d2/'report.html').read_text()

def test_bad_arguments(tmp_path):
    for args, msg in ((['--data', str(tmp_path/'none')], 'does not exist'), (['--data', str(tmp_path), '--profile', 'huge'], 'unknown profile'),
                      (['--data', str(tmp_path), '--reuse', str(tmp_path)], 'no models there')):
        r = subprocess.run([str(BIN/'wbc_run'), '--out', str(tmp_path/'runs'), *args], capture_output=True, text=True, env=ENV, timeout=300)
        assert r.returncode == 2 and r.stderr.startswith('wbc_run: error:') and msg in r.stderr, r.stderr
        assert r.stderr.count('\n') == 1
    assert not (tmp_path/'runs').exists() or not any((tmp_path/'runs').iterdir())

@pytest.mark.skipif(_missing() is not None, reason=_missing() or '')
def test_report_in_chromium(run_dir):
    from playwright.sync_api import sync_playwright
    d, _, _ = run_dir
    errors = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu'])
        page = b.new_page(viewport={'width': 1200, 'height': 900})
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.on('console', lambda m: errors.append(m.text) if m.type == 'error' else None)
        page.goto((d/'report.html').as_uri())
        page.wait_for_load_state('load')
        assert page.title() == 'wbc_nb study'
        ids = page.eval_on_selector_all('section', 'els => els.map(e => e.id)')
        assert ids == SECTIONS, ids
        for s in SECTIONS: assert page.locator(f'nav a[href="#{s}"]').count() == 1
        imgs = page.eval_on_selector_all('img', 'els => els.map(e => [e.complete, e.naturalWidth, e.closest("section").id])')
        assert len(imgs) >= 8 and all(c and w > 0 for c, w, _ in imgs), imgs
        assert {s for _, _, s in imgs} >= {'segmentation', 'cells', 'fields', 'pipeline'}
        assert page.locator('.note.error').count() == 0
        assert page.locator('#cells table.data').count() >= 2 and page.locator('#timings table.data').count() == 1
        page.click('nav a[href="#pipeline"]')
        assert page.evaluate('location.hash') == '#pipeline'
        shots = os.environ.get('WBC_REPORT_SHOTS')
        if shots: Path(shots).mkdir(parents=True, exist_ok=True); page.screenshot(path=str(Path(shots)/'report.png'), full_page=True)
        b.close()
    assert not errors, errors
