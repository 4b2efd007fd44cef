#!/usr/bin/env bash
# make bench: records the machine and the versions of everything measured ($RESULTS/env.json);
# `env.sh end` adds the load average at the end.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# the commit measured, and the tracked files that differed from it (none on a clean tree;
# the benchmark's own outputs do not count, see tracked_changes)
changed() { tracked_changes | wc -l; }
commit() {
  local c
  c=$(git rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  if [ "$(changed)" != 0 ]; then echo "$c-dirty"; else echo "$c"; fi
}
if [ "${1:-start}" = end ]; then
  emit env.json load_end="$(cut -d' ' -f1-3 /proc/loadavg)" \
    veil_end="$(commit)" changed_end="$(changed)"
  exit 0
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|neon' | tr '\n' ' ' || true)
ort=$(ls /usr/local/lib/veil/libonnxruntime.so.* "$HOME"/.local/lib/veil/libonnxruntime.so.* 2>/dev/null | head -1 | sed "s/.*\.so\.//" || true)
emit env.json \
  date="$(date -u +%Y-%m-%dT%H:%MZ)" \
  cpu="$cpu" cores="$(nproc)" simd="${flags% }" \
  memory_gib="$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
  kernel="$(uname -sr)" os="$(. /etc/os-release && echo "$PRETTY_NAME")" \
  rustc="$(rustc -V)" veil="$(commit)" changed="$(changed)" \
  ffmpeg="$(ffmpeg -version | head -1 | cut -d' ' -f1-3)" \
  libx264="$(dpkg-query -W -f='${Package} ${Version}' 'libx264-*' 2>/dev/null | head -1)" \
  onnxruntime="${ort:-unknown}" \
  opencv="$("$VENV/bin/python" -c 'import cv2; print(cv2.__version__)')" \
  deface="$("$DEFACE_VENV/bin/pip" show deface 2>/dev/null | awk '/^Version/ { print $2 }' || true)" \
  deface_onnxruntime="$("$DEFACE_VENV/bin/pip" show onnxruntime 2>/dev/null | awk '/^Version/ { print $2 }')" \
  load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
