//! CenterFace and NanoDet on real pictures, against hand-annotated boxes.
//!
//! The boxes were annotated by looking at the pictures (zoomed crops with a 10-pixel grid),
//! see fixtures/images/LICENSES.md for where each picture comes from.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Mutex, OnceLock};

use common::{b, convert, load_rgb, score};
use veil_core::{BoxF, PixelFormat};
use veil_detect::{CenterFace, Class, Detector, InputSize, NanoDet};

/// One detector of each kind shared by the tests (loading a model takes a while in debug).
fn faces() -> std::sync::MutexGuard<'static, CenterFace> {
    static D: OnceLock<Mutex<CenterFace>> = OnceLock::new();
    let m = D.get_or_init(|| Mutex::new(CenterFace::builder().threads(1).build().unwrap()));
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn persons() -> std::sync::MutexGuard<'static, NanoDet> {
    static D: OnceLock<Mutex<NanoDet>> = OnceLock::new();
    let m = D.get_or_init(|| Mutex::new(NanoDet::builder().threads(1).build().unwrap()));
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The six faces of the group photo (hairline to chin).
fn group_faces() -> Vec<BoxF> {
    vec![
        b(65.0, 265.0, 170.0, 390.0),
        b(278.0, 150.0, 372.0, 265.0),
        b(462.0, 268.0, 575.0, 410.0),
        b(745.0, 340.0, 850.0, 480.0),
        b(905.0, 65.0, 1010.0, 205.0),
        b(1135.0, 268.0, 1228.0, 395.0),
    ]
}

/// The three pedestrians of frame 0 of vtest.avi.
fn vtest_persons() -> Vec<BoxF> {
    vec![
        b(254.0, 220.0, 282.0, 307.0),
        b(501.0, 158.0, 529.0, 233.0),
        b(640.0, 241.0, 684.0, 320.0),
    ]
}

const ALL_FORMATS: [PixelFormat; 6] = [
    PixelFormat::I420,
    PixelFormat::Nv12,
    PixelFormat::Rgb24,
    PixelFormat::Bgr24,
    PixelFormat::Rgba,
    PixelFormat::Gray8,
];

#[test]
fn astronaut_one_face_in_every_format() {
    let rgb = load_rgb("astronaut.jpg");
    let truth = [b(178.0, 62.0, 268.0, 178.0)];
    for fmt in ALL_FORMATS {
        let f = convert(&rgb, fmt);
        let d = faces().detect(&f.as_ref()).unwrap();
        let (best, extra) = score(&d, &truth);
        assert!(best[0] >= 0.5, "{fmt:?}: face IoU {} in {d:?}", best[0]);
        assert_eq!(extra, 0, "{fmt:?}: false positives in {d:?}");
        assert!(d.iter().all(|x| x.class == Class::Face));
        // Landmarks: both eyes in the upper half of the box, the left one left of the right one.
        let lm = d[0].landmarks.unwrap();
        let bb = d[0].bbox;
        assert!(lm[0][0] < lm[1][0], "{lm:?}");
        for p in &lm[..2] {
            assert!(
                bb.contains(p[0], p[1]) && p[1] < bb.y + bb.h / 2.0,
                "{lm:?} {bb:?}"
            );
        }
    }
}

#[test]
fn group_photo_six_faces() {
    let rgb = load_rgb("group_t1.jpg");
    for fmt in [PixelFormat::I420, PixelFormat::Rgb24] {
        let f = convert(&rgb, fmt);
        let d = faces().detect(&f.as_ref()).unwrap();
        let (best, extra) = score(&d, &group_faces());
        assert!(best.iter().all(|&i| i >= 0.5), "{fmt:?}: IoUs {best:?} in {d:?}");
        assert_eq!(extra, 0, "{fmt:?}: false positives in {d:?}");
    }
}

#[test]
fn cameraman_face_and_person_in_gray() {
    let gray = convert(&load_rgb("camera.png"), PixelFormat::Gray8);
    let d = faces().detect(&gray.as_ref()).unwrap();
    let (best, extra) = score(&d, &[b(190.0, 112.0, 258.0, 200.0)]);
    assert!(best[0] >= 0.5 && extra == 0, "{best:?} {d:?}");
    let d = persons().detect(&gray.as_ref()).unwrap();
    let (best, extra) = score(&d, &[b(0.0, 65.0, 330.0, 512.0)]);
    assert!(best[0] >= 0.5 && extra == 0, "{best:?} {d:?}");
}

#[test]
fn vtest_three_pedestrians_in_every_format() {
    let rgb = load_rgb("vtest_f000.jpg");
    for fmt in ALL_FORMATS {
        let f = convert(&rgb, fmt);
        let d = persons().detect(&f.as_ref()).unwrap();
        let (best, extra) = score(&d, &vtest_persons());
        assert!(best.iter().all(|&i| i >= 0.5), "{fmt:?}: IoUs {best:?} in {d:?}");
        // A traffic cone sometimes scores just above the (recall-tuned) threshold.
        assert!(extra <= 1, "{fmt:?}: false positives in {d:?}");
        assert!(d
            .iter()
            .all(|x| x.class == Class::Person && x.landmarks.is_none()));
    }
}

