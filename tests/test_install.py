"""The Colab install step (`pip install git+https://github.com/wbc-nb/wbc_nb`), as far as an offline machine allows.

`pip install git+URL` clones the repository and builds a wheel from it. Here the same build runs on a copy of the
working tree (tracked files and new files git does not ignore: what a commit would hold), without the network and
without build isolation (`setuptools` must then be in the environment). The wheel is then checked the way a user
meets it: importable from outside the repository, every command of `[project.scripts]` installed, and the nbdev
doc-link index (`wbc_nb/_modidx.py`) packaged.
"""
import configparser, os, shutil, subprocess, sys, tomllib, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT/'pyproject.toml').read_text())
ENV = {**os.environ, 'PIP_NO_INDEX': '1', 'PIP_DISABLE_PIP_VERSION_CHECK': '1', 'NO_ALBUMENTATIONS_UPDATE': '1',
       'PYTHONPATH': ''}

def _source_files()->list:
    "Files a clone would hold: git's tracked files plus new ones it does not ignore (all of `wbc_nb/` etc. without git)."
    try:
        out = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=60).stdout
        return [f for f in out.split('\n') if f and (ROOT/f).is_file()]
    except (OSError, subprocess.SubprocessError):
        keep = ['pyproject.toml', 'README.md', 'LICENSE', *(str(p.relative_to(ROOT)) for p in (ROOT/'wbc_nb').glob('*.py'))]
        return [f for f in keep if (ROOT/f).is_file()]

@pytest.fixture(scope='module')
def built(tmp_path_factory):
    "(wheel path, folder it is installed into with `pip install --target`) built from a copy of the working tree."
    tmp = tmp_path_factory.mktemp('install')
    src = tmp/'src'
    for f in _source_files():
        (src/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, src/f)
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-index',
                        '-w', str(tmp/'dist'), str(src)], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, f"building the wheel failed:\n{r.stderr[-3000:]}"
    whl, = (tmp/'dist').glob('wbc_nb-*.whl')
    site = tmp/'site'
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', '--target', str(site), str(whl)],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, f"installing the wheel failed:\n{r.stderr[-3000:]}"
    return whl, site

def test_build_backend_is_here():
    "`--no-build-isolation` builds with this environment's setuptools: it must be there, at the version pyproject asks."
    req = PYPROJECT['build-system']['requires']
    assert any(r.replace(' ', '').startswith('setuptools') for r in req), req
    import setuptools
    major = int(setuptools.__version__.split('.')[0])
    assert major >= 64, f"setuptools {setuptools.__version__} is too old for pyproject-only builds (need >= 64)"

def _dist_info(names:list, whl:zipfile.ZipFile, fn:str)->str:
    p, = [n for n in names if n.endswith(f'.dist-info/{fn}')]
    return whl.read(p).decode()

def test_wheel_contents(built):
    whl, _ = built
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        eps = configparser.ConfigParser(delimiters=('=',)); eps.optionxform = str
        eps.read_string(_dist_info(names, z, 'entry_points.txt'))
        meta = _dist_info(names, z, 'METADATA')
    scripts = PYPROJECT['project']['scripts']
    got = {k: v.strip() for k, v in eps['console_scripts'].items()}
    assert got == scripts, f"console scripts in the wheel {got} differ from pyproject's [project.scripts] {scripts}"
    assert dict(eps['nbdev']) == {'wbc_nb': 'wbc_nb._modidx:d'}, dict(eps['nbdev'])
    assert 'wbc_nb/_modidx.py' in names, 'the doc-link index wbc_nb/_modidx.py is not packaged'
    mods = sorted(f'wbc_nb/{p.name}' for p in (ROOT/'wbc_nb').glob('*.py'))
    assert not set(mods) - set(names), f"modules missing from the wheel: {sorted(set(mods) - set(names))}"
    heavy = [n for n in names if n.lower().endswith(('.safetensors', '.pt', '.pth', '.npz', '.bmp', '.png', '.jpg', '.jpeg', '.ipynb'))]
    assert not heavy, f"the wheel carries data, models or notebooks: {heavy[:5]}"
    import wbc_nb
    assert f'Version: {wbc_nb.__version__}' in meta
    for dep in PYPROJECT['project']['dependencies']:
        assert f'Requires-Dist: {dep.split(">")[0].split("=")[0].split("<")[0].strip()}' in meta, dep

def test_installed_copy_works_outside_the_repo(built, tmp_path):
    "From a folder outside the repository, `import wbc_nb` finds the installed copy and every entry point resolves."
    _, site = built
    for name in PYPROJECT['project']['scripts']:
        assert (site/'bin'/name).is_file(), f"pip did not install the command {name}"
    code = r"""
import sys, json, importlib, configparser
site = sys.argv[1]
import wbc_nb, wbc_nb._modidx
assert wbc_nb.__file__.startswith(site), f"imported {wbc_nb.__file__}, not the installed copy"
assert wbc_nb._modidx.d['settings']['lib_path'] == 'wbc_nb', wbc_nb._modidx.d['settings']
ok = {}
eps = json.loads(sys.argv[2])
for name, target in eps.items():
    mod, obj = target.split(':')
    m = importlib.import_module(mod)
    assert m.__file__.startswith(site), m.__file__
    ok[name] = callable(getattr(m, obj))
print(json.dumps(ok))
"""
    import json
    scripts = PYPROJECT['project']['scripts']
    site_pkgs = [p for p in sys.path if p.endswith('site-packages')]
    env = {**ENV, 'PYTHONPATH': os.pathsep.join([str(site), *site_pkgs]), 'MPLBACKEND': 'Agg'}
    r = subprocess.run([sys.executable, '-c', code, str(site), json.dumps(scripts)], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {k: True for k in scripts}
