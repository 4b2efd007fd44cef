#!/usr/bin/env bash
# `make bench`: every benchmark, then BENCHMARKS.md and its charts (docs/bench/*.png).
#
#   make bench                 # ~20 min on a quiet 2-core machine: 5 kernel/mask rounds, 3 export rounds
#   BENCH_QUICK=1 make bench   # one round of each, criterion --quick (~10 min): for trying it out
#
# Steps (each can be run alone, see its header): env.sh (machine, versions), kernels.sh
# (criterion benches + masking kernels vs memset/memcpy/OpenCV), mask_e2e.sh (`redact mask` vs
# the FFmpeg CLI), export.sh (`redact export` vs deface: fps, recall, precision, scaling,
# memory), record.sh (`redact record`: cores and bytes per hour of a 1080p25 camera). Results are JSON lines in target/bench-results/; report.py turns them into the
# Markdown and the charts. Comparison tools come from PyPI into venvs under target/:
# opencv-python-headless + matplotlib (bench-venv) and deface 1.5 (deface-venv).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export RUNS=1 RUNS_EXPORT=1 KERNEL_SECONDS=0.5 CRITERION_ARGS="--quick"
fi

# tools the steps need beyond `make setup`: GNU time (peak RSS), Python venvs
if [ ! -x /usr/bin/time ] || ! python3 -m venv --help >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time python3-venv >/dev/null
  else
    echo "bench: needs GNU time (/usr/bin/time) and python3-venv: install them or run as root" >&2
    exit 1
  fi
fi
venv() { # venv DIR PACKAGE...
  local dir=$1; shift
  if [ ! -f "$dir/.installed" ] || [ "$(cat "$dir/.installed")" != "$*" ]; then
    echo "bench: installing $* into $dir" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    echo "$*" >"$dir/.installed"
  fi
}
venv "$VENV" opencv-python-headless==5.0.0.93 numpy==2.4.6 matplotlib==3.11.2
venv "$DEFACE_VENV" deface==1.5.0 onnx==1.23.2 onnxruntime==1.32.0

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
bash scripts/bench/env.sh start
bash scripts/bench/kernels.sh
bash scripts/bench/mask_e2e.sh
bash scripts/bench/gst.sh
bash scripts/bench/export.sh
bash scripts/bench/record.sh
bash scripts/bench/env.sh end
"$VENV/bin/python" scripts/bench/report.py "$RESULTS" BENCHMARKS.md docs/bench
