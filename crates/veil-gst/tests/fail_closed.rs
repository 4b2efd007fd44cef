//! `veilmask` in real pipelines (`gst::parse::launch`, and `gst-launch-1.0` as a vendor would
//! type it), through real state changes: good zones mask every supported format; a bad,
//! missing or unreadable zone file, no zone file, or a weakening `style-override` end the
//! pipeline with an error on the bus instead of prerolling (the reported hang); zones that go
//! bad while playing post the error and blank every later frame.
//!
//! Every pipeline runs on a worker thread that the test waits for with a generous timeout: a
//! hang is a failure with a message, not a stuck test run. The timeout detects a deadlock; it
//! measures no performance.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gst::prelude::*;
use gst_video::VideoFormat;
use veil_core::{CameraConfig, CaptureMasker, FrameMut};

mod support;
use support::{build_plugin, init};

/// A deadlock shows as this timeout; a healthy run of these tiny pipelines takes well under
/// a second.
const HANG: Duration = Duration::from_secs(60);

/// Three zones, deterministic styles (solid, pixelate, weak blur), one concave.
const ZONES: &str = support::zones!("pipeline");

const W: u32 = 64;
const H: u32 = 48;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("veil-gst-fail-closed");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn zone_file(name: &str, text: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `f` on a worker thread and return its result; fail if it has not returned within
/// [`HANG`] (a pipeline that neither ends nor fails, or a state change that never returns).
fn within_timeout<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(v) => v,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: hung for {HANG:?}"),
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it returns"),
        },
    }
}

/// What a pipeline did: its error messages, whether it reached EOS, and the frames seen just
/// before `veilmask` (element `before`) and just after it (element `after`), as bytes.
#[derive(Debug, Default)]
struct Outcome {
    started: bool,
    errors: Vec<String>,
    eos: bool,
    before: Vec<Vec<u8>>,
    after: Vec<Vec<u8>>,
}

type Frames = Arc<Mutex<Vec<Vec<u8>>>>;

/// Copy every buffer passing `name` (an `identity` or `fakesink` with `signal-handoffs`).
fn capture(pipeline: &gst::Bin, name: &str) -> Frames {
    let frames: Frames = Arc::default();
    if let Some(e) = pipeline.by_name(name) {
        let f = frames.clone();
        e.connect("handoff", false, move |args| {
            let buf = args[1].get::<gst::Buffer>().unwrap();
            f.lock().unwrap().push(buf.map_readable().unwrap().to_vec());
            None
        });
    }
    frames
}

fn error_text(msg: &gst::Message) -> Option<String> {
    match msg.view() {
        gst::MessageView::Error(e) => Some(format!("{} / {:?}", e.error(), e.debug())),
        _ => None,
    }
}

/// Parse `launch`, let `setup` adjust it, play it to EOS or the first error, and set it to
/// NULL again, all within [`HANG`].
fn run(launch: &str, setup: impl FnOnce(&gst::Bin) + Send + 'static) -> Outcome {
    init();
    let launch = launch.to_owned();
    within_timeout(&launch.clone(), move || {
        let pipeline = gst::parse::launch(&launch)
            .unwrap()
            .downcast::<gst::Bin>()
            .unwrap();
        setup(&pipeline);
        let (before, after) = (capture(&pipeline, "before"), capture(&pipeline, "after"));
        let bus = pipeline.bus().unwrap();
        let mut out = Outcome {
            started: pipeline.set_state(gst::State::Playing).is_ok(),
            ..Outcome::default()
        };
        // a failed state change has posted its error already: this returns at once
        if let Some(msg) = bus.timed_pop_filtered(
            gst::ClockTime::NONE,
            &[gst::MessageType::Eos, gst::MessageType::Error],
        ) {
            out.eos = msg.type_() == gst::MessageType::Eos;
            out.errors.extend(error_text(&msg));
        }
        pipeline.set_state(gst::State::Null).unwrap();
        out.errors.extend(
            std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::Error]))
                .filter_map(|m| error_text(&m)),
        );
        out.before = std::mem::take(&mut before.lock().unwrap());
        out.after = std::mem::take(&mut after.lock().unwrap());
        out
    })
}

/// `videotestsrc` (noise, `n` frames) in `format` through `veilmask <props>`, with the frames
/// captured on both sides.
fn launch(format: VideoFormat, n: u32, props: &str) -> String {
    format!(
        "videotestsrc num-buffers={n} pattern=snow ! video/x-raw,format={},width={W},height={H} \
         ! identity name=before signal-handoffs=true ! veilmask name=mask {props} \
         ! fakesink name=after signal-handoffs=true",
        format.to_str()
    )
}

fn info(format: VideoFormat) -> gst_video::VideoInfo {
    gst_video::VideoInfo::builder(format, W, H).build().unwrap()
}

