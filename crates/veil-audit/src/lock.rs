//! Exclusive advisory file lock (flock) for appends.

use std::fs::File;
use std::path::Path;

use crate::AuditError;

/// Holds `flock(LOCK_EX)` on a file until dropped. flock locks belong to the open file
/// description, so two processes (or two handles in one process) exclude each other.
pub(crate) struct ExclusiveLock<'a> {
    #[cfg_attr(not(unix), allow(dead_code))]
    file: &'a File,
}

#[cfg(unix)]
impl<'a> ExclusiveLock<'a> {
    /// Blocks until the lock is held.
    pub(crate) fn acquire(file: &'a File, path: &Path) -> Result<Self, AuditError> {
        use std::os::fd::AsRawFd;
        loop {
            // SAFETY: flock only reads the descriptor number; `file` keeps the descriptor open
            // for the duration of the call (and of the guard).
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(ExclusiveLock { file });
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(AuditError::Io {
                    path: path.to_owned(),
                    op: "lock",
                    source: err,
                });
            }
        }
    }
}

#[cfg(unix)]
impl Drop for ExclusiveLock<'_> {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as in `acquire`; the file outlives the guard. A failed unlock is harmless:
        // closing the file releases the lock anyway.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(not(unix))]
impl<'a> ExclusiveLock<'a> {
    /// Locking is not implemented here: refuse rather than risk a forked chain.
    pub(crate) fn acquire(_file: &'a File, path: &Path) -> Result<Self, AuditError> {
        Err(AuditError::LockUnsupported {
            path: path.to_owned(),
        })
    }
}
