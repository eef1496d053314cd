"""The docs render without Quarto (nbdev processing, then HTML), and README.md is what index.ipynb gives."""
import re, subprocess, sys, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import render_docs

@pytest.fixture(scope='module')
def proc():
    return render_docs.processed()

def _notebooks():
    return sorted(p.stem for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def test_every_notebook_is_processed(proc):
    assert _notebooks(), 'no notebooks found'
    assert sorted(p.stem for p in proc.glob('*.ipynb')) == _notebooks()

@pytest.mark.parametrize('name', _notebooks())
def test_page_renders(proc, name):
    body, fm = render_docs.to_html(proc/f'{name}.ipynb')
    assert fm.get('title'), f'{name}: no title (an H1 in the first markdown cell)'
    assert fm.get('description'), f'{name}: empty `>` summary line'
    assert f'<h1' in body and fm['title'].split(':')[0] in body
    outs = [o for c in json.loads((proc/f'{name}.ipynb').read_text())['cells'] for o in c.get('outputs', [])]
    assert not [o for o in outs if o.get('output_type') == 'error'], f'{name}: an error output is in the docs'
    assert '#| export' not in body and '#| hide' not in body, f'{name}: directives leaked into the docs'

def test_readme_is_generated_from_index(proc):
    assert (ROOT/'README.md').read_text() == render_docs.readme_text(proc), \
        'README.md is out of date: run `python tools/render_docs.py --readme`'

def test_notebooks_are_small():
    big = [p.name for p in (ROOT/'nbs').glob('*.ipynb') if p.stat().st_size > 300_000]
    assert not big, f'notebooks over 300 KB: {big}'
