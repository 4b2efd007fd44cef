//! Unit tests of the storage budget: the site's oldest unprotected segment is chosen across
//! cameras, held and requested footage never is, an early deletion is audited, erased and
//! marked in the index as retention's are, and the measured rate.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{Action, AuditLog, Hold, Timestamp, Window};

use super::budget::{bytes_per_hour, delete_early, footage_bytes, oldest_unprotected, Oldest};
use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-record-budget-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap()
}

/// Segments of 1000 bytes for `camera`, starting at the given offsets (s) before now,
/// 2 s long, plain.
fn camera(root: &Path, camera: &str, starts_ago: &[i64]) -> PathBuf {
    let cam = root.join(camera);
    std::fs::create_dir_all(&cam).unwrap();
    let now = Timestamp::now().unix_millis();
    let index = Index::new(&cam);
    for ago in starts_ago {
        let start = at(now - ago * 1000);
        let file = format!("{}.mp4", segment_name(start));
        std::fs::write(cam.join(&file), vec![7u8; 1000]).unwrap();
        index
            .append(&IndexEntry {
                version: INDEX_VERSION,
                file,
                start,
                end: at(start.unix_millis() + 2000),
                frames: 50,
                sha256: "cd".repeat(32),
                gaps: Vec::new(),
                deleted: None,
                recovered: None,
                key: None,
            })
            .unwrap();
    }
    cam
}

fn hold(camera: &str, incident: &str, window: Window) -> Hold {
    Hold {
        incident: incident.into(),
        camera: camera.into(),
        window,
        opened: Timestamp::now(),
        resolved: None,
    }
}

fn unprotected(o: Oldest) -> (String, String) {
    match o {
        Oldest::Unprotected { camera, file, .. } => (camera, file),
        Oldest::AllProtected(p) => panic!("all protected: {p:?}"),
    }
}

