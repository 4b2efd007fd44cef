#!/usr/bin/env bash
# Demo of Veil's capture-time zone masking on real CCTV footage (OpenCV's vtest clip):
# builds the `redact` CLI in release mode and masks the housing corporation's zones
# (doors, windows, public road) in every frame of fixtures/vtest.mp4, into out/.
# Then a full inzage export: analysis (tracks + contact sheet), export keeping one pedestrian,
# manifest and audit-log entry. Called by `make demo` (after `make setup`). The demo replaces
# its own earlier outputs in out/ (--force); real exports never replace a file silently.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
mkdir -p out

echo "demo: building the redact CLI (release)" >&2
"$CARGO" build --release --quiet --example redact
target_dir=$("$CARGO" metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
redact="$target_dir/release/examples/redact"

echo "demo: masking the zones of fixtures/vtest-zones.toml in fixtures/vtest.mp4" >&2
"$redact" --force mask fixtures/vtest.mp4 --zones fixtures/vtest-zones.toml -o out/vtest-masked.mp4

# One still of the masked output, to look at without a video player.
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -ss 3 -i out/vtest-masked.mp4 -frames:v 1 out/vtest-masked-3s.png
fi

echo "demo: zone preview: the frame at 2 s masked as recorded, each zone outlined and labelled" >&2
"$redact" --force zones preview fixtures/vtest.mp4 --zones fixtures/vtest-zones.toml --at 2 -o out/vtest-zones-preview.png

echo "demo: inzage export: analyse the first 8 s (tracks + contact sheet), keep the pedestrian" >&2
echo "      at (660, 280) at 0 s, redact every other person and the zones, log the export" >&2
"$redact" --force analyze fixtures/vtest.mp4 --to 8 -o out/vtest-tracks.json --sheet out/vtest-sheet.png
rm -f out/audit.jsonl
"$redact" --force export fixtures/vtest.mp4 --to 8 --tracks out/vtest-tracks.json --keep-at 0@660,280 \
  --zones fixtures/vtest-zones.toml -o out/vtest-inzage.mp4 --manifest out/vtest-inzage.manifest.json \
  --review out/vtest-review.png \
  --audit-log out/audit.jsonl --actor demo --reason "inzage request, demo" --basis inzage:DEMO-1 \
  --recording-start 2026-03-01T09:00:00Z
"$redact" audit verify out/audit.jsonl
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -ss 2 -i out/vtest-inzage.mp4 -frames:v 1 out/vtest-inzage-2s.png
fi

echo
echo "Masked video:   $(pwd)/out/vtest-masked.mp4"
[ -f out/vtest-masked-3s.png ] && echo "Still at 3 s:   $(pwd)/out/vtest-masked-3s.png"
echo "Zones:          $(pwd)/fixtures/vtest-zones.toml"
echo "Zone preview:   $(pwd)/out/vtest-zones-preview.png"
echo "Inzage export:  $(pwd)/out/vtest-inzage.mp4"
[ -f out/vtest-inzage-2s.png ] && echo "Still at 2 s:   $(pwd)/out/vtest-inzage-2s.png"
echo "Manifest:       $(pwd)/out/vtest-inzage.manifest.json"
echo "Contact sheet:  $(pwd)/out/vtest-sheet.png"
echo "Review strip:   $(pwd)/out/vtest-review.png"
echo "Tracks:         $(pwd)/out/vtest-tracks.json"
echo "Audit log:      $(pwd)/out/audit.jsonl"
