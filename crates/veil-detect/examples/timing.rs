//! Per-frame wall time and process CPU time of the detectors on a 1080p I420 frame.
//! CPU time is the better figure on a busy shared machine (wall time there includes waiting
//! for a core). `cargo run -p veil-detect --release --example timing`
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use veil_core::{Frame, PixelFormat};
use veil_detect::{CenterFace, Detector, InputSize, NanoDet};

/// User + system CPU time of this process, in ms (from /proc, 10 ms ticks).
fn cpu_ms() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}

fn frame(w: u32, h: u32) -> Frame {
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
    common::convert(&f, PixelFormat::I420)
}

fn time(label: &str, n: usize, mut run: impl FnMut()) {
    run();
    let (t, c) = (Instant::now(), cpu_ms());
    for _ in 0..n {
        run();
    }
    let wall = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let cpu = (cpu_ms() - c) / n as f64;
    println!("{label:<40} wall {wall:7.1} ms/frame   cpu {cpu:7.1} ms/frame");
}

fn main() {
    let f1080 = frame(1920, 1080);
    let f720 = frame(1280, 720);
    for (w, h, n) in [(640, 352, 20), (960, 544, 10), (1920, 1088, 4)] {
        for t in [1, 2] {
            let mut d = CenterFace::builder()
                .input_size(InputSize::Exact { width: w, height: h })
                .threads(t)
                .build()
                .unwrap();
            time(&format!("centerface {w}x{h} {t} thread(s), 1080p"), n, || {
                d.detect(&f1080.as_ref()).unwrap();
            });
        }
    }
    for t in [1, 2] {
        let mut d = NanoDet::builder().threads(t).build().unwrap();
        time(&format!("nanodet 416 {t} thread(s), 1080p"), 20, || {
            d.detect(&f1080.as_ref()).unwrap();
        });
    }
    let mut d = CenterFace::builder().threads(2).build().unwrap();
    let four = [f720.as_ref(), f720.as_ref(), f720.as_ref(), f720.as_ref()];
    time("centerface default, 720p, 4 single runs", 5, || {
        for f in &four {
            d.detect(f).unwrap();
        }
    });
    time("centerface default, 720p, batch of 4", 5, || {
        d.detect_batch(&four).unwrap();
    });
}
