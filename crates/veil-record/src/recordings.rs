//! Recordings as one source: a wall-clock window of a camera, read from its segments.
//!
//! A request names a camera and a stretch of time, not a file. [`Recordings`] is the ordered
//! list of segments that cover such a window, each with its wall-clock start and its
//! recorded SHA-256, plus every hole in the window: a recorder gap, a segment deleted by
//! retention (when and why), time not covered at all. [`Recordings::from_index`] builds it
//! from the recorder's `DIR/<camera>/index.jsonl`; an NVR with its own storage builds it with
//! [`Recordings::new`].
//!
//! [`Recordings::open`] checks every segment against its recorded SHA-256 before any of its
//! frames is used (an altered or missing segment is refused, naming it), decrypts encrypted
//! segments in memory ([`PlainInput`]), and joins the recorded packets into one stream with
//! continuous timestamps ([`veil_video::concat_segments`]), held in an anonymous in-memory
//! file. Every reader (analysis, export, disclosure, detection) reads that stream like a
//! file; [`RecordingsRecord`] maps its seconds to the wall clock and to the segments, for
//! manifests and audit entries.
//!
//! Holes are reported, never refused: footage that no longer exists is a fact to state. A
//! window that touches no recording is an error naming the nearest recorded times.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use veil_audit::Timestamp;
use veil_video::{concat_segments, Keyframes, SegmentInput};

use crate::index::{Index, INDEX_FILE};
use crate::plain::{memory_file, memory_path};
use crate::segment::{start_from_name, ENCRYPTED_EXT};
use crate::{PlainInput, RecordError};

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

fn line_of(line: Option<usize>) -> String {
    line.map(|l| format!(" (index line {l})")).unwrap_or_default()
}

fn nearest(before: Option<Timestamp>, after: Option<Timestamp>, deleted: usize) -> String {
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

/// One recorded segment in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Where the file is.
    pub path: PathBuf,
    /// Wall-clock time of its first frame.
    pub start: Timestamp,
    /// Wall-clock end of its last frame.
    pub end: Timestamp,
    /// SHA-256 of the file as recorded (of the encrypted file for an encrypted segment).
    pub sha256: String,
    /// Frames recorded in it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Its line in the camera's index, when the list was built from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_line: Option<usize>,
}

/// What a hole in a window is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoleKind {
    /// The recorder had no footage (the camera dropped, the recorder was not running).
    Gap {
        /// Why, as the recorder wrote it.
        reason: String,
    },
    /// A segment that retention (or a storage budget) deleted.
    Deleted {
        /// Its file name.
        file: String,
        /// When it was deleted.
        deleted_at: Timestamp,
        /// Why.
        reason: String,
    },
    /// Frames the camera sent somewhere in this recorded stretch that were never recorded
    /// (timestamps that jumped), as the recorder marked them; the rest is recorded.
    LostFrames {
        /// How many.
        frames: u64,
        /// Why, as the recorder wrote it.
        reason: String,
    },
    /// Nothing recorded covers this time (before the first or after the last footage, or
    /// a segment not indexed yet).
    NotRecorded,
}

/// A stretch of the window without footage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hole {
    /// Start (inside the window).
    pub from: Timestamp,
    /// End (inside the window).
    pub to: Timestamp,
    /// What it is.
    #[serde(flatten)]
    pub kind: HoleKind,
}

impl std::fmt::Display for Hole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} .. {}: ", self.from, self.to)?;
        match &self.kind {
            HoleKind::Gap { reason } => write!(f, "recorder gap ({reason})"),
            HoleKind::Deleted {
                file,
                deleted_at,
                reason,
            } => write!(f, "segment {file} deleted at {deleted_at} ({reason})"),
            HoleKind::LostFrames { frames, reason } => {
                write!(f, "{frames} frame(s) lost in recorded footage ({reason})")
            }
            HoleKind::NotRecorded => write!(f, "not recorded"),
        }
    }
}

/// A wall-clock window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallWindow {
    /// Start.
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
}

