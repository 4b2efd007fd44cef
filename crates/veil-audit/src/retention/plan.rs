//! The planning itself: which recordings to delete now, which to keep and why, and the
//! decision on each erasure request.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::input::{
    load_access, load_erasures, load_holds, load_recordings, PlanInput, Recording, Sources, PLAN_VERSION,
};
use super::policy::Policy;
use crate::time::{Timestamp, Window};
use crate::AuditError;

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
    /// Deleted before its retention period ended, to keep the footage within a storage
    /// budget: the oldest recording no hold or pending access request protects
    /// ([`crate::apply_storage_budget`]). Retention is a maximum, not a minimum.
    EarlyStorageBudget {
        /// The budget, in bytes.
        max_disk: u64,
        /// The bytes of footage kept before this recording went.
        footage: u64,
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
