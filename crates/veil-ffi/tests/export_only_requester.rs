//! `veil_export_run` with `only_requester_margin_s`: the C form of `redact export
//! --only-requester`. With a kept track, only its stretches (plus the margin) are delivered
//! and the manifest lists them; with nobody kept, or a negative margin, the export is refused
//! before any work and nothing is written; the default (NaN) delivers the whole window. Real
//! footage, real models (the first two seconds of the vtest street clip).
#![cfg(feature = "export")]
#![allow(clippy::unwrap_used, unsafe_code, missing_docs)]

use std::path::{Path, PathBuf};

use veil_ffi::{veil_requester, veil_status};

#[path = "../../veil-redact/tests/support/dirs.rs"]
mod dirs;
use dirs::listing;

#[path = "support/export.rs"]
mod support;
use support::{c, run_export};

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-ffi-only-requester", name)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4")
}

const TO: f64 = 2.0;

/// Export the first two seconds of the fixture into `dir/export.mp4` from `tracks`, keeping
/// `keep` (none: nobody), with the given margin; the status and the error message.
fn run(dir: &Path, tracks: &Path, keep: Option<u64>, margin: f64) -> (veil_status, String) {
    let input = c(fixture().to_str().unwrap());
    let output = c(dir.join("export.mp4").to_str().unwrap());
    let tracks = c(tracks.to_str().unwrap());
    let ids = keep.into_iter().collect::<Vec<u64>>();
    run_export(|o| {
        assert!(
            o.only_requester_margin_s.is_nan(),
            "the default delivers the whole window"
        );
        o.input = input.as_ptr();
        o.output = output.as_ptr();
        o.tracks_path = tracks.as_ptr();
        o.to_s = TO;
        if !ids.is_empty() {
            o.requester_kind = veil_requester::VEIL_REQUESTER_TRACKS as u32;
            o.keep_tracks = ids.as_ptr();
            o.keep_tracks_len = ids.len();
        }
        o.only_requester_margin_s = margin;
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn only_the_requesters_stretches_are_delivered_and_nobody_or_a_negative_margin_is_refused() {
    let a = out_dir("analysis");
    let tracks = a.join("tracks.json");
    let mut ao = veil_redact::AnalyzeOptions::new(fixture(), &tracks);
    ao.to = Some(TO);
    veil_redact::analyze(&ao).unwrap();
    let doc = veil_redact::Tracks::from_json(&std::fs::read_to_string(&tracks).unwrap()).unwrap();
    let fps = doc.fps();
    let window = (TO * fps).round() as u64;
    // A person whose first tracklet is in view for a part of the window only.
    let (id, first, last) = doc
        .tracks()
        .iter()
        .filter(|t| t.class() == veil_core::Class::Person)
        .filter_map(|t| t.tracklets().first().map(|tl| (t.id(), tl.start, tl.end)))
        .filter(|&(_, s, e)| e >= s + 3 && e + 1 - s < window / 2)
        .min_by_key(|&(_, s, _)| s)
        .expect("a person in view for less than half the window");

    // Nobody kept, or a negative margin: refused before any work, nothing written.
    for (keep, margin, needle) in [(None, 1.0, "nothing to deliver"), (Some(id), -1.0, "margin")] {
        let d = out_dir(&format!("refused-{margin}"));
        let (status, message) = run(&d, &tracks, keep, margin);
        assert_eq!(
            status,
            veil_status::VEIL_STATUS_EXPORT_INVALID_OPTION,
            "{message}"
        );
        assert!(message.contains(needle), "{message}");
        assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
    }

    // Margin 0: the copy holds just the frames of the kept tracklet (its boxes span
    // first..=last), and the manifest says so.
    let d = out_dir("delivered");
    let (status, message) = run(&d, &tracks, Some(id), 0.0);
    assert_eq!(status, veil_status::VEIL_STATUS_OK, "{message}");
    let m = json(&d.join("export.mp4.manifest.json"));
    let only = &m["only_requester"];
    assert_eq!(only["margin"], 0.0, "{only}");
    let stretches = only["stretches"].as_array().expect("stretches");
    assert!(!stretches.is_empty(), "{only}");
    let delivered: u64 = stretches.iter().map(|s| s["frame_count"].as_u64().unwrap()).sum();
    let (s0, e0) = (
        stretches[0]["frames"][0].as_u64().unwrap(),
        stretches[0]["frames"][1].as_u64().unwrap(),
    );
    assert!(
        s0 <= first && e0 >= first,
        "the first stretch {s0}-{e0} starts the tracklet {first}-{last}"
    );
    assert!(
        delivered < window && delivered >= last + 1 - first,
        "{delivered} frames delivered of {window}; the tracklet spans {first}-{last}"
    );
    assert!(only["withheld_seconds"].as_f64().unwrap() > 0.0, "{only}");
    assert_eq!(
        frames_of(&d.join("export.mp4")),
        delivered,
        "the copy has as many frames as its stretches"
    );

    // The default (NaN): the whole window, no only_requester record.
    let d = out_dir("whole");
    let (status, message) = run(&d, &tracks, Some(id), f64::NAN);
    assert_eq!(status, veil_status::VEIL_STATUS_OK, "{message}");
    let m = json(&d.join("export.mp4.manifest.json"));
    assert!(
        m.get("only_requester").is_none_or(serde_json::Value::is_null),
        "{m}"
    );
    assert_eq!(frames_of(&d.join("export.mp4")), window);
}

/// The number of video frames of `path`, decoded by ffprobe.
fn frames_of(path: &Path) -> u64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe {}", path.display());
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
