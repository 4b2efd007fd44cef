//! Inputs with a display matrix (phones and some cameras store pictures sideways and say so
//! there): frames are handed out upright, at the upright size, so that detection sees people
//! standing and an encoded copy plays upright. The turned frames are compared pixel for
//! pixel with the frames of the same stream without the matrix, turned here independently.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use veil_video::{ReadOptions, VideoError, VideoReader};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-video-rotation-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `src` with its video stream copied (same packets) and the rotation metadata `degrees`
/// (as the FFmpeg command-line tool writes it: the display matrix of a picture shown turned
/// clockwise by that much).
fn with_rotation(src: &Path, dst: &Path, degrees: &str) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(src)
        .args(["-c", "copy", "-metadata:s:v:0"])
        .arg(format!("rotate={degrees}"))
        .arg(dst)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg could not write {}", dst.display());
}

/// Every frame's three planes, row by row (visible bytes only), and the frame size.
fn planes(path: &Path) -> (u32, u32, Vec<[Vec<Vec<u8>>; 3]>) {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let (w, h) = (r.info().width, r.info().height);
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        let p = v.planes();
        out.push([0, 1, 2].map(|i| p[i].rows().map(<[u8]>::to_vec).collect()));
    }
    (w, h, out)
}

/// What FFmpeg's own player shows: the frames of `path` decoded by the command-line tool,
/// which turns them upright by the display matrix (autorotate), as I420 planes of `w` x `h`.
fn shown_by_ffmpeg(path: &Path, w: usize, h: usize) -> Vec<[Vec<Vec<u8>>; 3]> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let size = w * h + 2 * cw * ch;
    assert_eq!(out.stdout.len() % size, 0);
    out.stdout
        .chunks(size)
        .map(|f| {
            let (y, uv) = f.split_at(w * h);
            let (u, v) = uv.split_at(cw * ch);
            [
                y.chunks(w).map(<[u8]>::to_vec).collect(),
                u.chunks(cw).map(<[u8]>::to_vec).collect(),
                v.chunks(cw).map(<[u8]>::to_vec).collect(),
            ]
        })
        .collect()
}

/// A 160x96 clip of FFmpeg's test pattern (not symmetric under any turn), 5 frames.
fn pattern(d: &Path) -> PathBuf {
    let p = d.join("plain.mp4");
    let ok = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x96:rate=10",
        ])
        .args(["-frames:v", "5", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&p)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    p
}

#[test]
fn sideways_pictures_are_handed_out_upright() {
    let d = scratch("turns");
    let plain = pattern(&d);
    let (w, h, _) = planes(&plain);
    assert_eq!((w, h), (160, 96));
    // FFmpeg's "rotate" tag N writes a matrix that shows the picture turned N degrees
    // counter-clockwise: turned clockwise by 360 - N.
    for (tag, degrees) in [("90", 270u16), ("180", 180), ("270", 90)] {
        let turned = d.join(format!("turned-{tag}.mp4"));
        with_rotation(&plain, &turned, tag);
        let r = VideoReader::open(&turned, &ReadOptions::default()).unwrap();
        assert_eq!(r.info().rotation, degrees, "rotate={tag}");
        drop(r);
        let (tw, th, frames) = planes(&turned);
        let expect = if degrees == 180 { (160, 96) } else { (96, 160) };
        assert_eq!((tw, th), expect, "rotate={tag}: upright size");
        let shown = shown_by_ffmpeg(&turned, tw as usize, th as usize);
        assert_eq!(frames.len(), 5);
        assert_eq!(shown.len(), 5);
        for (n, (got, want)) in frames.iter().zip(&shown).enumerate() {
            assert!(
                got == want,
                "rotate={tag}: frame {n} is not the picture FFmpeg shows"
            );
        }
    }
    // Without the matrix nothing is turned.
    let r = VideoReader::open(&plain, &ReadOptions::default()).unwrap();
    assert_eq!(r.info().rotation, 0);
}

#[test]
fn a_turn_other_than_a_quarter_is_refused_at_open() {
    let d = scratch("odd");
    let plain = pattern(&d);
    let odd = d.join("odd.mp4");
    with_rotation(&plain, &odd, "45");
    match VideoReader::open(&odd, &ReadOptions::default()) {
        Err(VideoError::Open { reason, .. }) => assert!(reason.contains("quarter turns"), "{reason}"),
        other => panic!("expected an open error, got {other:?}"),
    }
}
