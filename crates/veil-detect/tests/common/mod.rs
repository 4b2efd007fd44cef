//! Shared helpers for the detector tests: loading the fixture pictures as frames.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use veil_core::{BoxF, Frame, PixelFormat};

/// `fixtures/images/<name>` in the repository.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/images")).join(name)
}

/// Load a fixture picture as an RGB24 frame.
pub fn load_rgb(name: &str) -> Frame {
    scene::to_frame(&image::open(fixture(name)).expect("fixture picture").to_rgb8())
}

/// Convert an RGB24 frame (even size) to `format`, with BT.601 limited range for YUV as a
/// camera encoder would produce it.
pub fn convert(rgb: &Frame, format: PixelFormat) -> Frame {
    let (w, h) = (rgb.width(), rgb.height());
    let src = rgb.as_ref();
    let sp = &src.planes()[0];
    let px = |x: u32, y: u32| -> [f32; 3] {
        let r = sp.row(y);
        let i = x as usize * 3;
        [f32::from(r[i]), f32::from(r[i + 1]), f32::from(r[i + 2])]
    };
    let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let yuv = |c: [f32; 3]| {
        let [r, g, b] = c;
        (
            16.0 + 0.257 * r + 0.504 * g + 0.098 * b,
            128.0 - 0.148 * r - 0.291 * g + 0.439 * b,
            128.0 + 0.439 * r - 0.368 * g - 0.071 * b,
        )
    };
    let mut out = Frame::new(format, w, h).unwrap();
    {
        let mut m = out.as_mut();
        let planes = m.planes_mut();
        match format {
            PixelFormat::Rgb24 | PixelFormat::Bgr24 | PixelFormat::Rgba | PixelFormat::Gray8 => {
                let bpp = match format {
                    PixelFormat::Rgba => 4,
                    PixelFormat::Gray8 => 1,
                    _ => 3,
                };
                for y in 0..h {
                    let row = planes[0].row_mut(y);
                    for x in 0..w {
                        let c = px(x, y);
                        let o = x as usize * bpp;
                        match format {
                            PixelFormat::Rgb24 => row[o..o + 3].copy_from_slice(&c.map(q)),
                            PixelFormat::Bgr24 => row[o..o + 3].copy_from_slice(&[q(c[2]), q(c[1]), q(c[0])]),
                            PixelFormat::Rgba => {
                                row[o..o + 4].copy_from_slice(&[q(c[0]), q(c[1]), q(c[2]), 255])
                            }
                            _ => row[o] = q(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]),
                        }
                    }
                }
            }
            _ => {
                for y in 0..h {
                    let row = planes[0].row_mut(y);
                    for x in 0..w {
                        row[x as usize] = q(yuv(px(x, y)).0);
                    }
                }
                for cy in 0..h / 2 {
                    let mut us = vec![0u8; (w / 2) as usize];
                    let mut vs = vec![0u8; (w / 2) as usize];
                    for cx in 0..w / 2 {
                        let mut acc = [0f32; 3];
                        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            let c = px(2 * cx + dx, 2 * cy + dy);
                            for k in 0..3 {
                                acc[k] += c[k] / 4.0;
                            }
                        }
                        let (_, u, v) = yuv(acc);
                        us[cx as usize] = q(u);
                        vs[cx as usize] = q(v);
                    }
                    if format == PixelFormat::I420 {
                        planes[1].row_mut(cy).copy_from_slice(&us);
                        planes[2].row_mut(cy).copy_from_slice(&vs);
                    } else {
                        let row = planes[1].row_mut(cy);
                        for i in 0..us.len() {
                            row[2 * i] = us[i];
                            row[2 * i + 1] = vs[i];
                        }
                    }
                }
            }
        }
    }
    out
}

/// Box from corner coordinates.
pub fn b(x0: f32, y0: f32, x1: f32, y1: f32) -> BoxF {
    BoxF::new(x0, y0, x1 - x0, y1 - y0)
}

/// Match detections to ground truth greedily by IoU; returns for each ground-truth box the
/// best IoU found, and the number of detections that matched no ground-truth box (IoU < 0.3
/// with every one of them).
pub fn score(dets: &[veil_detect::Detection], truth: &[BoxF]) -> (Vec<f32>, usize) {
    let best: Vec<f32> = truth
        .iter()
        .map(|t| dets.iter().map(|d| d.bbox.iou(t)).fold(0.0, f32::max))
        .collect();
    let extra = dets
        .iter()
        .filter(|d| truth.iter().all(|t| d.bbox.iou(t) < 0.3))
        .count();
    (best, extra)
}
pub mod scene;
