//! Unit tests of erasure: crypto-erasure of encrypted segments (stand-in segments encrypted
//! with real keys), requests and holds read from the audit log, the guards on a pass.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{Action, AuditLog, Entry, LegalBasis, NewEntry, Timestamp, Window};
use veil_crypt::{EncryptingFile, SecretKey};

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-record-erasure-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn entry(file: &str, start: &str, end: &str, key: Option<String>) -> IndexEntry {
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
        key,
    }
}

/// Three 2 s segments of `cam-1` from 10:00:00 (stand-in bytes), encrypted as the recorder
/// does when `site` is given.
fn camera_dir(root: &Path, site: Option<&[veil_crypt::PublicKey]>) -> PathBuf {
    let cam = root.join("cam-1");
    std::fs::create_dir_all(cam.join(KEYS_DIR)).unwrap();
    let index = Index::new(&cam);
    for (stem, s, e) in [
        ("20260301T100000Z", "2026-03-01T10:00:00Z", "2026-03-01T10:00:02Z"),
        ("20260301T100002Z", "2026-03-01T10:00:02Z", "2026-03-01T10:00:04Z"),
        ("20260301T100004Z", "2026-03-01T10:00:04Z", "2026-03-01T10:00:06Z"),
    ] {
        let plain = format!("....ftypisom....moof....mdat footage of {stem}");
        match site {
            Some(site) => {
                let file = format!("{stem}{ENCRYPTED_EXT}");
                let key = key_file_for(&file);
                let data = SecretKey::generate();
                std::fs::write(cam.join(KEYS_DIR).join(&key), data.seal(site).unwrap()).unwrap();
                let f = EncryptingFile::create(&cam.join(&file), &[data.public()]).unwrap();
                f.writer().write_all(plain.as_bytes()).unwrap();
                f.finish().unwrap();
                index.append(&entry(&file, s, e, Some(key))).unwrap();
            }
            None => {
                let file = format!("{stem}.mp4");
                std::fs::write(cam.join(&file), plain).unwrap();
                index.append(&entry(&file, s, e, None)).unwrap();
            }
        }
    }
    cam
}

fn audit(log: &Path) -> AuditTarget {
    AuditTarget {
        log: log.to_path_buf(),
        actor: "recorder".into(),
    }
}

fn opts(requests: Requests, now: &str, log: &Path) -> RetentionOptions {
    RetentionOptions {
        retention: Duration::from_secs(6),
        requests,
        now: t(now),
        dry_run: false,
        audit: Some(audit(log)),
    }
}

fn log_entries(log: &Path) -> Vec<Entry> {
    AuditLog::new(log).read_entries().unwrap()
}