/// The index a list was built from, as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    /// Its path.
    pub path: PathBuf,
    /// Its SHA-256 when read.
    pub sha256: String,
}

/// A camera's footage for a wall-clock window: the segments that cover it, in order, each
/// with its wall-clock start and recorded SHA-256, and every hole in the window (a recorder
/// gap, a segment deleted by retention with when and why, time not covered at all).
///
/// [`Recordings::from_index`] builds it from the recorder's `DIR/<camera>/index.jsonl`; an
/// NVR with its own storage builds it with [`Recordings::new`]. [`Recordings::open`] checks
/// every segment against its SHA-256 before any of its frames is used (altered, missing:
/// refused, naming it), decrypts encrypted segments in memory ([`PlainInput`]) and joins the
/// recorded packets into one stream with continuous timestamps, in memory; every reader
/// (analysis, export, disclosure, detection) reads it like a file, and
/// [`RecordingsRecord`] maps its seconds to the wall clock and to the segments for
/// manifests and audit entries. Holes are reported, never refused; a window that touches no
/// recording is an error naming the nearest recorded times.
///
/// ```no_run
/// use veil_audit::Timestamp;
/// use veil_record::{Recordings, WallWindow};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let window = WallWindow {
///     from: Timestamp::parse("2026-03-01T14:05:00+01:00")?,
///     to: Timestamp::parse("2026-03-01T14:20:00+01:00")?,
/// };
/// let list = Recordings::from_index("/srv/veil".as_ref(), "entrance", window)?;
/// for hole in list.holes() {
///     eprintln!("hole: {hole}");
/// }
/// let opened = list.open(Some("site.key".as_ref()))?;
/// let (from, to) = opened.window(); // seconds of the joined stream at opened.path()
/// # let _ = (from, to);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recordings {
    camera: String,
    window: WallWindow,
    segments: Vec<Segment>,
    holes: Vec<Hole>,
    index: Option<IndexFile>,
}

fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

fn ts(ms: i64) -> Timestamp {
    // Times here lie between two valid timestamps of the same window.
    Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now)
}

