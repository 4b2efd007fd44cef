//! The encoder choice, with real encodes of the fixture clip. On a machine without a GPU
//! (the CI and development machines) `auto` falls back to libx264 and a hardware encoder
//! asked for by name is refused; where a device exists those checks are skipped.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use super::*;
use crate::{EncodeOptions, ReadOptions, VideoError, VideoReader, VideoWriter};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4")
}

fn scratch_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-video-hwenc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// No device any hardware encoder could use.
fn no_gpu() -> bool {
    render_nodes().is_empty() && !Path::new("/dev/nvidiactl").exists()
}

/// Encode the first `n` frames of the fixture, masked black, with `encoder`.
fn encode(out: &Path, encoder: Encoder, n: usize) -> Result<EncoderUsed, VideoError> {
    let mut reader = VideoReader::open(fixture(), &ReadOptions::default())?;
    let opts = EncodeOptions {
        encoder,
        crf: 30,
        preset: "ultrafast".into(),
        ..EncodeOptions::default()
    };
    let mut w = VideoWriter::create(out, reader.info(), &opts)?;
    let used = w.encoder_used().clone();
    for _ in 0..n {
        let Some(mut f) = reader.next_frame()? else { break };
        f.frame_mut()?.fill_black();
        w.write_decoded(&f)?;
    }
    w.finish()?;
    Ok(used)
}

#[test]
fn names_parse_and_print() {
    for n in Encoder::NAMES {
        assert_eq!(n.parse::<Encoder>().unwrap().name(), n);
    }
    assert_eq!("h264_nvenc".parse::<Encoder>().unwrap(), Encoder::Nvenc);
    assert!(matches!(
        "cuda".parse::<Encoder>(),
        Err(VideoError::InvalidOption { .. })
    ));
    assert_eq!(EncodeOptions::default().encoder, Encoder::X264);
}

#[test]
fn auto_falls_back_to_x264_without_a_gpu_and_says_why() {
    let dir = scratch_dir("auto");
    let out = dir.join("auto.mp4");
    let used = encode(&out, Encoder::Auto, 12).unwrap();
    // Every frame went through whichever encoder was chosen, masked.
    let mut r = VideoReader::open(&out, &ReadOptions::default()).unwrap();
    let mut frames = 0;
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        let luma = v.planes()[0]
            .rows()
            .flatten()
            .map(|&b| u64::from(b))
            .max()
            .unwrap();
        assert!(luma <= 24, "a masked frame came out with luma {luma}");
        frames += 1;
    }
    assert_eq!(frames, 12);
    if no_gpu() {
        assert_eq!(used.encoder, Encoder::X264);
        assert_eq!(used.codec, "libx264");
        assert!(!used.hardware());
        // Each hardware encoder was tried (or is known not to open) and is named with why.
        let tried: Vec<Encoder> = used.passed_over.iter().map(|(e, _)| *e).collect();
        assert_eq!(tried, HARDWARE_ENCODERS.to_vec());
        let line = used.describe();
        eprintln!("{line}");
        assert!(
            line.starts_with("libx264 (software; no hardware encoder: h264_vaapi: "),
            "{line}"
        );
        assert!(line.contains("/dev/dri"), "{line}");
        // A second writer does not probe again, and says the same.
        let again = encode(&dir.join("again.mp4"), Encoder::Auto, 2).unwrap();
        assert_eq!(again, used);
    } else {
        assert_eq!(used.codec, used.encoder.codec_name().unwrap());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_hardware_encoder_asked_for_by_name_is_refused_when_it_cannot_open() {
    let dir = scratch_dir("named");
    let x = dir.join("x264.mp4");
    let used = encode(&x, Encoder::X264, 3).unwrap();
    assert_eq!((used.codec, used.passed_over.len()), ("libx264", 0));
    for e in HARDWARE_ENCODERS {
        let absent = match e {
            Encoder::Nvenc => !Path::new("/dev/nvidiactl").exists(),
            _ => render_nodes().is_empty(),
        };
        if !absent {
            continue;
        }
        let out = dir.join(format!("{}.mp4", e.name()));
        match encode(&out, e, 3) {
            Err(VideoError::HardwareEncoder {
                encoder,
                reason,
                path,
            }) => {
                assert_eq!(Some(encoder), e.codec_name());
                assert_eq!(path, out);
                assert!(!reason.is_empty());
                let msg = VideoError::HardwareEncoder {
                    encoder,
                    reason,
                    path,
                }
                .to_string();
                assert!(
                    msg.contains(&format!("hardware encoder {encoder} cannot be used: ")),
                    "{msg}"
                );
            }
            other => panic!("{e}: expected a refusal, got {other:?}"),
        }
        // Nothing was written in its place, by libx264 or anything else.
        assert!(!out.exists());
    }
    std::fs::remove_dir_all(dir).unwrap();
}
