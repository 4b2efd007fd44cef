//! Key files, their permissions, encryption and decryption.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-crypt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn key_files_are_private_never_overwritten_and_refused_when_others_can_read_them() {
    let dir = scratch("keys");
    let key = dir.join("footage.key");
    let files = generate_key_files(&key).unwrap();
    assert_eq!(files.public, dir.join("footage.key.pub"));
    assert!(files.recipient.starts_with("age1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let before = std::fs::read(&key).unwrap();
    assert!(matches!(
        generate_key_files(&key),
        Err(CryptError::KeyExists { .. })
    ));
    assert_eq!(std::fs::read(&key).unwrap(), before);
    assert_eq!(load_identities(&key).unwrap().len(), 1);
    assert_eq!(
        load_recipients(&files.public).unwrap()[0].to_string(),
        files.recipient
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for mode in [0o640, 0o604, 0o644] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            match load_identities(&key).err() {
                Some(CryptError::KeyPermissions { path, mode: m }) => {
                    assert_eq!((path, m), (key.clone(), mode));
                }
                other => panic!("{mode:o}: {other:?}"),
            }
        }
        let msg = load_identities(&key).err().unwrap().to_string();
        assert!(msg.contains("footage.key") && msg.contains("0644"), "{msg}");
    }
    // A secret key given where a public key belongs is named, not echoed.
    let e = load_recipients(&key).unwrap_err().to_string();
    assert!(e.contains("SECRET key") && !e.contains("AGE-SECRET-KEY-1"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_encrypted_as_written_decrypts_with_the_right_key_only() {
    let dir = scratch("stream");
    let a = generate_key_files(&dir.join("a.key")).unwrap();
    let b = generate_key_files(&dir.join("b.key")).unwrap();
    let path = dir.join("seg.mp4.age");
    let plain: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let f = EncryptingFile::create(&path, &load_recipients(&a.public).unwrap()).unwrap();
    let mut w = f.writer();
    for chunk in plain.chunks(1000) {
        w.write_all(chunk).unwrap();
    }
    f.finish().unwrap();
    let cipher = std::fs::read(&path).unwrap();
    assert!(cipher.starts_with(MAGIC));
    assert!(!cipher.windows(64).any(|w| plain.windows(64).next() == Some(w)));
    let ids = load_identities(&a.secret).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        decrypt_file_to(&ids, &path, &mut out).unwrap(),
        plain.len() as u64
    );
    assert_eq!(out, plain);
    assert!(matches!(
        decrypt_bytes(&load_identities(&b.secret).unwrap(), &cipher, &path),
        Err(CryptError::WrongKey { .. })
    ));
    // Cut short (a crash before the last chunk): the reader says so.
    let cut = &cipher[..cipher.len() - 100];
    assert!(matches!(
        decrypt_bytes(&ids, cut, &path),
        Err(CryptError::Decrypt { .. })
    ));
    // Not an age file at all.
    assert!(matches!(
        decrypt_bytes(&ids, b"\x00\x00\x00\x18ftypisom", &path),
        Err(CryptError::Decrypt { .. })
    ));
    assert!(EncryptingFile::create(&path, &load_recipients(&a.public).unwrap()).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_sealed_data_key_opens_with_a_site_key_only() {
    let dir = scratch("seal");
    let site = generate_key_files(&dir.join("site.key")).unwrap();
    let other = generate_key_files(&dir.join("other.key")).unwrap();
    let data = SecretKey::generate();
    let sealed = data.seal(&load_recipients(&site.public).unwrap()).unwrap();
    let p = dir.join("seg.key.age");
    let opened = SecretKey::unseal(&load_identities(&site.secret).unwrap(), &sealed, &p).unwrap();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].public(), data.public());
    assert!(matches!(
        SecretKey::unseal(&load_identities(&other.secret).unwrap(), &sealed, &p),
        Err(CryptError::WrongKey { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}
