//! The activity gate of the analysis (issue 31 item 4) on real footage with the real models:
//! the bundled CCTV clip's empty street (its temporal median) held with sensor noise, five
//! seconds of the real clip's pedestrians, and the empty street again. The empty stretches
//! are not searched, and every box the analysis finds with every frame searched is found
//! with the gate too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_redact::{analyze, AnalyzeOptions, AnalyzeReport, Tracks};

#[path = "support/dirs.rs"]
mod dirs;
#[path = "support/visit_clip.rs"]
mod visit_clip;
use visit_clip::clip;

fn run(input: &Path, tracks: PathBuf, gate: Option<f64>) -> (AnalyzeReport, Tracks) {
    let mut o = AnalyzeOptions::new(input, tracks.clone());
    o.detect.full_search_every = gate;
    let r = analyze(&o).unwrap();
    (r, Tracks::load(tracks).unwrap())
}

#[test]
fn empty_stretches_are_skipped_and_every_box_of_a_full_search_is_still_found() {
    let d = dirs::out_dir("veil-activity-tests", "visit");
    let input = clip(&d);
    let (all, all_tracks) = run(&input, d.join("all.json"), None);
    let (gated, gated_tracks) = run(&input, d.join("gated.json"), Some(1.0));
    assert_eq!(all.frames, 130);
    assert_eq!(gated.frames, 130);
    assert_eq!(all.frames_skipped, 0);
    // The empty stretches (80 frames) are skipped but for the first frame and a full search
    // a second, and the frames a track lives on after the visit (31).
    assert!(
        gated.frames_skipped >= 40,
        "{} frames skipped",
        gated.frames_skipped
    );
    assert_eq!(gated_tracks.provenance().full_search_every, Some(1.0));
    assert_eq!(all_tracks.provenance().full_search_every, None);
    // Every detected (not interpolated) box of the analysis that searched every frame has a
    // box of the gated analysis over it on its frame.
    let mut checked = 0;
    for t in all_tracks.tracks() {
        for b in t.boxes().iter().chain(t.faces()).filter(|b| !b.interpolated) {
            let hit = gated_tracks
                .boxes_at(b.frame, 0)
                .any(|(_, _, g, _)| g.iou(&b.bbox) >= 0.5);
            assert!(
                hit,
                "frame {}: box {:?} of track {} not found with the gate",
                b.frame,
                b.bbox,
                t.id()
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} boxes checked");
}
