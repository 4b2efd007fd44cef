//! Compiles the C programs in `tests/c/` against the freshly built `libveil.a` and
//! `libveil.so` and runs them: the C ABI is tested from C, as vendors use it.
//!
//! Cargo builds the C libraries for this test with the test's features ([`lib_dir`]). The
//! programs that need a feature (detection, exports, disclosures) run only with it; the
//! others are compiled with `-DVEIL_NO_DEFAULT_FEATURES` when the library lacks `detect`
//! and `export`, so that they prove the masking-only library and its header work alone.
//! The compiler is `$CC` or `cc`; each program is built with
//! `-std=c11 -Wall -Wextra -Werror -Wpedantic`, plus `-fsanitize=address,undefined` when
//! the toolchain supports it, linked both statically and dynamically, and run; a plain
//! static build also runs under Valgrind memcheck (installed by `make setup`; its absence is a
//! failure unless VEIL_NO_VALGRIND=1).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory holding `libveil.a`, `libveil.so` and `libveil.so.<major>` for this test
/// run: links, made once per process, to the C libraries cargo built for this test binary.
///
/// The Rust library is `veil_ffi` with an rlib, so cargo builds it, with this test's
/// features, before this binary, in one rustc run that also writes the C libraries
/// `libveil_ffi.so` and `libveil_ffi.a` into `<target-dir>/<profile>/deps/`, beside this
/// binary (for tests, cargo does not copy them up to `<profile>/`, where build.rs links them
/// as `libveil.*` for a normal build). The links give them the names vendors use: `-lveil`,
/// and the soname `libveil.so.<major>` the programs record (set by build.rs).
fn lib_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(link_library)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn link_library() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("path of the test binary: {e}"))?;
    let deps = exe.parent().ok_or("test binary has no directory")?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_abi-lib");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let so_major = concat!("libveil.so.", env!("CARGO_PKG_VERSION_MAJOR"));
    for (link, built) in [
        ("libveil.a", "libveil_ffi.a"),
        ("libveil.so", "libveil_ffi.so"),
        (so_major, "libveil_ffi.so"),
    ] {
        let built = deps.join(built);
        if !built.is_file() {
            return Err(format!(
                "{} not found: cargo builds it for this test (crate-type cdylib/staticlib)",
                built.display()
            ));
        }
        // Replace through a temporary name: several test processes may run at once.
        let tmp = dir.join(format!("{link}.{}.tmp", std::process::id()));
        let link = dir.join(link);
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&built, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &link).map_err(|e| format!("{}: {e}", link.display()))?;
    }
    Ok(dir)
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_abi").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