#[test]
fn retention_destroys_the_expired_data_key_and_leftover_bytes_no_longer_decrypt() {
    let root = scratch("crypto");
    let files = veil_crypt::generate_key_files(&root.join("site.key")).unwrap();
    let site_pub = veil_crypt::load_recipients(&files.public).unwrap();
    let site = veil_crypt::load_identities(&files.secret).unwrap();
    let cam = camera_dir(&root, Some(&site_pub));
    let log = root.join("audit.jsonl");
    let first = "20260301T100000Z.mp4.age";
    // Nothing of the MP4 in the clear.
    let leftover = std::fs::read(cam.join(first)).unwrap();
    assert!(leftover.starts_with(veil_crypt::MAGIC));
    for b in [&b"ftyp"[..], b"moof", b"mdat"] {
        assert!(!leftover.windows(4).any(|w| w == b), "{b:?} in the clear");
    }
    // Before: the site key reads it (through its data key), and only through it.
    let out = root.join("first.mp4");
    let d = decrypt_segment(&cam.join(first), &site, &out).unwrap();
    assert_eq!(d.camera, "cam-1");
    assert!(std::fs::read(&out).unwrap().starts_with(b"....ftypisom"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(matches!(
        veil_crypt::decrypt_bytes(&site, &leftover, Path::new(first)),
        Err(veil_crypt::CryptError::WrongKey { .. })
    ));
    // At 10:00:09 with 6 s the first segment (ended 10:00:02) has expired.
    let o = apply_retention(&root, &opts(Requests::default(), "2026-03-01T10:00:09Z", &log)).unwrap();
    assert_eq!(o.deleted.len(), 1);
    assert_eq!(o.deleted[0].file, first);
    assert!(o.deleted[0].how.contains("crypto-erased"), "{:?}", o.deleted[0]);
    assert!(!cam.join(KEYS_DIR).join("20260301T100000Z.key.age").exists());
    assert!(!cam.join(first).exists());
    let a = log_entries(&log);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].action, Action::Delete);
    assert!(a[0].reason.contains("crypto-erased") && a[0].reason.contains(first));
    // The bytes a backup, a snapshot or an SSD kept: no key opens them any more.
    std::fs::write(cam.join(first), &leftover).unwrap();
    let e = decrypt_segment(&cam.join(first), &site, &root.join("again.mp4")).unwrap_err();
    assert!(e.to_string().contains("erased"), "{e}");
    std::fs::remove_file(cam.join(first)).unwrap();
    let e = decrypt_segment(
        &cam.join(KEYS_DIR).join("..").join(first),
        &site,
        &root.join("again.mp4"),
    );
    assert!(e.is_err());
    assert!(!root.join("again.mp4").exists());
    // The others still read; with another key nothing is written.
    decrypt_segment(
        &cam.join("20260301T100002Z.mp4.age"),
        &site,
        &root.join("second.mp4"),
    )
    .unwrap();
    let other = veil_crypt::generate_key_files(&root.join("other.key")).unwrap();
    let other = veil_crypt::load_identities(&other.secret).unwrap();
    let e = decrypt_segment(
        &cam.join("20260301T100004Z.mp4.age"),
        &other,
        &root.join("third.mp4"),
    )
    .unwrap_err();
    assert!(
        matches!(e, RecordError::Crypt(veil_crypt::CryptError::WrongKey { .. })),
        "{e}"
    );
    assert!(!root.join("third.mp4").exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn unencrypted_segments_are_overwritten_before_removal() {
    let root = scratch("overwrite");
    let cam = camera_dir(&root, None);
    let log = root.join("audit.jsonl");
    // A hard link sees the same blocks the segment had: zeros after the erasure.
    let first = cam.join("20260301T100000Z.mp4");
    let link = root.join("link.mp4");
    std::fs::hard_link(&first, &link).unwrap();
    let len = std::fs::metadata(&first).unwrap().len();
    let o = apply_retention(&root, &opts(Requests::default(), "2026-03-01T10:00:09Z", &log)).unwrap();
    assert_eq!(o.deleted[0].how, "overwritten with zeros and removed");
    assert!(!first.exists());
    assert_eq!(std::fs::read(&link).unwrap(), vec![0u8; len as usize]);
    assert!(log_entries(&log)[0].reason.contains("overwritten with zeros"));
    std::fs::remove_dir_all(root).unwrap();
}

fn append(log: &Path, e: NewEntry) {
    AuditLog::new(log).append(&e, &[]).unwrap();
}

fn window(from: &str, to: &str) -> Window {
    Window::new(t(from), t(to)).unwrap()
}

#[test]
fn requests_and_holds_in_the_audit_log_protect_footage_and_erasure_requests_wait_for_them() {
    let root = scratch("log");
    let cam = camera_dir(&root, None);
    let log = root.join("audit.jsonl");
    let basis = |b: &str| b.parse::<LegalBasis>().unwrap();
    // An access request on the first segment, an incident on the third, an erasure request
    // over the second and third, and a hold for a misspelt camera.
    append(
        &log,
        NewEntry::new("dpo", Action::Request, "resident asks for their footage")
            .camera("cam-1")
            .window(window("2026-03-01T10:00:00.5Z", "2026-03-01T10:00:01Z"))
            .basis(basis("inzage:AR-1")),
    );
    append(
        &log,
        NewEntry::new("dpo", Action::Hold, "break-in")
            .camera("cam-1")
            .window(window("2026-03-01T10:00:05Z", "2026-03-01T10:00:05Z"))
            .basis(basis("incident:INC-9")),
    );
    append(
        &log,
        NewEntry::new("dpo", Action::Erase, "resident objects")
            .camera("cam-1")
            .window(window("2026-03-01T10:00:03Z", "2026-03-01T10:00:05Z"))
            .basis(basis("erasure-request:ER-1")),
    );
    append(
        &log,
        NewEntry::new("dpo", Action::Hold, "break-in, other camera")
            .camera("cam-01")
            .basis(basis("incident:INC-10")),
    );
    let watch = HoldsWatch::new(None).audit_log(Some(log.clone()));
    let requests = watch.current().unwrap();
    assert_eq!(
        (
            requests.access.len(),
            requests.holds.len(),
            requests.erasures.len()
        ),
        (1, 2, 1)
    );
    // A hold without a window keeps all of its camera's footage.
    let whole = requests.holds.iter().find(|h| h.incident == "INC-10").unwrap();
    assert!(whole.window.from < t("1970-01-01T00:00:00Z") && whole.window.to > t("2999-01-01T00:00:00Z"));
    // At 10:00:09 with 6 s: the first expired but is requested, the second is erased on
    // request, the third is within retention and held, so its erasure waits.
    let o = apply_retention(&root, &opts(requests, "2026-03-01T10:00:09Z", &log)).unwrap();
    let files = |v: &[SegmentDeletion]| v.iter().map(|d| d.file.clone()).collect::<Vec<_>>();
    assert_eq!(files(&o.deleted), ["20260301T100002Z.mp4"]);
    assert!(o.deleted[0].reason.contains("ER-1"), "{:?}", o.deleted);
    assert_eq!(o.held.len(), 1);
    assert!(o.held[0].reasons.contains("AR-1"), "{:?}", o.held);
    assert_eq!(o.pending.len(), 1);
    assert_eq!(
        (o.pending[0].reference.as_str(), o.pending[0].file.as_str()),
        ("ER-1", "20260301T100004Z.mp4")
    );
    assert!(o.pending[0].reasons.contains("INC-9"), "{:?}", o.pending);
    assert_eq!(o.warnings.len(), 1);
    assert!(o.warnings[0].contains("\"cam-01\"") && o.warnings[0].contains("INC-10"));
    let a = log_entries(&log);
    let delete = a.iter().find(|e| e.action == Action::Delete).unwrap();
    assert_eq!(delete.basis, Some(basis("erasure-request:ER-1")));
    let notes: Vec<_> = a.iter().filter(|e| e.action == Action::Note).collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].camera.as_deref(), Some("cam-01"));
    assert!(cam.join("20260301T100000Z.mp4").exists() && cam.join("20260301T100004Z.mp4").exists());
    // The request is released, the incident resolved: the next pass erases both; the
    // warning is not noted twice.
    append(
        &log,
        NewEntry::new("dpo", Action::Release, "footage handed over")
            .camera("cam-1")
            .basis(basis("inzage:AR-1")),
    );
    append(
        &log,
        NewEntry::new("dpo", Action::Release, "case closed")
            .camera("cam-1")
            .basis(basis("incident:INC-9")),
    );
    // (A release counts from its own time: the pass is made for now.)
    let now = Timestamp::now().to_string();
    let o = apply_retention(&root, &opts(watch.current().unwrap(), &now, &log)).unwrap();
    assert_eq!(
        files(&o.deleted),
        ["20260301T100000Z.mp4", "20260301T100004Z.mp4"]
    );
    assert!(o.pending.is_empty());
    let a = log_entries(&log);
    assert_eq!(a.iter().filter(|e| e.action == Action::Note).count(), 1);
    assert!(veil_audit::verify_file(&log).unwrap().is_intact());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_pass_without_an_audit_log_or_ahead_of_time_deletes_nothing() {
    let root = scratch("guards");
    let cam = camera_dir(&root, None);
    let log = root.join("audit.jsonl");
    let mut o = opts(Requests::default(), "2099-01-01T00:00:00Z", &log);
    let e = apply_retention(&root, &o).unwrap_err();
    assert!(
        matches!(e, RecordError::InvalidOption { .. }) && e.to_string().contains("future"),
        "{e}"
    );
    o.dry_run = true;
    assert_eq!(apply_retention(&root, &o).unwrap().deleted.len(), 3);
    o.dry_run = false;
    o.now = t("2026-03-02T00:00:00Z");
    o.audit = None;
    let e = apply_retention(&root, &o).unwrap_err();
    assert!(e.to_string().contains("audit log"), "{e}");
    assert!(!log.exists());
    assert_eq!(
        Index::new(&cam)
            .read()
            .unwrap()
            .iter()
            .filter(|e| e.deleted.is_none())
            .count(),
        3
    );
    // An index entry that names a path rather than a file of the camera directory.
    let outside = root.join("outside.mp4");
    std::fs::write(&outside, b"not footage").unwrap();
    for bad in ["../outside.mp4", "/etc/passwd", ".index.lock", "a/b.mp4", ""] {
        let mut text = std::fs::read_to_string(cam.join(INDEX_FILE)).unwrap();
        let line =
            serde_json::to_string(&entry(bad, "2026-03-01T09:00:00Z", "2026-03-01T09:00:01Z", None)).unwrap();
        text.push_str(&line);
        text.push('\n');
        let backup = std::fs::read(cam.join(INDEX_FILE)).unwrap();
        std::fs::write(cam.join(INDEX_FILE), text).unwrap();
        let e = apply_retention(&root, &opts(Requests::default(), "2026-03-02T00:00:00Z", &log)).unwrap_err();
        assert!(matches!(e, RecordError::BadIndex { line: 4, .. }), "{bad:?}: {e}");
        assert!(e.to_string().contains("plain file name"), "{e}");
        std::fs::write(cam.join(INDEX_FILE), backup).unwrap();
    }
    assert!(outside.exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn an_encrypted_segment_a_crash_left_is_indexed_with_its_data_key_and_reads_up_to_the_cut() {
    let root = scratch("crash");
    let files = veil_crypt::generate_key_files(&root.join("site.key")).unwrap();
    let site_pub = veil_crypt::load_recipients(&files.public).unwrap();
    let site = veil_crypt::load_identities(&files.secret).unwrap();
    let cam = root.join("cam-1");
    std::fs::create_dir_all(cam.join(KEYS_DIR)).unwrap();
    let file = "20260301T100000Z.mp4.age";
    let data = SecretKey::generate();
    std::fs::write(
        cam.join(KEYS_DIR).join(key_file_for(file)),
        data.seal(&site_pub).unwrap(),
    )
    .unwrap();
    // Three chunks' worth and part of a fourth written, then the process died (no finish).
    let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    {
        let f = EncryptingFile::create(&cam.join(file), &[data.public()]).unwrap();
        f.writer().write_all(&plain).unwrap();
        f.writer().flush().unwrap();
        drop(f);
    }
    // And a sealed key whose segment was never begun.
    let orphan = cam.join(KEYS_DIR).join("20260301T100002Z.key.age");
    std::fs::write(&orphan, SecretKey::generate().seal(&site_pub).unwrap()).unwrap();
    let mut segs = segment::Segments::new(cam.clone(), veil_video::EncodeOptions::default(), site_pub);
    let mut warned = Vec::new();
    segs.recover(&mut |e| warned.push(format!("{e:?}"))).unwrap();
    let entries = Index::new(&cam).read().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].file, file);
    assert_eq!(entries[0].key.as_deref(), Some("20260301T100000Z.key.age"));
    assert_eq!(entries[0].start, t("2026-03-01T10:00:00Z"));
    assert!(entries[0].recovered.is_some() && entries[0].frames == 0);
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(!orphan.exists());
    assert!(cam.join(KEYS_DIR).join("20260301T100000Z.key.age").exists());
    // The complete chunks decrypt; then the cut is reported, and no output is left.
    let mut r = veil_crypt::decrypt_reader(
        &[SecretKey::unseal(
            &site,
            &std::fs::read(cam.join(KEYS_DIR).join("20260301T100000Z.key.age")).unwrap(),
            Path::new("k"),
        )
        .unwrap()
        .remove(0)],
        std::fs::File::open(cam.join(file)).unwrap(),
        Path::new(file),
    )
    .unwrap();
    let mut got = Vec::new();
    let e = std::io::Read::read_to_end(&mut r, &mut got);
    assert!(e.is_err());
    assert!(
        got.len() >= 2 * 65_536 && plain.starts_with(&got),
        "{}",
        got.len()
    );
    let out = root.join("out.mp4");
    assert!(decrypt_segment(&cam.join(file), &site, &out).is_err());
    assert!(!out.exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn access_and_erasure_files_are_read_with_the_holds_and_the_log() {
    let root = scratch("files");
    let cam = camera_dir(&root, None);
    let log = root.join("audit.jsonl");
    let access = root.join("access.json");
    let erasures = root.join("erasures.json");
    std::fs::write(
        &access,
        r#"{"version":1,"requests":[{"reference":"AR-2","camera":"cam-1","window":{"from":"2026-03-01T10:00:00.5Z","to":"2026-03-01T10:00:01Z"},"received":"2026-03-01T11:00:00Z","handled":null}]}"#,
    )
    .unwrap();
    std::fs::write(
        &erasures,
        r#"{"version":1,"requests":[{"reference":"ER-2","requester":"resident","camera":"cam-1","window":{"from":"2026-03-01T10:00:04.5Z","to":"2026-03-01T10:00:05Z"},"received":"2026-03-01T11:00:00Z"}]}"#,
    )
    .unwrap();
    let watch = HoldsWatch::new(None)
        .access(Some(access.clone()))
        .erasures(Some(erasures))
        .audit_log(Some(log.clone()));
    let r = watch.current().unwrap();
    assert_eq!((r.access.len(), r.erasures.len()), (1, 1));
    // At 10:00:11: the first expired but is requested, the second expired, the third is
    // within retention but erased on request.
    let o = apply_retention(&root, &opts(r, "2026-03-01T10:00:11Z", &log)).unwrap();
    let files: Vec<&str> = o.deleted.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(files, ["20260301T100002Z.mp4", "20260301T100004Z.mp4"]);
    assert!(o.deleted[1].reason.contains("ER-2"));
    assert!(o.held[0].reasons.contains("AR-2"));
    assert!(cam.join("20260301T100000Z.mp4").exists());
    // A file that cannot be read stops every deletion.
    std::fs::write(&access, "{").unwrap();
    assert!(matches!(watch.current(), Err(RecordError::Audit(_))));
    std::fs::remove_dir_all(root).unwrap();
}
