//! Signed manifests: Ed25519 key pairs and detached signatures (ed25519-dalek; no
//! cryptography is written here).
//!
//! # Files
//!
//! - **Secret key** (`site.key`, mode 0600): the Ed25519 private key as PKCS#8 PEM
//!   (`-----BEGIN PRIVATE KEY-----`, RFC 8410), the form OpenSSL reads and writes.
//! - **Public key** (`site.pub`): the public key as SubjectPublicKeyInfo PEM
//!   (`-----BEGIN PUBLIC KEY-----`, RFC 8410).
//! - **Fingerprint** of a public key: `sha256:` followed by the SHA-256, in lowercase hex, of
//!   the 32 raw public key bytes (RFC 8032 encoding). Without Veil:
//!   `openssl pkey -pubin -in site.pub -outform DER | tail -c 32 | sha256sum`.
//! - **Signature** (`MANIFEST.sig`, beside the manifest): the 64-byte Ed25519 signature
//!   (RFC 8032, pure Ed25519, no pre-hash, no context), raw binary.
//!
//! # What is signed (the canonical bytes)
//!
//! The manifest file's bytes exactly as written: UTF-8 JSON, nothing added, nothing removed,
//! trailing newline included. Any change to the file, even whitespace, breaks the signature,
//! so there is no canonicalisation to re-implement. A recipient verifies without Veil with
//! OpenSSL 3:
//!
//! ```text
//! openssl pkeyutl -verify -pubin -inkey site.pub -rawin \
//!     -in export.mp4.manifest.json -sigfile export.mp4.manifest.json.sig
//! sha256sum export.mp4     # equals the manifest's output.sha256
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::manifest::write_atomic;
use crate::RedactError;

/// Length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 secret (signing) key. Its `Debug` shows the public fingerprint only.
pub struct SecretKey {
    key: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("fingerprint", &self.public_key().fingerprint())
            .finish()
    }
}

/// An Ed25519 public (verifying) key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

fn key_err(path: &Path, reason: impl Into<String>) -> RedactError {
    RedactError::Key {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl SecretKey {
    /// A new key from the operating system's random source.
    ///
    /// # Errors
    /// [`RedactError::Internal`] when the random source fails.
    pub fn generate() -> Result<SecretKey, RedactError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| RedactError::Internal(format!("random source: {e}")))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(SecretKey { key })
    }

    /// Read a PKCS#8 PEM secret key file. The file must be private to its owner.
    ///
    /// # Errors
    /// [`RedactError::Io`] when it cannot be read, [`RedactError::Key`] when it is not an
    /// Ed25519 private key in PKCS#8 PEM, or when group or others may access it (naming its
    /// mode: such a key may have been copied, and is not used).
    pub fn load(path: &Path) -> Result<SecretKey, RedactError> {
        let mut f =
            std::fs::File::open(path).map_err(|e| RedactError::io(path, "cannot read the secret key", e))?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text)
            .map_err(|e| RedactError::io(path, "cannot read the secret key", e))?;
        let key = SigningKey::from_pkcs8_pem(&text)
            .map_err(|e| key_err(path, format!("not an Ed25519 private key in PKCS#8 PEM: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = f
                .metadata()
                .map_err(|e| RedactError::io(path, "cannot inspect the secret key", e))?
                .permissions()
                .mode()
                & 0o7777;
            if mode & 0o077 != 0 {
                return Err(key_err(
                    path,
                    format!(
                        "the secret key file is readable by group or others (mode {mode:04o}); make it private with `chmod 600` (and consider it exposed)"
                    ),
                ));
            }
        }
        Ok(SecretKey { key })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// The Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.key.sign(message).to_bytes()
    }
}

impl PublicKey {
    /// Read a SubjectPublicKeyInfo PEM public key file.
    ///
    /// # Errors
    /// [`RedactError::Io`] when it cannot be read, [`RedactError::Key`] when it is not an
    /// Ed25519 public key in PEM.
    pub fn load(path: &Path) -> Result<PublicKey, RedactError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RedactError::io(path, "cannot read the public key", e))?;
        let key = VerifyingKey::from_public_key_pem(&text)
            .map_err(|e| key_err(path, format!("not an Ed25519 public key in PEM: {e}")))?;
        Ok(PublicKey { key })
    }

    /// The key as SubjectPublicKeyInfo PEM.
    ///
    /// # Errors
    /// [`RedactError::Internal`] if encoding fails (it does not for a valid key).
    pub fn to_pem(&self) -> Result<String, RedactError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| RedactError::Internal(format!("encoding a public key: {e}")))
    }

    /// `sha256:` and the SHA-256 of the 32 raw key bytes, lowercase hex.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", veil_core::hash::sha256_hex(self.key.as_bytes()))
    }

    /// Whether `signature` is this key's valid Ed25519 signature of `message` (strict
    /// verification: weak keys and malleable signatures are refused).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; SIGNATURE_LEN]>::try_from(signature) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(message, &sig).is_ok()
    }
}

