//! The retention planner: which recordings to delete now, which to keep and why.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::time::{Timestamp, Window};
use crate::AuditError;

/// Version of every input and output file of the planner.
pub const PLAN_VERSION: u32 = 1;

/// Default retention: four weeks.
pub const DEFAULT_RETENTION_DAYS: u32 = 28;

/// A stored recording file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Camera id (as in the zone file).
    pub camera: String,
    /// First instant recorded.
    pub start: Timestamp,
    /// Last instant recorded; the retention period counts from here.
    pub end: Timestamp,
    /// Where the file is (as the NVR names it; the planner never touches it).
    pub path: String,
}

/// `recordings.json`: `{"version": 1, "recordings": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingsFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The recordings.
    pub recordings: Vec<Recording>,
}

/// An incident hold: footage of `camera` in `window` must be kept while the incident is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Incident id.
    pub incident: String,
    /// Camera id.
    pub camera: String,
    /// The footage concerned.
    pub window: Window,
    /// When the incident was opened.
    pub opened: Timestamp,
    /// When it was resolved; `null` while open. A hold counts as open until `resolved <= now`.
    #[serde(default)]
    pub resolved: Option<Timestamp>,
}

/// `holds.json`: `{"version": 1, "holds": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldsFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The holds.
    pub holds: Vec<Hold>,
}

/// A data subject's access request (inzage) for footage of `camera` in `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// The request's reference.
    pub reference: String,
    /// Camera id.
    pub camera: String,
    /// The footage asked for.
    pub window: Window,
    /// When the request was received.
    pub received: Timestamp,
    /// When it was handled; `null` while pending. Pending until `handled <= now`.
    #[serde(default)]
    pub handled: Option<Timestamp>,
}

/// `access.json`: `{"version": 1, "requests": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The access requests.
    pub requests: Vec<AccessRequest>,
}

/// A data subject's erasure request for footage of `camera` in `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The request's reference.
    pub reference: String,
    /// Who asked (name or description, as recorded by the operator).
    pub requester: String,
    /// Camera id.
    pub camera: String,
    /// The footage to erase.
    pub window: Window,
    /// When the request was received.
    pub received: Timestamp,
}

/// `erasures.json`: `{"version": 1, "requests": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasuresFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The erasure requests.
    pub requests: Vec<ErasureRequest>,
}

/// Retention limits in days: a default and per-camera overrides.
/// JSON: `{"default_days": 28, "cameras": {"cam-entrance": 7}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Limit for cameras without an override.
    pub default_days: u32,
    /// Per-camera limits.
    #[serde(default)]
    pub cameras: BTreeMap<String, u32>,
}

impl Default for Policy {
    /// 28 days for every camera.
    fn default() -> Self {
        Policy {
            default_days: DEFAULT_RETENTION_DAYS,
            cameras: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// The limit for `camera`.
    pub fn days_for(&self, camera: &str) -> u32 {
        self.cameras.get(camera).copied().unwrap_or(self.default_days)
    }

    /// Checks that every limit is at least one day.
    ///
    /// # Errors
    /// [`AuditError::InvalidPolicy`] naming the offending limit.
    pub fn validate(&self) -> Result<(), AuditError> {
        if self.default_days == 0 {
            return Err(AuditError::InvalidPolicy {
                reason: "default_days is 0".into(),
            });
        }
        if let Some((cam, _)) = self.cameras.iter().find(|(_, d)| **d == 0) {
            return Err(AuditError::InvalidPolicy {
                reason: format!("camera `{cam}` has 0 days"),
            });
        }
        Ok(())
    }

    /// Reads a policy from a JSON file.
    ///
    /// # Errors
    /// [`AuditError::Io`], [`AuditError::Json`] or [`AuditError::InvalidPolicy`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let policy: Policy = read_json(path.as_ref())?;
        policy.validate()?;
        Ok(policy)
    }
}

/// Why a recording is deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DeleteReason {
    /// Its retention period ended and nothing requires keeping it.
    RetentionExpired {
        /// The camera's limit.
        limit_days: u32,
        /// When the period ended (`end + limit`).
        expired_at: Timestamp,
    },
    /// Its retention period, a limit not in whole days (see [`plan_with_retention`]), ended
    /// and nothing requires keeping it.
    RetentionExpiredSeconds {
        /// The limit, in seconds.
        limit_seconds: u64,
        /// When the period ended (`end + limit`).
        expired_at: Timestamp,
    },
    /// An erasure request covers it and nothing requires keeping it.
    ErasureGranted {
        /// The erasure request's reference.
        reference: String,
    },
}

