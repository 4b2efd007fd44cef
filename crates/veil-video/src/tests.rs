//! Unit tests of veil-video over the real fixture clip (OpenCV's vtest, 150 frames, 10 fps,
//! a keyframe every 25 frames, B-frames).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use veil_core::{Frame, PixelFormat};

use super::*;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4")
}

fn scratch_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-video-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A checksum of the visible pixels of a frame (FNV-1a over the rows).
fn checksum(frame: &veil_core::FrameRef<'_>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in frame.planes() {
        for row in p.rows() {
            for &b in row {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    h
}

fn read_all(opts: &ReadOptions) -> Vec<(u64, f64, u64)> {
    let mut r = VideoReader::open(fixture(), opts).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        out.push((f.index(), f.time(), checksum(&f.frame_ref().unwrap())));
    }
    out
}

#[test]
fn opens_the_fixture() {
    let r = VideoReader::open(fixture(), &ReadOptions::default()).unwrap();
    let i = r.info();
    assert_eq!((i.width, i.height), (768, 576));
    assert_eq!(i.fps, (10, 1));
    assert_eq!(i.format, PixelFormat::I420);
    assert!(!i.has_audio);
    assert_eq!(i.frame_count_estimate, Some(150));
    assert!((i.duration.unwrap() - 15.0).abs() < 0.2);
}

#[test]
fn reads_every_frame_in_order() {
    let all = read_all(&ReadOptions::default());
    assert_eq!(all.len(), 150);
    for (k, (index, time, _)) in all.iter().enumerate() {
        assert_eq!(*index, k as u64);
        assert!((time - k as f64 * 0.1).abs() < 1e-6, "frame {k} at {time}");
    }
}

#[test]
fn window_holds_exactly_the_frames_inside_it() {
    let all = read_all(&ReadOptions::default());
    // Around keyframes (every 2.5 s) and B-frames, where a naive seek loses frames.
    for (from, to) in [
        (2.35, 5.05),
        (2.45, 3.0),
        (2.5, 2.6),
        (0.95, 1.0),
        (7.4, 100.0),
        (0.0, 0.3),
        (14.9, 15.0),
    ] {
        let got = read_all(&ReadOptions {
            from: Some(from),
            to: Some(to),
            ..Default::default()
        });
        let want: Vec<_> = all
            .iter()
            .filter(|(_, t, _)| *t >= from - 1e-6 && *t < to - 1e-6)
            .collect();
        assert_eq!(got.len(), want.len(), "window [{from}, {to})");
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.0, k as u64, "index in window [{from}, {to})");
            assert!((g.1 - w.1).abs() < 1e-9, "time in window [{from}, {to})");
            // Same pixels as when decoding from the start: the seek landed early enough.
            assert_eq!(
                g.2, w.2,
                "pixels of the frame at {} in window [{from}, {to})",
                w.1
            );
        }
    }
}

#[test]
fn masking_in_place_never_alters_reference_frames() {
    let clean = read_all(&ReadOptions::default());
    let mut r = VideoReader::open(fixture(), &ReadOptions::default()).unwrap();
    let mut k = 0;
    while let Some(mut f) = r.next_frame().unwrap() {
        let mut view = f.frame_mut().unwrap();
        assert_eq!(
            checksum(&view.as_ref()),
            clean[k].2,
            "frame {k} differs: a reference was altered"
        );
        view.fill_black();
        k += 1;
    }
    assert_eq!(k, 150);
}

