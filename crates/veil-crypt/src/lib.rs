//! Footage at rest: key files, encryption to public keys as footage is written, and
//! decryption with the secret key.
//!
//! Veil does no cryptography of its own. Files are in the [age](https://age-encryption.org/v1)
//! format (the `age` crate): X25519 recipients, the payload in ChaCha20-Poly1305 chunks of
//! 64 KiB (STREAM), so a file is written front to back as it is produced and any change to
//! it is detected on reading. The standard `age` command-line tool reads every file written
//! here, and the key files are the ones `age-keygen` writes:
//!
//! - a **secret key** file (`footage.key`, mode 0600): `AGE-SECRET-KEY-1...` lines, with
//!   comments; [`load_identities`] refuses one that group or others can read;
//! - a **public key** file (`footage.key.pub`): `age1...` lines, one per recipient; anyone
//!   may hold it, and it is all an encrypting recorder needs.
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("veil-crypt-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let _ = std::fs::remove_file(dir.join("footage.key"));
//! # let _ = std::fs::remove_file(dir.join("footage.key.pub"));
//! use std::io::{Read, Write};
//! let files = veil_crypt::generate_key_files(&dir.join("footage.key"))?;
//! let recipients = veil_crypt::load_recipients(&files.public)?;
//! let sealed = veil_crypt::encrypt_bytes(&recipients, b"a masked segment")?;
//! assert!(sealed.starts_with(veil_crypt::MAGIC));
//! let identities = veil_crypt::load_identities(&files.secret)?;
//! let plain = veil_crypt::decrypt_bytes(&identities, &sealed, "segment".as_ref())?;
//! assert_eq!(plain, b"a masked segment");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), veil_crypt::CryptError>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use age::secrecy::ExposeSecret;

mod error;

use error::io_err;
pub use error::CryptError;

/// A secret key (an age X25519 identity, `AGE-SECRET-KEY-1...`). Its `Debug` shows nothing
/// of it.
pub struct SecretKey(age::x25519::Identity);

/// A public key (an age X25519 recipient, `age1...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(age::x25519::Recipient);

impl SecretKey {
    /// A new random key (the operating system's random source).
    pub fn generate() -> SecretKey {
        SecretKey(age::x25519::Identity::generate())
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.to_public())
    }

    /// The key as an identity file (a comment naming its public key, then the key), the
    /// format `age -i` reads.
    fn to_file_text(&self) -> String {
        format!(
            "# public key: {}\n{}\n",
            self.public(),
            self.0.to_string().expose_secret()
        )
    }

    /// Seal this key for `recipients`: an age file whose plaintext is this key as an
    /// identity file, so `age -d -i SITE.key SEALED > data.key` recovers it with the
    /// standard tool. The caller then drops the key.
    ///
    /// # Errors
    /// [`CryptError::Encrypt`].
    pub fn seal(&self, recipients: &[PublicKey]) -> Result<Vec<u8>, CryptError> {
        encrypt_bytes(recipients, self.to_file_text().as_bytes())
    }

    /// Open a key sealed with [`SecretKey::seal`] (`path` names it in errors).
    ///
    /// # Errors
    /// As [`decrypt_bytes`], and [`CryptError::BadKey`] when the plaintext is not a key.
    pub fn unseal(
        identities: &[SecretKey],
        sealed: &[u8],
        path: &Path,
    ) -> Result<Vec<SecretKey>, CryptError> {
        let plain = decrypt_bytes(identities, sealed, path)?;
        let text = String::from_utf8(plain).map_err(|_| CryptError::BadKey {
            path: path.to_path_buf(),
            reason: "the sealed key is not text".into(),
        })?;
        parse_identities(&text, path)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(public {})", self.public())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for PublicKey {
    type Err = CryptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        age::x25519::Recipient::from_str(s.trim())
            .map(PublicKey)
            .map_err(|e| CryptError::BadKey {
                path: PathBuf::from("<public key>"),
                reason: format!("not an age X25519 public key (age1...): {e}"),
            })
    }
}

