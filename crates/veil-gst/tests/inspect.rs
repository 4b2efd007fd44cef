//! The plugin as GStreamer's loader sees it: `gst-inspect-1.0 veilmask` with
//! `GST_PLUGIN_PATH` at the build directory (as the README shows) finds the element in
//! `libgstveil.so` and lists its properties and caps.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Build the plugin (`cargo build -p veil-gst --lib`, this test binary's profile and target
/// directory) and return the directory holding `libgstveil.so`.
///
/// `cargo test` builds only the rlib its tests link; the cdylib, the file GStreamer loads,
/// is built by `cargo build`. Cargo releases its lock on the target directory before it runs
/// tests, so this nested build does not wait on the outer one.
fn build_plugin() -> PathBuf {
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

#[test]
fn gst_inspect_finds_veilmask_in_the_build_directory() {
    let dir = build_plugin();
    let registry: PathBuf = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("veil-gst-registry.bin");
    let out = Command::new("gst-inspect-1.0")
        .arg("veilmask")
        .env("GST_PLUGIN_PATH", &dir)
        .env("GST_REGISTRY", &registry)
        .output()
        .expect("gst-inspect-1.0 (make setup installs gstreamer1.0-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "libgstveil.so",
        "Veil zone mask",
        "zones",
        "config",
        "style-override",
        "fail-closed",
        "allow-empty",
        "GstBaseTransform",
        "I420",
        "NV12",
        "BGRx",
        "GRAY8",
    ] {
        assert!(
            text.contains(needle),
            "gst-inspect output lacks {needle:?}:\n{text}"
        );
    }
}
