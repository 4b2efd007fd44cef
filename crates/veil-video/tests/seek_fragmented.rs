//! Windows of a segment written the way the recorder writes one (a fragmented MP4 from
//! [`veil_video::VideoWriter`] with a keyframe every second): a window that starts past the
//! first keyframe holds exactly the frames of the whole file inside it, with the same pixels;
//! a stream copy of a window shows every frame it reports.
//!
//! The writer's segments once held open GOPs (x264's `open_gop=1`: setting the encoder's
//! flags to GLOBAL_HEADER alone cleared libx264's default `+cgop`): every keyframe after the
//! first was an I-frame that is not an IDR picture, followed in decode order by B-frames that
//! refer to the GOP before it, yet flagged a sync sample. Decoding from such a keyframe makes
//! a strict decoder report errors (the missing references), so the reader must start from a
//! keyframe that decodes cleanly. The writer now writes closed GOPs (checked below), and the
//! reader must still cope with open ones: segments recorded before, files from cameras and
//! other tools. The window test runs on both: the writer's segment and one FFmpeg's own
//! command writes the same way with `open_gop=1`.
#![allow(clippy::unwrap_used)]

use std::hash::Hasher;
use std::path::{Path, PathBuf};

use veil_video::{copy_window, CopyOptions, EncodeOptions, ReadOptions, VideoReader, VideoWriter};

const FPS: u32 = 10;
/// Frames of the segment: five seconds of the fixture, as `redact record --segment 5s`.
const FRAMES: usize = 50;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-seekfrag-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The first five seconds of the fixture as the recorder writes a segment: fragmented, a
/// fragment at every keyframe and at least every second, a keyframe every second.
fn write_segment(dest: &Path) {
    let opts = EncodeOptions {
        fragment: Some(std::time::Duration::from_secs(1)),
        keyframe_interval: Some(FPS),
        ..EncodeOptions::default()
    };
    let mut reader = VideoReader::open(fixture(), &ReadOptions::default()).unwrap();
    let info = reader.info().clone();
    assert_eq!(info.fps, (FPS as i32, 1));
    let mut w = VideoWriter::create(dest, &info, &opts).unwrap();
    for _ in 0..FRAMES {
        let f = reader.next_frame().unwrap().unwrap();
        w.write_decoded(&f).unwrap();
    }
    assert_eq!(w.finish().unwrap(), FRAMES as u64);
}

/// The same five seconds written by FFmpeg's command-line tool as an open-GOP fragmented
/// segment (what the writer wrote before its GOPs were closed).
fn write_open_gop_segment(dest: &Path) {
    let st = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(fixture())
        .args([
            "-frames:v",
            "50",
            "-an",
            "-c:v",
            "libx264",
            "-g",
            "10",
            "-x264-params",
            "open_gop=1",
        ])
        .args([
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof",
            "-frag_duration",
            "1000000",
        ])
        .arg(dest)
        .status()
        .unwrap();
    assert!(st.success());
}

/// x264's `open_gop` setting as its version SEI records it in `path`.
fn open_gop(path: &Path) -> Option<bool> {
    let bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(9).position(|w| w == b"open_gop=")?;
    Some(bytes[at + 9] == b'1')
}

/// A hash of the visible rows of one plane.
fn plane_hash(p: &veil_core::PlaneRef<'_>) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for row in p.rows() {
        h.write(row);
    }
    h.finish()
}

/// One decoded frame: its index in the read, time, and the hash of each plane.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    index: u64,
    time: f64,
    planes: Vec<u64>,
}

fn read(path: &Path, from: Option<f64>, to: Option<f64>) -> Result<Vec<Seen>, veil_video::VideoError> {
    let opts = ReadOptions {
        from,
        to,
        ..ReadOptions::default()
    };
    let mut r = VideoReader::open(path, &opts)?;
    let mut out = Vec::new();
    while let Some(f) = r.next_frame()? {
        let view = f.frame_ref().unwrap();
        out.push(Seen {
            index: f.index(),
            time: f.time(),
            planes: view.planes().iter().map(plane_hash).collect(),
        });
    }
    Ok(out)
}

