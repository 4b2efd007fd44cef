//! Exact copies of a window ([`veil_video::copy_window`]): the frames of the copy, decoded,
//! equal the input's frames of the delivered window, decoded; the cut starts at the keyframe
//! at or before `from`; the lossless fallback keeps every pixel too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_video::{
    copy_or_reencode_lossless, copy_window, CopyMethod, CopyOptions, ReadOptions, VideoError, VideoReader,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-remux-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every decoded frame of `path` in `[from, to)`, as (time, bytes of the visible planes).
fn frames(path: &Path, from: Option<f64>, to: Option<f64>) -> Vec<(f64, Vec<u8>)> {
    let opts = ReadOptions {
        from,
        to,
        ..ReadOptions::default()
    };
    let mut r = VideoReader::open(path, &opts).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let view = f.frame_ref().unwrap();
        let mut bytes = Vec::new();
        for p in view.planes() {
            for row in p.rows() {
                bytes.extend_from_slice(row);
            }
        }
        out.push((f.time(), bytes));
    }
    out
}

/// The copy's frames equal the input's frames from the copy's first to its last frame.
fn assert_same_frames(input: &Path, output: &Path, first: f64, end: f64, frames: u64) {
    let copy = frames_of(output);
    assert_eq!(copy.len() as u64, frames, "frames reported vs decoded");
    // the input's frames of the delivered window: from its first frame up to (not incl.) its end
    let orig = self::frames(input, Some(first), Some(end - 1e-3));
    assert_eq!(
        copy.len(),
        orig.len(),
        "frame count of the copy vs the input's window"
    );
    assert!(
        (orig[0].0 - first).abs() < 1e-6,
        "first frame at {} not {first}",
        orig[0].0
    );
    for (i, (c, o)) in copy.iter().zip(&orig).enumerate() {
        assert!(c.1 == o.1, "frame {i} (input time {:.3} s) differs", o.0);
    }
}

fn frames_of(path: &Path) -> Vec<(f64, Vec<u8>)> {
    frames(path, None, None)
}

#[test]
fn copy_starts_at_keyframe_and_keeps_every_pixel() {
    // vtest.mp4: H.264 with B-frames, 10 fps, keyframes every 2.5 s.
    let input = root().join("fixtures/vtest.mp4");
    let dir = scratch("copy");
    let out = dir.join("copy.mp4");
    let r = copy_window(
        &input,
        &out,
        &CopyOptions {
            from: Some(3.0),
            to: Some(6.0),
            keep_audio: false,
        },
    )
    .unwrap();
    assert_eq!(r.method, CopyMethod::StreamCopy);
    assert_eq!(r.codec, "h264");
    assert!(
        (r.first - 2.5).abs() < 1e-6,
        "cut at the keyframe at 2.5 s, got {}",
        r.first
    );
    assert!(
        r.end >= 6.1 - 1e-6,
        "the frame shown at 6.0 s is delivered (end {})",
        r.end
    );
    assert!(
        r.end <= 6.5,
        "at most a few reference frames past to (end {})",
        r.end
    );
    assert!(r.frames >= 36, "{} frames", r.frames);
    assert_same_frames(&input, &out, r.first, r.end, r.frames);
    // nothing but the output in the directory (no temporary file left)
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Windows further into the clip (the copy seeks there first): on a keyframe, just after
/// one, and up to the end of the input.
#[test]
fn copy_after_a_seek_starts_at_the_right_keyframe() {
    let input = root().join("fixtures/vtest.mp4");
    let dir = scratch("seek");
    for (i, (from, to, first)) in [(5.0, 6.0, 5.0), (8.0, 9.0, 7.5), (12.6, 20.0, 12.5)]
        .into_iter()
        .enumerate()
    {
        let out = dir.join(format!("copy-{i}.mp4"));
        let r = copy_window(
            &input,
            &out,
            &CopyOptions {
                from: Some(from),
                to: Some(to),
                keep_audio: false,
            },
        )
        .unwrap();
        assert!(
            (r.first - first).abs() < 1e-6,
            "from {from}: first {} not {first}",
            r.first
        );
        assert_same_frames(&input, &out, r.first, r.end, r.frames);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn copy_of_mkv_with_audio_only_when_asked() {
    let input = root().join("fixtures/hostile/vtest-small.mkv");
    let dir = scratch("mkv");
    for keep_audio in [false, true] {
        let out = dir.join(format!("copy-{keep_audio}.mp4"));
        let r = copy_window(
            &input,
            &out,
            &CopyOptions {
                from: Some(1.5),
                to: Some(2.5),
                keep_audio,
            },
        )
        .unwrap();
        assert_eq!(r.audio, keep_audio);
        let o = VideoReader::open(&out, &ReadOptions::default()).unwrap();
        assert_eq!(o.info().has_audio, keep_audio);
        assert_same_frames(&input, &out, r.first, r.end, r.frames);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn window_after_the_end_is_an_error_and_leaves_nothing() {
    let input = root().join("fixtures/hostile/small.mp4");
    let dir = scratch("empty");
    let out = dir.join("copy.mp4");
    let e = copy_window(
        &input,
        &out,
        &CopyOptions {
            from: Some(50.0),
            to: Some(60.0),
            keep_audio: false,
        },
    )
    .unwrap_err();
    assert!(matches!(e, VideoError::Encode { .. }), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Raw video cannot go into MP4 packet for packet: the fallback re-encodes losslessly, and
/// the decoded pixels are still those of the input.
#[test]
fn raw_video_falls_back_to_lossless_reencode() {
    let dir = scratch("y4m");
    // a y4m (raw I420) made of the first 12 decoded frames of the real clip
    let src = frames(&root().join("fixtures/hostile/vtest-small.mkv"), None, None);
    let y4m = dir.join("raw.y4m");
    let mut data = b"YUV4MPEG2 W384 H288 F10:1 Ip A1:1 C420jpeg\n".to_vec();
    for (_, bytes) in src.iter().take(12) {
        data.extend_from_slice(b"FRAME\n");
        data.extend_from_slice(bytes);
    }
    std::fs::write(&y4m, &data).unwrap();
    let out = dir.join("copy.mp4");
    let opts = CopyOptions {
        from: Some(0.3),
        to: Some(0.8),
        keep_audio: false,
    };
    let e = copy_window(&y4m, &out, &opts).unwrap_err();
    assert!(matches!(e, VideoError::CopyUnsupported { .. }), "{e}");
    assert!(!out.exists());
    let r = copy_or_reencode_lossless(&y4m, &out, &opts).unwrap();
    assert!(
        matches!(r.method, CopyMethod::LosslessReencode { .. }),
        "{:?}",
        r.method
    );
    assert_eq!(r.codec, "rawvideo");
    assert_eq!(r.frames, 6, "frames at 0.3 .. 0.8 s inclusive");
    let copy = frames_of(&out);
    assert_eq!(copy.len(), 6);
    for (i, (_, bytes)) in copy.iter().enumerate() {
        assert!(
            *bytes == src[3 + i].1,
            "frame {} differs after the lossless re-encode",
            3 + i
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
