//! Retention over a recording directory: segments past the retention period, or named by
//! a granted erasure request, and not under a hold or a pending access request, are erased,
//! each erasure written to the audit log first (the erasure itself: `erase.rs`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{
    plan_with_retention, AccessRequest, Action, AuditLog, BasisKind, DeleteReason, Entry, ErasureRequest,
    Hold, LegalBasis, PlanInput, Recording, Timestamp, Window,
};
use veil_core::fsutil::sync_dir;

use crate::erase::{delete_entry, how_erased, AuditTarget, SegmentDeletion};
use crate::index::{Index, INDEX_FILE};
use crate::RecordError;

/// What protects footage and what asks for its early erasure: incident holds, access
/// requests (inzage) and erasure requests, from their files and from the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests {
    /// Incident holds: open ones keep footage.
    pub holds: Vec<Hold>,
    /// Access requests: pending ones keep footage.
    pub access: Vec<AccessRequest>,
    /// Erasure requests: footage they cover is erased early unless a hold or a pending
    /// access request covers it (then they stay pending).
    pub erasures: Vec<ErasureRequest>,
    /// The reasons of the `note` entries already in the audit log (a warning is noted once).
    pub noted: BTreeSet<String>,
}

impl Requests {
    /// The requests recorded in an audit log:
    /// - a `hold` entry (basis `incident:REF`, its camera, its window or, without one, all
    ///   of the camera's footage) is an incident hold, open until a later `release` entry
    ///   with the same basis and camera;
    /// - a `request` entry with an `inzage:REF` basis is a pending access request for its
    ///   camera and window, until a later `release` entry with the same basis and camera;
    /// - a `request` or `erase` entry with an `erasure-request:REF` basis is an erasure
    ///   request for its camera and window. (Erasures carried out are logged as `delete`
    ///   entries, so they are never read back as requests.)
    pub fn from_log(entries: &[Entry]) -> Requests {
        let mut r = Requests::default();
        let released = |i: usize, e: &Entry| {
            entries[i + 1..]
                .iter()
                .find(|x| x.action == Action::Release && x.basis == e.basis && x.camera == e.camera)
                .map(|x| x.time)
        };
        for (i, e) in entries.iter().enumerate() {
            if e.action == Action::Note {
                r.noted.insert(e.reason.clone());
                continue;
            }
            let (Some(camera), Some(basis)) = (&e.camera, &e.basis) else {
                continue;
            };
            match (e.action, basis.kind) {
                (Action::Hold, BasisKind::Incident) => r.holds.push(Hold {
                    incident: basis.reference.clone(),
                    camera: camera.clone(),
                    window: e.window.unwrap_or_else(all_time),
                    opened: e.time,
                    resolved: released(i, e),
                }),
                (Action::Request, BasisKind::Inzage) => {
                    if let Some(window) = e.window {
                        r.access.push(AccessRequest {
                            reference: basis.reference.clone(),
                            camera: camera.clone(),
                            window,
                            received: e.time,
                            handled: released(i, e),
                        });
                    }
                }
                (Action::Request | Action::Erase, BasisKind::ErasureRequest) => {
                    if let Some(window) = e.window {
                        r.erasures.push(ErasureRequest {
                            reference: basis.reference.clone(),
                            requester: e.actor.clone(),
                            camera: camera.clone(),
                            window,
                            received: e.time,
                        });
                    }
                }
                _ => {}
            }
        }
        r
    }

    /// Add `other`'s requests to these.
    pub fn extend(&mut self, other: Requests) {
        self.holds.extend(other.holds);
        self.access.extend(other.access);
        self.erasures.extend(other.erasures);
        self.noted.extend(other.noted);
    }

    /// A warning for every hold and request whose camera has no recording under `dir` (and
    /// is not `own`, a recorder's own camera): it protects or erases nothing there, which
    /// is most often a misspelt camera id.
    pub fn unknown_cameras(&self, dir: &Path, own: Option<&str>) -> Vec<UnknownCamera> {
        let known = |c: &str| {
            own == Some(c) || (crate::index::is_plain_name(c) && dir.join(c).join(INDEX_FILE).is_file())
        };
        let mut out: Vec<UnknownCamera> = Vec::new();
        let mut say = |what: &str, reference: &str, camera: &str, effect: &str| {
            if !known(camera) {
                let warning = format!(
                    "{what} {reference} names camera {camera:?}, which has no recordings under {}: it {effect} nothing there (is the camera id spelt as in its zone file?)",
                    dir.display()
                );
                if !out.iter().any(|u| u.warning == warning) {
                    out.push(UnknownCamera {
                        camera: camera.to_string(),
                        warning,
                    });
                }
            }
        };
        for h in &self.holds {
            say("hold", &h.incident, &h.camera, "protects");
        }
        for a in &self.access {
            say("access request", &a.reference, &a.camera, "protects");
        }
        for e in &self.erasures {
            say("erasure request", &e.reference, &e.camera, "erases");
        }
        out
    }

