#!/usr/bin/env bash
# make bench, step: recorder capacity (issue 29 item 5). How many live cameras one machine
# records at real time with no frame lost, per frame size and x264 preset, and the CPU each
# camera costs.
#
# The cameras: fixtures/vtest.mp4 scaled to 1920x1080 and 1280x720 at 25 fps (H.264, 2 s GOP,
# as an IP camera sends it), looped, each served in real time as MPEG-TS over HTTP on its own
# loopback port by the FFmpeg tool (`-re -stream_loop -1 ... -listen 1`, as
# tests/record_site_cli.rs does). For each size and preset, N = 1, 2, ... cameras are recorded
# together by one `redact record --cameras DIR` (encoder x264, CRF 18, 10 s segments) for
# CAPACITY_SECONDS (default 20) under GNU time. A run keeps up when, for every camera:
#   - the index has no lag mark (a gap entry with lag_ms: recording fell 2 s behind the
#     camera's clock) and no lost frames (lost_frames),
#   - the recorder's output has no "behind the camera" / "not recorded" / "never recorded",
#   - it recorded at least the frames of CAPACITY_SECONDS - 3 s of real time (25 fps; 3 s for
#     connecting and the encoder's tail).
# N grows until a run does not keep up (or CAPACITY_MAX, default 8, is reached); the capacity
# is the largest N that kept up. CPU per camera = the recorder's CPU time (user + sys) / N /
# CAPACITY_SECONDS (the run's length), in cores, at that N. The load average before each run
# is recorded: figures from a machine busy with anything else are not capacity figures.
#
#   bash scripts/bench/capacity.sh        # prints a table, appends to $RESULTS/capacity.jsonl
#   CAPACITY_SIZES=720 CAPACITY_PRESETS=ultrafast CAPACITY_SECONDS=8 CAPACITY_MAX=2 \
#     REDACT=target/debug/examples/redact bash scripts/bench/capacity.sh   # a smoke test
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
SECS=${CAPACITY_SECONDS:-20}
MAXN=${CAPACITY_MAX:-8}
SIZES=${CAPACITY_SIZES:-1080 720}
PRESETS=${CAPACITY_PRESETS:-ultrafast superfast veryfast}
PORT0=${CAPACITY_PORT:-18760}
METRICS_PORT=${CAPACITY_METRICS_PORT:-18759}
if [ -z "${REDACT:-}" ]; then
  cargo build --release --quiet --example redact
  REDACT=$EX/redact
fi

camera_clip() { # camera_clip HEIGHT -> path of the looped camera's clip
  local h=$1 w
  case $h in 1080) w=1920 ;; 720) w=1280 ;; *) echo "capacity: size ${h}p: 1080 or 720" >&2; exit 2 ;; esac
  local src="$WORK/vtest-${h}p25-camera.mp4"
  [ -s "$src" ] || ff -stream_loop 3 -i fixtures/vtest.mp4 -vf "scale=$w:$h:flags=bicubic,fps=25" -an \
    -c:v libx264 -preset veryfast -crf 23 -g 50 -pix_fmt yuv420p "$src"
  echo "$src"
}

servers=()
stop_servers() {
  local p
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${servers[@]}"; do wait "$p" 2>/dev/null || true; done
  servers=()
}
trap stop_servers EXIT

# run_site SRC PRESET N: records N cameras; sets OK (1/0), FRAMES (least of a camera), LAGS,
# LOST, CPU, WALL, RSS and WHY.
run_site() {
  local src=$1 preset=$2 n=$3 i
  local base="$WORK/capacity"
  rm -rf "$base"
  mkdir -p "$base/cams" "$base/rec"
  for ((i = 0; i < n; i++)); do
    ffmpeg -v quiet -re -stream_loop -1 -i "$src" -c copy -f mpegts -listen 1 \
      "http://127.0.0.1:$((PORT0 + i))/cam.ts" &
    servers+=($!)
    python3 - "$base/cams/cam$i.toml" "cam$i" "http://127.0.0.1:$((PORT0 + i))/cam.ts" "$preset" <<'PY'
import sys
out, cam, url, preset = sys.argv[1:]
text = open("fixtures/vtest-zones.toml").read()
text = text.replace('id = "vtest-courtyard"', f'id = "{cam}"', 1)
keys = f'url = "{url}"\nsegment = "10s"\npreset = "{preset}"\ncrf = 18\nencoder = "x264"\n'
text = text.replace("[camera]\n", "[camera]\n" + keys, 1)
open(out, "w").write(text)
PY
  done
  sleep 1
  LOAD=$(cut -d' ' -f1 /proc/loadavg)
  measure "$REDACT" record --cameras "$base/cams" --dir "$base/rec" --for "${SECS}s" \
    --audit-log "$base/audit.jsonl" --actor bench --metrics "127.0.0.1:$METRICS_PORT"
  stop_servers
  read -r OK FRAMES LAGS LOST WHY < <(python3 - "$base/rec" "$n" "$SECS" "$WORK/last.log" <<'PY'
import glob, json, os, sys
rec, n, secs, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
need = int(25 * (secs - 3))
least, lags, lost, why = None, 0, 0, []
for i in range(n):
    frames = 0
    idx = os.path.join(rec, f"cam{i}", "index.jsonl")
    if os.path.exists(idx):
        for line in open(idx):
            e = json.loads(line)
            frames += e["frames"]
            for g in e.get("gaps", []):
                lags += "lag_ms" in g
                lost += g.get("lost_frames", 0)
    least = frames if least is None else min(least, frames)
    if frames < need:
        why.append(f"cam{i}:{frames}<{need}_frames")
text = open(log, errors="replace").read()
for bad in ("behind the camera", "were not recorded", "never recorded"):
    if bad in text:
        why.append(bad.replace(" ", "_"))
if lags:
    why.append(f"{lags}_lag_marks")
if lost:
    why.append(f"{lost}_frames_lost")
print(0 if why else 1, least or 0, lags, lost, ",".join(why) or "-")
PY
)
}

printf '%-6s %-10s %3s %5s %8s %8s %6s %6s %9s %s\n' size preset N ok frames cpu_s lags lost cores/cam load
for h in $SIZES; do
  src=$(camera_clip "$h")
  for preset in $PRESETS; do
    best=0
    best_cores=""
    for ((n = 1; n <= MAXN; n++)); do
      run_site "$src" "$preset" "$n"
      cores=$(python3 -c "print(f'{$CPU / $n / $SECS:.3f}')")
      printf '%-6s %-10s %3s %5s %8s %8s %6s %6s %9s %s %s\n' "${h}p" "$preset" "$n" "$OK" "$FRAMES" "$CPU" \
        "$LAGS" "$LOST" "$cores" "$LOAD" "$([ "$OK" = 1 ] || echo "($WHY)")"
      emit capacity.jsonl kind=run height="$h" preset="$preset" cameras="$n" ok="$OK" \
        least_frames="$FRAMES" lag_marks="$LAGS" frames_lost="$LOST" cpu_s="$CPU" wall_s="$WALL" \
        rss_kib="$RSS" seconds="$SECS" cores_per_camera="$cores" load_before="$LOAD" why="$WHY"
      [ "$OK" = 1 ] || break
      best=$n
      best_cores=$cores
    done
    emit capacity.jsonl kind=capacity height="$h" preset="$preset" cameras="$best" \
      cores_per_camera="${best_cores:-0}" max_tried="$MAXN" reached_max="$([ "$best" = "$MAXN" ] && echo 1 || echo 0)" \
      seconds="$SECS" cores="$(nproc)"
  done
done
rm -rf "$WORK/capacity"
