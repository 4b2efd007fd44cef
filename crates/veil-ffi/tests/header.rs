//! The committed `include/veil.h` must be exactly what the pinned cbindgen generates from
//! the sources: a stale header would let C callers compile against an ABI that no longer
//! exists. `VEIL_REGENERATE=1 cargo test -p veil-ffi --test header` rewrites it.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);

    let path = crate_dir.join("include").join("veil.h");
    let committed = std::fs::read(&path).unwrap_or_default();
    if std::env::var_os("VEIL_REGENERATE").is_some_and(|v| v == "1") {
        if committed != fresh {
            // temp file beside the destination + rename: never a half-written header
            veil_core::fsutil::write_atomic(&path, &fresh).expect("replace include/veil.h");
        }
        return;
    }
    assert!(
        committed == fresh,
        "include/veil.h is out of date with the Rust sources; regenerate it with\n    \
         VEIL_REGENERATE=1 cargo test -p veil-ffi --test header\nand commit the result.\n\
         --- fresh header ---\n{}",
        String::from_utf8_lossy(&fresh)
    );
}
