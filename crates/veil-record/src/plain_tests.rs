//! Unit tests of [`PlainInput`]: files encrypted directly to the key (stand-in bytes), the
//! refusals, and a plain input passed through.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_crypt::{generate_key_files, CryptError};

use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-record-plain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `bytes` encrypted to the public key beside `key`, written to `path`.
fn encrypt_to(key: &Path, bytes: &[u8], path: &Path) {
    let public = veil_crypt::load_recipients(&veil_crypt::public_key_path(key)).unwrap();
    std::fs::write(path, veil_crypt::encrypt_bytes(&public, bytes).unwrap()).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_encrypted_to_the_key_is_read_from_memory_and_the_memory_goes_with_it() {
    let d = scratch("direct");
    let key = d.join("footage.key");
    generate_key_files(&key).unwrap();
    let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = d.join("clip.mp4.age");
    encrypt_to(&key, &plain, &file);
    let before: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();

    let input = PlainInput::open(&file, Some(&key)).unwrap();
    assert_eq!(input.original(), file);
    assert!(
        input.path().starts_with("/proc/self/fd/"),
        "{}",
        input.path().display()
    );
    assert_eq!(std::fs::read(input.path()).unwrap(), plain);
    let e = input.encrypted().unwrap();
    assert_eq!(e.key, DataKey::Direct);
    assert_eq!(e.plain_bytes, plain.len() as u64);
    assert_eq!(e.encrypted_bytes, std::fs::metadata(&file).unwrap().len());
    assert_eq!(e.sha256, veil_core::hash::sha256_file(&file).unwrap().0);
    // Sealed: a reader cannot change the footage it reads.
    assert!(std::fs::OpenOptions::new()
        .write(true)
        .open(input.path())
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(b"x")
        })
        .is_err());
    // Nothing was written beside the input; closing frees the memory.
    let path = input.path().to_path_buf();
    drop(input);
    let after: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
    assert!(std::fs::read(&path).map_or(true, |b| b != plain));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn no_key_a_wrong_key_and_a_public_key_are_refused_and_plain_input_passes_through() {
    let d = scratch("refused");
    let key = d.join("footage.key");
    let other = d.join("other.key");
    generate_key_files(&key).unwrap();
    generate_key_files(&other).unwrap();
    let file = d.join("clip.mp4.age");
    encrypt_to(&key, b"not really a video", &file);

    let e = PlainInput::open(&file, None).unwrap_err();
    assert!(matches!(e, RecordError::Input { .. }), "{e}");
    assert!(e.to_string().contains("--key"), "{e}");
    let e = PlainInput::open(&file, Some(&other)).unwrap_err();
    assert!(
        matches!(e, RecordError::Crypt(CryptError::WrongKey { .. })),
        "{e}"
    );
    // A key file that others can read is refused before it is used.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = PlainInput::open(&file, Some(&key)).unwrap_err();
        assert!(
            matches!(e, RecordError::Crypt(CryptError::KeyPermissions { .. })),
            "{e}"
        );
    }
    // The public key is no secret key.
    let e = PlainInput::open(&file, Some(&veil_crypt::public_key_path(&other))).unwrap_err();
    assert!(matches!(e, RecordError::Crypt(_)), "{e}");

    // Not encrypted: read as it is, with or without a key; so is a URL.
    let plain = d.join("clip.mp4");
    std::fs::write(&plain, b"plain").unwrap();
    for k in [None, Some(other.as_path())] {
        let i = PlainInput::open(&plain, k).unwrap();
        assert_eq!(i.path(), plain);
        assert!(i.encrypted().is_none());
    }
    let url = Path::new("rtsp://127.0.0.1:8554/cam");
    assert_eq!(PlainInput::open(url, None).unwrap().path(), url);
    std::fs::remove_dir_all(d).unwrap();
}
