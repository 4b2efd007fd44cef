//! The activity gate of the analysis (issue 31 item 4) on real footage with the real models:
//! the bundled CCTV clip's empty street (its temporal median) held with sensor noise, five
//! seconds of the real clip's pedestrians, and the empty street again. The empty stretches
//! are not searched, and every box the analysis finds with every frame searched is found
//! with the gate too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use veil_redact::{analyze, AnalyzeOptions, AnalyzeReport, Tracks};

#[path = "support/dirs.rs"]
mod dirs;

fn ff(args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg {args:?}");
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// 4 s of empty street, 5 s of the clip, 4 s of empty street: 130 frames at 768x576, 10 fps,
/// sensor noise throughout, a keyframe every 2 s (as scripts/bench/empty_busy.sh builds its
/// clips).
fn clip(d: &Path) -> PathBuf {
    let vtest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4");
    let (median, frame0, bg) = (d.join("median.png"), d.join("frame0.png"), d.join("bg.png"));
    ff(&[
        "-i",
        p(&vtest),
        "-vf",
        "tmedian=radius=74,select=eq(n\\,0)",
        "-frames:v",
        "1",
        "-update",
        "1",
        p(&median),
    ]);
    ff(&["-i", p(&vtest), "-frames:v", "1", "-update", "1", p(&frame0)]);
    // Where someone stands most of the clip, the street from the first frame (nobody there).
    ff(&[
        "-i",
        p(&median),
        "-i",
        p(&frame0),
        "-filter_complex",
        "[1]crop=80:110:350:170[p];[0][p]overlay=350:170",
        "-update",
        "1",
        p(&bg),
    ]);
    let out = d.join("visit.mp4");
    ff(&[
        "-loop", "1", "-framerate", "10", "-t", "4", "-i", p(&bg),
        "-t", "5", "-i", p(&vtest),
        "-loop", "1", "-framerate", "10", "-t", "4", "-i", p(&bg),
        "-filter_complex",
        "[0]format=yuv420p[a];[1]format=yuv420p[b];[2]format=yuv420p[c];[a][b][c]concat=n=3,noise=alls=6:allf=t[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "20", "-r", "10",
        p(&out),
    ]);
    out
}

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
