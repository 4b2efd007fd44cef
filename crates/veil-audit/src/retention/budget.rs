//! A storage budget applied to a plan: the early deletions a recorder with `--max-disk`
//! makes, planned ahead (`redact retention plan --max-disk SIZE`).

use super::plan::{DeleteReason, Deletion, KeepReason, Plan};
use crate::AuditError;

/// What [`apply_storage_budget`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetPlan {
    /// Recordings moved from `keep` to `delete`, oldest first.
    pub early: usize,
    /// The bytes of footage kept afterwards.
    pub footage: u64,
    /// The footage is still over the budget: what is left is protected (open holds,
    /// pending access requests) or past its limit and kept for that reason.
    pub over_budget: bool,
}

/// Keep the footage of `plan` within `max_disk` bytes: while the recordings kept hold more,
/// the oldest (by start) that is kept only because its retention period has not ended (no
/// open hold, no pending access request) is deleted early instead, with
/// [`DeleteReason::EarlyStorageBudget`]. Protected recordings are never deleted early. Every
/// recording must have its `bytes`.
///
/// ```
/// use veil_audit::{apply_storage_budget, plan, PlanInput, Policy, Recording, Timestamp};
/// let t = |s: &str| Timestamp::parse(s).unwrap();
/// let rec = |path: &str, start: &str| Recording {
///     camera: "cam".into(), start: t(start), end: t(start).checked_add_seconds(60).unwrap(),
///     path: path.into(), bytes: Some(600),
/// };
/// let input = PlanInput {
///     recordings: vec![rec("b.mp4", "2026-03-02T00:00:00Z"), rec("a.mp4", "2026-03-01T00:00:00Z")],
///     ..PlanInput::default()
/// };
/// let mut p = plan(&input, &Policy::default(), t("2026-03-03T00:00:00Z")).unwrap();
/// let b = apply_storage_budget(&mut p, 1000).unwrap();
/// assert_eq!((b.early, b.footage, b.over_budget), (1, 600, false));
/// assert_eq!(p.delete[0].recording.path, "a.mp4"); // the oldest goes first
/// ```
///
/// # Errors
/// [`AuditError::InvalidInput`] for a recording without `bytes` (nothing is changed then).
pub fn apply_storage_budget(plan: &mut Plan, max_disk: u64) -> Result<BudgetPlan, AuditError> {
    let mut footage = 0u64;
    for (i, k) in plan.keep.iter().enumerate() {
        let b = k.recording.bytes.ok_or_else(|| AuditError::InvalidInput {
            file: "recordings".into(),
            what: "recording",
            index: i,
            reason: format!(
                "{}: no \"bytes\": a storage budget needs every recording's size",
                k.recording.path
            ),
        })?;
        footage = footage.saturating_add(b);
    }
    let mut order: Vec<usize> = (0..plan.keep.len())
        .filter(|&i| {
            plan.keep[i]
                .reasons
                .iter()
                .all(|r| matches!(r, KeepReason::WithinRetention { .. }))
        })
        .collect();
    order.sort_by_key(|&i| (plan.keep[i].recording.start, plan.keep[i].recording.path.clone()));
    // (index in `keep`, footage before it went), oldest first.
    let mut early: Vec<(usize, u64)> = Vec::new();
    for i in order {
        if footage <= max_disk {
            break;
        }
        early.push((i, footage));
        footage -= plan.keep[i].recording.bytes.unwrap_or(0);
    }
    let n = early.len();
    let mut gone: Vec<bool> = vec![false; plan.keep.len()];
    let mut deletions = Vec::with_capacity(n);
    for &(i, before) in &early {
        gone[i] = true;
        deletions.push(Deletion {
            recording: plan.keep[i].recording.clone(),
            reasons: vec![DeleteReason::EarlyStorageBudget {
                max_disk,
                footage: before,
            }],
        });
    }
    let mut k = 0;
    plan.keep.retain(|_| {
        k += 1;
        !gone[k - 1]
    });
    plan.delete.extend(deletions);
    Ok(BudgetPlan {
        early: n,
        footage,
        over_budget: footage > max_disk,
    })
}
