#!/usr/bin/env bash
# make bench, step 3: `redact export` against deface 1.5 (--backend onnxrt, default size and
# --scale 640x360) on the hand-annotated group-pan clip (fixtures/inzage: six people, the
# faces annotated by hand, see annotate.py there), then scaling with resolution and with the
# number of people in view. Every run records wall, CPU and peak RSS (GNU time).
#  - throughput: the clip looped twice (98 frames) at 720p and upscaled to 1080p; RUNS_EXPORT
#    rounds (default 3) alternate the tools. Veil runs the whole one-shot export (analysis +
#    export, `--keep-none`: every face redacted, as deface does), detecting on every frame (the
#    default), with `--changes-only 0` (every frame's faces searched in full, where the default
#    searches the two frames after each full face search only where they changed) and with
#    `--every 2` (detection on every 2nd frame, the tracker interpolates). deface's default size
#    at 1080p (~1 fps) runs once.
#  - quality on the 49 annotated frames: face recall (crates/veil-redact/examples/face_recall.rs:
#    an annotated face counts as hidden when its 16x16 thumbnail no longer matches) and face
#    precision (scripts/bench/face_precision.py).
#  - scaling: 720p / 1080p / 2160p (Veil and deface --scale 640x360), and 0 / 1 / 3 / 6 people
#    in view at 720p (the clip with everything right of a cut-off blacked out), 2 rounds each.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
RUNS_EXPORT=${RUNS_EXPORT:-3}
CLIP=fixtures/inzage/group_pan.mp4
FACES=fixtures/inzage/faces.json
cargo build --release --quiet --example redact -p veil
cargo build --release --quiet --example face_recall -p veil-redact
cargo build --release --quiet --example distant_clip -p veil-redact
deface=$DEFACE_VENV/bin/deface
# deface may be missing (not installable from PyPI here: run.sh says so); its runs are then
# left out and BENCHMARKS.md reports its comparisons as not measured
have_deface() { [ -x "$deface" ]; }
# Veil without the fine-scale search of small faces and persons (the whole frame at the
# detectors' default input sizes only, as before issue 14)
COARSE="--min-face 4096 --min-person 4096"

# clips, made at bench time (nothing committed)
for res in 1080 2160; do
  w=$((res * 16 / 9))
  [ -s "$WORK/pan$res.mp4" ] || ff -i "$CLIP" -vf "scale=$w:$res:flags=bicubic" -c:v libx264 -preset fast -crf 20 "$WORK/pan$res.mp4"
done
cp -f "$CLIP" "$WORK/pan720.mp4"
for res in 720 1080; do
  [ -s "$WORK/long$res.mp4" ] || ff -stream_loop 1 -i "$WORK/pan$res.mp4" -c copy "$WORK/long$res.mp4"