/// The first bytes of every age file.
pub const MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// The public key file beside a secret key file: `footage.key` -> `footage.key.pub`.
pub fn public_key_path(secret: &Path) -> PathBuf {
    let mut s = secret.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// The files [`generate_key_files`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    /// The secret key (mode 0600).
    pub secret: PathBuf,
    /// The public key.
    pub public: PathBuf,
    /// The public key itself (`age1...`).
    pub recipient: String,
}

/// Write a new X25519 key pair: `secret` (created exclusively, mode 0600, synced) in the
/// format of `age-keygen`, and its public key beside it ([`public_key_path`]).
///
/// # Errors
/// [`CryptError::KeyExists`] when either file exists (nothing is written then),
/// [`CryptError::Io`].
pub fn generate_key_files(secret: &Path) -> Result<KeyFiles, CryptError> {
    let public = public_key_path(secret);
    for p in [secret, public.as_path()] {
        if p.exists() {
            return Err(CryptError::KeyExists {
                path: p.to_path_buf(),
            });
        }
    }
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let mut text = format!(
        "# Veil footage key (age X25519): keep it offline, never share it\n# public key: {recipient}\n"
    );
    text.push_str(identity.to_string().expose_secret());
    text.push('\n');
    write_new(secret, text.as_bytes(), true)?;
    if let Err(e) = write_new(&public, format!("{recipient}\n").as_bytes(), false) {
        let _ = std::fs::remove_file(secret);
        return Err(e);
    }
    Ok(KeyFiles {
        secret: secret.to_path_buf(),
        public,
        recipient,
    })
}

/// Create `path` exclusively (mode 0600 when `private`), write and sync it; a file that
/// cannot be completed is removed.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), CryptError> {
    let mut open = OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = open.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CryptError::KeyExists {
                path: path.to_path_buf(),
            }
        } else {
            CryptError::Io {
                path: path.to_path_buf(),
                op: "create",
                source: e,
            }
        }
    })?;
    let r = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = r {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(io_err(path, "write")(e));
    }
    Ok(())
}

/// Read a secret key file: every `AGE-SECRET-KEY-1...` line (comments and blank lines
/// skipped). The file must be private to its owner.
///
/// # Errors
/// [`CryptError::KeyPermissions`] when group or others have any access to it (checked on
/// the open file), [`CryptError::BadKey`] for a line that is not a secret key (the line is
/// not repeated: it may be one) or a file without a key, [`CryptError::Io`].
pub fn load_identities(path: &Path) -> Result<Vec<SecretKey>, CryptError> {
    let mut f = File::open(path).map_err(io_err(path, "open the secret key"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = f.metadata().map_err(io_err(path, "inspect the secret key"))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CryptError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let mut text = String::new();
    f.read_to_string(&mut text)
        .map_err(io_err(path, "read the secret key"))?;
    parse_identities(&text, path)
}

/// The secret keys in `text` (an identity file's contents); `path` names it in errors.
///
/// # Errors
/// [`CryptError::BadKey`] as for [`load_identities`].
pub fn parse_identities(text: &str, path: &Path) -> Result<Vec<SecretKey>, CryptError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let id = age::x25519::Identity::from_str(line)
            .map(SecretKey)
            .map_err(|_| CryptError::BadKey {
                path: path.to_path_buf(),
                reason: if line.starts_with("age1") {
                    format!("line {} is a public key; give the secret key file", i + 1)
                } else {
                    format!(
                        "line {} is not an age X25519 secret key (AGE-SECRET-KEY-1...)",
                        i + 1
                    )
                },
            })?;
        out.push(id);
    }
    if out.is_empty() {
        return Err(CryptError::BadKey {
            path: path.to_path_buf(),
            reason: "no secret key in the file".into(),
        });
    }
    Ok(out)
}

