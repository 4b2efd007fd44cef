//! Property tests: the planner's invariants over random schedules.

use proptest::prelude::*;
use veil_audit::{
    plan, AccessRequest, DeleteReason, ErasureOutcome, ErasureRequest, Hold, KeepReason, PlanInput, Policy,
    Recording, Timestamp, Window,
};

/// 2026-01-01T00:00:00Z; every time in a schedule is within ~100 days after it.
const BASE: i64 = 1_767_225_600;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const CAMERAS: [&str; 3] = ["cam-a", "cam-b", "cam-c"];

fn ts(offset: i64) -> Timestamp {
    Timestamp::from_unix_seconds(BASE + offset).unwrap()
}

fn window() -> impl Strategy<Value = (usize, Window)> {
    (0..CAMERAS.len(), 0..80 * DAY, 0..3 * DAY).prop_map(|(c, from, len)| {
        (
            c,
            Window {
                from: ts(from),
                to: ts(from + len),
            },
        )
    })
}

/// An optional end (resolved/handled) at or after `start`, sometimes after `now`'s range.
fn maybe_after(start: i64) -> impl Strategy<Value = Option<i64>> {
    prop::option::of(0..60 * DAY).prop_map(move |d| d.map(|d| start + d))
}

fn schedule() -> impl Strategy<Value = (PlanInput, Policy, Timestamp)> {
    let recordings = prop::collection::vec((0..CAMERAS.len(), 0..80 * DAY, 1..6 * HOUR), 0..25);
    let holds = prop::collection::vec(
        (window(), 0..90 * DAY).prop_flat_map(|(w, opened)| (Just(w), Just(opened), maybe_after(opened))),
        0..5,
    );
    let access = prop::collection::vec(
        (window(), 0..90 * DAY).prop_flat_map(|(w, rec)| (Just(w), Just(rec), maybe_after(rec))),
        0..5,
    );
    let erasures = prop::collection::vec((window(), 0..90 * DAY), 0..5);
    let policy = (
        1u32..40,
        prop::collection::btree_map(0..CAMERAS.len(), 1u32..40, 0..3),
    );
    let now = 0..120 * DAY;
    (recordings, holds, access, erasures, policy, now).prop_map(|(r, h, a, e, (default_days, over), now)| {
        let input = PlanInput {
            recordings: r
                .into_iter()
                .enumerate()
                .map(|(i, (c, start, len))| Recording {
                    camera: CAMERAS[c].into(),
                    start: ts(start),
                    end: ts(start + len),
                    path: format!("rec-{i}.mp4"),
                    bytes: None,
                })
                .collect(),
            holds: h
                .into_iter()
                .enumerate()
                .map(|(i, ((c, window), opened, resolved))| Hold {
                    incident: format!("INC-{i}"),
                    camera: CAMERAS[c].into(),
                    window,
                    opened: ts(opened),
                    resolved: resolved.map(ts),
                })
                .collect(),
            access: a
                .into_iter()
                .enumerate()
                .map(|(i, ((c, window), received, handled))| AccessRequest {
                    reference: format!("AR-{i}"),
                    camera: CAMERAS[c].into(),
                    window,
                    received: ts(received),
                    handled: handled.map(ts),
                })
                .collect(),
            erasures: e
                .into_iter()
                .enumerate()
                .map(|(i, ((c, window), received))| ErasureRequest {
                    reference: format!("ER-{i}"),
                    requester: format!("person {i}"),
                    camera: CAMERAS[c].into(),
                    window,
                    received: ts(received),
                })
                .collect(),
        };
        let policy = Policy {
            default_days,
            cameras: over
                .into_iter()
                .map(|(c, d)| (CAMERAS[c].to_string(), d))
                .collect(),
        };
        (input, policy, ts(now))
    })
}

