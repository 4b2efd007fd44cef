//! Several real processes appending to one log at once.
//!
//! The test binary re-invokes itself: with `VEIL_AUDIT_CHILD_LOG` set, the `child_appender`
//! test acts as one appending process; without it, it does nothing.

use std::process::Command;

use veil_audit::{verify_file, Action, AuditLog, NewEntry};

const PROCESSES: usize = 4;
const APPENDS: usize = 50;

#[test]
fn child_appender() {
    let Ok(path) = std::env::var("VEIL_AUDIT_CHILD_LOG") else {
        return;
    };
    let id = std::env::var("VEIL_AUDIT_CHILD_ID").unwrap();
    let log = AuditLog::new(path);
    for i in 0..APPENDS {
        let e = NewEntry::new(
            format!("process-{id}"),
            Action::ConfigChange,
            format!("append {i}"),
        );
        log.append(&e, &[]).unwrap();
    }
}

#[test]
fn concurrent_processes_keep_one_valid_chain() {
    let dir = crate::common::temp_dir("concurrent");
    let path = dir.join("audit.jsonl");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|id| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency::child_appender",
                    "--test-threads",
                    "1",
                    "--nocapture",
                ])
                .env("VEIL_AUDIT_CHILD_LOG", &path)
                .env("VEIL_AUDIT_CHILD_ID", id.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact(), "{:?}", s.problem);
    assert_eq!(s.entries, (PROCESSES * APPENDS) as u64);
    let entries = AuditLog::new(&path).read_entries().unwrap();
    for id in 0..PROCESSES {
        let actor = format!("process-{id}");
        let mine: Vec<_> = entries.iter().filter(|e| e.actor == actor).collect();
        assert_eq!(mine.len(), APPENDS, "{actor}");
        // Each process's own appends keep their order.
        for (i, e) in mine.iter().enumerate() {
            assert_eq!(e.reason, format!("append {i}"));
        }
    }
}
