//! `redact audit ...` and `redact retention plan` as a user runs them.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{redact, root, scratch, stderr};

fn run(args: &[&str]) -> std::process::Output {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    redact(&args)
}

fn append(log: &Path, extra: &[&str]) -> std::process::Output {
    let zones = root().join("fixtures/vtest-zones.toml");
    let mut args = vec![
        "audit",
        "append",
        log.to_str().unwrap(),
        "--zones",
        zones.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn append_verify_and_tamper() {
    let dir = scratch("audit");
    let log = dir.join("audit.jsonl");
    let o = append(
        &log,
        &[
            "--actor",
            "j.jansen",
            "--action",
            "view",
            "--reason",
            "break-in check",
            "--purpose",
            "safety",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, b"{\"version\":1}").unwrap();
    let o = append(
        &log,
        &[
            "--manifest",
            manifest.to_str().unwrap(),
            "--actor",
            "j.jansen",
            "--action",
            "export",
            "--reason",
            "inzage request",
            "--basis",
            "inzage:REQ-7",
            "--window-from",
            "2026-03-01T09:00:00Z",
            "--window-to",
            "2026-03-01T09:05:00Z",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["audit", "verify", log.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("intact") && out.contains("2 entries"), "{out}");

    // a purpose the camera does not have is refused, and nothing is written
    let before = std::fs::read(&log).unwrap();
    let o = append(
        &log,
        &[
            "--actor",
            "x",
            "--action",
            "view",
            "--reason",
            "curious",
            "--purpose",
            "marketing",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    // so is a disclosure without a legal basis
    let o = append(
        &log,
        &[
            "--actor",
            "x",
            "--action",
            "disclose",
            "--reason",
            "asked",
            "--recipient",
            "police",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), before);

    // flip one byte of the first entry's reason: verify names line 1
    let text = String::from_utf8(before)
        .unwrap()
        .replacen("break-in", "break-on", 1);
    std::fs::write(&log, text).unwrap();
    let o = run(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("error: ") && e.contains("line 1"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn retention_plan_from_the_protocol() {
    let dir = scratch("retention");
    let rec = dir.join("recordings.json");
    std::fs::write(
        &rec,
        r#"{"version":1,"recordings":[
            {"camera":"entrance-north","start":"2026-01-01T00:00:00Z","end":"2026-01-01T01:00:00Z","path":"/rec/old.mkv"},
            {"camera":"entrance-north","start":"2026-01-02T00:00:00Z","end":"2026-01-02T01:00:00Z","path":"/rec/held.mkv"},
            {"camera":"entrance-north","start":"2026-02-04T00:00:00Z","end":"2026-02-04T01:00:00Z","path":"/rec/new.mkv"}]}"#,
    )
    .unwrap();
    let holds = dir.join("holds.json");
    std::fs::write(
        &holds,
        r#"{"version":1,"holds":[{"incident":"INC-1","camera":"entrance-north",
            "window":{"from":"2026-01-02T00:10:00Z","to":"2026-01-02T00:20:00Z"},"opened":"2026-01-03T00:00:00Z"}]}"#,
    )
    .unwrap();
    let o = run(&[
        "retention",
        "plan",
        "--recordings",
        rec.to_str().unwrap(),
        "--holds",
        holds.to_str().unwrap(),
        "--now",
        "2026-02-05T00:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths = |k: &str| -> Vec<String> {
        plan[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["recording"]["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(paths("delete"), vec!["/rec/old.mkv"]);
    let mut keep = paths("keep");
    keep.sort();
    assert_eq!(keep, vec!["/rec/held.mkv", "/rec/new.mkv"]);

    // a broken input names its file
    std::fs::write(&holds, "{not json").unwrap();
    let o = run(&[
        "retention",
        "plan",
        "--recordings",
        rec.to_str().unwrap(),
        "--holds",
        holds.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("holds.json"), "{}", stderr(&o));
}
