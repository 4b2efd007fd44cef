//! Print detections for pictures (a development aid for annotating fixtures):
//! `cargo run -p veil-detect --release --example probe -- fixtures/images/x.jpg ...`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use veil_core::PixelFormat;
use veil_detect::{CenterFace, Detector, NanoDet};

fn main() {
    let mut cf = CenterFace::builder().build().unwrap();
    let mut nd = NanoDet::builder().build().unwrap();
    for p in std::env::args().skip(1) {
        let name = std::path::Path::new(&p)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let rgb = common::load_rgb(&name);
        let i420 = common::convert(&rgb, PixelFormat::I420);
        for (label, f) in [("rgb", &rgb), ("i420", &i420)] {
            for (det, name) in [(&mut cf as &mut dyn Detector, "face"), (&mut nd, "person")] {
                let d = det.detect(&f.as_ref()).unwrap();
                println!("{p} {label} {name}: {}", d.len());
                for x in d {
                    let b = x.bbox;
                    println!(
                        "  {:.3} [{:.0},{:.0},{:.0},{:.0}]",
                        x.score,
                        b.x,
                        b.y,
                        b.x + b.w,
                        b.y + b.h
                    );
                }
            }
        }
    }
}
