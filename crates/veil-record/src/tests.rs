//! Unit tests: durations, the index, retention over a directory (with stand-in segment
//! files: retention never reads them).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{verify_file, Action, AuditLog, Hold, Timestamp, Window};

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn entry(file: &str, start: &str, end: &str) -> IndexEntry {
    IndexEntry {
        version: INDEX_VERSION,
        file: file.into(),
        start: t(start),
        end: t(end),
        frames: 20,
        sha256: "ab".repeat(32),
        gaps: Vec::new(),
        deleted: None,
        recovered: None,
        key: None,
    }
}

/// A camera directory with three 2 s segments from 10:00:00.
fn camera_dir(root: &Path) -> PathBuf {
    let cam = root.join("cam-1");
    std::fs::create_dir_all(&cam).unwrap();
    let index = Index::new(&cam);
    for (f, s, e) in [
        (
            "20260301T100000Z.mp4",
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:02Z",
        ),
        (
            "20260301T100002Z.mp4",
            "2026-03-01T10:00:02Z",
            "2026-03-01T10:00:04Z",
        ),
        (
            "20260301T100004Z.mp4",
            "2026-03-01T10:00:04Z",
            "2026-03-01T10:00:06Z",
        ),
    ] {
        std::fs::write(cam.join(f), b"segment").unwrap();
        index.append(&entry(f, s, e)).unwrap();
    }
    cam
}

#[test]
fn durations() {
    for (s, secs) in [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("6h", 21_600),
        ("28d", 2_419_200),
    ] {
        assert_eq!(parse_duration(s).unwrap(), Duration::from_secs(secs), "{s}");
    }
    for bad in [
        "",
        "s",
        "0",
        "0s",
        "1.5h",
        "-5s",
        "5 m",
        "5w",
        "99999999999999999999d",
        "40000d",
    ] {
        assert!(
            matches!(parse_duration(bad), Err(RecordError::InvalidDuration { .. })),
            "{bad}"
        );
    }
}

#[test]
fn segment_names_are_utc_seconds() {
    assert_eq!(
        segment_name(t("2026-03-01T09:05:07.25+01:00")),
        "20260301T080507Z"
    );
}

