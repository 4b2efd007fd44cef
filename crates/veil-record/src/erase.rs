//! Erasing one segment, audited first: the audit target ([`AuditTarget`]), the record of a
//! deletion ([`SegmentDeletion`]), and the erasure itself.
//!
//! Erasing a segment: an encrypted segment's data key (`keys/<name>.key.age`) is
//! overwritten with zeros, synced and removed, then the segment is removed (its bytes,
//! wherever copies of them are, no longer decrypt: crypto-erasure); an unencrypted segment
//! is overwritten with zeros, synced and removed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use veil_audit::{Action, AuditLog, LegalBasis, NewEntry, Timestamp, Window};
use veil_core::fsutil::sync_dir;

use crate::index::{Deleted, IndexEntry, KEYS_DIR};
use crate::RecordError;

/// Where deletions and notes are logged, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTarget {
    /// The audit log (created if missing).
    pub log: PathBuf,
    /// The actor named in the entries (a system account, e.g. `recorder@site`).
    pub actor: String,
}

impl AuditTarget {
    /// Append one entry about `camera`.
    pub(crate) fn append(
        &self,
        action: Action,
        camera: &str,
        window: Option<Window>,
        reason: &str,
    ) -> Result<(), RecordError> {
        self.append_with(action, camera, window, None, reason)
    }

    fn append_with(
        &self,
        action: Action,
        camera: &str,
        window: Option<Window>,
        basis: Option<LegalBasis>,
        reason: &str,
    ) -> Result<(), RecordError> {
        let mut e = NewEntry::new(&self.actor, action, reason).camera(camera);
        if let Some(w) = window {
            e = e.window(w);
        }
        if let Some(b) = basis {
            e = e.basis(b);
        }
        AuditLog::new(&self.log).append(&e, &[])?;
        Ok(())
    }
}

/// A segment deleted (or, in a dry run, to be deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDeletion {
    /// Camera id.
    pub camera: String,
    /// File name in the camera's directory.
    pub file: String,
    /// The rule.
    pub reason: String,
    /// How it is erased: its data key destroyed (encrypted), or overwritten (plain).
    pub how: String,
    /// Deleted before its retention period ended, to keep within the storage budget or
    /// the free-space floor (the reason starts "early: storage budget").
    pub early: bool,
}

/// How a segment is erased: its data key destroyed (encrypted), or overwritten (plain).
pub(crate) fn how_erased(key: Option<&str>) -> String {
    match key {
        Some(k) => format!("crypto-erased: its data key {KEYS_DIR}/{k} overwritten and removed"),
        None => "overwritten with zeros and removed".to_string(),
    }
}

/// Delete one indexed segment for `reason`: the audit entry first (so that no footage
/// disappears unaccounted for, even if the process dies next), then the erasure (data key
/// destroyed, or file overwritten) and removal, then the entry is marked deleted (the caller
/// holds the index lock and rewrites the index).
pub(crate) fn delete_entry(
    cam_dir: &Path,
    camera: &str,
    entry: &mut IndexEntry,
    reason: &str,
    basis: Option<LegalBasis>,
    audit: &AuditTarget,
) -> Result<(), RecordError> {
    let how = how_erased(entry.key.as_deref());
    let window = Window {
        from: entry.start,
        to: entry.end,
    };
    let text = format!(
        "recording {camera}/{} deleted (sha256 {}, {} frames): {reason}; {how}",
        entry.file, entry.sha256, entry.frames
    );
    audit.append_with(Action::Delete, camera, Some(window), basis, &text)?;
    erase_segment(cam_dir, &entry.file, entry.key.as_deref())?;
    entry.deleted = Some(Deleted {
        // When the file was actually removed (`now` may be given for the rule).
        time: Timestamp::now(),
        reason: format!("{reason}; {how}"),
    });
    Ok(())
}

/// Erase one segment: destroy its data key (crypto-erasure) or overwrite it, then remove it.
fn erase_segment(cam_dir: &Path, file: &str, key: Option<&str>) -> Result<(), RecordError> {
    let path = cam_dir.join(file);
    let io = |path: &Path, op| {
        let path = path.to_path_buf();
        move |source| RecordError::Io { path, op, source }
    };
    match key {
        Some(k) => {
            let keys = cam_dir.join(KEYS_DIR);
            let kp = keys.join(k);
            overwrite_and_remove(&kp).map_err(io(&kp, "destroy the data key"))?;
            sync_dir(&keys);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path, "delete")(e)),
            }
        }
        None => overwrite_and_remove(&path).map_err(io(&path, "overwrite and delete"))?,
    }
    Ok(())
}

/// Overwrite a file with zeros in place, sync, and remove it (a missing file is fine).
///
/// This reaches the blocks the file occupies on a disk that rewrites in place; on an SSD,
/// a copy-on-write file system or a snapshot the old blocks may survive (SECURITY.md).
pub fn overwrite_and_remove(path: &Path) -> std::io::Result<()> {
    let mut f = match fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut left = f.metadata()?.len();
    let zeros = vec![0u8; 1 << 20];
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    drop(f);
    fs::remove_file(path)
}
