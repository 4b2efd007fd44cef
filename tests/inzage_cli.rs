//! `redact analyze` / `redact export` as a user runs them, on the annotated group clip
//! (fixtures/inzage/group_pan.mp4) with the real models.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::process::Output;

use common::{redact, root, scratch};

fn run(args: &[&OsStr]) -> Output {
    redact(args)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn analyze_then_export_with_audit_entry() {
    let dir = scratch("inzage");
    let clip = root().join("fixtures/inzage/group_pan.mp4");
    let tracks = dir.join("tracks.json");
    let sheet = dir.join("sheet.png");
    let o = run(&[
        "analyze".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        tracks.as_os_str(),
        "--sheet".as_ref(),
        sheet.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&tracks).unwrap()).unwrap();
    assert_eq!(
        doc["version"], 2,
        "tracks files record identity (tracklets, events) since version 2"
    );
    assert!(
        doc["tracks"].as_array().unwrap().len() >= 6,
        "six people in the group photo"
    );
    assert_eq!(&std::fs::read(&sheet).unwrap()[1..4], b"PNG");

    let out = dir.join("export.mp4");
    let log = dir.join("audit.jsonl");
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--tracks".as_ref(),
        tracks.as_os_str(),
        "--keep-track".as_ref(),
        "1".as_ref(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "j.jansen".as_ref(),
        "--reason".as_ref(),
        "inzage".as_ref(),
        "--basis".as_ref(),
        "inzage:REQ-1".as_ref(),
        "--camera".as_ref(),
        "lobby".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let manifest = dir.join("export.mp4.manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(m["requester_tracks"], serde_json::json!([1]));
    // the audit entry carries the manifest's hash and the real time window
    let line = std::fs::read_to_string(&log).unwrap();
    let entry: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(entry["action"], "export");
    assert_eq!(
        entry["manifest_sha256"].as_str().unwrap(),
        veil::audit::sha256_file(&manifest).unwrap()
    );
    assert_eq!(entry["window"]["from"], "2026-03-01T09:00:00Z");
    let o = run(&["audit".as_ref(), "verify".as_ref(), log.as_os_str()]);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn export_refusals_leave_nothing() {
    let dir = scratch("inzage-refusals");
    let clip = root().join("fixtures/inzage/group_pan.mp4");
    let out = dir.join("export.mp4");
    // nobody at the point: an error, not a silent full redaction
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-at".as_ref(),
        "0.5@2,2".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).starts_with("error: "), "{}", err(&o));
    assert!(
        err(&o).contains("nobody is tracked at pixel (2, 2) at 0.5 s"),
        "the refusal names the point: {}",
        err(&o)
    );
    assert!(!out.exists(), "no export after a refusal");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
    // an export that could not be logged is refused before any work (purpose not allowed)
    let zones = root().join("fixtures/vtest-zones.toml");
    let log = dir.join("audit.jsonl");
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-none".as_ref(),
        "--zones".as_ref(),
        zones.as_os_str(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "x".as_ref(),
        "--reason".as_ref(),
        "curious".as_ref(),
        "--basis".as_ref(),
        "own-report:R-1".as_ref(),
        "--purpose".as_ref(),
        "marketing".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("the export could not be logged") && e.contains("marketing"),
        "the refusal names the log rule and the purpose: {e}"
    );
    assert!(!log.exists(), "refused before anything was logged");
    assert!(!out.exists(), "refused before the work");
    // no requester choice at all is a usage error
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    assert!(!log.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
}