    /// Log each warning as a `note` about the camera it names, unless the log has it
    /// already; the warnings that could not be logged come back as text.
    pub fn note_warnings(&self, found: &[UnknownCamera], audit: &AuditTarget) -> Vec<String> {
        let mut failed = Vec::new();
        for u in found.iter().filter(|u| !self.noted.contains(&u.warning)) {
            if let Err(e) = audit.append(Action::Note, &u.camera, None, &u.warning) {
                failed.push(format!("cannot log the warning: {e}"));
            }
        }
        failed
    }
}

/// A hold or request naming a camera that has no recordings under the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCamera {
    /// The camera id as the hold or request spells it.
    pub camera: String,
    /// The warning for the operator (also the text of its audit note).
    pub warning: String,
}

/// The whole of time, for a hold without a window.
fn all_time() -> Window {
    Window {
        from: Timestamp::from_unix_seconds(-62_135_596_800).unwrap_or_else(Timestamp::now), // 0001-01-01
        to: Timestamp::from_unix_seconds(253_402_300_799).unwrap_or_else(Timestamp::now), // 9999-12-31T23:59:59
    }
}

/// One retention pass's settings.
#[derive(Debug, Clone)]
pub struct RetentionOptions {
    /// How long a segment is kept after its end.
    pub retention: Duration,
    /// Holds, access and erasure requests ([`HoldsWatch::current`]).
    pub requests: Requests,
    /// The instant the pass is made for. Without `dry_run` it may not lie in the future
    /// (that would erase footage before its time).
    pub now: Timestamp,
    /// Only report what would be deleted.
    pub dry_run: bool,
    /// Where each deletion is logged: required unless `dry_run` (every deletion is
    /// audited).
    pub audit: Option<AuditTarget>,
}

impl RetentionOptions {
    /// Refuse a pass that would delete without an audit log, or before footage's time.
    pub(crate) fn check(&self) -> Result<(), RecordError> {
        if self.dry_run {
            return Ok(());
        }
        if self.audit.is_none() {
            return Err(RecordError::InvalidOption {
                reason: "every deletion is audited: an audit log (and an actor) is required unless it is a dry run".into(),
            });
        }
        let real_now = Timestamp::now();
        if self.now.unix_millis() > real_now.unix_millis() + 60_000 {
            return Err(RecordError::InvalidOption {
                reason: format!(
                    "retention as of {} (in the future; it is {real_now}) would delete footage before its time: only a dry run may look ahead",
                    self.now
                ),
            });
        }
        Ok(())
    }
}

/// An erasure request that cannot be carried out (yet) for a segment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingErasure {
    /// Camera id.
    pub camera: String,
    /// The erasure request.
    pub reference: String,
    /// File name in the camera's directory.
    pub file: String,
    /// What keeps it (open holds, pending access requests).
    pub reasons: String,
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
    /// Erasure requests waiting for a hold or an access request to end.
    pub pending: Vec<PendingErasure>,
    /// Warnings for the operator (holds and requests naming an unknown camera).
    pub warnings: Vec<String>,
}

/// Apply retention to every camera directory of `dir` (those holding an `index.jsonl`).
///
/// # Errors
/// As [`apply_retention_camera`], and [`RecordError::Io`] when `dir` cannot be listed.
pub fn apply_retention(dir: &Path, opts: &RetentionOptions) -> Result<RetentionOutcome, RecordError> {
    opts.check()?;
    let cams = camera_dirs(dir)?;
    let unknown = opts.requests.unknown_cameras(dir, None);
    let mut total = RetentionOutcome {
        warnings: unknown.iter().map(|u| u.warning.clone()).collect(),
        ..RetentionOutcome::default()
    };
    if let (Some(a), false) = (&opts.audit, opts.dry_run) {
        let failed = opts.requests.note_warnings(&unknown, a);
        total.warnings.extend(failed);
    }
    for (camera, path) in cams {
        let o = apply_retention_camera(&path, &camera, opts)?;
        total.deleted.extend(o.deleted);
        total.held.extend(o.held);
        total.kept += o.kept;
        total.pending.extend(o.pending);
    }
    Ok(total)
}

/// The camera directories of `dir` (those holding an `index.jsonl`), by camera id.
pub(crate) fn camera_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, RecordError> {
    let mut cams: Vec<(String, PathBuf)> = Vec::new();
    let io = |source| RecordError::Io {
        path: dir.to_path_buf(),
        op: "list",
        source,
    };
    for e in fs::read_dir(dir).map_err(io)? {
        let p = e.map_err(io)?.path();
        if p.join(INDEX_FILE).is_file() {
            if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                cams.push((name.to_string(), p.clone()));
            }
        }
    }
    cams.sort();
    Ok(cams)
}