fn compiler() -> String {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    match Command::new(&cc).arg("--version").output() {
        Ok(out) if out.status.success() => cc,
        Ok(out) => panic!(
            "C compiler `{cc}` does not work: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("C compiler `{cc}` not found ({e}): install gcc (or set CC) to run the C ABI tests"),
    }
}

/// Whether `cc` can build and run a program with ASan + UBSan here (probed once).
fn sanitizers_work(cc: &str) -> bool {
    static WORK: OnceLock<bool> = OnceLock::new();
    *WORK.get_or_init(|| probe_sanitizers(cc))
}

fn probe_sanitizers(cc: &str) -> bool {
    let dir = scratch("sanitizer-probe");
    let src = dir.join("probe.c");
    let exe = dir.join("probe");
    std::fs::write(&src, "int main(void) { return 0; }\n").expect("write probe");
    let built = Command::new(cc)
        .args(["-fsanitize=address,undefined", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    built && Command::new(&exe).status().is_ok_and(|s| s.success())
}

/// FFmpeg's libraries, for linking `libveil.a` (the shared library records them itself).
const FFMPEG_LIBS: [&str; 7] = [
    "-lavformat",
    "-lavfilter",
    "-lavdevice",
    "-lavcodec",
    "-lswscale",
    "-lswresample",
    "-lavutil",
];

#[derive(Clone, Copy, Debug)]
enum Link {
    Static,
    Shared,
}

/// How a test program is checked at run time.
#[derive(Clone, Copy, Debug)]
enum Check {
    /// Built with ASan + UBSan (when the toolchain supports them), leak checking on.
    Sanitizers,
    /// Built plainly and run under Valgrind memcheck.
    Valgrind,
}

/// Compile `tests/c/<name>.c` and link it against the library; returns the executable.
fn build(name: &str, link: Link, check: Check) -> PathBuf {
    let cc = compiler();
    let libs = lib_dir();
    let dir = scratch(&format!("{name}-{link:?}-{check:?}"));
    let exe = dir.join(name);
    let mut cmd = Command::new(&cc);
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-g"]);
    if matches!(check, Check::Sanitizers) {
        if sanitizers_work(&cc) {
            cmd.args([
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
            ]);
        } else {
            eprintln!("note: {cc} cannot build with -fsanitize=address,undefined here; testing without");
        }
    }
    if !cfg!(feature = "detect") {
        // The header must describe this library: without the features, their declarations
        // go (a call to one would not compile).
        cmd.arg("-DVEIL_NO_DEFAULT_FEATURES");
    }
    cmd.arg("-I")
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join("tests").join("c").join(format!("{name}.c")))
        .arg("-o")
        .arg(&exe);
    match link {
        // The system libraries a Rust staticlib needs, as documented in the README: FFmpeg's
        // (with the export feature: veil-redact decodes and encodes through it;
        // `--print native-static-libs` lists them) and libc's. ONNX Runtime is loaded at run
        // time (dlopen), not linked.
        Link::Static => cmd
            .arg(libs.join("libveil.a"))
            .args(if cfg!(feature = "export") {
                &FFMPEG_LIBS[..]
            } else {
                &[]
            })
            .args(["-lm", "-ldl", "-lpthread"]),
        // DT_RPATH (not RUNPATH, which LD_LIBRARY_PATH overrides): cargo runs tests with
        // LD_LIBRARY_PATH naming target/<profile>, where build.rs's libveil.so.<major> link
        // points at the last `cargo build`'s library, which a `cargo test` does not refresh:
        // the program must load the library this test built, whatever the environment.
        Link::Shared => cmd
            .arg("-L")
            .arg(&libs)
            .arg("-lveil")
            .arg(format!("-Wl,--disable-new-dtags,-rpath,{}", libs.display())),
    };
    let out = cmd.output().expect("run the C compiler");
    assert!(
        out.status.success(),
        "compiling {name}.c ({link:?}) failed:\n{cmd:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn valgrind() -> Option<&'static str> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("valgrind")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    found.then_some("valgrind")
}

/// Build and run `tests/c/<name>.c`; fail the test with the program's output unless it
/// exits with 0. `args` gives a fresh scratch directory per run when `scratch_arg` is set.
fn build_and_run(name: &str, link: Link, check: Check, scratch_arg: bool) {
    let args = if scratch_arg {
        vec![scratch(&format!("{name}-{link:?}-{check:?}-data")).into_os_string()]
    } else {
        Vec::new()
    };
    build_and_run_with(name, link, check, &args);
}

/// As [`build_and_run`], with explicit program arguments.
fn build_and_run_with(name: &str, link: Link, check: Check, args: &[std::ffi::OsString]) {
    let exe = build(name, link, check);
    let mut cmd = match check {
        Check::Sanitizers => {
            let mut c = Command::new(&exe);
            // Leak checking covers the library's allocations too: every handle is freed.
            c.env("ASAN_OPTIONS", "detect_leaks=1")
                .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            c
        }
        Check::Valgrind => {
            // `make setup` installs Valgrind and the README promises these runs: a machine
            // without it fails here instead of skipping silently. VEIL_NO_VALGRIND=1 skips
            // on purpose (say so when you use it).
            let Some(vg) = valgrind() else {
                assert!(
                    std::env::var_os("VEIL_NO_VALGRIND").is_some_and(|v| v == "1"),
                    "valgrind is not installed (make setup installs it); {name} cannot run under it. \
                     Set VEIL_NO_VALGRIND=1 to skip these runs on purpose"
                );
                eprintln!("note: VEIL_NO_VALGRIND=1: {name} runs under the sanitizers only");
                return;
            };
            let mut c = Command::new(vg);
            c.args([
                "-q",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
            ])
            .arg(&exe);
            c
        }
    };
    cmd.args(args);
    let run = cmd.output().expect("run the C test program");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{name} ({link:?}, {check:?}):\n{stdout}{stderr}");
    assert!(
        run.status.success(),
        "{name} ({link:?}, {check:?}) failed with {}:\n{stdout}{stderr}",
        run.status
    );
}

/// Every program: static and shared under the sanitizers, static under Valgrind.
fn run_all_ways(name: &str, scratch_arg: bool) {
    build_and_run(name, Link::Static, Check::Sanitizers, scratch_arg);
    build_and_run(name, Link::Shared, Check::Sanitizers, scratch_arg);
    build_and_run(name, Link::Static, Check::Valgrind, scratch_arg);
}

#[test]
fn masking_every_format_with_padded_strides() {
    run_all_ways("masking", false);
}

#[test]
fn error_paths() {
    run_all_ways("errors", false);
}

#[test]
fn audit_append_and_verify() {
    run_all_ways("audit", true);
}

fn repo_file(rel: &str) -> PathBuf {
    crate_dir().join("../..").join(rel)
}

#[cfg(feature = "detect")]
/// Decode `fixtures/images/astronaut.jpg` to a raw RGB24 file for `detect.c`; returns the
/// program's arguments (file, width, height).
fn astronaut_rgb24() -> Vec<std::ffi::OsString> {
    let img = image::open(repo_file("fixtures/images/astronaut.jpg"))
        .expect("decode fixtures/images/astronaut.jpg")
        .to_rgb8();
    let path = scratch("astronaut").join("astronaut.rgb");
    std::fs::write(&path, img.as_raw()).expect("write the raw frame");
    vec![
        path.into_os_string(),
        img.width().to_string().into(),
        img.height().to_string().into(),
    ]
}

/// Detection and export load ONNX Runtime and FFmpeg: static and shared under ASan + UBSan
/// with leak checking on, as the others (neither reports anything there); not under
/// Valgrind, where running the networks would take minutes.
#[cfg(feature = "detect")]
#[test]
fn detection_on_a_real_picture() {
    let args = astronaut_rgb24();
    for link in [Link::Static, Link::Shared] {
        build_and_run_with("detect", link, Check::Sanitizers, &args);
    }
}

#[cfg(feature = "export")]
#[test]
fn inzage_export_of_a_real_clip() {
    let clip = repo_file("fixtures/inzage/group_pan.mp4");
    for link in [Link::Static, Link::Shared] {
        let data = scratch(&format!("export-{link:?}-data"));
        let zones = scratch(&format!("export-{link:?}-zones")).join("camera.toml");
        std::fs::write(&zones, EXPORT_ZONES).expect("write the zone file");
        build_and_run_with(
            "export",
            link,
            Check::Sanitizers,
            &[
                clip.clone().into_os_string(),
                data.clone().into_os_string(),
                zones.clone().into_os_string(),
            ],
        );
        check_export(&clip, &data.join("inzage.mp4"), &zones);
    }
}

/// The camera's zone file for `export.c`: one solid zone over the wall at the top left of
/// group_pan.mp4 (1280x720): pixels 64..256 x 0..72, clear of every person's box in the
/// first second (where a bystander's pixelated box overlaps a zone, the block means painted
/// over it mix the zone's black with the surroundings, so the zone is not black there).
#[cfg(feature = "export")]
const EXPORT_ZONES: &str = r#"[camera]
id = "cam-living"
purposes = ["safety"]
responsible = "Facility management"

[[zones]]
kind = "dwelling-window"
label = "Wall and window"
polygon = [[0.05, 0.0], [0.2, 0.0], [0.2, 0.1], [0.05, 0.1]]
"#;

#[cfg(feature = "export")]
fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first `frames` frames of `video`, as 8-bit luma, decoded by the FFmpeg command line
/// (independent of veil-video); returns (width, height, frames).
#[cfg(feature = "export")]
fn luma_frames(video: &Path, frames: usize) -> (usize, usize, Vec<Vec<u8>>) {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
        ])
        .args(["-of", "csv=p=0:s=x"])
        .arg(video)
        .output()
        .expect("run ffprobe (installed by make setup)");
    let size = String::from_utf8_lossy(&probe.stdout).trim().to_owned();
    let (w, h) = size
        .split_once('x')
        .unwrap_or_else(|| panic!("ffprobe size {size:?}"));
    let (w, h): (usize, usize) = (w.parse().expect("width"), h.parse().expect("height"));
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args([
            "-frames:v",
            &frames.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("run ffmpeg (installed by make setup)");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = out.stdout.chunks_exact(w * h).map(<[u8]>::to_vec).collect();
    (w, h, decoded)
}

/// What `export.c` wrote, checked against the files themselves: the manifest's hashes, its
/// window, requester, style, zone file and counts; and the decoded frames: as many as the
/// manifest says, the zone black in every one, and bystanders visibly redacted.
#[cfg(feature = "export")]
fn check_export(clip: &Path, video: &Path, zones: &Path) {
    let manifest_path = video.with_extension("mp4.manifest.json");
    let text = std::fs::read_to_string(&manifest_path).expect("read the manifest");
    let m: serde_json::Value = serde_json::from_str(&text).expect("the manifest is JSON");
    assert_eq!(m["input"]["sha256"], sha256_hex(clip), "input hash");
    assert_eq!(m["output"]["sha256"], sha256_hex(video), "output hash");
    assert_eq!(
        m["settings"]["zones"]["sha256"],
        sha256_hex(zones),
        "zone file hash"
    );
    assert_eq!(m["settings"]["style"], "pixelate");
    assert_eq!(m["settings"]["irreversible"], true);
    assert_eq!(m["settings"]["spotlight"], false);
    assert_eq!(
        (m["from"].as_f64(), m["to"].as_f64()),
        (Some(0.0), Some(1.0)),
        "window"
    );
    assert!(
        m["requester_tracks"].as_array().is_some_and(Vec::is_empty),
        "requester: {}",
        m["requester"]
    );
    let counts = &m["counts"];
    let count = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("counts.{k}: {counts}"))
    };
    // group_pan.mp4 is 12 fps with six people in view: everyone tracked is redacted.
    assert_eq!(count("frames"), 12, "{counts}");
    assert!(count("tracks") >= 6, "{counts}");
    assert_eq!(count("tracks_redacted"), count("tracks"), "{counts}");
    assert!(count("boxes_redacted") >= 6 * 12, "{counts}");
    assert_eq!(count("boxes_kept"), 0, "{counts}");
    let mut models: Vec<&str> = m["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    models.sort_unstable();
    assert_eq!(models, ["centerface", "nanodet"]);

    let (w, h, out) = luma_frames(video, 100);
    let (iw, ih, input) = luma_frames(clip, out.len());
    assert_eq!(
        (w, h, out.len()),
        (iw, ih, 12),
        "output frames (the manifest counts 12)"
    );
    // The zone (64..256 x 0..72 at 1280x720), inset by 8 pixels for the encoder's edges.
    let in_zone = |x: usize, y: usize| (72..248).contains(&x) && (0..64).contains(&y);
    for (i, (o, src)) in out.iter().zip(&input).enumerate() {
        let zone: Vec<(u8, u8)> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| in_zone(x, y))
            .map(|(x, y)| (o[y * w + x], src[y * w + x]))
            .collect();
        let max_out = zone.iter().map(|p| p.0).max().unwrap_or(0);
        let mean_in = zone.iter().map(|p| f64::from(p.1)).sum::<f64>() / zone.len() as f64;
        assert!(
            mean_in > 60.0,
            "frame {i}: the zone is dark in the input too ({mean_in:.0}): no proof"
        );
        assert!(
            max_out <= 24,
            "frame {i}: zone pixel of luma {max_out} in the export: not masked"
        );
        // Outside the zone: 16x16 blocks whose mean absolute difference from the input is
        // far above what re-encoding causes (< 4 here) are redacted people.
        let (mut changed, mut blocks) = (0usize, 0usize);
        for by in (0..h - 15).step_by(16) {
            for bx in (0..w - 15).step_by(16) {
                if (bx..bx + 16)
                    .any(|x| (by..by + 16).any(|y| in_zone(x, y) || y < 144 && (64..320).contains(&x)))
                {
                    continue;
                }
                let diff: u32 = (by..by + 16)
                    .flat_map(|y| (bx..bx + 16).map(move |x| y * w + x))
                    .map(|p| u32::from(o[p].abs_diff(src[p])))
                    .sum();
                blocks += 1;
                changed += usize::from(diff / 256 > 12);
            }
        }
        let share = changed as f64 / blocks as f64;
        println!(
            "export frame {i}: {:.0}% of the blocks outside the zone redacted",
            share * 100.0
        );
        assert!(
            share > 0.10,
            "frame {i}: only {:.1}% of the blocks differ from the input",
            share * 100.0
        );
    }
}

/// A disclosure and its verification (`tests/c/disclose.c`), with keys made by veil-redact;
/// static and shared under the sanitizers.
#[cfg(feature = "export")]
#[test]
fn disclosure_and_verification_of_a_real_clip() {
    let clip = repo_file("fixtures/vtest.mp4").into_os_string();
    for link in [Link::Static, Link::Shared] {
        let data = scratch(&format!("disclose-{link:?}-data"));
        let keys = scratch(&format!("disclose-{link:?}-keys"));
        let site = veil_redact::sign::generate_key_pair(&keys.join("site.key")).expect("generate a key pair");
        let other =
            veil_redact::sign::generate_key_pair(&keys.join("other.key")).expect("generate a key pair");
        let args = [
            clip.clone(),
            data.into_os_string(),
            site.secret.into_os_string(),
            site.public.into_os_string(),
            other.public.into_os_string(),
        ];
        build_and_run_with("disclose", link, Check::Sanitizers, &args);
    }
}

/// Encrypted footage (`tests/c/encrypted.c`): the clip encrypted with the standard `age` tool
/// to a key made by `age-keygen` is refused without it and with another key, and disclosed
/// with it, delivered encrypted to the police's key; `age -d` opens the copy, which is the
/// file the manifest hashes, and the manifest records the decrypted stream's hash (the
/// clip's) and the encrypted file's. Static and shared under the sanitizers.
#[cfg(feature = "export")]
#[test]
fn encrypted_footage_in_and_out() {
    let run = |cmd: &mut Command| {
        let o = cmd
            .output()
            .expect("the age tools (Debian's age package, installed by scripts/setup.sh)");
        assert!(
            o.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let clip = repo_file("fixtures/vtest.mp4");
    for link in [Link::Static, Link::Shared] {
        let data = scratch(&format!("encrypted-{link:?}-data"));
        let keys = scratch(&format!("encrypted-{link:?}-keys"));
        let keygen = |name: &str| {
            let key = keys.join(name);
            run(Command::new("age-keygen").arg("-o").arg(&key));
            let public = run(Command::new("age-keygen").arg("-y").arg(&key));
            (key, public)
        };
        let (key, public) = keygen("footage.key");
        let (wrong, _) = keygen("wrong.key");
        let (police, police_public) = keygen("police.key");
        let police_pub = keys.join("police.key.pub");
        std::fs::write(&police_pub, format!("{police_public}\n")).unwrap();
        let encrypted = keys.join("clip.mp4.age");
        run(Command::new("age")
            .args(["-r", &public, "-o"])
            .arg(&encrypted)
            .arg(&clip));
        let args = [
            encrypted.clone().into_os_string(),
            data.clone().into_os_string(),
            key.into_os_string(),
            wrong.into_os_string(),
            police_pub.into_os_string(),
        ];
        build_and_run_with("encrypted", link, Check::Sanitizers, &args);
        let opened = keys.join("opened.mp4");
        run(Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&police)
            .arg("-o")
            .arg(&opened)
            .arg(data.join("police.mp4")));
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("police.mp4.manifest.json")).unwrap()).unwrap();
        assert_eq!(m["output"]["sha256"], sha256_hex(&opened).as_str());
        assert_eq!(m["output"]["encrypted_to"][0], police_public.as_str());
        assert_eq!(m["input"]["path"], encrypted.to_str().unwrap());
        assert_eq!(m["input"]["sha256"], sha256_hex(&clip).as_str());
        assert_eq!(
            m["input"]["decrypted_from"]["sha256"],
            sha256_hex(&encrypted).as_str()
        );
        assert!(m["input"]["decrypted_from"].get("data_key").is_none(), "{m}");
    }
}

