//! The online tracker: ByteTrack-style two-stage IoU association over Kalman predictions,
//! plus per-frame attachment of faces to person tracks.

use serde::{Deserialize, Serialize};
use veil_core::BoxF;

use crate::appearance::{Appearance, AppearanceMean};
use crate::identity::{decide, Cause, Cell, EventKind, IdentityEvent, Link, Tracklet, TrackletId};
use crate::kalman::Kalman;
use crate::tracks::{interpolate, Track, TrackBox, Tracks};
use crate::TrackError;

/// What a detection or track is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A face (CenterFace).
    Face,
    /// A whole person (NanoDet).
    Person,
}

/// One detector output on one frame: the tracker's input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Face or person.
    pub class: Class,
    /// Detector confidence, normally `0..=1`.
    pub score: f32,
    /// The box in frame pixels.
    pub bbox: BoxF,
}

impl Class {
    /// `"face"` or `"person"`, as in the tracks file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Face => "face",
            Class::Person => "person",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Detection {
    /// A detection.
    pub const fn new(class: Class, score: f32, bbox: BoxF) -> Self {
        Detection { class, score, bbox }
    }
}

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
    /// interpolation in [`Tracker::finish`]. Default 30 (equal to `max_age`, so every gap the
    /// tracker can bridge is filled).
    pub max_gap_interpolate: u64,
    /// Temporal padding the export pass should pass to
    /// [`Tracks::boxes_at`]: a box is held for this many frames around every observed frame
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
    /// frames; touching again after that is a new identity event. Default 5.
    pub contact_gap: u64,
    /// A person box contributes to its tracklet's appearance only when every other person box
    /// covers at most this fraction of it (a clear view, not mixed with someone else).
    /// Default 0.05.
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
        if self.min_views == 0 {
            return bad("min_views is 0 (a tracklet needs at least one clear view)".into());
        }
        Ok(())
    }
}

/// Margin around a person's upper region, as a fraction of the person box, because a head
/// often pokes slightly out of a detector's person box.
const FACE_MARGIN: f32 = 0.1;

/// A face continues a person's face (see `attach_faces`) when that person's last face box is
/// at most this many frames old.
const FACE_CONTINUITY: u64 = 3;

/// Upper bound on Kalman predict steps per update.
const MAX_PREDICT_STEPS: u64 = 10_000;

/// A track while the tracker runs.
#[derive(Debug)]
struct Live {
    id: u64,
    class: Class,
    kf: Kalman,
    /// Frame the Kalman state refers to.
    predicted_to: u64,
    /// Predicted box for the current frame (valid after the predict step).
    pred: BoxF,
    /// Frame of the last match.
    last_hit: u64,
    hits: u32,
    confirmed: bool,
    /// Matched on the previous update (ByteTrack's "tracked" state, as opposed to "lost").
    tracked: bool,
    boxes: Vec<TrackBox>,
    faces: Vec<TrackBox>,
    /// The track's tracklets so far (the last one is current); never empty.
    tracklets: Vec<LiveTracklet>,
}

/// A tracklet while the tracker runs.
#[derive(Debug, Clone)]
struct LiveTracklet {
    start: u64,
    cause: Cause,
    event: Option<usize>,
    look: AppearanceMean,
}

impl Live {
    /// Start a new tracklet at `frame` because of event `event` (unless one starts there).
    /// A track born on this very frame inside a contact is inside the event from its start.
    fn cut(&mut self, frame: u64, event: usize) {
        if let [only] = self.tracklets.as_mut_slice() {
            if only.start >= frame && only.cause == Cause::Birth {
                only.cause = Cause::Event;
                only.event = Some(event);
                return;
            }
        }
        self.cut_as(frame, event, Cause::Event);
    }

    fn cut_as(&mut self, frame: u64, event: usize, cause: Cause) {
        if self.tracklets.last().is_some_and(|t| t.start >= frame) {
            return;
        }
        self.tracklets.push(LiveTracklet {
            start: frame,
            cause,
            event: Some(event),
            look: AppearanceMean::default(),
        });
    }
}

/// Two tracks in contact: the pair (lower id first), the last frame they touched, the event
/// (`None` for people already together when both tracks began: nothing to cut).
#[derive(Debug, Clone, Copy)]
struct Contact {
    pair: (u64, u64),
    last: u64,
    event: Option<usize>,
}

/// A contact goes on while the boxes overlap at least this fraction of `contact_overlap`
/// (hysteresis: boxes of people standing together jitter around the threshold, and each
/// jitter must not become a new identity event).
const CONTACT_HOLD: f32 = 0.25;

/// Two person boxes whose heights differ by more than this factor are not in contact.
const CONTACT_MAX_SIZE_RATIO: f32 = 2.0;

/// Reused buffers, so that a steady-state update allocates nothing.
#[derive(Debug, Default)]
struct Scratch {
    high: Vec<usize>,
    low: Vec<usize>,
    class_dets: Vec<usize>,
    pairs: Vec<(f32, u64, u32, u32)>,
    matches: Vec<(usize, usize)>,
    track_used: Vec<bool>,
    det_used: Vec<bool>,
    cand: Vec<usize>,
    /// Per face detection: the person pool index it uniquely fits, if any.
    face_owner: Vec<Option<usize>>,
    /// Per person pool index: how many faces claim it.
    claims: Vec<u32>,
    /// Face regions of the candidate persons: (pool index, region).
    regions: Vec<(usize, BoxF)>,
    /// Person boxes present on this frame: (pool index, box, matched detection).
    present: Vec<(usize, BoxF, Option<usize>)>,
}

