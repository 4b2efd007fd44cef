//! Tracker cost per frame: 20 walking persons (half with a visible face) and a little
//! clutter, with the detector missing about one box in ten.
//!
//! Run: `cargo bench -p veil-track --bench track`. Each iteration tracks a 100-frame sequence
//! with a fresh tracker, so divide the reported time by 100 for the per-frame cost.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use veil_core::BoxF;
use veil_track::{Class, Detection, Tracker, TrackerConfig};

const FRAMES: usize = 100;
const PERSONS: usize = 20;

/// A deterministic pseudo-random generator (no dependency needed for a bench).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn sequence() -> Vec<Vec<Detection>> {
    let mut rng = Lcg(7);
    let people: Vec<(f32, f32, f32, f32, f32)> = (0..PERSONS)
        .map(|_| {
            (
                rng.next() * 1800.0,
                rng.next() * 900.0,
                rng.next() * 8.0 - 4.0,
                rng.next() * 2.0 - 1.0,
                60.0 + rng.next() * 140.0,
            )
        })
        .collect();
    (0..FRAMES)
        .map(|f| {
            let mut dets = Vec::new();
            for (i, &(x, y, vx, vy, h)) in people.iter().enumerate() {
                if rng.next() < 0.1 {
                    continue;
                }
                let b = BoxF::new(x + vx * f as f32, y + vy * f as f32, h * 0.4, h);
                dets.push(Detection::new(Class::Person, 0.3 + 0.7 * rng.next(), b));
                if i % 2 == 0 {
                    let fb = BoxF::new(b.x + b.w * 0.3, b.y + b.h * 0.05, b.w * 0.4, b.h * 0.15);
                    dets.push(Detection::new(Class::Face, 0.3 + 0.7 * rng.next(), fb));
                }
            }
            for _ in 0..2 {
                let b = BoxF::new(rng.next() * 1900.0, rng.next() * 1000.0, 20.0, 30.0);
                dets.push(Detection::new(Class::Face, 0.3 * rng.next(), b));
            }
            dets
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let seq = sequence();
    let mut g = c.benchmark_group("track");
    g.bench_function("update_100_frames_20_persons", |b| {
        b.iter_batched(
            || Tracker::new(TrackerConfig::default()).expect("default config is valid"),
            |mut tr| {
                for (f, dets) in seq.iter().enumerate() {
                    black_box(tr.update(f as u64, dets).map(|a| a.len()).ok());
                }
                tr
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("update_and_finish_100_frames_20_persons", |b| {
        b.iter(|| {
            let mut tr = Tracker::new(TrackerConfig::default()).expect("default config is valid");
            for (f, dets) in seq.iter().enumerate() {
                black_box(tr.update(f as u64, dets).map(|a| a.len()).ok());
            }
            black_box(tr.finish().len())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
