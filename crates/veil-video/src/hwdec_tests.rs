//! The decoder choice, with real decodes of the fixture clip. On a machine without a GPU
//! (the CI and development machines) `auto` decodes in software and says why, and a
//! hardware decoder asked for by name is refused; where a device exists the checks that
//! need its absence are skipped. Whichever decoder `auto` picks, its frames equal the
//! software decoder's byte for byte.
#![allow(clippy::unwrap_used)]

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::pixels::Normaliser;
use crate::{ReadOptions, VideoError, VideoReader};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/vtest.mp4")
}

/// No device any hardware decoder could use.
fn no_gpu() -> bool {
    render_nodes().is_empty() && !Path::new("/dev/nvidiactl").exists()
}

/// Per frame of the fixture: its index, time, format, plane geometry (width, height,
/// bytes per pixel, stride) and a hash of its visible bytes; and the decoder used.
type Digest = (u64, String, String, Vec<(u32, u32, usize, usize)>, u64);

fn decode_all(decoder: Decoder) -> Result<(Vec<Digest>, DecoderUsed), VideoError> {
    let opts = ReadOptions {
        decoder,
        ..ReadOptions::default()
    };
    let mut r = VideoReader::open(fixture(), &opts)?;
    let used = r.decoder_used().clone();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame()? {
        let v = f.frame_ref()?;
        let mut h = DefaultHasher::new();
        let mut geometry = Vec::new();
        for p in v.planes() {
            geometry.push((p.width(), p.height(), p.bytes_per_pixel(), p.stride()));
            for row in p.rows() {
                row.hash(&mut h);
            }
        }
        out.push((
            f.index(),
            format!("{:.6}", f.time()),
            format!("{:?}", v.format()),
            geometry,
            h.finish(),
        ));
    }
    Ok((out, used))
}

#[test]
fn names_parse_and_print() {
    for n in Decoder::NAMES {
        assert_eq!(n.parse::<Decoder>().unwrap().name(), n);
    }
    assert!(matches!(
        "nvenc".parse::<Decoder>(),
        Err(VideoError::InvalidOption { .. })
    ));
    let e = "x264".parse::<Decoder>().unwrap_err().to_string();
    assert!(e.contains("auto, software, vaapi, cuda, qsv"), "{e}");
    // Files decode in software unless asked: exports and analysis stay the same.
    assert_eq!(ReadOptions::default().decoder, Decoder::Software);
    assert!(!Decoder::Auto.is_hardware() && !Decoder::Software.is_hardware());
    assert!(HARDWARE_DECODERS.iter().all(|d| d.is_hardware()));
}

#[test]
fn auto_decodes_the_same_frames_as_software_and_says_why() {
    let (soft, used) = decode_all(Decoder::Software).unwrap();
    assert_eq!(soft.len(), 150);
    assert_eq!(used.decoder, Decoder::Software);
    assert_eq!(used.describe(), "h264 (software)");
    let (auto, used) = decode_all(Decoder::Auto).unwrap();
    // Byte for byte, with the same format, plane sizes and strides, whichever decoder.
    assert_eq!(auto, soft, "auto ({}) differs from software", used.describe());
    if no_gpu() {
        assert_eq!(used.decoder, Decoder::Software);
        assert_eq!(used.codec, "h264");
        assert!(!used.hardware());
        let tried: Vec<Decoder> = used.passed_over.iter().map(|(d, _)| *d).collect();
        assert_eq!(tried, HARDWARE_DECODERS.to_vec());
        let line = used.describe();
        eprintln!("{line}");
        assert!(
            line.starts_with("h264 (software; no hardware decoder: vaapi: no /dev/dri render node"),
            "{line}"
        );
        assert!(line.contains("; cuda: ") && line.contains("; qsv: "), "{line}");
        // A second open does not probe again, and says the same.
        let (_, again) = decode_all(Decoder::Auto).unwrap();
        assert_eq!(again, used);
    } else if used.hardware() {
        assert!(used.describe().ends_with(" (hardware)"));
    }
}

#[test]
fn a_hardware_decoder_asked_for_by_name_is_refused_when_it_cannot_open() {
    for d in HARDWARE_DECODERS {
        let absent = match d {
            Decoder::Cuda => !Path::new("/dev/nvidiactl").exists(),
            _ => render_nodes().is_empty(),
        };
        if !absent {
            continue;
        }
        let opts = ReadOptions {
            decoder: d,
            ..ReadOptions::default()
        };
        // Refused at open: no reader, so no frame is decoded, in software or otherwise.
        match VideoReader::open(fixture(), &opts) {
            Err(VideoError::HardwareDecoder {
                path,
                decoder,
                reason,
            }) => {
                assert_eq!(decoder, d.name());
                assert_eq!(path, fixture());
                assert!(!reason.is_empty());
                let msg = VideoError::HardwareDecoder {
                    path,
                    decoder,
                    reason,
                }
                .to_string();
                assert!(
                    msg.contains(&format!("hardware decoder {d} cannot be used: ")),
                    "{msg}"
                );
                eprintln!("{msg}");
            }
            other => panic!("{d}: expected a refusal, got {other:?}"),
        }
    }
}

/// A hardware decoder's frames come down as NV12 and go through the same normalisation as
/// a software decoder's: an NV12 copy of each decoded frame is handed out identical to the
/// frame itself (the announced format and size, every visible byte).
#[test]
fn downloaded_nv12_frames_are_handed_out_as_the_software_frames() {
    let mut r = VideoReader::open(fixture(), &ReadOptions::default()).unwrap();
    let info = r.info().clone();
    let path: Arc<Path> = Arc::from(fixture().as_path());
    let mut norm = Normaliser::new(path, &info);
    let to_nv12 = crate::convert::Scaler::new(
        ff::format::Pixel::YUV420P,
        ff::format::Pixel::NV12,
        info.width,
        info.height,
    )
    .unwrap();
    for _ in 0..10 {
        let f = r.next_frame().unwrap().unwrap();
        let nv12 = to_nv12.convert(&f.frame).unwrap();
        assert_eq!(nv12.format(), ff::format::Pixel::NV12);
        let back = norm.normalise(nv12, f.time()).unwrap();
        assert_eq!(back.format(), f.frame.format());
        for p in 0..3 {
            let (w, h) = if p == 0 {
                (info.width as usize, info.height as usize)
            } else {
                (info.width as usize / 2, info.height as usize / 2)
            };
            let (bs, fs) = (back.stride(p), f.frame.stride(p));
            assert!(bs >= w);
            for y in 0..h {
                assert_eq!(
                    back.data(p)[bs * y..bs * y + w],
                    f.frame.data(p)[fs * y..fs * y + w],
                    "plane {p} row {y}"
                );
            }
        }
    }
}
