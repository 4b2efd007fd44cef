#!/usr/bin/env bash
# make bench, step 2: `redact mask` end to end against the FFmpeg CLI doing the same job on a
# 1080p clip (fixtures/vtest.mp4 upscaled at bench time): decode H.264, mask the zones of
# fixtures/vtest-zones.toml, encode libx264 (same preset and CRF, both let x264 pick its
# threads) into MP4 with +faststart. Solid: FFmpeg `drawbox` fills of the zones' bounding boxes
# (it has no polygon fill). Blur: per zone crop + boxblur (three passes of Veil's radius, the
# same filter) + overlay. RUNS rounds alternate Veil and FFmpeg; wall, CPU and peak RSS each.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
PRESET=${PRESET:-fast}
CRF=${CRF:-18}
W=1920 H=1080

input="$WORK/vtest-1080p.mp4"
[ -s "$input" ] || ff -i fixtures/vtest.mp4 -vf "scale=$W:$H:flags=bicubic" -an \
  -c:v libx264 -preset fast -crf 18 -g 25 -pix_fmt yuv420p -movflags +faststart "$input"
n=$(frames "$input")
cargo build --release --quiet --example redact

# per style: a zone file for Veil and the equivalent FFmpeg filter graph
python3 - fixtures/vtest-zones.toml "$W" "$H" "$WORK" <<'PY'
import math, sys, tomllib
src, w, h, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cfg = tomllib.load(open(src, "rb"))
r = max(w // 100, 8)  # Veil's default blur radius (luma); chroma planes use half
boxes = []
for z in cfg["zones"]:
    xs = [p[0] * w for p in z["polygon"]]; ys = [p[1] * h for p in z["polygon"]]
    x0, y0 = math.floor(min(xs)) & ~1, math.floor(min(ys)) & ~1
    x1, y1 = min(w, math.ceil(max(xs)) + 1 & ~1), min(h, math.ceil(max(ys)) + 1 & ~1)
    boxes.append((x0, y0, x1 - x0, y1 - y0))
for style in ("solid", "blur"):
    with open(f"{out}/zones-{style}.toml", "w") as f:
        c = cfg["camera"]
        f.write(f'[camera]\nid = "{c["id"]}"\npurposes = {list(c["purposes"])!r}\nresponsible = "{c["responsible"]}"\n'.replace("'", '"'))
        for z in cfg["zones"]:
            pts = ", ".join(f"[{x}, {y}]" for x, y in z["polygon"])
            f.write(f'\n[[zones]]\nkind = "{z["kind"]}"\nlabel = "{z["label"]}"\npolygon = [{pts}]\nstyle = "{style}"\n')
solid = ",".join(f"drawbox=x={x}:y={y}:w={bw}:h={bh}:color=black:t=fill" for x, y, bw, bh in boxes)
open(f"{out}/filter-solid.txt", "w").write(f"[0:v]{solid}[out]")
parts = [f"[0:v]split={len(boxes) + 1}[base]" + "".join(f"[c{i}]" for i in range(len(boxes)))]
prev = "base"
for i, (x, y, bw, bh) in enumerate(boxes):
    lr = min(r, bw // 2, bh // 2); cr = min(r // 2, bw // 4, bh // 4)
    parts.append(f"[c{i}]crop={bw}:{bh}:{x}:{y},boxblur=lr={lr}:lp=3:cr={cr}:cp=3[b{i}]")
    nxt = "out" if i == len(boxes) - 1 else f"o{i}"
    parts.append(f"[{prev}][b{i}]overlay={x}:{y}[{nxt}]")
    prev = nxt
open(f"{out}/filter-blur.txt", "w").write(";".join(parts))
PY

echo "bench: redact mask vs FFmpeg, 1080p, $n frames, $RUNS rounds" >&2
for round in $(seq 1 "$RUNS"); do
  for style in solid blur; do
    measure "$EX/redact" --force mask "$input" --zones "$WORK/zones-$style.toml" \
      -o "$WORK/veil-$style.mp4" --preset "$PRESET" --crf "$CRF"
    emit mask_e2e.jsonl round="$round" tool=veil style="$style" frames="$n" wall_s="$WALL" cpu_s="$CPU" maxrss_kib="$RSS"
    measure ffmpeg -hide_banner -loglevel error -y -i "$input" -an \
      -filter_complex "$(cat "$WORK/filter-$style.txt")" -map '[out]' -c:v libx264 -preset "$PRESET" -crf "$CRF" \
      -pix_fmt yuv420p -map_metadata -1 -fflags +bitexact -movflags +faststart "$WORK/ffmpeg-$style.mp4"
    emit mask_e2e.jsonl round="$round" tool=ffmpeg style="$style" frames="$n" wall_s="$WALL" cpu_s="$CPU" maxrss_kib="$RSS"
    echo "  round $round $style: veil/ffmpeg done" >&2
  done
done
