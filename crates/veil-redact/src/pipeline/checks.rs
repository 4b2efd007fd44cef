//! Whether a tracks file may be used for an export: made from this recording, with its
//! analysed frames recorded, of the video's geometry, and covering every exported frame.

use std::path::Path;

use veil_track::Tracks;
use veil_video::VideoInfo;

use crate::RedactError;

/// Refuse tracks of another video geometry or frame rate (`fps`: the video's).
pub(super) fn check_tracks_video(
    tracks: &Tracks,
    path: Option<&Path>,
    input: &Path,
    info: &VideoInfo,
    fps: f64,
) -> Result<(), RedactError> {
    let mismatch = |reason: String| RedactError::TracksMismatch {
        tracks: path.map(Path::to_path_buf).unwrap_or_default(),
        input: input.to_path_buf(),
        reason,
    };
    if (tracks.width(), tracks.height()) != (info.width, info.height) {
        return Err(mismatch(format!(
            "tracks are for {}x{} frames, the video has {}x{}",
            tracks.width(),
            tracks.height(),
            info.width,
            info.height
        )));
    }
    if (tracks.fps() - fps).abs() > 1e-3 * fps.max(1.0) {
        return Err(mismatch(format!(
            "tracks are at {} fps, the video at {fps} fps",
            tracks.fps()
        )));
    }
    Ok(())
}

/// Refuse a tracks file that cannot be trusted for this input before anything is exported:
/// one made from another file (when it records the SHA-256 of its input), and one that does
/// not record which frames were analysed (its frames without tracks may never have been
/// looked at).
pub(super) fn check_tracks_file(
    tracks: &Tracks,
    path: &Path,
    input: &Path,
    input_sha256: &str,
) -> Result<(), RedactError> {
    // Fail closed: a file that does not say which recording it was made from could carry
    // the boxes of another recording of the same size and length.
    let Some(made_from) = tracks.source_sha256() else {
        return Err(RedactError::TracksMismatch {
            tracks: path.to_path_buf(),
            input: input.to_path_buf(),
            reason: "it has no `source_sha256` field, so it cannot be tied to this recording \
                     (made by an older Veil, or edited); run the analysis again"
                .to_owned(),
        });
    };
    if made_from != input_sha256 {
        return Err(RedactError::TracksMismatch {
            tracks: path.to_path_buf(),
            input: input.to_path_buf(),
            reason: format!(
                "the tracks were made from a file with SHA-256 {made_from}, the input's SHA-256 is {input_sha256}"
            ),
        });
    }
    if tracks.analyzed().is_none() {
        return Err(RedactError::TracksCoverage {
            tracks: Some(path.to_path_buf()),
            input: input.to_path_buf(),
            reason: "it does not record which frames were analysed (made by an older Veil, or \
                     edited); run the analysis again"
                .to_owned(),
        });
    }
    Ok(())
}

/// Refuse a tracks file whose frames between detections the export's temporal padding
/// (`pad_frames`) does not cover: detected on every n-th frame, its boxes on the n - 1 frames
/// between are interpolated or held by padding, and a person who appears there (or whose
/// track ends just before) is hidden only if boxes are held at least n - 1 frames. A file that
/// does not record how often it detected cannot be checked, and is refused too.
pub(super) fn check_tracks_step(
    tracks: &Tracks,
    path: &Path,
    input: &Path,
    pad_frames: u64,
) -> Result<(), RedactError> {
    let refuse = |reason: String| RedactError::TracksCoverage {
        tracks: Some(path.to_path_buf()),
        input: input.to_path_buf(),
        reason,
    };
    let Some(every) = tracks.provenance().every else {
        return Err(refuse(
            "it does not record how often the analysis detected (`every`; made by an older Veil, \
             or edited), so the temporal padding cannot be checked against it; run the analysis again"
                .to_owned(),
        ));
    };
    let needed = u64::from(every).saturating_sub(1);
    if needed > pad_frames {
        return Err(refuse(format!(
            "its detectors ran on one frame in {every} (`every` {every}), and the {pad_frames} frames of temporal \
             padding do not cover the {needed} frames between two detections (pad at least \
             {needed} frames, or analyse with a smaller `every`)"
        )));
    }
    Ok(())
}

/// The error for frame `frame` (at `time` seconds) of the export lying outside the analysis.
pub(super) fn uncovered(
    tracks: &Tracks,
    path: Option<&Path>,
    input: &Path,
    frame: u64,
    time: f64,
) -> RedactError {
    let reason = match tracks.analyzed() {
        Some([a, b]) => {
            let fps = tracks.fps();
            let span = if fps > 0.0 {
                format!(" ({:.3} s to {:.3} s)", a as f64 / fps, b as f64 / fps)
            } else {
                String::new()
            };
            format!(
                "frame {frame} ({time:.3} s) of the export window lies outside the analysed frames \
                 {a} to {b}{span}; analyse a window that includes the whole export window"
            )
        }
        None => format!("frame {frame} ({time:.3} s): no analysed frame range is recorded"),
    };
    RedactError::TracksCoverage {
        tracks: path.map(Path::to_path_buf),
        input: input.to_path_buf(),
        reason,
    }
}
