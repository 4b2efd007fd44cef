//! The retention examples from the camera protocols, and the JSON input files.

use std::path::Path;

use veil_audit::{
    plan, plan_from_files, AccessRequest, AuditError, DeleteReason, ErasureOutcome, ErasureRequest, Hold,
    KeepReason, Plan, PlanInput, Policy, Recording, Timestamp, Window,
};

use crate::common::{t, temp_dir};

/// A one-hour recording on cam-entrance starting at `start`.
fn rec(path: &str, start: &str) -> Recording {
    let start = t(start);
    Recording {
        camera: "cam-entrance".into(),
        start,
        end: start.checked_add_seconds(3600).unwrap(),
        path: path.into(),
        bytes: None,
    }
}

fn window(from: &str, to: &str) -> Window {
    Window::new(t(from), t(to)).unwrap()
}

fn hold(resolved: Option<&str>) -> Hold {
    Hold {
        incident: "INC-31".into(),
        camera: "cam-entrance".into(),
        window: window("2026-03-01T00:20:00Z", "2026-03-01T00:25:00Z"),
        opened: t("2026-03-02T08:00:00Z"),
        resolved: resolved.map(t),
    }
}

fn access(handled: Option<&str>) -> AccessRequest {
    AccessRequest {
        reference: "AR-12".into(),
        camera: "cam-entrance".into(),
        window: window("2026-03-01T00:00:00Z", "2026-03-01T00:10:00Z"),
        received: t("2026-03-20T10:00:00Z"),
        handled: handled.map(t),
    }
}

fn erasure(from: &str, to: &str) -> ErasureRequest {
    ErasureRequest {
        reference: "ER-4".into(),
        requester: "resident, Dorpsstraat 3".into(),
        camera: "cam-entrance".into(),
        window: window(from, to),
        received: t("2026-03-05T09:00:00Z"),
    }
}

/// Five weeks after 2026-03-01.
const FIVE_WEEKS_LATER: &str = "2026-04-05T00:00:00Z";

fn deleted(p: &Plan) -> Vec<&str> {
    p.delete.iter().map(|d| d.recording.path.as_str()).collect()
}