/// Read a public key file: every `age1...` line (comments and blank lines skipped).
///
/// # Errors
/// [`CryptError::BadKey`] for a line that is not an X25519 public key (a secret key given
/// by mistake is named as such) or a file without one, [`CryptError::Io`].
pub fn load_recipients(path: &Path) -> Result<Vec<PublicKey>, CryptError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path, "read the public key"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let r = age::x25519::Recipient::from_str(line)
            .map(PublicKey)
            .map_err(|_| CryptError::BadKey {
                path: path.to_path_buf(),
                reason: if line.starts_with("AGE-SECRET-KEY-") {
                    format!(
                        "line {} is a SECRET key: give the public key file (.pub), and keep this one private",
                        i + 1
                    )
                } else {
                    format!("line {} is not an age X25519 public key (age1...)", i + 1)
                },
            })?;
        out.push(r);
    }
    if out.is_empty() {
        return Err(CryptError::BadKey {
            path: path.to_path_buf(),
            reason: "no public key in the file".into(),
        });
    }
    Ok(out)
}

fn encryptor(recipients: &[PublicKey]) -> Result<age::Encryptor, CryptError> {
    if recipients.is_empty() {
        return Err(CryptError::Encrypt {
            reason: "no recipient".into(),
        });
    }
    age::Encryptor::with_recipients(recipients.iter().map(|r| &r.0 as &dyn age::Recipient)).map_err(|e| {
        CryptError::Encrypt {
            reason: e.to_string(),
        }
    })
}

/// Encrypt `plain` to every recipient (any one of their secret keys decrypts it).
///
/// # Errors
/// [`CryptError::Encrypt`].
pub fn encrypt_bytes(recipients: &[PublicKey], plain: &[u8]) -> Result<Vec<u8>, CryptError> {
    let enc = encryptor(recipients)?;
    let fail = |e: std::io::Error| CryptError::Encrypt {
        reason: e.to_string(),
    };
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = enc.wrap_output(&mut out).map_err(fail)?;
    w.write_all(plain).map_err(fail)?;
    w.finish().map_err(fail)?;
    Ok(out)
}

/// A reader of the plaintext of an age file: chunks are authenticated as they are read,
/// and a damaged or truncated file is a read error.
pub type DecryptingReader<R> = age::stream::StreamReader<R>;

/// Open `input` (an age file named `path` in errors) with `identities`.
///
/// # Errors
/// [`CryptError::WrongKey`] when no identity opens it, [`CryptError::Decrypt`] when it is
/// not an age file or its header is damaged.
pub fn decrypt_reader<R: Read>(
    identities: &[SecretKey],
    input: R,
    path: &Path,
) -> Result<DecryptingReader<R>, CryptError> {
    let bad = |reason: String| CryptError::Decrypt {
        path: path.to_path_buf(),
        reason,
    };
    let d = age::Decryptor::new(input).map_err(|e| match e {
        age::DecryptError::Io(e) => bad(format!("not an age file ({e})")),
        e => bad(format!("not an age file ({e})")),
    })?;
    d.decrypt(identities.iter().map(|i| &i.0 as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => CryptError::WrongKey {
                path: path.to_path_buf(),
            },
            e => bad(e.to_string()),
        })
}

/// Decrypt an age file held in memory.
///
/// # Errors
/// As [`decrypt_reader`], and [`CryptError::Decrypt`] for a damaged or truncated payload.
pub fn decrypt_bytes(identities: &[SecretKey], cipher: &[u8], path: &Path) -> Result<Vec<u8>, CryptError> {
    let mut r = decrypt_reader(identities, cipher, path)?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(|e| CryptError::Decrypt {
        path: path.to_path_buf(),
        reason: format!("damaged or cut short: {e}"),
    })?;
    Ok(out)
}

