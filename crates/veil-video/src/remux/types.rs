//! The options and the report of a stream copy.

use std::path::PathBuf;

/// What [`copy_window`](super::copy_window) copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyOptions {
    /// Start of the window in seconds (`None`: the start of the input).
    pub from: Option<f64>,
    /// End of the window in seconds, inclusive (`None`: the end of the input).
    pub to: Option<f64>,
    /// Copy the audio of the window too. Off by default: audio can carry bystanders' voices.
    pub keep_audio: bool,
}

/// How the window was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyMethod {
    /// The recorded packets, copied as they are.
    StreamCopy,
    /// Decoded and re-encoded losslessly (H.264, QP 0), because a copy was impossible.
    LosslessReencode {
        /// Why the copy was impossible.
        reason: String,
    },
}

/// What [`copy_window`](super::copy_window) delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyReport {
    /// The output file.
    pub output: PathBuf,
    /// Stream copy or lossless re-encode.
    pub method: CopyMethod,
    /// The input's video codec (FFmpeg's name, e.g. `h264`).
    pub codec: String,
    /// The output's video codec (the input's for a copy; `h264` for a re-encode).
    pub output_codec: String,
    /// Video frames in the output.
    pub frames: u64,
    /// Presentation time of the first frame delivered, in seconds from the start of the input.
    pub first: f64,
    /// End of the last frame delivered (its presentation time plus its duration), in seconds.
    pub end: f64,
    /// Whether the output carries audio.
    pub audio: bool,
}