/// The frames of the whole read inside `[from, to)`, indexed from 0 as a windowed read
/// indexes them.
fn expected(all: &[Seen], from: f64, to: Option<f64>) -> Vec<Seen> {
    all.iter()
        .filter(|s| s.time >= from - 1e-6 && to.is_none_or(|t| s.time < t - 1e-6))
        .enumerate()
        .map(|(i, s)| Seen {
            index: i as u64,
            ..s.clone()
        })
        .collect()
}

#[test]
fn a_window_past_the_first_keyframe_gives_the_frames_of_the_whole_read() {
    let dir = scratch("window");
    let seg = dir.join("segment.mp4");
    write_segment(&seg);
    assert_eq!(open_gop(&seg), Some(false), "the writer writes closed GOPs");
    let open = dir.join("open-gop.mp4");
    write_open_gop_segment(&open);
    assert_eq!(open_gop(&open), Some(true));
    for seg in [&seg, &open] {
        check_windows(seg);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every window of `seg` (see the test above) gives exactly the whole read's frames inside it.
fn check_windows(seg: &Path) {
    let all = read(seg, None, None).unwrap();
    assert_eq!(all.len(), FRAMES);
    for (k, s) in all.iter().enumerate() {
        assert_eq!(s.index, k as u64);
        assert!((s.time - k as f64 / f64::from(FPS)).abs() < 1e-6, "{s:?}");
    }
    // The window first reported (3.46 s to the end: "decode error at 3.800 s"), then a
    // window starting on every frame, and between two frames around every keyframe.
    let mut windows = vec![(3.46, None), (3.46, Some(4.5)), (1.0, None)];
    for k in 1..FRAMES {
        let t = k as f64 / f64::from(FPS);
        windows.push((t, Some(t + 0.25)));
        if k % 10 < 2 || k % 10 == 9 {
            windows.push((t - 0.05, Some(t + 0.75)));
        }
    }
    for (from, to) in windows {
        let got = read(seg, Some(from), to)
            .unwrap_or_else(|e| panic!("{}: window {from} s .. {to:?}: {e}", seg.display()));
        let want = expected(&all, from, to);
        assert!(!want.is_empty());
        assert_eq!(got, want, "{}: window {from} s .. {to:?}", seg.display());
    }
}

/// A stream copy of a window of the segment shows its last frame: the fragmented input's
/// packets carry no duration, and without one the copy's edit list ended at its last
/// presentation time, before the last frame, which players then dropped (the copy held one
/// packet more than it decoded to). Copies from the start decode, frame for frame, to the
/// segment's frames; a later window starts at the keyframe at or before `from`, at most one
/// fragment (a second) earlier.
#[test]
fn a_copy_of_a_window_of_the_segment_shows_every_frame_it_reports() {
    let dir = scratch("copy");
    let seg = dir.join("segment.mp4");
    write_segment(&seg);
    let all = read(&seg, None, None).unwrap();
    let copy = |from: f64, to: f64| {
        let out = dir.join(format!("copy-{from}-{to}.mp4"));
        let opts = CopyOptions {
            from: Some(from),
            to: Some(to),
            keep_audio: false,
        };
        let r = copy_window(&seg, &out, &opts).unwrap();
        let span = ((r.end - r.first) * f64::from(FPS)).round() as u64;
        assert_eq!(r.frames, span, "copy {from}..{to}: {r:?}");
        assert!(r.first <= from + 1e-6 && r.first > from - 1.0 - 1e-6, "{r:?}");
        assert!(r.end > to, "copy {from}..{to}: {r:?}");
        (out, r)
    };
    for to in [2.05, 4.5, 4.9] {
        let (out, r) = copy(0.0, to);
        let got = read(&out, None, None).unwrap_or_else(|e| panic!("copy 0..{to}: {e}"));
        assert_eq!(got.len() as u64, r.frames, "copy 0..{to}: {r:?}");
        let want = expected(&all, r.first, Some(r.end));
        let pixels = |v: &[Seen]| v.iter().map(|s| s.planes.clone()).collect::<Vec<_>>();
        assert_eq!(pixels(&got), pixels(&want), "copy 0..{to}: {r:?}");
    }
    let (_, r) = copy(3.46, 4.5);
    assert_eq!((r.first, r.frames), (3.0, 16), "{r:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