impl Recordings {
    /// A list built by its owner (an NVR's own storage): `segments` in time order, without
    /// overlap, each with its recorded SHA-256; `holes` what the owner knows of (gaps,
    /// deletions). Time of the window that neither covers becomes a
    /// [`HoleKind::NotRecorded`] hole. Segments and holes outside the window are dropped.
    ///
    /// # Errors
    /// [`RecordingsError::Invalid`] for an empty window, segments out of order or
    /// overlapping, a SHA-256 that is not 64 hex digits; [`RecordingsError::NoRecording`]
    /// when no segment overlaps the window.
    pub fn new(
        camera: &str,
        window: WallWindow,
        segments: Vec<Segment>,
        holes: Vec<Hole>,
    ) -> Result<Recordings, RecordingsError> {
        let invalid = |reason: String| RecordingsError::Invalid { reason };
        if window.to <= window.from {
            return Err(invalid(format!(
                "the window ends ({}) before it starts ({})",
                window.to, window.from
            )));
        }
        for pair in segments.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(invalid(format!(
                    "{} starts ({}) before {} ends ({}): segments must be in time order without overlap",
                    pair[1].path.display(),
                    pair[1].start,
                    pair[0].path.display(),
                    pair[0].end
                )));
            }
        }
        for s in &segments {
            if s.end <= s.start {
                return Err(invalid(format!("{}: ends before it starts", s.path.display())));
            }
            if s.sha256.len() != 64 || !s.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "{}: the recorded SHA-256 {:?} is not 64 hex digits",
                    s.path.display(),
                    s.sha256
                )));
            }
        }
        let overlaps = |a: Timestamp, b: Timestamp| a < window.to && b > window.from;
        let (before, after) = nearest_footage(&segments, window);
        let segments: Vec<Segment> = segments
            .into_iter()
            .filter(|s| overlaps(s.start, s.end))
            .collect();
        let mut holes: Vec<Hole> = holes
            .into_iter()
            .filter(|h| overlaps(h.from, h.to))
            .map(|h| Hole {
                from: h.from.max(window.from),
                to: h.to.min(window.to),
                kind: h.kind,
            })
            .collect();
        if segments.is_empty() {
            return Err(RecordingsError::NoRecording {
                camera: camera.to_owned(),
                from: window.from,
                to: window.to,
                before,
                after,
                deleted: holes
                    .iter()
                    .filter(|h| matches!(h.kind, HoleKind::Deleted { .. }))
                    .count(),
            });
        }
        // Time that no segment and no known hole covers.
        let mut covered: Vec<(i64, i64)> = segments
            .iter()
            .map(|s| (ms(s.start), ms(s.end)))
            .chain(holes.iter().map(|h| (ms(h.from), ms(h.to))))
            .collect();
        covered.sort_unstable();
        let mut at = ms(window.from);
        let mut uncovered = Vec::new();
        for (a, b) in covered {
            if a > at {
                uncovered.push((at, a.min(ms(window.to))));
            }
            at = at.max(b);
        }
        if at < ms(window.to) {
            uncovered.push((at, ms(window.to)));
        }
        holes.extend(uncovered.into_iter().filter(|(a, b)| b > a).map(|(a, b)| Hole {
            from: ts(a),
            to: ts(b),
            kind: HoleKind::NotRecorded,
        }));
        holes.sort_by_key(|h| (h.from, h.to));
        Ok(Recordings {
            camera: camera.to_owned(),
            window,
            segments,
            holes,
            index: None,
        })
    }

    /// The segments of camera `camera` under the recorder's directory `dir`
    /// (`dir/<camera>/index.jsonl`) that cover `window`, with the window's holes: the
    /// recorder's gaps, the segments retention deleted (with when and why), time not
    /// recorded.
    ///
    /// # Errors
    /// [`RecordingsError::Record`] for an unreadable or malformed index,
    /// [`RecordingsError::Unindexed`] for a segment file inside the recorded time that the
    /// index does not name, [`RecordingsError::NoRecording`] naming the nearest recorded
    /// times, [`RecordingsError::Invalid`] for a camera id that is not a plain name or an
    /// empty window.
    pub fn from_index(dir: &Path, camera: &str, window: WallWindow) -> Result<Recordings, RecordingsError> {
        if !crate::is_plain_name(camera) {
            return Err(RecordingsError::Invalid {
                reason: format!("camera {camera:?} is not a plain directory name"),
            });
        }
        let cam_dir = dir.join(camera);
        let index = Index::new(&cam_dir);
        let index_path = index.path();
        if !index_path.is_file() {
            return Err(RecordingsError::Invalid {
                reason: format!(
                    "{}: no index: camera {camera} has no recordings under {}",
                    index_path.display(),
                    dir.display()
                ),
            });
        }
        // The index is read under its lock, so that it does not change between reading it
        // and hashing it. A reader that may not write in the camera directory (an operator
        // account reading footage) cannot take the lock; it reads without: the recorder
        // appends whole lines and retention replaces the file by a rename.
        let read = |i: &Index| -> Result<_, RecordError> {
            let entries = i.read_numbered()?;
            let (sha, _) = veil_core::hash::sha256_file(&i.path()).map_err(|source| RecordError::Io {
                path: i.path(),
                op: "read",
                source,
            })?;
            Ok((entries, sha))
        };
        let (entries, sha256) = match index.locked(read) {
            Err(RecordError::Io {
                op: "open the index lock",
                source,
                ..
            }) if source.kind() == std::io::ErrorKind::PermissionDenied => read(&index)?,
            other => other?,
        };
        let mut segments = Vec::new();
        let mut holes = Vec::new();
        for (line, e) in &entries {
            for g in &e.gaps {
                let kind = match (g.lost_frames, g.is_mark()) {
                    // Frames lost somewhere in a recorded stretch: stated, with their count.
                    (Some(frames), _) => HoleKind::LostFrames {
                        frames,
                        reason: g.reason.clone(),
                    },
                    // A lag mark (recording ran late there) is no hole: nothing is missing.
                    (None, true) => continue,
                    (None, false) => HoleKind::Gap {
                        reason: g.reason.clone(),
                    },
                };
                if g.to > g.from {
                    holes.push(Hole {
                        from: g.from,
                        to: g.to,
                        kind,
                    });
                }
            }
            match &e.deleted {
                Some(d) => holes.push(Hole {
                    from: e.start,
                    to: e.end,
                    kind: HoleKind::Deleted {
                        file: e.file.clone(),
                        deleted_at: d.time,
                        reason: d.reason.clone(),
                    },
                }),
                None => segments.push(Segment {
                    path: cam_dir.join(&e.file),
                    start: e.start,
                    end: e.end,
                    sha256: e.sha256.clone(),
                    frames: Some(e.frames),
                    index_line: Some(*line),
                }),
            }
        }
        segments.sort_by_key(|s| s.start);
        check_unindexed(&cam_dir, &entries, window)?;
        let mut rec = Recordings::new(camera, window, segments, holes)?;
        rec.index = Some(IndexFile {
            path: index_path,
            sha256,
        });
        Ok(rec)
    }

    /// The camera.
    pub fn camera(&self) -> &str {
        &self.camera
    }

    /// The window asked for.
    pub fn window(&self) -> WallWindow {
        self.window
    }

    /// The segments that overlap the window, in time order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The holes inside the window, in time order.
    pub fn holes(&self) -> &[Hole] {
        &self.holes
    }

    /// Check every segment against its recorded SHA-256 (refusing an altered or missing
    /// one, naming it), decrypt encrypted ones with `key` in memory, and join them into one
    /// stream in memory.
    ///
    /// # Errors
    /// [`RecordingsError::Missing`], [`RecordingsError::Altered`],
    /// [`RecordingsError::Record`] for a key that opens nothing or a crypto-erased segment,
    /// [`RecordingsError::Video`] for a damaged segment or one whose stream differs.
    pub fn open(&self, key: Option<&Path>) -> Result<OpenedRecordings, RecordingsError> {
        self.open_with(key, Keyframes::SegmentStarts)
    }

    /// [`Recordings::open`] for a stream copy (a disclosure): every recorded keyframe stays
    /// marked, so the copy starts at the recorded keyframe at or before the window rather
    /// than at its segment's start. Decoding readers use [`Recordings::open`]: decoding
    /// from a keyframe inside a segment may fail where it is an open-GOP recovery point.
    ///
    /// # Errors
    /// As [`Recordings::open`].
    pub fn open_for_copy(&self, key: Option<&Path>) -> Result<OpenedRecordings, RecordingsError> {
        self.open_with(key, Keyframes::AsRecorded)
    }

    fn open_with(
        &self,
        key: Option<&Path>,
        keyframes: Keyframes,
    ) -> Result<OpenedRecordings, RecordingsError> {
        let mut plains = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            check_hash(s)?;
            plains.push(PlainInput::open(&s.path, key)?);
        }
        let memory = memory_file(
            &self
                .index
                .as_ref()
                .map_or_else(|| PathBuf::from(&self.camera), |i| i.path.clone()),
        )?;
        let path = memory_path(&memory);
        let inputs: Vec<SegmentInput> = plains
            .iter()
            .map(|p| SegmentInput {
                path: p.path().to_path_buf(),
                name: p.original().to_path_buf(),
            })
            .collect();
        let report = concat_segments(&inputs, &path, keyframes)?;
        // A plain segment was read twice, to hash it and to join it: it must not have
        // changed in between (an encrypted one is authenticated by its decryption).
        for (s, p) in self.segments.iter().zip(&plains) {
            if p.encrypted().is_none() {
                check_hash(s)?;
            }
        }
        let segments = self
            .segments
            .iter()
            .zip(&plains)
            .zip(&report.spans)
            .map(|((s, p), span)| SegmentUsed {
                file: s.path.file_name().map_or_else(
                    || s.path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                path: s.path.clone(),
                sha256: s.sha256.to_ascii_lowercase(),
                index_line: s.index_line,
                start: s.start,
                end: s.end,
                frames: span.frames,
                encrypted: p.encrypted().is_some(),
                stream: [span.first, span.end],
                retimed: span.retimed,
                jumps: span.jumps.iter().map(|&(a, b)| [a, b]).collect(),
                output: None,
            })
            .collect();
        // The plaintext of encrypted segments is no longer needed: the joined stream holds it.
        drop(plains);
        let record = RecordingsRecord {
            camera: self.camera.clone(),
            index: self.index.clone(),
            asked: self.window,
            delivered: None,
            segments,
            holes: self.holes.clone(),
        };
        let window = (
            record.seconds_at(self.window.from),
            record.seconds_at(self.window.to),
        );
        Ok(OpenedRecordings {
            record,
            path,
            window,
            _memory: memory,
        })
    }
}

