//! NanoDet on its compact input (the default: letterboxed size rounded up to multiples of
//! 32) against the full 416x416 square, over every frame of a raw I420 clip: how many
//! persons each finds, how many of the square's persons the compact input also finds
//! (IoU >= 0.5) and the other way round, and the CPU time per frame of each (this thread's, from /proc).
//!
//! ```text
//! ffmpeg -i fixtures/vtest.mp4 -f rawvideo -pix_fmt yuv420p /tmp/vtest.yuv
//! cargo run -p veil-detect --release --example person_compare -- /tmp/vtest.yuv 768 576 [MODELS_DIR]
//! ```
#![allow(clippy::unwrap_used)]

use veil_core::{FrameRef, PixelFormat};
use veil_detect::{Detector, NanoDet};

fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, w, h): (&str, u32, u32) = (&args[0], args[1].parse().unwrap(), args[2].parse().unwrap());
    let raw = std::fs::read(path).unwrap();
    let size = (w * h * 3 / 2) as usize;
    // With a 4th argument, a models directory: compare its NanoDet (compact input) against
    // the default one (compact input) instead, e.g. a quantised candidate.
    let mut square = match args.get(3) {
        Some(dir) => NanoDet::builder().threads(1).models_dir(dir).build().unwrap(),
        None => NanoDet::builder().threads(1).square_input(true).build().unwrap(),
    };
    let mut compact = NanoDet::builder().threads(1).build().unwrap();
    let (ls, lc) = (square.letterbox_for(w, h), compact.letterbox_for(w, h));
    let (mut ns, mut nc, mut matched, mut iou_sum) = (0usize, 0usize, 0usize, 0f64);
    let (mut ts, mut tc) = (0u64, 0u64);
    let mut frames = 0;
    let mut back = 0usize;
    for chunk in raw.chunks_exact(size) {
        let (y, uv) = chunk.split_at((w * h) as usize);
        let (u, v) = uv.split_at(uv.len() / 2);
        let f = FrameRef::new(
            PixelFormat::I420,
            w,
            h,
            &[(y, w as usize), (u, w as usize / 2), (v, w as usize / 2)],
        )
        .unwrap();
        let t = thread_cpu_ns();
        let a = square.detect(&f).unwrap();
        ts += thread_cpu_ns() - t;
        let t = thread_cpu_ns();
        let b = compact.detect(&f).unwrap();
        tc += thread_cpu_ns() - t;
        ns += a.len();
        nc += b.len();
        for d in &a {
            let best = b.iter().map(|e| e.bbox.iou(&d.bbox)).fold(0f32, f32::max);
            if best >= 0.5 {
                matched += 1;
                iou_sum += f64::from(best);
            }
        }
        for d in &b {
            if a.iter().any(|e| e.bbox.iou(&d.bbox) >= 0.5) {
                back += 1;
            }
        }
        frames += 1;
    }
    println!(
        "{frames} frames {w}x{h}: square {}x{} {ns} persons {:.1} ms/frame; compact {}x{} {nc} persons {:.1} ms/frame; \
         square's persons found by compact {matched}/{ns} ({:.3}), mean IoU {:.3}; compact's found by square {back}/{nc}",
        ls.net_w,
        ls.net_h,
        ts as f64 / 1e6 / frames as f64,
        lc.net_w,
        lc.net_h,
        tc as f64 / 1e6 / frames as f64,
        matched as f64 / ns.max(1) as f64,
        iou_sum / matched.max(1) as f64
    );
}
