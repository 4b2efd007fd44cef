//! ONNX Runtime session options against per-run CPU time of the two networks, on a real
//! 720p frame (the group photo), measured as this thread's CPU time (from
//! /proc/thread-self/schedstat, in ns: steadier than wall time on a shared machine).
//!
//! ```text
//! cargo run -p veil-detect --release --example ort_options -- [centerface|nanodet] [RUNS] [profile]
//! ```
//! `profile` writes ONNX Runtime's per-operator JSON profile to /tmp/ort_profile_<model>*.json.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use veil_core::PixelFormat;
use veil_detect::default_models_dir;
use veil_detect::preprocess::{Letterbox, Resampler};

fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("centerface", String::as_str).to_owned();
    let runs: usize = args.get(1).map_or(20, |s| s.parse().unwrap());
    let profile = args.iter().any(|a| a == "profile");
    // Its own environment (the crate's is private): the same library the detectors load.
    let env = ort::init_from("/usr/local/lib/veil/libonnxruntime.so")
        .unwrap()
        .build()
        .unwrap();
    let rgb = common::load_rgb("group_t1.jpg");
    let img = image::open(common::fixture("group_t1.jpg")).unwrap().to_rgb8();
    drop(rgb);
    let img = image::imageops::resize(&img, 1280, 720, image::imageops::FilterType::Triangle);
    let mut f = veil_core::Frame::new(PixelFormat::Rgb24, 1280, 720).unwrap();
    {
        let mut m = f.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 0..720u32 {
            p.row_mut(y)
                .copy_from_slice(&img.as_raw()[(y * 1280 * 3) as usize..((y + 1) * 1280 * 3) as usize]);
        }
    }
    let f = common::convert(&f, PixelFormat::I420);
    let (file, lb, gain) = if which == "nanodet" {
        (
            "nanodet-m-416.onnx",
            Letterbox::fit(1280, 720, 416, 416, true),
            1.0 / 255.0,
        )
    } else {
        let mut lb = Letterbox::fit(1280, 720, 640, 640, false);
        lb.net_w = lb.content_w.div_ceil(32) * 32;
        lb.net_h = lb.content_h.div_ceil(32) * 32;
        (
            if which == "centerface" {
                "centerface.onnx"
            } else {
                "x"
            },
            lb,
            1.0,
        )
    };
    let plan = Resampler::new(1280, 720, lb);
    let mut input = vec![0f32; plan.tensor_len()];
    plan.fill(&f.as_ref(), &mut input, gain).unwrap();
    let bytes = std::fs::read(default_models_dir().join(file)).unwrap();
    let shape = [1usize, 3, lb.net_h, lb.net_w];

    type Variant = (
        &'static str,
        fn(ort::session::builder::SessionBuilder) -> ort::session::builder::SessionBuilder,
    );
    let variants: Vec<Variant> = vec![
        ("current (default level)", |b| b),
        ("level3 (All)", |b| {
            b.with_optimization_level(GraphOptimizationLevel::All).unwrap()
        }),
        ("level1", |b| {
            b.with_optimization_level(GraphOptimizationLevel::Level1).unwrap()
        }),
        ("level2", |b| {
            b.with_optimization_level(GraphOptimizationLevel::Level2).unwrap()
        }),
        ("no memory pattern", |b| b.with_memory_pattern(false).unwrap()),
        ("no prepacking", |b| b.with_prepacking(false).unwrap()),
    ];
    for (name, v) in variants {
        let mut b = Session::builder(&env)
            .unwrap()
            .with_intra_threads(1)
            .unwrap()
            .with_inter_threads(1)
            .unwrap()
            .with_intra_op_spinning(false)
            .unwrap();
        if profile {
            b = b.with_profiling(format!("/tmp/ort_profile_{which}")).unwrap();
        }
        let mut s = v(b).commit_from_memory(&bytes).unwrap();
        let run = |s: &mut Session| {
            let t = ort::value::TensorRef::from_array_view((shape, input.as_slice())).unwrap();
            let out = s.run(ort::inputs![t]).unwrap();
            drop(out);
        };
        run(&mut s);
        run(&mut s);
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let c = thread_cpu_ns();
            run(&mut s);
            samples.push((thread_cpu_ns() - c) as f64 / 1e6);
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "{which} {}x{} {name:<26} cpu ms/run: min {:6.1} median {:6.1}",
            lb.net_w,
            lb.net_h,
            samples[0],
            samples[runs / 2]
        );
        if profile {
            s.end_profiling().unwrap();
            break;
        }
    }
}
