//! The recorder's errors.

use std::path::PathBuf;

/// Everything that can go wrong while recording or applying retention.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// An option is invalid (a zero segment length, a camera id that is no file name...).
    #[error("{reason}")]
    InvalidOption {
        /// What is wrong.
        reason: String,
    },
    /// A duration (`90`, `90s`, `15m`, `6h`, `28d`) could not be parsed.
    #[error("invalid duration {input:?}: {reason}")]
    InvalidDuration {
        /// The text given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A line of an index file is not a valid index entry.
    #[error("{}: line {line}: {reason}", path.display())]
    BadIndex {
        /// The index file.
        path: PathBuf,
        /// Line number, from 1.
        line: usize,
        /// Why it is refused.
        reason: String,
    },
    /// A file given as the input cannot be read (a camera URL is retried instead).
    #[error("{reason}")]
    Input {
        /// What went wrong, naming the input.
        reason: String,
    },
    /// A SIZE (`800G`, `6M`, `4096`) could not be parsed.
    #[error("invalid size {input:?}: {reason}")]
    InvalidSize {
        /// The text given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// The next segment would break the storage budget or the free-space floor, and every
    /// segment left is protected (open holds, pending access requests), so nothing can be
    /// deleted early to make room: recording stops until a hold or request is released or
    /// space comes back.
    #[error("{}: no room for the next segment ({limit}) and protected footage alone fills it: {protecting}; recording stopped until a hold or request is released or space comes back", path.display())]
    StorageFull {
        /// The camera's directory.
        path: PathBuf,
        /// The budget and free space, in words.
        limit: String,
        /// The holds and requests that keep the footage left (or why none could be read).
        protecting: String,
    },
    /// Masking a frame failed: nothing unmasked is ever written, so recording stops.
    #[error("{}: masking failed: {source}", path.display())]
    Mask {
        /// The input.
        path: PathBuf,
        /// The cause.
        source: veil_core::RedactError,
    },
    /// The zones cannot be rasterised for the stream's frames.
    #[error("{}: cannot set up the zones for {width}x{height} frames: {source}", path.display())]
    Zones {
        /// The input.
        path: PathBuf,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// The cause.
        source: veil_core::RedactError,
    },
    /// Encoding or writing a segment failed (the storage, not the camera).
    #[error(transparent)]
    Video(#[from] veil_video::VideoError),
    /// The audit log or the holds file failed.
    #[error(transparent)]
    Audit(#[from] veil_audit::AuditError),
    /// A key, or encrypting or decrypting footage, failed.
    #[error(transparent)]
    Crypt(#[from] veil_crypt::CryptError),
    /// A camera's zone file (a site's configuration) is invalid.
    #[error(transparent)]
    Config(#[from] veil_core::ConfigError),
}
