"""The console scripts as a user runs them: separate processes, exit codes, stdout/stderr."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from wbc_nb.core import data_root
from wbc_nb.synth import synth_seg_folder

BIN = Path(sys.executable).parent
ENV = {**os.environ, 'NO_ALBUMENTATIONS_UPDATE': '1', 'MPLBACKEND': 'Agg'}
REAL = data_root()
has_seg = (REAL/'segmentation_WBC').is_dir()

def run(*args, cwd=None):
    return subprocess.run([str(BIN/args[0]), *args[1:]], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=600)

def test_eval_seg_synthetic_json(tmp_path):
    synth_seg_folder(tmp_path, n=6)
    r = run('wbc_eval_seg', '--method', 'otsu', '--data', str(tmp_path), '--split', 'all', '--json')
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert set(res) == {'dataset1', 'dataset2', 'overall'}
    assert set(res['overall']) == {'nucleus_dice', 'nucleus_iou', 'nucleus_precision', 'nucleus_recall', 'cell_dice', 'cell_iou', 'n_images'}

@pytest.mark.parametrize('args', [
    ('wbc_eval_seg', '--method', 'otsu', '--data', '/no/such/folder'),
    ('wbc_eval_seg', '--method', 'nope'),
    ('wbc_eval_seg',),
    ('wbc_check_data', '--data', '/no/such/folder'),
    ('wbc_train_seg',),
    ('wbc_train_cls', '--task', 'cats', '--out', '/tmp/never_written'),
    ('wbc_eval_cls',),
    ('wbc_eval_cls', '--model', '/no/such/model'),
    ('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--cls-tta', '3'),
    ('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--seg-tta', '2'),   # no --model: Otsu has no views
    ('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--rbc-window'),     # nor a cell classifier
    ('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--seg-scale', '0'),
])
def test_bad_arguments_one_line(args):
    r = run(*args)
    assert r.returncode == 2
    assert r.stderr.count('\n') == 1 and r.stderr.startswith(f'{args[0]}: error:'), r.stderr
    assert 'Traceback' not in r.stderr

def test_bad_scale_named_as_typed():
    r = run('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--seg-scale', '0')
    assert '--seg-scale must be between 0.1 and 10' in r.stderr, r.stderr
    r = run('wbc_predict', '/tmp', '--out', '/tmp/never_written', '--seg-scale', 'big')
    assert r.returncode == 2 and "--seg-scale must be a number between 0.1 and 10, or auto; got 'big'" in r.stderr, r.stderr

@pytest.mark.skipif(not has_seg, reason='segmentation_WBC not found under the data root')
def test_otsu_on_real_data_meets_the_bar():
    r = run('wbc_eval_seg', '--method', 'otsu', '--split', 'all', '--json')
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res['dataset1']['n_images'] == 300 and res['dataset2']['n_images'] == 100
    assert res['dataset1']['nucleus_dice'] >= 0.90 and res['dataset2']['nucleus_dice'] >= 0.92, res

@pytest.mark.skipif(not has_seg, reason='data not found under the data root')
def test_check_data_on_the_mirror_finds_the_known_defects():
    r = run('wbc_check_data', '--json')
    assert r.returncode == 0, r.stderr
    res = {s['dataset']: s for s in json.loads(r.stdout)}
    assert res['segmentation_WBC']['problems'] == {'mask values': 5}
    apl = res['DeepAPL']
    assert apl['problems'].get('truncated') == 3 and apl['conflicting_duplicate_sets'] == 6
    assert apl['n_patients'] == 82

def test_predict_folder_then_refuses_to_overwrite(tmp_path):
    "wbc_predict as a user runs it: outputs per image, a bad file reported and skipped (exit 1), no silent overwrite."
    import cv2
    from wbc_nb.synth import synth_field
    src = tmp_path/'in'; src.mkdir()
    for i in range(2): cv2.imwrite(str(src/f'f{i}.png'), synth_field(96, 96, n_cells=2, seed=i)[0][..., ::-1])
    (src/'notes.jpg').write_text('not a picture')
    out = tmp_path/'out'
    r = run('wbc_predict', str(src), '--out', str(out), '--json')
    assert r.returncode == 1, r.stderr              # one bad file: reported, the rest processed
    assert 'notes.jpg' in r.stderr and 'Traceback' not in r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert {'f0_mask.png', 'f0_overlay.png', 'f1_mask.png', 'f1_overlay.png', 'cells.csv', 'summary.json'} <= set(names)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    r2 = run('wbc_predict', str(src/'f0.png'), '--out', str(out))
    assert r2.returncode == 2 and r2.stderr.count('\n') == 1, r2.stderr
    assert before == {p.name: p.stat().st_mtime_ns for p in out.iterdir()}   # nothing touched

def test_predict_views_flags_reach_the_models(tmp_path):
    "--seg-tta / --cls-tta override each model's own views for one run; summary.json says which were used."
    import cv2
    from wbc_nb.synth import synth_field
    from wbc_nb.unet import seg_model, save_segmenter
    from wbc_nb.classifier import Classifier, cls_model, save_classifier, CLASSES
    m = tmp_path/'m'
    save_segmenter(seg_model('light', size=160), m)
    save_classifier(Classifier(cls_model(len(CLASSES), chs=(8, 8, 8, 8, 8)), dict(task='deepapl', classes=list(CLASSES), size=32, frac=0.72, tta=8)), m)
    src = tmp_path/'in'; src.mkdir()
    cv2.imwrite(str(src/'f0.png'), synth_field(96, 96, n_cells=2, seed=0)[0][..., ::-1])
    views = {}
    for name, extra in (('own', ()), ('set', ('--seg-tta', '2', '--cls-tta', '1')), ('fixed', ('--seg-scale', '1')), ('rbc', ('--rbc-window',))):
        r = run('wbc_predict', str(src), '--out', str(tmp_path/name), '--model', str(m), '--json', *extra)
        assert r.returncode == 0, r.stderr
        s = json.loads((tmp_path/name/'summary.json').read_text())
        p = s['pipeline']
        views[name] = (p['segmenter_views'], p['classifier_views'], p['seg_scale'], p['ref_rbc'])
        assert all(1 <= i['seg_scale'] <= 10 for i in s['images']), s['images']   # each picture says the scale it was segmented at
    from wbc_nb.adapters import RBC_REF   # --rbc-window: cell crops scaled by the red cells (off by default)
    assert views == {'own': (1, 8, 'auto', None), 'set': (2, 1, 'auto', None), 'fixed': (1, 8, 1.0, None), 'rbc': (1, 8, 'auto', RBC_REF)}, views