/// Hostile inputs (`tests/c/hostile.c`): absurd and zero sizes, hostile strides, garbage and
/// deeply nested TOML, tiny message buffers, non-UTF-8 paths, hostile export options and
/// inputs. Static under the sanitizers and under Valgrind (the exports there stop before
/// decoding or read 10 frames of 64x48, so it stays fast); the shared build adds nothing
/// for these cases that the other programs do not already check.
#[test]
fn hostile_inputs() {
    for (link, check) in [(Link::Static, Check::Sanitizers), (Link::Static, Check::Valgrind)] {
        build_and_run_with(
            "hostile",
            link,
            check,
            &hostile_args(&format!("{link:?}-{check:?}")),
        );
    }
}

/// The arguments of `tests/c/hostile.c`: a fresh scratch directory and three fixtures.
fn hostile_args(tag: &str) -> Vec<std::ffi::OsString> {
    let fixture = |name: &str| repo_file(&format!("fixtures/hostile/{name}")).into_os_string();
    vec![
        scratch(&format!("hostile-{tag}-data")).into_os_string(),
        fixture("small.mp4"),
        fixture("damaged-frame.mp4"),
        fixture("absurd-size.y4m"),
    ]
}

/// Hostile and degenerate frames for a real detector (`tests/c/detect_hostile.c`): loads ONNX
/// Runtime, so static under ASan + UBSan only, as `detection_on_a_real_picture`.
#[cfg(feature = "detect")]
#[test]
fn detector_hostile_frames() {
    build_and_run_with("detect_hostile", Link::Static, Check::Sanitizers, &[]);
}

