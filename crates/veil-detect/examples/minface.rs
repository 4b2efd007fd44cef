//! Smallest face CenterFace finds: the group photo shrunk into a black 1920x1080 frame at
//! several scales, faces counted against the scaled hand-annotated boxes.
//! `cargo run -p veil-detect --release --example minface [long_side]`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use veil_core::{Frame, PixelFormat};
use veil_detect::{CenterFace, Detector, InputSize};

fn main() {
    let long: u32 = std::env::args().nth(1).map_or(640, |s| s.parse().unwrap());
    // "aa": build the frame directly at 1/3 of 1080p with an antialiasing resize, to see
    // what a better downscaling filter than our bilinear sampling would gain.
    let aa = std::env::args().nth(2).is_some_and(|a| a == "aa");
    let (fw, fh, k) = if aa {
        (640u32, 360u32, 1.0 / 3.0)
    } else {
        (1920, 1080, 1.0)
    };
    let mut cf = CenterFace::builder()
        .input_size(InputSize::LongSide(long))
        .build()
        .unwrap();
    let img = image::open(common::fixture("group_t1.jpg")).unwrap().to_rgb8();
    let truth = common::scene::GROUP_FACES;
    for s in [1.0f32, 0.7, 0.5, 0.4, 0.33, 0.28, 0.24, 0.2, 0.17, 0.14] {
        let (w, h) = ((1280.0 * s * k) as u32, (886.0 * s * k) as u32);
        let small = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
        let mut f = Frame::new(PixelFormat::Rgb24, fw, fh).unwrap();
        {
            let mut m = f.as_mut();
            let p = &mut m.planes_mut()[0];
            for y in 0..h {
                p.row_mut(y)[..(w * 3) as usize]
                    .copy_from_slice(&small.as_raw()[(y * w * 3) as usize..((y + 1) * w * 3) as usize]);
            }
        }
        let f = common::convert(&f, PixelFormat::I420);
        let d = cf.detect(&f.as_ref()).unwrap();
        let gt: Vec<_> = truth
            .iter()
            .map(|&(a, b, c, e)| common::b(a * s * k, b * s * k, c * s * k, e * s * k))
            .collect();
        let (best, extra) = common::score(&d, &gt);
        let found = best.iter().filter(|&&i| i >= 0.5).count();
        let heights: Vec<u32> = gt.iter().map(|g| g.h.round() as u32).collect();
        println!("long {long} scale {s:.2}: face heights {heights:?} px in the frame -> found {found}/6 (IoUs {best:.2?}), {extra} extra");
    }
}
