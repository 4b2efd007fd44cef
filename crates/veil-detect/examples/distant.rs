//! Distant faces (24-48 px) over a real CCTV scene at 1080p and 4K: faces found per frame and
//! the cost, for the default input alone and for [`FaceSearch`].
//! `cargo run -p veil-detect --release --example distant [frames] [min_face]`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::scene::{to_frame, Scene};
use veil_core::PixelFormat;
use veil_detect::{CenterFace, Detector, FaceSearch};

fn main() {
    let frames: u32 = std::env::args().nth(1).map_or(25, |s| s.parse().unwrap());
    let min_face: u32 = std::env::args().nth(2).map_or(24, |s| s.parse().unwrap());
    for (w, h) in [(1920u32, 1080u32), (3840, 2160)] {
        let scene = Scene::new(w, h, 4.0);
        let mut plain = CenterFace::builder().threads(1).build().unwrap();
        let mut search =
            FaceSearch::new(CenterFace::builder().threads(1).build().unwrap(), min_face).unwrap();
        let (mut t_plain, mut t_search) = (0.0, 0.0);
        let (mut found_plain, mut found_search, mut total) = (0usize, 0usize, 0usize);
        let mut missed_by_size = std::collections::BTreeMap::<u32, (usize, usize)>::new();
        for n in 0..frames {
            let (img, truth) = scene.frame(n);
            let f = common::convert(&to_frame(&img), PixelFormat::I420);
            let t = Instant::now();
            let a = plain.detect(&f.as_ref()).unwrap();
            t_plain += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let b = search.detect(&f.as_ref()).unwrap();
            t_search += t.elapsed().as_secs_f64();
            let (ia, _) = common::score(&a, &truth);
            let (ib, extra) = common::score(&b, &truth);
            total += truth.len();
            found_plain += ia.iter().filter(|&&i| i >= 0.4).count();
            found_search += ib.iter().filter(|&&i| i >= 0.4).count();
            for (t, i) in truth.iter().zip(&ib) {
                let e = missed_by_size.entry((t.h / 4.0) as u32 * 4).or_default();
                e.0 += 1;
                if *i >= 0.4 {
                    e.1 += 1;
                }
            }
            if n < 3 || extra > 0 {
                println!(
                    "  {w}x{h} frame {n}: search found {}/{} ({extra} extra)",
                    ib.iter().filter(|&&i| i >= 0.4).count(),
                    truth.len()
                );
            }
        }
        println!(
            "{w}x{h}: default input {found_plain}/{total} faces, {:.1} ms/frame; FaceSearch(min {min_face}) {found_search}/{total}, {:.1} ms/frame; {:?}",
            t_plain * 1e3 / frames as f64,
            t_search * 1e3 / frames as f64,
            search.stats()
        );
        println!("  found/total by face height (4 px bins): {missed_by_size:?}");
    }
}