/// Why a recording is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeepReason {
    /// Its retention period has not ended.
    WithinRetention {
        /// When it ends.
        until: Timestamp,
    },
    /// An open incident hold covers it.
    OpenHold {
        /// The incident.
        incident: String,
    },
    /// A pending access request covers it: deleting it would defeat the requester's right of
    /// access.
    PendingAccess {
        /// The access request.
        reference: String,
    },
}

/// A recording to delete now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// The recording.
    pub recording: Recording,
    /// Every rule that calls for its deletion (at least one).
    pub reasons: Vec<DeleteReason>,
}

/// A recording to keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retained {
    /// The recording.
    pub recording: Recording,
    /// Every rule that keeps it (at least one).
    pub reasons: Vec<KeepReason>,
    /// End of its normal retention period (`end + limit`).
    pub expires_at: Timestamp,
    /// Kept past its limit (only ever because of a hold or a pending access request).
    pub over_limit: bool,
}

/// The outcome of an erasure request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErasureOutcome {
    /// Every recording it covers is deleted now.
    Granted,
    /// Some are deleted; the others must be kept (see `refused`).
    PartlyGranted,
    /// None can be deleted (see `refused`).
    Refused,
    /// No stored recording covers the window.
    NoFootage,
}

/// A recording an erasure request cannot erase, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedErasure {
    /// The recording's path.
    pub path: String,
    /// The rules that require keeping it (open holds, pending access requests).
    pub reasons: Vec<KeepReason>,
}

/// The decision on one erasure request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureDecision {
    /// The request's reference.
    pub reference: String,
    /// The outcome.
    pub outcome: ErasureOutcome,
    /// Paths of the recordings erased now.
    pub erased: Vec<String>,
    /// Recordings that must be kept, with the reasons.
    pub refused: Vec<RefusedErasure>,
}

/// The plan: every recording is in exactly one of `delete` and `keep`, in input order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub version: u32,
    /// The instant the plan was made for.
    pub now: Timestamp,
    /// Recordings to delete now.
    pub delete: Vec<Deletion>,
    /// Recordings to keep.
    pub keep: Vec<Retained>,
    /// One decision per erasure request, in input order.
    pub erasures: Vec<ErasureDecision>,
}

impl Plan {
    /// Kept recordings past their limit (each with the hold or access request that keeps it).
    pub fn over_limit(&self) -> impl Iterator<Item = &Retained> {
        self.keep.iter().filter(|r| r.over_limit)
    }
}

/// Everything the planner looks at, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInput {
    /// Stored recordings.
    pub recordings: Vec<Recording>,
    /// Incident holds.
    pub holds: Vec<Hold>,
    /// Access requests.
    pub access: Vec<AccessRequest>,
    /// Erasure requests.
    pub erasures: Vec<ErasureRequest>,
}

/// Names used in errors for each input list (a file path, or a description).
#[derive(Clone, Debug)]
struct Sources {
    recordings: String,
    holds: String,
    access: String,
    erasures: String,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            recordings: "<recordings>".into(),
            holds: "<holds>".into(),
            access: "<access requests>".into(),
            erasures: "<erasure requests>".into(),
        }
    }
}

impl PlanInput {
    /// Checks every record: non-blank ids, windows that do not end before they start, holds
    /// resolved no earlier than opened, requests handled no earlier than received, unique
    /// recording paths.
    ///
    /// # Errors
    /// [`AuditError::InvalidInput`] naming the list, the index and the problem.
    pub fn validate(&self) -> Result<(), AuditError> {
        self.validate_named(&Sources::default())
    }