/// Decrypt the age file `input` into `output`; returns the plaintext's length.
///
/// # Errors
/// As [`decrypt_reader`]; [`CryptError::Decrypt`] for a damaged or truncated payload (part
/// of the plaintext may have been written to `output` by then: write to a temporary file);
/// [`CryptError::Io`].
pub fn decrypt_file_to(
    identities: &[SecretKey],
    input: &Path,
    output: &mut dyn Write,
) -> Result<u64, CryptError> {
    let f = File::open(input).map_err(io_err(input, "open"))?;
    let mut r = decrypt_reader(identities, std::io::BufReader::new(f), input)?;
    std::io::copy(&mut r, output).map_err(|e| CryptError::Decrypt {
        path: input.to_path_buf(),
        reason: format!("damaged or cut short, or the output failed: {e}"),
    })
}

/// Whether `path` starts like an age file.
///
/// # Errors
/// [`CryptError::Io`] when it cannot be read.
pub fn is_encrypted(path: &Path) -> Result<bool, CryptError> {
    let mut f = File::open(path).map_err(io_err(path, "open"))?;
    let mut head = [0u8; MAGIC.len()];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(path, "read")(e)),
        }
    }
    Ok(&head[..n] == MAGIC)
}

type Stream = age::stream::StreamWriter<BufWriter<File>>;

/// A file encrypted as it is written: created exclusively, fed through any number of
/// [`EncryptingWriter`] handles (e.g. one moved into an encoder), closed with
/// [`EncryptingFile::finish`]. Nothing is written in the clear; a file dropped without
/// `finish` lacks its last chunk, which a reader reports as cut short after the chunks
/// before it.
pub struct EncryptingFile {
    path: PathBuf,
    stream: Arc<Mutex<Option<Stream>>>,
}

/// A `Write` handle on an [`EncryptingFile`] (`Send`, `'static`).
#[derive(Clone)]
pub struct EncryptingWriter {
    stream: Arc<Mutex<Option<Stream>>>,
}

impl std::fmt::Debug for EncryptingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptingFile")
            .field("path", &self.path)
            .finish()
    }
}

impl std::fmt::Debug for EncryptingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptingWriter").finish_non_exhaustive()
    }
}

impl EncryptingFile {
    /// Create `path` (it must not exist) encrypted to `recipients`.
    ///
    /// # Errors
    /// [`CryptError::Io`] (an existing file included), [`CryptError::Encrypt`].
    pub fn create(path: &Path, recipients: &[PublicKey]) -> Result<EncryptingFile, CryptError> {
        let enc = encryptor(recipients)?;
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io_err(path, "create"))?;
        let stream = match enc.wrap_output(BufWriter::with_capacity(128 * 1024, f)) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(io_err(path, "write")(e));
            }
        };
        Ok(EncryptingFile {
            path: path.to_path_buf(),
            stream: Arc::new(Mutex::new(Some(stream))),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A handle to write plaintext through.
    pub fn writer(&self) -> EncryptingWriter {
        EncryptingWriter {
            stream: Arc::clone(&self.stream),
        }
    }

    /// Write the last chunk, flush and sync the file. Writers still held fail from now on.
    ///
    /// # Errors
    /// [`CryptError::Io`].
    pub fn finish(self) -> Result<(), CryptError> {
        let taken = self
            .stream
            .lock()
            .map_err(|_| io_err(&self.path, "finish")(std::io::Error::other("a writer panicked")))?
            .take();
        let Some(stream) = taken else {
            return Err(io_err(&self.path, "finish")(std::io::Error::other(
                "finished already",
            )));
        };
        let buf = stream.finish().map_err(io_err(&self.path, "write"))?;
        let f = buf
            .into_inner()
            .map_err(|e| io_err(&self.path, "write")(e.into_error()))?;
        f.sync_all().map_err(io_err(&self.path, "sync"))
    }
}

impl Write for EncryptingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut g = self
            .stream
            .lock()
            .map_err(|_| std::io::Error::other("a writer panicked"))?;
        match g.as_mut() {
            Some(s) => s.write(buf),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the encrypted file is closed",
            )),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // age writes whole chunks: a partial chunk stays in memory until it is full or
        // the file is finished (flushing it early would end the stream).
        let mut g = self
            .stream
            .lock()
            .map_err(|_| std::io::Error::other("a writer panicked"))?;
        match g.as_mut() {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