/// The bundled clip recorded by Veil's recorder in 5 s segments (three, back to back) under
/// a fresh directory: (directory, the camera's index entries).
#[cfg(feature = "export")]
fn recorded_clip() -> (PathBuf, Vec<veil_record::IndexEntry>) {
    let dir = scratch("recordings-rec");
    let camera =
        veil_core::CameraConfig::from_file(&repo_file("fixtures/vtest-zones.toml")).expect("the zone file");
    let id = camera.id.clone();
    let clip = repo_file("fixtures/vtest.mp4");
    let mut cfg = veil_record::RecorderConfig::new(clip.to_str().expect("a UTF-8 path"), camera, &dir);
    cfg.segment = std::time::Duration::from_secs(5);
    cfg.audit = Some(veil_record::AuditTarget {
        log: dir.join("audit.jsonl"),
        actor: "recorder".into(),
    });
    veil_record::Recorder::new(cfg)
        .expect("a recorder")
        .run(&mut |_| {})
        .expect("the clip recorded");
    let entries = veil_record::Index::new(dir.join(&id)).read().expect("the index");
    assert_eq!(entries.len(), 3, "{entries:#?}");
    (dir, entries)
}

#[cfg(feature = "export")]
#[test]
fn recordings_disclosure_and_refusals() {
    let (dir, entries) = recorded_clip();
    let camera = "vtest-courtyard";
    let at = |t: veil_audit::Timestamp, ms: i64| {
        veil_audit::Timestamp::from_unix_millis(t.unix_millis() + ms)
            .expect("a time")
            .to_string()
    };
    for (link, check) in [
        (Link::Static, Check::Sanitizers),
        (Link::Shared, Check::Sanitizers),
        (Link::Static, Check::Valgrind),
    ] {
        let args: Vec<std::ffi::OsString> = vec![
            dir.clone().into_os_string(),
            camera.into(),
            at(entries[0].start, 2500).into(),
            at(entries[2].start, 2500).into(),
            dir.join(camera).join(&entries[1].file).into_os_string(),
            scratch(&format!("recordings-{link:?}-{check:?}-data")).into_os_string(),
        ];
        build_and_run_with("recordings", link, check, &args);
    }
}
