//! The cargo features decide what libveil holds and links, and the header says so: run with
//! the default features and with `--no-default-features` (`make test` runs both). Without
//! `export` the library must link no FFmpeg library (and never ONNX Runtime, which is loaded
//! at run time), must not define the functions it leaves out, and the header compiled with
//! `-DVEIL_NO_DEFAULT_FEATURES` must not declare them.

use std::path::PathBuf;
use std::process::Command;

/// The shared library cargo built for this test binary, with this test's features (beside
/// the binary, in `<target-dir>/<profile>/deps/`; see `tests/c_abi.rs`).
fn shared_library() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let lib = exe.parent().expect("deps directory").join("libveil_ffi.so");
    assert!(lib.is_file(), "{} not built", lib.display());
    lib
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e} (binutils installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `NEEDED` entries of the library's dynamic section (what `ldd` follows).
fn needed() -> Vec<String> {
    let dynamic = run(Command::new("readelf").arg("-d").arg(shared_library()));
    dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.split_once(']')?.0.to_owned()))
        .collect()
}

/// Whether the library defines (and exports) the function `name`.
fn defines(name: &str) -> bool {
    let symbols = run(Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(shared_library()));
    symbols.lines().any(|l| l.split_whitespace().last() == Some(name))
}

#[test]
fn linked_libraries_follow_the_features() {
    let needed = needed();
    println!("NEEDED: {needed:?}");
    assert!(needed.iter().any(|n| n.starts_with("libc.so")), "{needed:?}");
    let ffmpeg: Vec<&String> = needed
        .iter()
        .filter(|n| n.starts_with("libav") || n.starts_with("libsw") || n.starts_with("libpostproc"))
        .collect();
    if cfg!(feature = "export") {
        assert!(
            ffmpeg.iter().any(|n| n.starts_with("libavformat")),
            "the export feature decodes with FFmpeg, but libavformat is not linked: {needed:?}"
        );
    } else {
        assert!(
            ffmpeg.is_empty(),
            "built without export, yet links FFmpeg: {ffmpeg:?}"
        );
    }
    // ONNX Runtime is loaded at run time by veil-detect (dlopen), in every build.
    assert!(
        !needed.iter().any(|n| n.contains("onnxruntime")),
        "links ONNX Runtime: {needed:?}"
    );
}

#[test]
fn exported_functions_follow_the_features() {
    for always in [
        "veil_masker_new",
        "veil_masker_apply",
        "veil_audit_append",
        "veil_status_str",
    ] {
        assert!(defines(always), "{always} missing");
    }
    for f in ["veil_detector_new", "veil_detector_detect"] {
        assert_eq!(defines(f), cfg!(feature = "detect"), "{f}");
    }
    for f in ["veil_export_run", "veil_disclose_run", "veil_verify"] {
        assert_eq!(defines(f), cfg!(feature = "export"), "{f}");
    }
}

/// `cc -fsyntax-only` on a program that uses `call`, with `defines`; whether it compiled.
fn compiles(call: &str, defines: &[&str]) -> bool {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("features");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let src = dir.join(format!("use-{}.c", call.split('(').next().unwrap_or("x")));
    std::fs::write(
        &src,
        format!("#include \"veil.h\"\nint main(void) {{ (void){call}; return 0; }}\n"),
    )
    .expect("write the program");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-fsyntax-only", "-I"])
        .arg(include)
        .args(defines)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("run {cc}: {e}"));
    out.status.success()
}

#[test]
fn header_declares_what_the_build_has() {
    let masking = "veil_masker_apply(NULL, NULL)";
    let detect = "veil_detector_new(VEIL_DETECTOR_FACES, NULL, NULL, NULL)";
    let export = "veil_export_run(NULL, NULL)";
    let verify = "veil_verify(NULL, NULL, NULL, NULL)";
    // The default: everything, as the default build has.
    for call in [masking, detect, export, verify] {
        assert!(
            compiles(call, &[]),
            "{call} does not compile with the default header"
        );
    }
    // --no-default-features: masking only.
    let none = ["-DVEIL_NO_DEFAULT_FEATURES"];
    assert!(compiles(masking, &none));
    for call in [detect, export, verify] {
        assert!(
            !compiles(call, &none),
            "{call} compiles with -DVEIL_NO_DEFAULT_FEATURES"
        );
    }
    // --no-default-features --features detect.
    let detect_only = ["-DVEIL_NO_DEFAULT_FEATURES", "-DVEIL_FEATURE_DETECT"];
    assert!(compiles(detect, &detect_only));
    assert!(!compiles(export, &detect_only));
    // The export feature implies detect, in the header as in Cargo.toml.
    assert!(compiles(
        detect,
        &["-DVEIL_NO_DEFAULT_FEATURES", "-DVEIL_FEATURE_EXPORT"]
    ));
}
