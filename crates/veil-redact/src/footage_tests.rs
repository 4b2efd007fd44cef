//! Unit tests of the [`Sealer`]: outputs diverted to private memory, encrypted into their
//! staging files, nothing left behind.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-redact-footage-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn without_recipients_outputs_stay_where_they_were_staged() {
    let mut s = Sealer::new(Vec::new());
    let staged = PathBuf::from("/somewhere/.export.mp4");
    assert_eq!(s.divert(staged.clone()).unwrap(), staged);
    assert!(s.recipients().is_empty());
    s.seal().unwrap();
}

#[cfg(unix)]
#[test]
fn a_diverted_output_is_written_in_private_memory_and_sealed_for_its_recipient_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch("seal");
    let key = d.join("police.key");
    veil_crypt::generate_key_files(&key).unwrap();
    let recipients = load_recipients(&[veil_crypt::public_key_path(&key)]).unwrap();
    let mut s = Sealer::new(recipients);
    assert!(s.recipients()[0].starts_with("age1"));
    let staged = d.join(".copy.mp4.staging.mp4");
    let plain = s.divert(staged.clone()).unwrap();
    assert!(plain.starts_with("/dev/shm"), "{}", plain.display());
    assert_eq!(plain.extension().unwrap(), "mp4");
    let dir = plain.parent().unwrap().to_path_buf();
    assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let video: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8).collect();
    fs::write(&plain, &video).unwrap();
    s.seal().unwrap();
    // The plaintext is gone from memory, the staging file holds only ciphertext.
    assert!(!plain.exists());
    let sealed = fs::read(&staged).unwrap();
    assert!(sealed.starts_with(veil_crypt::MAGIC));
    let ids = veil_crypt::load_identities(&key).unwrap();
    assert_eq!(veil_crypt::decrypt_bytes(&ids, &sealed, &staged).unwrap(), video);
    drop(s);
    assert!(!dir.exists());
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_output_that_was_never_written_fails_to_seal_and_leaves_nothing() {
    let d = scratch("unwritten");
    let key = d.join("police.key");
    veil_crypt::generate_key_files(&key).unwrap();
    let mut s = Sealer::new(load_recipients(&[veil_crypt::public_key_path(&key)]).unwrap());
    let staged = d.join(".copy.mp4.staging.mp4");
    let plain = s.divert(staged.clone()).unwrap();
    let dir = plain.parent().unwrap().to_path_buf();
    assert!(s.seal().is_err());
    assert!(!staged.exists());
    drop(s);
    assert!(!dir.exists());
    // A recipient file that holds no public key is refused.
    assert!(load_recipients(&[key]).is_err());
    fs::remove_dir_all(d).unwrap();
}