/// What `CaptureMasker` makes of a frame of `format` in GStreamer's default layout.
fn expected(bytes: &[u8], format: VideoFormat, config: &CameraConfig) -> Vec<u8> {
    let info = info(format);
    let pf = gstveil::veilmask::pixel_format(format).unwrap();
    let mut out = bytes.to_vec();
    let mut rest: &mut [u8] = &mut out;
    let mut planes = Vec::new();
    let mut at = 0;
    for i in 0..pf.plane_count() {
        let (offset, stride) = (info.offset()[i], info.stride()[i] as usize);
        let (_, r) = rest.split_at_mut(offset - at);
        let rows = pf.plane_layout(W, H, i).unwrap().height as usize;
        let (plane, r) = r.split_at_mut(stride * rows);
        planes.push((plane, stride));
        at = offset + stride * rows;
        rest = r;
    }
    let mut frame = FrameMut::new(pf, W, H, planes).unwrap();
    CaptureMasker::new(config, W, H, pf)
        .unwrap()
        .apply(&mut frame)
        .unwrap();
    out
}

/// Every visible byte of a frame of `format` is the format's black.
fn is_black(bytes: &[u8], format: VideoFormat) -> bool {
    let info = info(format);
    let pf = gstveil::veilmask::pixel_format(format).unwrap();
    (0..pf.plane_count()).all(|i| {
        let l = pf.plane_layout(W, H, i).unwrap();
        let black = pf.black(i);
        (0..l.height as usize).all(|y| {
            let row = &bytes[info.offset()[i] + y * info.stride()[i] as usize..][..l.row_bytes()];
            row.chunks(black.len()).all(|px| px == black)
        })
    })
}

/// The pipeline failed to start, with one error naming `needles`, and no frame left veilmask.
fn assert_refused(out: &Outcome, needles: &[&str]) {
    assert!(!out.started, "the pipeline started: {out:?}");
    assert!(!out.eos);
    assert!(
        out.errors.iter().any(|e| needles.iter().all(|n| e.contains(n))),
        "no error naming {needles:?}: {:?}",
        out.errors
    );
    assert!(out.after.is_empty(), "{} frames left veilmask", out.after.len());
}

#[test]
fn good_zones_mask_every_format_in_a_real_pipeline() {
    let zones = zone_file("good.toml", ZONES);
    let config = CameraConfig::from_file(&zones).unwrap();
    for format in gstveil::veilmask::FORMATS {
        let out = run(
            &launch(format, 3, &format!("zones=\"{}\"", zones.display())),
            |_| {},
        );
        assert!(out.eos && out.errors.is_empty(), "{format:?}: {out:?}");
        assert_eq!((out.before.len(), out.after.len()), (3, 3), "{format:?}");
        for (i, (before, after)) in out.before.iter().zip(&out.after).enumerate() {
            let want = expected(before, format, &config);
            assert_ne!(
                &want, before,
                "{format:?}: the zones change nothing (test is void)"
            );
            assert!(
                after == &want,
                "{format:?} frame {i}: not masked as CaptureMasker masks it"
            );
        }
    }
}

#[test]
fn a_bad_zone_file_ends_the_pipeline_with_an_error() {
    let bad = zone_file("bad.toml", &ZONES.replace("[0.95, 0.05]", "[1.7, 0.05]"));
    let out = run(
        &launch(VideoFormat::I420, 5, &format!("zones=\"{}\"", bad.display())),
        |_| {},
    );
    assert_refused(&out, &[bad.to_str().unwrap(), "lies outside 0..1"]);
    // the same with fail-closed=false, and with the TOML inline
    let out = run(&launch(VideoFormat::Nv12, 5, "fail-closed=false"), |p| {
        p.by_name("mask").unwrap().set_property("config", "not toml [")
    });
    assert_refused(&out, &["veilmask config property"]);
}

#[test]
fn a_missing_zone_file_ends_the_pipeline_with_an_error() {
    let missing = tmp("does-not-exist.toml");
    let _ = std::fs::remove_file(&missing);
    let out = run(
        &launch(VideoFormat::Rgba, 5, &format!("zones=\"{}\"", missing.display())),
        |_| {},
    );
    assert_refused(&out, &[missing.to_str().unwrap(), "cannot read"]);
}