/// Reference predicates, written independently of the planner.
fn span(r: &Recording) -> Window {
    Window {
        from: r.start,
        to: r.end,
    }
}
fn held(input: &PlanInput, r: &Recording, now: Timestamp) -> bool {
    input
        .holds
        .iter()
        .any(|h| h.camera == r.camera && h.window.overlaps(&span(r)) && h.resolved.is_none_or(|t| t > now))
}
fn asked(input: &PlanInput, r: &Recording, now: Timestamp) -> bool {
    input
        .access
        .iter()
        .any(|a| a.camera == r.camera && a.window.overlaps(&span(r)) && a.handled.is_none_or(|t| t > now))
}
fn expired(policy: &Policy, r: &Recording, now: Timestamp) -> bool {
    let days = policy
        .cameras
        .get(&r.camera)
        .copied()
        .unwrap_or(policy.default_days);
    now.unix_seconds() >= r.end.unix_seconds() + i64::from(days) * DAY
}
fn erased_by(e: &ErasureRequest, r: &Recording) -> bool {
    e.camera == r.camera && e.window.overlaps(&span(r))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn planner_invariants((input, policy, now) in schedule()) {
        let p = plan(&input, &policy, now).unwrap();
        let deleted: Vec<&str> = p.delete.iter().map(|d| d.recording.path.as_str()).collect();
        let kept: Vec<&str> = p.keep.iter().map(|k| k.recording.path.as_str()).collect();
        // Every recording exactly once, in input order within each list.
        prop_assert_eq!(deleted.len() + kept.len(), input.recordings.len());
        for r in &input.recordings {
            let d = deleted.contains(&r.path.as_str());
            let k = kept.contains(&r.path.as_str());
            prop_assert!(d != k, "{} in delete: {}, in keep: {}", r.path, d, k);
            let protected = held(&input, r, now) || asked(&input, r, now);
            // Never delete under an open hold or a pending access request.
            if protected {
                prop_assert!(k, "{} is protected but deleted", r.path);
            }
            // Past the limit and unprotected: deleted.
            if !protected && expired(&policy, r, now) {
                prop_assert!(d, "{} expired, unprotected, but kept", r.path);
            }
            // Covered by an erasure and unprotected: deleted now.
            if !protected && input.erasures.iter().any(|e| erased_by(e, r)) {
                prop_assert!(d, "{} erasure requested, unprotected, but kept", r.path);
            }
            // Otherwise: kept.
            if !protected && !expired(&policy, r, now) && !input.erasures.iter().any(|e| erased_by(e, r)) {
                prop_assert!(k, "{} within retention but deleted", r.path);
            }
        }
        for k in &p.keep {
            prop_assert!(!k.reasons.is_empty());
            prop_assert_eq!(k.over_limit, expired(&policy, &k.recording, now));
            // Kept past its limit only because of a hold or an access request, and each reason
            // named is real.
            for reason in &k.reasons {
                match reason {
                    KeepReason::OpenHold { incident } => {
                        let h = input.holds.iter().find(|h| &h.incident == incident).unwrap();
                        prop_assert!(h.camera == k.recording.camera && h.window.overlaps(&span(&k.recording)));
                        prop_assert!(h.resolved.is_none_or(|t| t > now));
                    }
                    KeepReason::PendingAccess { reference } => {
                        let a = input.access.iter().find(|a| &a.reference == reference).unwrap();
                        prop_assert!(a.camera == k.recording.camera && a.window.overlaps(&span(&k.recording)));
                        prop_assert!(a.handled.is_none_or(|t| t > now));
                    }
                    KeepReason::WithinRetention { until } => prop_assert!(*until > now),
                    _ => prop_assert!(false, "unexpected reason"),
                }
            }
            if k.over_limit {
                let within = k.reasons.iter().any(|r| matches!(r, KeepReason::WithinRetention { .. }));
                prop_assert!(!within, "over the limit but within retention");
            }
        }
        for d in &p.delete {
            prop_assert!(!d.reasons.is_empty());
            for reason in &d.reasons {
                if let DeleteReason::RetentionExpired { expired_at, .. } = reason {
                    prop_assert!(*expired_at <= now);
                }
            }
        }
        // Erasure decisions: every covered recording is either erased or refused with reasons.
        prop_assert_eq!(p.erasures.len(), input.erasures.len());
        for (e, dec) in input.erasures.iter().zip(&p.erasures) {
            let covered: Vec<&Recording> = input.recordings.iter().filter(|r| erased_by(e, r)).collect();
            prop_assert_eq!(dec.erased.len() + dec.refused.len(), covered.len());
            for path in &dec.erased {
                prop_assert!(deleted.contains(&path.as_str()));
            }
            for refusal in &dec.refused {
                prop_assert!(kept.contains(&refusal.path.as_str()));
                prop_assert!(!refusal.reasons.is_empty());
            }
            let expected = match (dec.erased.is_empty(), dec.refused.is_empty()) {
                (true, true) => ErasureOutcome::NoFootage,
                (false, true) => ErasureOutcome::Granted,
                (false, false) => ErasureOutcome::PartlyGranted,
                (true, false) => ErasureOutcome::Refused,
            };
            prop_assert_eq!(dec.outcome, expected);
        }
    }

    /// Adding holds and access requests can only keep more: it never causes a deletion.
    #[test]
    fn protection_is_monotone((input, policy, now) in schedule()) {
        let with = plan(&input, &policy, now).unwrap();
        let bare = PlanInput { holds: vec![], access: vec![], ..input.clone() };
        let without = plan(&bare, &policy, now).unwrap();
        for d in &with.delete {
            prop_assert!(without.delete.iter().any(|x| x.recording.path == d.recording.path));
        }
    }

    /// Planning later never resurrects: what is deleted at `now` with every hold resolved and
    /// every request handled by then is still deleted a day later.
    #[test]
    fn deletion_is_stable_over_time((input, policy, now) in schedule()) {
        let settled = PlanInput {
            holds: input.holds.iter().cloned().map(|mut h| { h.resolved = Some(h.resolved.unwrap_or(h.opened).min(now).max(h.opened)); h }).filter(|h| h.resolved.is_some_and(|r| r <= now)).collect(),
            access: input.access.iter().cloned().map(|mut a| { a.handled = Some(a.handled.unwrap_or(a.received).min(now).max(a.received)); a }).filter(|a| a.handled.is_some_and(|r| r <= now)).collect(),
            ..input.clone()
        };
        let a = plan(&settled, &policy, now).unwrap();
        let b = plan(&settled, &policy, now.checked_add_seconds(DAY).unwrap()).unwrap();
        for d in &a.delete {
            prop_assert!(b.delete.iter().any(|x| x.recording.path == d.recording.path));
        }
    }
}
