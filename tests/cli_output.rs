//! The evidence-safe CLI: no command replaces an existing file unless `--force` (exit 1,
//! one `error:` line, the old file untouched, nothing else written), `-q`, `--progress-json`
//! lines that parse, and `--help` naming the environment and the exit codes. Run on the real
//! fixture clip with the real models.
//!
//! (The installed `redact`, away from the checkout, is tested by scripts/test-install.sh.)
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{listing, redact, root, scratch, stderr};
use veil::video::{ReadOptions, VideoReader};

fn clip() -> PathBuf {
    root().join("fixtures/vtest.mp4")
}

fn frames(path: &Path) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    n
}

/// Exit 1 with exactly one line, `error: <path>: already exists...`.
fn assert_refused(o: &Output, path: &Path) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {}: already exists", path.display())),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
}

fn mask_args<'a>(out: &'a Path, zones: &'a Path, clip: &'a Path) -> Vec<&'a OsStr> {
    vec![
        "mask".as_ref(),
        clip.as_os_str(),
        "--zones".as_ref(),
        zones.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]
}

#[test]
fn mask_refuses_an_existing_output_and_force_replaces_it() {
    let dir = scratch("out-mask");
    let out = dir.join("masked.mp4");
    let (zones, clip) = (root().join("fixtures/vtest-zones.toml"), clip());
    std::fs::write(&out, b"evidence handed out yesterday").unwrap();

    let o = redact(&mask_args(&out, &zones, &clip));
    assert_refused(&o, &out);
    assert_eq!(std::fs::read(&out).unwrap(), b"evidence handed out yesterday");
    assert_eq!(listing(&dir), ["masked.mp4"]);

    // A dangling symlink is an existing name too: writing through it would create a file
    // elsewhere.
    let link = dir.join("link.mp4");
    std::os::unix::fs::symlink(dir.join("nowhere.mp4"), &link).unwrap();
    let o = redact(&mask_args(&link, &zones, &clip));
    assert_refused(&o, &link);
    assert!(!dir.join("nowhere.mp4").exists());

    // --force (global, before or after the command) replaces; -q prints nothing.
    let mut args = mask_args(&out, &zones, &clip);
    args.extend(["--force".as_ref(), "-q".as_ref()] as [&OsStr; 2]);
    let o = redact(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "-q printed: {}",
        stderr(&o)
    );
    assert_eq!(frames(&out), 10); // 1 s of the 10 fps clip
    assert_eq!(listing(&dir), ["link.mp4", "masked.mp4"]);

    // Without -q the summary names the output.
    std::fs::remove_file(&out).unwrap();
    let o = redact(&mask_args(&out, &zones, &clip));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("masked.mp4"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_and_analyze_write_all_their_outputs_or_none() {
    let dir = scratch("out-export");
    let clip = clip();
    let out = dir.join("inzage.mp4");
    let manifest = dir.join("inzage.mp4.manifest.json");
    std::fs::write(&manifest, b"{\"version\":1}").unwrap();
    let o = redact(&[
        "export".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "--keep-none".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    // The video does not exist, but its manifest does: neither is written.
    assert_refused(&o, &manifest);
    assert_eq!(std::fs::read(&manifest).unwrap(), b"{\"version\":1}");
    assert_eq!(listing(&dir), ["inzage.mp4.manifest.json"]);

    let tracks = dir.join("tracks.json");
    let sheet = dir.join("sheet.png");
    std::fs::write(&sheet, b"old sheet").unwrap();
    let o = redact(&[
        "analyze".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        tracks.as_os_str(),
        "--sheet".as_ref(),
        sheet.as_os_str(),
    ]);
    assert_refused(&o, &sheet);
    assert_eq!(std::fs::read(&sheet).unwrap(), b"old sheet");
    assert_eq!(listing(&dir), ["inzage.mp4.manifest.json", "sheet.png"]);

    // Man pages: the same rule.
    let man = dir.join("man");
    std::fs::create_dir(&man).unwrap();
    std::fs::write(man.join("redact-export.1"), b"old page").unwrap();
    let o = redact(&["generate-man".as_ref(), man.as_os_str()]);
    assert_refused(&o, &man.join("redact-export.1"));
    assert_eq!(listing(&man), ["redact-export.1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn progress_json_lines_parse_and_name_the_stages() {
    let dir = scratch("out-progress");
    let clip = clip();
    let out = dir.join("inzage.mp4");
    let o = redact(&[
        "-q".as_ref(),
        "--progress-json".as_ref(),
        "export".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "--keep-none".as_ref(),
        "--threads".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // With -q, every line on stderr is a progress line.
    let lines: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let ends: Vec<_> = lines.iter().filter(|l| l["done"] == true).collect();
    let stages: Vec<_> = ends
        .iter()
        .map(|l| {
            (
                l["stage"].as_str().unwrap(),
                l["step"].as_u64().unwrap(),
                l["steps"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(stages, [("analysis", 1, 2), ("export", 2, 2)]);
    for l in &ends {
        assert_eq!(
            (l["frame"].as_u64(), l["frames"].as_u64()),
            (Some(10), Some(10)),
            "{l}"
        );
    }
    // Within a stage the frame count only grows; every line has a rate.
    for w in lines.windows(2) {
        if w[0]["stage"] == w[1]["stage"] {
            assert!(
                w[0]["frame"].as_u64() <= w[1]["frame"].as_u64(),
                "{} then {}",
                w[0],
                w[1]
            );
        }
    }
    assert!(lines.iter().all(|l| l["fps"].as_f64().is_some_and(|f| f >= 0.0)));
    // The manifest names the published file, not the staging file it was written as.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("inzage.mp4.manifest.json")).unwrap()).unwrap();
    assert_eq!(m["output"]["path"], out.display().to_string());
    assert_eq!(
        m["output"]["sha256"].as_str().unwrap(),
        veil::audit::sha256_file(&out).unwrap()
    );
    assert_eq!(frames(&out), 10);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_names_examples_environment_exit_codes_and_detector_options() {
    let o = redact(&["--help".as_ref()]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for s in [
        "Examples:",
        "redact export",
        "VEIL_MODELS_DIR",
        "ORT_DYLIB_PATH",
        "VEIL_ORT_DIR",
        "VEIL_CPU_LEVEL",
        "VEIL_DEVICE",
        "Exit status:",
        "--force",
        "--quiet",
        "--progress-json",
    ] {
        assert!(help.contains(s), "--help lacks {s}:\n{help}");
    }
    for cmd in ["export", "analyze", "detect"] {
        let o = redact(&[cmd.as_ref(), "--help".as_ref()]);
        let help = String::from_utf8_lossy(&o.stdout);
        for s in [
            "--threshold",
            "--threads",
            "--models-dir",
            "--device",
            "[env: VEIL_DEVICE]",
        ] {
            assert!(help.contains(s), "{cmd} --help lacks {s}");
        }
    }
    // Out-of-range detector options are usage errors (exit 2).
    let clip = clip();
    for bad in [["--threshold", "1.5"], ["--threads", "0"]] {
        let o = redact(&[
            "detect".as_ref(),
            clip.as_os_str(),
            "-o".as_ref(),
            "x.json".as_ref(),
            bad[0].as_ref(),
            bad[1].as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
    }
}

#[test]
fn models_dir_option_is_used_and_a_wrong_one_is_an_error_naming_it() {
    let dir = scratch("out-models");
    let missing = dir.join("no-models-here");
    let out = dir.join("d.json");
    let clip = clip();
    let o = redact(&[
        "detect".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "0.3".as_ref(),
        "--models-dir".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.contains("no-models-here"),
        "{err}"
    );
    assert!(!out.exists());

    // A copy of the models elsewhere works, with a threshold.
    let models = dir.join("models");
    std::fs::create_dir(&models).unwrap();
    for f in ["manifest.tsv", "centerface.onnx", "nanodet-m-416.onnx"] {
        std::fs::copy(root().join("models").join(f), models.join(f)).unwrap();
    }
    let o = redact(&[
        "detect".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "0.3".as_ref(),
        "--models-dir".as_ref(),
        models.as_os_str(),
        "--threshold".as_ref(),
        "0.5".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let frames = d["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 3);
    let scores: Vec<f64> = frames
        .iter()
        .flat_map(|f| f["detections"].as_array().unwrap())
        .map(|det| det["score"].as_f64().unwrap())
        .collect();
    assert!(!scores.is_empty(), "vtest's first frames show pedestrians");
    assert!(scores.iter().all(|&s| s >= 0.5), "{scores:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
