#!/usr/bin/env bash
# Idempotent setup: installs what Veil needs and is missing, from the package registries only.
#  - Debian packages: FFmpeg dev libraries (veil-video), clang/libclang (bindgen), pkg-config,
#    ffmpeg CLI (benchmarks, tests), opencv-doc (the vtest.avi source footage).
#  - ONNX Runtime 1.31.1: the shared library out of the onnxruntime wheel on PyPI, unpacked to
#    $VEIL_ORT_DIR (default /usr/local/lib/veil as root, ~/.local/lib/veil otherwise), where
#    veil-detect looks for it when ORT_DYLIB_PATH is not set.
set -euo pipefail

ORT_VERSION=1.31.1
DEB_PACKAGES=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev clang libclang-dev pkg-config ffmpeg unzip)
# The C ABI tests run the C programs under Valgrind too (crates/veil-ffi/tests/c_abi.rs).
DEB_PACKAGES+=(valgrind)
# veil-gst (the GStreamer plugin): Debian 12's GStreamer 1.22 development packages to build it,
# and what its tests, bench and the README's pipelines run: decodebin/videoconvert (base),
# mp4mux (good), x264enc (ugly), avdec_h264 (libav), gst-launch-1.0 and gst-inspect-1.0 (tools).
GST_PACKAGES=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools)
# `redact record` tests: a real RTSP server on loopback (GStreamer's, driven from Python by
# tests/support/rtsp_server.py; rtph264pay and qtdemux are in -good, h264parse in -bad).
RTSP_TEST_PACKAGES=(python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
# Encrypted recording: the tests decrypt a segment with the standard `age` tool (Debian 12: 1.1.1).
RTSP_TEST_PACKAGES+=(age)
# The zone editor's browser test (tests/zones_cli.rs) drives Debian's headless Chromium
# through chromedriver.
BROWSER_PACKAGES=(chromium chromium-driver)

missing=()
for p in "${DEB_PACKAGES[@]}" "${GST_PACKAGES[@]}" "${RTSP_TEST_PACKAGES[@]}" "${BROWSER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root or install them): ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$(id -u)" = 0 ]; then default_dir=/usr/local/lib/veil; else default_dir="$HOME/.local/lib/veil"; fi
ORT_DIR="${VEIL_ORT_DIR:-$default_dir}"
lib="$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
if [ ! -s "$lib" ]; then
  echo "setup: fetching ONNX Runtime $ORT_VERSION (PyPI wheel) into $ORT_DIR" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 -d "$tmp" "onnxruntime==$ORT_VERSION"
  whl=$(ls "$tmp"/onnxruntime-*.whl)
  unzip -q -o -j "$whl" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$tmp/lib"
  mkdir -p "$ORT_DIR"
  mv -f "$tmp/lib/libonnxruntime.so.$ORT_VERSION" "$lib.tmp"
  mv -f "$lib.tmp" "$lib"
fi
ln -sfn "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"

# cargo-deny for `make test` (licences and bans of the dependency graph, deny.toml), from
# crates.io through cargo, only when missing.
if ! cargo deny --version >/dev/null 2>&1; then
  echo "setup: installing cargo-deny (cargo install --locked)" >&2
  cargo install --locked cargo-deny
fi
