#!/usr/bin/env bash
# One lent GPU's jobs, as one command from the checkout's root (python3 there must have CUDA PyTorch):
#   OUT=/some/folder bash benchmarks/gpu_session.sh
# 1. the runs of $GPU_EXPERIMENTS (NAME, or NAME/FIELD=VALUE,... to pick configs), their stacks side by side in worker
#    processes, six by default (see RESULTS.md; as `regenerate --backend processes` trains them, but as one sweep);
# 2. the CUDA tests, meanwhile; 3. B3's 64-run sweep on the then idle GPU. Logs, the hardware and the new results (a tarball of the runs'
# JSON and spectra, not the checkpoints) go to $OUT. Each part has a time limit; a part cut short keeps
# every stack it finished.
set -u
OUT=${OUT:-/tmp/gpu_session}
RUNS_S=${RUNS_S:-360}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 GROK_WORKERS=${GROK_WORKERS:-6}
START=$(mktemp); sleep 1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
  echo "cpus $(nproc)"; } > "$OUT/hardware.txt" 2>&1

TRAIN=$(mktemp --suffix=.py)  # a file, not stdin: the spawned workers re-import the main module
cat > "$TRAIN" <<'PY'
import os
import time

from grok_lib.runs import load_or_train
from grok_lib.runs.experiments import get
if __name__ == "__main__":  # the workers import this file too
    names = os.environ.get("GPU_EXPERIMENTS", "why_lr_wd why_norm why_seeds").split()
    configs = []
    for item in names:  # NAME, or NAME/FIELD=VALUE,... for those of its configs with those fields at those values
        name, _, only = item.partition("/")
        wanted = [cond.partition("=")[::2] for cond in only.split(",") if cond]
        configs += [c for c in get(name) if all(str(getattr(c, f)) == v for f, v in wanted)]
    t0 = time.perf_counter()
    load_or_train(configs, backend="processes", progress=False)
    print(f"{len(configs)} runs of {', '.join(names)} in {time.perf_counter() - t0:.0f} s")
PY
timeout "$RUNS_S" python3 "$TRAIN" > "$OUT/runs.log" 2>&1 &
RUNS=$!
[ -n "${SKIP_TESTS:-}" ] || timeout 200 python3 -m pytest tests/test_cuda.py -q -p no:randomly > "$OUT/cuda_tests.log" 2>&1
echo "cuda tests exit $?" >> "$OUT/cuda_tests.log"
wait $RUNS; echo "runs exit $?" >> "$OUT/runs.log"
pkill -f multiprocessing.spawn; sleep 2  # workers of a sweep cut short must not share the GPU with B3
[ -n "${SKIP_B3:-}" ] || timeout 130 python3 benchmarks/run.py --only B3 --b3-sweep-only --b3-sweep-steps 200 > "$OUT/b3.log" 2>&1
echo "b3 exit $?" >> "$OUT/b3.log"
find results -newer "$START" \( -name '*.json' \) -print0 | tar czf "$OUT/results.tgz" --null -T -
python3 -m grok_lib list > "$OUT/list.txt" 2>&1
ls -la "$OUT"