#[test]
fn the_sites_oldest_unprotected_segment_goes_first_and_held_footage_never() {
    let root = scratch("oldest");
    let a = camera(&root, "cam-a", &[100, 60]);
    let b = camera(&root, "cam-b", &[80, 40]);
    let files = |cam: &Path| -> Vec<IndexEntry> { Index::new(cam).read().unwrap() };
    let retention = Duration::from_secs(28 * 86_400);
    // Nothing protects anything: cam-a's first segment is the site's oldest.
    let o = unprotected(oldest_unprotected(&root, &Requests::default(), retention).unwrap());
    assert_eq!(o, ("cam-a".to_string(), files(&a)[0].file.clone()));
    // A hold over it (a window touching it counts): cam-b's first is next.
    let first = &files(&a)[0];
    let requests = Requests {
        holds: vec![hold(
            "cam-a",
            "INC-7",
            Window {
                from: first.start,
                to: first.start,
            },
        )],
        ..Requests::default()
    };
    let o = unprotected(oldest_unprotected(&root, &requests, retention).unwrap());
    assert_eq!(o, ("cam-b".to_string(), files(&b)[0].file.clone()));
    assert_eq!(footage_bytes(&root), 4000);

    // Deleted early: audited first with its reason, overwritten and removed, marked.
    let log = root.join("audit.jsonl");
    let target = AuditTarget {
        log: log.clone(),
        actor: "recorder".into(),
    };
    let reason = format!("{EARLY_REASON} (storage budget 3.9 KiB, footage 3.9 KiB)");
    let d = delete_early(&b, "cam-b", &o.1, &reason, &target)
        .unwrap()
        .unwrap();
    assert!(d.early && d.how.contains("overwritten"), "{d:?}");
    assert!(!b.join(&o.1).exists());
    let marked = &files(&b)[0];
    assert!(
        marked.deleted.as_ref().unwrap().reason.starts_with(EARLY_REASON),
        "{marked:?}"
    );
    let entries = AuditLog::new(&log).read_entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, Action::Delete);
    assert!(entries[0].reason.contains(&o.1) && entries[0].reason.contains("early: storage budget"));
    assert_eq!(entries[0].camera.as_deref(), Some("cam-b"));
    assert_eq!(footage_bytes(&root), 3000);
    // A segment already gone is not deleted twice.
    assert!(delete_early(&b, "cam-b", &o.1, &reason, &target)
        .unwrap()
        .is_none());

    // Holds over all of cam-a's footage and an access request over cam-b's: nothing may go,
    // and what protects it is named.
    let all = Window {
        from: at(0),
        to: at(Timestamp::now().unix_millis() + 60_000),
    };
    let requests = Requests {
        holds: vec![hold("cam-a", "INC-7", all)],
        access: vec![veil_audit::AccessRequest {
            reference: "INZ-3".into(),
            camera: "cam-b".into(),
            window: all,
            received: Timestamp::now(),
            handled: None,
        }],
        ..Requests::default()
    };
    match oldest_unprotected(&root, &requests, retention).unwrap() {
        Oldest::AllProtected(p) => {
            assert_eq!(
                p,
                [
                    "open incident INC-7 (cam-a)",
                    "pending access request INZ-3 (cam-b)"
                ]
            )
        }
        Oldest::Unprotected { file, .. } => panic!("{file} is protected"),
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn bytes_per_hour_is_the_sites_rate_over_recent_footage() {
    let root = scratch("rate");
    assert_eq!(bytes_per_hour(&root, Duration::from_secs(3600)), None);
    // Two cameras, each 1000 bytes per 2 s: 1.8 MB an hour each.
    camera(&root, "cam-a", &[10, 8]);
    camera(&root, "cam-b", &[10]);
    let rate = bytes_per_hour(&root, Duration::from_secs(3600)).unwrap();
    assert!((rate - 3_600_000.0).abs() < 1.0, "{rate}");
    // Footage older than the window does not count.
    assert_eq!(bytes_per_hour(&root, Duration::from_secs(1)), None);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn capacity_warns_when_fewer_days_fit_than_retention_asks() {
    let c = Capacity {
        bytes_per_hour: 1.34e9,
        room: 300 << 30,
        days_fit: (300u64 << 30) as f64 / 1.34e9 / 24.0,
        retention: Duration::from_secs(28 * 86_400),
    };
    assert!(c.short());
    assert!(
        c.warning()
            .starts_with("retention 28 d asked, 10 d fit at the current rate (1.2 GiB an hour in 300 GiB)"),
        "{}",
        c.warning()
    );
    let roomy = Capacity { days_fit: 30.0, ..c };
    assert!(!roomy.short());
}

#[test]
fn sizes_parse_and_print() {
    assert_eq!(parse_size("6M").unwrap(), 6 << 20);
    assert_eq!(parse_size("800g").unwrap(), 800 << 30);
    assert_eq!(parse_size("2TB").unwrap(), 2 << 40);
    for bad in ["", "G", "1.5G", "0", "-1G", "6X", "99999999999T"] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
    assert_eq!(format_size(1000), "1000 B");
    assert_eq!(format_size(1536), "1.5 KiB");
    assert_eq!(format_size(800 << 30), "800 GiB");
    assert_eq!(format_span(Duration::from_secs(28 * 86_400)), "28 d");
    assert_eq!(format_span(Duration::from_secs(9 * 86_400 + 43_200)), "9.5 d");
    assert_eq!(format_span(Duration::from_secs(180)), "3 min");
}

#[test]
fn a_budget_applied_once_deletes_the_oldest_unprotected_until_the_footage_fits() {
    let root = scratch("apply");
    let a = camera(&root, "cam-a", &[100, 60]);
    let b = camera(&root, "cam-b", &[80, 40]);
    let first = Index::new(&a).read().unwrap()[0].clone();
    let log = root.join("audit.jsonl");
    let opts = |dry_run: bool, holds: Vec<Hold>| RetentionOptions {
        retention: Duration::from_secs(28 * 86_400),
        requests: Requests {
            holds,
            ..Requests::default()
        },
        now: Timestamp::now(),
        dry_run,
        audit: (!dry_run).then(|| AuditTarget {
            log: log.clone(),
            actor: "dpo".into(),
        }),
    };
    let budget = StorageBudget {
        max_disk: Some(2500),
        min_free: None,
    };
    let held = vec![hold(
        "cam-a",
        "INC-2",
        Window {
            from: first.start,
            to: first.end,
        },
    )];
    // A dry run: cam-a's first is held, so cam-b's first and cam-a's second would go
    // (4000 bytes down to 2000), and nothing changes.
    let plan = apply_budget(&root, budget, &opts(true, held.clone()), &[]).unwrap();
    let names: Vec<(&str, &str)> = plan
        .deleted
        .iter()
        .map(|d| (d.camera.as_str(), d.file.as_str()))
        .collect();
    let (a_files, b_files) = (Index::new(&a).read().unwrap(), Index::new(&b).read().unwrap());
    assert_eq!(
        names,
        [
            ("cam-b", b_files[0].file.as_str()),
            ("cam-a", a_files[1].file.as_str())
        ]
    );
    assert!(plan.deleted.iter().all(|d| d.early
        && d.reason
            .starts_with("early: storage budget (storage budget 2.4 KiB, footage ")));
    assert_eq!(plan.full, None);
    assert!(!log.exists() && footage_bytes(&root) == 4000);
    // A segment a retention pass of the same dry run deletes already counts as gone.
    let plan = apply_budget(&root, budget, &opts(true, held.clone()), &plan.deleted[..1]).unwrap();
    assert_eq!(plan.deleted.len(), 1);
    assert_eq!(plan.deleted[0].file, a_files[1].file);
    // For real: deleted, audited, marked.
    let done = apply_budget(&root, budget, &opts(false, held.clone()), &[]).unwrap();
    assert_eq!(done.deleted.len(), 2);
    assert_eq!(footage_bytes(&root), 2000);
    let deletes = AuditLog::new(&log)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Delete && e.reason.contains("early: storage budget"))
        .count();
    assert_eq!(deletes, 2);
    assert!(Index::new(&b).read().unwrap()[0].deleted.is_some());
    // With everything left held, a smaller budget cannot be met: it says what fills it.
    let all = vec![
        hold(
            "cam-a",
            "INC-2",
            Window {
                from: at(0),
                to: at(i64::from(i32::MAX) * 1000),
            },
        ),
        hold(
            "cam-b",
            "INC-3",
            Window {
                from: at(0),
                to: at(i64::from(i32::MAX) * 1000),
            },
        ),
    ];
    let small = StorageBudget {
        max_disk: Some(1000),
        min_free: None,
    };
    let out = apply_budget(&root, small, &opts(false, all), &[]).unwrap();
    assert!(out.deleted.is_empty());
    let full = out.full.unwrap();
    assert!(
        full.contains("open incident INC-2 (cam-a), open incident INC-3 (cam-b)"),
        "{full}"
    );
    std::fs::remove_dir_all(root).unwrap();
}
