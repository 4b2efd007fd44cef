//! The encoder a [`VideoWriter`](crate::VideoWriter) opens: its options
//! ([`EncodeOptions`]), and opening libx264 or a hardware encoder with them.

use std::path::Path;

use ff::ffi;
use ffmpeg_next as ff;

use crate::hwenc::{
    known_failure, missing_device, remember_failure, vaapi_frames, BufRef, Encoder, EncoderUsed,
    HARDWARE_ENCODERS,
};
use crate::probe::VideoInfo;
use crate::VideoError;

/// The x264 presets, fastest first.
pub const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Encoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// x264 constant rate factor, 0 (lossless) to 51. Default 18: visually near-lossless,
    /// so that footage kept as evidence loses no detail a viewer could see (faces, plates).
    pub crf: u8,
    /// x264 preset (one of [`PRESETS`]). Default `"veryfast"`: at a given CRF the preset
    /// mostly trades file size and a little fidelity for speed. Measured on the 720p
    /// inzage clip at CRF 18 against its source: "fast" SSIM 0.9971 / PSNR 50.9 dB at 21 ms
    /// of CPU per frame, "veryfast" SSIM 0.9953 / PSNR 48.6 dB at 12 ms and a 16% smaller
    /// file; both well above the ~40 dB where a difference becomes hard to see. x264 was the largest CPU cost of an
    /// export after the two networks (its trellis quantisation alone 16% of all CPU time at
    /// "fast", which "veryfast" does not run). Choose "fast" or slower for archival copies.
    pub preset: String,
    /// Copy the input's audio packets (without re-encoding) into the output. Default off:
    /// audio can carry bystanders' voices, so it is only kept when asked.
    pub keep_audio: bool,
    /// Encoder threads; 0 (default) lets x264 choose from the core count, as the FFmpeg
    /// command-line tool does.
    pub threads: usize,
    /// Write a fragmented MP4 (for recording): `Some(d)` cuts a fragment at every keyframe
    /// and at least every `d`, and writes the file in place at its destination instead of
    /// through a temporary file, so that a crash or power cut loses at most the last
    /// fragment. The destination must not exist (it is created exclusively, never
    /// overwritten). What was written stays on disk when the writer is dropped without
    /// [`VideoWriter::finish`](crate::VideoWriter::finish) (the fragments written are
    /// playable); a file without any frame is removed. Default `None`: a regular MP4 with
    /// the index in front, written atomically.
    pub fragment: Option<std::time::Duration>,
    /// Longest distance between keyframes, in frames; `None` (default): x264's own (250).
    /// A recorder sets it to a second or two, so that fragments stay short and any
    /// point of a recording can be reached quickly.
    pub keyframe_interval: Option<u32>,
    /// The H.264 encoder. Default [`Encoder::X264`]; the recorder uses [`Encoder::Auto`]
    /// (a hardware encoder when one opens, else libx264). A hardware encoder ignores
    /// `preset` and takes `crf` as its constant-quality target (VAAPI: `qp`, NVENC: `cq`,
    /// QSV: `global_quality`), so its files differ in size from x264's at the same value.
    pub encoder: Encoder,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            crf: 18,
            preset: "veryfast".into(),
            keep_audio: false,
            threads: 0,
            fragment: None,
            keyframe_interval: None,
            encoder: Encoder::X264,
        }
    }
}