#[test]
fn writer_round_trip_keeps_size_rate_count_and_pixels() {
    let dir = scratch_dir("roundtrip");
    let out = dir.join("out.mp4");
    let mut r = VideoReader::open(
        fixture(),
        &ReadOptions {
            to: Some(3.0),
            ..Default::default()
        },
    )
    .unwrap();
    let info = r.info().clone();
    let mut w = VideoWriter::create(&out, &info, &EncodeOptions::default()).unwrap();
    let mut originals = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        // Alternate the copying path and the zero-copy path.
        if f.index() % 2 == 0 {
            w.write(&f.frame_ref().unwrap(), f.pts()).unwrap();
        } else {
            w.write_decoded(&f).unwrap();
        }
        originals.push(Frame::from_ref(&f.frame_ref().unwrap()));
    }
    assert!(!out.exists(), "nothing at the destination before finish");
    assert_eq!(w.finish().unwrap(), 30);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("out.mp4")],
        "no temporary file left"
    );

    let mut back = VideoReader::open(&out, &ReadOptions::default()).unwrap();
    assert_eq!((back.info().width, back.info().height), (768, 576));
    assert_eq!(back.info().fps, (10, 1));
    let mut n = 0;
    while let Some(f) = back.next_frame().unwrap() {
        assert!((f.time() - n as f64 * 0.1).abs() < 1e-3);
        let a = f.frame_ref().unwrap();
        let b = originals[n].as_ref();
        let (pa, pb) = (a.planes()[0], b.planes()[0]);
        let mut sum = 0u64;
        for (ra, rb) in pa.rows().zip(pb.rows()) {
            sum += ra
                .iter()
                .zip(rb)
                .map(|(x, y)| u64::from(x.abs_diff(*y)))
                .sum::<u64>();
        }
        let mean = sum as f64 / (768.0 * 576.0);
        assert!(mean < 2.0, "frame {n}: mean luma difference {mean}");
        n += 1;
    }
    assert_eq!(n, 30);
    std::fs::remove_dir_all(dir).unwrap();
}

/// BT.601 limited-range YUV of an sRGB colour, as swscale converts it by default.
fn yuv601(r: u8, g: u8, b: u8) -> [f64; 3] {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    [
        16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0,
        128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0,
        128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0,
    ]
}

/// A 64x48 frame of `format` whose left half holds one colour and right half another, each
/// given as the bytes of one pixel in that format (for NV12: Y, then U and V).
fn two_halves(format: PixelFormat, left: &[u8], right: &[u8]) -> Frame {
    let mut f = Frame::new(format, 64, 48).unwrap();
    let mut view = f.as_mut();
    let planes = view.planes_mut();
    if format == PixelFormat::Nv12 {
        // Luma, then the interleaved U and V.
        for (p, plane) in planes.iter_mut().enumerate() {
            let (w, bpp) = (plane.width() as usize, plane.bytes_per_pixel());
            for y in 0..plane.height() {
                for (x, px) in plane.row_mut(y).chunks_mut(bpp).enumerate() {
                    let src = if x < w / 2 { left } else { right };
                    match (p, bpp) {
                        (0, _) => px[0] = src[0],
                        (_, 2) => px.copy_from_slice(&src[1..3]),
                        _ => px[0] = src[1 + x % 2],
                    }
                }
            }
        }
        return f;
    }
    let plane = &mut planes[0];
    let bpp = plane.bytes_per_pixel();
    for y in 0..plane.height() {
        for (x, px) in plane.row_mut(y).chunks_mut(bpp).enumerate() {
            px.copy_from_slice(if x < 32 { left } else { right });
        }
    }
    f
}

/// The mean of a plane over columns `xs` of every row in `ys`.
fn mean(plane: &veil_core::PlaneRef<'_>, xs: std::ops::Range<usize>, ys: std::ops::Range<u32>) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for y in ys {
        for &v in &plane.row(y)[xs.clone()] {
            sum += f64::from(v);
            n += 1.0;
        }
    }
    sum / n
}

