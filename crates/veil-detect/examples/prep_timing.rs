//! Time of the preprocessing alone (frame planes -> network tensor), per frame, for
//! the two networks' default geometries on a real 720p and 1080p frame. Wall time per
//! call, minimum and median of 200 (the minimum is the figure on a busy machine).
//! `cargo run -p veil-detect --release --example prep_timing`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use veil_core::{Frame, PixelFormat};
use veil_detect::preprocess::{Letterbox, Resampler};

fn frame(w: u32, h: u32, format: PixelFormat) -> Frame {
    let img = image::open(common::fixture("group_t1.jpg")).unwrap().to_rgb8();
    let img = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
    let mut f = Frame::new(PixelFormat::Rgb24, w, h).unwrap();
    {
        let mut m = f.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 0..h {
            p.row_mut(y)
                .copy_from_slice(&img.as_raw()[(y * w * 3) as usize..((y + 1) * w * 3) as usize]);
        }
    }
    common::convert(&f, format)
}

fn main() {
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let f = frame(w, h, format);
            let mut cf = Letterbox::fit(w, h, 640, 640, false);
            cf.net_w = cf.content_w.div_ceil(32) * 32;
            cf.net_h = cf.content_h.div_ceil(32) * 32;
            let mut nd = Letterbox::fit(w, h, 416, 416, true);
            nd.net_w = nd.content_w.div_ceil(32) * 32;
            nd.net_h = nd.content_h.div_ceil(32) * 32;
            for (name, lb) in [("centerface", cf), ("nanodet", nd)] {
                let plan = Resampler::new(w, h, lb);
                let mut out = vec![0f32; plan.tensor_len()];
                let n = 200;
                plan.fill(&f.as_ref(), &mut out, 1.0).unwrap();
                let mut samples = Vec::new();
                for _ in 0..n {
                    let t = std::time::Instant::now();
                    plan.fill(&f.as_ref(), &mut out, 1.0).unwrap();
                    samples.push(t.elapsed().as_nanos() as u64);
                }
                samples.sort_unstable();
                let sum: f64 = out.iter().map(|&v| f64::from(v)).sum();
                println!(
                    "{w}x{h} {format:?} {name} {}x{}: min {:.3} median {:.3} ms (checksum {sum:.1})",
                    lb.net_w,
                    lb.net_h,
                    samples[0] as f64 / 1e6,
                    samples[n / 2] as f64 / 1e6
                );
            }
        }
    }
}
