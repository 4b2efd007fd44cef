//! `export --only-requester` (issue 31 item 3) on real footage with the real models: the
//! bundled CCTV clip's empty street, five seconds of its pedestrians, and the empty street
//! again (as tests/activity.rs builds it). With one pedestrian picked as the requester, the
//! copy holds just the frames of the stretches in which that person is in view, widened by
//! the margin and clamped to the clip; those frames are the full export's frames, pixel for
//! pixel (both encoded losslessly, bystanders filled solid); the copy's timestamps are continuous; the manifest lists
//! the stretches; the review strip is still written. With nobody kept it is refused, and
//! nothing is written.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use veil_redact::{analyze, export, AnalyzeOptions, ExportOptions, RedactError, Requester, Style, Tracks};
use veil_track::Class;

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;
#[path = "support/visit_clip.rs"]
mod visit_clip;
use visit_clip::{clip, p, FPS, FRAMES};

/// (pts, MD5 of the decoded picture) of every frame of `video`.
fn frame_md5s(video: &Path) -> Vec<(i64, String)> {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            p(video),
            "-map",
            "0:v",
            "-f",
            "framemd5",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "framemd5 of {}", video.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f[2].parse().unwrap(), f[5].to_owned())
        })
        .collect()
}

fn options(input: &Path, out: &Path, tracks: &Path, requester: Requester) -> ExportOptions {
    let mut o = ExportOptions::new(input, out);
    o.tracks = Some(tracks.to_path_buf());
    o.requester = requester;
    // Lossless, so that the decoded frames are the redacted frames of either export, and a
    // solid fill: the blur's cell means carry fresh random noise on every run.
    o.encode.crf = 0;
    o.style = Style::Solid;
    o
}

#[test]
fn only_the_requesters_stretches_are_delivered_as_the_full_export_has_them() {
    let d = dirs::out_dir("veil-only-requester-tests", "visit");
    let input = clip(&d);
    let tracks_path = d.join("tracks.json");
    analyze(&AnalyzeOptions::new(&input, &tracks_path)).unwrap();
    let tracks = Tracks::load(&tracks_path).unwrap();

    // The requester: the pedestrian with the most detected body boxes, picked at the middle one.
    let person = tracks
        .tracks()
        .iter()
        .filter(|t| t.class() == Class::Person)
        .max_by_key(|t| t.boxes().iter().filter(|b| !b.interpolated).count())
        .expect("a pedestrian");
    let detected: Vec<_> = person.boxes().iter().filter(|b| !b.interpolated).collect();
    let b = detected[detected.len() / 2];
    let requester = Requester::At {
        time: b.frame as f64 / FPS as f64,
        x: b.bbox.x + b.bbox.w / 2.0,
        y: b.bbox.y + b.bbox.h / 2.0,
    };

    let full_out = d.join("full.mp4");
    let mut o = options(&input, &full_out, &tracks_path, requester.clone());
    o.review = Some(d.join("full-review.png"));
    let full = export(&o).unwrap();
    assert!(full.manifest.only_requester.is_none());
    assert_eq!(full.manifest.counts.frames, FRAMES);

    let only_out = d.join("only.mp4");
    let mut o = options(&input, &only_out, &tracks_path, requester.clone());
    o.only_requester = Some(2.0);
    o.review = Some(d.join("review.png"));
    let only = export(&o).unwrap();
    let m = &only.manifest;
    assert_eq!(m.requester_tracklets, full.manifest.requester_tracklets);
    assert!(!m.requester_tracklets.is_empty());

    // The expected frames: every box of a kept tracklet, widened by 2 s (20 frames) either
    // side, clamped to the clip.
    let mut expected = vec![false; FRAMES as usize];
    for t in &m.requester_tracklets {
        let track = tracks.get(t.track).unwrap();
        let tl = track.tracklets().iter().find(|x| x.index == t.index).unwrap();
        for b in track.boxes().iter().chain(track.faces()) {
            if (tl.start..=tl.end).contains(&b.frame) {
                let (a, z) = (
                    b.frame.saturating_sub(2 * FPS),
                    (b.frame + 2 * FPS).min(FRAMES - 1),
                );
                for f in a..=z {
                    expected[f as usize] = true;
                }
            }
        }
    }
    let want: Vec<u64> = (0..FRAMES).filter(|&f| expected[f as usize]).collect();
    assert!(
        !want.is_empty() && (want.len() as u64) < FRAMES,
        "{} of {FRAMES} frames expected",
        want.len()
    );

    // The manifest lists the stretches: runs of the expected frames.
    let o_rec = m.only_requester.as_ref().expect("stretches in the manifest");
    assert_eq!(o_rec.margin, 2.0);
    assert_eq!(o_rec.timestamps, "continuous");
    let mut runs: Vec<[u64; 2]> = Vec::new();
    for &f in &want {
        match runs.last_mut() {
            Some(r) if r[1] + 1 == f => r[1] = f,
            _ => runs.push([f, f]),
        }
    }
    let listed: Vec<[u64; 2]> = o_rec.stretches.iter().map(|s| s.frames).collect();
    assert_eq!(listed, runs);
    let mut at = 0.0;
    for s in &o_rec.stretches {
        assert_eq!(s.frame_count, s.frames[1] - s.frames[0] + 1);
        let (a, z) = (
            s.frames[0] as f64 / FPS as f64,
            (s.frames[1] + 1) as f64 / FPS as f64,
        );
        assert!(
            (s.stream[0] - a).abs() < 1e-3 && (s.stream[1] - z).abs() < 1e-3,
            "{s:?}"
        );
        assert!(
            (s.output[0] - at).abs() < 1e-3,
            "{s:?} should start at {at} s of the copy"
        );
        at = s.output[1];
        assert!(s.wall.is_none());
    }
    assert_eq!(m.counts.frames, want.len() as u64);
    assert!(!m.settings.audio);
    let left_out = (FRAMES - want.len() as u64) as f64 / FPS as f64;
    assert!(
        (o_rec.withheld_seconds - left_out).abs() < 1e-3,
        "{}",
        o_rec.withheld_seconds
    );

    // The copy: just those frames, each the full export's, with continuous timestamps.
    let full_frames = frame_md5s(&full_out);
    assert_eq!(full_frames.len() as u64, FRAMES);
    let only_frames = frame_md5s(&only_out);
    assert_eq!(only_frames.len(), want.len());
    for (i, (&f, (_, md5))) in want.iter().zip(&only_frames).enumerate() {
        assert_eq!(
            md5, &full_frames[f as usize].1,
            "frame {i} of the copy (frame {f})"
        );
    }
    let steps: Vec<i64> = only_frames.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        steps.iter().all(|&s| s == steps[0]),
        "timestamps of the copy not continuous: steps {steps:?}"
    );
    // The review strip still shows the whole window, left-out stretches included: as many
    // cells as the full export's.
    let dims = |p: &Path| image::image_dimensions(p).unwrap();
    assert_eq!(dims(&d.join("review.png")), dims(&d.join("full-review.png")));

    // Nobody kept: nothing to deliver, refused before the work, nothing written.
    let none_dir = dirs::out_dir("veil-only-requester-tests", "none");
    let none_out = none_dir.join("none.mp4");
    let mut o = options(&input, &none_out, &tracks_path, Requester::None);
    o.only_requester = Some(2.0);
    match export(&o) {
        Err(RedactError::InvalidOption { reason }) => {
            assert!(reason.contains("nothing to deliver"), "{reason}")
        }
        other => panic!("--only-requester with nobody kept: {other:?}"),
    }
    assert!(listing(&none_dir).is_empty(), "{:?}", listing(&none_dir));
}
