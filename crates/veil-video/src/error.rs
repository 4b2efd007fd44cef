//! The error type of veil-video.

use std::path::PathBuf;

use veil_core::FrameError;

/// Why reading, decoding, encoding or writing a video failed.
///
/// Every variant names the file (or URL, with any password removed) and the reason, so
/// that a command-line tool can print one line and an NVR can log it as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// The input could not be opened or probed (missing file, not a video, unreachable URL).
    #[error("{}: cannot open: {reason}", path.display())]
    Open {
        /// The input.
        path: PathBuf,
        /// What FFmpeg or the OS said.
        reason: String,
    },
    /// The input holds no video stream.
    #[error("{}: no video stream", path.display())]
    NoVideoStream {
        /// The input.
        path: PathBuf,
    },
    /// The video's codec cannot be decoded by this FFmpeg build.
    #[error("{}: cannot decode: {reason}", path.display())]
    UnsupportedCodec {
        /// The input.
        path: PathBuf,
        /// What FFmpeg said, with the codec name.
        reason: String,
    },
    /// The frame size cannot be processed (odd size for 4:2:0 video, zero or too large).
    #[error("{}: unsupported frame size {width}x{height}: {reason}", path.display())]
    UnsupportedSize {
        /// The input or output.
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Why it is refused.
        reason: String,
    },
    /// The stream's frame rate is outside what a camera records (above
    /// [`MAX_FPS`](crate::MAX_FPS)): a hostile or broken header, refused before decoding.
    #[error("{}: unsupported frame rate {fps} fps: {reason}", path.display())]
    UnsupportedRate {
        /// The input.
        path: PathBuf,
        /// The frame rate the stream claims.
        fps: f64,
        /// Why it is refused.
        reason: String,
    },
    /// The frame size or pixel format changed in the middle of the stream. Zones are
    /// rasterised for one geometry, so this fails closed rather than guessing.
    #[error("{}: frame geometry changed mid-stream at {time:.3} s: {reason}", path.display())]
    GeometryChanged {
        /// The input.
        path: PathBuf,
        /// Presentation time of the frame, in seconds from the start of the input.
        time: f64,
        /// Old and new geometry.
        reason: String,
    },
    /// Demuxing failed in the middle of the stream (I/O error, damaged container).
    #[error("{}: read error: {reason}", path.display())]
    Read {
        /// The input.
        path: PathBuf,
        /// What FFmpeg or the OS said.
        reason: String,
    },
    /// The input ends before its own index says it should (a cut-off recording or copy).
    #[error("{}: truncated: {reason}", path.display())]
    Truncated {
        /// The input.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A frame inside the requested window could not be decoded cleanly. Damaged frames
    /// are never passed on silently: the decoder would conceal the damage with pixels
    /// that were not recorded.
    #[error("{}: decode error{}: {reason}", path.display(), fmt_time(*time))]
    Decode {
        /// The input.
        path: PathBuf,
        /// Presentation time of the damaged packet or frame, when known.
        time: Option<f64>,
        /// What FFmpeg said.
        reason: String,
    },
    /// The output could not be set up or the encoder or muxer failed.
    #[error("{}: encode error: {reason}", path.display())]
    Encode {
        /// The output.
        path: PathBuf,
        /// What FFmpeg said.
        reason: String,
    },
    /// The window cannot be copied packet for packet: the output container cannot hold the
    /// codec, or the stream has no timestamps to cut by (see [`crate::remux`]).
    #[error("{}: cannot copy the stream: {reason}", path.display())]
    CopyUnsupported {
        /// The input.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A hardware encoder asked for by name ([`crate::Encoder`]) cannot be used here: not
    /// in this FFmpeg build, no device, or it does not open at the frame size. Never
    /// replaced by another encoder silently ([`crate::Encoder::Auto`] falls back instead).
    #[error("{}: hardware encoder {encoder} cannot be used: {reason}", path.display())]
    HardwareEncoder {
        /// The output.
        path: PathBuf,
        /// FFmpeg's name of the encoder (`h264_vaapi`, `h264_nvenc`, `h264_qsv`).
        encoder: &'static str,
        /// Why.
        reason: String,
    },
    /// A hardware decoder asked for by name ([`crate::Decoder`]) cannot be used here (no
    /// device, not in this FFmpeg build, no support for the codec), or failed in the middle
    /// of the stream. Never replaced by software decoding silently ([`crate::Decoder::Auto`]
    /// falls back at open instead).
    #[error("{}: hardware decoder {decoder} cannot be used: {reason}", path.display())]
    HardwareDecoder {
        /// The input.
        path: PathBuf,
        /// The decoder's name (`vaapi`, `cuda`, `qsv`).
        decoder: &'static str,
        /// Why.
        reason: String,
    },
    /// A file-system operation on the output failed.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The output (or its temporary file).
        path: PathBuf,
        /// The OS error text.
        reason: String,
    },
    /// An option is out of range (time window, CRF, preset).
    #[error("invalid option: {reason}")]
    InvalidOption {
        /// What is wrong.
        reason: String,
    },
    /// A frame view could not be built over the decoded planes, or a frame handed to the
    /// writer does not match the output's geometry.
    #[error("{}: {source}", path.display())]
    Frame {
        /// The input or output.
        path: PathBuf,
        /// The geometry problem.
        source: FrameError,
    },
}

fn fmt_time(t: Option<f64>) -> String {
    match t {
        Some(t) => format!(" at {t:.3} s"),
        None => String::new(),
    }
}
