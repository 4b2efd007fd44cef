#!/usr/bin/env bash
# Demo of Veil's capture-time zone masking on real CCTV footage (OpenCV's vtest clip):
# builds the `redact` CLI in release mode and masks the housing corporation's zones
# (doors, windows, public road) in every frame of fixtures/vtest.mp4, into out/.
# Called by `make demo` (after `make setup`); later steps of the demo are added below.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
mkdir -p out

echo "demo: building the redact CLI (release)" >&2
"$CARGO" build --release --quiet --example redact
target_dir=$("$CARGO" metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
redact="$target_dir/release/examples/redact"

echo "demo: masking the zones of fixtures/vtest-zones.toml in fixtures/vtest.mp4" >&2
"$redact" mask fixtures/vtest.mp4 --zones fixtures/vtest-zones.toml -o out/vtest-masked.mp4

# One still of the masked output, to look at without a video player.
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -ss 3 -i out/vtest-masked.mp4 -frames:v 1 out/vtest-masked-3s.png
fi

echo
echo "Masked video: $(pwd)/out/vtest-masked.mp4"
[ -f out/vtest-masked-3s.png ] && echo "Still at 3 s: $(pwd)/out/vtest-masked-3s.png"
echo "Zones:        $(pwd)/fixtures/vtest-zones.toml"
