#!/usr/bin/env bash
# `make bench`: every benchmark, then BENCHMARKS.md and its charts (docs/bench/*.png).
#
#   make bench                 # ~20 min on a quiet 2-core machine: 5 kernel/mask rounds, 3 export rounds
#   BENCH_QUICK=1 make bench   # one round of each, criterion --quick (~10 min): for trying it out
#   BENCH_STEPS="export" make bench   # only some steps; the others keep their earlier results,
#                                     # and BENCHMARKS.md names each step's commit and date
#   BENCH_ALLOW_DIRTY=1 make bench    # measure uncommitted changes; BENCHMARKS.md says "dirty"
#
# It refuses a working tree whose tracked files differ from the commit (BENCHMARKS.md
# describes one commit), unless BENCH_ALLOW_DIRTY=1.
#
# Steps (each can be run alone, see its header): env.sh (machine, versions), kernels.sh
# (criterion benches + masking kernels vs memset/memcpy/OpenCV), mask_e2e.sh (`redact mask` vs
# the FFmpeg CLI), export.sh (`redact export` vs deface: fps, recall, precision, scaling,
# memory), record.sh (`redact record`: cores and bytes per hour of a 1080p25 camera),
# capacity.sh (how many 1080p25 and 720p25 cameras one `redact record --cameras` keeps at real
# time with no frame lost, per x264 preset, and the CPU per camera),
# empty_busy.sh (`redact analyze` on a mostly empty 10-minute clip and on its busy 40 s). Results are JSON lines in docs/bench/results/ (committed); report.py turns them into the
# Markdown and the charts. Comparison tools come from PyPI into venvs under target/:
# opencv-python-headless + matplotlib (bench-venv) and deface 1.5 (deface-venv).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# BENCHMARKS.md describes one commit: a tree with uncommitted changes to tracked files (other
# than the benchmark's own outputs: docs/bench, BENCHMARKS.md) is refused, unless
# BENCH_ALLOW_DIRTY=1, and then the goals table says "dirty" (report.py).
if [ -n "$(tracked_changes)" ] && [ "${BENCH_ALLOW_DIRTY:-0}" != 1 ]; then
  echo "bench: the working tree has uncommitted changes (git status): commit them, or benchmark a" >&2
  echo "       clean clone, or set BENCH_ALLOW_DIRTY=1 to have BENCHMARKS.md marked dirty" >&2
  exit 1
fi

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
# deface from PyPI; where it cannot be installed, the comparisons run without it and
# BENCHMARKS.md says "deface not measured" in their goal rows instead of a figure
if ! venv "$DEFACE_VENV" deface==1.5.0 onnx==1.23.2 onnxruntime==1.32.0; then
  echo "bench: deface 1.5.0 could not be installed from PyPI: measuring without it" >&2
  rm -rf "$DEFACE_VENV"
fi

# BENCH_STEPS: the steps to run (default all). Each step's results live in their own folder,
# $RESULTS/<step>/, with the commit, date and load of the run that measured them (env.json):
# a step that is run replaces its folder; the folders of steps not run are kept, and
# BENCHMARKS.md names the commit and date of every step (a step never measured is absent).
ALL_STEPS="kernels mask_e2e gst export record capacity empty_busy"
STEPS=${BENCH_STEPS:-$ALL_STEPS}
for s in $STEPS; do
  [[ " $ALL_STEPS " == *" $s "* ]] || { echo "bench: unknown step $s (steps: $ALL_STEPS)" >&2; exit 2; }
done
RESULTS_ROOT=$RESULTS
mkdir -p "$RESULTS_ROOT"
# results of the layout before per-step folders (flat files) cannot be told apart: dropped
rm -f "$RESULTS_ROOT"/*.jsonl "$RESULTS_ROOT"/env.json
# steps measured in this checkout before the results were kept in the repository
# (target/bench-results/<step>/) are taken over where the repository has none
for s in $ALL_STEPS; do
  old=$ROOT/target/bench-results/$s
  if [ ! -s "$RESULTS_ROOT/$s/env.json" ] && [ -s "$old/env.json" ] && [ "$old" != "$RESULTS_ROOT/$s" ]; then
    mkdir -p "$RESULTS_ROOT/$s" && cp -p "$old"/* "$RESULTS_ROOT/$s/"
  fi
done
for s in $ALL_STEPS; do
  if [[ " $STEPS " != *" $s "* ]] && [ -s "$RESULTS_ROOT/$s/env.json" ]; then
    echo "bench: keeping the results of step $s from an earlier run ($(python3 -c 'import json,sys; e={k: v for l in open(sys.argv[1]) for k, v in json.loads(l).items()}; print(e.get("veil", "?"), e.get("date", "?"))' "$RESULTS_ROOT/$s/env.json"))" >&2
  fi
done
for s in $STEPS; do
  export RESULTS=$RESULTS_ROOT/$s
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
  bash scripts/bench/env.sh start
  emit env.json step="$s" all_steps="$ALL_STEPS"
  bash "scripts/bench/$s.sh"
  bash scripts/bench/env.sh end
done
"$VENV/bin/python" scripts/bench/report.py "$RESULTS_ROOT" BENCHMARKS.md docs/bench
