//! The tracker's settings and their validation.

use serde::{Deserialize, Serialize};

use crate::error::TrackError;

/// Tracker settings. The defaults favour recall: for privacy an extra blurred box is better than
/// a missed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Detections scoring at least this are "high" and take part in the first association
    /// stage (against every track, lost ones included). Default 0.4.
    pub high_thresh: f32,
    /// Detections scoring below this are ignored. Those in `low_thresh..high_thresh` are "low":
    /// they can only extend a track that was tracked on the previous update (second stage),
    /// never start one. Default 0.1.
    pub low_thresh: f32,
    /// An unmatched high detection starts a track only if it scores at least this
    /// (must be `>= high_thresh`). Default 0.4, the same as `high_thresh`, so that every high
    /// detection is matched or starts a track.
    pub birth_thresh: f32,
    /// Minimum IoU between a track's predicted box and a high detection (first stage).
    /// Default 0.2 (ByteTrack's `match_thresh = 0.8` as a cost `1 - IoU`).
    pub match_iou: f32,
    /// Minimum IoU between a track's predicted box and a low detection (second stage).
    /// Default 0.5, as in ByteTrack: a low-confidence box needs a tight fit.
    pub low_match_iou: f32,
    /// A track not matched on more than this many consecutive frames is ended (0: ended at
    /// its first miss). Counted in video frames: when detecting every n-th frame, keep it
    /// above n - 1. Default 30.
    pub max_age: u64,
    /// A new track is confirmed after this many matched frames (1 = immediately). Tracks on
    /// the tracker's first frame are confirmed immediately. Tentative tracks that miss a frame
    /// are dropped and never appear in the output, so values above 1 trade recall for fewer
    /// false-positive boxes. Default 1.
    pub min_hits: u32,
    /// Gaps of at most this many frames between two boxes of a track are filled by linear
    /// interpolation in [`Tracker::finish`](crate::Tracker::finish). Default 30 (equal to `max_age`, so every gap the
    /// tracker can bridge is filled).
    pub max_gap_interpolate: u64,
    /// Temporal padding the export pass should pass to
    /// [`Tracks::boxes_at`](crate::Tracks::boxes_at): a box is held for this many frames around every observed frame
    /// (before a track starts, after it ends, and into gaps too long to interpolate). Not used
    /// by the tracker itself. Default 5.
    pub pad_frames: u64,
    /// A face may attach to a person whose box's top `face_upper_frac` (of its height) holds
    /// it. Default 0.5.
    pub face_upper_frac: f32,
    /// Fraction of a face box's area that must lie inside a person's upper region for the face
    /// to attach to that person. Default 0.6.
    pub face_inside: f32,
    /// Two person boxes are in contact (an identity event: both tracks start new tracklets)
    /// when their intersection covers at least this fraction of the smaller box. Default 0.2.
    pub contact_overlap: f32,
    /// A contact between two tracks ends when they have not touched for more than this many
    /// frames; touching again after that is a new identity event. Boxes that still overlap
    /// a little (below `contact_overlap`) but are both detected, each clear of the other's
    /// sampled body, are apart: people walking side by side, each seen on their own. Default 5.
    pub contact_gap: u64,
    /// A person box contributes to its tracklet's appearance only when every other person box
    /// covers at most this fraction of the part the descriptor samples (torso and legs
    /// without the side margins): a clear view, not mixed with someone else. Default 0.05.
    pub clear_overlap: f32,
    /// A tracklet needs at least this many clear views to have an appearance; without one it
    /// can never be linked (its identity stays uncertain). Default 3.
    pub min_views: u32,
    /// Largest appearance distance (0..1) of a confident link across an identity event.
    /// Default 0.3.
    pub link_max_dist: f32,
    /// A confident link must be at least this much closer than every alternative (other
    /// tracklets before the event, and other tracklets after it). Default 0.08.
    pub link_margin: f32,
    /// Largest appearance distance of a confident re-link of a new track to a track that
    /// ended earlier (someone leaving and coming back). Stricter than `link_max_dist`,
    /// because a newcomer is always a possible alternative. Default 0.15.
    pub relink_max_dist: f32,
    /// A new track is compared with tracks that ended at most this many frames before it
    /// started. Default 750 (30 s at 25 fps).
    pub relink_max_gap: u64,
    /// A re-link (someone lost from view, then a new track) needs motion evidence as well as
    /// clothing: the new track starts at most this many frames after the old one was last
    /// seen, where and when the old one's motion predicted, moving on as it did. A longer
    /// absence is never linked automatically, because a newcomer dressed alike (a uniform)
    /// cannot be told apart by clothing. Default 25 (1 s at 25 fps).
    pub relink_motion_gap: u64,
    /// A track found again after at least this many frames unseen (not inside a meeting)
    /// starts a new tracklet ([`Cause::Return`](crate::Cause::Return)): whoever comes out from
    /// behind a pillar may be someone else, and is linked back only on motion and clothing,
    /// as a re-entry is. Default 8.
    pub reappear_gap: u64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            high_thresh: 0.4,
            low_thresh: 0.1,
            birth_thresh: 0.4,
            match_iou: 0.2,
            low_match_iou: 0.5,
            max_age: 30,
            min_hits: 1,
            max_gap_interpolate: 30,
            pad_frames: 5,
            face_upper_frac: 0.5,
            face_inside: 0.6,
            contact_overlap: 0.2,
            contact_gap: 5,
            clear_overlap: 0.05,
            min_views: 3,
            link_max_dist: 0.3,
            link_margin: 0.08,
            relink_max_dist: 0.15,
            relink_max_gap: 750,
            relink_motion_gap: 25,
            reappear_gap: 8,
        }
    }
}

