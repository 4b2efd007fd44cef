//! The log file: appending under an exclusive lock with fsync, reading back, and the
//! operator's explicit repair of a torn last line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::entry::{Entry, NewEntry, ENTRY_VERSION, GENESIS_PREV};
use crate::hash::sha256_hex;
use crate::lock::ExclusiveLock;
use crate::tamper::{Tamper, TamperKind, VerifySummary};
use crate::time::Timestamp;
use crate::verify::{check_line, verify_file, verify_reader, Lines};
use crate::vocab::Action;
use crate::AuditError;

/// An audit log file. Appends are durable and serialised across processes by an exclusive
/// `flock` held around read-last-entry + append.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// A handle on the log at `path` (created on first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Validates `entry` ([`NewEntry::validate`] with the camera's purposes), then appends it
    /// with the current time. Returns the entry as stored.
    ///
    /// # Errors
    /// Validation errors (nothing is written); [`AuditError::TruncatedLog`] or
    /// [`AuditError::CorruptTail`] when the log's last line is incomplete or invalid
    /// (appending is refused, see the crate docs); [`AuditError::Io`].
    pub fn append(&self, entry: &NewEntry, camera_purposes: &[String]) -> Result<Entry, AuditError> {
        self.append_at(entry, camera_purposes, Timestamp::now())
    }

    /// As [`AuditLog::append`] with an explicit time (tests, replays of queued events).
    ///
    /// # Errors
    /// As [`AuditLog::append`].
    pub fn append_at(
        &self,
        entry: &NewEntry,
        camera_purposes: &[String],
        time: Timestamp,
    ) -> Result<Entry, AuditError> {
        entry.validate(camera_purposes)?;
        let path = &self.path;
        let file = open_log(path)?;
        let _lock = ExclusiveLock::acquire(&file, path)?;
        append_locked(&file, path, entry, time)
    }

    /// Verifies the log ([`verify_file`]).
    ///
    /// # Errors
    /// As [`verify_file`].
    pub fn verify(&self) -> Result<VerifySummary, AuditError> {
        verify_file(&self.path)
    }

    /// Reads all entries, refusing a log that does not verify (so that callers never act on
    /// a tampered log).
    ///
    /// # Errors
    /// [`AuditError::CorruptTail`] naming the first problem when the log is not intact;
    /// [`AuditError::Io`].
    pub fn read_entries(&self) -> Result<Vec<Entry>, AuditError> {
        let summary = self.verify()?;
        if let Some(p) = summary.problem {
            return Err(AuditError::CorruptTail {
                path: self.path.clone(),
                reason: p.to_string(),
            });
        }
        let file = File::open(&self.path).map_err(|source| AuditError::Io {
            path: self.path.clone(),
            op: "open",
            source,
        })?;
        let mut lines = Lines::new(BufReader::new(file), &self.path);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line()? {
            let e = line.entry.map_err(|f| AuditError::CorruptTail {
                path: self.path.clone(),
                reason: format!("changed during reading: {}", TamperKind::from(f)),
            })?;
            out.push(e);
        }
        Ok(out)
    }
}

/// What [`AuditLog::repair_torn_tail`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TornTailRepair {
    /// Where the incomplete bytes were saved (`<log file name>.torn-<seq>` beside the log).
    pub saved_to: PathBuf,
    /// How many bytes were cut from the log.
    pub bytes: u64,
    /// SHA-256 of those bytes.
    pub sha256: String,
    /// The `config-change` entry that records the repair in the log itself.
    pub entry: Entry,
}

impl AuditLog {
    /// Repairs a log whose last line is incomplete (a crash mid-write). This is an explicit
    /// operator action, never done by `append`.
    ///
    /// Under the exclusive lock: verifies that every complete line forms an intact chain
    /// (anything else is not a crash, and is refused); saves the incomplete bytes to
    /// `<log file name>.torn-<seq>` beside the log (never overwriting, fsynced); cuts the log
    /// back to its last newline (fsynced); and appends a `config-change` entry by `actor`
    /// naming the saved file, the byte count and their SHA-256, so the repair is itself on
    /// the record. Returns `Ok(None)` and changes nothing when the log is intact.
    ///
    /// # Errors
    /// [`AuditError::CorruptTail`] when the log has any other problem; [`AuditError::Io`];
    /// [`AuditError::MissingField`] for a blank actor (checked before anything changes).
    pub fn repair_torn_tail(&self, actor: &str) -> Result<Option<TornTailRepair>, AuditError> {
        let path = &self.path;
        let io = |op: &'static str| {
            move |source| AuditError::Io {
                path: path.clone(),
                op,
                source,
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io("open"))?;
        let _lock = ExclusiveLock::acquire(&file, path)?;
        let mut bytes = Vec::new();
        (&file).seek(SeekFrom::Start(0)).map_err(io("seek"))?;
        (&file).read_to_end(&mut bytes).map_err(io("read"))?;
        let summary = verify_reader(&bytes[..], path, None)?;
        match &summary.problem {
            None => return Ok(None),
            Some(Tamper {
                kind: TamperKind::TruncatedLastLine { .. },
                ..
            }) => {}
            Some(other) => {
                return Err(AuditError::CorruptTail {
                    path: path.clone(),
                    reason: format!("not only a torn last line, refusing to repair: {other}"),
                })
            }
        }
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let torn = &bytes[keep..];
        let name = path
            .file_name()
            .map_or_else(|| "audit".into(), |n| n.to_string_lossy().into_owned());
        let saved_to = path.with_file_name(format!("{name}.torn-{}", summary.entries + 1));
        // The note that records the repair is checked before anything changes: a cut that
        // cannot be recorded must not happen.
        let sha256 = sha256_hex(torn);
        let note = NewEntry::new(
            actor,
            Action::ConfigChange,
            format!(
                "repaired torn last line: cut {} bytes (sha256 {sha256}) after seq {}, saved to {}",
                torn.len(),
                summary.entries,
                saved_to.display()
            ),
        );
        note.validate(&[])?;
        let mut saved = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&saved_to)
            .map_err(|source| AuditError::Io {
                path: saved_to.clone(),
                op: "create",
                source,
            })?;
        saved
            .write_all(torn)
            .and_then(|()| saved.sync_all())
            .map_err(|source| AuditError::Io {
                path: saved_to.clone(),
                op: "write",
                source,
            })?;
        sync_parent_dir(&saved_to)?;
        file.set_len(keep as u64).map_err(io("truncate"))?;
        file.sync_all().map_err(io("fsync"))?;
        let entry = append_locked(&file, path, &note, Timestamp::now())?;
        Ok(Some(TornTailRepair {
            saved_to,
            bytes: torn.len() as u64,
            sha256,
            entry,
        }))
    }
}