#[test]
fn astronaut_person() {
    let f = convert(&load_rgb("astronaut.jpg"), PixelFormat::I420);
    let d = persons().detect(&f.as_ref()).unwrap();
    let (best, extra) = score(&d, &[b(20.0, 15.0, 365.0, 512.0)]);
    assert!(best[0] >= 0.5 && extra == 0, "{best:?} {d:?}");
}

#[test]
fn batch_equals_single_frames() {
    let a = convert(&load_rgb("astronaut.jpg"), PixelFormat::I420);
    let g = convert(&load_rgb("group_t1.jpg"), PixelFormat::I420);
    let frames = [a.as_ref(), a.as_ref(), g.as_ref()];
    let mut det = faces();
    let batch = det.detect_batch(&frames).unwrap();
    assert_eq!(batch.len(), 3);
    for (f, got) in frames.iter().zip(&batch) {
        let single = det.detect(f).unwrap();
        assert_eq!(single.len(), got.len());
        for (s, g) in single.iter().zip(got) {
            assert!(
                s.bbox.iou(&g.bbox) > 0.99 && (s.score - g.score).abs() < 1e-3,
                "{s:?} vs {g:?}"
            );
        }
    }
    assert!(det.detect_batch(&[]).unwrap().is_empty());
}

#[test]
fn exact_input_size_and_model_info() {
    let mut det = CenterFace::builder()
        .input_size(InputSize::Exact {
            width: 960,
            height: 544,
        })
        .threads(1)
        .build()
        .unwrap();
    let lb = det.letterbox_for(1280, 886);
    assert_eq!((lb.net_w, lb.net_h), (960, 544));
    let f = convert(&load_rgb("group_t1.jpg"), PixelFormat::Nv12);
    let d = det.detect(&f.as_ref()).unwrap();
    let (best, extra) = score(&d, &group_faces());
    assert!(best.iter().all(|&i| i >= 0.5) && extra == 0, "{best:?} {d:?}");
    let m = det.model();
    assert_eq!(
        (m.name.as_str(), m.file.as_str()),
        ("centerface", "centerface.onnx")
    );
    assert_eq!(
        m.sha256,
        "5aaf17b351911ad4a27f126d2de45809710c458b95cba4a6478c4fd4e2e9d978"
    );
    assert!(veil_detect::runtime_path().is_some());
}

#[test]
fn default_geometry_is_long_side_640() {
    let det = faces();
    let lb = det.letterbox_for(1920, 1080);
    assert_eq!(
        (lb.net_w, lb.net_h, lb.content_w, lb.content_h),
        (640, 384, 640, 360)
    );
    let lb = det.letterbox_for(320, 240);
    assert_eq!(
        (lb.net_w, lb.net_h, lb.content_w, lb.content_h),
        (320, 256, 320, 240)
    );
}

#[test]
fn invalid_settings_are_errors() {
    use veil_detect::DetectError;
    let e = CenterFace::builder().threshold(1.5).build().unwrap_err();
    assert!(matches!(e, DetectError::InvalidConfig { .. }), "{e}");
    let e = CenterFace::builder()
        .input_size(InputSize::Exact {
            width: 100,
            height: 64,
        })
        .build()
        .unwrap_err();
    assert!(matches!(e, DetectError::InvalidConfig { .. }), "{e}");
    let e = NanoDet::builder().threads(0).build().unwrap_err();
    assert!(matches!(e, DetectError::InvalidConfig { .. }), "{e}");
}

#[test]
fn tiny_and_odd_frames_do_not_fail() {
    let rgb = load_rgb("astronaut.jpg");
    let src_frame = rgb.as_ref();
    for (w, h) in [(1u32, 1u32), (33, 17), (2, 640)] {
        for fmt in ALL_FORMATS {
            let (w, h) = if fmt.is_420() {
                (w.max(2) & !1, h.max(2) & !1)
            } else {
                (w, h)
            };
            let mut f = veil_core::Frame::new(PixelFormat::Rgb24, w, h).unwrap();
            {
                let mut m = f.as_mut();
                let p = &mut m.planes_mut()[0];
                for y in 0..h {
                    let src = src_frame.planes()[0].row(y % 512);
                    p.row_mut(y).copy_from_slice(&src[..(w * 3) as usize]);
                }
            }
            let f = convert(&f, fmt);
            // Every box of both detectors lies wholly inside the frame, on both axes, with a
            // positive size and a finite score.
            let mut dets = faces().detect(&f.as_ref()).unwrap();
            dets.extend(persons().detect(&f.as_ref()).unwrap());
            for d in dets {
                let b = d.bbox;
                assert!(
                    b.x >= 0.0 && b.x + b.w <= w as f32,
                    "{w}x{h} {fmt:?}: x out of the frame: {d:?}"
                );
                assert!(
                    b.y >= 0.0 && b.y + b.h <= h as f32,
                    "{w}x{h} {fmt:?}: y out of the frame: {d:?}"
                );
                assert!(
                    b.w > 0.0 && b.h > 0.0 && d.score.is_finite(),
                    "{w}x{h} {fmt:?}: {d:?}"
                );
            }
        }
    }
}