/// Multi-object tracker for persons and faces.
///
/// Feed every analysed frame, in increasing frame order, to [`Tracker::update`] (frames may be
/// skipped: the motion model advances by the frame difference), then call
/// [`Tracker::finish`] for the complete tracks.
///
/// Per frame: person detections go through two-stage association (high-score detections
/// against all tracks, then low-score detections against the tracks still unmatched that were
/// tracked on the previous update); every face detection that fits inside the upper part of
/// exactly one confirmed person track (and is the only face doing so) is attached to that
/// person; the remaining faces are tracked on their own as class [`Class::Face`] with the same
/// rules. Track ids are unique across both classes and start at 1.
///
/// Association itself is by IoU and motion, so identities can swap when people meet, cross or
/// hide each other. The tracker does not pretend otherwise: it marks those moments as
/// identity events, cuts the tracks into tracklets there, and [`Tracker::finish`] links
/// tracklets across an event only on decisive appearance evidence (see [`crate::identity`]);
/// an export keeps the requester only on confidently linked tracklets. A face is attached to a
/// person by geometry alone, so a bystander's face right behind a person's head, with the
/// bystander's body undetected, can be filed under that person (bystander faces are redacted
/// over the requester's body, but not over a face filed under the requester).
///
/// Assignment is greedy by IoU (highest IoU pair first, ties by track id), not Hungarian: with
/// tracker-scale IoU thresholds the two differ only in rare crowded configurations, and greedy
/// costs a sort of the few candidate pairs above the threshold.
#[derive(Debug)]
pub struct Tracker {
    cfg: TrackerConfig,
    persons: Vec<Live>,
    faces: Vec<Live>,
    finished: Vec<Live>,
    next_id: u64,
    last_frame: Option<u64>,
    /// The first frame passed to [`Tracker::update`]: tracks born there are [`Cause::Start`].
    first_frame: Option<u64>,
    assignments: Vec<Option<u64>>,
    scratch: Scratch,
    events: Vec<IdentityEvent>,
    contacts: Vec<Contact>,
    /// Face tracks whose face went on as the face of a person track: (face track, person
    /// track, first frame of the person's face).
    handoffs: Vec<(u64, u64, u64)>,
}

