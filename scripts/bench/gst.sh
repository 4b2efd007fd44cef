#!/usr/bin/env bash
# make bench, step: the GStreamer element. `veilmask` against `identity` in the same harness
# pipeline (source ! ELEMENT ! sink), one 1080p I420 buffer pushed and pulled back again and
# again (writable: masked in place), the zones of scripts/bench/zones.toml (~15% of the frame)
# in each style; next to veil-core's CaptureMasker::apply on the same layout and a memset of
# the masked bytes, all timed as the calling thread's CPU time (robust on a loaded machine).
# Criterion bench crates/veil-gst/benches/element.rs; results as JSON lines
# in $RESULTS/gst.jsonl, and a summary on stderr:
#   element = veilmask - identity (the harness's push/pull paid by both),
#   goal: element within 10% of core, and solid at most 2x memset.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

stamp="$WORK/gst.stamp"; touch "$stamp"
echo "bench: criterion: cargo bench -p veil-gst --bench element" >&2
if ! cargo bench -p veil-gst --bench element -- --noplot ${CRITERION_ARGS:-} >"$WORK/criterion-gst.log" 2>&1; then
  tail -20 "$WORK/criterion-gst.log" >&2
  exit 1
fi
python3 scripts/bench/criterion_json.py "$CARGO_TARGET_DIR/criterion" "$stamp" | grep '"group": "gst"' >"$RESULTS/gst.jsonl"
python3 - "$RESULTS/gst.jsonl" <<'PY' >&2
import json, sys
rows = {r["id"]: r["median_ns"] / 1000 for r in map(json.loads, open(sys.argv[1]))}
ident = rows["gst/1080p/I420/identity"]
print(f"  identity (harness push + pull): {ident:.1f} us")
for style in ("solid", "pixelate", "blur"):
    el, core = rows[f"gst/1080p/I420/{style}/veilmask"], rows[f"gst/1080p/I420/{style}/core"]
    extra = f", {(el - ident) / rows['gst/1080p/I420/solid/memset']:.2f}x memset" if style == "solid" else ""
    print(f"  {style}: veilmask {el:.1f} us, element {el - ident:.1f} us, core {core:.1f} us "
          f"({(el - ident) / core:.3f}x core{extra})")
PY
