//! Resource limits and hostile paths of the reader: the frame-size cap
//! ([`ReadOptions::max_pixels`]) refuses a stream before any frame is decoded and stops one
//! that grows mid-stream; paths FFmpeg cannot be given are typed errors, not panics; and the
//! known silent truncation of Matroska files the fuzz harness found.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_core::MAX_PIXELS;
use veil_video::{EncodeOptions, ReadOptions, VideoError, VideoReader, VideoWriter};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn capped(max_pixels: u64) -> ReadOptions {
    ReadOptions {
        max_pixels: Some(max_pixels),
        ..Default::default()
    }
}

/// Frames read until the end or the first error.
fn drain(r: &mut VideoReader) -> (u64, Option<VideoError>) {
    let mut n = 0;
    loop {
        match r.next_frame() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

#[test]
fn a_stream_larger_than_the_cap_is_refused_at_open() {
    let vtest = fixture("vtest.mp4"); // 768x576 = 442,368 pixels
    match VideoReader::open(&vtest, &capped(442_367)) {
        Err(VideoError::UnsupportedSize {
            width: 768,
            height: 576,
            reason,
            ..
        }) => assert!(reason.contains("442367"), "{reason}"),
        other => panic!("expected UnsupportedSize, got {other:?}"),
    }
    // at the cap: accepted and decoded
    let mut r = VideoReader::open(&vtest, &capped(442_368)).unwrap();
    let (n, e) = drain(&mut r);
    assert_eq!(n, 150, "{e:?}");
    assert!(e.is_none(), "{e:?}");
}

#[test]
fn a_cap_above_veils_limit_is_veils_limit() {
    let mut r = VideoReader::open(fixture("hostile/small.mp4"), &capped(u64::MAX)).unwrap();
    assert_eq!(drain(&mut r).0, 10);
    // the y4m header at exactly MAX_PIXELS still passes the size checks with no cap given
    let e = VideoReader::open(fixture("hostile/at-limit.y4m"), &capped(MAX_PIXELS - 1)).unwrap_err();
    assert!(matches!(e, VideoError::UnsupportedSize { .. }), "{e}");
}

/// size-change.h264 is 5 frames of 64x48, then a new SPS and 5 of 96x64. With the cap at
/// 64x48 the decoder refuses to allocate the larger frames (before the reader's own geometry
/// check would see them): at most the 5 small frames (frames still in the decoder's threads
/// when it fails are not handed out), then an error.
#[test]
fn a_stream_growing_past_the_cap_mid_stream_stops_with_an_error() {
    let mut r = VideoReader::open(fixture("hostile/size-change.h264"), &capped(64 * 48)).unwrap();
    let (n, e) = drain(&mut r);
    assert!(n <= 5, "{n} frames");
    let e = e.expect("an error after the small frames");
    assert!(
        matches!(e, VideoError::Decode { .. } | VideoError::GeometryChanged { .. }),
        "{e}"
    );
}

/// ffmpeg-next converts paths with `to_str().unwrap()`; found while testing the C ABI with
/// non-UTF-8 paths (which are valid on Unix): `open` panicked.
#[test]
fn regression_non_utf8_and_nul_paths_are_errors_not_panics() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-paths");
    std::fs::create_dir_all(&dir).unwrap();
    let weird = dir.join(std::ffi::OsStr::from_bytes(b"in-\xff\xfe.mp4"));
    std::fs::copy(fixture("hostile/small.mp4"), &weird).unwrap();
    let nul = dir.join(std::ffi::OsStr::from_bytes(b"in-\0.mp4"));
    for p in [&weird, &nul] {
        match VideoReader::open(p, &ReadOptions::default()) {
            Err(VideoError::Open { reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
            other => panic!("{}: expected an Open error, got {other:?}", p.display()),
        }
    }
}

/// Output paths: a file name that is not UTF-8 is written (the temporary file FFmpeg opens has
/// a UTF-8 name, the rename does not care); a directory whose name is not UTF-8 is a typed
/// error before anything is created, not a panic inside ffmpeg-next.
#[test]
fn non_utf8_output_names_are_written_and_non_utf8_directories_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-out-paths");
    let _ = std::fs::remove_dir_all(&dir);
    let weird_dir = dir.join(std::ffi::OsStr::from_bytes(b"dir-\xff"));
    std::fs::create_dir_all(&weird_dir).unwrap();
    let mut r = VideoReader::open(fixture("hostile/small.mp4"), &ReadOptions::default()).unwrap();
    let info = r.info().clone();
    let named = dir.join(std::ffi::OsStr::from_bytes(b"out-\xff.mp4"));
    let mut w = VideoWriter::create(&named, &info, &EncodeOptions::default()).unwrap();
    while let Some(f) = r.next_frame().unwrap() {
        w.write_decoded(&f).unwrap();
    }
    assert_eq!(w.finish().unwrap(), 10);
    assert!(std::fs::metadata(&named).unwrap().len() > 0);
    match VideoWriter::create(weird_dir.join("out.mp4"), &info, &EncodeOptions::default()) {
        Err(VideoError::Io { reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
        other => panic!("expected an Io error, got {:?}", other.err()),
    }
    assert_eq!(
        std::fs::read_dir(&weird_dir).unwrap().count(),
        0,
        "nothing created"
    );
}

/// Found by the fuzz harness (fuzz_video, seed 0x5eed0f7e57, case 9): a Matroska file cut
/// after its fifth frame ends cleanly with 5 of its 30 frames. Matroska gives no per-stream
/// duration, only the segment's, so the reader's completeness check (the index's stream
/// duration against the last frame) does not apply; an export of a cut-off MKV recording
/// would pass for complete (its manifest does record the frames and time span exported).
#[test]
fn regression_truncated_mkv_is_reported() {
    let bytes = std::fs::read(fixture("hostile/vtest-small.mkv")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-mkv");
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.mkv");
    std::fs::write(&cut, &bytes[..17_013]).unwrap();
    let mut r = VideoReader::open(&cut, &ReadOptions::default()).unwrap();
    let (n, e) = drain(&mut r);
    assert!(n < 30);
    assert!(
        matches!(e, Some(VideoError::Truncated { .. })),
        "{n} frames, then {e:?}"
    );
}

/// Found by the fuzz harness (seed 0x2, cases 74 and 116): damage in the middle of a
/// Matroska file (a block header overwritten with 0x80000000, or 808 bytes deleted inside a
/// cluster) makes FFmpeg's Matroska demuxer skip to the next element it can parse, and the
/// reader ends cleanly with 18 or 19 of the 30 frames: frames in the middle of the window
/// vanish without an error. (The `ffmpeg` CLI shows the same counts, with warnings only;
/// `-f_err_detect explode` does not change them.)
#[test]
fn regression_mkv_damage_mid_stream_is_reported() {
    let seed = std::fs::read(fixture("hostile/vtest-small.mkv")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-mkv-damage");
    std::fs::create_dir_all(&dir).unwrap();
    let mut overwritten = seed.clone();
    overwritten[20_799..20_803].copy_from_slice(&0x8000_0000u32.to_be_bytes());
    let mut deleted = seed;
    deleted.drain(10_597..10_597 + 808);
    for (name, bytes) in [("overwritten.mkv", overwritten), ("deleted.mkv", deleted)] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let mut r = VideoReader::open(&path, &ReadOptions::default()).unwrap();
        let (n, e) = drain(&mut r);
        assert!(e.is_some() || n == 30, "{name}: {n} of 30 frames and a clean end");
    }
}

/// Found by the fuzz harness (seed 0x3, cases 749 and 1677): vtest.mp4 with the type of its
/// `mdhd` box (offset 296) overwritten. FFmpeg warns "timescale not set", guesses 1/1000,
/// and the track's edit list then ends after 15 of the 150 frames: the reader ends cleanly,
/// and the completeness check (which uses the same damaged timing) passes.
#[test]
fn regression_mp4_damaged_media_header_is_reported() {
    let mut bytes = std::fs::read(fixture("vtest.mp4")).unwrap();
    assert_eq!(&bytes[296..300], b"mdhd");
    bytes[296..300].copy_from_slice(&0xFFFF_FFFEu32.to_be_bytes());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-mdhd");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mdhd.mp4");
    std::fs::write(&path, &bytes).unwrap();
    let mut r = VideoReader::open(&path, &ReadOptions::default()).unwrap();
    let (n, e) = drain(&mut r);
    assert!(e.is_some() || n == 150, "{n} of 150 frames and a clean end");
}

/// Found by the fuzz harness (seed 0x5eed0f7e57, case 180, which ends this way in some runs
/// and with a decode error in others, depending on the decoder's threads): the demuxer skips
/// a damaged last cluster without an error, and the stream ends cleanly 0.5 s early. The same
/// loss, deterministic: vtest-small.mkv cut at the start of its last cluster (offset 47,328)
/// ends after 24 of 30 frames, and Matroska's only statement of length is the segment's
/// duration. The reader used to allow half a second against it (audio may run on after the
/// video); it now measures where the file's content ends, audio included.
#[test]
fn regression_mkv_cut_at_a_cluster_boundary_is_reported() {
    let bytes = std::fs::read(fixture("hostile/vtest-small.mkv")).unwrap();
    assert_eq!(
        &bytes[47_328..47_332],
        &[0x1F, 0x43, 0xB6, 0x75],
        "a Cluster starts here"
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits-mkv-cluster");
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.mkv");
    std::fs::write(&cut, &bytes[..47_328]).unwrap();
    let mut r = VideoReader::open(&cut, &ReadOptions::default()).unwrap();
    let (n, e) = drain(&mut r);
    assert_eq!(n, 24, "the frames of the complete clusters are handed out");
    match e {
        Some(VideoError::Truncated { reason, .. }) => {
            assert!(reason.contains("the file's header says 3.000 s"), "{reason}")
        }
        other => panic!("24 frames, then {other:?}"),
    }
    // With its audio the whole file passes: the audio runs on 64 ms after the video.
    let mut r = VideoReader::open(fixture("hostile/vtest-small.mkv"), &ReadOptions::default()).unwrap();
    let (n, e) = drain(&mut r);
    assert!(n == 30 && e.is_none(), "{n} frames, then {e:?}");
}