#[test]
fn no_zones_end_the_pipeline_unless_allow_empty() {
    let out = run(&launch(VideoFormat::I420, 3, ""), |_| {});
    assert_refused(&out, &["no zone file", "allow-empty"]);
    let empty = zone_file(
        "empty.toml",
        "[camera]\nid = \"c\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n",
    );
    let out = run(
        &launch(VideoFormat::I420, 3, &format!("zones=\"{}\"", empty.display())),
        |_| {},
    );
    assert_refused(&out, &[empty.to_str().unwrap(), "has no zones", "allow-empty"]);

    // allowed explicitly: the frames go through the masker unchanged
    for props in [
        String::from("allow-empty=true"),
        format!("allow-empty=true zones=\"{}\"", empty.display()),
    ] {
        let out = run(&launch(VideoFormat::I420, 3, &props), |_| {});
        assert!(out.eos && out.errors.is_empty(), "{props}: {out:?}");
        assert_eq!(out.after.len(), 3);
        assert_eq!(out.after, out.before, "{props}");
    }
}

#[test]
fn a_zone_file_that_becomes_unreadable_ends_the_pipeline() {
    // read when the property is set (at parse time), gone when the pipeline starts
    let path = zone_file("vanishing.toml", ZONES);
    let gone = path.clone();
    let out = run(
        &launch(VideoFormat::I420, 5, &format!("zones=\"{}\"", path.display())),
        move |_| {
            std::fs::remove_file(&gone).unwrap();
        },
    );
    assert_refused(&out, &[path.to_str().unwrap(), "cannot read"]);
}

#[test]
fn a_weakening_style_override_is_refused_and_a_stronger_one_applies() {
    let zones = zone_file("override.toml", ZONES);
    for weaker in ["blur", "weak-blur", "pixelate"] {
        let out = run(
            &launch(
                VideoFormat::I420,
                3,
                &format!("zones=\"{}\" style-override={weaker}", zones.display()),
            ),
            |_| {},
        );
        assert_refused(&out, &["would weaken zone 0", "door"]);
    }
    // solid over every zone: stronger than each, applied to each
    let out = run(
        &launch(
            VideoFormat::Gray8,
            2,
            &format!("zones=\"{}\" style-override=solid", zones.display()),
        ),
        |_| {},
    );
    assert!(out.eos && out.errors.is_empty(), "{out:?}");
    let mut solid = CameraConfig::from_file(&zones).unwrap();
    for z in &mut solid.zones {
        z.style = veil_core::ZoneStyle::Solid;
    }
    for (before, after) in out.before.iter().zip(&out.after) {
        assert!(after == &expected(before, VideoFormat::Gray8, &solid));
    }
}

/// A live pipeline, playing: `change` is called (on the test's thread) once `veilmask` has
/// passed `frames_first` frames; the run ends at the first error, which the test, like an
/// application, answers by setting the pipeline to NULL, after `frames_after` more frames
/// have left veilmask. Returns the outcome and how many frames had left veilmask when
/// `change` returned.
fn run_live(
    props: &str,
    frames_first: usize,
    frames_after: usize,
    change: impl FnOnce(&gst::Bin) + Send + 'static,
) -> (Outcome, usize) {
    init();
    let launch = format!(
        "videotestsrc is-live=true pattern=snow ! video/x-raw,format=I420,width={W},height={H},framerate=50/1 \
         ! identity name=before signal-handoffs=true ! veilmask name=mask {props} \
         ! fakesink name=after signal-handoffs=true"
    );
    within_timeout(&launch.clone(), move || {
        let pipeline = gst::parse::launch(&launch)
            .unwrap()
            .downcast::<gst::Bin>()
            .unwrap();
        let (before, after) = (capture(&pipeline, "before"), capture(&pipeline, "after"));
        // a handoff after `frames_first` frames tells this thread to make the change
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        let seen = after.clone();
        pipeline
            .by_name("after")
            .unwrap()
            .connect("handoff", false, move |_| {
                if seen.lock().unwrap().len() == frames_first {
                    let _ = tx.try_send(());
                }
                None
            });
        let bus = pipeline.bus().unwrap();
        let mut out = Outcome {
            started: pipeline.set_state(gst::State::Playing).is_ok(),
            ..Outcome::default()
        };
        rx.recv().unwrap();
        change(&pipeline);
        let changed_at = after.lock().unwrap().len();
        if let Some(msg) = bus.timed_pop_filtered(gst::ClockTime::NONE, &[gst::MessageType::Error]) {
            out.errors.extend(error_text(&msg));
        }
        // more frames after the error: all must be blank
        let more = changed_at + frames_after;
        while after.lock().unwrap().len() < more {
            std::thread::sleep(Duration::from_millis(10));
        }
        pipeline.set_state(gst::State::Null).unwrap();
        out.before = std::mem::take(&mut before.lock().unwrap());
        out.after = std::mem::take(&mut after.lock().unwrap());
        (out, changed_at)
    })
}