done
# people in view: black out x >= cut (faces stay left of it through the whole pan)
for k in 0:0 1:224 3:660; do
  n=${k%%:*} cut=${k##*:}
  [ -s "$WORK/people$n.mp4" ] || ff -i "$CLIP" -vf "drawbox=x=$cut:y=0:w=iw:h=ih:color=black:t=fill" \
    -c:v libx264 -preset slow -crf 24 -g 24 -bf 0 "$WORK/people$n.mp4"
done
cp -f "$CLIP" "$WORK/people6.mp4"

run() { # run FILE KIND TOOL CONFIG CLIP-LABEL INPUT CMD...
  local file=$1 kind=$2 tool=$3 config=$4 label=$5 input=$6; shift 6
  local n
  n=$(frames "$input")
  measure "$@"
  emit "$file" kind="$kind" round="${round:-1}" tool="$tool" config="$config" clip="$label" frames="$n" \
    wall_s="$WALL" cpu_s="$CPU" maxrss_kib="$RSS" fps="$(python3 -c "print(round($n / $WALL, 2))")"
  echo "  $kind $tool $config $label: $n frames in $WALL s" >&2
}

STEPS=" ${EXPORT_STEPS:-throughput quality scaling distant} "  # to rerun a part
step() { [[ $STEPS == *" $1 "* ]]; }

if step throughput; then
echo "bench: export throughput, $RUNS_EXPORT rounds" >&2
for round in $(seq 1 "$RUNS_EXPORT"); do
  for res in 720 1080; do
    in=$WORK/long$res.mp4
    run export.jsonl throughput veil one-shot "${res}p" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none
    # every frame's faces searched in full (before issue 26's changes-only face search)
    run export.jsonl throughput veil full-faces "${res}p" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none --changes-only 0
    run export.jsonl throughput veil every-2 "${res}p" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none --every 2
    # the previous default (no fine-scale search for small faces or persons), for the cost of it
    run export.jsonl throughput veil coarse-only "${res}p" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none $COARSE
    if have_deface; then run export.jsonl throughput deface 640x360 "${res}p" "$in" "$deface" "$in" -o "$WORK/deface.mp4" --backend onnxrt --scale 640x360; fi
    if [ "$res" = 720 ]; then # at 1080p (~0.5 fps) only the quality run below, once
      if have_deface; then run export.jsonl throughput deface default "${res}p" "$in" "$deface" "$in" -o "$WORK/deface.mp4" --backend onnxrt; fi
    fi
  done
done

fi

quality() { # quality TOOL CONFIG RES OUTPUT WALL CPU RSS [--tracks T]
  local tool=$1 config=$2 res=$3 out=$4 wall=$5 cpu=$6 rss=$7; shift 7
  local scale; scale=$(python3 -c "print($res / 720)")
  # deface's video writer stretches 1080p to 1920x1088 (a multiple of 16): scale such an output
  # back to the input's size (near-lossless) so that the annotated boxes line up again
  local want got
  want=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$WORK/pan$res.mp4")
  got=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$out")
  local ref=$WORK/pan$res.mp4
  if [ "$want" != "$got" ]; then
    ff -i "$out" -vf "scale=${want/,/:}:flags=bicubic" -c:v libx264 -preset fast -crf 12 "${out%.mp4}-fit.mp4"
    out=${out%.mp4}-fit.mp4
    # the precision's pixel difference is taken against the input sent through the same
    # two resamplings, so that they are not counted as redactions
    ref=$WORK/pan$res-via-${got/,/x}.mp4
    [ -s "$ref" ] || ff -i "$WORK/pan$res.mp4" -vf "scale=${got/,/:}:flags=bicubic,scale=${want/,/:}:flags=bicubic" \
      -c:v libx264 -preset fast -crf 12 "$ref"
    echo "  ($tool $config ${res}p wrote $got, scaled back to $want for the measurement)" >&2
  fi
  local recall prec
  recall=$("$EX/face_recall" "$WORK/pan$res.mp4" "$out" "$FACES" "$scale")
  prec=$("$VENV/bin/python" scripts/bench/face_precision.py "$ref" "$out" "$FACES" "$scale" "$@")
  python3 - "$tool" "$config" "$res" "$recall" "$prec" "$wall" "$cpu" "$rss" >>"$RESULTS/quality.jsonl" <<'PY'
import json, re, sys
tool, config, res, recall, prec, wall, cpu, rss = sys.argv[1:]
m = re.search(r"face recall ([0-9.]+) \((\d+)/(\d+)", recall)
sizes = re.search(r"by size (\{.*\})", recall)
d = {"tool": tool, "config": config, "clip": f"{res}p", "recall": float(m[1]), "hidden": int(m[2]), "faces": int(m[3]),
     "frames": 49, "wall_s": float(wall), "cpu_s": float(cpu), "maxrss_kib": int(rss), "fps": round(49 / float(wall), 2)}
d.update(json.loads(prec))
d["by_size"] = json.loads(sizes[1]) if sizes else {}
print(json.dumps(d))
PY
  echo "  $tool $config ${res}p: $recall" >&2
}
if step quality; then
echo "bench: face recall and precision on the annotated frames" >&2
for res in 720 1080; do
  in=$WORK/pan$res.mp4
  # Veil in two passes (analyze, then export with its tracks file, whose face boxes the
  # precision needs), every frame and every 2nd; the times of both passes are added up
  for every in 1 2; do
    config=one-shot; [ "$every" = 1 ] || config=every-$every
    tracks=$WORK/tracks$res-$config.json
    measure "$EX/redact" --force analyze "$in" -o "$tracks" --every "$every"
    wa=$WALL ca=$CPU ra=$RSS
    measure "$EX/redact" --force export "$in" -o "$WORK/q-veil$res-$config.mp4" --keep-none --tracks "$tracks"
    quality veil "$config" "$res" "$WORK/q-veil$res-$config.mp4" "$(python3 -c "print($wa + $WALL)")" \
      "$(python3 -c "print($ca + $CPU)")" "$((ra > RSS ? ra : RSS))" --tracks "$tracks"
  done
  for cfg in default 640x360; do
    opt=(); [ "$cfg" = default ] || opt=(--scale "$cfg")
    if have_deface; then measure "$deface" "$in" -o "$WORK/q-deface$res-$cfg.mp4" --backend onnxrt "${opt[@]}"; fi
    if have_deface; then quality deface "$cfg" "$res" "$WORK/q-deface$res-$cfg.mp4" "$WALL" "$CPU" "$RSS"; fi
  done
done

fi

if step scaling; then
echo "bench: scaling with resolution and people in view" >&2
for round in 1 2; do
  for res in 720 1080 2160; do
    in=$WORK/pan$res.mp4
    run scaling.jsonl resolution veil one-shot "${res}p" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none
    if have_deface; then run scaling.jsonl resolution deface 640x360 "${res}p" "$in" "$deface" "$in" -o "$WORK/deface.mp4" --backend onnxrt --scale 640x360; fi
  done
  for n in 0 1 3 6; do
    in=$WORK/people$n.mp4
    run scaling.jsonl people veil one-shot "$n" "$in" "$EX/redact" --force export "$in" -o "$WORK/veil.mp4" --keep-none
    if have_deface; then run scaling.jsonl people deface 640x360 "$n" "$in" "$deface" "$in" -o "$WORK/deface.mp4" --backend onnxrt --scale 640x360; fi
  done
done
fi

if step distant; then
# Distant faces (issue 14): real photographs of people with faces of 18-48 px over the real
# vtest street scene, 1080p, 60 frames (crates/veil-redact/examples/distant_clip.rs). Veil
# (default, and coarse-only) against deface --scale 640x360: fps over rounds, then face recall
# by face height of the last output of each.
echo "bench: distant faces, $RUNS_EXPORT rounds" >&2
in=$WORK/distant1080.mp4
[ -s "$in" ] || "$EX/distant_clip" "$in" "$WORK/distant1080.json" 60
for round in $(seq 1 "$RUNS_EXPORT"); do
  run distant.jsonl throughput veil one-shot 1080p "$in" "$EX/redact" --force export "$in" -o "$WORK/d-veil.mp4" --keep-none
  run distant.jsonl throughput veil full-faces 1080p "$in" "$EX/redact" --force export "$in" -o "$WORK/d-full.mp4" --keep-none --changes-only 0
  run distant.jsonl throughput veil coarse-only 1080p "$in" "$EX/redact" --force export "$in" -o "$WORK/d-coarse.mp4" --keep-none $COARSE
  if have_deface; then run distant.jsonl throughput deface 640x360 1080p "$in" "$deface" "$in" -o "$WORK/d-deface.mp4" --backend onnxrt --scale 640x360; fi
done
for t in veil:one-shot:d-veil full:full-faces:d-full coarse:coarse-only:d-coarse deface:640x360:d-deface; do
  IFS=: read -r tool config out <<<"$t"
  if [ "$tool" = deface ] && ! have_deface; then continue; fi
  case $tool in coarse | full) tool=veil ;; esac
  r=$("$EX/face_recall" "$in" "$WORK/$out.mp4" "$WORK/distant1080.json")
  python3 - "$tool" "$config" "$r" >>"$RESULTS/distant.jsonl" <<'PY'
import json, re, sys
tool, config, r = sys.argv[1:]
m = re.search(r"face recall ([0-9.]+) \((\d+)/(\d+)", r)
s = re.search(r"by size (\{.*\})", r)
print(json.dumps({"kind": "recall", "tool": tool, "config": config, "clip": "1080p", "recall": float(m[1]),
                  "hidden": int(m[2]), "faces": int(m[3]), "by_size": json.loads(s[1])}))
PY
  echo "  distant $tool $config: $r" >&2
done
fi
