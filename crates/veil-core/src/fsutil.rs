//! File output: atomic writes (beside the destination, fsync, rename) and the same-file check
//! that keeps an output from replacing its input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary files of this process so far: with the process id, a unique name.
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// The temporary path used for `dest` while it is being written: a hidden file in the same
/// directory (so the rename cannot cross file systems), `.<name>.<pid>-<n>.partial`, unique
/// per process and call. Every output Veil writes atomically is staged under such a name.
pub fn temp_path_for(dest: &Path) -> PathBuf {
    temp_name(dest, "")
}

/// [`temp_path_for`] ending in `.<ext>` as well, for writers that choose the container by
/// the file name (FFmpeg).
pub fn temp_path_with_ext(dest: &Path, ext: &str) -> PathBuf {
    temp_name(dest, &format!(".{ext}"))
}

fn temp_name(dest: &Path, suffix: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = format!(".{name}.{}-{n}.partial{suffix}", std::process::id());
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

/// A temporary file that is removed when dropped, unless disarmed (it was renamed into
/// place, or handed on).
#[derive(Debug)]
pub struct TempFile(Option<PathBuf>);

impl TempFile {
    /// Guard `path`.
    pub fn new(path: PathBuf) -> Self {
        TempFile(Some(path))
    }

    /// The guarded path (empty once disarmed).
    pub fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// Keep the file.
    pub fn disarm(mut self) -> Self {
        self.0 = None;
        self
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Write `bytes` to `dest` atomically: a reader sees the old file or the complete new one,
/// never a partial one, and a failure leaves no file at `dest` (and no temporary file).
///
/// # Errors
/// The I/O error of the write, fsync or rename.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = TempFile::new(temp_path_for(dest));
    let mut f = std::fs::File::create(tmp.path())?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp.path(), dest)?;
    tmp.disarm();
    Ok(())
}

/// Make `dir`'s entries (a rename, a removal) durable: best effort, as not every file system
/// allows syncing a directory.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Make a rename onto `dest` durable: [`sync_dir`] of its directory (`.` for a bare name).
pub fn sync_parent(dest: &Path) {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Whether `a` and `b` name the same file: the same file on disk (device and inode on Unix,
/// so a hard link or another spelling of the path counts), else the same canonical path;
/// paths that do not both exist are compared as written. Used to refuse an output that
/// would replace its input (the original recording is the evidence).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_fails_cleanly() {
        let dir = std::env::temp_dir().join(format!("veil-fsutil-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("a.json");
        write_atomic(&dest, b"{}").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"{}");
        let bad = dir.join("missing-dir").join("b.json");
        assert!(write_atomic(&bad, b"x").is_err());
        assert!(!bad.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn same_file_sees_through_spellings_and_links() {
        let dir = std::env::temp_dir().join(format!("veil-fsutil-same-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.mp4");
        std::fs::write(&a, b"x").unwrap();
        assert!(same_file(&a, &dir.join("./a.mp4")));
        assert!(
            !same_file(&a, &dir.join("b.mp4")),
            "an output that does not exist yet"
        );
        #[cfg(unix)]
        {
            let l = dir.join("link.mp4");
            std::fs::hard_link(&a, &l).unwrap();
            assert!(same_file(&a, &l), "a hard link is the same file");
        }
        std::fs::write(dir.join("c.mp4"), b"x").unwrap();
        assert!(!same_file(&a, &dir.join("c.mp4")), "same bytes, another file");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