impl Tracker {
    /// A tracker with the given settings.
    ///
    /// # Errors
    /// [`TrackError::Config`] if the settings are out of range (see
    /// [`TrackerConfig::validate`]).
    pub fn new(cfg: TrackerConfig) -> Result<Self, TrackError> {
        cfg.validate()?;
        Ok(Tracker {
            cfg,
            persons: Vec::new(),
            faces: Vec::new(),
            finished: Vec::new(),
            next_id: 1,
            last_frame: None,
            first_frame: None,
            assignments: Vec::new(),
            scratch: Scratch::default(),
            events: Vec::new(),
            contacts: Vec::new(),
            handoffs: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    /// Process the detections of one frame.
    ///
    /// Returns, for each input detection (same order), the track id it was assigned to: the
    /// person track for persons and for faces attached to a person, the face track for other
    /// faces, `None` for detections that were ignored: below `low_thresh`; an empty box (w or
    /// h <= 0, covering no pixel); a low detection that fitted no track; a high detection below
    /// `birth_thresh` that fitted none.
    /// With `min_hits > 1` an id may belong to a tentative track that is later dropped.
    ///
    /// # Errors
    /// [`TrackError::FrameOrder`] if `frame` is not above the previous update's frame;
    /// [`TrackError::InvalidDetection`] if a detection has a non-finite coordinate or score.
    /// On error the tracker's state is unchanged.
    pub fn update(&mut self, frame: u64, dets: &[Detection]) -> Result<&[Option<u64>], TrackError> {
        self.update_with_appearance(frame, dets, &[])
    }

    /// [`Tracker::update`] with the appearance of the person detections: `looks[i]` is the
    /// [`Appearance`] of `dets[i]` (`None`, or a shorter slice, where there is none). Clear
    /// views feed the appearance of the tracklet they are matched to; the identity links of
    /// [`Tracker::finish`] rest on them. Without appearances no tracklet can be linked across
    /// an identity event.
    ///
    /// # Errors
    /// As [`Tracker::update`].
    pub fn update_with_appearance(
        &mut self,
        frame: u64,
        dets: &[Detection],
        looks: &[Option<Appearance>],
    ) -> Result<&[Option<u64>], TrackError> {
        if let Some(previous) = self.last_frame {
            if frame <= previous {
                return Err(TrackError::FrameOrder { previous, got: frame });
            }
        }
        for (index, d) in dets.iter().enumerate() {
            let b = &d.bbox;
            if !(b.x.is_finite() && b.y.is_finite() && b.w.is_finite() && b.h.is_finite()) {
                return Err(TrackError::InvalidDetection {
                    frame,
                    index,
                    reason: format!("box {b:?} is not finite"),
                });
            }
            if !d.score.is_finite() {
                return Err(TrackError::InvalidDetection {
                    frame,
                    index,
                    reason: format!("score {} is not finite", d.score),
                });
            }
        }
        let first = self.last_frame.is_none();
        self.last_frame = Some(frame);
        if first {
            self.first_frame = Some(frame);
        }
        self.assignments.clear();
        self.assignments.resize(dets.len(), None);
        let usable = |d: &Detection, lo: f32| d.score >= lo && d.bbox.w > 0.0 && d.bbox.h > 0.0;

        // Persons.
        let s = &mut self.scratch;
        s.class_dets.clear();
        s.class_dets.extend(
            (0..dets.len())
                .filter(|&i| dets[i].class == Class::Person && usable(&dets[i], self.cfg.low_thresh)),
        );
        let person_dets = std::mem::take(&mut s.class_dets);
        step(
            &self.cfg,
            &mut self.persons,
            &mut self.finished,
            frame,
            first,
            dets,
            &person_dets,
            &mut self.assignments,
            &mut self.next_id,
            s,
        );
        identity_step(
            &self.cfg,
            &mut self.persons,
            &mut self.events,
            &mut self.contacts,
            frame,
            dets,
            &person_dets,
            &self.assignments,
            looks,
            &mut s.present,
        );

        // Faces: attach to persons where unambiguous, track the rest.
        let mut face_dets = person_dets;
        face_dets.clear();
        face_dets.extend(
            (0..dets.len())
                .filter(|&i| dets[i].class == Class::Face && usable(&dets[i], self.cfg.low_thresh)),
        );
        attach_faces(
            &self.cfg,
            &mut self.persons,
            frame,
            dets,
            &mut face_dets,
            &mut self.assignments,
            s,
        );
        // A face tracked on its own that now attaches to a person (whose body the detector
        // has just found) is that person's face: remember the hand-off, so that finish() can
        // give the person its earlier face boxes (one identity, not two tracks).
        // Only a person whose body was first detected on this very frame takes over a face:
        // a face handed to a person seen before could be a bystander's face behind their head.
        for (d, det) in dets.iter().enumerate() {
            let Some(pid) = self.assignments[d] else { continue };
            if det.class != Class::Face || face_dets.contains(&d) {
                continue;
            }
            let new_body = self
                .persons
                .iter()
                .find(|p| p.id == pid)
                .is_some_and(|p| p.boxes.len() == 1 && p.boxes[0].frame == frame);
            if !new_body {
                continue;
            }
            for f in &self.faces {
                let recent = frame - f.last_hit <= self.cfg.max_gap_interpolate;
                let same = f.boxes.last().is_some_and(|b| b.bbox.iou(&det.bbox) >= 0.3);
                if f.confirmed && recent && same && !self.handoffs.iter().any(|h| h.0 == f.id && h.1 == pid) {
                    self.handoffs.push((f.id, pid, frame));
                }
            }
        }
        step(
            &self.cfg,
            &mut self.faces,
            &mut self.finished,
            frame,
            first,
            dets,
            &face_dets,
            &mut self.assignments,
            &mut self.next_id,
            s,
        );
        s.class_dets = face_dets;
        Ok(&self.assignments)
    }

    /// Confirmed tracks matched on the last updated frame: `(id, class, box)` with the box of
    /// that frame's detection. For live previews; the export uses [`Tracker::finish`].
    pub fn active(&self) -> impl Iterator<Item = (u64, Class, BoxF)> + '_ {
        let last = self.last_frame;
        self.persons.iter().chain(self.faces.iter()).filter_map(move |t| {
            let b = t.boxes.last()?;
            (t.confirmed && Some(t.last_hit) == last).then_some((t.id, t.class, b.bbox))
        })
    }

    /// Whether track `id` is still in its first tracklet (the one shown for it on the contact
    /// sheet): true for a live track before its first identity event.
    pub fn in_first_tracklet(&self, id: u64) -> bool {
        self.persons
            .iter()
            .chain(self.faces.iter())
            .find(|t| t.id == id)
            .is_some_and(|t| t.tracklets.len() == 1)
    }

    /// End tracking: every confirmed track (tentative ones are dropped), sorted by id, with gaps
    /// of at most `max_gap_interpolate` frames filled by interpolated boxes, cut into
    /// tracklets at identity events, with the links between tracklets (see
    /// [`crate::identity`]). The video fields (width, height, fps) are 0; set them with
    /// [`Tracks::set_video`].
    pub fn finish(self) -> Tracks {
        let cfg = self.cfg;
        let max_gap = cfg.max_gap_interpolate;
        let first_frame = self.first_frame.unwrap_or(0);
        let mut all: Vec<Live> = self.finished;
        all.extend(self.persons.into_iter().filter(|t| t.confirmed));
        all.extend(self.faces.into_iter().filter(|t| t.confirmed));
        all.sort_by_key(|t| t.id);
        hand_over_faces(&mut all, &self.handoffs);
        let mut looks: Vec<(TrackletId, Option<Appearance>)> = Vec::new();
        let mut tracks: Vec<Track> = all
            .into_iter()
            .map(|t| {
                let mut track = Track::from_parts(
                    t.id,
                    t.class,
                    interpolate(&t.boxes, max_gap),
                    interpolate(&t.faces, max_gap),
                );
                let tl = build_tracklets(&track, &t.tracklets, first_frame, cfg.min_views, &mut looks);
                track.set_tracklets_unchecked(tl);
                track
            })
            .collect();
        link_tracklets(&cfg, &self.events, &mut tracks, &looks);
        Tracks::from_tracks_unchecked(tracks, self.events)
    }
}

/// Give each person track the face boxes of the face track it took its face over from (the
/// boxes before the hand-off), when the hand-off is unambiguous: the face track went to one
/// person only and the person took over from one face track only. A face track left without
/// boxes is dropped.
fn hand_over_faces(all: &mut Vec<Live>, handoffs: &[(u64, u64, u64)]) {
    for &(fid, pid, frame) in handoffs {
        // A face track hands over once, at its first hand-off, and only to one person.
        let first = handoffs.iter().filter(|h| h.0 == fid).map(|h| h.2).min();
        if first != Some(frame) || handoffs.iter().any(|h| h.0 == fid && h.2 == frame && h.1 != pid) {
            continue;
        }
        let (Some(fi), Some(pi)) = (
            all.iter().position(|t| t.id == fid && t.class == Class::Face),
            all.iter().position(|t| t.id == pid && t.class == Class::Person),
        ) else {
            continue;
        };
        let moved: Vec<TrackBox> = all[fi]
            .boxes
            .iter()
            .filter(|b| b.frame < frame)
            .copied()
            .collect();
        if moved.is_empty() {
            continue;
        }
        all[fi].boxes.retain(|b| b.frame >= frame);
        let p = &mut all[pi];
        for b in moved {
            if !p.faces.iter().any(|x| x.frame == b.frame) {
                p.faces.push(b);
            }
        }
        p.faces.sort_by_key(|b| b.frame);
        let first = p
            .boxes
            .first()
            .map(|b| b.frame)
            .into_iter()
            .chain(p.faces.first().map(|b| b.frame))
            .min();
        if let (Some(first), Some(t)) = (first, p.tracklets.first_mut()) {
            t.start = t.start.min(first);
        }
    }
    all.retain(|t| !t.boxes.is_empty() || !t.faces.is_empty());
}

/// The surviving tracklets of a finished track: the live ones that hold at least one box,
/// numbered from 1, each running to the frame before the next (the last to the track's end).
/// Their appearances (with at least `min_views` clear views) go to `looks`.
fn build_tracklets(
    track: &Track,
    live: &[LiveTracklet],
    first_frame: u64,
    min_views: u32,
    looks: &mut Vec<(TrackletId, Option<Appearance>)>,
) -> Vec<Tracklet> {
    let has_box = |a: u64, b: u64| {
        [track.boxes(), track.faces()].iter().any(|list| {
            let i = list.partition_point(|x| x.frame < a);
            list.get(i).is_some_and(|x| x.frame <= b)
        })
    };
    let mut out: Vec<Tracklet> = Vec::new();
    for (k, lt) in live.iter().enumerate() {
        let start = lt.start.max(track.first_frame());
        let end = live
            .get(k + 1)
            .map_or(track.last_frame(), |n| n.start.saturating_sub(1))
            .min(track.last_frame());
        if start > end || !has_box(start, end) {
            // Empty (lost at the event and never seen again): its frames go to the previous
            // tracklet, which holds no box there either.
            if let Some(prev) = out.last_mut() {
                prev.end = end.max(prev.end);
            }
            continue;
        }
        let index = out.len() as u32 + 1;
        let cause = if out.is_empty() && matches!(lt.cause, Cause::Start | Cause::Birth) {
            if track.first_frame() <= first_frame {
                Cause::Start
            } else {
                Cause::Birth
            }
        } else {
            lt.cause
        };
        looks.push((
            TrackletId::new(track.id(), index),
            (lt.look.count() >= min_views).then(|| lt.look.mean()).flatten(),
        ));
        out.push(Tracklet {
            index,
            start: if out.is_empty() {
                track.first_frame()
            } else {
                start
            },
            end,
            cause,
            event: lt.event,
            link: None,
        });
    }
    if out.is_empty() {
        // Not reachable for a confirmed track (its birth box is in its first tracklet), but a
        // track must have a tracklet: one over the whole track, never linked.
        out.push(Tracklet {
            index: 1,
            start: track.first_frame(),
            end: track.last_frame(),
            cause: Cause::Start,
            event: None,
            link: None,
        });
    }
    out
}

/// Link tracklets across identity events, then new tracks to tracks that ended before them
/// (see [`crate::identity`]).
fn link_tracklets(
    cfg: &TrackerConfig,
    events: &[IdentityEvent],
    tracks: &mut [Track],
    looks: &[(TrackletId, Option<Appearance>)],
) {
    let look = |id: TrackletId| looks.iter().find(|(t, _)| *t == id).and_then(|(_, a)| *a);
    let find = |tracks: &[Track], id: u64| tracks.binary_search_by_key(&id, Track::id).ok();
    let cell = |a: Option<Appearance>, b: Option<Appearance>| match (a, b) {
        (Some(a), Some(b)) => Cell::Dist(a.distance(&b)),
        _ => Cell::Unknown,
    };
    for (ei, e) in events.iter().enumerate() {
        let (cols, rows) = crate::tracks::event_sides(tracks, ei, e);
        let span = |id: TrackletId| {
            find(tracks, id.track)
                .and_then(|i| tracks[i].tracklets().iter().find(|t| t.index == id.index))
                .map(|t| (t.start, t.end))
        };
        // Tracklets that coexist are different people (several cut at different frames of
        // one cluster): that pair is impossible, not an alternative.
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|&r| {
                cols.iter()
                    .map(|&c| match (span(r), span(c)) {
                        (Some((rs, _)), Some((_, ce))) if ce < rs => cell(look(r), look(c)),
                        _ => Cell::Impossible,
                    })
                    .collect()
            })
            .collect();
        for (r, d) in rows
            .iter()
            .zip(decide(&cells, cfg.link_max_dist, cfg.link_margin))
        {
            let Some(d) = d else { continue };
            if let Some(i) = find(tracks, r.track) {
                tracks[i].set_link(
                    r.index,
                    Link {
                        to: cols[d.col],
                        distance: d.distance,
                        margin: d.margin,
                        confident: d.confident,
                    },
                );
            }
        }
    }

    // Re-entries: new tracks without a confident link, against tracks that ended before
    // them. An ended track is represented by its last tracklet with an appearance, provided
    // the tracklets after it (if any) have none (they were never seen clearly, e.g. while
    // hidden behind someone) and nothing continues it in a confident link.
    let linked_to: Vec<TrackletId> = tracks
        .iter()
        .flat_map(|t| t.tracklets().iter())
        .filter_map(|t| t.link.filter(|l| l.confident).map(|l| l.to))
        .collect();
    let rows: Vec<(TrackletId, u64)> = tracks
        .iter()
        .filter(|t| t.class() == crate::Class::Person)
        .filter_map(|t| {
            let first = t.tracklets().first()?;
            (first.cause != Cause::Start && !first.link.is_some_and(|l| l.confident))
                .then_some((TrackletId::new(t.id(), first.index), first.start))
        })
        .collect();
    let cols: Vec<(TrackletId, u64)> = tracks
        .iter()
        .filter(|t| t.class() == crate::Class::Person)
        .filter_map(|t| {
            let end = t.tracklets().last()?.end;
            let last_seen = t
                .tracklets()
                .iter()
                .rev()
                .map(|x| TrackletId::new(t.id(), x.index))
                .find(|&id| look(id).is_some())?;
            let later_linked = t
                .tracklets()
                .iter()
                .filter(|x| x.index >= last_seen.index)
                .any(|x| linked_to.contains(&TrackletId::new(t.id(), x.index)));
            (!later_linked).then_some((last_seen, end))
        })
        .collect();
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|&(r, start)| {
            cols.iter()
                .map(|&(c, end)| {
                    if c.track != r.track && end < start && start - end <= cfg.relink_max_gap {
                        cell(look(r), look(c))
                    } else {
                        Cell::Impossible
                    }
                })
                .collect()
        })
        .collect();
    for ((r, _), d) in rows
        .iter()
        .zip(decide(&cells, cfg.relink_max_dist, cfg.link_margin))
    {
        let Some(d) = d else { continue };
        if let Some(i) = find(tracks, r.track) {
            tracks[i].set_link(
                r.index,
                Link {
                    to: cols[d.col].0,
                    distance: d.distance,
                    margin: d.margin,
                    confident: d.confident,
                },
            );
        }
    }
}

