//! Files an operation has written, removed again unless the operation commits: a failed
//! export or disclosure never leaves a part of itself behind that looks complete.

use std::path::{Path, PathBuf};

/// Removes every file recorded with [`OutputGuard::wrote`] when dropped, unless
/// [`OutputGuard::commit`] was called. Only files this operation wrote are recorded, so a
/// failure before an output is written never touches a file that was already there.
#[derive(Debug, Default)]
pub(crate) struct OutputGuard {
    written: Vec<PathBuf>,
}

impl OutputGuard {
    /// `path` now holds this operation's output.
    pub(crate) fn wrote(&mut self, path: &Path) {
        self.written.push(path.to_path_buf());
    }

    /// The operation succeeded: keep every file.
    pub(crate) fn commit(mut self) {
        self.written.clear();
    }
}

impl Drop for OutputGuard {
    fn drop(&mut self) {
        for p in &self.written {
            let _ = std::fs::remove_file(p);
        }
    }
}