pub(super) fn enc_err(path: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Encode {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

/// An opened encoder and what its frames need.
pub(super) struct Opened {
    pub(super) enc: ff::encoder::Video,
    pub(super) codec: ff::Codec,
    pub(super) sw_format: ff::format::Pixel,
    pub(super) hw_frames: Option<BufRef>,
}

/// Open the encoder `opts.encoder` names; with [`Encoder::Auto`] the first hardware
/// encoder that opens, else libx264.
pub(super) fn open_chosen(
    dest: &Path,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<(Opened, EncoderUsed), VideoError> {
    let used = |encoder: Encoder, passed_over| EncoderUsed {
        encoder,
        codec: encoder.codec_name().unwrap_or("libx264"),
        passed_over,
    };
    match opts.encoder {
        Encoder::X264 => Ok((
            open_x264(dest, info, opts, global_header)?,
            used(Encoder::X264, Vec::new()),
        )),
        Encoder::Auto => {
            let mut passed_over = Vec::new();
            for e in HARDWARE_ENCODERS {
                if let Some(why) = known_failure(e, info.width, info.height) {
                    passed_over.push((e, why));
                    continue;
                }
                match open_hardware(e, info, opts, global_header) {
                    Ok(o) => return Ok((o, used(e, passed_over))),
                    Err(why) => {
                        remember_failure(e, info.width, info.height, &why);
                        passed_over.push((e, why));
                    }
                }
            }
            Ok((
                open_x264(dest, info, opts, global_header)?,
                used(Encoder::X264, passed_over),
            ))
        }
        e => match open_hardware(e, info, opts, global_header) {
            Ok(o) => Ok((o, used(e, Vec::new()))),
            // Asked for by name: refused, never silently another encoder.
            Err(reason) => Err(VideoError::HardwareEncoder {
                path: dest.to_path_buf(),
                encoder: e.codec_name().unwrap_or("?"),
                reason,
            }),
        },
    }
}

/// A codec context for `codec` with the settings every encoder shares.
fn base_context(
    codec: ff::Codec,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<ff::encoder::video::Video, ff::Error> {
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()?;
    enc.set_width(info.width);
    enc.set_height(info.height);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base(ff::Rational::new(info.time_base.0, info.time_base.1));
    enc.set_frame_rate(Some(ff::Rational::new(info.fps.0, info.fps.1)));
    if let Some(k) = opts.keyframe_interval {
        enc.set_gop(k.max(1));
    }
    enc.set_color_range(if info.full_range {
        ff::color::Range::JPEG
    } else {
        ff::color::Range::MPEG
    });
    if global_header {
        // Added to the codec's own default flags, not in their place: libx264's defaults
        // carry +cgop (closed GOPs), and replacing them made every keyframe after a file's
        // first an open-GOP I picture that decoding cannot start from (seeks into recorder
        // segments failed; see crates/veil-video/tests/seek_fragmented.rs).
        // SAFETY: reading and setting the flags of a valid, not yet opened codec context.
        unsafe { (*enc.as_mut_ptr()).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32 };
    }
    // SAFETY: setting the thread count on a valid, not yet opened codec context.
    unsafe { (*enc.as_mut_ptr()).thread_count = i32::try_from(opts.threads).unwrap_or(0) };
    Ok(enc)
}

fn open_x264(
    dest: &Path,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<Opened, VideoError> {
    let codec = ff::encoder::find_by_name("libx264").ok_or_else(|| VideoError::Encode {
        path: dest.to_path_buf(),
        reason: "the FFmpeg libraries were built without libx264".into(),
    })?;
    let enc = base_context(codec, info, opts, global_header)
        .map_err(|e| enc_err(dest, "cannot set up libx264", e))?;
    let mut dict = ff::Dictionary::new();
    dict.set("preset", &opts.preset);
    dict.set("crf", &opts.crf.to_string());
    let enc = enc
        .open_as_with(codec, dict)
        .map_err(|e| enc_err(dest, "cannot open libx264", e))?;
    Ok(Opened {
        enc,
        codec,
        sw_format: ff::format::Pixel::YUV420P,
        hw_frames: None,
    })
}

/// Open hardware encoder `e` at the frame size, or say why it cannot be used here.
fn open_hardware(
    e: Encoder,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<Opened, String> {
    let name = e.codec_name().unwrap_or("?");
    let codec = ff::encoder::find_by_name(name)
        .ok_or_else(|| format!("not in this FFmpeg build (libavcodec has no {name})"))?;
    let hw_frames = match e {
        Encoder::Vaapi => Some(vaapi_frames(info.width, info.height)?),
        _ => None,
    };
    let mut enc =
        base_context(codec, info, opts, global_header).map_err(|err| format!("cannot set up: {err}"))?;
    let crf = opts.crf.to_string();
    let mut dict = ff::Dictionary::new();
    let sw_format = match e {
        Encoder::Vaapi => {
            if let Some(f) = &hw_frames {
                // SAFETY: a valid, not yet opened codec context; it takes its own reference
                // to the frames context (released when the context is freed).
                let r = unsafe {
                    (*enc.as_mut_ptr()).pix_fmt = ffi::AVPixelFormat::AV_PIX_FMT_VAAPI;
                    let r = ffi::av_buffer_ref(f.as_ptr());
                    (*enc.as_mut_ptr()).hw_frames_ctx = r;
                    r
                };
                if r.is_null() {
                    return Err("cannot reference the VAAPI frames context".into());
                }
            }
            dict.set("rc_mode", "CQP");
            dict.set("qp", &crf);
            ff::format::Pixel::NV12
        }
        Encoder::Nvenc => {
            dict.set("rc", "vbr");
            dict.set("cq", &crf);
            dict.set("b", "0");
            ff::format::Pixel::YUV420P
        }
        _ => {
            enc.set_format(ff::format::Pixel::NV12);
            dict.set("global_quality", &crf);
            ff::format::Pixel::NV12
        }
    };
    let enc = enc.open_as_with(codec, dict).map_err(|err| {
        let mut why = format!("does not open at {}x{}: {err}", info.width, info.height);
        if let Some(hint) = missing_device(e) {
            why.push_str(&format!(" ({hint})"));
        }
        why
    })?;
    Ok(Opened {
        enc,
        codec,
        sw_format,
        hw_frames,
    })
}
