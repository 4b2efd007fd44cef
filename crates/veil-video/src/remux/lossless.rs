//! The fallback when a window cannot be copied: a lossless re-encode (H.264, QP 0) of the
//! decoded frames, for 8-bit 4:2:0 video only.

use std::path::Path;

use ff::ffi;
use ffmpeg_next as ff;

use super::types::{CopyMethod, CopyOptions, CopyReport};
use crate::{display_path, EncodeOptions, ReadOptions, VideoError, VideoReader, VideoWriter};

pub(super) fn reencode_lossless(
    input: &Path,
    dest: &Path,
    opts: &CopyOptions,
    why: String,
) -> Result<CopyReport, VideoError> {
    let path = display_path(input);
    let (codec, pix) = probe_video(input, &path)?;
    let lossless_ok = [
        ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        ffi::AVPixelFormat::AV_PIX_FMT_YUVJ420P,
        ffi::AVPixelFormat::AV_PIX_FMT_NV12,
    ]
    .into_iter()
    .any(|f| f as i32 == pix);
    if !lossless_ok {
        return Err(VideoError::CopyUnsupported {
            path,
            reason: format!(
                "{why}; and a lossless re-encode is impossible for this pixel format (FFmpeg \
                 #{pix}): only 8-bit 4:2:0 video is re-encoded losslessly"
            ),
        });
    }
    let read = ReadOptions {
        from: opts.from,
        // The reader's end is exclusive; a frame shown exactly at `to` belongs to the window.
        to: opts.to.map(|t| t + 1e-3),
        audio: opts.keep_audio,
        ..ReadOptions::default()
    };
    let mut reader = VideoReader::open(input, &read)?;
    let info = reader.info().clone();
    let enc = EncodeOptions {
        // CRF 0 makes libx264 encode losslessly (QP 0) for 8-bit video.
        crf: 0,
        keep_audio: opts.keep_audio,
        ..EncodeOptions::default()
    };
    let mut writer = VideoWriter::create(dest, &info, &enc)?;
    let frame_s = f64::from(info.fps.1) / f64::from(info.fps.0);
    let (mut first, mut last) = (None, 0.0f64);
    while let Some(frame) = reader.next_frame()? {
        first.get_or_insert(frame.time());
        last = last.max(frame.time());
        writer.write_decoded(&frame)?;
        for p in reader.take_audio() {
            writer.write_audio(p)?;
        }
    }
    let frames = writer.finish()?;
    Ok(CopyReport {
        output: dest.to_path_buf(),
        method: CopyMethod::LosslessReencode { reason: why },
        codec,
        output_codec: "h264".into(),
        frames,
        first: first.unwrap_or(0.0),
        end: last + frame_s,
        audio: opts.keep_audio && info.has_audio,
    })
}

/// The video codec name and pixel format (FFmpeg's `AVPixelFormat` value, compared as an
/// integer: an unknown value must not become a Rust enum) of `input`'s best video stream.
fn probe_video(input: &Path, path: &Path) -> Result<(String, i32), VideoError> {
    let ictx = ff::format::input(&input).map_err(|e| VideoError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream {
            path: path.to_path_buf(),
        })?;
    let params = stream.parameters();
    // SAFETY: reading a plain field of the stream's valid codec parameters.
    let raw = unsafe { (*params.as_ptr()).format };
    Ok((params.id().name().to_owned(), raw))
}