/// Frames in every other pixel format are converted to the encoder's I420 with their
/// colours: each half of each frame decodes to the YUV of the colour written, so a format
/// read with the wrong channel order, the wrong plane layout or not converted at all fails.
#[test]
fn other_pixel_formats_are_converted_on_write() {
    let dir = scratch_dir("rgb");
    let out = dir.join("rgb.mp4");
    let info = VideoInfo::new(64, 48, (25, 1));
    let limited = |g: u8| 16.0 + f64::from(g) * 219.0 / 255.0;
    // (format, left pixel, right pixel, expected YUV of the left half, of the right half)
    type Case = (PixelFormat, Vec<u8>, Vec<u8>, [f64; 3], [f64; 3]);
    let cases: Vec<Case> = vec![
        (
            PixelFormat::Rgb24,
            vec![200, 30, 40],
            vec![20, 60, 220],
            yuv601(200, 30, 40),
            yuv601(20, 60, 220),
        ),
        (
            PixelFormat::Bgr24,
            vec![40, 30, 200],
            vec![220, 60, 20],
            yuv601(200, 30, 40),
            yuv601(20, 60, 220),
        ),
        (
            PixelFormat::Nv12,
            vec![100, 90, 170],
            vec![180, 160, 100],
            [100.0, 90.0, 170.0],
            [180.0, 160.0, 100.0],
        ),
        (
            PixelFormat::Gray8,
            vec![50],
            vec![200],
            [limited(50), 128.0, 128.0],
            [limited(200), 128.0, 128.0],
        ),
        (
            PixelFormat::Rgba,
            vec![30, 200, 60, 255],
            vec![250, 250, 20, 255],
            yuv601(30, 200, 60),
            yuv601(250, 250, 20),
        ),
        (
            PixelFormat::I420,
            vec![60],
            vec![60],
            [60.0, 128.0, 128.0],
            [60.0, 128.0, 128.0],
        ),
    ];
    let mut w = VideoWriter::create(&out, &info, &EncodeOptions::default()).unwrap();
    for (k, (format, left, right, ..)) in cases.iter().enumerate() {
        let f = if *format == PixelFormat::I420 {
            let mut f = Frame::new(PixelFormat::I420, 64, 48).unwrap();
            let mut v = f.as_mut();
            v.planes_mut()[0].data_mut().fill(left[0]);
            for p in &mut v.planes_mut()[1..] {
                p.data_mut().fill(128);
            }
            f
        } else {
            two_halves(*format, left, right)
        };
        w.write(&f.as_ref(), k as i64).unwrap();
    }
    assert_eq!(w.finish().unwrap(), cases.len() as u64);
    let mut back = VideoReader::open(&out, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(f) = back.next_frame().unwrap() {
        let (format, _, _, want_left, want_right) = &cases[n];
        assert!(
            (f.time() - n as f64 / 25.0).abs() < 1e-6,
            "frame {n} at {}",
            f.time()
        );
        let v = f.frame_ref().unwrap();
        assert_eq!(v.format(), PixelFormat::I420);
        let planes = v.planes();
        // The middle of each half, away from the edge where chroma is shared and blurred.
        for (half, want, xs) in [("left", want_left, 8..24), ("right", want_right, 40..56)] {
            for (p, plane) in planes.iter().enumerate() {
                let (xs, ys) = if p == 0 {
                    (xs.clone(), 8..40)
                } else {
                    (xs.start / 2..xs.end / 2, 4..20)
                };
                let got = mean(plane, xs, ys);
                assert!(
                    (got - want[p]).abs() <= 3.0,
                    "{format:?} frame, {half} half, plane {p}: {got:.1}, want {:.1}",
                    want[p]
                );
            }
        }
        n += 1;
    }
    assert_eq!(n, cases.len());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn failures_leave_nothing_at_the_destination() {
    let dir = scratch_dir("fail");
    let out = dir.join("out.mp4");
    let info = VideoInfo::new(64, 48, (25, 1));
    // Dropped without finish.
    let mut w = VideoWriter::create(&out, &info, &EncodeOptions::default()).unwrap();
    w.write(&Frame::new(PixelFormat::I420, 64, 48).unwrap().as_ref(), 0)
        .unwrap();
    drop(w);
    // Finished without frames.
    let w = VideoWriter::create(&out, &info, &EncodeOptions::default()).unwrap();
    assert!(matches!(w.finish(), Err(VideoError::Encode { .. })));
    // Timestamps going backwards.
    let mut w = VideoWriter::create(&out, &info, &EncodeOptions::default()).unwrap();
    let f = Frame::new(PixelFormat::I420, 64, 48).unwrap();
    w.write(&f.as_ref(), 5).unwrap();
    assert!(matches!(
        w.write(&f.as_ref(), 5),
        Err(VideoError::InvalidOption { .. })
    ));
    // Wrong size.
    let g = Frame::new(PixelFormat::I420, 32, 48).unwrap();
    assert!(matches!(w.write(&g.as_ref(), 6), Err(VideoError::Frame { .. })));
    drop(w);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_options_and_sizes_are_typed_errors() {
    let dir = scratch_dir("opts");
    let out = dir.join("o.mp4");
    let odd = VideoInfo::new(321, 241, (25, 1));
    assert!(matches!(
        VideoWriter::create(&out, &odd, &EncodeOptions::default()),
        Err(VideoError::UnsupportedSize {
            width: 321,
            height: 241,
            ..
        })
    ));
    let info = VideoInfo::new(64, 48, (25, 1));
    let bad_crf = EncodeOptions {
        crf: 52,
        ..Default::default()
    };
    assert!(matches!(
        VideoWriter::create(&out, &info, &bad_crf),
        Err(VideoError::InvalidOption { .. })
    ));
    let bad_preset = EncodeOptions {
        preset: "warp".into(),
        ..Default::default()
    };
    assert!(matches!(
        VideoWriter::create(&out, &info, &bad_preset),
        Err(VideoError::InvalidOption { .. })
    ));
    assert!(matches!(
        VideoWriter::create(&dir, &info, &EncodeOptions::default()),
        Err(VideoError::Io { .. })
    ));
    for (from, to) in [(Some(-1.0), None), (Some(3.0), Some(2.0)), (None, Some(f64::NAN))] {
        assert!(matches!(
            VideoReader::open(
                fixture(),
                &ReadOptions {
                    from,
                    to,
                    ..Default::default()
                }
            ),
            Err(VideoError::InvalidOption { .. })
        ));
    }
    let missing = dir.join("missing.mp4");
    let e = VideoReader::open(&missing, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, VideoError::Open { .. }));
    assert!(e.to_string().contains("missing.mp4"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn url_passwords_stay_out_of_errors() {
    assert_eq!(
        display_path(std::path::Path::new("rtsp://admin:secret@10.0.0.7:554/stream1")),
        PathBuf::from("rtsp://10.0.0.7:554/stream1")
    );
    assert_eq!(
        display_path(std::path::Path::new("/a/b@c.mp4")),
        PathBuf::from("/a/b@c.mp4")
    );
}

#[test]
fn handles_are_send() {
    fn send<T: Send>() {}
    send::<VideoReader>();
    send::<VideoWriter>();
    send::<DecodedFrame>();
    send::<AudioPacket>();
    send::<VideoInfo>();
    send::<VideoError>();
}

/// Frames of a file that decode (a fragmented file cut short ends with a typed error after
/// its complete fragments).
fn decodable_frames(path: &std::path::Path) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Ok(Some(_)) = r.next_frame() {
        n += 1;
    }
    n
}

#[test]
fn fragmented_output_is_written_in_place_never_overwrites_and_survives_a_drop() {
    let dir = scratch_dir("frag");
    let opts = EncodeOptions {
        fragment: Some(std::time::Duration::from_secs(1)),
        keyframe_interval: Some(10),
        ..EncodeOptions::default()
    };
    let mut reader = VideoReader::open(fixture(), &ReadOptions::default()).unwrap();
    let info = reader.info().clone();
    let (finished, dropped) = (dir.join("finished.mp4"), dir.join("dropped.mp4"));
    let mut a = VideoWriter::create(&finished, &info, &opts).unwrap();
    let mut b = VideoWriter::create(&dropped, &info, &opts).unwrap();
    // In place: the destination exists while writing, and a second writer is refused.
    assert!(finished.exists());
    assert!(matches!(
        VideoWriter::create(&finished, &info, &opts),
        Err(VideoError::Io { .. })
    ));
    for _ in 0..35 {
        let f = reader.next_frame().unwrap().unwrap();
        a.write_decoded(&f).unwrap();
        b.write_decoded(&f).unwrap();
    }
    assert_eq!(a.finish().unwrap(), 35);
    assert_eq!(decodable_frames(&finished), 35);
    // Dropped without finishing (a crash): the complete fragments stay, playable.
    drop(b);
    let kept = decodable_frames(&dropped);
    assert!((10..=35).contains(&kept), "{kept} frames");
    // A writer without a frame leaves nothing.
    let empty = dir.join("empty.mp4");
    drop(VideoWriter::create(&empty, &info, &opts).unwrap());
    assert!(!empty.exists());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["dropped.mp4", "finished.mp4"]);
    std::fs::remove_dir_all(dir).unwrap();
}
