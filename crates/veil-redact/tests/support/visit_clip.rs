//! The visit clip of the activity gate's and `--only-requester`'s tests: the bundled CCTV
//! clip's empty street (its temporal median) held with sensor noise, five seconds of the real
//! clip's pedestrians, and the empty street again.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Frames per second of the clip.
pub const FPS: u64 = 10;
/// Frames of the clip.
pub const FRAMES: u64 = 130;

pub fn ff(args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg {args:?}");
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// 4 s of empty street, 5 s of the clip, 4 s of empty street: 130 frames at 768x576, 10 fps,
/// sensor noise throughout, a keyframe every 2 s (as scripts/bench/empty_busy.sh builds its
/// clips).
pub fn clip(d: &Path) -> PathBuf {
    let vtest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4");
    let (median, frame0, bg) = (d.join("median.png"), d.join("frame0.png"), d.join("bg.png"));
    ff(&[
        "-i",
        p(&vtest),
        "-vf",
        "tmedian=radius=74,select=eq(n\\,0)",
        "-frames:v",
        "1",
        "-update",
        "1",
        p(&median),
    ]);
    ff(&["-i", p(&vtest), "-frames:v", "1", "-update", "1", p(&frame0)]);
    // Where someone stands most of the clip, the street from the first frame (nobody there).
    ff(&[
        "-i",
        p(&median),
        "-i",
        p(&frame0),
        "-filter_complex",
        "[1]crop=80:110:350:170[p];[0][p]overlay=350:170",
        "-update",
        "1",
        p(&bg),
    ]);
    let out = d.join("visit.mp4");
    ff(&[
        "-loop", "1", "-framerate", "10", "-t", "4", "-i", p(&bg),
        "-t", "5", "-i", p(&vtest),
        "-loop", "1", "-framerate", "10", "-t", "4", "-i", p(&bg),
        "-filter_complex",
        "[0]format=yuv420p[a];[1]format=yuv420p[b];[2]format=yuv420p[c];[a][b][c]concat=n=3,noise=alls=6:allf=t[v]",
        "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "20", "-r", "10",
        p(&out),
    ]);
    out
}