#[test]
fn five_week_old_recording_without_incident_is_deleted() {
    let input = PlanInput {
        recordings: vec![rec("a.mp4", "2026-03-01T00:00:00Z")],
        ..Default::default()
    };
    let p = plan(&input, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert_eq!(deleted(&p), ["a.mp4"]);
    assert_eq!(
        p.delete[0].reasons,
        [DeleteReason::RetentionExpired {
            limit_days: 28,
            expired_at: t("2026-03-29T01:00:00Z")
        }]
    );
    assert!(p.keep.is_empty());
}

#[test]
fn recording_is_kept_for_exactly_its_limit() {
    let input = PlanInput {
        recordings: vec![rec("a.mp4", "2026-03-01T00:00:00Z")],
        ..Default::default()
    };
    let just_before = plan(&input, &Policy::default(), t("2026-03-29T00:59:59Z")).unwrap();
    assert!(just_before.delete.is_empty());
    assert_eq!(
        just_before.keep[0].reasons,
        [KeepReason::WithinRetention {
            until: t("2026-03-29T01:00:00Z")
        }]
    );
    let at_limit = plan(&input, &Policy::default(), t("2026-03-29T01:00:00Z")).unwrap();
    assert_eq!(deleted(&at_limit), ["a.mp4"]);
}

#[test]
fn recording_under_open_incident_is_kept_then_deleted_after_resolution() {
    let recordings = vec![
        rec("incident.mp4", "2026-03-01T00:00:00Z"),
        rec("other.mp4", "2026-03-01T02:00:00Z"),
    ];
    let open = PlanInput {
        recordings: recordings.clone(),
        holds: vec![hold(None)],
        ..Default::default()
    };
    let p = plan(&open, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert_eq!(deleted(&p), ["other.mp4"]);
    assert_eq!(p.keep.len(), 1);
    let kept = &p.keep[0];
    assert_eq!(kept.recording.path, "incident.mp4");
    assert_eq!(
        kept.reasons,
        [KeepReason::OpenHold {
            incident: "INC-31".into()
        }]
    );
    assert!(kept.over_limit);
    assert_eq!(p.over_limit().count(), 1);

    // Resolved on 1 April: at the five-week mark it goes.
    let resolved = PlanInput {
        recordings,
        holds: vec![hold(Some("2026-04-01T12:00:00Z"))],
        ..Default::default()
    };
    let p = plan(&resolved, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert_eq!(deleted(&p), ["incident.mp4", "other.mp4"]);
    assert_eq!(p.over_limit().count(), 0);
}

#[test]
fn erasure_under_open_incident_is_refused_with_the_reason() {
    let input = PlanInput {
        recordings: vec![rec("incident.mp4", "2026-03-01T00:00:00Z")],
        holds: vec![hold(None)],
        erasures: vec![erasure("2026-03-01T00:30:00Z", "2026-03-01T00:35:00Z")],
        ..Default::default()
    };
    let p = plan(&input, &Policy::default(), t("2026-03-06T00:00:00Z")).unwrap();
    assert!(p.delete.is_empty());
    let d = &p.erasures[0];
    assert_eq!(d.outcome, ErasureOutcome::Refused);
    assert!(d.erased.is_empty());
    assert_eq!(d.refused.len(), 1);
    assert_eq!(d.refused[0].path, "incident.mp4");
    assert_eq!(
        d.refused[0].reasons,
        [KeepReason::OpenHold {
            incident: "INC-31".into()
        }]
    );
}

#[test]
fn erasure_is_granted_when_nothing_requires_keeping() {
    let input = PlanInput {
        recordings: vec![
            rec("mine.mp4", "2026-03-01T00:00:00Z"),
            rec("later.mp4", "2026-03-01T05:00:00Z"),
        ],
        erasures: vec![erasure("2026-03-01T00:30:00Z", "2026-03-01T00:35:00Z")],
        ..Default::default()
    };
    // Well within retention: erasure deletes now.
    let p = plan(&input, &Policy::default(), t("2026-03-06T00:00:00Z")).unwrap();
    assert_eq!(deleted(&p), ["mine.mp4"]);
    assert_eq!(
        p.delete[0].reasons,
        [DeleteReason::ErasureGranted {
            reference: "ER-4".into()
        }]
    );
    assert_eq!(p.erasures[0].outcome, ErasureOutcome::Granted);
    assert_eq!(p.erasures[0].erased, ["mine.mp4"]);
}

#[test]
fn erasure_partly_granted_and_without_footage() {
    let mut h = hold(None);
    h.window = window("2026-03-01T01:30:00Z", "2026-03-01T01:40:00Z");
    let input = PlanInput {
        recordings: vec![
            rec("00.mp4", "2026-03-01T00:00:00Z"),
            rec("01.mp4", "2026-03-01T01:00:00Z"),
        ],
        holds: vec![h],
        erasures: vec![
            erasure("2026-03-01T00:30:00Z", "2026-03-01T01:30:00Z"),
            erasure("2026-02-01T00:00:00Z", "2026-02-01T01:00:00Z"),
        ],
        ..Default::default()
    };
    let p = plan(&input, &Policy::default(), t("2026-03-06T00:00:00Z")).unwrap();
    assert_eq!(p.erasures[0].outcome, ErasureOutcome::PartlyGranted);
    assert_eq!(p.erasures[0].erased, ["00.mp4"]);
    assert_eq!(p.erasures[0].refused[0].path, "01.mp4");
    assert_eq!(p.erasures[1].outcome, ErasureOutcome::NoFootage);
}

#[test]
fn pending_access_request_keeps_footage_past_the_limit_until_handled() {
    let recordings = vec![rec("asked.mp4", "2026-03-01T00:00:00Z")];
    let pending = PlanInput {
        recordings: recordings.clone(),
        access: vec![access(None)],
        ..Default::default()
    };
    let p = plan(&pending, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert!(p.delete.is_empty());
    assert_eq!(
        p.keep[0].reasons,
        [KeepReason::PendingAccess {
            reference: "AR-12".into()
        }]
    );
    assert!(p.keep[0].over_limit);

    // An erasure request by someone else cannot remove it either.
    let mut with_erasure = pending.clone();
    with_erasure
        .erasures
        .push(erasure("2026-03-01T00:00:00Z", "2026-03-01T00:05:00Z"));
    let p = plan(&with_erasure, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert!(p.delete.is_empty());
    assert_eq!(p.erasures[0].outcome, ErasureOutcome::Refused);
    assert_eq!(
        p.erasures[0].refused[0].reasons,
        [KeepReason::PendingAccess {
            reference: "AR-12".into()
        }]
    );

    // Handled on 4 April: deleted on the 5th.
    let handled = PlanInput {
        recordings,
        access: vec![access(Some("2026-04-04T00:00:00Z"))],
        ..Default::default()
    };
    let p = plan(&handled, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert_eq!(deleted(&p), ["asked.mp4"]);
    // A handled time in the future means not handled yet.
    let p = plan(&handled, &Policy::default(), t("2026-04-03T00:00:00Z")).unwrap();
    assert!(p.delete.is_empty());
}

#[test]
fn hold_on_another_camera_or_window_does_not_keep() {
    let mut other_cam = hold(None);
    other_cam.camera = "cam-yard".into();
    let mut other_time = hold(None);
    other_time.window = window("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z");
    let input = PlanInput {
        recordings: vec![rec("a.mp4", "2026-03-01T00:00:00Z")],
        holds: vec![other_cam, other_time],
        ..Default::default()
    };
    let p = plan(&input, &Policy::default(), t(FIVE_WEEKS_LATER)).unwrap();
    assert_eq!(deleted(&p), ["a.mp4"]);
}

#[test]
fn per_camera_override() {
    let mut yard = rec("yard.mp4", "2026-03-01T00:00:00Z");
    yard.camera = "cam-yard".into();
    let input = PlanInput {
        recordings: vec![rec("entrance.mp4", "2026-03-01T00:00:00Z"), yard],
        ..Default::default()
    };
    let policy = Policy {
        default_days: 28,
        cameras: [("cam-yard".to_string(), 7)].into(),
    };
    let p = plan(&input, &policy, t("2026-03-10T00:00:00Z")).unwrap();
    assert_eq!(deleted(&p), ["yard.mp4"]);
    assert_eq!(
        p.delete[0].reasons,
        [DeleteReason::RetentionExpired {
            limit_days: 7,
            expired_at: t("2026-03-08T01:00:00Z")
        }]
    );
    let bad = Policy {
        default_days: 28,
        cameras: [("cam-yard".to_string(), 0)].into(),
    };
    assert!(matches!(
        plan(&input, &bad, t(FIVE_WEEKS_LATER)),
        Err(AuditError::InvalidPolicy { .. })
    ));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn plan_from_json_files() {
    let dir = temp_dir("plan-files");
    let recordings = write(
        &dir,
        "recordings.json",
        r#"{"version": 1, "recordings": [
            {"camera": "cam-entrance", "start": "2026-03-01T00:00:00Z", "end": "2026-03-01T01:00:00Z", "path": "/nvr/a.mp4"},
            {"camera": "cam-entrance", "start": "2026-03-01T03:00:00+01:00", "end": "2026-03-01T04:00:00+01:00", "path": "/nvr/b.mp4"},
            {"camera": "cam-entrance", "start": "2026-04-01T00:00:00Z", "end": "2026-04-01T01:00:00Z", "path": "/nvr/c.mp4"}
        ]}"#,
    );
    let holds = write(
        &dir,
        "holds.json",
        r#"{"version": 1, "holds": [
            {"incident": "INC-31", "camera": "cam-entrance",
             "window": {"from": "2026-03-01T00:20:00Z", "to": "2026-03-01T00:25:00Z"},
             "opened": "2026-03-02T08:00:00Z", "resolved": null}
        ]}"#,
    );
    let access = write(&dir, "access.json", r#"{"version": 1, "requests": []}"#);
    let erasures = write(
        &dir,
        "erasures.json",
        r#"{"version": 1, "requests": [
            {"reference": "ER-4", "requester": "resident", "camera": "cam-entrance",
             "window": {"from": "2026-04-01T00:10:00Z", "to": "2026-04-01T00:11:00Z"},
             "received": "2026-04-02T09:00:00Z"}
        ]}"#,
    );
    let now = t(FIVE_WEEKS_LATER);
    let p = plan_from_files(
        &recordings,
        Some(&holds),
        Some(&access),
        Some(&erasures),
        &Policy::default(),
        now,
    )
    .unwrap();
    assert_eq!(deleted(&p), ["/nvr/b.mp4", "/nvr/c.mp4"]);
    assert_eq!(p.keep[0].recording.path, "/nvr/a.mp4");
    assert_eq!(p.erasures[0].outcome, ErasureOutcome::Granted);
    // The plan serialises for the CLI, and reads back.
    let json = serde_json::to_string_pretty(&p).unwrap();
    assert!(json.contains("\"rule\": \"open-hold\""), "{json}");
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), p);

    // Optional files may be left out.
    let p = plan_from_files(&recordings, None, None, None, &Policy::default(), now).unwrap();
    assert_eq!(p.delete.len(), 2);
}

