//! End-to-end: `redact record --encoder` (issue 29 item 3) on the bundled clip, with real
//! encodes. On a machine without a GPU (no /dev/dri render node, no NVIDIA device) `auto`
//! records with libx264 and says why no hardware encoder was used; a hardware encoder asked
//! for by name is refused with its name and the reason, and nothing is recorded in its place.
//! Where a device exists, the checks that need its absence are skipped.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{no_gpu, no_render_node, record_site, redact_bin, scratch, stderr, vtest, vtest_zones};
use veil::record::Index;

const CAMERA: &str = "vtest-courtyard";

fn record(dir: &Path, extra: &[&str]) -> Output {
    Command::new(redact_bin())
        .arg("record")
        .arg(vtest())
        .arg("--zones")
        .arg(vtest_zones())
        .arg("--dir")
        .arg(dir)
        .arg("--audit-log")
        .arg(dir.join("audit.jsonl"))
        .args([
            "--actor",
            "recorder@test",
            "--segment",
            "5s",
            "--preset",
            "ultrafast",
            "--crf",
            "30",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn auto_records_with_x264_here_and_says_so() {
    let dir = scratch("record-encoder-auto");
    let out = record(&dir, &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("encoder: "))
        .unwrap_or_else(|| panic!("no encoder line: {err}"));
    // Reported once for the run (every segment uses the same encoder).
    assert_eq!(
        err.lines().filter(|l| l.starts_with("encoder: ")).count(),
        1,
        "{err}"
    );
    if no_gpu() {
        assert!(
            line.starts_with(
                "encoder: libx264 (software; no hardware encoder: h264_vaapi: no /dev/dri render node"
            ),
            "{line}"
        );
        assert!(
            line.contains("h264_nvenc: ") && line.contains("h264_qsv: "),
            "{line}"
        );
    }
    let entries = Index::new(dir.join(CAMERA)).read().unwrap();
    assert_eq!(entries.iter().map(|e| e.frames).sum::<u64>(), 150);
    // --encoder x264: software, nothing probed, nothing passed over.
    let x = scratch("record-encoder-x264");
    let out = record(&x, &["--encoder", "x264"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\nencoder: libx264 (software)\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_named_hardware_encoder_that_cannot_open_is_refused() {
    let cases = [
        ("vaapi", "h264_vaapi", no_render_node()),
        ("nvenc", "h264_nvenc", !Path::new("/dev/nvidiactl").exists()),
        ("qsv", "h264_qsv", no_render_node()),
    ];
    for (name, codec, absent) in cases {
        if !absent {
            continue;
        }
        let dir = scratch(&format!("record-encoder-{name}"));
        let out = record(&dir, &["--encoder", name]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{name}: {err}");
        assert!(
            err.contains(&format!("hardware encoder {codec} cannot be used: ")),
            "{name}: {err}"
        );
        // Never silently another encoder: no segment, no index line.
        assert!(!err.contains("encoder: libx264"), "{name}: {err}");
        let cam = dir.join(CAMERA);
        let segments: Vec<_> = std::fs::read_dir(&cam)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".mp4"))
                    .collect()
            })
            .unwrap_or_default();
        assert!(segments.is_empty(), "{name}: {segments:?}");
        assert!(Index::new(&cam).read().unwrap_or_default().is_empty());
    }
    // An unknown name is refused by the command line, naming the choices.
    let dir = scratch("record-encoder-unknown");
    let out = record(&dir, &["--encoder", "cuda"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("auto, x264, vaapi, nvenc, qsv"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_site_camera_whose_named_encoder_cannot_open_fails_alone() {
    if !no_gpu() {
        return; // needs a machine without a GPU
    }
    let dir = scratch("record-encoder-site");
    let (out, rec) = record_site(
        &dir,
        &[("hw", "encoder = \"nvenc\"\n"), ("sw", "encoder = \"x264\"\n")],
    );
    let err = stderr(&out);
    // The encoder is part of each camera's settings in the output (and the audit log).
    assert!(err.contains("crf 18, encoder nvenc, decoder auto)"), "{err}");
    assert!(err.contains("crf 18, encoder x264, decoder auto)"), "{err}");
    let audit = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    assert!(audit.contains("encoder nvenc"), "{audit}");
    // The camera asking for NVENC is refused, naming it, and records nothing ...
    assert!(
        err.contains("hw: error: ") && err.contains("hardware encoder h264_nvenc cannot be used: "),
        "{err}"
    );
    assert!(!err.contains("hw: encoder: "), "{err}");
    assert!(Index::new(rec.join("hw")).read().unwrap_or_default().is_empty());
    // ... while the other records with x264.
    assert!(err.contains("sw: encoder: libx264 (software)\n"), "{err}");
    let sw = Index::new(rec.join("sw")).read().unwrap();
    assert!(sw.iter().map(|e| e.frames).sum::<u64>() > 0, "{err}");
}
