//! SHA-256 in lowercase hex: of entries' canonical bytes and of export manifests (veil-core's
//! implementation, with errors that name the file).

use std::path::Path;

pub use veil_core::hash::sha256_hex;

use crate::AuditError;

/// Whether `s` is 64 lowercase hex digits.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    veil_core::hash::is_sha256_hex(s)
}

/// SHA-256 (lowercase hex) of a file's contents, e.g. an export manifest for
/// [`NewEntry::manifest_sha256`](crate::NewEntry::manifest_sha256).
///
/// # Errors
/// [`AuditError::Io`] when the file cannot be read.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String, AuditError> {
    let path = path.as_ref();
    veil_core::hash::sha256_file(path)
        .map(|(hex, _)| hex)
        .map_err(|source| AuditError::Io {
            path: path.to_owned(),
            op: "read",
            source,
        })
}