/// Fraction of the smaller of two boxes covered by their intersection.
fn overlap_of_smaller(a: &BoxF, b: &BoxF) -> f32 {
    let inter = inside_area(a, b);
    let small = a.area().min(b.area());
    if small > 0.0 {
        inter / small
    } else {
        0.0
    }
}

/// Identity bookkeeping after the person step of one frame: detect contacts between person
/// tracks (new ones are identity events that cut both tracks into new tracklets), and add the
/// appearance of every clear view to its track's current tracklet.
#[allow(clippy::too_many_arguments)]
fn identity_step(
    cfg: &TrackerConfig,
    persons: &mut [Live],
    events: &mut Vec<IdentityEvent>,
    contacts: &mut Vec<Contact>,
    frame: u64,
    dets: &[Detection],
    person_dets: &[usize],
    assignments: &[Option<u64>],
    looks: &[Option<Appearance>],
    present: &mut Vec<(usize, BoxF, Option<usize>)>,
) {
    present.clear();
    for (p, t) in persons.iter().enumerate() {
        if !t.confirmed {
            continue;
        }
        if t.last_hit == frame {
            if let Some(d) = person_dets
                .iter()
                .copied()
                .find(|&d| assignments[d] == Some(t.id))
            {
                present.push((p, dets[d].bbox, Some(d)));
            }
        } else if frame - t.last_hit <= cfg.max_gap_interpolate {
            present.push((p, t.pred, None));
        }
    }
    for i in 0..present.len() {
        for j in i + 1..present.len() {
            let (a, b) = (present[i], present[j]);
            if a.2.is_none() && b.2.is_none() {
                continue;
            }
            // People of very different size in the picture (one far behind the other) are
            // never confused by IoU matching: no contact.
            let (ha, hb) = (a.1.h.max(1.0), b.1.h.max(1.0));
            if ha.max(hb) > CONTACT_MAX_SIZE_RATIO * ha.min(hb) {
                continue;
            }
            let ov = overlap_of_smaller(&a.1, &b.1);
            let (ia, ib) = (persons[a.0].id, persons[b.0].id);
            let pair = (ia.min(ib), ia.max(ib));
            let ongoing = contacts.iter().any(|c| c.pair == pair);
            if ov < cfg.contact_overlap * if ongoing { CONTACT_HOLD } else { 1.0 } {
                continue;
            }
            let kind = match (a.2, b.2) {
                (Some(_), Some(_)) => EventKind::Overlap,
                _ => {
                    // One is lost: hidden by the other, or merged into the other's detection.
                    let (lost, cover) = if a.2.is_none() { (a, b) } else { (b, a) };
                    let lost_pred = &lost.1;
                    let cover_pred = &persons[cover.0].pred;
                    let covered = inside_area(lost_pred, &cover.1) >= 0.5 * lost_pred.area();
                    if !covered {
                        EventKind::Overlap
                    } else if inside_area(cover_pred, &cover.1) >= 0.5 * cover_pred.area()
                        && cover.1.area() >= 1.2 * cover_pred.area()
                    {
                        EventKind::Merge
                    } else {
                        EventKind::Occlusion
                    }
                }
            };
            if let Some(c) = contacts.iter_mut().find(|c| c.pair == pair) {
                c.last = frame;
                if let Some(ev) = c.event.and_then(|e| events.get_mut(e)) {
                    if kind.severity() > ev.kind.severity() {
                        ev.kind = kind;
                    }
                }
                continue;
            }
            // Both tracks begin here (e.g. the first frame): together from the start, there
            // is nothing before to confuse them with.
            let born_here = |p: usize| persons[p].tracklets.first().is_some_and(|t| t.start >= frame);
            if born_here(a.0) && born_here(b.0) {
                contacts.push(Contact {
                    pair,
                    last: frame,
                    event: None,
                });
                continue;
            }
            // Contacts that start on one frame with a shared track, or while one of the two
            // is still in contact with others, are one event (a cluster of people): cutting
            // again inside a cluster would leave tracklets that are never seen clearly.
            let ongoing_event = contacts
                .iter()
                .filter(|c| [ia, ib].contains(&c.pair.0) || [ia, ib].contains(&c.pair.1))
                .filter_map(|c| c.event)
                .max();
            let e = match events
                .iter()
                .rposition(|e| e.frame == frame && (e.tracks.contains(&ia) || e.tracks.contains(&ib)))
                .or(ongoing_event)
            {
                Some(e) => {
                    let ev = &mut events[e];
                    for id in [ia, ib] {
                        if !ev.tracks.contains(&id) {
                            ev.tracks.push(id);
                        }
                    }
                    ev.tracks.sort_unstable();
                    if kind.severity() > ev.kind.severity() {
                        ev.kind = kind;
                    }
                    e
                }
                None => {
                    events.push(IdentityEvent {
                        frame,
                        kind,
                        tracks: vec![pair.0, pair.1],
                    });
                    events.len() - 1
                }
            };
            contacts.push(Contact {
                pair,
                last: frame,
                event: Some(e),
            });
            for p in [a.0, b.0] {
                // A track already cut by this event stays in its tracklet.
                if !persons[p].tracklets.iter().any(|t| t.event == Some(e)) {
                    persons[p].cut(frame, e);
                }
            }
        }
    }
    // Contacts that ended: a track left with no contact starts its "after" tracklet.
    let mut ended: Vec<(u64, usize)> = Vec::new();
    contacts.retain(|c| {
        let keep = frame - c.last <= cfg.contact_gap;
        if !keep {
            if let Some(e) = c.event {
                ended.push((c.pair.0, e));
                ended.push((c.pair.1, e));
            }
        }
        keep
    });
    for (id, e) in ended {
        let still = contacts.iter().any(|c| c.pair.0 == id || c.pair.1 == id);
        if still {
            continue;
        }
        if let Some(t) = persons.iter_mut().find(|t| t.id == id) {
            // Only a track inside the event's contact stretch parts from it.
            if t.tracklets
                .last()
                .is_some_and(|l| l.event == Some(e) && l.cause == Cause::Event)
            {
                t.cut_as(frame, e, Cause::Parting);
            }
        }
    }

    // Clear views: a matched box that no other person box (tracked, lost or unmatched
    // detection) covers beyond `clear_overlap`.
    for k in 0..present.len() {
        let (p, b, Some(d)) = present[k] else { continue };
        let Some(Some(look)) = looks.get(d) else { continue };
        let limit = cfg.clear_overlap * b.area();
        let clear = present
            .iter()
            .enumerate()
            .all(|(k2, o)| k2 == k || inside_area(&b, &o.1) <= limit)
            && person_dets
                .iter()
                .all(|&d2| d2 == d || inside_area(&b, &dets[d2].bbox) <= limit);
        if clear {
            if let Some(t) = persons[p].tracklets.last_mut() {
                t.look.add(look);
            }
        }
    }
}

