//! Output files of an analysis, export or disclosure: staged out of sight beside their
//! destinations ([`Staging`]), logged (exports and disclosures), then published together with
//! a no-replace rename, so that evidence already at a destination is never replaced (unless
//! the caller asked for it) and a failed run removes only files it created itself.

use std::path::{Path, PathBuf};

use crate::{same_file, RedactError};

/// Refuse an existing `dest` (a dangling symbolic link counts: writing through it would
/// create a file elsewhere).
///
/// # Errors
/// [`RedactError::OutputExists`] naming `dest`.
pub fn refuse_existing(dest: &Path) -> Result<(), RedactError> {
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(RedactError::OutputExists {
            path: dest.to_path_buf(),
        });
    }
    Ok(())
}

/// Rename `from` to `to` unless `to` exists, in one atomic step (`ErrorKind::AlreadyExists`
/// then, and `from` is left alone): `link(2)`, which never replaces a name, then unlink the
/// staging name. A check followed by a rename could replace a file that appeared in between.
///
/// # Errors
/// `AlreadyExists` when `to` exists; the I/O error of `link` (e.g. a file system without
/// hard links: nothing is published then) or of removing `from`.
pub fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Hooks for Veil's own crash tests: called at named points of an operation (e.g.
/// [`fault::LOGGED_NOT_PUBLISHED`]), so that a test can abort the process exactly there.
/// Not part of the API.
#[doc(hidden)]
pub mod fault {
    use std::sync::OnceLock;

    /// An export's or disclosure's audit entry is appended; no output is published yet.
    pub const LOGGED_NOT_PUBLISHED: &str = "logged, not published";

    static HOOK: OnceLock<fn(&str)> = OnceLock::new();

    /// Install `hook` for this process (once; later calls are ignored).
    pub fn set_hook(hook: fn(&str)) {
        let _ = HOOK.set(hook);
    }

    pub(crate) fn point(name: &str) {
        if let Some(hook) = HOOK.get() {
            hook(name);
        }
    }
}

/// The outputs of one operation, staged beside their destinations and published together.
///
/// [`Staging::stage`] refuses an existing destination at once (unless `overwrite`) and
/// returns a hidden staging path in the same directory; the operation writes there; once
/// everything is written (and logged), [`Staging::publish`] moves each staged file to its
/// destination with [`rename_no_replace`] (a plain rename with `overwrite`). Staging files
/// left by a failure are removed when the value is dropped; a destination is only ever
/// removed when this operation published it and a later one of its files failed.
#[derive(Debug)]
pub(crate) struct Staging {
    overwrite: bool,
    /// (destination, staging path), in the order staged.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staging {
    pub(crate) fn new(overwrite: bool) -> Self {
        Staging {
            overwrite,
            files: Vec::new(),
        }
    }

