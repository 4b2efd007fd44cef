//! The per-camera index, `DIR/<camera id>/index.jsonl`: one JSON line per closed segment.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use veil_audit::Timestamp;
use veil_core::fsutil::sync_dir;

use crate::RecordError;

/// Version of an index line.
pub const INDEX_VERSION: u32 = 1;

/// The index file's name inside a camera directory.
pub const INDEX_FILE: &str = "index.jsonl";

/// The lock file's name inside a camera directory (held while the index changes).
const LOCK_FILE: &str = ".index.lock";

/// A stretch of time without footage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// Last instant with footage before the gap (the previous segment's end).
    pub from: Timestamp,
    /// First instant with footage after it.
    pub to: Timestamp,
    /// Why (the camera's stream ended, a network error, a size change...).
    pub reason: String,
    /// Set on a lag mark (past [`crate::LAG_LIMIT`]): recording ran this many milliseconds behind
    /// the camera's clock at `from` (`to` is `from`: no footage is missing there, it was
    /// recorded late). Lag marks are not holes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<u64>,
    /// Frames the camera sent in this stretch that were never recorded (timestamps that
    /// jumped: packets lost, frames not decoded), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_frames: Option<u64>,
}

impl Gap {
    /// A mark inside recorded footage rather than a stretch without any: a lag mark
    /// (`lag_ms`, zero length) or frames lost in timestamp jumps (`lost_frames` frames
    /// missing somewhere between `from` and `to`, the rest recorded).
    pub fn is_mark(&self) -> bool {
        self.lag_ms.is_some() || self.lost_frames.is_some()
    }

    /// A stretch without footage, `from` to `to`, and why.
    pub fn new(from: Timestamp, to: Timestamp, reason: impl Into<String>) -> Gap {
        Gap {
            from,
            to,
            reason: reason.into(),
            lag_ms: None,
            lost_frames: None,
        }
    }
}

/// How a segment was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deleted {
    /// When the file was removed.
    pub time: Timestamp,
    /// The rule that removed it (e.g. "retention of 28 days ended ...").
    pub reason: String,
}

/// One closed segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    /// [`INDEX_VERSION`].
    pub version: u32,
    /// File name inside the camera's directory (`YYYYmmddTHHMMSSZ.mp4`, or `.mp4.age` when
    /// encrypted).
    pub file: String,
    /// Time of the first frame (UTC).
    pub start: Timestamp,
    /// End of the last frame (UTC): the next segment's start when recording went on
    /// without a break.
    pub end: Timestamp,
    /// Frames in the file.
    pub frames: u64,
    /// SHA-256 of the file as closed, 64 lowercase hex digits.
    pub sha256: String,
    /// Time without footage between the previous segment's end and this segment's end (a
    /// camera that dropped before this segment began, frames missing inside it).
    pub gaps: Vec<Gap>,
    /// Set when retention removed the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deleted>,
    /// Set when the segment was found without an index line after an unclean stop (a
    /// crash, a power cut) and indexed when recording started again: its start comes from
    /// the file name (whole seconds), its end from the frames that could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
    /// For an encrypted segment (`.mp4.age`): the file in the camera's `keys/` directory
    /// holding its data key, sealed to the site's public keys. Destroying that file erases
    /// the segment for good (crypto-erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The directory of a camera directory holding the sealed data keys of its encrypted
/// segments.
pub const KEYS_DIR: &str = "keys";

/// Whether `name` is a plain file name: not empty, no path separator, no NUL, not hidden,
/// not `.` or `..`. Index entries name files inside the camera directory only; anything
/// else (a path, `../x`) is refused before any file is touched.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0']) && name.len() <= 255
}

/// A camera directory's index, with the lock that keeps the recorder and
/// `retention apply` from changing it at the same time.
#[derive(Debug, Clone)]
pub struct Index {
    dir: PathBuf,
}

