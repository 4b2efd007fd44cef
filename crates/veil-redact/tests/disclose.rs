//! Disclosures to police and justice ([`veil_redact::disclose`]) and their verification
//! ([`veil_redact::verify()`]) on the real clip: exact frames, refusal of an inzage basis,
//! the audit link, signatures and each way a verification fails.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_audit::{AuditLog, LegalBasis, Timestamp};
use veil_redact::disclose::{DeliveryMethod, DisclosureManifest};
use veil_redact::sign::{generate_key_pair, signature_path};
use veil_redact::{disclose, verify, DiscloseOptions, RedactError, VerifyError};
use veil_video::{ReadOptions, VideoReader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-disclose-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn options(dir: &Path, basis: &str) -> DiscloseOptions {
    let mut o = DiscloseOptions::new(
        root().join("fixtures/vtest.mp4"),
        dir.join("disclosure.mp4"),
        basis.parse::<LegalBasis>().unwrap(),
        dir.join("audit.jsonl"),
        "j.jansen",
        "order for the break-in of 1 March",
        Timestamp::parse("2026-03-01T09:00:00Z").unwrap(),
        "cam-entrance",
    );
    o.from = Some(3.0);
    o.to = Some(6.0);
    o.recipient = Some("Politie Utrecht".into());
    o
}

/// Each decoded frame's visible planes.
fn frames(path: &Path, from: Option<f64>, to: Option<f64>) -> Vec<Vec<u8>> {
    let mut r = VideoReader::open(
        path,
        &ReadOptions {
            from,
            to,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        out.push(
            v.planes()
                .iter()
                .flat_map(|p| p.rows().flatten().copied())
                .collect(),
        );
    }
    out
}

#[test]
fn disclosed_frames_equal_the_recorded_frames_of_the_delivered_window() {
    let dir = scratch("frames");
    let opts = options(&dir, "police-order:PV-2026-0142");
    let report = disclose(&opts).unwrap();
    let m = &report.manifest;
    assert_eq!(m.method, DeliveryMethod::StreamCopy);
    assert_eq!((m.requested.from, m.requested.to), (Some(3.0), Some(6.0)));
    // vtest.mp4 has keyframes every 2.5 s: the copy starts at the one at 2.5 s
    assert!((m.delivered.from - 2.5).abs() < 1e-6, "{}", m.delivered.from);
    assert!(m.delivered.to >= 6.1 - 1e-6);
    assert_eq!(
        m.delivered.wall_clock.from,
        Timestamp::parse("2026-03-01T09:00:02Z").unwrap()
    );
    assert!(!m.audio);
    assert_eq!(m.codec, "h264");
    let copy = frames(&report.output, None, None);
    let orig = frames(&opts.input, Some(m.delivered.from), Some(m.delivered.to - 1e-3));
    assert_eq!(copy.len() as u64, m.frames);
    assert_eq!(copy.len(), orig.len());
    for (i, (c, o)) in copy.iter().zip(&orig).enumerate() {
        assert!(c == o, "frame {i} of the copy differs from the recording");
    }
    // hashes recorded are those of the files
    assert_eq!(m.output.sha256, veil_audit::sha256_file(&report.output).unwrap());
    assert_eq!(m.input.sha256, veil_audit::sha256_file(&opts.input).unwrap());
    // the manifest on disk is the one returned
    assert_eq!(DisclosureManifest::load(&report.manifest_path).unwrap(), *m);
    assert_eq!(
        files_in(&dir),
        ["audit.jsonl", "disclosure.mp4", "disclosure.mp4.manifest.json"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audit_entry_hash_in_manifest_matches_the_log() {
    let dir = scratch("audit");
    let report = disclose(&options(&dir, "own-report:AANGIFTE-77")).unwrap();
    let link = report.manifest.audit.clone().unwrap();
    let entries = AuditLog::new(dir.join("audit.jsonl")).read_entries().unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!((e.seq, e.hash.as_str()), (link.seq, link.hash.as_str()));
    assert_eq!(e.action.as_str(), "disclose");
    assert_eq!(e.recipient.as_deref(), Some("Politie Utrecht"));
    assert_eq!(e.basis.as_ref().unwrap().to_string(), "own-report:AANGIFTE-77");
    assert_eq!(e.window, Some(report.manifest.delivered.wall_clock));
    // the entry records the manifest's hash (taken with "audit": null), recomputed from disk
    let on_disk = DisclosureManifest::load(&report.manifest_path).unwrap();
    assert_eq!(
        e.manifest_sha256.as_deref(),
        Some(on_disk.entry_digest().unwrap().as_str())
    );
    assert_eq!(link.manifest_sha256, on_disk.entry_digest().unwrap());
    assert!(veil_audit::verify_file(dir.join("audit.jsonl"))
        .unwrap()
        .is_intact());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inzage_basis_is_refused_and_nothing_is_left_behind() {
    let dir = scratch("inzage");
    let e = disclose(&options(&dir, "inzage:AR-2026-12")).unwrap_err();
    assert!(matches!(e, RedactError::BasisRefused { .. }), "{e}");
    assert!(e.to_string().contains("redact export"), "{e}");
    // no copy, no manifest, no audit log, no staging file
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
    // an incident basis is no disclosure basis either
    let e = disclose(&options(&dir, "incident:INC-1")).unwrap_err();
    assert!(matches!(e, RedactError::BasisRefused { .. }), "{e}");
    assert!(files_in(&dir).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_log_that_refuses_the_entry_withdraws_the_copy() {
    let dir = scratch("withdrawn");
    // a log whose last line was torn by a crash: appending is refused
    std::fs::write(dir.join("audit.jsonl"), b"{\"version\":1,\"seq\":1").unwrap();
    let e = disclose(&options(&dir, "police-order:PV-1")).unwrap_err();
    assert!(matches!(e, RedactError::Audit(_)), "{e}");
    assert_eq!(files_in(&dir), ["audit.jsonl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_existing_output_is_never_overwritten() {
    let dir = scratch("exists");
    std::fs::write(dir.join("disclosure.mp4"), b"earlier evidence").unwrap();
    let e = disclose(&options(&dir, "police-order:PV-1")).unwrap_err();
    assert!(matches!(e, RedactError::OutputExists { .. }), "{e}");
    assert!(e.to_string().contains("already exists; not replaced"), "{e}");
    assert_eq!(
        std::fs::read(dir.join("disclosure.mp4")).unwrap(),
        b"earlier evidence"
    );
    assert_eq!(files_in(&dir), ["disclosure.mp4"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signed_manifest_verifies_and_each_tampering_fails_with_its_own_message() {
    let dir = scratch("signed");
    let keys = generate_key_pair(&dir.join("site.key")).unwrap();
    assert_eq!(keys.public, dir.join("site.pub"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys.secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
    }
    let other = generate_key_pair(&dir.join("other.key")).unwrap();
    assert_ne!(keys.fingerprint, other.fingerprint);
    // key files are never overwritten
    assert!(generate_key_pair(&dir.join("site.key")).is_err());

    let mut opts = options(&dir, "police-order:PV-2026-0142");
    opts.sign_key = Some(keys.secret.clone());
    let report = disclose(&opts).unwrap();
    let (out, man) = (report.output.clone(), report.manifest_path.clone());
    assert_eq!(report.signature_path, Some(signature_path(&man)));
    assert_eq!(std::fs::metadata(signature_path(&man)).unwrap().len(), 64);
    let signer = report.manifest.signer.clone().unwrap();
    assert_eq!(signer.public_key_sha256, keys.fingerprint);

    let ok = verify(&out, &man, Some(&keys.public)).unwrap();
    assert_eq!(ok.signed_by.as_deref(), Some(keys.fingerprint.as_str()));
    assert_eq!(ok.kind, "disclosure");
    // without a key only the hash is checked
    assert_eq!(verify(&out, &man, None).unwrap().signed_by, None);

    // wrong public key
    let e = verify(&out, &man, Some(&other.public)).unwrap_err();
    assert!(matches!(e, VerifyError::WrongKey { .. }), "{e}");
    assert!(e.to_string().contains("wrong key"), "{e}");

    // one byte flipped in the output
    let flip = |p: &Path, at: usize| {
        let mut b = std::fs::read(p).unwrap();
        let i = at.min(b.len() - 1);
        b[i] ^= 0x01;
        std::fs::write(p, b).unwrap();
    };
    let size = std::fs::metadata(&out).unwrap().len() as usize;
    flip(&out, size / 2);
    let e = verify(&out, &man, Some(&keys.public)).unwrap_err();
    assert!(matches!(e, VerifyError::OutputMismatch { .. }), "{e}");
    assert!(e.to_string().contains("does not match the manifest"), "{e}");
    flip(&out, size / 2);
    verify(&out, &man, Some(&keys.public)).unwrap();

    // one byte flipped in the manifest (inside the recipient's name)
    let text = std::fs::read_to_string(&man).unwrap();
    let at = text.find("Politie Utrecht").unwrap();
    flip(&man, at);
    let e = verify(&out, &man, Some(&keys.public)).unwrap_err();
    assert!(matches!(e, VerifyError::BadSignature { .. }), "{e}");
    assert!(e.to_string().contains("manifest altered"), "{e}");
    flip(&man, at);
    verify(&out, &man, Some(&keys.public)).unwrap();

    // a key given, but the signature is gone
    std::fs::rename(signature_path(&man), dir.join("moved.sig")).unwrap();
    let e = verify(&out, &man, Some(&keys.public)).unwrap_err();
    assert!(matches!(e, VerifyError::Unsigned { .. }), "{e}");
    assert!(e.to_string().contains("unsigned manifest"), "{e}");

    // a missing output
    let e = verify(&dir.join("nothing.mp4"), &man, None).unwrap_err();
    assert!(matches!(e, VerifyError::Missing { what: "output", .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_files_are_pem_and_bad_keys_are_typed_errors() {
    use veil_redact::sign::{public_key_path, PublicKey, SecretKey};
    let dir = scratch("keys");
    assert_eq!(public_key_path(Path::new("a/site.key")), Path::new("a/site.pub"));
    assert_eq!(public_key_path(Path::new("site")), Path::new("site.pub"));
    let k = generate_key_pair(&dir.join("site.key")).unwrap();
    let secret = std::fs::read_to_string(&k.secret).unwrap();
    let public = std::fs::read_to_string(&k.public).unwrap();
    assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{secret}");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{public}");
    // the secret key signs what the public key verifies; a changed message does not verify
    let s = SecretKey::load(&k.secret).unwrap();
    let p = PublicKey::load(&k.public).unwrap();
    assert_eq!(p.fingerprint(), k.fingerprint);
    let sig = s.sign(b"manifest bytes");
    assert!(p.verify(b"manifest bytes", &sig));
    assert!(!p.verify(b"manifest bytez", &sig));
    assert!(!p.verify(b"manifest bytes", &sig[..63]));
    // a public key where a secret key belongs, and garbage, are typed errors naming the file
    let e = SecretKey::load(&k.public).unwrap_err();
    assert!(
        matches!(e, RedactError::Key { .. }) && e.to_string().contains("site.pub"),
        "{e}"
    );
    std::fs::write(dir.join("junk.pub"), "not a key").unwrap();
    let e = PublicKey::load(&dir.join("junk.pub")).unwrap_err();
    assert!(matches!(e, RedactError::Key { .. }), "{e}");
    // a disclosure with an unusable signing key is refused before any work
    let mut opts = options(&dir, "police-order:PV-1");
    opts.sign_key = Some(k.public.clone());
    assert!(matches!(disclose(&opts).unwrap_err(), RedactError::Key { .. }));
    assert!(!dir.join("disclosure.mp4").exists() && !dir.join("audit.jsonl").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Set in the child process of the crash test: the directory to disclose into.
const CRASH_CHILD: &str = "VEIL_TEST_DISCLOSE_CRASH_CHILD_DIR";

#[test]
fn a_crash_between_logging_and_releasing_leaves_no_visible_copy() {
    if let Some(d) = std::env::var_os(CRASH_CHILD) {
        // The child: die (no unwinding, no destructors) right after the audit entry.
        veil_redact::fault::set_hook(|point| {
            if point == veil_redact::fault::LOGGED_NOT_PUBLISHED {
                std::process::abort();
            }
        });
        let _ = disclose(&options(Path::new(&d), "police-order:PV-1"));
        panic!("the disclosure returned: the fault hook was never reached");
    }
    let dir = scratch("crash");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_crash_between_logging_and_releasing_leaves_no_visible_copy",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD, &dir)
        .status()
        .unwrap();
    assert!(!status.success(), "the child did not crash: {status}");
    let log = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let visible: Vec<String> = files_in(&dir)
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(
        visible,
        ["audit.jsonl"],
        "a copy, manifest or signature became visible"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