impl TrackerConfig {
    /// Why this configuration is unusable, if it is.
    ///
    /// # Errors
    /// [`TrackError::Config`] if a threshold is not finite or out of `0..=1`,
    /// `low_thresh > high_thresh`, `birth_thresh < high_thresh`, an IoU or face fraction is not
    /// in `(0, 1]`, or `min_hits` is 0.
    pub fn validate(&self) -> Result<(), TrackError> {
        let bad = |reason: String| Err(TrackError::Config { reason });
        for (name, v) in [
            ("high_thresh", self.high_thresh),
            ("low_thresh", self.low_thresh),
            ("birth_thresh", self.birth_thresh),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v} is not in 0..=1"));
            }
        }
        for (name, v) in [
            ("match_iou", self.match_iou),
            ("low_match_iou", self.low_match_iou),
            ("face_upper_frac", self.face_upper_frac),
            ("face_inside", self.face_inside),
            ("contact_overlap", self.contact_overlap),
            ("link_max_dist", self.link_max_dist),
            ("relink_max_dist", self.relink_max_dist),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return bad(format!("{name} = {v} is not in (0, 1]"));
            }
        }
        if self.low_thresh > self.high_thresh {
            return bad(format!(
                "low_thresh ({}) is above high_thresh ({})",
                self.low_thresh, self.high_thresh
            ));
        }
        if self.birth_thresh < self.high_thresh {
            return bad(format!(
                "birth_thresh ({}) is below high_thresh ({}): low detections must not start tracks",
                self.birth_thresh, self.high_thresh
            ));
        }
        if self.min_hits == 0 {
            return bad("min_hits is 0 (use 1 to confirm tracks immediately)".into());
        }
        for (name, v) in [
            ("clear_overlap", self.clear_overlap),
            ("link_margin", self.link_margin),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} = {v} is not in 0..=1"));
            }
        }
        if self.reappear_gap == 0 {
            return bad("reappear_gap is 0 (a track would start a new tracklet on every frame)".into());
        }
        if self.min_views == 0 {
            return bad("min_views is 0 (a tracklet needs at least one clear view)".into());
        }
        Ok(())
    }
}
