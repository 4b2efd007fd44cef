//! End-to-end tests of `redact mask` on the real fixture clip (OpenCV's vtest, 768x576,
//! 10 fps, 150 frames): the CLI example binary is run as a user would run it, and its
//! output is decoded again and checked pixel by pixel.
//!
//! The binary is the one `cargo test` builds into `target/<profile>/examples/redact`; when
//! only this test is built (`cargo test --test mask_cli`), it is built on demand into a
//! separate target directory (to avoid waiting on the lock of the running build).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{redact, redact_bin, root, scratch};

use veil::core::{CameraConfig, PixelFormat};
use veil::video::{ReadOptions, VideoReader};

fn fixture() -> PathBuf {
    root().join("fixtures/vtest.mp4")
}
fn zones() -> PathBuf {
    root().join("fixtures/vtest-zones.toml")
}

fn mask(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["mask".as_ref(), input.as_os_str(), "--zones".as_ref()];
    let z = zones();
    args.push(z.as_os_str());
    args.push("-o".as_ref());
    args.push(output.as_os_str());
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    Command::new(redact_bin()).args(&args).output().unwrap()
}

fn ffmpeg(args: &[&str]) {
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status()
        .expect("the ffmpeg command-line tool (installed by scripts/setup.sh)");
    assert!(st.success(), "ffmpeg {args:?}");
}

/// Luma and U planes (tightly packed), times, frame rate and size of a decoded video.
type Decoded = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<f64>, (i32, i32), (u32, u32));

/// Decode every frame of a video.
fn decode(path: &Path) -> Decoded {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let info = r.info().clone();
    assert_eq!(info.format, PixelFormat::I420);
    let (mut ys, mut us, mut ts) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        ys.push(v.planes()[0].rows().flatten().copied().collect());
        us.push(v.planes()[1].rows().flatten().copied().collect());
        ts.push(f.time());
    }
    (ys, us, ts, info.fps, (info.width, info.height))
}

/// Box sums over a 0/1 mask, to ask "is the whole neighbourhood inside / outside".
struct Integral {
    w: usize,
    h: usize,
    s: Vec<u32>,
}

impl Integral {
    fn new(w: usize, h: usize, inside: impl Fn(usize, usize) -> bool) -> Self {
        let mut s = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            for x in 0..w {
                s[(y + 1) * (w + 1) + x + 1] =
                    u32::from(inside(x, y)) + s[y * (w + 1) + x + 1] + s[(y + 1) * (w + 1) + x]
                        - s[y * (w + 1) + x];
            }
        }
        Integral { w, h, s }
    }
    /// Count of inside pixels within `r` of (x, y), and the box's pixel count.
    fn around(&self, x: usize, y: usize, r: usize) -> (u32, u32) {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(self.w), (y + r + 1).min(self.h));
        let w1 = self.w + 1;
        let sum = self.s[y1 * w1 + x1] + self.s[y0 * w1 + x0] - self.s[y0 * w1 + x1] - self.s[y1 * w1 + x0];
        (sum, ((x1 - x0) * (y1 - y0)) as u32)
    }
}

/// Whether the point (x, y) lies inside the polygon, by its winding number (non-zero rule):
/// an algorithm of its own, not the one veil-core rasterises zones with, so that the test
/// does not take its expected zones from the code under test.
fn winding_inside(poly: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut winding = 0i32;
    for (i, a) in poly.iter().enumerate() {
        let b = poly[(i + 1) % poly.len()];
        // Which side of the edge a->b the point lies on (> 0: left).
        let side = (b[0] - a[0]) * (y - a[1]) - (x - a[0]) * (b[1] - a[1]);
        if a[1] <= y {
            if b[1] > y && side > 0.0 {
                winding += 1;
            }
        } else if b[1] <= y && side < 0.0 {
            winding -= 1;
        }
    }
    winding != 0
}

/// (luma, chroma) zone maps of the fixture's zone file for 768x576, from the polygons in the
/// zone file sampled at pixel centres (a chroma sample's centre is the centre of the 2x2
/// luma pixels it covers).
fn zone_maps() -> (Integral, Integral) {
    let config = CameraConfig::from_file(&zones()).unwrap();
    let polys: Vec<Vec<[f64; 2]>> = config.zones.iter().map(|z| z.polygon.points().to_vec()).collect();
    let inside = |x: f64, y: f64| polys.iter().any(|p| winding_inside(p, x / 768.0, y / 576.0));
    (
        Integral::new(768, 576, |x, y| inside(x as f64 + 0.5, y as f64 + 0.5)),
        Integral::new(384, 288, |x, y| {
            inside(2.0 * x as f64 + 1.0, 2.0 * y as f64 + 1.0)
        }),
    )
}

