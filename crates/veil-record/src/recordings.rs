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
//! continuous timestamps ([`veil_video::concat_segments`]), held in an anonymous file: on
//! disk in the temporary directory for plain footage (never linked, gone when closed), in
//! memory when any segment is encrypted (its plaintext never touches a disk). Every reader (analysis, export, disclosure, detection) reads that stream like a
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
use crate::plain::{anonymous_file_in, memory_file, memory_path};
use crate::recordings_record::{
    ms, ts, Hole, HoleKind, IndexFile, RecordingsRecord, SegmentUsed, WallWindow,
};
use crate::segment::{start_from_name, ENCRYPTED_EXT};
use crate::{PlainInput, RecordError, RecordingsError};

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
    /// stream: an anonymous file in the temporary directory (`TMPDIR`, Linux `O_TMPFILE`:
    /// never visible, gone when the [`OpenedRecordings`] is dropped) when every segment is
    /// plain, so that hours are not held in memory; in memory when any is encrypted, or
    /// where the temporary directory cannot hold such a file.
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
        // The joined stream: plain footage is joined into an anonymous file in the temporary
        // directory (`TMPDIR`; never visible, gone on close), so that a window of hours is not
        // held in memory; not beside the segments, where it would eat into the recorder's
        // free-space floor. The plaintext of encrypted footage never touches a disk.
        let encrypted = plains.iter().any(|p| p.encrypted().is_some());
        let tmp = std::env::temp_dir();
        let memory = match (!encrypted).then(|| anonymous_file_in(&tmp)).flatten() {
            Some(f) => f,
            None => memory_file(
                &self
                    .index
                    .as_ref()
                    .map_or_else(|| PathBuf::from(&self.camera), |i| i.path.clone()),
            )?,
        };
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