/// Refuse a segment whose file is missing or whose SHA-256 is not the one recorded.
fn check_hash(s: &Segment) -> Result<(), RecordingsError> {
    let (actual, _) = veil_core::hash::sha256_file(&s.path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RecordingsError::Missing {
                path: s.path.clone(),
                index_line: s.index_line,
            }
        } else {
            RecordingsError::Record(RecordError::Io {
                path: s.path.clone(),
                op: "read",
                source,
            })
        }
    })?;
    if !actual.eq_ignore_ascii_case(&s.sha256) {
        return Err(RecordingsError::Altered {
            path: s.path.clone(),
            expected: s.sha256.to_ascii_lowercase(),
            actual,
            index_line: s.index_line,
        });
    }
    Ok(())
}

/// The end of the last footage before the window and the start of the first after it.
fn nearest_footage(segments: &[Segment], window: WallWindow) -> (Option<Timestamp>, Option<Timestamp>) {
    let before = segments
        .iter()
        .filter(|s| s.end <= window.from)
        .map(|s| s.end)
        .max();
    let after = segments
        .iter()
        .filter(|s| s.start >= window.to)
        .map(|s| s.start)
        .min();
    (before, after)
}

/// Refuse a segment file inside the indexed time that the index does not name. A file that
/// starts after the index's last segment is the one being recorded (not indexed until it
/// closes): its time is reported as not recorded.
fn check_unindexed(
    cam_dir: &Path,
    entries: &[(usize, crate::IndexEntry)],
    window: WallWindow,
) -> Result<(), RecordingsError> {
    let named: BTreeSet<&str> = entries.iter().map(|(_, e)| e.file.as_str()).collect();
    let Some(last_end) = entries.iter().map(|(_, e)| e.end).max() else {
        return Ok(());
    };
    let longest = entries
        .iter()
        .map(|(_, e)| ms(e.end) - ms(e.start))
        .max()
        .unwrap_or(0);
    let Ok(dir) = fs::read_dir(cam_dir) else {
        return Ok(());
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == INDEX_FILE || named.contains(name.as_str()) {
            continue;
        }
        let stem = name
            .strip_suffix(ENCRYPTED_EXT)
            .or_else(|| name.strip_suffix(".mp4"));
        let Some(start) = stem.and_then(start_from_name) else {
            continue;
        };
        let inside = start < last_end && start < window.to && ms(start) + longest.max(1000) > ms(window.from);
        if inside {
            return Err(RecordingsError::Unindexed {
                path: cam_dir.join(name),
            });
        }
    }
    Ok(())
}

