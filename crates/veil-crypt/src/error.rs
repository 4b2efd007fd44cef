//! The crate's error type.

use std::path::{Path, PathBuf};

/// What can go wrong with keys and encrypted files. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// Reading or writing a file failed.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file exists already: keys are never overwritten.
    #[error("{}: refusing to overwrite an existing key file", path.display())]
    KeyExists {
        /// The file.
        path: PathBuf,
    },
    /// A secret key file that group or others may read is refused.
    #[error("{}: the secret key file is readable by group or others (mode {mode:04o}); make it private with `chmod 600` (and consider it exposed)", path.display())]
    KeyPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file that holds no valid key.
    #[error("{}: {reason}", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// Why it is refused (never the key itself).
        reason: String,
    },
    /// The file is not encrypted to any of the keys given.
    #[error("{}: not encrypted to this key (none of the keys given opens it)", path.display())]
    WrongKey {
        /// The file.
        path: PathBuf,
    },
    /// The file is not an age file, or is damaged or cut short.
    #[error("{}: cannot decrypt: {reason}", path.display())]
    Decrypt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Encryption failed (no recipients, an internal error).
    #[error("cannot encrypt: {reason}")]
    Encrypt {
        /// Why.
        reason: String,
    },
}

pub(crate) fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> CryptError + 'a {
    move |source| CryptError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}
