//! Exact copies of a time window: [`copy_window`] copies the recorded packets of a window
//! into a new file without decoding or re-encoding them, so the copy holds the recorded
//! pixels bit for bit. For disclosures to police and justice, where the recipient must get
//! what the camera recorded, not a re-encoded approximation.
//!
//! # Where the cut falls
//!
//! A window `[from, to]` is delivered as every frame that is on screen at some instant of it:
//!
//! - **Start**: the last keyframe whose presentation time is at or before `from`. Frames after
//!   a keyframe are coded as differences to it, so a copy cannot start in between; the copy
//!   starts earlier instead, never later. Packets that follow that keyframe in decode order but
//!   are shown before it (the "leading" pictures of an open GOP, which refer to the previous
//!   GOP) are left out: they could not be decoded.
//! - **End**: the last frame whose presentation time is at or before `to`, plus every packet
//!   that precedes it in decode order (with B-frames, a later picture may be decoded first
//!   because an earlier one refers to it), plus the pictures shown between those reference
//!   pictures, so that the copy has no gap. The delivered window may therefore end a few
//!   frames after `to` (at most one group of B-frames).
//!
//! [`CopyReport`] states the window delivered (the first frame's time and the end of the last
//! frame), so a manifest can state both what was asked for and what was delivered.
//!
//! Times are seconds from the start of the video stream, as everywhere in veil-video.
//!
//! # When a copy is impossible
//!
//! A container cannot hold every codec (raw video in MP4, say), and a stream without
//! timestamps cannot be cut. [`copy_window`] then fails with
//! [`VideoError::CopyUnsupported`]; [`copy_or_reencode_lossless`] falls back to re-encoding
//! the window with lossless H.264 (libx264, QP 0: every decoded pixel is kept) and reports it
//! in [`CopyMethod::LosslessReencode`]. The fallback only runs for 8-bit 4:2:0 video, where
//! lossless H.264 in 4:2:0 keeps every decoded sample; other formats are refused rather than
//! delivered with a lossy conversion under a lossless label.

mod copier;
mod cut;
mod lossless;
mod types;

use std::fs;
use std::path::Path;

use crate::partial::{temp_path, TempGuard};
use crate::{display_path, init, VideoError};
use copier::Copier;
use lossless::reencode_lossless;
pub use types::{CopyMethod, CopyOptions, CopyReport};

fn check_window(opts: &CopyOptions) -> Result<(), VideoError> {
    crate::timeline::check_times(opts.from, opts.to)?;
    if let (Some(f), Some(t)) = (opts.from, opts.to) {
        if t < f {
            return Err(VideoError::InvalidOption {
                reason: format!("empty time window: to ({t}) is before from ({f})"),
            });
        }
    }
    Ok(())
}

/// Copy the packets of the window `[opts.from, opts.to]` of `input` into `dest` (the
/// container is chosen by `dest`'s extension, e.g. `.mp4`, `.mkv`), without re-encoding.
/// See the [module documentation](self) for where the cut falls.
///
/// The file is written to a hidden temporary file beside `dest` and renamed onto it when
/// complete; on any error nothing is left at `dest`.
///
/// # Errors
/// [`VideoError::InvalidOption`] for a bad window, [`VideoError::Open`],
/// [`VideoError::NoVideoStream`], [`VideoError::CopyUnsupported`] when the codec does not fit
/// the container or the stream has no timestamps to cut by, [`VideoError::Read`] /
/// [`VideoError::Truncated`] for a damaged input, [`VideoError::Encode`] when the window holds
/// no frame or the muxer fails, [`VideoError::Io`] for the output file.
pub fn copy_window(input: &Path, dest: &Path, opts: &CopyOptions) -> Result<CopyReport, VideoError> {
    init();
    check_window(opts)?;
    let path = display_path(input);
    if input.to_str().is_none_or(|s| s.contains('\0')) {
        return Err(VideoError::Open {
            path,
            reason: "the path is not valid UTF-8 or contains a NUL byte (FFmpeg is given UTF-8 paths only)"
                .into(),
        });
    }
    let tmp = temp_path(dest, true)?;
    let guard = TempGuard::new(tmp.clone());
    let report = Copier::open(input, &path, dest, &tmp, opts)?.run()?;
    finish_file(&tmp, dest)?;
    drop(guard.disarm());
    Ok(report)
}

/// [`copy_window`], or when the copy is impossible ([`VideoError::CopyUnsupported`]) a
/// lossless re-encode of the same window into H.264 in `dest` (which should then be an
/// `.mp4`), reported as [`CopyMethod::LosslessReencode`]. A re-encode has no keyframe
/// constraint: it starts at the first frame at or after `from`.
///
/// # Errors
/// As [`copy_window`]; for the fallback, as [`VideoReader::open`](crate::VideoReader::open)
/// and [`VideoWriter`](crate::VideoWriter), and
/// [`VideoError::CopyUnsupported`] when the input is not 8-bit 4:2:0 video (a re-encode
/// could not be lossless).
pub fn copy_or_reencode_lossless(
    input: &Path,
    dest: &Path,
    opts: &CopyOptions,
) -> Result<CopyReport, VideoError> {
    match copy_window(input, dest, opts) {
        Err(VideoError::CopyUnsupported { reason, .. }) => reencode_lossless(input, dest, opts, reason),
        other => other,
    }
}

/// Sync the finished temporary file and rename it onto `dest`.
fn finish_file(tmp: &Path, dest: &Path) -> Result<(), VideoError> {
    let io = |what: &str, e: std::io::Error| VideoError::Io {
        path: dest.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot sync the output to disk", e))?;
    fs::rename(tmp, dest).map_err(|e| io("cannot move the finished output into place", e))?;
    veil_core::fsutil::sync_parent(dest);
    Ok(())
}
