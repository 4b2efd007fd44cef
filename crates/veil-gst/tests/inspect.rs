//! The plugin as GStreamer's loader sees it: `gst-inspect-1.0 veilmask` with
//! `GST_PLUGIN_PATH` at the build directory (as the README shows) finds the element in
//! `libgstveil.so` and lists its properties and caps.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

mod support;
use support::build_plugin;

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
