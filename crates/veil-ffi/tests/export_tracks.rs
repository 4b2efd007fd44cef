//! `veil_export_run` from a tracks file: the library's checks hold for C callers. A tracks
//! file analysed on one frame in more than the export's 5 frames of temporal padding cover
//! (or that does not say how often) is refused with `VEIL_STATUS_EXPORT_TRACKS`, naming the
//! file and the reason, and nothing is written; an accepted one's manifest carries the models
//! and settings the tracks file records. Real footage, real models (the first half second of
//! the inzage fixture).
#![cfg(feature = "export")]
#![allow(clippy::unwrap_used, unsafe_code, missing_docs)]

use std::path::{Path, PathBuf};

use veil_ffi::veil_status;

#[path = "../../veil-redact/tests/support/dirs.rs"]
mod dirs;
use dirs::listing;

#[path = "support/export.rs"]
mod support;
use support::{c, run_export};

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-ffi-export-tracks", name)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/inzage/group_pan.mp4")
}

/// Export the first half second of the fixture into `dir` with the tracks file `tracks`; the
/// status and the error message.
fn run(dir: &Path, tracks: &Path) -> (veil_status, String) {
    let input = c(fixture().to_str().unwrap());
    let output = c(dir.join("export.mp4").to_str().unwrap());
    let tracks = c(tracks.to_str().unwrap());
    run_export(|o| {
        o.input = input.as_ptr();
        o.output = output.as_ptr();
        o.tracks_path = tracks.as_ptr();
        o.to_s = 0.5;
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_tracks_file_the_padding_does_not_cover_is_refused_and_an_accepted_ones_settings_reach_the_manifest() {
    // Analysed on one frame in 7 (the analysis itself holds boxes 6 frames): the C ABI's
    // export holds them 5 frames, so the sixth frame after a detection would be bare.
    let a = out_dir("analysis");
    let tracks = a.join("tracks.json");
    let mut ao = veil_redact::AnalyzeOptions::new(fixture(), &tracks);
    ao.to = Some(0.5);
    ao.detect.every = 7;
    ao.tracker.pad_frames = 6;
    veil_redact::analyze(&ao).unwrap();

    let d = out_dir("refused");
    let (status, message) = run(&d, &tracks);
    assert_eq!(status, veil_status::VEIL_STATUS_EXPORT_TRACKS, "{message}");
    assert!(
        message.contains(tracks.to_str().unwrap()) && message.contains("`every` 7"),
        "{message}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));

    // Without `every` (an older Veil's file): refused too.
    let mut doc = json(&tracks);
    doc.as_object_mut().unwrap().remove("every");
    let old = a.join("old.json");
    std::fs::write(&old, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (status, message) = run(&d, &old);
    assert_eq!(status, veil_status::VEIL_STATUS_EXPORT_TRACKS, "{message}");
    assert!(
        message.contains("old.json") && message.contains("every"),
        "{message}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));

    // Recorded as analysed on one frame in 6: accepted, and the manifest says how the boxes
    // were made, as the tracks file does.
    doc["every"] = 6.into();
    let six = a.join("six.json");
    std::fs::write(&six, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (status, message) = run(&d, &six);
    assert_eq!(status, veil_status::VEIL_STATUS_OK, "{message}");
    let m = json(&d.join("export.mp4.manifest.json"));
    assert_eq!(m["models"], doc["models"]);
    assert_eq!(m["models"].as_array().map(Vec::len), Some(2));
    assert_eq!(m["analysis_veil_version"], doc["veil_version"]);
    let s = &m["settings"];
    for (key, want) in [
        ("every", 6.into()),
        ("person_every", 1.into()),
        ("face_threshold", doc["face_threshold"].clone()),
        ("person_threshold", doc["person_threshold"].clone()),
        ("min_face", 24.into()),
        ("min_person", 80.into()),
    ] {
        assert_eq!(s[key], want, "settings.{key}: {s}");
    }
}