/// One segment as read, for manifests and audit entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentUsed {
    /// File name.
    pub file: String,
    /// Where it was read.
    pub path: PathBuf,
    /// SHA-256 recorded and checked.
    pub sha256: String,
    /// Its line in the camera's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_line: Option<usize>,
    /// Wall-clock start.
    pub start: Timestamp,
    /// Wall-clock end.
    pub end: Timestamp,
    /// Frames read from it.
    pub frames: u64,
    /// It was decrypted (in memory).
    pub encrypted: bool,
    /// Where it lies in the joined stream, in seconds (first frame, end of last).
    pub stream: [f64; 2],
    /// Its timestamps jumped where the recorder lost frames, and its frames were read one
    /// frame duration apart ([`veil_video::SegmentSpan::retimed`]): wall-clock times inside
    /// it after the jump are early by the time lost (the lost frames are a hole).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retimed: bool,
    /// Where its timestamps jumped (frames lost): seconds of the joined stream of the first
    /// frame after each jump, and the seconds skipped. Nobody is kept across one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jumps: Vec<[f64; 2]>,
    /// The part of the output that comes from it, in seconds of the output (set by the
    /// pipeline; `None`: nothing of it was delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<[f64; 2]>,
}

/// What a manifest records of recordings read as one stream: the camera, the index, the
/// window asked and delivered (wall clock), each segment used, every hole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingsRecord {
    /// The camera.
    pub camera: String,
    /// The index the segments were chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexFile>,
    /// The window asked for.
    pub asked: WallWindow,
    /// The window delivered (first frame to the end of the last), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<WallWindow>,
    /// The segments read, in order.
    pub segments: Vec<SegmentUsed>,
    /// The holes inside the window asked.
    pub holes: Vec<Hole>,
}