    fn validate_named(&self, src: &Sources) -> Result<(), AuditError> {
        let bad = |file: &String, what, index, reason: String| AuditError::InvalidInput {
            file: file.clone(),
            what,
            index,
            reason,
        };
        let blank = |s: &str| s.trim().is_empty();
        let mut paths = HashSet::new();
        for (i, r) in self.recordings.iter().enumerate() {
            let f = &src.recordings;
            if blank(&r.camera) {
                return Err(bad(f, "recording", i, "camera is blank".into()));
            }
            if blank(&r.path) {
                return Err(bad(f, "recording", i, "path is blank".into()));
            }
            if r.start > r.end {
                return Err(bad(
                    f,
                    "recording",
                    i,
                    format!("ends ({}) before it starts ({})", r.end, r.start),
                ));
            }
            if !paths.insert(r.path.as_str()) {
                return Err(bad(f, "recording", i, format!("path `{}` listed twice", r.path)));
            }
        }
        for (i, h) in self.holds.iter().enumerate() {
            let f = &src.holds;
            if blank(&h.incident) || blank(&h.camera) {
                return Err(bad(f, "hold", i, "incident or camera is blank".into()));
            }
            h.window.check().map_err(|r| bad(f, "hold", i, r))?;
            if let Some(res) = h.resolved {
                if res < h.opened {
                    return Err(bad(
                        f,
                        "hold",
                        i,
                        format!("resolved ({res}) before opened ({})", h.opened),
                    ));
                }
            }
        }
        for (i, a) in self.access.iter().enumerate() {
            let f = &src.access;
            if blank(&a.reference) || blank(&a.camera) {
                return Err(bad(f, "access request", i, "reference or camera is blank".into()));
            }
            a.window.check().map_err(|r| bad(f, "access request", i, r))?;
            if let Some(done) = a.handled {
                if done < a.received {
                    return Err(bad(
                        f,
                        "access request",
                        i,
                        format!("handled ({done}) before received ({})", a.received),
                    ));
                }
            }
        }
        for (i, e) in self.erasures.iter().enumerate() {
            let f = &src.erasures;
            if blank(&e.reference) || blank(&e.camera) {
                return Err(bad(
                    f,
                    "erasure request",
                    i,
                    "reference or camera is blank".into(),
                ));
            }
            e.window.check().map_err(|r| bad(f, "erasure request", i, r))?;
        }
        Ok(())
    }
}

/// Plans retention at `now`.
///
/// For each recording (camera `c`, span `[start, end]`, limit `L` days for `c`):
/// 1. It is *protected* when an open hold (not `resolved <= now`) or a pending access request
///    (not `handled <= now`) on camera `c` has a window overlapping `[start, end]` (closed
///    intervals: touching counts). A protected recording is always kept, with those reasons;
///    it is `over_limit` when `now >= end + L`. Erasure requests covering it are refused for
///    it, with the same reasons.
/// 2. Otherwise, when `now >= end + L`, it is deleted (retention expired).
/// 3. Otherwise, when an erasure request on `c` overlaps it, it is deleted (erasure granted).
/// 4. Otherwise it is kept within retention.
///
/// A recording is a whole file: an erasure covering part of it erases the file.
///
/// # Errors
/// [`AuditError::InvalidInput`] / [`AuditError::InvalidPolicy`] for invalid input (nothing is
/// planned then).
pub fn plan(input: &PlanInput, policy: &Policy, now: Timestamp) -> Result<Plan, AuditError> {
    plan_named(input, policy, now, &Sources::default())
}

/// Plans retention at `now` as [`plan`] does, with one limit for every camera given in
/// seconds rather than days (a recorder's `--retention 6h`, or seconds in tests).
///
/// A limit of whole days gives the same plan as [`plan`] with that many days
/// ([`DeleteReason::RetentionExpired`]); any other limit is reported as
/// [`DeleteReason::RetentionExpiredSeconds`].
///
/// # Errors
/// [`AuditError::InvalidPolicy`] for a limit under one second or past year 9999,
/// [`AuditError::InvalidInput`] for invalid input (nothing is planned then).
pub fn plan_with_retention(
    input: &PlanInput,
    retention: std::time::Duration,
    now: Timestamp,
) -> Result<Plan, AuditError> {
    let seconds = retention.as_secs();
    if seconds == 0 || i64::try_from(seconds).is_err() {
        return Err(AuditError::InvalidPolicy {
            reason: format!("a retention of {retention:?} (at least one second is needed)"),
        });
    }
    if seconds.is_multiple_of(DAY_SECONDS) {
        let days = u32::try_from(seconds / DAY_SECONDS).map_err(|_| AuditError::InvalidPolicy {
            reason: format!("a retention of {seconds} s is too long"),
        })?;
        let policy = Policy {
            default_days: days,
            cameras: BTreeMap::new(),
        };
        return plan(input, &policy, now);
    }
    input.validate_named(&Sources::default())?;
    plan_limits(input, &|_| Limit::Seconds(seconds), now, &Sources::default())
}

const DAY_SECONDS: u64 = 86_400;

/// A camera's retention limit.
#[derive(Clone, Copy)]
enum Limit {
    Days(u32),
    Seconds(u64),
}

