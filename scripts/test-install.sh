#!/usr/bin/env bash
# `make install` as a user would run it, then Veil used with no checkout reachable:
#  1. copy this checkout, `make install PREFIX=<tmp>/prefix` from the copy, delete the copy;
#  2. from another working directory: the installed `redact export` on a fixture (models found
#     next to the executable), refusal to overwrite and --force, --progress-json lines parse,
#     and a clear error listing every place looked at once the installed models are gone;
#  3. C programs built with `pkg-config --cflags --libs veil` against the installed library
#     (shared, through the versioned soname, and static) and run, the detection one finding
#     the installed models by itself;
#  4. `make uninstall` leaves nothing behind.
# The build reuses this checkout's target directory (only Veil's own crates are rebuilt).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/veil-install-test.XXXXXX")
# The copy's build shares this checkout's target directory and leaves its own binaries at
# target/release/{examples/redact,libveil.so} (they name the deleted copy): touching the same
# file here makes this checkout's next build relink its own (e.g. `make demo` after `make test`).
trap 'rm -rf "$work"; touch "$root/crates/veil-detect/src/model.rs"' EXIT
src=$work/src
prefix=$work/prefix
run=$work/run
fail() { echo "test-install: FAILED: $*" >&2; exit 1; }
step() { echo "test-install: $*" >&2; }

# 1. Install from a copy, then delete the copy.
mkdir -p "$src" "$run"
tar -C "$root" --exclude=./target --exclude=./.git --exclude='./fuzz/target' -cf - . | tar -C "$src" -xf -
# The copy's files keep their times, so cargo would reuse this checkout's build, whose
# compiled-in checkout path (veil-detect's fallback models/) is this checkout. Touching that
# file rebuilds veil-detect and what depends on it from the copy: the installed programs
# then know only the copy, deleted below.
touch "$src/crates/veil-detect/src/model.rs"
step "make install PREFIX=$prefix (from a copy of the checkout)"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" make -C "$src" --no-print-directory install PREFIX="$prefix" >&2
grep -qF "$src/crates/veil-detect/../.." "$prefix/bin/redact" || fail "redact was not built from the copy"
grep -qF "$root/crates/veil-detect/../.." "$prefix/bin/redact" "$prefix/lib/libveil.so.0" \
  && fail "the installed programs name this checkout"
rm -rf "$src"
for f in bin/redact lib/libveil.a lib/libveil.so.0 include/veil.h lib/pkgconfig/veil.pc \
    share/veil/models/manifest.tsv share/man/man1/redact.1 share/man/man1/redact-export.1 \
    share/bash-completion/completions/redact share/zsh/site-functions/_redact \
    share/fish/vendor_completions.d/redact.fish lib/systemd/system/veil-recorder.service; do
  [ -e "$prefix/$f" ] || fail "$prefix/$f was not installed"
done
[ "$(readlink "$prefix/lib/libveil.so")" = libveil.so.0 ] || fail "libveil.so is not a link to libveil.so.0"
soname=$(readelf -d "$prefix/lib/libveil.so.0" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libveil.so.0 ] || fail "soname is '$soname', expected libveil.so.0"
grep -q '^\.TH' "$prefix/share/man/man1/redact.1" || fail "redact.1 is not a man page"
grep -q 'VEIL_MODELS_DIR' "$prefix/share/man/man1/redact.1" || fail "redact.1 does not document the environment"
bash -n "$prefix/share/bash-completion/completions/redact" || fail "the bash completion does not parse"
# The recorder's unit runs the installed redact, restarted on failure.
grep -qx "ExecStart=$prefix/bin/redact record --cameras .*" "$prefix/lib/systemd/system/veil-recorder.service" \
  || fail "veil-recorder.service does not run $prefix/bin/redact record --cameras"
grep -qx 'Restart=on-failure' "$prefix/lib/systemd/system/veil-recorder.service" || fail "veil-recorder.service: no Restart=on-failure"

# Nothing may point into a checkout: no VEIL_MODELS_DIR, an empty XDG data home, and the
# fixtures copied out of the checkout first.
unset VEIL_MODELS_DIR
export XDG_DATA_HOME=$work/xdg
cp "$root/fixtures/vtest.mp4" "$root/fixtures/images/astronaut.jpg" "$run/"
cd "$run"
redact=$prefix/bin/redact

# 2. The installed CLI.
step "installed redact export, from $run"
"$redact" -q --progress-json export vtest.mp4 --to 2 --keep-none -o out.mp4 2> progress.jsonl \
  || { cat progress.jsonl >&2; fail "redact export failed"; }
