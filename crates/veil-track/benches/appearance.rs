//! Cost of the appearance descriptors: one 1920x1080 I420 frame with 20 person boxes of
//! typical CCTV sizes (60 to 360 px tall), all described, as the analysis does per frame.
//!
//! Run: `cargo bench -p veil-track --bench appearance`. The reported time is per frame (20
//! descriptors); divide by 20 for one person.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use veil_core::{BoxF, Frame, PixelFormat};
use veil_track::Appearance;

fn bench(c: &mut Criterion) {
    let (w, h) = (1920u32, 1080u32);
    let mut f = Frame::new(PixelFormat::I420, w, h).expect("frame");
    {
        let mut m = f.as_mut();
        for (i, p) in m.planes_mut().iter_mut().enumerate() {
            for y in 0..p.height() {
                for (x, v) in p.row_mut(y).iter_mut().enumerate() {
                    *v = ((x * 7 + y as usize * 13 + i * 50) % 251) as u8;
                }
            }
        }
    }
    let boxes: Vec<BoxF> = (0..20)
        .map(|i| {
            let hh = 60.0 + 15.0 * i as f32;
            BoxF::new(80.0 * i as f32, 1080.0 - hh - 10.0, hh * 0.4, hh)
        })
        .collect();
    let view = f.as_ref();
    c.bench_function("appearance_1080p_20_persons", |b| {
        b.iter(|| {
            for bb in &boxes {
                black_box(Appearance::from_frame(black_box(&view), *bb));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
