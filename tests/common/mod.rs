//! Helpers shared by the CLI integration tests: locate the `redact` example binary that
//! `cargo test` builds, scratch directories, running the CLI.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A command's standard error, as text (for assertion messages and reasons).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Names of the files in `dir`, sorted (hidden staging files included).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
/// The OpenCV "vtest" clip (768x576, 10 fps) and its zone file.
pub fn vtest() -> PathBuf {
    root().join("fixtures/vtest.mp4")
}
pub fn vtest_zones() -> PathBuf {
    root().join("fixtures/vtest-zones.toml")
}
pub fn redact_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/mask_cli-<hash>
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let bin = profile_dir
            .join("examples")
            .join(format!("redact{}", std::env::consts::EXE_SUFFIX));
        if bin.exists() {
            return bin;
        }
        let target = profile_dir.join("mask-cli-build");
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .args(["build", "--example", "redact", "--manifest-path"])
            .arg(root().join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("run cargo to build the redact example");
        assert!(status.success(), "building the redact example failed");
        target
            .join("debug/examples")
            .join(format!("redact{}", std::env::consts::EXE_SUFFIX))
    })
}

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn redact(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(redact_bin()).args(args).output().unwrap()
}

/// Mount a tmpfs of `size` (e.g. `"64k"`) on `dir`, for the full-disk tests. The README says
/// these tests run: as root (as `make test` runs on a fresh machine and in CI) a mount that
/// fails is a test failure, not a silent skip. Elsewhere the test is skipped, and the skip is
/// written straight to stderr (not through the test harness, which would hide it).
pub fn mount_tmpfs(dir: &Path, size: &str, test: &str) -> bool {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        !root,
        "{test}: cannot mount a tmpfs although running as root; the full-disk test must run here"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: cannot mount a tmpfs here (needs root)"
    );
    false
}
