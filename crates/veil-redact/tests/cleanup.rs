//! Clean-up once the video is in place (issue 20): the export's video is written first, then
//! its review strip, manifest, one-shot tracks file and audit entry. A failure at any of those
//! later steps must take every file of the export back, the video included: a video without
//! its manifest, or an export nobody logged, must not look like a finished export. Each test
//! makes one later step fail for real (a directory that does not exist, a log that is a
//! directory) on the real pipeline, then checks that nothing is left. Later tests: existing
//! destinations are refused and untouched, and a crash between logging and publishing (a
//! fault hook that aborts the process) leaves no visible output.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use veil_audit::{Action, LegalBasis, NewEntry, Timestamp};
use veil_redact::{analyze, export, AnalyzeOptions, ExportAudit, ExportOptions, RedactError, Requester};

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-redact-cleanup", name)
}

fn clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/inzage/group_pan.mp4")
}

/// The first second of the clip, analysed once (a tracks file, so that most tests export
/// without running the detectors again).
fn tracks() -> &'static PathBuf {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let d = out_dir("analysis");
        let mut o = AnalyzeOptions::new(clip(), d.join("tracks.json"));
        o.to = Some(1.0);
        analyze(&o).unwrap();
        d.join("tracks.json")
    })
}

/// An export of the analysed second into `dir`, with a review strip.
fn options(dir: &Path) -> ExportOptions {
    let mut o = ExportOptions::new(clip(), dir.join("export.mp4"));
    o.to = Some(1.0);
    o.tracks = Some(tracks().clone());
    o.requester = Requester::None;
    o.review = Some(dir.join("review.png"));
    o
}

#[test]
fn the_export_works_before_anything_is_broken() {
    // The control: the same export with nothing broken leaves all its files.
    let d = out_dir("control");
    let rep = export(&options(&d)).unwrap();
    assert!(rep.manifest.counts.frames >= 12);
    assert_eq!(
        listing(&d),
        ["export.mp4", "export.mp4.manifest.json", "review.png"]
    );
}

#[test]
fn a_manifest_that_cannot_be_written_takes_the_video_back() {
    let d = out_dir("manifest");
    let mut o = options(&d);
    o.manifest = Some(d.join("no-such-dir/export.json"));
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Io { .. }), "{e}");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

#[test]
fn one_shot_tracks_that_cannot_be_saved_take_the_export_back() {
    let d = out_dir("tracks");
    let mut o = options(&d);
    o.tracks = None;
    o.tracks_out = Some(d.join("no-such-dir/tracks.json"));
    // (a missing directory is now found when the outputs are staged, before the work)
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Io { .. }), "{e}");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

#[test]
fn an_export_that_cannot_be_logged_is_withdrawn() {
    let d = out_dir("audit");
    // The log's path is a directory: the entry is valid, but appending it fails.
    let log = d.join("audit-log-dir");
    std::fs::create_dir(&log).unwrap();
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request")
        .basis("inzage:REQ-7".parse::<LegalBasis>().unwrap())
        .camera("lobby");
    let start = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
    let mut o = options(&d);
    o.audit = Some(ExportAudit::new(&log, entry, Vec::new(), start));
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::ExportWithdrawn { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("export withdrawn because it could not be logged"),
        "{e}"
    );
    assert_eq!(
        listing(&d),
        ["audit-log-dir"],
        "only the (empty) log directory is left"
    );
    assert!(listing(&log).is_empty());
}

