//! Retention over a recording directory: segments past the retention period and not under
//! a hold are deleted, each deletion written to the audit log first.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{
    plan_with_retention, Action, AuditLog, Hold, NewEntry, PlanInput, Recording, Timestamp, Window,
};

use crate::index::{sync_dir, Deleted, Index, INDEX_FILE};
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
        let mut e = NewEntry::new(&self.actor, action, reason).camera(camera);
        if let Some(w) = window {
            e = e.window(w);
        }
        AuditLog::new(&self.log).append(&e, &[])?;
        Ok(())
    }
}

/// One retention pass's settings.
#[derive(Debug, Clone)]
pub struct RetentionOptions {
    /// How long a segment is kept after its end.
    pub retention: Duration,
    /// Incident holds (the holds file of `redact retention plan`).
    pub holds: Vec<Hold>,
    /// The instant the pass is made for.
    pub now: Timestamp,
    /// Only report what would be deleted.
    pub dry_run: bool,
    /// Where each deletion is logged.
    pub audit: Option<AuditTarget>,
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
}

/// A segment past its retention period, kept because a hold covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentHeld {
    /// Camera id.
    pub camera: String,
    /// File name in the camera's directory.
    pub file: String,
    /// The holds keeping it.
    pub reasons: String,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Deleted segments.
    pub deleted: Vec<SegmentDeletion>,
    /// Segments kept past the retention period by a hold.
    pub held: Vec<SegmentHeld>,
    /// Segments within retention.
    pub kept: usize,
}

/// Apply retention to every camera directory of `dir` (those holding an `index.jsonl`).
///
/// # Errors
/// As [`apply_retention_camera`], and [`RecordError::Io`] when `dir` cannot be listed.
pub fn apply_retention(dir: &Path, opts: &RetentionOptions) -> Result<RetentionOutcome, RecordError> {
    let mut cams: Vec<(String, PathBuf)> = Vec::new();
    let entries = fs::read_dir(dir).map_err(|source| RecordError::Io {
        path: dir.to_path_buf(),
        op: "list",
        source,
    })?;
    for e in entries {
        let e = e.map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            op: "list",
            source,
        })?;
        let p = e.path();
        if p.join(INDEX_FILE).is_file() {
            if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                cams.push((name.to_string(), p.clone()));
            }
        }
    }
    cams.sort();
    let mut total = RetentionOutcome::default();
    for (camera, path) in cams {
        let o = apply_retention_camera(&path, &camera, opts)?;
        total.deleted.extend(o.deleted);
        total.held.extend(o.held);
        total.kept += o.kept;
    }
    Ok(total)
}

/// Apply retention to one camera directory (`DIR/<camera id>`), under the index lock.
///
/// For each deletion: the audit entry is written first (so that no footage disappears
/// unaccounted for, even if the process dies next), then the file is removed, then the
/// index line is marked deleted.
///
/// # Errors
/// [`RecordError::Io`], [`RecordError::BadIndex`], [`RecordError::Audit`] (nothing more is
/// deleted once logging fails).
pub fn apply_retention_camera(
    cam_dir: &Path,
    camera: &str,
    opts: &RetentionOptions,
) -> Result<RetentionOutcome, RecordError> {
    let index = Index::new(cam_dir);
    index.locked(|index| {
        let mut entries = index.read()?;
        let live: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].deleted.is_none())
            .collect();
        let input = PlanInput {
            recordings: live
                .iter()
                .map(|&i| Recording {
                    camera: camera.to_string(),
                    start: entries[i].start,
                    end: entries[i].end,
                    path: entries[i].file.clone(),
                })
                .collect(),
            holds: opts.holds.clone(),
            ..PlanInput::default()
        };
        let plan = plan_with_retention(&input, opts.retention, opts.now)?;
        let mut out = RetentionOutcome {
            kept: plan.keep.iter().filter(|k| !k.over_limit).count(),
            ..RetentionOutcome::default()
        };
        for k in plan.over_limit() {
            out.held.push(SegmentHeld {
                camera: camera.to_string(),
                file: k.recording.path.clone(),
                reasons: k
                    .reasons
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        let mut changed = false;
        let mut result = Ok(());
        for d in &plan.delete {
            let reason = d
                .reasons
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            out.deleted.push(SegmentDeletion {
                camera: camera.to_string(),
                file: d.recording.path.clone(),
                reason: reason.clone(),
            });
            if opts.dry_run {
                continue;
            }
            let Some(entry) = entries
                .iter_mut()
                .find(|e| e.deleted.is_none() && e.file == d.recording.path)
            else {
                continue;
            };
            if let Some(a) = &opts.audit {
                let window = Window {
                    from: entry.start,
                    to: entry.end,
                };
                let text = format!(
                    "recording {camera}/{} deleted (sha256 {}, {} frames): {reason}",
                    entry.file, entry.sha256, entry.frames
                );
                if let Err(e) = a.append(Action::Delete, camera, Some(window), &text) {
                    result = Err(e);
                    break;
                }
            }
            let path = cam_dir.join(&entry.file);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    result = Err(RecordError::Io {
                        path,
                        op: "delete",
                        source,
                    });
                    break;
                }
            }
            entry.deleted = Some(Deleted {
                // When the file was actually removed (`now` may be given for the rule).
                time: Timestamp::now(),
                reason,
            });
            changed = true;
        }
        if changed {
            sync_dir(cam_dir);
            index.rewrite(&entries)?;
        }
        result.map(|()| out)
    })
}

/// A holds file, read again at every retention pass, so that a hold added (or an incident
/// resolved) takes effect at the next pass without restarting the recorder. The file is
/// small; reading it each time also catches a change that keeps its size and modification
/// time (coarse file system clocks).
#[derive(Debug)]
pub struct HoldsWatch {
    path: Option<PathBuf>,
}

impl HoldsWatch {
    /// Watch `path` (`None`: no holds).
    pub fn new(path: Option<PathBuf>) -> Self {
        HoldsWatch { path }
    }

    /// The current holds.
    ///
    /// # Errors
    /// [`RecordError::Audit`] when the file is missing or invalid: then nothing may be
    /// deleted (a hold that cannot be read could be the one protecting a segment).
    pub fn current(&self) -> Result<Vec<Hold>, RecordError> {
        match &self.path {
            Some(p) => Ok(veil_audit::load_holds(p)?),
            None => Ok(Vec::new()),
        }
    }
}
