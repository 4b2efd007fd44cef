//! `plan_with_retention`: one limit in seconds for every camera (a recorder's `--retention`).

use std::time::Duration;

use veil_audit::{
    plan, plan_with_retention, DeleteReason, Hold, KeepReason, PlanInput, Policy, Recording, Timestamp,
    Window,
};

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn input() -> PlanInput {
    let rec = |path: &str, start: &str, end: &str| Recording {
        camera: "cam".into(),
        start: t(start),
        end: t(end),
        path: path.into(),
        bytes: None,
    };
    PlanInput {
        recordings: vec![
            rec("a.mp4", "2026-03-01T10:00:00Z", "2026-03-01T10:00:02Z"),
            rec("b.mp4", "2026-03-01T10:00:02Z", "2026-03-01T10:00:04Z"),
            rec("c.mp4", "2026-03-01T10:00:04Z", "2026-03-01T10:00:06Z"),
        ],
        holds: vec![Hold {
            incident: "INC-9".into(),
            camera: "cam".into(),
            window: Window {
                from: t("2026-03-01T10:00:01Z"),
                to: t("2026-03-01T10:00:01.5Z"),
            },
            opened: t("2026-03-01T11:00:00Z"),
            resolved: None,
        }],
        ..PlanInput::default()
    }
}

#[test]
fn a_limit_in_seconds_deletes_exactly_what_expired_and_keeps_the_held() {
    // At 10:00:10 with 6 s: a (held) and b (ended 10:00:04) are past the limit, c is not.
    let p = plan_with_retention(&input(), Duration::from_secs(6), t("2026-03-01T10:00:10Z")).unwrap();
    assert_eq!(p.delete.len(), 1);
    assert_eq!(p.delete[0].recording.path, "b.mp4");
    assert_eq!(
        p.delete[0].reasons,
        [DeleteReason::RetentionExpiredSeconds {
            limit_seconds: 6,
            expired_at: t("2026-03-01T10:00:10Z"),
        }]
    );
    assert_eq!(
        p.delete[0].reasons[0].to_string(),
        "retention of 6 s ended 2026-03-01T10:00:10Z"
    );
    let over: Vec<_> = p.over_limit().collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].recording.path, "a.mp4");
    assert_eq!(
        over[0].reasons,
        [KeepReason::OpenHold {
            incident: "INC-9".into()
        }]
    );
    // One millisecond earlier, b is still within its period.
    let p = plan_with_retention(&input(), Duration::from_secs(6), t("2026-03-01T10:00:09.999Z")).unwrap();
    assert!(p.delete.is_empty());
}

#[test]
fn whole_days_plan_as_the_policy_does_and_zero_is_refused() {
    let now = t("2026-04-01T00:00:00Z");
    let by_days = plan(&input(), &Policy::default(), now).unwrap();
    let by_seconds = plan_with_retention(&input(), Duration::from_secs(28 * 86_400), now).unwrap();
    assert_eq!(by_days, by_seconds);
    assert!(matches!(
        by_seconds.delete[0].reasons[0],
        DeleteReason::RetentionExpired { limit_days: 28, .. }
    ));
    assert!(plan_with_retention(&input(), Duration::from_millis(500), now).is_err());
}
