//! What a recipient runs: [`verify`] checks that a file is the one a Veil manifest describes
//! and, with the organisation's public key, that the manifest is the one the organisation
//! signed. Works for disclosure manifests ([`crate::disclose()`]) and export manifests alike:
//! both carry `output.sha256`.

use std::path::{Path, PathBuf};

use crate::manifest::sha256_file;
use crate::sign::{signature_path, PublicKey, SIGNATURE_LEN};

/// Why a verification failed. Each message is one line that names the file and says which
/// check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A file to check is missing or unreadable.
    #[error("{}: missing {what}: {reason}", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// Which file it is (`output`, `manifest`, `public key`).
        what: &'static str,
        /// The operating system's error.
        reason: String,
    },
    /// The manifest is not JSON with an `output.sha256`.
    #[error("{}: not a Veil manifest: {reason}", path.display())]
    NotAManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The public key file is not an Ed25519 public key.
    #[error("{}: not an Ed25519 public key (SubjectPublicKeyInfo PEM expected)", path.display())]
    InvalidKey {
        /// The key file.
        path: PathBuf,
    },
    /// A key was given but the manifest has no signature file.
    #[error("{}: unsigned manifest: no signature {} (a public key was given)", manifest.display(), signature.display())]
    Unsigned {
        /// The manifest.
        manifest: PathBuf,
        /// Where its signature would be.
        signature: PathBuf,
    },
    /// The signature file is not 64 bytes.
    #[error("{}: not an Ed25519 signature ({len} bytes, {SIGNATURE_LEN} expected)", path.display())]
    InvalidSignature {
        /// The signature file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// The manifest names another signing key than the one given, and the signature does not
    /// verify with the given key.
    #[error("{}: wrong key: the manifest was signed by {signer}, the public key given is {given}", manifest.display())]
    WrongKey {
        /// The manifest.
        manifest: PathBuf,
        /// The fingerprint the manifest names.
        signer: String,
        /// The fingerprint of the key given.
        given: String,
    },
    /// The signature does not verify: the manifest was changed after it was signed (or
    /// signed with another key, when the manifest does not name its signer).
    #[error("{}: manifest altered: its signature does not verify with key {given}", manifest.display())]
    BadSignature {
        /// The manifest.
        manifest: PathBuf,
        /// The fingerprint of the key given.
        given: String,
    },
    /// The audit log does not hold the entry the disclosure manifest names, or the entry does
    /// not record this manifest.
    #[error("{}: audit link broken: {reason}", log.display())]
    AuditLink {
        /// The audit log.
        log: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The file's SHA-256 is not the one the manifest records.
    #[error("{}: does not match the manifest: SHA-256 {actual}, the manifest records {expected}", output.display())]
    OutputMismatch {
        /// The file checked.
        output: PathBuf,
        /// The manifest's `output.sha256`.
        expected: String,
        /// The file's SHA-256.
        actual: String,
    },
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The output's SHA-256 (equal to the manifest's).
    pub sha256: String,
    /// The manifest's `kind` (`disclosure`), `export` for an export manifest (which has none).
    pub kind: String,
    /// The fingerprint of the key the signature verified with; `None` when no key was given.
    pub signed_by: Option<String>,
    /// A signature file exists beside the manifest (checked only when a key is given).
    pub has_signature: bool,
}

fn missing(path: &Path, what: &'static str, e: &std::io::Error) -> VerifyError {
    VerifyError::Missing {
        path: path.to_path_buf(),
        what,
        reason: e.to_string(),
    }
}

