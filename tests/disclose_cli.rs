//! `redact keys generate`, `redact disclose` and `redact verify` as an operator and a
//! recipient run them: exit status 0 on success, 1 with exactly one `error:` line naming the
//! failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use common::{redact, root, scratch, stderr};

/// Exit status 1 and one line on stderr containing `needle`.
fn fails_with(o: &Output, needle: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert_eq!(e.lines().count(), 1, "one line expected: {e}");
    assert!(
        e.starts_with("error: ") && e.contains(needle),
        "{needle:?} not in {e}"
    );
}

fn disclose(dir: &Path, input: &Path, out: &str, basis: &str, extra: &[&OsStr]) -> Output {
    let out = dir.join(out);
    let log = dir.join("audit.jsonl");
    let mut args: Vec<&OsStr> = vec![
        "disclose".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--basis".as_ref(),
        basis.as_ref(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "j.jansen".as_ref(),
        "--reason".as_ref(),
        "order PV-2026-0142".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
        "--camera".as_ref(),
        "cam-entrance".as_ref(),
    ];
    args.extend_from_slice(extra);
    redact(&args)
}

#[test]
fn order_disclose_hand_over_verify() {
    let dir = scratch("disclose");
    let key = dir.join("site.key");
    let o = redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--out".as_ref(),
        key.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("fingerprint: sha256:"), "{stdout}");
    let o = redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--out".as_ref(),
        key.as_os_str(),
    ]);
    fails_with(&o, "refusing to overwrite a key file");
    let other = dir.join("other.key");
    assert!(redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--out".as_ref(),
        other.as_os_str()
    ])
    .status
    .success());

    let input = root().join("fixtures/vtest.mp4");
    let o = disclose(
        &dir,
        &input,
        "police.mp4",
        "police-order:PV-2026-0142",
        &[
            "--from".as_ref(),
            "00:03".as_ref(),
            "--to".as_ref(),
            "6".as_ref(),
            "--sign-key".as_ref(),
            key.as_os_str(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("delivered 2.500 s"), "{}", stderr(&o));

    let out = dir.join("police.mp4");
    let man = dir.join("police.mp4.manifest.json");
    let verify = |output: &Path, pubkey: Option<&Path>| {
        let mut a: Vec<&OsStr> = vec![
            "verify".as_ref(),
            output.as_os_str(),
            "--manifest".as_ref(),
            man.as_os_str(),
        ];
        if let Some(p) = pubkey {
            a.extend(["--pubkey".as_ref(), p.as_os_str()]);
        }
        redact(&a)
    };
    let public = dir.join("site.pub");
    let o = verify(&out, Some(&public));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("OK: "));

    fails_with(&verify(&out, Some(&dir.join("other.pub"))), "wrong key");
    fails_with(&verify(&dir.join("absent.mp4"), Some(&public)), "missing output");
    fails_with(&verify(&out, Some(&dir.join("absent.pub"))), "missing public key");

    let flip = |p: &Path, at: usize| {
        let mut b = std::fs::read(p).unwrap();
        b[at] ^= 0x20;
        std::fs::write(p, b).unwrap();
    };
    let mid = std::fs::metadata(&out).unwrap().len() as usize / 2;
    flip(&out, mid);
    fails_with(&verify(&out, Some(&public)), "does not match the manifest");
    flip(&out, mid);
    let at = std::fs::read_to_string(&man).unwrap().find("j.jansen").unwrap();
    flip(&man, at);
    fails_with(&verify(&out, Some(&public)), "manifest altered");
    flip(&man, at);
    assert!(verify(&out, Some(&public)).status.success());

    // an unsigned disclosure verifies by hash, and fails as unsigned once a key is given
    let o = disclose(&dir, &input, "unsigned.mp4", "own-report:R-3", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let man2 = dir.join("unsigned.mp4.manifest.json");
    let o = redact(&[
        "verify".as_ref(),
        dir.join("unsigned.mp4").as_os_str(),
        "--manifest".as_ref(),
        man2.as_os_str(),
        "--pubkey".as_ref(),
        public.as_os_str(),
    ]);
    fails_with(&o, "unsigned manifest");

    // the organisation checks the link between manifest and audit log
    let link = |log: &Path| {
        redact(&[
            "verify".as_ref(),
            out.as_os_str(),
            "--manifest".as_ref(),
            man.as_os_str(),
            "--audit-log".as_ref(),
            log.as_os_str(),
        ])
    };
    let o = link(&dir.join("audit.jsonl"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("audit entry 1"));
    // a log cut after the first entry still holds this disclosure's; an empty one does not
    let lines = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    std::fs::write(
        dir.join("first-only.jsonl"),
        lines.lines().next().unwrap().to_owned() + "\n",
    )
    .unwrap();
    assert!(link(&dir.join("first-only.jsonl")).status.success());
    std::fs::write(dir.join("empty.jsonl"), "").unwrap();
    fails_with(&link(&dir.join("empty.jsonl")), "audit link broken");

    // the audit log holds both disclosures, intact
    let o = redact(&[
        "audit".as_ref(),
        "verify".as_ref(),
        dir.join("audit.jsonl").as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inzage_basis_is_refused_and_nothing_is_left() {
    let dir = scratch("disclose-inzage");
    let o = disclose(
        &dir,
        &root().join("fixtures/vtest.mp4"),
        "copy.mp4",
        "inzage:AR-1",
        &[],
    );
    fails_with(&o, "redact export");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audio_only_with_keep_audio() {
    let dir = scratch("disclose-audio");
    let input = root().join("fixtures/hostile/vtest-small.mkv");
    for (name, extra) in [("silent.mp4", None), ("audio.mp4", Some("--keep-audio"))] {
        let args: Vec<&OsStr> = extra.iter().map(|s| s.as_ref()).collect();
        let o = disclose(&dir, &input, name, "police-order:PV-1", &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.manifest.json"))).unwrap())
                .unwrap();
        assert_eq!(m["audio"], extra.is_some(), "{name}");
        let r = veil::video::VideoReader::open(dir.join(name), &Default::default()).unwrap();
        assert_eq!(r.info().has_audio, extra.is_some(), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `redact export --sign-key`: the inzage manifest is signed the same way, and the requester
/// (or their lawyer) checks it with `redact verify`.
#[test]
fn signed_export_verifies() {
    let dir = scratch("export-signed");
    let key = dir.join("site.key");
    assert!(redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--out".as_ref(),
        key.as_os_str()
    ])
    .status
    .success());
    let out = dir.join("inzage.mp4");
    let o = redact(&[
        "export".as_ref(),
        root().join("fixtures/hostile/small.mp4").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-none".as_ref(),
        "--style".as_ref(),
        "pixelate".as_ref(),
        "--sign-key".as_ref(),
        key.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let man = dir.join("inzage.mp4.manifest.json");
    assert_eq!(
        std::fs::metadata(dir.join("inzage.mp4.manifest.json.sig"))
            .unwrap()
            .len(),
        64
    );
    let verify = |pubkey: &Path| {
        redact(&[
            "verify".as_ref(),
            out.as_os_str(),
            "--manifest".as_ref(),
            man.as_os_str(),
            "--pubkey".as_ref(),
            pubkey.as_os_str(),
        ])
    };
    let o = verify(&dir.join("site.pub"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("export manifest"));
    // an export manifest names no signer: another key reads as an altered manifest
    assert!(redact(&[
        "keys".as_ref(),
        "generate".as_ref(),
        "--out".as_ref(),
        dir.join("b.key").as_os_str()
    ])
    .status
    .success());
    fails_with(&verify(&dir.join("b.pub")), "signature does not verify");
    std::fs::remove_dir_all(&dir).unwrap();
}
