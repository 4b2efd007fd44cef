//! The recorder's errors.

use std::path::PathBuf;

use veil_audit::Timestamp;

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

/// Why recordings cannot be read as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingsError {
    /// No segment with footage overlaps the window.
    #[error("camera {camera}: no recording between {from} and {to}{}", nearest(*.before, *.after, *.deleted))]
    NoRecording {
        /// The camera.
        camera: String,
        /// Start of the window asked.
        from: Timestamp,
        /// End of the window asked.
        to: Timestamp,
        /// End of the last footage before the window.
        before: Option<Timestamp>,
        /// Start of the first footage after it.
        after: Option<Timestamp>,
        /// Segments in the window that retention deleted.
        deleted: usize,
    },
    /// A segment the list names is not there.
    #[error("{}: the segment is missing{}; refused (the footage of the window cannot be read whole)", path.display(), line_of(*.index_line))]
    Missing {
        /// The segment.
        path: PathBuf,
        /// Its index line, when read through an index.
        index_line: Option<usize>,
    },
    /// A segment's bytes are not the ones recorded.
    #[error("{}: the segment was altered: its SHA-256 is {actual}, recorded as {expected}{}; refused", path.display(), line_of(*.index_line))]
    Altered {
        /// The segment.
        path: PathBuf,
        /// The SHA-256 recorded.
        expected: String,
        /// The SHA-256 found.
        actual: String,
        /// Its index line, when read through an index.
        index_line: Option<usize>,
    },
    /// A segment file inside the recorded window that the index does not name.
    #[error("{}: a segment inside the recorded time that the index does not name; refused (its origin cannot be checked)", path.display())]
    Unindexed {
        /// The file.
        path: PathBuf,
    },
    /// A window or list that makes no sense.
    #[error("invalid recordings: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// Reading the index, a segment or its key failed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// Joining the segments failed (naming the segment).
    #[error(transparent)]
    Video(#[from] veil_video::VideoError),
}

pub(crate) fn line_of(line: Option<usize>) -> String {
    line.map(|l| format!(" (index line {l})")).unwrap_or_default()
}

pub(crate) fn nearest(before: Option<Timestamp>, after: Option<Timestamp>, deleted: usize) -> String {
    let mut s = String::new();
    if deleted > 0 {
        s.push_str(&format!(
            " ({deleted} segment(s) of that time were deleted by retention)"
        ));
    }
    match (before, after) {
        (None, None) => s.push_str("; the camera has no recording at all"),
        (b, a) => {
            s.push_str("; nearest recorded:");
            if let Some(b) = b {
                s.push_str(&format!(" footage until {b}"));
            }
            if let (Some(_), Some(_)) = (b, a) {
                s.push(',');
            }
            if let Some(a) = a {
                s.push_str(&format!(" footage from {a}"));
            }
        }
    }
    s
}
