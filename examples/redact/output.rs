//! Evidence-safe output files, and the flags every command shares (`--force`, `-q`,
//! `--progress-json`).
//!
//! A command never replaces an existing file unless `--force` is given: an inzage copy
//! already handed out, or an export named in the audit log, must not be overwritten by a
//! typo. A command asks [`Outputs::stage`] for a staging path beside each destination
//! (refused at once when the destination exists), writes there, and [`Outputs::publish`]es
//! at the end. Without `--force` publishing is a no-clobber rename (`renameat2` with
//! `RENAME_NOREPLACE`, else `link(2)`), so a file that appeared meanwhile is not replaced
//! either: the check and the replacement are one atomic step. Staging files left by a
//! failure are removed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use clap::Args;

/// Flags shared by every command.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct GlobalArgs {
    /// Replace output files that already exist (default: refuse, exit 1, old file untouched).
    #[arg(long, global = true)]
    pub force: bool,
    /// Print nothing but warnings and errors (no progress, no summary).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Report progress as JSON lines on stderr, one per second and one at the end of each
    /// stage: {"stage":..,"step":..,"steps":..,"frame":..,"frames":..,"fps":..,"eta_s":..}.
    #[arg(long, global = true)]
    pub progress_json: bool,
}

static GLOBALS: OnceLock<GlobalArgs> = OnceLock::new();

/// Record the global flags (once, before the command runs).
pub fn init(args: GlobalArgs) {
    let _ = GLOBALS.set(args);
}

/// The global flags.
pub fn globals() -> GlobalArgs {
    GLOBALS.get().copied().unwrap_or_default()
}

/// Whether informational messages are suppressed (`-q`).
pub fn quiet() -> bool {
    globals().quiet
}

/// An informational message on stderr, unless `-q`.
#[macro_export]
macro_rules! note {
    ($($t:tt)*) => {
        if !$crate::output::quiet() {
            eprintln!($($t)*);
        }
    };
}

/// The output files of one command: staged beside their destinations, published together.
#[derive(Debug)]
pub struct Outputs {
    force: bool,
    /// (destination, staging path) in the order staged.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Outputs {
    /// Outputs obeying the global `--force`.
    pub fn new() -> Self {
        Outputs {
            force: globals().force,
            files: Vec::new(),
        }
    }

    /// Refuse `dest` now if it exists (without `--force`), and return the staging path to
    /// write instead: a hidden file in the same directory (so that publishing is a rename
    /// within one file system) whose name ends with `dest`'s name (same extension).
    ///
    /// # Errors
    /// `dest` exists and `--force` was not given.
    pub fn stage(&mut self, dest: &Path) -> anyhow::Result<PathBuf> {
        if !self.force {
            refuse_existing(dest)?;
        }
        // Errors writing the staging file would name it rather than `dest`: check the
        // directory here, naming `dest`.
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => anyhow::bail!("{}: {} is not a directory", dest.display(), dir.display()),
            Err(e) => anyhow::bail!("{}: directory {}: {e}", dest.display(), dir.display()),
        }
        // veil-core's temporary naming (hidden, unique, the destination's extension last).
        let ext = dest
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging =
            veil::core::fsutil::temp_path_with_ext(&dir.join(dest.file_name().unwrap_or_default()), &ext);
        self.files.push((dest.to_path_buf(), staging.clone()));
        Ok(staging)
    }

    /// Move every staged file that was written to its destination. Without `--force` a
    /// destination that exists by now is not replaced: the error names it, and the files
    /// this call already published are taken back, so that the outputs appear together or
    /// not at all.
    ///
    /// # Errors
    /// A destination exists (without `--force`), or the rename fails.
    pub fn publish(mut self) -> anyhow::Result<()> {
        let files = std::mem::take(&mut self.files);
        let mut done: Vec<&Path> = Vec::new();
        let mut result = Ok(());
        for (dest, staging) in &files {
            if std::fs::symlink_metadata(staging).is_err() {
                continue; // an optional output the command did not write
            }
            let res = if self.force {
                std::fs::rename(staging, dest)
                    .with_context(|| format!("{}: cannot move the finished file into place", dest.display()))
            } else {
                rename_no_replace(staging, dest).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        exists_error(dest)
                    } else {
                        anyhow::Error::new(e).context(format!(
                            "{}: cannot move the finished file into place",
                            dest.display()
                        ))
                    }
                })
            };
            match res {
                Ok(()) => {
                    sync_parent(dest);
                    done.push(dest);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_err() {
            for dest in done {
                let _ = std::fs::remove_file(dest);
            }
            for (_, staging) in &files {
                let _ = std::fs::remove_file(staging);
            }
        }
        result
    }
}

impl Drop for Outputs {
    /// A command that failed (or returned early) leaves no staging file behind.
    fn drop(&mut self) {
        for (_, staging) in &self.files {
            let _ = std::fs::remove_file(staging);
        }
    }
}

fn exists_error(dest: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: already exists; not replaced (evidence is never overwritten silently: choose another name, or pass --force)",
        dest.display()
    )
}

/// Refuse an existing `dest` (a dangling symlink counts: writing through it would create a
/// file elsewhere).
pub fn refuse_existing(dest: &Path) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(exists_error(dest));
    }
    Ok(())
}

/// Rename `from` to `to` unless `to` exists, atomically (`ErrorKind::AlreadyExists` then).
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte")
            })
        };
        let (f, t) = (c(from)?, c(to)?);
        // SAFETY: both are valid NUL-terminated strings that outlive the call.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        // EINVAL / ENOSYS: the file system or kernel has no RENAME_NOREPLACE; link(2) below
        // refuses an existing name just as atomically.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(e);
        }
    }
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Make a rename durable (best effort: not every file system allows syncing a directory).
fn sync_parent(dest: &Path) {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