/// One ByteTrack step for one class pool.
#[allow(clippy::too_many_arguments)]
fn step(
    cfg: &TrackerConfig,
    pool: &mut Vec<Live>,
    finished: &mut Vec<Live>,
    frame: u64,
    first: bool,
    dets: &[Detection],
    idx: &[usize],
    assignments: &mut [Option<u64>],
    next_id: &mut u64,
    s: &mut Scratch,
) {
    // End tracks unmatched for too long. Order in the pool does not matter: ties in matching
    // are broken by track id.
    let mut i = 0;
    while i < pool.len() {
        // Frames missed before this one (frame > last_hit: frames increase).
        if frame - pool[i].last_hit - 1 > cfg.max_age {
            let t = pool.swap_remove(i);
            if t.confirmed {
                finished.push(t);
            }
        } else {
            i += 1;
        }
    }

    // Predict every track to this frame.
    for t in pool.iter_mut() {
        // Retirement above guarantees at most max_age + 1 steps; the constant bounds the loop for
        // huge max_age values and frame jumps (a prediction that far out is meaningless).
        let steps = (frame - t.predicted_to)
            .min(cfg.max_age.saturating_add(1))
            .min(MAX_PREDICT_STEPS);
        // Frames skipped by the caller (detection every n-th frame) are not misses: a track
        // matched on the previous update keeps its size velocity; a lost one coasts.
        for _ in 0..steps {
            t.kf.predict(!t.tracked);
        }
        t.predicted_to = frame;
        t.pred = t.kf.bbox();
    }

    s.high.clear();
    s.low.clear();
    for &d in idx {
        if dets[d].score >= cfg.high_thresh {
            s.high.push(d);
        } else {
            s.low.push(d);
        }
    }
    s.track_used.clear();
    s.track_used.resize(pool.len(), false);
    s.det_used.clear();
    s.det_used.resize(dets.len(), false);
    s.matches.clear();

    // Stage 1: high detections against every track (tracked, lost and tentative).
    s.cand.clear();
    s.cand.extend(0..pool.len());
    greedy(
        pool,
        &s.cand,
        dets,
        &s.high,
        cfg.match_iou,
        &mut s.pairs,
        &mut s.track_used,
        &mut s.det_used,
        &mut s.matches,
    );

    // Stage 2: low detections against confirmed tracks matched on the previous update and
    // still unmatched.
    s.cand.clear();
    s.cand
        .extend((0..pool.len()).filter(|&t| !s.track_used[t] && pool[t].tracked && pool[t].confirmed));
    greedy(
        pool,
        &s.cand,
        dets,
        &s.low,
        cfg.low_match_iou,
        &mut s.pairs,
        &mut s.track_used,
        &mut s.det_used,
        &mut s.matches,
    );

    for &(t, d) in &s.matches {
        let tr = &mut pool[t];
        let det = &dets[d];
        tr.kf.update(&det.bbox);
        tr.boxes.push(TrackBox {
            frame,
            bbox: det.bbox,
            score: det.score,
            interpolated: false,
        });
        tr.hits = tr.hits.saturating_add(1);
        tr.last_hit = frame;
        tr.tracked = true;
        if tr.hits >= cfg.min_hits {
            tr.confirmed = true;
        }
        assignments[d] = Some(tr.id);
    }

    // Unmatched tracks become lost; unmatched tentative tracks are dropped (ByteTrack).
    let mut t = pool.len();
    while t > 0 {
        t -= 1;
        if !s.track_used[t] {
            if pool[t].confirmed {
                pool[t].tracked = false;
            } else {
                pool.swap_remove(t);
            }
        }
    }

    // Births from unmatched high detections.
    for &d in &s.high {
        let det = &dets[d];
        if s.det_used[d] || det.score < cfg.birth_thresh {
            continue;
        }
        let id = *next_id;
        *next_id += 1;
        pool.push(Live {
            id,
            class: det.class,
            kf: Kalman::new(&det.bbox),
            predicted_to: frame,
            pred: det.bbox,
            last_hit: frame,
            hits: 1,
            confirmed: first || cfg.min_hits <= 1,
            tracked: true,
            boxes: vec![TrackBox {
                frame,
                bbox: det.bbox,
                score: det.score,
                interpolated: false,
            }],
            faces: Vec::new(),
            tracklets: vec![LiveTracklet {
                start: frame,
                cause: if first { Cause::Start } else { Cause::Birth },
                event: None,
                look: AppearanceMean::default(),
            }],
        });
        assignments[d] = Some(id);
    }
}

