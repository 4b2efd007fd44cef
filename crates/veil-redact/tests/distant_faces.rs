//! Distant faces (issue 14): no face of 24 px or more escapes a `--keep-none` export, at 1080p
//! and at 4K. Real photographs: three copies of the hand-annotated group photo, shrunk so
//! its faces are 24-48 px tall, over OpenCV's real CCTV street scene; one group stands still
//! and two walk. The clip is encoded, exported through the real detectors, and every face
//! of every frame is compared with the input by the correlation test of the inzage tests.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_core::PixelFormat;
use veil_redact::{export, ExportOptions, Requester};
use veil_video::{EncodeOptions, VideoInfo, VideoWriter};

#[path = "../../veil-detect/tests/common/scene.rs"]
mod scene;
#[path = "support/thumb.rs"]
mod thumb;

use scene::{to_frame, Scene};
use thumb::{detail, down16, luma, pearson};

#[path = "support/dirs.rs"]
mod dirs;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-distant", name)
}

/// Encode `frames` frames of the scene at 10 fps (CRF 16: the faces survive encoding) and
/// return the clip and the face boxes of each frame.
fn make_clip(dir: &Path, w: u32, h: u32, frames: u32, speed: f32) -> (PathBuf, Vec<Vec<[f32; 4]>>) {
    let scene = Scene::new(w, h, speed);
    let path = dir.join("distant.mp4");
    let opts = EncodeOptions {
        crf: 16,
        ..EncodeOptions::default()
    };
    let mut wr = VideoWriter::create(&path, &VideoInfo::new(w, h, (10, 1)), &opts).unwrap();
    let mut boxes = Vec::new();
    for n in 0..frames {
        let (img, faces) = scene.frame(n);
        let f = to_frame(&img);
        assert_eq!(f.format(), PixelFormat::Rgb24);
        wr.write(&f.as_ref(), i64::from(n)).unwrap();
        boxes.push(faces.iter().map(|b| [b.x, b.y, b.w, b.h]).collect());
    }
    wr.finish().unwrap();
    (path, boxes)
}

/// Export with nobody kept and check every face of every frame: the 16x16 thumbnail of the
/// face box correlates below 0.9 with the input and its detail band below 0.5, and below 0.4
/// on average over all faces (the bystander criterion of tests/identity.rs).
/// Returns the number of faces (over all frames) that stayed recognisable; asserts none
/// did when `min_face` is the default.
fn every_face_redacted(w: u32, h: u32, frames: u32, speed: f32, min_face: u32) -> usize {
    let dir = out_dir(&format!("{w}x{h}-{speed}-{min_face}"));
    let (clip, boxes) = make_clip(&dir, w, h, frames, speed);
    let out = dir.join("export.mp4");
    let mut opts = ExportOptions::new(&clip, &out);
    opts.requester = Requester::None;
    opts.detect.min_face = min_face;
    let report = export(&opts).unwrap();
    assert_eq!(
        report.manifest.settings.min_face,
        Some(min_face),
        "the manifest records the guarantee"
    );
    let strict = min_face == veil_detect::DEFAULT_MIN_FACE;
    let mut leaks = 0;
    let (_, _, input) = luma(&clip);
    let (ow, _, output) = luma(&out);
    assert_eq!(ow, w);
    assert_eq!(input.len(), output.len());
    assert_eq!(input.len(), boxes.len());
    let mut worst = (f64::MIN, f64::MIN);
    let mut details = Vec::new();
    for (n, ((a, b), faces)) in input.iter().zip(&output).zip(&boxes).enumerate() {
        for (i, &bx) in faces.iter().enumerate() {
            assert!(bx[3] >= 23.0, "the scene's faces are at least 24 px tall");
            let (p, q) = (down16(a, w, bx), down16(b, w, bx));
            let (r, d) = (pearson(&p, &q), pearson(&detail(&p), &detail(&q)));
            worst = (worst.0.max(r), worst.1.max(d));
            details.push(d);
            // The irreversible blur puts fresh random noise on its cell means on every run,
            // so a redacted face's detail correlation is a random variable (mostly 0.0-0.25
            // here, 0.42 seen once in a full run at 4K; a face left clear gives 0.9 or more):
            // the rule of tests/identity.rs, below 0.5 for every face and below 0.4 on
            // average (asserted after the loop).
            leaks += usize::from(!(r < 0.9 && d < 0.5));
            assert!(
                !strict || (r < 0.9 && d < 0.5),
                "{w}x{h} frame {n}: face {i} ({:.0} px tall at {:.0},{:.0}) correlation {r:.3}/{d:.3}: still recognisable",
                bx[3],
                bx[0],
                bx[1]
            );
        }
    }
    let mean = details.iter().sum::<f64>() / details.len().max(1) as f64;
    assert!(
        !strict || mean < 0.4,
        "{w}x{h}: detail correlation {mean:.3} on average over the faces (still recognisable)"
    );
    eprintln!(
        "{w}x{h}: {} faces in {} frames all redacted; highest correlation {:.3}/{:.3}",
        boxes.iter().map(Vec::len).sum::<usize>(),
        boxes.len(),
        worst.0,
        worst.1
    );
    let _ = std::fs::remove_dir_all(&dir);
    leaks
}

#[test]
fn no_face_of_24_px_escapes_at_1080p() {
    every_face_redacted(1920, 1080, 30, 4.0, 24);
}

/// The check above can fail: searching only for faces the default whole-frame input sees
/// (min_face 64), faces of the same clip stay recognisable.
#[test]
fn the_check_sees_leaks_when_small_faces_are_not_searched() {
    let leaks = every_face_redacted(1920, 1080, 8, 4.0, 64);
    assert!(
        leaks > 0,
        "with min_face 64 some 24-40 px face should stay recognisable"
    );
}

#[test]
fn no_face_of_24_px_escapes_at_4k() {
    every_face_redacted(3840, 2160, 12, 6.0, 24);
}
