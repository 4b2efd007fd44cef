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
  echo "bench: criterion (cargo bench --workspace)" >&2
  cargo bench --workspace -- --noplot ${CRITERION_ARGS:-} 2>&1 | grep -E '^[a-z].*time:|Benchmarking .*: Analyzing' | grep time: >&2 || true
  python3 scripts/bench/criterion_json.py "$CARGO_TARGET_DIR/criterion" "$stamp" >"$RESULTS/criterion.jsonl"
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
