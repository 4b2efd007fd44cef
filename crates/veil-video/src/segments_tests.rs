//! [`concat_segments`] over cuts of the real fixture clip (vtest: 10 fps, a keyframe every
//! 25 frames, B-frames).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use super::*;
use crate::{copy_window, CopyOptions, ReadOptions, VideoReader};
use ffmpeg_next as ff;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-video-segments-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// (time, luma checksum) of every frame.
fn frames(path: &Path) -> Vec<(f64, u64)> {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for row in v.plane(0).unwrap().rows() {
            for &b in row {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
        out.push((f.time(), h));
    }
    out
}

fn cut(dir: &Path, name: &str, from: f64, to: f64) -> SegmentInput {
    let path = dir.join(name);
    let opts = CopyOptions {
        from: Some(from),
        to: Some(to),
        keep_audio: false,
    };
    copy_window(&fixture("vtest.mp4"), &path, &opts).unwrap();
    SegmentInput {
        path: path.clone(),
        name: path,
    }
}

#[test]
fn segments_join_into_one_stream_with_their_frames_and_continuous_times() {
    let dir = scratch("join");
    // Two cuts starting on keyframes (0 s and 5 s), as a recorder's segments do.
    let a = cut(&dir, "a.mp4", 0.0, 4.9);
    let b = cut(&dir, "b.mp4", 5.0, 9.9);
    let (fa, fb) = (frames(&a.path), frames(&b.path));
    for keyframes in [Keyframes::SegmentStarts, Keyframes::AsRecorded] {
        let joined = dir.join(format!("joined-{keyframes:?}.mp4"));
        let report = concat_segments(&[a.clone(), b.clone()], &joined, keyframes).unwrap();
        assert_eq!(report.codec, "h264");
        assert_eq!(report.spans.len(), 2);
        assert_eq!(report.spans[0].frames, fa.len() as u64);
        assert_eq!(report.spans[1].frames, fb.len() as u64);
        assert_eq!(report.spans[0].first, 0.0);
        assert!(
            (report.spans[0].end - report.spans[1].first).abs() < 1e-9,
            "{report:?}"
        );
        let fj = frames(&joined);
        // The pixels are the segments' own, in order...
        let sums: Vec<u64> = fj.iter().map(|f| f.1).collect();
        let want: Vec<u64> = fa.iter().chain(&fb).map(|f| f.1).collect();
        assert_eq!(sums, want);
        // ...one frame duration apart throughout, across the boundary too.
        for w in fj.windows(2) {
            assert!((w[1].0 - w[0].0 - 0.1).abs() < 1e-6, "{:?} -> {:?}", w[0], w[1]);
        }
        // A reader can start inside the second segment.
        let mut r = VideoReader::open(
            &joined,
            &ReadOptions {
                from: Some(report.spans[1].first + 3.2),
                ..Default::default()
            },
        )
        .unwrap();
        let first = r.next_frame().unwrap().unwrap();
        assert!((first.time() - (report.spans[1].first + 3.2)).abs() < 1e-6);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_segment_of_another_stream_is_refused_naming_it() {
    let dir = scratch("refuse");
    let a = cut(&dir, "a.mp4", 0.0, 2.4);
    let other = SegmentInput {
        path: fixture("inzage/group_pan.mp4"),
        name: PathBuf::from("cam/20260301T100005Z.mp4"),
    };
    let e = concat_segments(&[a, other], &dir.join("j.mp4"), Keyframes::default()).unwrap_err();
    assert!(
        matches!(&e, VideoError::CopyUnsupported { path, .. } if path.ends_with("20260301T100005Z.mp4")),
        "{e}"
    );
    let e = concat_segments(&[], &dir.join("j.mp4"), Keyframes::default()).unwrap_err();
    assert!(matches!(e, VideoError::InvalidOption { .. }), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// (pts, dts) in decode order, as a B-frame encoder writes them: I0 P2 B1 P4 B3 ...
fn decode_order(pts: &[i64]) -> Vec<(i64, i64, ff::Packet)> {
    pts.iter()
        .enumerate()
        .map(|(i, &p)| (p, i as i64 * 10 - 10, ff::Packet::empty()))
        .collect()
}

#[test]
fn a_segment_whose_timestamps_jump_is_retimed_one_frame_apart_and_one_without_is_not() {
    // Frame duration 10 ticks; frames 40 and 50 were lost (the jump from 30 to 60).
    let mut jumpy = decode_order(&[0, 20, 10, 30, 70, 60, 80]);
    assert_eq!(retime(&mut jumpy, 1000, 10), [(1040, 20)]);
    let pts: Vec<i64> = jumpy.iter().map(|p| p.0).collect();
    assert_eq!(pts, [1000, 1020, 1010, 1030, 1050, 1040, 1060]);
    let dts: Vec<i64> = jumpy.iter().map(|p| p.1).collect();
    // One frame apart, never after the presentation time.
    assert!(dts.windows(2).all(|w| w[1] - w[0] == 10), "{dts:?}");
    assert!(jumpy.iter().all(|p| p.1 <= p.0), "{dts:?} {pts:?}");
    let mut steady = decode_order(&[0, 20, 10, 40, 30, 50]);
    assert!(retime(&mut steady, 1000, 10).is_empty());
    assert_eq!(
        steady.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 20, 10, 40, 30, 50]
    );
}
