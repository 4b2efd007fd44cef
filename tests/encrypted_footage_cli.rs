//! Encrypted footage read and delivered (issue 27, items 3 and 4): a segment that
//! `redact record --encrypt-to` wrote is exported, disclosed, masked, analysed, searched for
//! detections and previewed directly with `--key` (decrypted in memory); a wrong or missing
//! key is refused with nothing left behind; a copy delivered with `--encrypt-to` decrypts with the standard
//! `age` tool (Debian's age package) to the file the manifest describes.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{listing, redact_bin, root, scratch, stderr};
use veil::audit::sha256_file;
use veil::record::Index;
use veil::video::{ReadOptions, VideoReader};

const CAMERA: &str = "vtest-courtyard";

fn redact(args: &[&OsStr]) -> Output {
    Command::new(redact_bin()).args(args).output().unwrap()
}

/// `redact keys generate --encryption`: (KEY, KEY.pub) in `dir`.
fn encryption_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let o = redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--encryption".as_ref(),
        "--out".as_ref(),
        key.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    (key.clone(), dir.join(format!("{name}.pub")))
}

/// Record fixtures/vtest.mp4 once, encrypted to `public`, in 5 s segments; the first
/// segment's path and its index start.
fn encrypted_segment(base: &Path, public: &Path) -> (PathBuf, String) {
    let dir = base.join("rec");
    let audit = base.join("record-audit.jsonl");
    let o = redact(&[
        "record".as_ref(),
        root().join("fixtures/vtest.mp4").as_os_str(),
        "--zones".as_ref(),
        root().join("fixtures/vtest-zones.toml").as_os_str(),
        "--dir".as_ref(),
        dir.as_os_str(),
        "--segment".as_ref(),
        "5s".as_ref(),
        "--encrypt-to".as_ref(),
        public.as_os_str(),
        "--audit-log".as_ref(),
        audit.as_os_str(),
        "--actor".as_ref(),
        "recorder@test".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cam = dir.join(CAMERA);
    let entries = Index::new(&cam).read().unwrap();
    let first = entries.first().unwrap();
    assert!(first.file.ends_with(".mp4.age"), "{first:?}");
    (cam.join(&first.file), first.start.to_string())
}

/// The logging arguments of a disclosure on a police order (as `disclose` requires them).
fn police_order<'a>(audit: &'a Path, start: &'a str) -> [&'a OsStr; 12] {
    [
        "--basis".as_ref(),
        "police-order:PO-1".as_ref(),
        "--audit-log".as_ref(),
        audit.as_os_str(),
        "--actor".as_ref(),
        "operator@test".as_ref(),
        "--reason".as_ref(),
        "order".as_ref(),
        "--recording-start".as_ref(),
        start.as_ref(),
        "--camera".as_ref(),
        CAMERA.as_ref(),
    ]
}

fn manifest(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Frames in a video file.
fn frames(path: &Path) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    n
}

/// `age -d -i KEY FILE -o OUT` with the standard tool.
fn age_decrypt(key: &Path, file: &Path, out: &Path) -> Output {
    Command::new("age")
        .args(["-d".as_ref(), "-i".as_ref(), key.as_os_str()])
        .arg("-o")
        .arg(out)
        .arg(file)
        .output()
        .expect("the age tool (Debian's age package, installed by scripts/setup.sh)")
}

#[test]
fn an_encrypted_segment_is_read_with_key_and_copies_delivered_encrypted_open_with_age() {
    let base = scratch("encrypted-footage");
    let (key, public) = encryption_key(&base, "footage.key");
    let (other, _) = encryption_key(&base, "other.key");
    let (police, police_pub) = encryption_key(&base, "police.key");
    let (segment, start) = encrypted_segment(&base, &public);
    let cam = segment.parent().unwrap().to_path_buf();
    let cam_files = listing(&cam);

    // The plain segment, for comparison (`redact decrypt`).
    let plain = base.join("plain.mp4");
    let o = redact(&[
        "decrypt".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "-o".as_ref(),
        plain.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain_sha = sha256_file(&plain).unwrap();
    let cipher_sha = sha256_file(&segment).unwrap();

    // Exported directly with --key, delivered encrypted to the requester's key.
    let out = base.join("inzage.mp4");
    let audit = base.join("audit.jsonl");
    let o = redact(&[
        "export".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--encrypt-to".as_ref(),
        police_pub.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-none".as_ref(),
        "--zones".as_ref(),
        root().join("fixtures/vtest-zones.toml").as_os_str(),
        "--to".as_ref(),
        "3".as_ref(),
        "--audit-log".as_ref(),
        audit.as_os_str(),
        "--actor".as_ref(),
        "operator@test".as_ref(),
        "--reason".as_ref(),
        "access request".as_ref(),
        "--basis".as_ref(),
        "inzage:AR-1".as_ref(),
        "--recording-start".as_ref(),
        start.as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    let m = manifest(&base.join("inzage.mp4.manifest.json"));
    // The input is named as given; its hash is the decrypted stream's, the encrypted file's
    // is beside it with the data key that opened it.
    assert_eq!(m["input"]["path"], segment.to_str().unwrap());
    assert_eq!(m["input"]["sha256"], plain_sha.as_str());
    assert_eq!(m["input"]["decrypted_from"]["sha256"], cipher_sha.as_str());
    assert!(m["input"]["decrypted_from"]["data_key"]
        .as_str()
        .unwrap()
        .contains("keys/"));
    let police_key = std::fs::read_to_string(&police_pub).unwrap();
    assert_eq!(m["output"]["encrypted_to"][0], police_key.trim());
    // The standard age tool opens the delivered copy; it is the file the manifest hashes.
    let opened = base.join("inzage-opened.mp4");
    let o = age_decrypt(&police, &out, &opened);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        sha256_file(&opened).unwrap(),
        m["output"]["sha256"].as_str().unwrap()
    );
    assert_eq!(frames(&opened), m["counts"]["frames"].as_u64().unwrap());
    // The audit log records the export as before.
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("\"export\""), "{log}");

    // Disclosed directly with --key: bit-exact to the decrypted stream, delivered encrypted.
    let copy = base.join("copy.mp4");
    let o = redact(
        &[
            "disclose".as_ref(),
            segment.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "--encrypt-to".as_ref(),
            police_pub.as_os_str(),
            "-o".as_ref(),
            copy.as_os_str(),
        ]
        .into_iter()
        .chain(police_order(&audit, &start))
        .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dm = manifest(&base.join("copy.mp4.manifest.json"));
    assert_eq!(dm["input"]["sha256"], plain_sha.as_str());
    assert_eq!(dm["input"]["decrypted_from"]["sha256"], cipher_sha.as_str());
    assert_eq!(dm["method"]["kind"], "stream-copy");
    let copy_opened = base.join("copy-opened.mp4");
    let o = age_decrypt(&police, &copy, &copy_opened);
    assert!(o.status.success(), "{}", stderr(&o));
    // `verify` checks the decrypted copy against the manifest and the audit log.
    let o = redact(&[
        "verify".as_ref(),
        copy_opened.as_os_str(),
        "--manifest".as_ref(),
        base.join("copy.mp4.manifest.json").as_os_str(),
        "--audit-log".as_ref(),
        audit.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Bit-exact: the same bytes as a disclosure of the plain segment.
    let plain_copy = base.join("plain-copy.mp4");
    let o = redact(
        &[
            "disclose".as_ref(),
            plain.as_os_str(),
            "-o".as_ref(),
            plain_copy.as_os_str(),
        ]
        .into_iter()
        .chain(police_order(&audit, &start))
        .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&copy_opened).unwrap() == std::fs::read(&plain_copy).unwrap());

    // A wrong key, or none: exit 1, a clear error, nothing left behind.
    let before = listing(&base);
    for (k, needle) in [(Some(&other), "not encrypted to this key"), (None, "--key")] {
        let wrong = base.join("wrong.mp4");
        let mut args: Vec<&OsStr> = vec![
            "export".as_ref(),
            segment.as_os_str(),
            "-o".as_ref(),
            wrong.as_os_str(),
            "--keep-none".as_ref(),
        ];
        if let Some(k) = k {
            args.extend(["--key".as_ref(), k.as_os_str()]);
        }
        let o = redact(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        let o = redact(&[
            "disclose".as_ref(),
            segment.as_os_str(),
            "--key".as_ref(),
            k.map_or(OsStr::new("/nonexistent.key"), |k| k.as_os_str()),
            "-o".as_ref(),
            wrong.as_os_str(),
            "--basis".as_ref(),
            "police-order:PO-2".as_ref(),
            "--audit-log".as_ref(),
            audit.as_os_str(),
            "--actor".as_ref(),
            "operator@test".as_ref(),
            "--reason".as_ref(),
            "order".as_ref(),
            "--recording-start".as_ref(),
            start.as_ref(),
            "--camera".as_ref(),
            CAMERA.as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(listing(&base), before);
    }
    // Errors name the segment, not its plaintext in memory.
    let o = redact(&[
        "export".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "-o".as_ref(),
        base.join("late.mp4").as_os_str(),
        "--keep-none".as_ref(),
        "--from".as_ref(),
        "100".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(segment.to_str().unwrap()) && !stderr(&o).contains("/proc/"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(&base), before);
    // The recording's directory is as it was: no plaintext written beside the segment.
    assert_eq!(listing(&cam), cam_files);

    // mask, analyze and zones preview read it with --key too.
    let masked = base.join("masked.mp4");
    let o = redact(&[
        "mask".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--zones".as_ref(),
        root().join("fixtures/vtest-zones.toml").as_os_str(),
        "-o".as_ref(),
        masked.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(frames(&masked), frames(&plain));
    let tracks = base.join("tracks.json");
    let o = redact(&[
        "analyze".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--to".as_ref(),
        "2".as_ref(),
        "-o".as_ref(),
        tracks.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The tracks are tied to the decrypted stream, as the plain segment's would be.
    let t = manifest(&tracks);
    assert_eq!(t["source_sha256"], plain_sha.as_str(), "{t}");
    let preview = base.join("preview.png");
    let o = redact(&[
        "zones".as_ref(),
        "preview".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--zones".as_ref(),
        root().join("fixtures/vtest-zones.toml").as_os_str(),
        "-o".as_ref(),
        preview.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&preview).unwrap().len() > 0);
    let detections = base.join("detections.json");
    let o = redact(&[
        "detect".as_ref(),
        segment.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--to".as_ref(),
        "0.5".as_ref(),
        "-o".as_ref(),
        detections.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(manifest(&detections)["frames"].as_array().unwrap().len(), 5);
    std::fs::remove_dir_all(base).unwrap();
}
