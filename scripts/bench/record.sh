#!/usr/bin/env bash
# make bench, step: `redact record` on a live 1080p25 camera. What one camera costs: CPU cores
# for decode + mask + encode (x264 veryfast and ultrafast, CRF 18, the recorder's defaults
# otherwise: 1 s keyframes, fragmented MP4 segments) and bytes of footage per hour, and so
# how many cameras a 2-core and a 16-core machine carry.
#
# The camera: fixtures/vtest.mp4 upscaled to 1920x1080 at 25 fps (H.264, 2 s GOP, as an IP
# camera sends it), looped, served in real time as MPEG-TS over HTTP on loopback by the FFmpeg
# tool. The recorder runs RECORD_SECONDS (default 40) per preset; cores = its CPU time (user +
# sys) / seconds of footage recorded, bytes per hour = segment bytes / seconds of footage * 3600.
# Cameras per machine = cores / cores per camera, rounded down (linear: assumes nothing else
# runs, and memory bandwidth does not saturate first).
#
#   bash scripts/bench/record.sh          # prints a table, appends to $RESULTS/record.jsonl
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
SECS=${RECORD_SECONDS:-40}
PORT=${RECORD_PORT:-18731}

src="$WORK/vtest-1080p25-camera.mp4"
[ -s "$src" ] || ff -stream_loop 3 -i fixtures/vtest.mp4 -vf "scale=1920:1080:flags=bicubic,fps=25" -an \
  -c:v libx264 -preset veryfast -crf 23 -g 50 -pix_fmt yuv420p "$src"
cargo build --release --quiet --example redact

printf '%-10s %8s %8s %10s %12s %14s %10s %10s\n' preset frames cpu_s fps cores/cam "GB/hour" "2-core" "16-core"
for preset in veryfast ultrafast; do
  dir="$WORK/record-$preset"
  rm -rf "$dir" "$dir.audit.jsonl"
  ffmpeg -v quiet -re -stream_loop -1 -i "$src" -c copy -f mpegts -listen 1 "http://127.0.0.1:$PORT/cam.ts" &
  server=$!
  sleep 0.5
  measure "$EX/redact" record "http://127.0.0.1:$PORT/cam.ts" --zones fixtures/vtest-zones.toml \
    --dir "$dir" --segment 10s --encoder x264 --preset "$preset" --for "${SECS}s" \
    --audit-log "$dir.audit.jsonl" --actor bench
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  read -r frames bytes < <(python3 - "$dir" <<'PY'
import json, os, sys, glob
frames = size = 0
for idx in glob.glob(os.path.join(sys.argv[1], "*", "index.jsonl")):
    for line in open(idx):
        e = json.loads(line)
        frames += e["frames"]
        size += os.path.getsize(os.path.join(os.path.dirname(idx), e["file"]))
print(frames, size)
PY
)
  read -r seconds cores fps gbh two sixteen < <(python3 -c "
f, b, cpu, wall = $frames, $bytes, $CPU, $WALL
s = f / 25
c = cpu / s
print(f'{s:.1f} {c:.3f} {f / wall:.1f} {b / s * 3600 / 1e9:.2f} {int(2 / c)} {int(16 / c)}')")
  printf '%-10s %8s %8s %10s %12s %14s %10s %10s\n' "$preset" "$frames" "$CPU" "$fps" "$cores" "$gbh" "$two" "$sixteen"
  emit record.jsonl preset="$preset" crf=18 width=1920 height=1080 fps_source=25 frames="$frames" \
    footage_s="$seconds" wall_s="$WALL" cpu_s="$CPU" rss_kib="$RSS" cores_per_camera="$cores" \
    bytes="$bytes" gb_per_hour="$gbh" cameras_2_cores="$two" cameras_16_cores="$sixteen"
  rm -rf "$dir" "$dir.audit.jsonl"
done
