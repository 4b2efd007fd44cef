//! The `veilmask` element's cost per 1080p frame, against `identity` in the same harness
//! pipeline (harness source ! ELEMENT ! harness sink), next to veil-core's own
//! `CaptureMasker::apply` on the same buffer and a memset of the bytes the mask covers.
//!
//! The element's own cost is `veilmask - identity` (both pay for the harness's push and
//! pull); the goal is that it is within 10% of `core`, and at most 2x `memset` for solid.
//! One 1080p I420 buffer with the zones of scripts/bench/zones.toml (~15% of the frame) is
//! pushed and pulled back again and again: writable, so masked in place without a copy.
//! One thread (no rayon pool), like examples/mask_timing.rs. Everything runs on the calling
//! thread (the harness's push runs the element's chain function synchronously), so the time
//! measured is that thread's CPU time, not wall time: on a shared, loaded machine the wall
//! time of a few microseconds mostly measures the other processes.
//!
//! `cargo bench -p veil-gst --bench element`; `scripts/bench/gst.sh` runs it for `make bench`.
#![allow(missing_docs)] // criterion's macros generate undocumented functions

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gst_check::Harness;
use veil_core::{CameraConfig, CaptureMasker, FrameMut, PixelFormat, ZoneStyle};

const ZONES: &str = include_str!("../../../scripts/bench/zones.toml");
const W: u32 = 1920;
const H: u32 = 1080;

fn zones(style: ZoneStyle) -> CameraConfig {
    let mut cfg = CameraConfig::from_toml_str(ZONES, "zones.toml").expect("bench zones");
    for z in &mut cfg.zones {
        z.style = style;
    }
    cfg
}

/// CPU time consumed by the calling thread so far.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Criterion's `iter`, timed with the thread's CPU time.
fn cpu_iter(b: &mut criterion::Bencher<'_>, mut f: impl FnMut()) {
    b.iter_custom(|iters| {
        let start = thread_cpu_time();
        for _ in 0..iters {
            f();
        }
        thread_cpu_time() - start
    })
}

fn frame_buffer(info: &gst_video::VideoInfo) -> gst::Buffer {
    // a mid-grey frame with some texture, so pixelate and blur average real values
    let data: Vec<u8> = (0..info.size()).map(|i| (i % 251) as u8).collect();
    gst::Buffer::from_mut_slice(data)
}

/// Push `buf` through `h` and pull it back: the same buffer, writable again.
fn cycle(h: &mut Harness, buf: &mut Option<gst::Buffer>) {
    let b = buf.take().expect("buffer");
    *buf = Some(h.push_and_pull(b).expect("push and pull"));
}

fn harness(element: &str, config: Option<String>) -> Harness {
    let mut b = gst::ElementFactory::make(element);
    if let Some(c) = config {
        b = b.property("config", c);
    }
    let e = b.build().expect("element");
    let mut h = Harness::with_element(&e, Some("sink"), Some("src"));
    h.set_src_caps_str(&format!(
        "video/x-raw,format=I420,width={W},height={H},framerate=25/1"
    ));
    h
}

fn bench(c: &mut Criterion) {
    gst::init().expect("gst init");
    gstveil::plugin_register_static().expect("register veilmask");
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, W, H)
        .build()
        .expect("info");
    let mut g = c.benchmark_group("gst");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);

    let mut h = harness("identity", None);
    let mut buf = Some(frame_buffer(&info));
    g.bench_function(BenchmarkId::new("1080p/I420", "identity"), |b| {
        cpu_iter(b, || cycle(&mut h, &mut buf))
    });

    for (name, style) in [
        ("solid", ZoneStyle::Solid),
        ("pixelate", ZoneStyle::Pixelate),
        ("blur", ZoneStyle::Blur),
    ] {
        let cfg = zones(style);
        let masker = CaptureMasker::new(&cfg, W, H, PixelFormat::I420).expect("masker");
        let masked_bytes: u64 = masker
            .layers()
            .iter()
            .map(|(_, m)| {
                (0..3)
                    .map(|p| m.plane(p).map_or(0, |s| s.pixel_count()))
                    .sum::<u64>()
            })
            .sum();
        g.throughput(Throughput::Bytes(masked_bytes));

        // the bench zones with the style written into each zone (a `style-override` may
        // only make zones stronger, so it cannot turn the solid bench zones into blur)
        let styled = ZONES.replace("polygon = ", &format!("style = \"{name}\"\npolygon = "));
        let mut h = harness("veilmask", Some(styled));
        let mut buf = Some(frame_buffer(&info));
        g.bench_function(BenchmarkId::new(format!("1080p/I420/{name}"), "veilmask"), |b| {
            cpu_iter(b, || cycle(&mut h, &mut buf))
        });

        // veil-core alone on the same layout (GStreamer's default I420 strides)
        let mut bytes = vec![0u8; info.size()];
        for (i, v) in bytes.iter_mut().enumerate() {
            *v = (i % 251) as u8;
        }
        let (o, s) = (info.offset(), info.stride());
        g.bench_function(BenchmarkId::new(format!("1080p/I420/{name}"), "core"), |b| {
            cpu_iter(b, || {
                let (y, rest) = bytes.split_at_mut(o[1]);
                let (u, v) = rest.split_at_mut(o[2] - o[1]);
                let planes = [(y, s[0] as usize), (u, s[1] as usize), (v, s[2] as usize)];
                let mut f = FrameMut::new(PixelFormat::I420, W, H, planes).expect("frame");
                masker.apply(&mut f).expect("apply");
            })
        });

        if style == ZoneStyle::Solid {
            let mut dst = vec![0u8; masked_bytes as usize];
            g.bench_function(BenchmarkId::new("1080p/I420/solid", "memset"), |b| {
                cpu_iter(b, || {
                    dst.fill(black_box(0));
                    black_box(&mut dst);
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