#[test]
fn bad_input_files_get_errors_naming_the_file() {
    let dir = temp_dir("plan-bad");
    let now = Timestamp::parse(FIVE_WEEKS_LATER).unwrap();
    let backwards = write(
        &dir,
        "backwards.json",
        r#"{"version": 1, "recordings": [
            {"camera": "c", "start": "2026-03-01T02:00:00Z", "end": "2026-03-01T01:00:00Z", "path": "x"}]}"#,
    );
    let err = plan_from_files(&backwards, None, None, None, &Policy::default(), now).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::InvalidInput {
                what: "recording",
                index: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("backwards.json"), "{err}");

    let good = write(&dir, "good.json", r#"{"version": 1, "recordings": []}"#);
    // A misspelt member must not silently mean "still open" or "resolved".
    let typo = write(
        &dir,
        "typo.json",
        r#"{"version": 1, "holds": [{"incident": "I", "camera": "c",
            "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T01:00:00Z"},
            "opened": "2026-03-01T00:00:00Z", "resolvd": "2026-03-02T00:00:00Z"}]}"#,
    );
    let err = plan_from_files(&good, Some(&typo), None, None, &Policy::default(), now).unwrap_err();
    assert!(matches!(err, AuditError::Json { .. }), "{err}");
    assert!(err.to_string().contains("typo.json"), "{err}");

    let bad_time = write(
        &dir,
        "bad-time.json",
        r#"{"version": 1, "recordings": [{"camera": "c", "start": "yesterday", "end": "2026-03-01T01:00:00Z", "path": "x"}]}"#,
    );
    assert!(matches!(
        plan_from_files(&bad_time, None, None, None, &Policy::default(), now),
        Err(AuditError::Json { .. })
    ));
    let v2 = write(&dir, "v2.json", r#"{"version": 2, "recordings": []}"#);
    assert!(matches!(
        plan_from_files(&v2, None, None, None, &Policy::default(), now),
        Err(AuditError::UnsupportedVersion { found: 2, .. })
    ));
    let dup = write(
        &dir,
        "dup.json",
        r#"{"version": 1, "recordings": [
            {"camera": "c", "start": "2026-03-01T00:00:00Z", "end": "2026-03-01T01:00:00Z", "path": "x"},
            {"camera": "c", "start": "2026-03-01T01:00:00Z", "end": "2026-03-01T02:00:00Z", "path": "x"}]}"#,
    );
    assert!(matches!(
        plan_from_files(&dup, None, None, None, &Policy::default(), now),
        Err(AuditError::InvalidInput { index: 1, .. })
    ));
    let missing = dir.join("missing.json");
    assert!(matches!(
        plan_from_files(&missing, None, None, None, &Policy::default(), now),
        Err(AuditError::Io { .. })
    ));
}