#[test]
fn zones_changed_to_a_bad_file_while_playing_post_an_error_and_blank_every_later_frame() {
    let good = zone_file("live-good.toml", ZONES);
    let bad = zone_file("live-bad.toml", "[camera]\nid = \"c\"\n");
    let config = CameraConfig::from_file(&good).unwrap();
    let bad_path = bad.clone();
    let (out, changed_at) = run_live(&format!("zones=\"{}\"", good.display()), 3, 4, move |p| {
        let mask = p.by_name("mask").unwrap();
        mask.set_property("zones", bad_path.to_str().unwrap());
    });
    assert!(out.started);
    assert!(
        out.errors.iter().any(|e| e.contains(bad.to_str().unwrap())),
        "{:?}",
        out.errors
    );
    // one streaming thread: at most one frame was between veilmask and the sink when the
    // property changed; every frame after that one is blank
    for (i, (before, after)) in out.before.iter().zip(&out.after).enumerate() {
        if i < 3 {
            assert!(
                after == &expected(before, VideoFormat::I420, &config),
                "frame {i}"
            );
        } else if i > changed_at {
            assert!(
                is_black(after, VideoFormat::I420),
                "frame {i} after the bad zones is not blank"
            );
        }
    }
    assert!(out.after.len() > changed_at + 1);
}

#[test]
fn zones_removed_while_playing_post_an_error_and_blank_every_later_frame() {
    let good = zone_file("live-cleared.toml", ZONES);
    let (out, changed_at) = run_live(&format!("zones=\"{}\"", good.display()), 2, 4, |p| {
        p.by_name("mask").unwrap().set_property("zones", None::<String>);
    });
    assert!(
        out.errors.iter().any(|e| e.contains("no zone file")),
        "{:?}",
        out.errors
    );
    for (i, after) in out.after.iter().enumerate().skip(changed_at + 1) {
        assert!(
            is_black(after, VideoFormat::I420),
            "frame {i} after the zones were cleared is not blank"
        );
    }
}

#[test]
fn a_zone_file_that_becomes_unreadable_while_playing_fails_the_next_start() {
    // the file is read when set and on every transition to PLAYING: gone by the next one
    // (a pause and resume), the transition fails with the error and nothing more is masked
    let path = zone_file("vanishing-live.toml", ZONES);
    let gone = path.clone();
    let resumed = Arc::new(Mutex::new(None));
    let r = resumed.clone();
    let (out, changed_at) = run_live(&format!("zones=\"{}\"", path.display()), 2, 0, move |p| {
        std::fs::remove_file(&gone).unwrap();
        p.set_state(gst::State::Paused).unwrap();
        *r.lock().unwrap() = Some(p.set_state(gst::State::Playing).is_ok());
    });
    assert_eq!(
        *resumed.lock().unwrap(),
        Some(false),
        "the pipeline resumed without its zones"
    );
    assert!(
        out.errors
            .iter()
            .any(|e| e.contains(path.to_str().unwrap()) && e.contains("cannot read")),
        "{:?}",
        out.errors
    );
    for (i, after) in out.after.iter().enumerate().skip(changed_at + 1) {
        assert!(
            is_black(after, VideoFormat::I420),
            "frame {i} after the failed start is not blank"
        );
    }
}

#[test]
fn gst_launch_with_a_bad_zone_file_exits_with_the_error() {
    // the command of the report, which printed the error and then never exited
    let dir = build_plugin();
    let bad = zone_file(
        "gst-launch-bad.toml",
        &ZONES.replace("[0.40, 0.05]", "[1.7, 0.1]"),
    );
    let missing = tmp("gst-launch-missing.toml");
    let _ = std::fs::remove_file(&missing);
    for (props, needle) in [
        (format!("zones={}", bad.display()), "lies outside 0..1".to_owned()),
        (format!("zones={}", missing.display()), "cannot read".to_owned()),
        (String::new(), "allow-empty".to_owned()),
    ] {
        let mut args: Vec<String> =
            "videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=640,height=480 ! veilmask"
                .split(' ')
                .map(String::from)
                .collect();
        if !props.is_empty() {
            args.push(props.clone());
        }
        args.extend(["!", "fakesink"].map(String::from));
        let registry = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("veil-gst-registry.bin");
        let child = Command::new("gst-launch-1.0")
            .args(&args)
            .env("GST_PLUGIN_PATH", &dir)
            .env("GST_REGISTRY", &registry)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gst-launch-1.0 (make setup installs gstreamer1.0-tools)");
        let pid = child.id() as libc::pid_t;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        let out = match rx.recv_timeout(HANG) {
            Ok(out) => out.unwrap(),
            Err(_) => {
                // SAFETY: kill(2) on the child this test spawned and has not reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("gst-launch-1.0 {props}: hung for {HANG:?} (killed)");
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{props}: exit 0\n{stderr}");
        assert!(stderr.contains(&needle), "{props}: no {needle:?} in\n{stderr}");
    }
}