/// Greedy IoU assignment between pool tracks `trk` (by their predicted box) and detections
/// `det`: pairs with IoU >= `thresh`, best first.
#[allow(clippy::too_many_arguments)]
fn greedy(
    pool: &[Live],
    trk: &[usize],
    dets: &[Detection],
    det: &[usize],
    thresh: f32,
    pairs: &mut Vec<(f32, u64, u32, u32)>,
    track_used: &mut [bool],
    det_used: &mut [bool],
    matches: &mut Vec<(usize, usize)>,
) {
    pairs.clear();
    for &t in trk {
        let p = &pool[t].pred;
        let (px1, py1, pa) = (p.x + p.w, p.y + p.h, p.area());
        for &d in det {
            // IoU without a division, rejecting non-overlapping pairs first: most pairs in a
            // frame do not overlap, and this loop is most of the tracker's time.
            let b = &dets[d].bbox;
            let iw = px1.min(b.x + b.w) - p.x.max(b.x);
            let ih = py1.min(b.y + b.h) - p.y.max(b.y);
            if iw <= 0.0 || ih <= 0.0 {
                continue;
            }
            let inter = iw * ih;
            let union = pa + b.area() - inter;
            if union > 0.0 && inter >= thresh * union {
                pairs.push((inter / union, pool[t].id, t as u32, d as u32));
            }
        }
    }
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.3.cmp(&b.3)));
    for &(_, _, t, d) in pairs.iter() {
        let (t, d) = (t as usize, d as usize);
        if !track_used[t] && !det_used[d] {
            track_used[t] = true;
            det_used[d] = true;
            matches.push((t, d));
        }
    }
}