[ -s out.mp4 ] && [ -s out.mp4.manifest.json ] || fail "no export or manifest"
python3 - out.mp4.manifest.json progress.jsonl <<'EOF' || fail "manifest or progress lines wrong"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["counts"]["frames"] == 20, m["counts"]          # vtest.mp4 is 10 fps; --to 2
assert m["output"]["path"] == "out.mp4", m["output"]     # the published name, not a staging file
assert sorted(r["name"] for r in m["models"]) == ["centerface", "nanodet"], m["models"]
lines = [json.loads(l) for l in open(sys.argv[2])]       # -q: every stderr line is JSON
ends = [l for l in lines if l["done"]]
assert [(l["stage"], l["step"], l["steps"]) for l in ends] == [("analysis", 1, 2), ("export", 2, 2)], ends
assert all(l["frame"] == l["frames"] == 20 for l in ends), ends
assert all(isinstance(l["fps"], (int, float)) for l in lines), lines
EOF
out_sum=$(sha256sum < out.mp4)
man_sum=$(sha256sum < out.mp4.manifest.json)

step "refusal to overwrite, and --force"
set +e
"$redact" export vtest.mp4 --to 1 --keep-none -o out.mp4 2> refused.txt
rc=$?
set -e
[ "$rc" = 1 ] || fail "overwriting export exited with $rc, expected 1"
[ "$(wc -l < refused.txt)" = 1 ] && grep -q '^error: out.mp4: already exists' refused.txt \
  || { cat refused.txt >&2; fail "refusal is not one error: line naming out.mp4"; }
[ "$(sha256sum < out.mp4)" = "$out_sum" ] && [ "$(sha256sum < out.mp4.manifest.json)" = "$man_sum" ] \
  || fail "the refused export changed the existing files"
[ -z "$(find . -name '.*' -type f)" ] || fail "staging files left behind: $(find . -name '.*' -type f)"
"$redact" -q --force export vtest.mp4 --to 1 --keep-none -o out.mp4
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["counts"]["frames"] == 10' out.mp4.manifest.json \
  || fail "--force did not replace the export"

if [ -e /usr/local/share/veil/models/manifest.tsv ] || [ -e /usr/share/veil/models/manifest.tsv ]; then
  step "note: models installed system-wide; skipping the missing-models check"
else
  step "installed models gone: the error lists every place looked at"
  mv "$prefix/share/veil/models" "$work/models.away"
  set +e
  "$redact" export vtest.mp4 --to 1 --keep-none -o gone.mp4 2> gone.txt
  rc=$?
  set -e
  mv "$work/models.away" "$prefix/share/veil/models"
  [ "$rc" = 1 ] && [ ! -e gone.mp4 ] || fail "export without models: exit $rc"
  for p in "$prefix/share/veil/models" "$XDG_DATA_HOME/veil/models" /usr/local/share/veil/models /usr/share/veil/models; do
    grep -qF "$p" gone.txt || { cat gone.txt >&2; fail "the error does not name $p"; }
  done
  grep -qF "$root" gone.txt && fail "the error names the checkout: $(cat gone.txt)"
fi

# 3. C programs against the installed library, through pkg-config. They are built into
# <prefix>/libexec/ so that the library's default models lookup (<exe dir>/../share/veil/models)
# finds the installed models with nothing configured.
step "C programs built with pkg-config against the installed libveil"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc=${CC:-cc}
mkdir -p "$prefix/libexec" "$work/c"
cp "$root"/crates/veil-ffi/tests/c/{masking.c,detect.c,check.h} "$work/c/"
ffmpeg -v error -i astronaut.jpg -f rawvideo -pix_fmt rgb24 astronaut.rgb
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x astronaut.jpg)
cflags="-std=c11 -Wall -Wextra -Werror -Wpedantic"
for prog in masking detect; do
  # shared: -lveil resolves to libveil.so, the program records libveil.so.0
  # shellcheck disable=SC2046,SC2086
  "$cc" $cflags "$work/c/$prog.c" -o "$prefix/libexec/$prog-shared" \
    $(pkg-config --cflags --libs veil) -Wl,-rpath,"$prefix/lib"
  readelf -d "$prefix/libexec/$prog-shared" | grep -q 'NEEDED.*\[libveil.so.0\]' \
    || fail "$prog-shared does not link libveil.so.0"
  # static: libveil.a plus what pkg-config --static lists for it
  # shellcheck disable=SC2046,SC2086
  "$cc" $cflags "$work/c/$prog.c" -o "$prefix/libexec/$prog-static" $(pkg-config --cflags veil) \
    -Wl,-Bstatic $(pkg-config --libs-only-L veil) -lveil -Wl,-Bdynamic \
    $(pkg-config --static --libs veil | tr ' ' '\n' | grep -vx -- '-lveil')
done
for link in shared static; do
  "$prefix/libexec/masking-$link" || fail "masking-$link failed"
  "$prefix/libexec/detect-$link" astronaut.rgb "${size%x*}" "${size#*x}" || fail "detect-$link failed"
done

# 4. Uninstall.
step "make uninstall"
make -C "$root" --no-print-directory uninstall PREFIX="$prefix" >&2
rm -rf "$prefix/libexec"
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"
step "ok"
