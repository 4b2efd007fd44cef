//! The review strip of `redact export --review` and the contact sheet of `redact analyze
//! --sheet` are outputs like the others (issue 25): staged and published with the export,
//! never written over the input or another file of the command, an existing file refused
//! without `--force`, withdrawn with an export that could not be logged; `analyze --zones`
//! masks the zones in the contact sheet. Run with the real models.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{listing, redact, root, scratch, stderr};

/// A copy of the fixture clip in `dir` (the exports take its first second).
fn recording(dir: &Path) -> PathBuf {
    let p = dir.join("recording.mp4");
    std::fs::copy(root().join("fixtures/vtest.mp4"), &p).unwrap();
    p
}

fn export_args<'a>(input: &'a Path, out: &'a Path, review: &'a Path) -> Vec<&'a OsStr> {
    vec![
        "export".as_ref(),
        input.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "--keep-none".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        "--review".as_ref(),
        review.as_os_str(),
    ]
}

/// Exit 1 with one `error:` line containing `what`.
fn assert_refused(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    assert_eq!(stderr(o).lines().count(), 1, "{}", stderr(o));
    assert!(
        stderr(o).starts_with("error: ") && stderr(o).contains(what),
        "{}",
        stderr(o)
    );
}

#[test]
fn a_review_strip_over_the_input_an_output_or_an_existing_file_is_refused() {
    let dir = scratch("review-refused");
    let input = recording(&dir);
    let evidence = std::fs::read(&input).unwrap();
    let out = dir.join("inzage.mp4");

    // The recording itself, also spelt another way, and with --force: refused, untouched.
    let dotted = dir.join(".").join("recording.mp4");
    for review in [&input, &dotted] {
        for force in [false, true] {
            let mut args = export_args(&input, &out, review);
            if force {
                args.push("--force".as_ref());
            }
            assert_refused(&redact(&args), "would overwrite the input");
            assert_eq!(std::fs::read(&input).unwrap(), evidence, "the recording changed");
            assert_eq!(listing(&dir), ["recording.mp4"]);
        }
    }

    // Another output of the same export.
    let manifest = dir.join("inzage.mp4.manifest.json");
    assert_refused(
        &redact(&export_args(&input, &out, &out)),
        "the review strip would overwrite the export",
    );
    assert_refused(
        &redact(&export_args(&input, &out, &manifest)),
        "the review strip would overwrite the manifest",
    );
    assert_eq!(listing(&dir), ["recording.mp4"]);

    // An existing file: refused without --force, nothing else written.
    let review = dir.join("review.png");
    std::fs::write(&review, b"yesterday's review").unwrap();
    let o = redact(&export_args(&input, &out, &review));
    assert_refused(&o, "already exists");
    assert!(stderr(&o).contains("review.png"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&review).unwrap(), b"yesterday's review");
    assert_eq!(listing(&dir), ["recording.mp4", "review.png"]);

    // The contact sheet over the tracks file or the zone file.
    let tracks = dir.join("tracks.json");
    let zones = root().join("fixtures/vtest-zones.toml");
    for (sheet, what) in [(&tracks, "tracks file"), (&zones, "zone file")] {
        let o = redact(&[
            "analyze".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            tracks.as_os_str(),
            "--zones".as_ref(),
            zones.as_os_str(),
            "--sheet".as_ref(),
            sheet.as_os_str(),
        ]);
        assert_refused(&o, &format!("the contact sheet would overwrite the {what}"));
    }
    assert_eq!(listing(&dir), ["recording.mp4", "review.png"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With --force the strip replaces an old one and is published with the export; an export
/// that cannot be logged (the log is a directory) is withdrawn with its review strip.
#[test]
fn the_review_strip_is_published_and_withdrawn_with_the_export() {
    let dir = scratch("review-published");
    let clip = root().join("fixtures/vtest.mp4");
    let out = dir.join("inzage.mp4");
    let review = dir.join("review.png");
    std::fs::write(&review, b"old").unwrap();
    let mut args = export_args(&clip, &out, &review);
    args.push("--force".as_ref());
    let o = redact(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(&std::fs::read(&review).unwrap()[1..4], b"PNG");
    assert_eq!(
        listing(&dir),
        ["inzage.mp4", "inzage.mp4.manifest.json", "review.png"]
    );

    let dir = scratch("review-withdrawn");
    let log = dir.join("audit-log-dir");
    std::fs::create_dir(&log).unwrap();
    let (out, review) = (dir.join("inzage.mp4"), dir.join("review.png"));
    let mut args = export_args(&clip, &out, &review);
    args.extend::<[&OsStr; 10]>([
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "j.jansen".as_ref(),
        "--reason".as_ref(),
        "inzage".as_ref(),
        "--basis".as_ref(),
        "inzage:REQ-1".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    let o = redact(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("withdrawn"), "{}", stderr(&o));
    assert_eq!(
        listing(&dir),
        ["audit-log-dir"],
        "the review strip went with the export"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `analyze --zones`: the contact sheet is written with the zones masked (the library's
/// tests check the pixels); the tracks file is the same as without.
#[test]
fn analyze_takes_the_zones_for_the_contact_sheet() {
    let dir = scratch("sheet-zones");
    let clip = root().join("fixtures/vtest.mp4");
    let (tracks, sheet) = (dir.join("tracks.json"), dir.join("sheet.png"));
    let zones = root().join("fixtures/vtest-zones.toml");
    let o = redact(&[
        "analyze".as_ref(),
        clip.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        tracks.as_os_str(),
        "--zones".as_ref(),
        zones.as_os_str(),
        "--sheet".as_ref(),
        sheet.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(&std::fs::read(&sheet).unwrap()[1..4], b"PNG");
    assert_eq!(listing(&dir), ["sheet.png", "tracks.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