    /// Refuse `dest` if it exists (unless `overwrite`) and return the staging path to write
    /// instead: hidden, unique, in `dest`'s directory, ending in `dest`'s extension (FFmpeg
    /// chooses the container by it).
    ///
    /// # Errors
    /// [`RedactError::OutputExists`]; [`RedactError::Io`] when `dest`'s directory is missing.
    pub(crate) fn stage(&mut self, dest: &Path) -> Result<PathBuf, RedactError> {
        if !self.overwrite {
            refuse_existing(dest)?;
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Err(e) = std::fs::metadata(dir) {
            return Err(RedactError::io(dest, format!("directory {}", dir.display()), e));
        }
        let ext = dest
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = veil_core::fsutil::temp_path_with_ext(dest, &ext);
        self.files.push((dest.to_path_buf(), staging.clone()));
        Ok(staging)
    }

    /// Move every staged file that was written to its destination. Without `overwrite` a
    /// destination that exists by now is not replaced ([`RedactError::OutputExists`]), and
    /// the files this call already published are taken back: the outputs appear together or
    /// not at all.
    ///
    /// # Errors
    /// [`RedactError::OutputExists`], or [`RedactError::Io`] when a rename fails.
    pub(crate) fn publish(mut self) -> Result<(), RedactError> {
        let files = std::mem::take(&mut self.files);
        let mut done: Vec<&Path> = Vec::new();
        let mut result = Ok(());
        for (dest, staging) in &files {
            if std::fs::symlink_metadata(staging).is_err() {
                continue; // an optional output this run did not write
            }
            let res = if self.overwrite {
                std::fs::rename(staging, dest)
            } else {
                rename_no_replace(staging, dest)
            };
            match res {
                Ok(()) => {
                    veil_core::fsutil::sync_parent(dest);
                    done.push(dest);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    result = Err(RedactError::OutputExists { path: dest.clone() });
                    break;
                }
                Err(e) => {
                    result = Err(RedactError::io(
                        dest,
                        "cannot move the finished file into place",
                        e,
                    ));
                    break;
                }
            }
        }
        if result.is_err() {
            for dest in done {
                let _ = std::fs::remove_file(dest);
            }
            self.files = files; // dropped below: the staging files go
        }
        result
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        for (_, staging) in &self.files {
            let _ = std::fs::remove_file(staging);
        }
    }
}

/// Whether `a` and `b` name the same file: [`same_file`] (one file on disk however spelt or
/// linked), or, for a name that does not exist yet, the same name in the same directory.
pub fn same_destination(a: &Path, b: &Path) -> bool {
    if same_file(a, b) {
        return true;
    }
    let dir = |p: &Path| {
        let d = p.parent().filter(|d| !d.as_os_str().is_empty());
        d.unwrap_or(Path::new(".")).canonicalize().ok()
    };
    a.file_name().is_some() && a.file_name() == b.file_name() && dir(a).is_some() && dir(a) == dir(b)
}

/// Refuse `path`, where this operation writes its `what` (e.g. "review strip"), when it
/// names the same file as one of `others`: the operation's inputs (the recording first of
/// all) and its other outputs, each with what it is.
///
/// # Errors
/// [`RedactError::InvalidOption`] naming both files.
pub(crate) fn check_distinct(what: &str, path: &Path, others: &[(&str, &Path)]) -> Result<(), RedactError> {
    match others.iter().find(|(_, o)| same_destination(path, o)) {
        Some((name, o)) => Err(RedactError::InvalidOption {
            reason: format!(
                "{what} {} would overwrite the {name} {}",
                path.display(),
                o.display()
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("veil-outputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn staging_refuses_an_existing_destination_and_leaves_it_untouched() {
        let d = dir("exists");
        let old = d.join("export.mp4");
        std::fs::write(&old, b"earlier export").unwrap();
        let e = Staging::new(false).stage(&old).unwrap_err();
        assert!(matches!(e, RedactError::OutputExists { .. }), "{e}");
        assert!(
            e.to_string().contains("export.mp4") && e.to_string().contains("overwrite"),
            "{e}"
        );
        assert_eq!(std::fs::read(&old).unwrap(), b"earlier export");
        // a dangling symbolic link is an existing name too
        let link = d.join("link.mp4");
        std::os::unix::fs::symlink(d.join("nowhere"), &link).unwrap();
        assert!(Staging::new(false).stage(&link).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_destination_that_appears_before_publishing_is_not_replaced_and_nothing_is_published() {
        let d = dir("race");
        let mut s = Staging::new(false);
        let (a, b) = (d.join("a.mp4"), d.join("a.mp4.manifest.json"));
        let (sa, sb) = (s.stage(&a).unwrap(), s.stage(&b).unwrap());
        std::fs::write(&sa, b"new video").unwrap();
        std::fs::write(&sb, b"new manifest").unwrap();
        // another writer creates the manifest's name meanwhile
        std::fs::write(&b, b"someone else's").unwrap();
        let e = s.publish().unwrap_err();
        assert!(matches!(e, RedactError::OutputExists { .. }), "{e}");
        assert_eq!(std::fs::read(&b).unwrap(), b"someone else's");
        // the video this call published is taken back, the staging files are gone
        assert_eq!(names(&d), ["a.mp4.manifest.json"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn staging_publishes_together_and_overwrites_only_when_asked() {
        let d = dir("publish");
        let a = d.join("a.png");
        let mut s = Staging::new(false);
        let sa = s.stage(&a).unwrap();
        assert_eq!(sa.parent(), Some(d.as_path()));
        assert!(sa.to_string_lossy().ends_with(".png"));
        std::fs::write(&sa, b"one").unwrap();
        // staged but never written: an optional output, skipped
        let _ = s.stage(&d.join("unused.json")).unwrap();
        s.publish().unwrap();
        assert_eq!(names(&d), ["a.png"]);
        let mut s = Staging::new(true);
        std::fs::write(s.stage(&a).unwrap(), b"two").unwrap();
        s.publish().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"two");
        // dropped unpublished: the staging file goes, the destination stays
        let mut s = Staging::new(true);
        std::fs::write(s.stage(&a).unwrap(), b"three").unwrap();
        drop(s);
        assert_eq!(names(&d), ["a.png"]);
        assert_eq!(std::fs::read(&a).unwrap(), b"two");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn outputs_that_name_an_input_or_each_other_are_refused() {
        let d = std::env::temp_dir().join(format!("veil-outputs-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let input = d.join("in.mp4");
        std::fs::write(&input, b"evidence").unwrap();
        let link = d.join("link.mp4");
        let _ = std::fs::remove_file(&link);
        std::fs::hard_link(&input, &link).unwrap();
        let dotted = d.join(".").join("out.png");
        for (path, other) in [(&input, &input), (&link, &input), (&dotted, &d.join("out.png"))] {
            let e = check_distinct("review strip", path, &[("input", other.as_path())]).unwrap_err();
            assert!(e.to_string().contains("would overwrite the input"), "{e}");
        }
        check_distinct("review strip", &d.join("review.png"), &[("input", &input)]).unwrap();
        assert_eq!(std::fs::read(&input).unwrap(), b"evidence");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