/// Check `output` against `manifest`: with `pubkey`, first that the manifest's detached
/// signature (`MANIFEST.sig`) verifies with that key, then that the output's SHA-256 is the
/// one the manifest records.
///
/// # Errors
/// The first check that fails, as a [`VerifyError`].
pub fn verify(output: &Path, manifest: &Path, pubkey: Option<&Path>) -> Result<Verified, VerifyError> {
    let bytes = std::fs::read(manifest).map_err(|e| missing(manifest, "manifest", &e))?;
    let sig_path = signature_path(manifest);
    let has_signature = sig_path.exists();
    let parsed: Result<serde_json::Value, String> = serde_json::from_slice(&bytes).map_err(|e| e.to_string());
    let mut signed_by = None;
    if let Some(key_path) = pubkey {
        let key = match PublicKey::load(key_path) {
            Ok(k) => k,
            Err(crate::RedactError::Io { source, .. }) => {
                return Err(missing(key_path, "public key", &source))
            }
            Err(_) => {
                return Err(VerifyError::InvalidKey {
                    path: key_path.to_path_buf(),
                })
            }
        };
        let sig = match std::fs::read(&sig_path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VerifyError::Unsigned {
                    manifest: manifest.to_path_buf(),
                    signature: sig_path,
                })
            }
            Err(e) => return Err(missing(&sig_path, "signature", &e)),
        };
        if sig.len() != SIGNATURE_LEN {
            return Err(VerifyError::InvalidSignature {
                path: sig_path,
                len: sig.len() as u64,
            });
        }
        let given = key.fingerprint();
        if !key.verify(&bytes, &sig) {
            let signer = parsed
                .as_ref()
                .ok()
                .and_then(|v| v.pointer("/signer/public_key_sha256"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            return Err(match signer {
                Some(signer) if signer != given => VerifyError::WrongKey {
                    manifest: manifest.to_path_buf(),
                    signer,
                    given,
                },
                _ => VerifyError::BadSignature {
                    manifest: manifest.to_path_buf(),
                    given,
                },
            });
        }
        signed_by = Some(given);
    }
    let not_manifest = |reason: String| VerifyError::NotAManifest {
        path: manifest.to_path_buf(),
        reason,
    };
    let doc = parsed.map_err(not_manifest)?;
    let expected = doc
        .pointer("/output/sha256")
        .and_then(|v| v.as_str())
        .ok_or_else(|| not_manifest("no output.sha256".into()))?
        .to_owned();
    let kind = doc
        .get("kind")
        .and_then(|v| v.as_str())
        .unwrap_or("export")
        .to_owned();
    let actual = match sha256_file(output) {
        Ok(h) => h,
        Err(crate::RedactError::Io { source, .. }) => return Err(missing(output, "output", &source)),
        Err(e) => {
            return Err(VerifyError::Missing {
                path: output.to_path_buf(),
                what: "output",
                reason: e.to_string(),
            })
        }
    };
    if actual != expected {
        return Err(VerifyError::OutputMismatch {
            output: output.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(Verified {
        sha256: actual,
        kind,
        signed_by,
        has_signature,
    })
}

/// For the organisation's auditor: check that the audit log `log` is intact and that its
/// entry named by the disclosure manifest (`audit.seq`, `audit.hash`) is a `disclose` entry
/// recording this manifest's SHA-256 ([`crate::DisclosureManifest::entry_digest`]). Returns
/// the entry's sequence number.
///
/// # Errors
/// [`VerifyError::Missing`] / [`VerifyError::NotAManifest`] for the manifest,
/// [`VerifyError::AuditLink`] for a damaged log or an entry that does not match.
pub fn verify_audit_link(manifest: &Path, log: &Path) -> Result<u64, VerifyError> {
    if let Err(e) = std::fs::metadata(manifest) {
        return Err(missing(manifest, "manifest", &e));
    }
    let not_manifest = |reason: String| VerifyError::NotAManifest {
        path: manifest.to_path_buf(),
        reason,
    };
    let m = crate::DisclosureManifest::load(manifest).map_err(|e| not_manifest(e.to_string()))?;
    let link = m
        .audit
        .clone()
        .ok_or_else(|| not_manifest("no audit link (\"audit\" is null)".into()))?;
    let broken = |reason: String| VerifyError::AuditLink {
        log: log.to_path_buf(),
        reason,
    };
    let summary = veil_audit::verify_file(log).map_err(|e| broken(e.to_string()))?;
    if !summary.is_intact() {
        return Err(broken(format!("the log is not intact: {summary}")));
    }
    let entries = veil_audit::AuditLog::new(log)
        .read_entries()
        .map_err(|e| broken(e.to_string()))?;
    let entry = entries
        .iter()
        .find(|e| e.seq == link.seq)
        .ok_or_else(|| broken(format!("no entry {} (the log has {})", link.seq, entries.len())))?;
    if entry.hash != link.hash {
        return Err(broken(format!(
            "entry {} has hash {}, the manifest names {}",
            link.seq, entry.hash, link.hash
        )));
    }
    let digest = m.entry_digest().map_err(|e| not_manifest(e.to_string()))?;
    if entry.action != veil_audit::Action::Disclose
        || entry.manifest_sha256.as_deref() != Some(digest.as_str())
    {
        return Err(broken(format!(
            "entry {} is not the disclose entry of this manifest (it records {:?}, the manifest hashes to {digest})",
            link.seq, entry.manifest_sha256
        )));
    }
    Ok(entry.seq)
}