#[test]
fn retention_deletes_expired_segments_audits_first_and_marks_the_index() {
    let root = scratch("retention");
    let cam = camera_dir(&root);
    let log = root.join("audit.jsonl");
    let hold = Hold {
        incident: "INC-4".into(),
        camera: "cam-1".into(),
        window: Window {
            from: t("2026-03-01T10:00:03Z"),
            to: t("2026-03-01T10:00:03Z"),
        },
        opened: t("2026-03-01T10:01:00Z"),
        resolved: None,
    };
    let opts = |dry_run| RetentionOptions {
        retention: Duration::from_secs(6),
        requests: Requests {
            holds: vec![hold.clone()],
            ..Requests::default()
        },
        now: t("2026-03-01T10:00:11Z"),
        dry_run,
        audit: Some(AuditTarget {
            log: log.clone(),
            actor: "recorder".into(),
        }),
    };
    // A dry run reports and changes nothing.
    let before = std::fs::read(cam.join(INDEX_FILE)).unwrap();
    let o = apply_retention(&root, &opts(true)).unwrap();
    assert_eq!(o.deleted.len(), 1);
    assert_eq!(std::fs::read(cam.join(INDEX_FILE)).unwrap(), before);
    assert!(cam.join("20260301T100000Z.mp4").exists() && !log.exists());
    // At 10:00:11 with 6 s: the first ended 10:00:02 (gone), the second is held, the third
    // ends 10:00:06 (kept until 10:00:12).
    let o = apply_retention(&root, &opts(false)).unwrap();
    assert_eq!(
        o.deleted,
        [SegmentDeletion {
            camera: "cam-1".into(),
            file: "20260301T100000Z.mp4".into(),
            reason: "retention of 6 s ended 2026-03-01T10:00:08Z".into(),
            how: "overwritten with zeros and removed".into(),
            early: false,
        }]
    );
    assert_eq!(o.held.len(), 1);
    assert_eq!(o.held[0].file, "20260301T100002Z.mp4");
    assert!(o.held[0].reasons.contains("INC-4"));
    assert_eq!(o.kept, 1);
    assert!(!cam.join("20260301T100000Z.mp4").exists());
    assert!(cam.join("20260301T100002Z.mp4").exists() && cam.join("20260301T100004Z.mp4").exists());
    let entries = Index::new(&cam).read().unwrap();
    assert_eq!(entries.len(), 3, "the index keeps the history");
    let d = entries[0].deleted.as_ref().unwrap();
    // The time of the removal itself (the rule was evaluated for `now`).
    assert!(d.time > t("2026-03-01T10:00:11Z") && d.reason.contains("10:00:08Z"));
    assert!(entries[1].deleted.is_none() && entries[2].deleted.is_none());
    let audit = AuditLog::new(&log).read_entries().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, Action::Delete);
    assert_eq!(audit[0].camera.as_deref(), Some("cam-1"));
    assert!(audit[0].reason.contains("20260301T100000Z.mp4") && audit[0].reason.contains(&"ab".repeat(32)));
    assert!(verify_file(&log).unwrap().is_intact());
    // Again: nothing more to do, nothing logged twice.
    assert!(apply_retention(&root, &opts(false)).unwrap().deleted.is_empty());
    assert_eq!(AuditLog::new(&log).read_entries().unwrap().len(), 1);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn an_unwritable_audit_log_deletes_nothing() {
    let root = scratch("no-audit");
    let cam = camera_dir(&root);
    let opts = RetentionOptions {
        retention: Duration::from_secs(1),
        requests: Requests::default(),
        now: t("2026-03-02T00:00:00Z"),
        dry_run: false,
        audit: Some(AuditTarget {
            log: root.join("missing-dir/audit.jsonl"),
            actor: "recorder".into(),
        }),
    };
    assert!(matches!(
        apply_retention(&root, &opts),
        Err(RecordError::Audit(_))
    ));
    assert_eq!(
        std::fs::read_dir(&cam)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "mp4"))
            .count(),
        3
    );
    assert!(Index::new(&cam)
        .read()
        .unwrap()
        .iter()
        .all(|e| e.deleted.is_none()));
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn an_unreadable_holds_file_is_an_error_not_an_empty_list() {
    let root = scratch("holds");
    let path = root.join("holds.json");
    std::fs::write(&path, r#"{"version":1,"holds":[{"incident":"X"}]}"#).unwrap();
    assert!(HoldsWatch::new(Some(path.clone())).current().is_err());
    assert!(HoldsWatch::new(Some(root.join("missing.json")))
        .current()
        .is_err());
    assert_eq!(HoldsWatch::new(None).current().unwrap(), Requests::default());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_damaged_index_line_is_named() {
    let root = scratch("index");
    let cam = camera_dir(&root);
    let mut text = std::fs::read_to_string(cam.join(INDEX_FILE)).unwrap();
    text.push_str("{\"version\":1,\"file\":\n");
    std::fs::write(cam.join(INDEX_FILE), text).unwrap();
    match Index::new(&cam).read() {
        Err(RecordError::BadIndex { line: 4, .. }) => {}
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn camera_ids_that_are_not_plain_names_are_refused() {
    let root = scratch("ids");
    for id in ["../x", "a/b", "", ".hidden"] {
        let toml = format!(
            "[camera]\nid = {id:?}\npurposes = [\"safety\"]\nresponsible = \"x\"\n\n[[zones]]\nkind = \"custom\"\nlabel = \"z\"\npolygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]\n"
        );
        let Ok(camera) = veil_core::CameraConfig::from_toml_str(&toml, "inline") else {
            continue; // refused by the zone file already
        };
        let mut cfg = RecorderConfig::new("in.ts", camera, &root);
        cfg.audit = Some(AuditTarget {
            log: root.join("audit.jsonl"),
            actor: "recorder".into(),
        });
        assert!(
            matches!(Recorder::new(cfg), Err(RecordError::InvalidOption { .. })),
            "{id:?}"
        );
    }
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    std::fs::remove_dir_all(root).unwrap();
}
