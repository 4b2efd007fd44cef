//! `veil_export_run` with `audit_log`: the rule that every export is logged holds for C
//! callers too. An entry that breaks a rule refuses the export before any work; an entry
//! that cannot be appended afterwards withdraws the export (no file left); a logged export's
//! entry carries its manifest's SHA-256. Real footage, real models (the first second of the
//! inzage fixture, analysed by the export itself).
#![cfg(feature = "export")]
#![allow(clippy::unwrap_used, unsafe_code, missing_docs)]

use std::path::{Path, PathBuf};

use veil_ffi::veil_status;

#[path = "../../veil-redact/tests/support/dirs.rs"]
mod dirs;
use dirs::listing;

#[path = "support/export.rs"]
mod support;
use support::{c, run_export};

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-ffi-export-audit", name)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/inzage/group_pan.mp4")
}

/// Export the first half second of the fixture into `dir`, logged in `log` with `entry`;
/// the status and the error message.
fn run(dir: &Path, log: &Path, entry: &str) -> (veil_status, String) {
    let input = c(fixture().to_str().unwrap());
    let output = c(dir.join("export.mp4").to_str().unwrap());
    let log = c(log.to_str().unwrap());
    let entry = c(entry);
    let start = c("2026-03-01T09:00:00Z");
    run_export(|o| {
        o.input = input.as_ptr();
        o.output = output.as_ptr();
        o.to_s = 0.5;
        o.audit_log = log.as_ptr();
        o.audit_entry_json = entry.as_ptr();
        o.recording_start = start.as_ptr();
    })
}

const ENTRY: &str = r#"{"actor": "j.jansen", "action": "export", "reason": "inzage request",
    "basis": {"kind": "inzage", "reference": "REQ-7"}, "camera": "lobby"}"#;

#[test]
fn an_entry_that_breaks_a_rule_refuses_the_export_before_the_work() {
    let d = out_dir("refused");
    let log = d.join("audit.jsonl");
    let (status, message) = run(
        &d,
        &log,
        r#"{"actor": "j.jansen", "action": "export", "reason": "inzage request", "camera": "lobby"}"#,
    );
    assert_eq!(status, veil_status::VEIL_STATUS_AUDIT_INVALID_ENTRY, "{message}");
    assert!(message.contains("purpose"), "{message}");
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

#[test]
fn an_export_that_cannot_be_logged_is_withdrawn() {
    let d = out_dir("withdrawn");
    let log = d.join("log-is-a-directory");
    std::fs::create_dir(&log).unwrap();
    let (status, message) = run(&d, &log, ENTRY);
    assert_eq!(status, veil_status::VEIL_STATUS_EXPORT_WITHDRAWN, "{message}");
    assert!(
        message.contains("export withdrawn because it could not be logged"),
        "{message}"
    );
    assert_eq!(
        listing(&d),
        ["log-is-a-directory"],
        "no file of the export is left"
    );
}

#[test]
fn a_logged_export_names_its_manifest() {
    let d = out_dir("logged");
    let log = d.join("audit.jsonl");
    let (status, message) = run(&d, &log, ENTRY);
    assert_eq!(status, veil_status::VEIL_STATUS_OK, "{message}");
    let manifest = std::fs::read(d.join("export.mp4.manifest.json")).unwrap();
    let hash: String = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&manifest))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains(&hash),
        "the entry carries the manifest's SHA-256: {text}"
    );
    assert!(text.contains(r#""action":"export""#), "{text}");
}
