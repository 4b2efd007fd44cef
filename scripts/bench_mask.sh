#!/usr/bin/env bash
# End-to-end comparison: `redact mask` against the FFmpeg command-line tool doing the same job
# on a 1080p clip: decode H.264, black out the zones, encode libx264 (same preset, CRF and
# threading: both let x264 pick its thread count) into MP4 with +faststart, no audio.
# FFmpeg fills the zones' bounding boxes with `drawbox` (it has no polygon fill); Veil fills
# the polygons themselves.
#
# The 1080p clip is made at bench time by upscaling fixtures/vtest.mp4 into $BENCH_DIR
# (default /tmp/veil-bench); nothing is committed. Runs alternate Veil / FFmpeg, RUNS times
# each (default 5), and the medians and their ratio are reported.
#
#   scripts/bench_mask.sh            # RUNS=5 PRESET=fast CRF=18
#   RUNS=3 PRESET=medium scripts/bench_mask.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
PRESET=${PRESET:-fast}
CRF=${CRF:-18}
BENCH_DIR=${BENCH_DIR:-/tmp/veil-bench}
CARGO=${CARGO:-cargo}
ZONES=fixtures/vtest-zones.toml
W=1920
H=1080

mkdir -p "$BENCH_DIR"
input="$BENCH_DIR/vtest-1080p.mp4"
if [ ! -s "$input" ]; then
  echo "bench: making the 1080p clip $input" >&2
  ffmpeg -v error -y -i fixtures/vtest.mp4 -vf "scale=$W:$H:flags=bicubic" -an \
    -c:v libx264 -preset fast -crf 18 -g 25 -pix_fmt yuv420p -movflags +faststart "$input"
fi

echo "bench: building the redact CLI (release)" >&2
"$CARGO" build --release --quiet --example redact
target_dir=$("$CARGO" metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
redact="$target_dir/release/examples/redact"

# drawbox filters for the zones' bounding boxes, from the zone file (pixels as Veil rounds
# them: floor of the left/top edge, ceil of the right/bottom edge).
filters=$(python3 - "$ZONES" "$W" "$H" <<'PY'
import math, sys, tomllib
zones = tomllib.load(open(sys.argv[1], "rb"))["zones"]
w, h = int(sys.argv[2]), int(sys.argv[3])
boxes = []
for z in zones:
    xs = [p[0] * w for p in z["polygon"]]; ys = [p[1] * h for p in z["polygon"]]
    x0, y0 = math.floor(min(xs)), math.floor(min(ys))
    x1, y1 = math.ceil(max(xs)), math.ceil(max(ys))
    boxes.append(f"drawbox=x={x0}:y={y0}:w={x1 - x0}:h={y1 - y0}:color=black:t=fill")
print(",".join(boxes))
PY
)

# Wall-clock and CPU (user + sys) seconds of one command, as "wall cpu".
timed() {
  local TIMEFORMAT='%R %U %S'
  { time "$@" >/dev/null; } 2>&1 | tail -1 | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}
veil_wall=(); veil_cpu=(); ffmpeg_wall=(); ffmpeg_cpu=()
for i in $(seq 1 "$RUNS"); do
  read -r w c < <(timed "$redact" mask "$input" --zones "$ZONES" -o "$BENCH_DIR/veil.mp4" --preset "$PRESET" --crf "$CRF")
  veil_wall+=("$w"); veil_cpu+=("$c")
  read -r w c < <(timed ffmpeg -v error -y -i "$input" -an -vf "$filters" -c:v libx264 -preset "$PRESET" -crf "$CRF" \
    -pix_fmt yuv420p -map_metadata -1 -fflags +bitexact -movflags +faststart "$BENCH_DIR/ffmpeg.mp4")
  ffmpeg_wall+=("$w"); ffmpeg_cpu+=("$c")
  echo "run $i: veil ${veil_wall[-1]} s (cpu ${veil_cpu[-1]} s), ffmpeg ${ffmpeg_wall[-1]} s (cpu ${ffmpeg_cpu[-1]} s)"
done

frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }
python3 - "$(frames "$BENCH_DIR/veil.mp4")" "$(frames "$BENCH_DIR/ffmpeg.mp4")" "${veil_wall[*]}" "${ffmpeg_wall[*]}" \
  "${veil_cpu[*]}" "${ffmpeg_cpu[*]}" "$PRESET" "$CRF" "$(nproc)" <<'PY'
import statistics, sys
vf, ff, vw, fw, vc, fc, preset, crf, cores = sys.argv[1:10]
med = lambda s: statistics.median(float(x) for x in s.split())
n = len(vw.split())
mvw, mfw, mvc, mfc = med(vw), med(fw), med(vc), med(fc)
print(f"1080p, {vf} frames (ffmpeg: {ff}), libx264 preset {preset} crf {crf}, {cores} cores, {n} runs each")
print(f"median wall: veil {mvw:.2f} s ({int(vf) / mvw:.1f} fps), ffmpeg {mfw:.2f} s ({int(ff) / mfw:.1f} fps)")
print(f"median cpu:  veil {mvc:.2f} s, ffmpeg {mfc:.2f} s")
print(f"ratio veil/ffmpeg: wall {mvw / mfw:.3f}, cpu {mvc / mfc:.3f}")
PY