/// The files [`generate_key_pair`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairFiles {
    /// The secret key (mode 0600).
    pub secret: PathBuf,
    /// The public key.
    pub public: PathBuf,
    /// The public key's fingerprint.
    pub fingerprint: String,
}

/// The public key file that goes with a secret key file: `site.key` -> `site.pub`
/// (`site` -> `site.pub`).
pub fn public_key_path(secret: &Path) -> PathBuf {
    match secret.extension() {
        Some(e) if e != "pub" => secret.with_extension("pub"),
        _ => {
            let mut s = secret.as_os_str().to_owned();
            s.push(".pub");
            PathBuf::from(s)
        }
    }
}

/// The detached signature file of a manifest: `M` -> `M.sig`.
pub fn signature_path(manifest: &Path) -> PathBuf {
    let mut s = manifest.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

/// Generate a key pair: the secret key at `secret` (PKCS#8 PEM, created with mode 0600) and
/// the public key beside it ([`public_key_path`]). Existing files are never overwritten: a
/// lost secret key cannot sign again, and a replaced one would orphan every earlier signature.
///
/// # Errors
/// [`RedactError::Io`] when either file exists or cannot be written (nothing is left behind).
pub fn generate_key_pair(secret: &Path) -> Result<KeyPairFiles, RedactError> {
    let public = public_key_path(secret);
    for p in [secret, public.as_path()] {
        if p.exists() {
            return Err(RedactError::io(
                p,
                "refusing to overwrite a key file",
                std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            ));
        }
    }
    let key = SecretKey::generate()?;
    let pem = key
        .key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| RedactError::Internal(format!("encoding a secret key: {e}")))?;
    let pub_pem = key.public_key().to_pem()?;
    write_secret(secret, pem.as_bytes())?;
    if let Err(e) = write_atomic(&public, pub_pem.as_bytes()) {
        let _ = std::fs::remove_file(secret);
        return Err(e);
    }
    Ok(KeyPairFiles {
        secret: secret.to_path_buf(),
        public,
        fingerprint: key.public_key().fingerprint(),
    })
}

/// Write a secret file that is never readable by others, not even for a moment: created
/// (exclusively) with mode 0600, written, synced.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), RedactError> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let err = |e| RedactError::io(path, "cannot write the secret key", e);
    let mut f = open.open(path).map_err(err)?;
    let res = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = res {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(err(e));
    }
    Ok(())
}

/// Sign the file `manifest` (its bytes as they are) and write the signature to
/// [`signature_path`], atomically. Returns the signature's path.
///
/// # Errors
/// [`RedactError::Io`] when the manifest cannot be read or the signature written.
pub fn sign_file(manifest: &Path, key: &SecretKey) -> Result<PathBuf, RedactError> {
    let bytes =
        std::fs::read(manifest).map_err(|e| RedactError::io(manifest, "cannot read the manifest", e))?;
    let sig = signature_path(manifest);
    write_atomic(&sig, &key.sign(&bytes))?;
    Ok(sig)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_secret_key_others_can_read_is_refused_naming_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("veil-sign-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let k = generate_key_pair(&dir.join("site.key")).unwrap();
        assert!(SecretKey::load(&k.secret).is_ok());
        std::fs::set_permissions(&k.secret, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = SecretKey::load(&k.secret).err().unwrap().to_string();
        assert!(
            e.contains("site.key") && e.contains("0640") && e.contains("group or others"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
