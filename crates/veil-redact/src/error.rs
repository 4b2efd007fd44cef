//! The crate's one error type.

use std::path::PathBuf;

/// Why an analysis or export failed. On any error no output file (video, tracks, contact
/// sheet, manifest) is left at its destination.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// Decoding or encoding failed (the message names the file).
    #[error(transparent)]
    Video(#[from] veil_video::VideoError),
    /// A detector could not be loaded or failed on a frame.
    #[error(transparent)]
    Detect(#[from] veil_detect::DetectError),
    /// The tracker or a tracks file failed.
    #[error(transparent)]
    Track(#[from] veil_track::TrackError),
    /// A zone file could not be loaded.
    #[error(transparent)]
    Zones(#[from] veil_core::ConfigError),
    /// A mask could not be built or applied to a frame.
    #[error("{}: cannot redact frame {frame}: {source}", path.display())]
    Mask {
        /// The input video.
        path: PathBuf,
        /// Frame number (see [`crate::frame_number`]).
        frame: u64,
        /// What veil-core said.
        #[source]
        source: veil_core::RedactError,
    },
    /// The time window holds no frame of the input (it lies after the end of the video, or
    /// between two frames).
    #[error("{}: no frame in the time window {}", path.display(), crate::fmt_window(*from, *to))]
    EmptyWindow {
        /// The input video.
        path: PathBuf,
        /// Start of the window in seconds.
        from: Option<f64>,
        /// End of the window in seconds.
        to: Option<f64>,
    },
    /// `Requester::At` points at a place where no tracked person or face is.
    #[error("nobody is tracked at pixel ({x}, {y}) at {time} s (frame {frame}): pick a point inside a person's box (see the contact sheet), or give track ids")]
    NobodyAt {
        /// Time asked for, in seconds from the start of the input.
        time: f64,
        /// Frame the time maps to.
        frame: u64,
        /// Pixel column.
        x: f32,
        /// Pixel row.
        y: f32,
    },
    /// `Requester::At` points at a place inside the boxes of several tracked people with no
    /// clear winner (see [`veil_track::Tracks::at_point`]): Veil does not guess who was meant.
    #[error("the point ({x}, {y}) at {time} s (frame {frame}) is inside the boxes of {}: no clear winner (pick a point on one person only, or on their face, or give track ids with --keep-track)", candidates_list(.candidates))]
    AmbiguousPoint {
        /// Time asked for, in seconds from the start of the input.
        time: f64,
        /// Frame the time maps to.
        frame: u64,
        /// Pixel column.
        x: f32,
        /// Pixel row.
        y: f32,
        /// Every track with a box containing the point, sorted by id.
        candidates: Vec<veil_track::PointCandidate>,
    },
    /// A tracklet the operator added to the requester (`--add-tracklet`, or `N.K` in
    /// `--keep-track`) cannot be the requester, or cannot be told apart from someone else.
    #[error("tracklet {tracklet}{} cannot be added to the requester: {reason}", .tracks.as_ref().map(|p| format!(" of tracks file {}", p.display())).unwrap_or_default())]
    TrackletRefused {
        /// The tracklet added.
        tracklet: veil_track::TrackletId,
        /// The tracks file it was named from, when one was given.
        tracks: Option<PathBuf>,
        /// Why, naming the tracklets and frames involved.
        reason: String,
    },
    /// A requester track id is not in the tracks.
    #[error("track {id} is not in the tracks{}", .path.as_ref().map(|p| format!(" file {}", p.display())).unwrap_or_default())]
    UnknownTrack {
        /// The id asked for.
        id: u64,
        /// The tracks file, when one was given.
        path: Option<PathBuf>,
    },
    /// A tracks file does not belong to this video (other size or frame rate, or it records
    /// the SHA-256 of another input file).
    #[error("tracks file {} does not match {}: {reason}", tracks.display(), input.display())]
    TracksMismatch {
        /// The tracks file.
        tracks: PathBuf,
        /// The input video.
        input: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The tracks do not cover the export window: the tracks file records no analysed frame
    /// range (it was made before Veil recorded one, or edited), or a frame of the window lies
    /// outside that range. Nobody looked at such a frame, so it has no tracks, and exporting it
    /// would leave everyone on it unredacted. Nothing is written.
    #[error("{} does not cover the export of {}: {reason}", .tracks.as_ref().map(|p| format!("tracks file {}", p.display())).unwrap_or_else(|| "the analysis".to_owned()), input.display())]
    TracksCoverage {
        /// The tracks file (`None`: the export's own analysis).
        tracks: Option<PathBuf>,
        /// The input video.
        input: PathBuf,
        /// What is not covered.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid option: {reason}")]
    InvalidOption {
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {reason}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        reason: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An output's destination exists already: evidence is never replaced unless the caller
    /// asks for it ([`crate::ExportOptions::overwrite`]). The existing file is untouched.
    #[error("{}: already exists; not replaced (evidence is never overwritten: choose another name, or set the overwrite option)", path.display())]
    OutputExists {
        /// The destination.
        path: PathBuf,
    },
    /// The audit log refused the entry or could not be written (for a disclosure: nothing
    /// was released).
    #[error(transparent)]
    Audit(#[from] veil_audit::AuditError),
    /// Encrypted footage could not be read: no key, a wrong key, a crypto-erased segment, a
    /// key file others can read.
    #[error(transparent)]
    Footage(#[from] veil_record::RecordError),
    /// A copy could not be encrypted to its recipients, or a recipient key file is invalid.
    #[error(transparent)]
    Crypt(#[from] veil_crypt::CryptError),
    /// A disclosure's legal basis does not allow it (an `inzage` copy goes through
    /// `export`). Nothing is written, nothing logged.
    #[error("disclosure refused: basis {basis}: {reason}")]
    BasisRefused {
        /// The basis given.
        basis: String,
        /// Why it does not allow a disclosure.
        reason: String,
    },
    /// A key file is not a valid Ed25519 key.
    #[error("{}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An export was made but could not be logged in its audit log: the protocols require
    /// every export to be logged, so its files were removed.
    #[error("{}: export withdrawn because it could not be logged: {source}", output.display())]
    ExportWithdrawn {
        /// The export that was withdrawn.
        output: PathBuf,
        /// Why it could not be logged.
        #[source]
        source: Box<RedactError>,
    },
    /// A disclosure was logged, but writing its manifest, signature or copy failed
    /// afterwards: everything was withdrawn, and the audit entry `seq` records a disclosure
    /// that was not released.
    #[error("{}: disclosure withdrawn after audit entry {seq} was written: {source}", output.display())]
    Withdrawn {
        /// The copy that was not released.
        output: PathBuf,
        /// The audit entry's sequence number.
        seq: u64,
        /// What failed.
        #[source]
        source: Box<RedactError>,
    },
    /// A pipeline stage stopped without reporting why (a thread panicked). The export is
    /// aborted, as for any other error.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `track 3 (person box ...), track 5 (...)`.
fn candidates_list(c: &[veil_track::PointCandidate]) -> String {
    c.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl RedactError {
    pub(crate) fn io(path: impl Into<PathBuf>, reason: impl Into<String>, source: std::io::Error) -> Self {
        RedactError::Io {
            path: path.into(),
            reason: reason.into(),
            source,
        }
    }
}
