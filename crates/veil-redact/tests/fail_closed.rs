//! Fail closed under injected and real failures in the middle of a run: a detector stage
//! that fails on one frame (the hidden `DetectOptions::fault` hook), and a frame that cannot
//! be decoded in the middle of the input. Each must abort the export or analysis with that
//! error and leave nothing: no output video, no temporary file, no manifest, no tracks file,
//! no contact sheet. (Encoder failures are real ones, through the command line, in the
//! workspace's tests/hostile.rs: a full file system and a file size limit.)
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_redact::{analyze, export, AnalyzeOptions, ExportOptions, InjectedFault, RedactError, Tracks};
use veil_video::VideoError;

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-redact-fail-closed", name)
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn assert_injected(e: &RedactError, model: &str, frame: u64) {
    match e {
        RedactError::Detect(veil_detect::DetectError::Inference { model: m, reason }) => {
            assert_eq!(m, model, "{e}");
            assert!(reason.contains(&format!("frame {frame} ")), "{e}");
        }
        other => panic!("expected the injected {model} failure, got: {other}"),
    }
}

/// One-shot export of a 10-frame clip with the face or the person stage failing at frame 5
/// of the window (after several frames went through every stage). A small clip keeps the
/// test fast; the pipeline does not depend on the frame size.
#[test]
fn a_detector_failing_mid_export_aborts_it_and_leaves_nothing() {
    for (fault, model) in [
        (InjectedFault::FaceStage(5), "CenterFace"),
        (InjectedFault::PersonStage(5), "NanoDet"),
    ] {
        let d = out_dir(&format!("{fault:?}"));
        let mut o = ExportOptions::new(fixture("hostile/small.mp4"), d.join("export.mp4"));
        o.tracks_out = Some(d.join("tracks.json"));
        o.detect.fault = Some(fault);
        let e = export(&o).unwrap_err();
        assert_injected(&e, model, 5);
        assert!(
            listing(&d).is_empty(),
            "{fault:?}: left behind: {:?}",
            listing(&d)
        );
    }
}

/// `analyze` with a failing detector writes neither the tracks file nor the contact sheet.
#[test]
fn a_detector_failing_mid_analysis_leaves_no_tracks_and_no_sheet() {
    let d = out_dir("analysis");
    let mut o = AnalyzeOptions::new(fixture("hostile/small.mp4"), d.join("tracks.json"));
    o.contact_sheet = Some(d.join("sheet.png"));
    o.detect.fault = Some(InjectedFault::PersonStage(9)); // the last frame
    let e = analyze(&o).unwrap_err();
    assert_injected(&e, "NanoDet", 9);
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
    // the same options without the fault succeed: the failure was the injected one
    o.detect.fault = None;
    analyze(&o).unwrap();
    assert_eq!(listing(&d), ["sheet.png", "tracks.json"]);
}

/// fixtures/hostile/damaged-frame.mp4 is small.mp4 (64x48, 10 frames) with the slice header
/// of its second packet overwritten: the container is intact, one frame in the middle cannot
/// be decoded. The export must fail on it, in the one-shot analysis and, with tracks of the
/// intact clip, in the redaction pass; never export the other nine frames as if complete.
#[test]
fn a_frame_that_cannot_be_decoded_mid_stream_fails_the_export() {
    let d = out_dir("damaged");
    let damaged = fixture("hostile/damaged-frame.mp4");
    let intact = fixture("hostile/small.mp4");

    // one-shot: the analysis meets the damaged frame first
    let mut o = ExportOptions::new(&damaged, d.join("export.mp4"));
    o.tracks_out = Some(d.join("tracks.json"));
    let e = export(&o).unwrap_err();
    assert!(
        matches!(e, RedactError::Video(VideoError::Decode { .. })),
        "one-shot: {e}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));

    // tracks of the intact clip, recorded as made from the damaged file (whose own hash the
    // check then passes), so that the export reaches its own decoder; kept outside `d`
    let td = out_dir("damaged-tracks");
    let tracks = td.join("tracks.json");
    analyze(&AnalyzeOptions::new(&intact, &tracks)).unwrap();
    let mut t = Tracks::load(&tracks).unwrap();
    t.set_source_sha256(Some(&veil_redact::sha256_file(&damaged).unwrap()))
        .unwrap();
    t.save(&tracks).unwrap();
    let mut o = ExportOptions::new(&damaged, d.join("export.mp4"));
    o.tracks = Some(tracks.clone());
    let e = export(&o).unwrap_err();
    assert!(
        matches!(e, RedactError::Video(VideoError::Decode { .. })),
        "with tracks: {e}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));

    // control: the intact clip exports all ten frames with the same tracks (with its hash)
    let mut t = Tracks::load(&tracks).unwrap();
    t.set_source_sha256(Some(&veil_redact::sha256_file(&intact).unwrap()))
        .unwrap();
    t.save(&tracks).unwrap();
    o.input = intact;
    let rep = export(&o).unwrap();
    assert_eq!(rep.manifest.counts.frames, 10);
    assert_eq!(listing(&d), ["export.mp4", "export.mp4.manifest.json"]);
}