#[test]
fn plan_report_is_readable() {
    let input = PlanInput {
        recordings: vec![
            rec("incident.mp4", "2026-03-01T00:00:00Z"),
            rec("old.mp4", "2026-03-01T02:00:00Z"),
        ],
        holds: vec![hold(None)],
        erasures: vec![erasure("2026-03-01T00:30:00Z", "2026-03-01T00:35:00Z")],
        ..Default::default()
    };
    let text = plan(&input, &Policy::default(), t(FIVE_WEEKS_LATER))
        .unwrap()
        .to_string();
    assert!(
        text.contains("DELETE old.mp4 [cam-entrance]: retention of 28 days ended 2026-03-29T03:00:00Z"),
        "{text}"
    );
    assert!(
        text.contains("KEEP OVER LIMIT incident.mp4 [cam-entrance]: open incident INC-31"),
        "{text}"
    );
    assert!(
        text.contains("ERASURE ER-4: refused; kept incident.mp4 (open incident INC-31)"),
        "{text}"
    );
}

/// A storage budget deletes the oldest unprotected recordings early (issue 32, item 4):
/// protected ones never, retention's own deletions not counted twice, and a budget that
/// protected footage alone breaks says so.
#[test]
fn a_storage_budget_plans_early_deletions_oldest_first_and_never_of_protected_footage() {
    let sized = |path: &str, start: &str| Recording {
        bytes: Some(1000),
        ..rec(path, start)
    };
    let input = PlanInput {
        recordings: vec![
            sized("expired.mp4", "2026-02-01T00:00:00Z"),
            sized("held.mp4", "2026-03-01T00:00:00Z"),
            sized("newest.mp4", "2026-03-03T00:00:00Z"),
            sized("older.mp4", "2026-03-02T00:00:00Z"),
        ],
        holds: vec![hold(None)],
        ..PlanInput::default()
    };
    let now = t("2026-03-10T00:00:00Z");
    let mut p = plan(&input, &Policy::default(), now).unwrap();
    assert_eq!(p.delete.len(), 1, "retention deletes the expired one");
    let b = veil_audit::apply_storage_budget(&mut p, 2000).unwrap();
    assert_eq!((b.early, b.footage, b.over_budget), (1, 2000, false));
    let early: Vec<_> = p
        .delete
        .iter()
        .filter(|d| matches!(d.reasons[..], [DeleteReason::EarlyStorageBudget { .. }]))
        .map(|d| d.recording.path.as_str())
        .collect();
    assert_eq!(
        early,
        ["older.mp4"],
        "the oldest unprotected goes first, the held one stays"
    );
    assert!(
        p.to_string()
            .contains("DELETE older.mp4 [cam-entrance]: early: storage budget"),
        "{p}"
    );
    let kept: Vec<_> = p.keep.iter().map(|k| k.recording.path.as_str()).collect();
    assert_eq!(kept, ["held.mp4", "newest.mp4"]);
    // Protected footage alone over the budget: everything unprotected goes, and it is said.
    let mut p = plan(&input, &Policy::default(), now).unwrap();
    let b = veil_audit::apply_storage_budget(&mut p, 500).unwrap();
    assert_eq!((b.early, b.footage, b.over_budget), (2, 1000, true));
    assert_eq!(p.keep.len(), 1);
    // Every recording needs its size.
    let mut p = plan(
        &PlanInput {
            recordings: vec![rec("unsized.mp4", "2026-03-02T00:00:00Z")],
            ..PlanInput::default()
        },
        &Policy::default(),
        now,
    )
    .unwrap();
    let e = veil_audit::apply_storage_budget(&mut p, 500)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsized.mp4") && e.contains("bytes"), "{e}");
}
