//! Zone masking of 1080p and 2160p I420/NV12 frames, three zones covering ~15% of the frame,
//! for each style (blur: the irreversible one, over noisy cells; weak-blur: the plain blur),
//! next to a memset and a memcpy of the same number of bytes (the bandwidth bounds for fills
//! and for copy-like work).
//!
//! `cargo bench --bench masking`; add `-- --quick` for a fast pass.
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use veil::core::{CameraConfig, CaptureMasker, CpuLevel, Frame, PixelFormat, ZoneStyle};

/// The three zones of a housing-corporation camera (a door, a window band and a strip of
/// road, together ~15% of the frame), all in `style`: scripts/bench/zones.toml, the zone set
/// that `make bench` also gives examples/mask_timing.rs and OpenCV.
fn zones(style: ZoneStyle) -> CameraConfig {
    let mut cfg = CameraConfig::from_toml_str(include_str!("../scripts/bench/zones.toml"), "zones.toml")
        .expect("bench zones");
    for z in &mut cfg.zones {
        z.style = style;
    }
    cfg
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    let pool = std::sync::Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .build()
            .expect("pool"),
    );
    for (w, h, name) in [(1920u32, 1080u32, "1080p"), (3840, 2160, "2160p")] {
        for format in [PixelFormat::I420, PixelFormat::Nv12] {
            let mut frame = Frame::new(format, w, h).expect("frame");
            let mut masked_bytes = 0u64;
            for (style, zone_style) in [
                ("solid", ZoneStyle::Solid),
                ("pixelate", ZoneStyle::Pixelate),
                ("blur", ZoneStyle::Blur),
                ("weak-blur", ZoneStyle::WeakBlur),
            ] {
                let cfg = zones(zone_style);
                for level in CpuLevel::supported() {
                    let masker = CaptureMasker::new(&cfg, w, h, format)
                        .expect("masker")
                        .with_cpu_level(level)
                        .with_thread_pool(pool.clone());
                    masked_bytes = masker
                        .layers()
                        .iter()
                        .map(|(_, m)| {
                            (0..format.plane_count())
                                .map(|p| {
                                    let bpp = format.plane_layout(w, h, p).map_or(1, |l| l.bytes_per_pixel);
                                    m.plane(p).map_or(0, |s| s.pixel_count()) * u64::from(bpp)
                                })
                                .sum::<u64>()
                        })
                        .sum();
                    g.throughput(Throughput::Bytes(masked_bytes));
                    let id = BenchmarkId::new(format!("{name}/{format:?}/{style}"), format!("{level:?}"));
                    g.bench_function(id, |b| {
                        b.iter(|| masker.apply(&mut frame.as_mut()).expect("apply"))
                    });
                    // the same on the calling thread alone: on a busy 2-core machine, handing
                    // regions to the pool can cost more than it saves
                    if style != "solid" && Some(&level) == CpuLevel::supported().last() {
                        let alone = CaptureMasker::new(&cfg, w, h, format)
                            .expect("masker")
                            .with_cpu_level(level);
                        let id = BenchmarkId::new(
                            format!("{name}/{format:?}/{style}"),
                            format!("{level:?}-nopool"),
                        );
                        g.bench_function(id, |b| {
                            b.iter(|| alone.apply(&mut frame.as_mut()).expect("apply"))
                        });
                    }
                }
            }
            // the bandwidth bound: writing the same number of bytes with memset
            let mut buf = vec![0u8; masked_bytes as usize];
            g.throughput(Throughput::Bytes(masked_bytes));
            g.bench_function(
                BenchmarkId::new(format!("{name}/{format:?}/memset"), "bound"),
                |b| {
                    b.iter(|| {
                        buf.fill(black_box(0));
                        black_box(&buf);
                    })
                },
            );
            // the bound for copy-like work (a region computed aside, then written back):
            // copying the same number of bytes
            let src = vec![1u8; masked_bytes as usize];
            g.bench_function(
                BenchmarkId::new(format!("{name}/{format:?}/memcpy"), "bound"),
                |b| {
                    b.iter(|| {
                        buf.copy_from_slice(black_box(&src));
                        black_box(&buf);
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