fn secs_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

impl RecordingsRecord {
    /// The time in the joined stream (seconds) of wall-clock `w`: inside a segment its
    /// frame's time; in a hole, the next footage; after the last, the stream's end.
    pub fn seconds_at(&self, w: Timestamp) -> f64 {
        for s in &self.segments {
            let len = s.stream[1] - s.stream[0];
            let wall = (ms(w) - ms(s.start)) as f64 / 1000.0;
            if wall < 0.0 {
                return s.stream[0];
            }
            // Wall-clock seconds into the segment to its own seconds: less the time its jumps
            // skipped before `w`; inside a skipped stretch, the next frame.
            let mut into = wall;
            for &[at, skipped] in &s.jumps {
                let jump = at - s.stream[0];
                if into >= jump + skipped {
                    into -= skipped;
                } else if into >= jump {
                    into = jump;
                }
            }
            if into < len {
                return s.stream[0] + into;
            }
        }
        self.segments.last().map_or(0.0, |s| s.stream[1])
    }

    /// The wall-clock time of `t` seconds of the joined stream.
    pub fn wall_at(&self, t: f64) -> Timestamp {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| t >= s.stream[0])
            .or(self.segments.first());
        match seg {
            Some(s) => ts(ms(s.start) + secs_ms(t - s.stream[0] + skipped_before(s, t))),
            None => Timestamp::now(),
        }
    }

    /// This record for an output that holds the joined stream's `[first, end)` seconds,
    /// starting at the output's second 0: the delivered window and each segment's part of
    /// the output.
    pub fn delivered(&self, first: f64, end: f64) -> RecordingsRecord {
        let mut r = self.clone();
        r.delivered = Some(WallWindow {
            from: self.wall_at(first),
            to: self.wall_at_end(end),
        });
        for s in &mut r.segments {
            let (a, b) = (s.stream[0].max(first), s.stream[1].min(end));
            s.output = (b > a).then(|| [round_us(a - first), round_us(b - first)]);
        }
        r
    }

    /// [`RecordingsRecord::delivered`] for an output whose first frame is at `first` and
    /// last frame at `last` seconds of the joined stream (the last frame's duration is its
    /// segment's frame duration).
    pub fn delivered_frames(&self, first: f64, last: f64) -> RecordingsRecord {
        let frame = self
            .segments
            .iter()
            .find(|s| last >= s.stream[0] - 1e-6 && last < s.stream[1])
            .filter(|s| s.frames > 0)
            .map_or(0.0, |s| (s.stream[1] - s.stream[0]) / s.frames as f64);
        self.delivered(first, last + frame)
    }

    /// How manifests name the joined stream: `<camera> <from>..<to>` (the window asked).
    pub fn source_name(&self) -> PathBuf {
        PathBuf::from(format!("{} {}..{}", self.camera, self.asked.from, self.asked.to))
    }

    /// The wall clock of an end time (the end of a segment's last frame stays in it).
    fn wall_at_end(&self, t: f64) -> Timestamp {
        match self
            .segments
            .iter()
            .find(|s| t > s.stream[0] && t <= s.stream[1] + 1e-6)
        {
            Some(s) => ts(ms(s.start) + secs_ms(t - s.stream[0] + skipped_before(s, t))),
            None => self.wall_at(t),
        }
    }

    /// Where the joined stream jumps in wall-clock time: the stream seconds at which a
    /// segment begins that does not follow the previous one without a break (a gap or a
    /// deleted segment lies between them), or a segment's frames go on after frames the
    /// recorder lost, with the wall-clock stretch skipped. Pictures
    /// on either side are not continuous: a track that seems to go on across such a point
    /// may be two people.
    pub fn discontinuities(&self) -> Vec<(f64, WallWindow)> {
        // Inside segments: where the recorder lost frames (the wall clock as the segment's
        // own timestamps had it).
        let inside = self.segments.iter().flat_map(|s| {
            s.jumps.iter().map(move |&[at, skipped]| {
                let before = ms(s.start) + secs_ms(at - s.stream[0] + skipped_before(s, at) - skipped);
                (
                    at,
                    WallWindow {
                        from: ts(before),
                        to: ts(before + secs_ms(skipped)),
                    },
                )
            })
        });
        let mut out: Vec<(f64, WallWindow)> = self
            .segments
            .windows(2)
            .filter_map(|p| {
                let frame_ms = if p[0].frames > 0 {
                    (p[0].stream[1] - p[0].stream[0]) * 1000.0 / p[0].frames as f64
                } else {
                    0.0
                };
                let skipped = (ms(p[1].start) - ms(p[0].end)) as f64;
                (skipped > (1.5 * frame_ms).max(1.0)).then_some((
                    p[1].stream[0],
                    WallWindow {
                        from: p[0].end,
                        to: p[1].start,
                    },
                ))
            })
            .collect();
        out.extend(inside);
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// One line per hole, for a command's output.
    pub fn hole_lines(&self) -> Vec<String> {
        self.holes.iter().map(|h| h.to_string()).collect()
    }
}

