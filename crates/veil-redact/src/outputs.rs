//! Files an operation has written, removed again unless the operation commits: a failed
//! export or disclosure never leaves a part of itself behind that looks complete.

use std::path::{Path, PathBuf};

use crate::{same_file, RedactError};

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
