//! A real pipeline: `filesrc ! decodebin ! videoconvert ! veilmask ! x264enc ! mp4mux !
//! filesink` on the vtest fixture with its zone file. The result is decoded back with the
//! FFmpeg CLI (independent of GStreamer) and every zone must be uniform black in every frame,
//! where the same pixels of the source are not.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gst::prelude::*;
use veil_core::{CameraConfig, CaptureMasker, PixelFormat};

const W: u32 = 768;
const H: u32 = 576;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// Decode `path` to I420 frames with the FFmpeg CLI and call `f` on each.
fn for_each_frame(path: &Path, mut f: impl FnMut(usize, &[u8])) -> usize {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ffmpeg (make setup installs it)");
    let mut out = child.stdout.take().unwrap();
    let mut frame = vec![0u8; (W * H * 3 / 2) as usize];
    let mut n = 0;
    while out.read_exact(&mut frame).is_ok() {
        f(n, &frame);
        n += 1;
    }
    assert!(
        child.wait().unwrap().success(),
        "ffmpeg failed on {}",
        path.display()
    );
    n
}

/// Per plane of an I420 frame: the sample indices at least `margin` samples inside a zone
/// (away from the edges, where the encoder's blocks may mix a zone with its surroundings).
fn zone_interiors(config: &CameraConfig) -> Vec<Vec<usize>> {
    let masker = CaptureMasker::new(config, W, H, PixelFormat::I420).unwrap();
    let mut offset = 0;
    (0..3)
        .map(|plane| {
            let l = PixelFormat::I420.plane_layout(W, H, plane).unwrap();
            let margin = if plane == 0 { 4 } else { 2 };
            let inside = |x: i64, y: i64| {
                x >= 0
                    && y >= 0
                    && x < i64::from(l.width)
                    && y < i64::from(l.height)
                    && masker
                        .layers()
                        .iter()
                        .any(|(_, m)| m.plane(plane).unwrap().contains(x as u32, y as u32))
            };
            let mut idx = Vec::new();
            for y in 0..i64::from(l.height) {
                for x in 0..i64::from(l.width) {
                    let deep =
                        (-margin..=margin).all(|dy| (-margin..=margin).all(|dx| inside(x + dx, y + dy)));
                    if deep {
                        idx.push(offset + (y * i64::from(l.width) + x) as usize);
                    }
                }
            }
            offset += l.row_bytes() * l.height as usize;
            idx
        })
        .collect()
}

fn range(frame: &[u8], idx: &[usize]) -> (u8, u8) {
    idx.iter()
        .map(|&i| frame[i])
        .fold((255, 0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[test]
fn decodebin_veilmask_x264enc_mp4mux_masks_every_frame() {
    gst::init().unwrap();
    gstveil::plugin_register_static().unwrap();
    let input = fixture("vtest.mp4");
    let zones = fixture("vtest-zones.toml");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("veil-gst-pipeline");
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("vtest-masked.mp4");
    let _ = std::fs::remove_file(&output);

    let launch = format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! veilmask zones=\"{}\" \
         ! x264enc ! mp4mux ! filesink location=\"{}\"",
        input.display(),
        zones.display(),
        output.display()
    );
    let pipeline = gst::parse::launch(&launch).unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(300),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the pipeline neither finished nor failed in 300 s");
    pipeline.set_state(gst::State::Null).unwrap();
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("pipeline error: {} ({:?})", e.error(), e.debug());
    }

    let config = CameraConfig::from_file(&zones).unwrap();
    let interiors = zone_interiors(&config);
    assert!(
        interiors[0].len() > 10_000,
        "zone interiors too small: {}",
        interiors[0].len()
    );

    // the source: the zones show the scene (windows, doors, cars), not a flat colour
    let mut source_spread = 0u8;
    let n_in = for_each_frame(&input, |_, f| {
        let (lo, hi) = range(f, &interiors[0]);
        source_spread = source_spread.max(hi - lo);
    });
    assert!(
        source_spread > 100,
        "source zones are flat already ({source_spread}): test is void"
    );

    // the output: every zone black and flat in every frame (luma ~0, chroma ~128)
    let n_out = for_each_frame(&output, |n, f| {
        let (lo, hi) = range(f, &interiors[0]);
        assert!(hi <= 6 && hi - lo <= 6, "frame {n}: zone luma in {lo}..={hi}");
        for (plane, idx) in interiors.iter().enumerate().skip(1) {
            let (lo, hi) = range(f, idx);
            assert!(
                (122..=134).contains(&lo) && (122..=134).contains(&hi),
                "frame {n}: zone chroma plane {plane} in {lo}..={hi}"
            );
        }
    });
    assert_eq!(n_in, 150);
    assert_eq!(n_out, n_in, "every frame must be encoded");
}
