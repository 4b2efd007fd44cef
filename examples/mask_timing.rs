//! Per-call timing of capture-time masking on one frame, for the side-by-side comparison with
//! OpenCV in `make bench` (scripts/bench/opencv_mask.py times the same zones the same way).
//!
//! ```text
//! cargo run --release --example mask_timing -- ZONES.toml WIDTHxHEIGHT STYLE [SECONDS]
//! ```
//! STYLE is solid, pixelate, blur, memset or memcpy (the last two write/copy as many bytes as
//! the solid mask covers: the memory-bandwidth bound). Prints one JSON object: the median and
//! the 10th/90th percentiles of the time per call in microseconds, over as many calls as fit
//! in SECONDS (default 1) after a warm-up. Single-threaded (no rayon pool), like the OpenCV
//! side with `cv2.setNumThreads(1)`.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use veil::core::{CameraConfig, CaptureMasker, Frame, PixelFormat, ZoneStyle};

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("mask_timing: {msg}");
    ExitCode::FAILURE
}

/// Calls `f` repeatedly for `budget` (after a quarter of it as warm-up) and returns the sorted
/// per-call times in microseconds.
fn sample(budget: Duration, mut f: impl FnMut()) -> Vec<f64> {
    let warm = Instant::now();
    while warm.elapsed() < budget / 4 {
        f();
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || times.len() < 20 {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    times
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return fail(
            "usage: mask_timing ZONES.toml WIDTHxHEIGHT solid|pixelate|blur|memset|memcpy [SECONDS]",
        );
    }
    let Some((w, h)) = args[1]
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
    else {
        return fail(format!("bad size {:?}", args[1]));
    };
    let budget = Duration::from_secs_f64(args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1.0));
    let mut cfg = match CameraConfig::from_file(Path::new(&args[0])) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let style = args[2].as_str();
    let zone_style = match style {
        "solid" | "memset" | "memcpy" => ZoneStyle::Solid,
        "pixelate" => ZoneStyle::Pixelate,
        "blur" => ZoneStyle::Blur,
        other => return fail(format!("unknown style {other:?}")),
    };
    for z in &mut cfg.zones {
        z.style = zone_style;
    }
    let format = PixelFormat::I420;
    let masker = match CaptureMasker::new(&cfg, w, h, format) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let mut frame = match Frame::new(format, w, h) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    // bytes the mask covers, over the three planes (what a memset bound has to write)
    let bytes: u64 = masker
        .layers()
        .iter()
        .map(|(_, m)| {
            (0..format.plane_count())
                .map(|p| m.plane(p).map_or(0, |s| s.pixel_count()))
                .sum::<u64>()
        })
        .sum();
    let times = match style {
        "memset" => {
            let mut buf = vec![0u8; bytes as usize];
            sample(budget, || {
                buf.fill(black_box(0));
                black_box(&buf);
            })
        }
        "memcpy" => {
            let src = vec![1u8; bytes as usize];
            let mut dst = vec![0u8; bytes as usize];
            sample(budget, || {
                dst.copy_from_slice(black_box(&src));
                black_box(&dst);
            })
        }
        _ => {
            let mut err = None;
            let t = sample(budget, || {
                if let Err(e) = masker.apply(&mut frame.as_mut()) {
                    err = Some(e);
                }
            });
            if let Some(e) = err {
                return fail(e);
            }
            t
        }
    };
    println!(
        "{{\"tool\":\"veil\",\"style\":\"{style}\",\"width\":{w},\"height\":{h},\"bytes\":{bytes},\"calls\":{},\"median_us\":{:.3},\"p10_us\":{:.3},\"p90_us\":{:.3}}}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.1),
        pct(&times, 0.9)
    );
    ExitCode::SUCCESS
}