/// Opens (creating if needed) the log for reading and appending.
fn open_log(path: &Path) -> Result<File, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    match OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => {
            // A new file: make its directory entry durable too, or a crash could lose the
            // whole log even though every append was fsynced.
            sync_parent_dir(path)?;
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io("open")),
        Err(e) => Err(io("create")(e)),
    }
}

/// Appends `entry` at `time`; the caller holds the exclusive lock on `file`.
fn append_locked(
    mut file: &File,
    path: &Path,
    entry: &NewEntry,
    time: Timestamp,
) -> Result<Entry, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    let last = read_last_entry(file, path)?;
    let (seq, prev) = match &last {
        Some(e) => (
            e.seq.checked_add(1).ok_or_else(|| AuditError::SeqOverflow {
                path: path.to_owned(),
            })?,
            e.hash.clone(),
        ),
        None => (1, GENESIS_PREV.to_owned()),
    };
    let mut stored = Entry {
        version: ENTRY_VERSION,
        seq,
        time,
        actor: entry.actor.clone(),
        action: entry.action,
        camera: entry.camera.clone(),
        window: entry.window,
        purpose: entry.purpose.clone(),
        basis: entry.basis.clone(),
        recipient: entry.recipient.clone(),
        reason: entry.reason.clone(),
        manifest_sha256: entry.manifest_sha256.clone(),
        operator_tracklets: entry.operator_tracklets.clone(),
        prev,
        hash: String::new(),
    };
    stored.hash = stored.compute_hash()?;
    let mut line = stored.to_line()?;
    line.push(b'\n');
    // One write of the whole line (O_APPEND puts it at the end); under the lock nobody
    // else writes, so a short write can only come from a crash, which verify detects.
    file.write_all(&line).map_err(io("write"))?;
    file.sync_all().map_err(io("fsync"))?;
    Ok(stored)
}

/// Appends one entry to the log at `path` ([`AuditLog::append`]).
///
/// # Errors
/// As [`AuditLog::append`].
pub fn append_entry(
    path: impl AsRef<Path>,
    entry: &NewEntry,
    camera_purposes: &[String],
) -> Result<Entry, AuditError> {
    AuditLog::new(path.as_ref()).append(entry, camera_purposes)
}

/// Reads the last line of the file, which must be a complete, valid entry. Reads backwards
/// in blocks so that appending stays cheap however long the log grows.
fn read_last_entry(mut file: &File, path: &Path) -> Result<Option<Entry>, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    let len = file.seek(SeekFrom::End(0)).map_err(io("seek"))?;
    if len == 0 {
        return Ok(None);
    }
    const BLOCK: u64 = 8192;
    // Find the last newline, then the one before it.
    let mut end = len; // exclusive end of the region searched so far
    let mut newlines: Vec<u64> = Vec::with_capacity(2);
    let mut buf = vec![0u8; BLOCK as usize];
    while end > 0 && newlines.len() < 2 {
        let start = end.saturating_sub(BLOCK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io("seek"))?;
        file.read_exact(chunk).map_err(io("read"))?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            if b == b'\n' {
                newlines.push(start + i as u64);
                if newlines.len() == 2 {
                    break;
                }
            }
        }
        end = start;
    }
    let last_newline = match newlines.first() {
        Some(&p) => p,
        None => {
            return Err(AuditError::TruncatedLog {
                path: path.to_owned(),
                bytes: len,
            })
        }
    };
    if last_newline != len - 1 {
        return Err(AuditError::TruncatedLog {
            path: path.to_owned(),
            bytes: len - 1 - last_newline,
        });
    }
    let line_start = newlines.get(1).map_or(0, |&p| p + 1);
    let mut line = vec![0u8; (last_newline - line_start) as usize];
    file.seek(SeekFrom::Start(line_start)).map_err(io("seek"))?;
    file.read_exact(&mut line).map_err(io("read"))?;
    check_line(&line).map(Some).map_err(|f| AuditError::CorruptTail {
        path: path.to_owned(),
        reason: TamperKind::from(f).to_string(),
    })
}

#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), AuditError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| AuditError::Io {
            path: dir.to_owned(),
            op: "fsync directory",
            source,
        })
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), AuditError> {
    // Directories cannot be opened for fsync on this platform; creation is made durable by the
    // file system's own metadata journaling.
    Ok(())
}
