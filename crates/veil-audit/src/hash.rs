//! SHA-256 in lowercase hex: of entries' canonical bytes and of export manifests.

use std::fs::File;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::AuditError;

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Whether `s` is 64 lowercase hex digits.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// SHA-256 (lowercase hex) of a file's contents, e.g. an export manifest for
/// [`NewEntry::manifest_sha256`](crate::NewEntry::manifest_sha256).
///
/// # Errors
/// [`AuditError::Io`] when the file cannot be read.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String, AuditError> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "read",
        source,
    })?;
    Ok(hex(&hasher.finalize()))
}
