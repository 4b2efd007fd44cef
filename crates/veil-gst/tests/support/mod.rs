//! What the veilmask tests share (`mod support;` in each): GStreamer and the plugin set up
//! once, the test zones, and the plugin built as the file GStreamer loads.
#![allow(dead_code, unused_macros, unused_imports, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// Three zones for camera `$id`, deterministic styles (solid, pixelate, weak blur), one of
/// them concave: every kernel runs.
macro_rules! zones {
    ($id:literal) => {
        concat!(
            "\n[camera]\nid = \"",
            $id,
            r#""
purposes = ["safety"]
responsible = "FM"

[[zones]]
kind = "dwelling-door"
label = "door"
polygon = [[0.05, 0.10], [0.30, 0.10], [0.30, 0.60], [0.20, 0.35], [0.05, 0.60]]

[[zones]]
kind = "dwelling-window"
label = "window"
polygon = [[0.40, 0.05], [0.95, 0.05], [0.95, 0.45], [0.40, 0.45]]
style = "pixelate"
block = 8

[[zones]]
kind = "public-road"
label = "road"
polygon = [[0.0, 0.70], [1.0, 0.65], [1.0, 0.95], [0.0, 0.98]]
style = "weak-blur"
radius = 3
"#
        )
    };
}
pub(crate) use zones;

/// GStreamer initialised and the plugin registered, once per test binary.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstveil::plugin_register_static().unwrap();
    });
}

/// Build the plugin (`cargo build -p veil-gst --lib`, this test binary's profile and target
/// directory) and return the directory holding `libgstveil.so`.
///
/// `cargo test` builds only the rlib its tests link; the cdylib, the file GStreamer loads,
/// is built by `cargo build`. Cargo releases its lock on the target directory before it runs
/// tests, so this nested build does not wait on the outer one.
pub fn build_plugin() -> PathBuf {
    // this binary lives in <target-dir>/<profile>/deps/
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()).unwrap() {
        "debug" => "dev",
        other => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "veil-gst",
            "--lib",
            "--profile",
            profile,
            "--target-dir",
        ])
        .arg(target_dir)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p veil-gst failed: {status}");
    let so = profile_dir.join("libgstveil.so");
    assert!(so.is_file(), "{} not found after building", so.display());
    profile_dir
}