fn plan_named(input: &PlanInput, policy: &Policy, now: Timestamp, src: &Sources) -> Result<Plan, AuditError> {
    policy.validate()?;
    input.validate_named(src)?;
    plan_limits(input, &|camera| Limit::Days(policy.days_for(camera)), now, src)
}

fn plan_limits(
    input: &PlanInput,
    limit_for: &dyn Fn(&str) -> Limit,
    now: Timestamp,
    src: &Sources,
) -> Result<Plan, AuditError> {
    let mut delete = Vec::new();
    let mut keep = Vec::new();
    // Per erasure request: erased paths and refused (path, reasons).
    let mut erased: Vec<Vec<String>> = vec![Vec::new(); input.erasures.len()];
    let mut refused: Vec<Vec<RefusedErasure>> = vec![Vec::new(); input.erasures.len()];
    for (i, rec) in input.recordings.iter().enumerate() {
        let span = Window {
            from: rec.start,
            to: rec.end,
        };
        let limit = limit_for(&rec.camera);
        let expires_at = match limit {
            Limit::Days(days) => rec.end.checked_add_days(days),
            // The caller checked that the limit fits an i64.
            Limit::Seconds(s) => rec.end.checked_add_seconds(i64::try_from(s).unwrap_or(i64::MAX)),
        }
        .ok_or_else(|| AuditError::InvalidInput {
            file: src.recordings.clone(),
            what: "recording",
            index: i,
            reason: "end plus the retention limit is past year 9999".into(),
        })?;
        let expired = now >= expires_at;
        let covers = |camera: &str, window: &Window| camera == rec.camera && window.overlaps(&span);
        let mut protecting: Vec<KeepReason> = input
            .holds
            .iter()
            .filter(|h| h.resolved.is_none_or(|t| t > now) && covers(&h.camera, &h.window))
            .map(|h| KeepReason::OpenHold {
                incident: h.incident.clone(),
            })
            .collect();
        protecting.extend(
            input
                .access
                .iter()
                .filter(|a| a.handled.is_none_or(|t| t > now) && covers(&a.camera, &a.window))
                .map(|a| KeepReason::PendingAccess {
                    reference: a.reference.clone(),
                }),
        );
        let erasing: Vec<usize> = input
            .erasures
            .iter()
            .enumerate()
            .filter(|(_, e)| covers(&e.camera, &e.window))
            .map(|(j, _)| j)
            .collect();
        if !protecting.is_empty() {
            for &j in &erasing {
                refused[j].push(RefusedErasure {
                    path: rec.path.clone(),
                    reasons: protecting.clone(),
                });
            }
            let mut reasons = protecting;
            if !expired {
                reasons.insert(0, KeepReason::WithinRetention { until: expires_at });
            }
            keep.push(Retained {
                recording: rec.clone(),
                reasons,
                expires_at,
                over_limit: expired,
            });
        } else if expired || !erasing.is_empty() {
            let mut reasons = Vec::new();
            if expired {
                reasons.push(match limit {
                    Limit::Days(limit_days) => DeleteReason::RetentionExpired {
                        limit_days,
                        expired_at: expires_at,
                    },
                    Limit::Seconds(limit_seconds) => DeleteReason::RetentionExpiredSeconds {
                        limit_seconds,
                        expired_at: expires_at,
                    },
                });
            }
            for &j in &erasing {
                erased[j].push(rec.path.clone());
                reasons.push(DeleteReason::ErasureGranted {
                    reference: input.erasures[j].reference.clone(),
                });
            }
            delete.push(Deletion {
                recording: rec.clone(),
                reasons,
            });
        } else {
            keep.push(Retained {
                recording: rec.clone(),
                reasons: vec![KeepReason::WithinRetention { until: expires_at }],
                expires_at,
                over_limit: false,
            });
        }
    }
    let erasures = input
        .erasures
        .iter()
        .zip(erased.into_iter().zip(refused))
        .map(|(req, (erased, refused))| {
            let outcome = match (erased.is_empty(), refused.is_empty()) {
                (true, true) => ErasureOutcome::NoFootage,
                (false, true) => ErasureOutcome::Granted,
                (false, false) => ErasureOutcome::PartlyGranted,
                (true, false) => ErasureOutcome::Refused,
            };
            ErasureDecision {
                reference: req.reference.clone(),
                outcome,
                erased,
                refused,
            }
        })
        .collect();
    Ok(Plan {
        version: PLAN_VERSION,
        now,
        delete,
        keep,
        erasures,
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, AuditError> {
    let bytes = std::fs::read(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "read",
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| AuditError::Json {
        file: path.display().to_string(),
        source,
    })
}

fn check_version(file: &Path, found: u32) -> Result<(), AuditError> {
    if found == PLAN_VERSION {
        Ok(())
    } else {
        Err(AuditError::UnsupportedVersion {
            file: file.display().to_string(),
            found,
            supported: PLAN_VERSION,
        })
    }
}

/// Reads a recordings file.
///
/// # Errors
/// [`AuditError::Io`], [`AuditError::Json`], [`AuditError::UnsupportedVersion`].
pub fn load_recordings(path: impl AsRef<Path>) -> Result<Vec<Recording>, AuditError> {
    let f: RecordingsFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.recordings)
}

/// Reads a holds file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_holds(path: impl AsRef<Path>) -> Result<Vec<Hold>, AuditError> {
    let f: HoldsFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.holds)
}

