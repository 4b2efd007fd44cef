//! Choosing the requester: the person whose footage is exported unredacted.

use std::path::Path;

use serde::{Deserialize, Serialize};
use veil_track::Tracks;

use crate::RedactError;

/// Who the requester is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Requester {
    /// Nobody: every tracked person and face is redacted.
    #[default]
    None,
    /// These track ids (from the tracks file or contact sheet), e.g. a person track and a
    /// face track that the tracker did not attach to it.
    Tracks {
        /// Track ids.
        ids: Vec<u64>,
    },
    /// The person whose box contains pixel `(x, y)` of the frame shown at `time` (seconds
    /// from the start of the input); the nearest box centre if several boxes contain it.
    /// Nobody there is an error, never a silent full redaction.
    At {
        /// Time in seconds from the start of the input.
        time: f64,
        /// Pixel column.
        x: f32,
        /// Pixel row.
        y: f32,
    },
}

/// The frame number of a time: `round(time * fps)`. Tracks use frame numbers counted from
/// the start of the input (not of the analysed window), so a tracks file of a long window
/// serves any export window inside it.
pub fn frame_number(time: f64, fps: f64) -> u64 {
    let f = (time * fps).round();
    if f.is_finite() && f > 0.0 {
        f as u64
    } else {
        0
    }
}

/// The requester's track ids in `tracks`.
///
/// # Errors
/// [`RedactError::UnknownTrack`] for an id not in `tracks`; [`RedactError::NobodyAt`] when no
/// box contains the point; [`RedactError::InvalidOption`] for a non-finite time or point.
pub fn resolve_requester(
    tracks: &Tracks,
    requester: &Requester,
    tracks_path: Option<&Path>,
) -> Result<Vec<u64>, RedactError> {
    match requester {
        Requester::None => Ok(Vec::new()),
        Requester::Tracks { ids } => {
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                if tracks.get(id).is_none() {
                    return Err(RedactError::UnknownTrack {
                        id,
                        path: tracks_path.map(Path::to_path_buf),
                    });
                }
            }
            Ok(ids)
        }
        &Requester::At { time, x, y } => {
            if !(time.is_finite() && time >= 0.0 && x.is_finite() && y.is_finite()) {
                return Err(RedactError::InvalidOption {
                    reason: format!(
                        "requester point ({x}, {y}) at {time} s is not a finite position and time >= 0"
                    ),
                });
            }
            let frame = frame_number(time, tracks.fps());
            tracks
                .track_at_point(frame, x, y)
                .map(|id| vec![id])
                .ok_or(RedactError::NobodyAt { time, frame, x, y })
        }
    }
}
