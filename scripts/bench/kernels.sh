#!/usr/bin/env bash
# make bench, step 1: the criterion benches (masking kernels, detectors, tracker, export
# layers), then the masking kernels side by side with memset/memcpy and OpenCV: RUNS rounds,
# each timing Veil and OpenCV back to back on the same zones (scripts/bench/zones.toml) for
# 1080p and 2160p I420 frames, one thread each.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "${BENCH_SKIP_CRITERION:-0}" != 1 ]; then
  stamp="$WORK/criterion.stamp"; touch "$stamp"
  # each criterion target by name: `cargo bench --workspace -- ARGS` would also hand the
  # arguments to libtest's bench harness of every library, which refuses them
  # (appearance: the identity descriptors' cost per 1080p frame, its own section in BENCHMARKS.md)
  for target in "veil masking" "veil-detect detect" "veil-track track" "veil-track appearance" "veil-redact layers"; do
    set -- $target
    echo "bench: criterion: cargo bench -p $1 --bench $2" >&2
    if ! cargo bench -p "$1" --bench "$2" -- --noplot ${CRITERION_ARGS:-} >"$WORK/criterion-$2.log" 2>&1; then
      tail -20 "$WORK/criterion-$2.log" >&2
      exit 1
    fi
  done
  python3 scripts/bench/criterion_json.py "$CARGO_TARGET_DIR/criterion" "$stamp" >"$RESULTS/criterion.jsonl"
  [ -s "$RESULTS/criterion.jsonl" ] || { echo "bench: criterion wrote no results" >&2; exit 1; }
fi

echo "bench: masking kernels vs memset/memcpy and OpenCV ($RUNS rounds)" >&2
cargo build --release --quiet --example mask_timing
secs=${KERNEL_SECONDS:-1}
for round in $(seq 1 "$RUNS"); do
  for size in 1920x1080 3840x2160; do
    for style in solid pixelate blur; do
      "$EX/mask_timing" scripts/bench/zones.toml "$size" "$style" "$secs" | sed "s/^{/{\"round\":$round,/" >>"$RESULTS/kernels.jsonl"
      "$VENV/bin/python" scripts/bench/opencv_mask.py scripts/bench/zones.toml "$size" "$style" "$secs" \
        | sed "s/^{/{\"round\": $round, /" >>"$RESULTS/kernels.jsonl"
    done
    for style in memset memcpy; do
      "$EX/mask_timing" scripts/bench/zones.toml "$size" "$style" "$secs" | sed "s/^{/{\"round\":$round,/" >>"$RESULTS/kernels.jsonl"
    done
  done
done