/// The seconds `s`'s jumps skipped before `t` seconds of the joined stream.
fn skipped_before(s: &SegmentUsed, t: f64) -> f64 {
    s.jumps.iter().filter(|j| j[0] <= t + 1e-9).map(|j| j[1]).sum()
}

fn round_us(s: f64) -> f64 {
    (s * 1e6).round() / 1e6
}

/// Recordings opened: checked, decrypted and joined into one stream in memory, read by its
/// [`OpenedRecordings::path`] while this value lives.
#[derive(Debug)]
pub struct OpenedRecordings {
    record: RecordingsRecord,
    path: PathBuf,
    window: (f64, f64),
    _memory: File,
}

impl OpenedRecordings {
    /// The joined stream's path (`/proc/self/fd/N`, valid in this process while `self`
    /// lives).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The window asked, in seconds of the joined stream: `[from, to)`.
    pub fn window(&self) -> (f64, f64) {
        self.window
    }

    /// What was read, for manifests.
    pub fn record(&self) -> &RecordingsRecord {
        &self.record
    }

    /// The time in the joined stream (seconds) of wall-clock `w`, when `w` lies in the
    /// window asked; `None` outside it.
    pub fn seconds_at(&self, w: Timestamp) -> Option<f64> {
        (w >= self.record.asked.from && w < self.record.asked.to).then(|| self.record.seconds_at(w))
    }

    /// A name for the joined stream in manifests and messages:
    /// `<camera> <from>..<to>`.
    pub fn display_name(&self) -> PathBuf {
        self.record.source_name()
    }
}

#[cfg(test)]
#[path = "recordings_tests.rs"]
mod tests;