impl Index {
    /// The index of the camera directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Index { dir: dir.into() }
    }

    /// The camera directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The index file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(INDEX_FILE)
    }

    /// Hold the index lock while `f` runs.
    ///
    /// # Errors
    /// [`RecordError::Io`] when the lock file cannot be opened or locked, and `f`'s errors.
    pub fn locked<T>(&self, f: impl FnOnce(&Self) -> Result<T, RecordError>) -> Result<T, RecordError> {
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| RecordError::Io {
                path: path.clone(),
                op: "open the index lock",
                source,
            })?;
        let _guard = flock(&file, &path)?;
        f(self)
    }

    /// Every entry, in file order (an index that does not exist yet is empty).
    ///
    /// # Errors
    /// [`RecordError::Io`], [`RecordError::BadIndex`] naming the line.
    pub fn read(&self) -> Result<Vec<IndexEntry>, RecordError> {
        Ok(self.read_numbered()?.into_iter().map(|(_, e)| e).collect())
    }

    /// [`Index::read`], each entry with its line number in the file (from 1), as a
    /// manifest names the index line a segment was read by.
    ///
    /// # Errors
    /// As [`Index::read`].
    pub fn read_numbered(&self) -> Result<Vec<(usize, IndexEntry)>, RecordError> {
        let path = self.path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RecordError::Io {
                    path,
                    op: "read",
                    source,
                })
            }
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let e: IndexEntry = serde_json::from_str(line).map_err(|e| RecordError::BadIndex {
                path: path.clone(),
                line: i + 1,
                reason: e.to_string(),
            })?;
            if e.version != INDEX_VERSION {
                return Err(RecordError::BadIndex {
                    path: path.clone(),
                    line: i + 1,
                    reason: format!("version {} (this Veil reads {INDEX_VERSION})", e.version),
                });
            }
            for (what, name) in [("file", Some(&e.file)), ("key", e.key.as_ref())] {
                if let Some(name) = name.filter(|n| !is_plain_name(n)) {
                    return Err(RecordError::BadIndex {
                        path: path.clone(),
                        line: i + 1,
                        reason: format!(
                            "{what} {name:?} is not a plain file name inside the camera directory; nothing is read or deleted through this index"
                        ),
                    });
                }
            }
            out.push((i + 1, e));
        }
        Ok(out)
    }

    /// Append one entry (one `write`, then `fsync`).
    ///
    /// # Errors
    /// [`RecordError::Io`].
    pub fn append(&self, entry: &IndexEntry) -> Result<(), RecordError> {
        let path = self.path();
        let io = |op, source| RecordError::Io {
            path: path.clone(),
            op,
            source,
        };
        let mut line = serde_json::to_vec(entry).map_err(|e| io("encode", std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io("open", e))?;
        f.write_all(&line).map_err(|e| io("append to", e))?;
        f.sync_all().map_err(|e| io("sync", e))
    }

    /// Replace the whole index (temp file + rename, synced).
    ///
    /// # Errors
    /// [`RecordError::Io`].
    pub fn rewrite(&self, entries: &[IndexEntry]) -> Result<(), RecordError> {
        let path = self.path();
        let io = |op, source| RecordError::Io {
            path: path.clone(),
            op,
            source,
        };
        let mut text = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut text, e).map_err(|e| io("encode", std::io::Error::other(e)))?;
            text.push(b'\n');
        }
        veil_core::fsutil::write_atomic(&path, &text).map_err(|e| io("rewrite", e))?;
        sync_dir(&self.dir);
        Ok(())
    }
}

/// An exclusive flock, released when dropped.
struct FlockGuard<'a>(#[cfg_attr(not(unix), allow(dead_code))] &'a File);

#[cfg(unix)]
fn flock<'a>(file: &'a File, path: &Path) -> Result<FlockGuard<'a>, RecordError> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock only reads the descriptor number; `file` keeps it open for the call
        // and for the guard's lifetime.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(FlockGuard(file));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(RecordError::Io {
                path: path.to_path_buf(),
                op: "lock",
                source: err,
            });
        }
    }
}

#[cfg(not(unix))]
fn flock<'a>(file: &'a File, _path: &Path) -> Result<FlockGuard<'a>, RecordError> {
    Ok(FlockGuard(file))
}

#[cfg(unix)]
impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `flock`; closing the file would release the lock anyway.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
