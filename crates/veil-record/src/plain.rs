//! Reading encrypted footage without writing its plaintext anywhere: an age file (a
//! recorder segment whose data key is sealed in its camera directory's `keys/`, or a file
//! encrypted directly to the key) is decrypted into an anonymous in-memory file, which
//! FFmpeg and the hashing code then read by its `/proc/self/fd` path like any other file.
//! The memory is freed when the [`PlainInput`] is dropped (or the process ends, however it
//! ends): no name in any filesystem, nothing left behind by a crash.

use std::fs::File;
use std::path::{Path, PathBuf};

use veil_crypt::{CryptError, SecretKey};

use crate::decrypt::{segment_key, SegmentKey};
use crate::index::{INDEX_FILE, KEYS_DIR};
use crate::RecordError;

/// Which key opened an encrypted input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataKey {
    /// A recorder segment: its data key, sealed in the camera directory, opened with the
    /// site key.
    Segment {
        /// The camera (the name of the segment's directory).
        camera: String,
        /// The sealed data key file.
        key_file: PathBuf,
    },
    /// The file is encrypted to the key itself.
    Direct,
}

/// What was decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedInput {
    /// SHA-256 of the encrypted file as stored, lowercase hex.
    pub sha256: String,
    /// Bytes of the encrypted file.
    pub encrypted_bytes: u64,
    /// Bytes of plaintext (held in memory while the input is open).
    pub plain_bytes: u64,
    /// The key that opened it.
    pub key: DataKey,
}

/// An input ready to be read: the file itself, or its plaintext in memory.
#[derive(Debug)]
pub struct PlainInput {
    original: PathBuf,
    path: PathBuf,
    encrypted: Option<EncryptedInput>,
    /// The in-memory file holding the plaintext (kept open: closing it frees it).
    _memory: Option<File>,
}

impl PlainInput {
    /// Open `input` for reading. An age file needs `key` (the secret key file, refused when
    /// group or others can read it): a recorder segment is opened with its data key, found
    /// through its camera directory as [`crate::decrypt_segment`] finds it, any other age
    /// file with the key itself. An input that is not encrypted (or a URL) is read as it is.
    ///
    /// # Errors
    /// [`RecordError::Input`] for an encrypted input without a key, a crypto-erased
    /// segment, or a system without in-memory files; [`RecordError::Crypt`] for a key that
    /// opens nothing (`WrongKey`), a key file that is not private, a damaged file.
    pub fn open(input: &Path, key: Option<&Path>) -> Result<PlainInput, RecordError> {
        let plain = || PlainInput {
            original: input.to_path_buf(),
            path: input.to_path_buf(),
            encrypted: None,
            _memory: None,
        };
        let encrypted = input.is_file() && veil_crypt::is_encrypted(input)?;
        if !encrypted {
            return Ok(plain());
        }
        let Some(key) = key else {
            return Err(RecordError::Input {
                reason: format!(
                    "{}: the footage is encrypted (age); give the secret key that opens it (--key)",
                    input.display()
                ),
            });
        };
        let site = veil_crypt::load_identities(key)?;
        // Encrypted to the key itself, or a segment whose data key is sealed to it.
        let (data, how) = match direct(input, &site) {
            Ok(()) => (site, DataKey::Direct),
            Err(CryptError::WrongKey { .. }) if in_camera_dir(input) => {
                let SegmentKey {
                    camera,
                    key_file,
                    key,
                    ..
                } = segment_key(input, &site)?;
                (key, DataKey::Segment { camera, key_file })
            }
            Err(e) => return Err(e.into()),
        };
        let mut memory = memory_file(input)?;
        let plain_bytes = veil_crypt::decrypt_file_to(&data, input, &mut memory)?;
        seal(&memory);
        let (sha256, encrypted_bytes) =
            veil_core::hash::sha256_file(input).map_err(|source| RecordError::Io {
                path: input.to_path_buf(),
                op: "read",
                source,
            })?;
        Ok(PlainInput {
            original: input.to_path_buf(),
            path: memory_path(&memory),
            encrypted: Some(EncryptedInput {
                sha256,
                encrypted_bytes,
                plain_bytes,
                key: how,
            }),
            _memory: Some(memory),
        })
    }

    /// The path to read: the input itself, or `/proc/self/fd/N` of the plaintext in memory
    /// (valid in this process while `self` lives).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The input as given.
    pub fn original(&self) -> &Path {
        &self.original
    }

    /// What was decrypted (`None`: the input is not encrypted).
    pub fn encrypted(&self) -> Option<&EncryptedInput> {
        self.encrypted.as_ref()
    }
}

/// Whether `input` is encrypted to `site` itself (reads only the header).
fn direct(input: &Path, site: &[SecretKey]) -> Result<(), CryptError> {
    let f = File::open(input).map_err(|source| CryptError::Io {
        path: input.to_path_buf(),
        op: "open",
        source,
    })?;
    veil_crypt::decrypt_reader(site, std::io::BufReader::new(f), input).map(|_| ())
}

/// Whether `input` sits in a recorder's camera directory (an index or a keys directory).
fn in_camera_dir(input: &Path) -> bool {
    let dir = match input.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    dir.join(INDEX_FILE).is_file() || dir.join(KEYS_DIR).is_dir()
}

#[cfg(target_os = "linux")]
pub(crate) fn memory_file(input: &Path) -> Result<File, RecordError> {
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create takes a NUL-terminated name and flags; it returns a new file
    // descriptor that nothing else owns, or -1.
    let fd = unsafe {
        libc::memfd_create(
            c"veil-plain".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(RecordError::Io {
            path: input.to_path_buf(),
            op: "create an in-memory file for the plaintext",
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: `fd` is a freshly created descriptor owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// An anonymous file on the filesystem of `dir` (Linux `O_TMPFILE`): never linked into the
/// directory, so nobody else can open it and it is gone when the last descriptor closes (a
/// crash included), and its pages are the page cache's, written back and evicted under
/// memory pressure rather than held like an in-memory file. `None` where the filesystem or
/// the permissions do not allow one.
#[cfg(target_os = "linux")]
pub(crate) fn anonymous_file_in(dir: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir)
        .ok()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn anonymous_file_in(_dir: &Path) -> Option<File> {
    None
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn memory_file(input: &Path) -> Result<File, RecordError> {
    Err(RecordError::Input {
        reason: format!(
            "{}: reading encrypted footage needs anonymous in-memory files (Linux memfd); decrypt it with `redact decrypt` instead",
            input.display()
        ),
    })
}

/// Forbid any change to the plaintext from now on (best effort: readers never write).
#[cfg(target_os = "linux")]
fn seal(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own; F_ADD_SEALS only restricts later writes.
    unsafe {
        libc::fcntl(
            f.as_raw_fd(),
            libc::F_ADD_SEALS,
            libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn seal(_: &File) {}

pub(crate) fn memory_path(f: &File) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        PathBuf::new()
    }
}