/// Reads an access requests file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_access(path: impl AsRef<Path>) -> Result<Vec<AccessRequest>, AuditError> {
    let f: AccessFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.requests)
}

/// Reads an erasure requests file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_erasures(path: impl AsRef<Path>) -> Result<Vec<ErasureRequest>, AuditError> {
    let f: ErasuresFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.requests)
}

/// Reads the input files and plans ([`plan`]). Files that are `None` count as empty lists.
/// Errors in a record name its file.
///
/// # Errors
/// [`AuditError::Io`], [`AuditError::Json`], [`AuditError::UnsupportedVersion`],
/// [`AuditError::InvalidInput`], [`AuditError::InvalidPolicy`].
pub fn plan_from_files(
    recordings: &Path,
    holds: Option<&Path>,
    access: Option<&Path>,
    erasures: Option<&Path>,
    policy: &Policy,
    now: Timestamp,
) -> Result<Plan, AuditError> {
    let mut src = Sources {
        recordings: recordings.display().to_string(),
        ..Sources::default()
    };
    let mut input = PlanInput {
        recordings: load_recordings(recordings)?,
        ..PlanInput::default()
    };
    if let Some(p) = holds {
        input.holds = load_holds(p)?;
        src.holds = p.display().to_string();
    }
    if let Some(p) = access {
        input.access = load_access(p)?;
        src.access = p.display().to_string();
    }
    if let Some(p) = erasures {
        input.erasures = load_erasures(p)?;
        src.erasures = p.display().to_string();
    }
    plan_named(&input, policy, now, &src)
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::WithinRetention { until } => write!(f, "within retention until {until}"),
            KeepReason::OpenHold { incident } => write!(f, "open incident {incident}"),
            KeepReason::PendingAccess { reference } => write!(f, "pending access request {reference}"),
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::RetentionExpired {
                limit_days,
                expired_at,
            } => {
                write!(f, "retention of {limit_days} days ended {expired_at}")
            }
            DeleteReason::RetentionExpiredSeconds {
                limit_seconds,
                expired_at,
            } => {
                write!(f, "retention of {limit_seconds} s ended {expired_at}")
            }
            DeleteReason::ErasureGranted { reference } => write!(f, "erasure request {reference} granted"),
        }
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A human-readable report: one line per recording (DELETE / KEEP / KEEP OVER LIMIT) and
/// one per erasure request.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "retention plan at {}: delete {}, keep {} ({} over the limit)",
            self.now,
            self.delete.len(),
            self.keep.len(),
            self.over_limit().count()
        )?;
        for d in &self.delete {
            writeln!(
                f,
                "DELETE {} [{}]: {}",
                d.recording.path,
                d.recording.camera,
                join(&d.reasons)
            )?;
        }
        for k in &self.keep {
            let tag = if k.over_limit { "KEEP OVER LIMIT" } else { "KEEP" };
            writeln!(
                f,
                "{tag} {} [{}]: {}",
                k.recording.path,
                k.recording.camera,
                join(&k.reasons)
            )?;
        }
        for e in &self.erasures {
            let outcome = match e.outcome {
                ErasureOutcome::Granted => "granted",
                ErasureOutcome::PartlyGranted => "partly granted",
                ErasureOutcome::Refused => "refused",
                ErasureOutcome::NoFootage => "no footage stored",
            };
            write!(f, "ERASURE {}: {outcome}", e.reference)?;
            if !e.erased.is_empty() {
                write!(f, "; erased {}", e.erased.join(", "))?;
            }
            for r in &e.refused {
                write!(f, "; kept {} ({})", r.path, join(&r.reasons))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