#[test]
fn an_export_that_could_never_be_logged_is_refused_before_the_work() {
    let d = out_dir("refused");
    // No basis: the entry breaks the protocol, which is known before any frame is decoded.
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request").camera("lobby");
    let start = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
    let mut o = options(&d);
    o.audit = Some(ExportAudit::new(d.join("audit.jsonl"), entry, Vec::new(), start));
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Audit(_)), "{e}");
    assert!(
        e.to_string()
            .contains("needs a purpose (or a police-order or inzage basis)"),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

#[test]
fn a_logged_export_names_its_manifest_in_the_log() {
    let d = out_dir("logged");
    let log = d.join("audit.jsonl");
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request")
        .basis("inzage:REQ-7".parse::<LegalBasis>().unwrap())
        .camera("lobby");
    let start = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
    let mut o = options(&d);
    o.audit = Some(ExportAudit::new(&log, entry, Vec::new(), start));
    let rep = export(&o).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let manifest_hash = veil_redact::sha256_file(&rep.manifest_path).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(
        text.contains(&manifest_hash),
        "the entry carries the manifest's SHA-256: {text}"
    );
    assert!(
        text.contains("\"2026-03-01T09:00:00Z\""),
        "the window starts at the recording start: {text}"
    );
}

#[test]
fn an_existing_destination_is_refused_before_the_work_and_left_untouched() {
    // Issue 28: the library replaced an earlier export at the same path (and took the
    // destination away when the export then failed). Each of the outputs counts.
    for name in ["export.mp4", "export.mp4.manifest.json", "review.png"] {
        let d = out_dir(&format!("exists-{name}"));
        std::fs::write(d.join(name), b"earlier evidence").unwrap();
        let e = export(&options(&d)).unwrap_err();
        assert!(matches!(e, RedactError::OutputExists { .. }), "{name}: {e}");
        assert!(e.to_string().contains(name), "{e}");
        assert_eq!(std::fs::read(d.join(name)).unwrap(), b"earlier evidence");
        assert_eq!(listing(&d), [name], "{name}: other files left");
    }
}

#[test]
fn overwrite_replaces_an_existing_export_when_asked() {
    let d = out_dir("overwrite");
    std::fs::write(d.join("export.mp4"), b"earlier export").unwrap();
    let mut o = options(&d);
    o.overwrite = true;
    let rep = export(&o).unwrap();
    assert_ne!(std::fs::read(d.join("export.mp4")).unwrap(), b"earlier export");
    assert_eq!(
        veil_redact::sha256_file(&d.join("export.mp4")).unwrap(),
        rep.manifest.output.sha256
    );
    assert_eq!(
        listing(&d),
        ["export.mp4", "export.mp4.manifest.json", "review.png"]
    );
}

/// Set in the child process of the crash test: the directory to export into.
const CRASH_CHILD: &str = "VEIL_TEST_CRASH_CHILD_DIR";

fn logged_options(d: &Path) -> ExportOptions {
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request")
        .basis("inzage:REQ-7".parse::<LegalBasis>().unwrap())
        .camera("lobby");
    let start = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
    let mut o = options(d);
    o.audit = Some(ExportAudit::new(d.join("audit.jsonl"), entry, Vec::new(), start));
    o
}

#[test]
fn a_crash_between_logging_and_publishing_leaves_no_visible_output() {
    if let Some(d) = std::env::var_os(CRASH_CHILD) {
        // The child: die (no unwinding, no destructors) right after the audit entry.
        veil_redact::fault::set_hook(|point| {
            if point == veil_redact::fault::LOGGED_NOT_PUBLISHED {
                std::process::abort();
            }
        });
        let _ = export(&logged_options(Path::new(&d)));
        panic!("the export returned: the fault hook was never reached");
    }
    tracks(); // analysed here, not in the child
    let d = out_dir("crash");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_crash_between_logging_and_publishing_leaves_no_visible_output",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD, &d)
        .status()
        .unwrap();
    assert!(!status.success(), "the child did not crash: {status}");
    // The entry is in the log; no output is visible under its name (the crash leaves only
    // hidden staging files, which a later run or the operator removes).
    let log = std::fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let visible: Vec<String> = listing(&d).into_iter().filter(|n| !n.starts_with('.')).collect();
    assert_eq!(visible, ["audit.jsonl"]);
}
