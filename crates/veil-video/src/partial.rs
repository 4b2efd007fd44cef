//! Outputs are written to a hidden temporary file beside the destination and renamed into
//! place when complete: the temporary name and the guard that removes it on failure, shared
//! by the encoder ([`crate::VideoWriter`]) and the stream copy ([`crate::remux`]).

use std::path::{Path, PathBuf};

use crate::VideoError;

/// Removes a temporary file when dropped, unless disarmed (veil-core's guard).
pub(crate) use veil_core::fsutil::TempFile as TempGuard;

/// A hidden temporary path beside `dest`, after checking the destination is usable. With
/// `keep_ext` the name ends in `dest`'s extension (for writers where FFmpeg picks the
/// container by the name), and a destination without one is an error.
pub(crate) fn temp_path(dest: &Path, keep_ext: bool) -> Result<PathBuf, VideoError> {
    let io = |reason: String| VideoError::Io {
        path: dest.to_path_buf(),
        reason,
    };
    let name = dest
        .file_name()
        .ok_or_else(|| io("not a file name".into()))?
        .to_string_lossy()
        .into_owned();
    if dest.is_dir() {
        return Err(io("is a directory".into()));
    }
    let ext = if keep_ext {
        Some(
            dest.extension()
                .and_then(|e| e.to_str())
                .ok_or_else(|| io("no extension to choose the container by (e.g. .mp4)".into()))?,
        )
    } else {
        None
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(io(format!("directory {} does not exist", dir.display())));
    }
    // The temporary file's name is made UTF-8 below, but FFmpeg (through ffmpeg-next, which
    // panics on anything else) opens files by UTF-8 path only: the directory must be one.
    if dir.to_str().is_none_or(|d| d.contains('\0')) {
        return Err(io(format!(
            "the directory {} is not a valid UTF-8 path (FFmpeg opens files by UTF-8 name only)",
            dir.display()
        )));
    }
    // veil-core's naming, the same for every output Veil writes through a temporary file.
    let dest = dir.join(name);
    Ok(match ext {
        Some(ext) => veil_core::fsutil::temp_path_with_ext(&dest, ext),
        None => veil_core::fsutil::temp_path_for(&dest),
    })
}
