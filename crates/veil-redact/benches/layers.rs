//! Per-frame cost of the export's redaction stage on an I420 frame: composing the layers from
//! tracks ([`veil_redact::frame_layers`]), rasterising them and applying the blur
//! ([`veil_redact::apply_layers`]), with 8 people (one of them the requester), at 720p and
//! 1080p, normal and spotlight mode.
//!
//! Run: `cargo bench -p veil-redact --bench layers`.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use veil_core::{BoxF, CpuLevel, Frame, PixelFormat};
use veil_redact::{apply_layers, frame_layers, LayerPlan, Tracks};
use veil_track::{Class, Track, TrackBox};

fn scene(w: u32, h: u32) -> Tracks {
    let s = w as f32 / 1280.0;
    let tracks = (0..8u64)
        .map(|i| {
            let x = (40.0 + i as f32 * 150.0) * s;
            let body = BoxF::new(x, 120.0 * s, 120.0 * s, 520.0 * s);
            let face = BoxF::new(x + 30.0 * s, 130.0 * s, 60.0 * s, 75.0 * s);
            let tb = |b| TrackBox {
                frame: 0,
                bbox: b,
                score: 0.9,
                interpolated: false,
            };
            Track::new(i + 1, Class::Person, vec![tb(body)], vec![tb(face)]).unwrap()
        })
        .collect();
    Tracks::new(w, h, 25.0, tracks).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("redact_frame");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    for (w, h) in [(1280u32, 720u32), (1920, 1080)] {
        let tracks = scene(w, h);
        let mut frame = Frame::new(PixelFormat::I420, w, h).unwrap();
        for spotlight in [false, true] {
            let plan = LayerPlan {
                spotlight,
                ..LayerPlan::default()
            };
            let name = format!("{h}p{}", if spotlight { "_spotlight" } else { "" });
            g.bench_function(name, |b| {
                b.iter(|| {
                    let fl = frame_layers(&tracks, 0, &[3], &plan, w, h);
                    apply_layers(&mut frame.as_mut(), black_box(&fl.layers), CpuLevel::detect()).unwrap();
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