/// Check an output frame against its input frame: zone cores are black, the rest is the
/// input within codec tolerance.
fn check_frame(k: usize, out_y: &[u8], out_u: &[u8], in_y: &[u8], maps: &(Integral, Integral)) {
    let (mut core, mut far, mut diff) = (0u64, 0u64, 0u64);
    for y in 0..576 {
        for x in 0..768 {
            let (n, total) = maps.0.around(x, y, 2);
            let i = y * 768 + x;
            if n == total {
                core += 1;
                assert!(
                    out_y[i] <= 8,
                    "frame {k}: luma {} at ({x}, {y}) inside a zone",
                    out_y[i]
                );
            } else if maps.0.around(x, y, 8).0 == 0 {
                far += 1;
                diff += u64::from(out_y[i].abs_diff(in_y[i]));
            }
        }
    }
    for y in 0..288 {
        for x in 0..384 {
            let (n, total) = maps.1.around(x, y, 2);
            if n == total {
                let u = out_u[y * 384 + x];
                assert!(
                    u.abs_diff(128) <= 8,
                    "frame {k}: chroma {u} at ({x}, {y}) inside a zone"
                );
            }
        }
    }
    assert!(core > 20_000, "zone cores cover {core} pixels");
    let mean = diff as f64 / far as f64;
    assert!(
        mean < 2.5,
        "frame {k}: mean luma difference {mean} away from the zones"
    );
}

