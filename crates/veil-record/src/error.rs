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
    /// The disk holding the recordings is full (or nearly so): recording stopped cleanly.
    /// Veil never deletes footage early to make room, since that would defeat holds.
    #[error("{}: the disk is full ({free} bytes free, {needed} needed for the next segment); recording stopped, no footage was deleted to make room", path.display())]
    DiskFull {
        /// The camera's directory.
        path: PathBuf,
        /// Bytes free.
        free: u64,
        /// Bytes wanted.
        needed: u64,
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
}
