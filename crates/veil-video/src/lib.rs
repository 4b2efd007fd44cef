//! Video decode and encode for Veil over FFmpeg (through `ffmpeg-next`).
//!
//! [`VideoReader`] opens anything FFmpeg reads (files; RTSP/HTTP URLs), seeks to a time
//! window and hands out [`DecodedFrame`]s that lend veil-core [`veil_core::FrameMut`]
//! views over the decoder's own planes, so a mask is applied in place, without copying
//! (YUV420P and NV12 natively; other formats are converted once with swscale). It decodes
//! in software by default, or on a GPU through FFmpeg's hwaccel (see [`Decoder`]), with the
//! frames downloaded and handed out in the same format.
//! [`VideoWriter`] encodes H.264 (libx264, yuv420p; or a hardware encoder, see [`Encoder`])
//! into an MP4 with the index in front, no metadata and no audio unless asked, written
//! atomically.
//!
//! ```no_run
//! use veil_video::{EncodeOptions, ReadOptions, VideoReader, VideoWriter};
//! # fn main() -> Result<(), veil_video::VideoError> {
//! let opts = ReadOptions { from: Some(2.0), to: Some(5.0), ..Default::default() };
//! let mut reader = VideoReader::open("in.mp4", &opts)?;
//! let mut writer = VideoWriter::create("out.mp4", reader.info(), &EncodeOptions::default())?;
//! while let Some(mut frame) = reader.next_frame()? {
//!     let mut view = frame.frame_mut()?;
//!     view.fill_black(); // or: masker.apply(&mut view)
//!     writer.write_decoded(&frame)?;
//! }
//! writer.finish()?;
//! # Ok(()) }
//! ```
//!
//! Decode errors inside the window are errors, never skipped: a concealed frame holds
//! pixels that were never recorded. Files are decoded strictly (the decoder reports damage
//! as an error rather than concealing it); a live stream's frames before its first clean
//! keyframe are skipped. A file cut off in the middle of a packet ends the
//! stream with [`VideoError::Truncated`] rather than a clean end.

mod convert;
mod error;
mod frame;
mod hwdec;
mod hwenc;
mod partial;
mod pixels;
mod probe;
mod reader;
pub mod remux;
mod segments;
mod timeline;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Once;

pub use error::VideoError;

/// The highest frame rate the reader accepts. Cameras record at up to a few hundred frames
/// per second; a header that claims more is broken or hostile, and a timeline that fine
/// would make the frame-gap and completeness checks meaningless.
pub const MAX_FPS: f64 = 1000.0;
pub use frame::{AudioPacket, DecodedFrame};
pub use hwdec::{Decoder, DecoderUsed, HARDWARE_DECODERS};
pub use hwenc::{Encoder, EncoderUsed, HARDWARE_ENCODERS};
pub use probe::{ReadOptions, VideoInfo};
pub use reader::VideoReader;
pub use remux::{copy_or_reencode_lossless, copy_window, CopyMethod, CopyOptions, CopyReport};
pub use segments::{concat_segments, ConcatReport, Keyframes, SegmentInput, SegmentSpan};
pub use writer::{EncodeOptions, VideoWriter, PRESETS};

use ffmpeg_next as ff;

static INIT: Once = Once::new();

/// Initialise FFmpeg once per process. Its own log goes quiet except for fatal messages:
/// every failure reaches the caller as a [`VideoError`], and libraries should not write to
/// a program's stderr (see [`set_ffmpeg_log`]).
pub(crate) fn init() {
    INIT.call_once(|| {
        // ffmpeg-next's init only registers devices; it cannot fail in a way we could act on.
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Fatal);
    });
}

/// Let FFmpeg print its own diagnostics (warnings and errors) to stderr, for debugging a
/// difficult input; `false` silences them again.
pub fn set_ffmpeg_log(verbose: bool) {
    init();
    ff::util::log::set_level(if verbose {
        ff::util::log::Level::Warning
    } else {
        ff::util::log::Level::Fatal
    });
}

/// How an input is named in errors: URLs lose their `user:password@` part, which must not
/// end up in logs.
pub(crate) fn display_path(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    if let Some(scheme_end) = s.find("://") {
        let rest = &s[scheme_end + 3..];
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            return PathBuf::from(format!("{}://{}", &s[..scheme_end], &rest[at + 1..]));
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests;