/// Apply retention to one camera directory (`DIR/<camera id>`), under the index lock.
///
/// For each deletion: the audit entry is written first (so that no footage disappears
/// unaccounted for, even if the process dies next), then the segment is erased (its data
/// key destroyed, or the file overwritten) and removed, then the index line is marked
/// deleted.
///
/// # Errors
/// [`RecordError::InvalidOption`] without an audit log or with a future `now` (unless a dry
/// run), [`RecordError::Io`], [`RecordError::BadIndex`] (an entry that is not a plain file
/// name included), [`RecordError::Audit`] (nothing more is deleted once logging fails).
pub fn apply_retention_camera(
    cam_dir: &Path,
    camera: &str,
    opts: &RetentionOptions,
) -> Result<RetentionOutcome, RecordError> {
    opts.check()?;
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
                    bytes: None,
                })
                .collect(),
            holds: opts.requests.holds.clone(),
            access: opts.requests.access.clone(),
            erasures: opts.requests.erasures.clone(),
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
        for decision in &plan.erasures {
            for r in &decision.refused {
                out.pending.push(PendingErasure {
                    camera: camera.to_string(),
                    reference: decision.reference.clone(),
                    file: r.path.clone(),
                    reasons: r
                        .reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
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
            let Some(entry) = entries
                .iter_mut()
                .find(|e| e.deleted.is_none() && e.file == d.recording.path)
            else {
                continue;
            };
            out.deleted.push(SegmentDeletion {
                camera: camera.to_string(),
                file: d.recording.path.clone(),
                reason: reason.clone(),
                how: how_erased(entry.key.as_deref()),
                early: false,
            });
            if opts.dry_run {
                continue;
            }
            // An erasure on request names the request as its basis.
            let basis = d.reasons.iter().find_map(|r| match r {
                DeleteReason::ErasureGranted { reference } => {
                    LegalBasis::new(BasisKind::ErasureRequest, reference.clone()).ok()
                }
                _ => None,
            });
            if let Some(a) = &opts.audit {
                if let Err(e) = delete_entry(cam_dir, camera, entry, &reason, basis, a) {
                    result = Err(e);
                    break;
                }
                changed = true;
            }
        }
        if changed {
            sync_dir(cam_dir);
            index.rewrite(&entries)?;
        }
        result.map(|()| out)
    })
}

/// The holds file, the access and erasure requests files and the audit log, read again at
/// every retention pass, so that a hold or request added (or released) takes effect at the
/// next pass without restarting the recorder. The files are small; reading them each time
/// also catches a change that keeps size and modification time (coarse file system clocks).
#[derive(Debug, Clone, Default)]
pub struct HoldsWatch {
    holds: Option<PathBuf>,
    access: Option<PathBuf>,
    erasures: Option<PathBuf>,
    log: Option<PathBuf>,
}

impl HoldsWatch {
    /// Watch the holds file `path` (`None`: no holds file).
    pub fn new(path: Option<PathBuf>) -> Self {
        HoldsWatch {
            holds: path,
            ..HoldsWatch::default()
        }
    }

    /// Also read access requests (`{"version":1,"requests":[...]}`, as for `retention plan`).
    pub fn access(mut self, path: Option<PathBuf>) -> Self {
        self.access = path;
        self
    }

    /// Also read erasure requests (`{"version":1,"requests":[...]}`).
    pub fn erasures(mut self, path: Option<PathBuf>) -> Self {
        self.erasures = path;
        self
    }

    /// Also honour the holds and requests recorded in this audit log
    /// ([`Requests::from_log`]); a log that does not exist yet has none.
    pub fn audit_log(mut self, path: Option<PathBuf>) -> Self {
        self.log = path;
        self
    }

    /// The current holds and requests.
    ///
    /// # Errors
    /// [`RecordError::Audit`] when a file is missing or invalid, or the audit log does not
    /// verify: then nothing may be deleted (a hold that cannot be read could be the one
    /// protecting a segment).
    pub fn current(&self) -> Result<Requests, RecordError> {
        let mut r = match &self.log {
            Some(p) if p.exists() => Requests::from_log(&AuditLog::new(p).read_entries()?),
            _ => Requests::default(),
        };
        if let Some(p) = &self.holds {
            r.holds.extend(veil_audit::load_holds(p)?);
        }
        if let Some(p) = &self.access {
            r.access.extend(veil_audit::load_access(p)?);
        }
        if let Some(p) = &self.erasures {
            r.erasures.extend(veil_audit::load_erasures(p)?);
        }
        Ok(r)
    }
}
