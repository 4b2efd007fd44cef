//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in veil-track.
///
/// Errors about a tracks file name the file (`path`; `<string>` when the JSON came from memory)
/// and the reason, because a tracks file is user input that an operator may have edited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// A [`TrackerConfig`](crate::TrackerConfig) value is out of range.
    #[error("invalid tracker configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// [`Tracker::update`](crate::Tracker::update) was called with a frame index that does not
    /// increase.
    #[error("frame {got} passed to the tracker after frame {previous}: frame indices must increase")]
    FrameOrder {
        /// The frame of the previous update.
        previous: u64,
        /// The frame of this update.
        got: u64,
    },
    /// A detection holds a non-finite coordinate or score. The tracker fails closed rather than
    /// silently dropping a box it cannot place.
    #[error("detection {index} on frame {frame} is unusable: {reason}")]
    InvalidDetection {
        /// Frame index of the update.
        frame: u64,
        /// Index of the detection in the slice passed to `update`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A [`Track`](crate::Track) or [`Tracks`](crate::Tracks) built in code breaks an invariant.
    #[error("invalid track data: {reason}")]
    InvalidTrack {
        /// What is wrong.
        reason: String,
    },
    /// A tracks file could not be read.
    #[error("cannot read tracks file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A tracks file could not be written (the destination is left untouched).
    #[error("cannot write tracks file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A tracks file is not JSON of the tracks schema (syntax, missing or unknown field, wrong
    /// type, negative size, ...).
    #[error("tracks file {} is not a valid tracks document: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        reason: String,
    },
    /// A tracks file parses but its content is inconsistent (wrong version, non-finite box,
    /// unsorted frames, duplicate id, ...).
    #[error("tracks file {} is invalid: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the track and box.
        reason: String,
    },
}