#[test]
fn masks_every_frame_and_keeps_size_rate_and_count() {
    let dir = scratch("full");
    let out = dir.join("masked.mp4");
    let o = mask(&fixture(), &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (in_y, _, in_t, in_fps, in_size) = decode(&fixture());
    let (out_y, out_u, out_t, out_fps, out_size) = decode(&out);
    assert_eq!(out_y.len(), 150);
    assert_eq!(out_y.len(), in_y.len());
    assert_eq!(out_fps, in_fps);
    assert_eq!(out_size, in_size);
    for (a, b) in in_t.iter().zip(&out_t) {
        assert!((a - b).abs() < 1e-3, "timestamps {a} vs {b}");
    }
    let maps = zone_maps();
    for k in 0..150 {
        check_frame(k, &out_y[k], &out_u[k], &in_y[k], &maps);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn window_holds_exactly_the_frames_inside_it() {
    let dir = scratch("window");
    let out = dir.join("window.mp4");
    // Frames at 2.4 .. 5.0 s (27 frames); 2.5 s is a keyframe with B-frames around it.
    let o = mask(&fixture(), &out, &["--from", "00:02.35", "--to", "5.05"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (in_y, _, _, _, _) = decode(&fixture());
    let (out_y, out_u, out_t, fps, _) = decode(&out);
    assert_eq!(out_y.len(), 27);
    assert_eq!(fps, (10, 1));
    assert!(out_t[0].abs() < 1e-6, "output starts at 0");
    let maps = zone_maps();
    for k in 0..27 {
        check_frame(k, &out_y[k], &out_u[k], &in_y[24 + k], &maps);
    }
    // And the window's ends are its own frames, not their neighbours outside it: the first
    // output frame is input frame 24 (2.4 s), not 23; the last is input frame 50 (5.0 s),
    // not 51.
    let mean_diff = |a: &[u8], b: &[u8]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| u64::from(p.abs_diff(*q)))
            .sum::<u64>() as f64
            / a.len() as f64
    };
    for (k, own, outside) in [(0usize, 24usize, 23usize), (26, 50, 51)] {
        let (d_own, d_out) = (
            mean_diff(&out_y[k], &in_y[own]),
            mean_diff(&out_y[k], &in_y[outside]),
        );
        assert!(
            d_own < d_out,
            "output frame {k} is input frame {own} ({d_own:.2}), not {outside} ({d_out:.2})"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Exit status 1, one `error:` line naming `name`, nothing left in `dir` but `keep`.
fn assert_failed_cleanly(o: &Output, name: &str, dir: &Path, keep: &[&str]) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{name}: stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(name), "error should name {name}: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    left.sort();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn broken_inputs_fail_cleanly() {
    let dir = scratch("broken");
    let fixture_bytes = std::fs::read(fixture()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.mp4", Vec::new()),
        // Deterministic pseudo-random bytes (xorshift).
        ("random.mp4", {
            let mut s = 0x9E37_79B9_7F4A_7C15u64;
            (0..200_000)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    s as u8
                })
                .collect()
        }),
        ("truncated.mp4", fixture_bytes[..fixture_bytes.len() / 2].to_vec()),
        (
            "text.mp4",
            b"This is not a video, just a note someone named .mp4\n".to_vec(),
        ),
        // Damage in the middle of the video data: the decoder would conceal it with
        // invented pixels, which must be an error, not a silently "repaired" frame.
        ("damaged.mp4", {
            let mut d = fixture_bytes.clone();
            for i in 0..200 {
                d[700_000 + i * 37] ^= 0xff;
            }
            d
        }),
    ];
    let mut keep: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    for (name, bytes) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // Odd frame size (4:2:0 needs even sizes): a lossless 321x241 clip.
    ffmpeg(&[
        "-i",
        fixture().to_str().unwrap(),
        "-t",
        "0.5",
        "-vf",
        "scale=321:241",
        "-c:v",
        "ffv1",
        dir.join("odd.mkv").to_str().unwrap(),
    ]);
    keep.push("odd.mkv");
    for name in keep.clone() {
        let o = mask(&dir.join(name), &dir.join("out.mp4"), &[]);
        assert_failed_cleanly(&o, name, &dir, &keep);
    }
    let o = mask(&dir.join("odd.mkv"), &dir.join("out.mp4"), &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("321x241"));
    let o = mask(&dir.join("missing.mp4"), &dir.join("out.mp4"), &[]);
    assert_failed_cleanly(&o, "missing.mp4", &dir, &keep);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unusable_outputs_and_zone_files_fail_cleanly() {
    let dir = scratch("outputs");
    std::fs::write(dir.join("plain-file"), b"x").unwrap();
    let keep = ["plain-file"];
    for out in [dir.join("no-such-dir/out.mp4"), dir.join("plain-file/out.mp4")] {
        let o = mask(&fixture(), &out, &[]);
        assert_failed_cleanly(&o, "out.mp4", &dir, &keep);
    }
    // The output may not overwrite the input (the original is the evidence).
    let copy = dir.join("copy.mp4");
    std::fs::copy(fixture(), &copy).unwrap();
    let o = mask(&copy, &copy, &[]);
    assert_failed_cleanly(&o, "copy.mp4", &dir, &["plain-file", "copy.mp4"]);
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(fixture()).unwrap());
    // Missing zone file.
    let out = dir.join("out.mp4");
    let missing = dir.join("nozones.toml");
    let o = redact(&[
        "mask".as_ref(),
        fixture().as_os_str(),
        "--zones".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_failed_cleanly(&o, "nozones.toml", &dir, &["plain-file", "copy.mp4"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("usage");
    let out = dir.join("out.mp4");
    let o = redact(&[
        "mask".as_ref(),
        fixture().as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    for bad in [
        ["--from", "1:75"],
        ["--to", "abc"],
        ["--crf", "52"],
        ["--preset", "warp"],
    ] {
        let o = mask(&fixture(), &out, &bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn audio_only_when_asked_and_metadata_stripped() {
    let dir = scratch("meta");
    let input = dir.join("with-audio-and-tags.mp4");
    ffmpeg(&[
        "-i",
        fixture().to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-t",
        "3",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-metadata",
        "title=VeilSecretTitle",
        "-metadata",
        "comment=VeilSecretComment",
        "-metadata",
        "location=+52.3702+004.8952/",
        "-metadata",
        "creation_time=2024-01-02T03:04:05Z",
        "-metadata:s:v",
        "handler_name=VeilSecretHandler",
        input.to_str().unwrap(),
    ]);
    assert!(
        VideoReader::open(&input, &ReadOptions::default())
            .unwrap()
            .info()
            .has_audio
    );
    for (name, extra, audio) in [
        ("plain.mp4", &[][..], false),
        ("audio.mp4", &["--keep-audio"][..], true),
    ] {
        let out = dir.join(name);
        let o = mask(&input, &out, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r = VideoReader::open(&out, &ReadOptions::default()).unwrap();
        assert_eq!(r.info().has_audio, audio, "{name}");
        let bytes = std::fs::read(&out).unwrap();
        for needle in [
            &b"VeilSecret"[..],
            b"+52.3702",
            b"Lavf", // the muxer's software tag
            b"2024-01-02",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} contains {:?}",
                String::from_utf8_lossy(needle)
            );
        }
        // The index is in front (+faststart): moov before mdat.
        let pos = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
        assert!(pos(b"moov") < pos(b"mdat"), "{name}: moov after mdat");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
