#!/usr/bin/env bash
# One GPU session through the device tool (see bench/results/gpu_session.md): the `full` U-Net profile at 192 and
# then 224 px, each with 5-fold CV (the folds in parallel processes on the one card, `--jobs`; about 4 min each on an
# H200 by the session-5 timing), and with CLS=1 the DeepAPL classifier runs of session 5 beside them. Needs `.gpu/`
# from bench/gpu_bundle.py. Everything stops at DEADLINE seconds; what finished is packed into $OUT (at most 8 files).
# Session 5 learnt: give every process a few CPU threads (OMP_NUM_THREADS, OPENCV_FOR_THREADS_NUM below): 14
# processes each taking all 16 cores left the GPU 45% busy and no U-Net finished in 9 minutes; with 2 threads, six
# U-Net processes kept it 95% busy at 1.8 s per epoch each.
#   device:        bash bench/gpu_session.sh                 (OUT is set there)
#   local dry run: SMOKE=1 OUT=/tmp/gpusmoke bash bench/gpu_session.sh
set -u
OUT=${OUT:?set OUT}; DEADLINE=${DEADLINE:-470}; SMOKE=${SMOKE:-0}
T0=$(date +%s); log() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
W=/tmp/wbcgpu; rm -rf $W; mkdir -p $W/data $W/res
export NO_ALBUMENTATIONS_UPDATE=1 PYTHONUNBUFFERED=1 MPLBACKEND=Agg PYTHONWARNINGS=ignore OMP_NUM_THREADS=2 OPENCV_FOR_THREADS_NUM=1
if [ "$SMOKE" = 0 ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD; PY=python3; DEV=cuda; K=5; S1=192; S2=224; SEG_EP=""; CLS_EP=(40 15)
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  (nvidia-smi dmon -s u -d 15 > $W/res/dmon.log 2>&1 &)
else
  PY=.venv/bin/python; DEV=cpu; K=2; S1=64; S2=96; SEG_EP="--epochs 1"; CLS_EP=(2 1)
fi
tar -xJf .gpu/seg.tar.xz -C $W/data || exit 1
$PY -c "import torch, fastai, albumentations, wbc_nb.unet, wbc_nb.diagnosis; print('torch', torch.__version__, 'fastai', fastai.__version__, 'cuda', torch.cuda.is_available(), 'cpus', __import__('os').cpu_count())" || exit 1
printf 'from wbc_nb.cli import wbc_train_seg\nif __name__ == "__main__": wbc_train_seg()\n' > $W/train_seg.py  # a file: call_parse reads argv only there; guarded: fold processes import it
log "set up"

seg() { # name size: train on the train split with K-fold CV, evaluate the test split, save the model
  $PY $W/train_seg.py --data $W/data --out $W/res/$1 --profile full \
      --size $2 --folds $K --jobs $K --device $DEV $SEG_EP --json > $W/res/$1.log 2>&1
  log "$1 finished (rc $?)"
}
cls() { # one classifier CV run: epochs
  $PY bench/gpu_cls.py --name g96e$1_init --epochs $1 --init .gpu/init --out $W/res/cls --device $DEV --k $K > $W/res/cls_e$1.log 2>&1
  log "classifier g96e$1_init finished (rc $?)"
}
{ seg seg$S1 $S1; seg seg$S2 $S2; } &
[ "${CLS:-0}" = 1 ] && { cls ${CLS_EP[0]} & cls ${CLS_EP[1]} & }
while [ -n "$(jobs -r)" ] && [ $(( $(date +%s) - T0 )) -lt $DEADLINE ]; do sleep 5; done
if [ -n "$(jobs -r)" ]; then
  log "deadline: stopping what still runs"
  kill $(jobs -p) 2>/dev/null; pkill -f train_seg.py; pkill -f gpu_cls.py; pkill -f spawn_main; sleep 2
fi
pkill -f "nvidia-smi dmon"
[ "${CLS:-0}" = 1 ] && tail -n 3 $W/res/cls_e*.log
$PY bench/gpu_summary.py $W/res
cd $W/res && for n in seg$S1 seg$S2; do tar -cf $OUT/$n.tar $n $n.log 2>/dev/null; done
tar -cf $OUT/cls.tar cls cls_e*.log dmon.log 2>/dev/null
log "packed: $(ls $OUT | tr '\n' ' ')"
