//! Smallest person NanoDet finds: the vtest street scene and the group photo shrunk into a
//! black 1920x1080 frame at several scales; persons counted against what NanoDet finds in
//! the picture at full size.
//! `cargo run -p veil-detect --release --example minperson`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::scene::to_frame;
use veil_core::PixelFormat;
use veil_detect::{Detector, NanoDet};

fn main() {
    let mut nd = NanoDet::builder().build().unwrap();
    for name in ["vtest_f000.jpg", "group_t1.jpg"] {
        let img = image::open(common::fixture(name)).unwrap().to_rgb8();
        let full = common::convert(&to_frame(&img), PixelFormat::I420);
        let reference = nd.detect(&full.as_ref()).unwrap();
        println!(
            "{name}: {} persons at full size, heights {:?}",
            reference.len(),
            reference.iter().map(|d| d.bbox.h as u32).collect::<Vec<_>>()
        );
        for k in [0.7f32, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25] {
            let r = veil_core::Rect::new(0, 0, full.width(), full.height());
            let d = nd.detect_region(&full.as_ref(), r, k).unwrap();
            let truth: Vec<_> = reference.iter().map(|r| r.bbox).collect();
            let (best, _) = common::score(&d, &truth);
            let found: Vec<String> = truth
                .iter()
                .zip(&best)
                .map(|(t, i)| format!("{:.0}net:{}", t.h * k, if *i >= 0.4 { "y" } else { "n" }))
                .collect();
            println!("  region scale {k:.2}: {}", found.join(" "));
        }
        for s in [1.0f32, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25] {
            let (w, h) = ((img.width() as f32 * s) as u32, (img.height() as f32 * s) as u32);
            let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
            let mut canvas = image::RgbImage::new(1920, 1080);
            image::imageops::overlay(&mut canvas, &small, 100, 100);
            let f = common::convert(&to_frame(&canvas), PixelFormat::I420);
            let d = nd.detect(&f.as_ref()).unwrap();
            let truth: Vec<_> = reference
                .iter()
                .map(|r| {
                    veil_core::BoxF::new(
                        100.0 + r.bbox.x * s,
                        100.0 + r.bbox.y * s,
                        r.bbox.w * s,
                        r.bbox.h * s,
                    )
                })
                .collect();
            let (best, _) = common::score(&d, &truth);
            let found: Vec<String> = truth
                .iter()
                .zip(&best)
                .map(|(t, i)| format!("{}px:{}", t.h as u32, if *i >= 0.4 { "y" } else { "n" }))
                .collect();
            println!("  scale {s:.2}: {}", found.join(" "));
        }
    }
}
