//! Helpers shared by the CLI integration tests: locate the `redact` example binary that
//! `cargo test` builds, scratch directories, running the CLI.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

/// The environment variable that lets the full-disk tests be skipped where no tmpfs can be
/// mounted (not root, a container without the capability). Without it such a test fails
/// with the reason: a test that passes without running proves nothing.
pub const SKIP_FULL_DISK: &str = "VEIL_SKIP_FULL_DISK_TESTS";

/// Mount a tmpfs of `size` (e.g. `"64k"`) on `dir`, for the full-disk tests. They run as root
/// (as `make test` runs on a fresh machine and in CI). A mount that fails is a test failure
/// naming the reason, unless [`SKIP_FULL_DISK`] is set to `1`: then `false` is returned and
/// the skip is written straight to stderr (not through the test harness, which would hide it).
pub fn mount_tmpfs(dir: &Path, size: &str, test: &str) -> bool {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    let reason = match &out {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!(
            "mount: {} {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("cannot run mount: {e}"),
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let why = format!(
        "{test}: cannot mount a {size} tmpfs on {} ({reason}){}",
        dir.display(),
        if root {
            ""
        } else {
            "; the full-disk tests need root"
        }
    );
    assert!(
        std::env::var(SKIP_FULL_DISK).as_deref() == Ok("1"),
        "{why}. The test did not run; set {SKIP_FULL_DISK}=1 to skip it explicitly"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED ({SKIP_FULL_DISK}=1) {why}");
    false
}

/// A child process killed (and reaped) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The fixture, looped, in real time, as MPEG-TS over HTTP (one client, then it exits).
pub fn http_source(port: u16) -> Proc {
    let child = Command::new("ffmpeg")
        .args(["-v", "quiet", "-re", "-stream_loop", "-1", "-i"])
        .arg(vtest())
        .args(["-c", "copy", "-f", "mpegts", "-listen", "1"])
        .arg(format!("http://127.0.0.1:{port}/cam.ts"))
        .stdin(Stdio::null())
        .spawn()
        .expect("the ffmpeg command-line tool (installed by scripts/setup.sh)");
    Proc(child)
}

/// Whether this machine has no /dev/dri render node (what VAAPI and QSV open).
pub fn no_render_node() -> bool {
    std::fs::read_dir("/dev/dri").map_or(true, |d| {
        !d.filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Whether this machine has no GPU a hardware encoder or decoder could use: no /dev/dri
/// render node and no NVIDIA device (the checks that need their absence run only then).
pub fn no_gpu() -> bool {
    no_render_node() && !Path::new("/dev/nvidiactl").exists()
}

/// Record the bundled clip as a site for 4 s: one zone file per `(id, keys)` in `dir/cams`
/// (the vtest zones under that id, its `[camera]` table recording the clip in 5 s segments
/// at preset ultrafast, plus `keys`), `redact record --cameras` into `dir/rec` with the audit
/// log `dir/audit.jsonl`. The command's output and the recordings' directory.
pub fn record_site(dir: &Path, cameras: &[(&str, &str)]) -> (Output, PathBuf) {
    let cams = dir.join("cams");
    std::fs::create_dir_all(&cams).unwrap();
    let zones = std::fs::read_to_string(vtest_zones()).unwrap();
    for (id, keys) in cameras {
        let table = format!(
            "[camera]\nurl = \"{}\"\nsegment = \"5s\"\npreset = \"ultrafast\"\n{keys}",
            vtest().display()
        );
        let text = zones
            .replacen("id = \"vtest-courtyard\"", &format!("id = \"{id}\""), 1)
            .replacen("[camera]\n", &table, 1);
        std::fs::write(cams.join(format!("{id}.toml")), text).unwrap();
    }
    let rec = dir.join("rec");
    let out = Command::new(redact_bin())
        .args(["record", "--cameras"])
        .arg(&cams)
        .arg("--dir")
        .arg(&rec)
        .arg("--audit-log")
        .arg(dir.join("audit.jsonl"))
        .args(["--actor", "recorder@test", "--for", "4s"])
        .output()
        .unwrap();
    (out, rec)
}
