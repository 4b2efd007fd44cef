//! Per-frame cost of the detectors and of the preprocessing alone, on I420 frames.
//!
//! `cargo bench -p veil-detect --bench detect`. Kept short (10 samples, 5 s) because the
//! machines have two cores shared by everyone.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use veil_core::{Frame, PixelFormat};
use veil_detect::preprocess::{Letterbox, Resampler};
use veil_detect::{CenterFace, Detector, InputSize, NanoDet};

/// The group photo (six faces) stretched to `w` x `h`, as I420.
fn frame(w: u32, h: u32) -> Frame {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/images/group_t1.jpg");
    let img = image::open(path).unwrap().to_rgb8();
    let img = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
    let mut f = Frame::new(PixelFormat::I420, w, h).unwrap();
    {
        let mut m = f.as_mut();
        let planes = m.planes_mut();
        let px = |x: u32, y: u32| img.get_pixel(x, y).0.map(f32::from);
        for y in 0..h {
            let row = planes[0].row_mut(y);
            for x in 0..w {
                let [r, g, b] = px(x, y);
                row[x as usize] = (16.0 + 0.257 * r + 0.504 * g + 0.098 * b) as u8;
            }
        }
        for cy in 0..h / 2 {
            for cx in 0..w / 2 {
                let [r, g, b] = px(2 * cx, 2 * cy);
                planes[1].row_mut(cy)[cx as usize] = (128.0 - 0.148 * r - 0.291 * g + 0.439 * b) as u8;
                planes[2].row_mut(cy)[cx as usize] = (128.0 + 0.439 * r - 0.368 * g - 0.071 * b) as u8;
            }
        }
    }
    f
}

fn config<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    g
}

fn benches(c: &mut Criterion) {
    let frames = [("720p", frame(1280, 720)), ("1080p", frame(1920, 1080))];

    // Preprocessing alone: frame planes -> network input tensor.
    let mut g = config(c, "preprocess");
    for (label, f) in &frames {
        let (w, h) = (f.width(), f.height());
        let cf = Letterbox::fit(w, h, 640, 640, false);
        let cf = Letterbox {
            net_w: cf.content_w.div_ceil(32) * 32,
            net_h: cf.content_h.div_ceil(32) * 32,
            ..cf
        };
        for (net, lb) in [
            ("centerface640", cf),
            ("nanodet416", Letterbox::fit(w, h, 416, 416, true)),
        ] {
            let rs = Resampler::new(w, h, lb);
            let mut out = vec![0f32; rs.tensor_len()];
            g.bench_function(BenchmarkId::new(net, label), |b| {
                b.iter(|| rs.fill(&f.as_ref(), &mut out, 1.0).unwrap())
            });
        }
    }
    g.finish();

    // Whole detectors with their defaults (CenterFace long side 640), per frame.
    let mut g = config(c, "detect");
    let mut cf = CenterFace::builder().build().unwrap();
    let mut nd = NanoDet::builder().build().unwrap();
    for (label, f) in &frames {
        g.bench_function(BenchmarkId::new("centerface_default", label), |b| {
            b.iter(|| cf.detect(&f.as_ref()).unwrap())
        });
        g.bench_function(BenchmarkId::new("nanodet", label), |b| {
            b.iter(|| nd.detect(&f.as_ref()).unwrap())
        });
    }
    g.finish();

    // CenterFace per-frame cost by input size and thread count, on the 1080p frame.
    let mut g = config(c, "centerface_1080p");
    let f = &frames[1].1;
    for (w, h) in [(640, 352), (960, 544), (1920, 1088)] {
        for threads in [1, 2] {
            let mut d = CenterFace::builder()
                .input_size(InputSize::Exact { width: w, height: h })
                .threads(threads)
                .build()
                .unwrap();
            g.bench_function(BenchmarkId::new(format!("{w}x{h}"), format!("{threads}t")), |b| {
                b.iter(|| d.detect(&f.as_ref()).unwrap())
            });
        }
    }
    // Batching: four 720p frames per run against four single runs.
    let f = &frames[0].1;
    let four = [f.as_ref(), f.as_ref(), f.as_ref(), f.as_ref()];
    g.bench_function("batch4_720p_default", |b| {
        b.iter(|| cf.detect_batch(&four).unwrap())
    });
    g.bench_function("single4_720p_default", |b| {
        b.iter(|| four.iter().map(|x| cf.detect(x).unwrap()).collect::<Vec<_>>())
    });
    g.finish();
}

criterion_group!(detect, benches);
criterion_main!(detect);