/// The region of a person box where its face is expected: the top `frac` of the box, widened
/// by [`FACE_MARGIN`] on the sides and above.
fn upper_region(p: &BoxF, frac: f32) -> BoxF {
    let (mx, my) = (p.w * FACE_MARGIN, p.h * FACE_MARGIN);
    BoxF::new(p.x - mx, p.y - my, p.w + 2.0 * mx, p.h * frac + my)
}

/// Area of `f` inside `r`.
fn inside_area(f: &BoxF, r: &BoxF) -> f32 {
    let iw = ((f.x + f.w).min(r.x + r.w) - f.x.max(r.x)).max(0.0);
    let ih = ((f.y + f.h).min(r.y + r.h) - f.y.max(r.y)).max(0.0);
    iw * ih
}

/// Attach faces to person tracks and leave in `faces` only the face detections to track on
/// their own.
///
/// Candidate persons are confirmed tracks matched on this frame (their detection box) or
/// lost for at most `max_gap_interpolate` frames (their predicted box). A face attaches only
/// when it fits exactly one candidate and no other face fits that candidate: an ambiguous face
/// gets its own face track instead, because attaching a bystander's face to the requester would
/// leave it unredacted, while an extra face track only costs an extra blurred box.
fn attach_faces(
    cfg: &TrackerConfig,
    persons: &mut [Live],
    frame: u64,
    dets: &[Detection],
    faces: &mut Vec<usize>,
    assignments: &mut [Option<u64>],
    s: &mut Scratch,
) {
    if faces.is_empty() || persons.is_empty() {
        return;
    }
    // The candidates' face regions, computed once per frame rather than once per face.
    s.regions.clear();
    for (p, t) in persons.iter().enumerate() {
        if !t.confirmed {
            continue;
        }
        let b = if t.last_hit == frame {
            match t.boxes.last() {
                Some(b) => b.bbox,
                None => continue,
            }
        } else if frame - t.last_hit <= cfg.max_gap_interpolate {
            t.pred
        } else {
            continue;
        };
        s.regions.push((p, upper_region(&b, cfg.face_upper_frac)));
    }
    s.claims.clear();
    s.claims.resize(persons.len(), 0);
    s.face_owner.clear();
    for &f in faces.iter() {
        let fb = &dets[f].bbox;
        let need = cfg.face_inside * fb.area();
        let mut owner = None;
        let mut n = 0;
        for &(p, r) in &s.regions {
            if inside_area(fb, &r) >= need {
                owner = Some(p);
                n += 1;
            }
        }
        let owner = if n == 1 {
            owner
        } else if n > 1 {
            // Inside several persons' upper regions (people meeting): the face goes on with
            // the one person whose face it continues (a face box of the last few frames
            // overlapping it), if exactly one does. Two faces claiming one person still
            // attach to neither (below).
            let mut cont = None;
            let mut k = 0;
            for &(p, r) in &s.regions {
                if inside_area(fb, &r) < need {
                    continue;
                }
                let continues = persons[p]
                    .faces
                    .last()
                    .is_some_and(|l| frame - l.frame <= FACE_CONTINUITY && l.bbox.iou(fb) >= 0.3);
                if continues {
                    cont = Some(p);
                    k += 1;
                }
            }
            if k == 1 {
                cont
            } else {
                None
            }
        } else {
            None
        };
        if let Some(p) = owner {
            s.claims[p] += 1;
        }
        s.face_owner.push(owner);
    }
    let mut k = 0;
    faces.retain(|&f| {
        let owner = s.face_owner[k];
        k += 1;
        match owner {
            Some(p) if s.claims[p] == 1 => {
                let t = &mut persons[p];
                let d = &dets[f];
                t.faces.push(TrackBox {
                    frame,
                    bbox: d.bbox,
                    score: d.score,
                    interpolated: false,
                });
                assignments[f] = Some(t.id);
                false
            }
            _ => true,
        }
    });
}
