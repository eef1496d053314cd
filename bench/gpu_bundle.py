"""Pack what a GPU session needs into `.gpu/` (git-ignored; never committed): the device machine gets the working tree
and at most 64 MiB, not ../shared/data.

    .venv/bin/python bench/gpu_bundle.py [--data DIR] [--init SEG_DIR] [--quality 90]

- `.gpu/seg.tar.xz`: segmentation_WBC in its raw layout (about 17 MB; unpacked there to /tmp/data).
- `.gpu/cells.npz` + `.gpu/cells.csv`: the DeepAPL 96 px crops of `wbc_nb.diagnosis.cell_arrays` (JPEG, quality
  `--quality`: 18 MB instead of 145 MB at 90; the GPU runs see slightly different pixels than the CPU runs, which is
  why bench/gpu_session.sh reruns the CPU baseline recipe on them), their colour statistics and the cell rows.
- `.gpu/init/`: a light segmenter whose encoder starts the classifiers (`--init`).
- `.gpu/whl/`: Python 3.12 wheels of what the device image lacks (`WHEELS`, at the versions installed here; `pip download`).

The data stay out of the repository: `.gpu/` is listed in `.git/info/exclude`; delete it after the session.
"""
import os, sys, shutil, tarfile, argparse, warnings
from pathlib import Path
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
warnings.filterwarnings('ignore')
ROOT = Path(__file__).resolve().parent.parent
GPU = ROOT/'.gpu'

def pack_cells(data, quality:int):
    import numpy as np, cv2
    from wbc_nb.data import load_deepapl
    from wbc_nb.cls_experiments import cell_arrays
    df = load_deepapl(data)
    from cls_cv import OUT   # the crop cache bench/cls_cv.py makes and reuses
    X, col, ok = cell_arrays(df.path, 96, 0.72, f'{OUT}/crops_deepapl_96_raw.npz')
    df, X, col = df[ok].reset_index(drop=True), X[ok], col[ok]
    blobs = [cv2.imencode('.jpg', x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes() for x in X]
    off = np.cumsum([0] + [len(b) for b in blobs])
    np.savez(GPU/'cells.npz', jpeg=np.frombuffer(b''.join(blobs), np.uint8), offsets=off, colour=col)
    df.drop(columns=['path']).to_csv(GPU/'cells.csv', index=False)
    return len(df), off[-1]

# what `import wbc_nb.unet, wbc_nb.diagnosis, wbc_nb.cli` needs beyond the device image's packages (session 5)
WHEELS = ['albucore', 'albumentations', 'annotated-types', 'beartype', 'defusedxml', 'fastai', 'fastcore', 'fastdownload',
          'fastprogress', 'fasttransform', 'httpcore2', 'httpx2', 'itsdangerous', 'plum-dispatch', 'pydantic', 'pydantic_core',
          'python-fasthtml', 'python-multipart', 'simsimd', 'starlette', 'stringzilla', 'truststore', 'typing-inspection']

def fetch_wheels():
    import subprocess, importlib.metadata as md
    plat = [a for p in ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64',
                        'manylinux1_x86_64') for a in ('--platform', p)]
    for w in WHEELS:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--python-version', '3.12',
                        '--implementation', 'cp', *plat, '-d', str(GPU/'whl'), f'{w}=={md.version(w)}'], check=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.environ.get('WBC_NB_DATA', str(ROOT.parent/'shared'/'data')))
    ap.add_argument('--init', default='/tmp/seg_full'); ap.add_argument('--quality', type=int, default=90)
    a = ap.parse_args()
    GPU.mkdir(exist_ok=True)
    fetch_wheels()
    with tarfile.open(GPU/'seg.tar.xz', 'w:xz') as t: t.add(Path(a.data)/'segmentation_WBC', 'segmentation_WBC')
    n, nb = pack_cells(a.data, a.quality)
    if (Path(a.init)/'segmenter.json').is_file():
        (GPU/'init').mkdir(exist_ok=True)
        for f in ('segmenter.json', 'segmenter.safetensors'): shutil.copy(Path(a.init)/f, GPU/'init'/f)
    else: print(f"no segmenter in {a.init}: left out (only the classifier runs, CLS=1, need it)")
    tot = sum(f.stat().st_size for f in GPU.rglob('*') if f.is_file())
    print(f"{n} cells ({nb/1e6:.1f} MB of JPEG); .gpu holds {tot/2**20:.1f} MiB")

if __name__ == '__main__': main()
