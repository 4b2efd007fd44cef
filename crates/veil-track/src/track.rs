//! One track: its boxes over time, its face boxes, its tracklets, and how a frame's boxes
//! are found with temporal padding.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use veil_core::{BoxF, Class};

use crate::error::TrackError;
use crate::identity::{Cause, Tracklet, TrackletId};

/// One box of a track on one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackBox {
    /// Frame index (0-based, in the analysed recording).
    pub frame: u64,
    /// The box in frame pixels; `[x, y, w, h]` in JSON.
    #[serde(rename = "box", with = "box_array")]
    pub bbox: BoxF,
    /// Detector score (for an interpolated box, the lower score of its two neighbours).
    pub score: f32,
    /// Filled in across a gap rather than detected.
    pub interpolated: bool,
}

mod box_array {
    use super::*;

    pub(super) fn serialize<S: Serializer>(b: &BoxF, s: S) -> Result<S::Ok, S::Error> {
        [b.x, b.y, b.w, b.h].serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BoxF, D::Error> {
        let [x, y, w, h] = <[f32; 4]>::deserialize(d)?;
        Ok(BoxF::new(x, y, w, h))
    }
}

/// One tracked person or face over time.
///
/// Invariants (checked by [`Track::new`] and on load): at least one box or face box; within
/// `boxes` and within `faces`, frames strictly increase; boxes finite with non-negative size;
/// scores finite; `first_frame`/`last_frame` are the smallest/largest frame of both lists;
/// only person tracks carry `faces` (a face track's face boxes are its `boxes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    pub(crate) id: u64,
    pub(crate) class: Class,
    pub(crate) first_frame: u64,
    pub(crate) last_frame: u64,
    pub(crate) boxes: Vec<TrackBox>,
    pub(crate) faces: Vec<TrackBox>,
    pub(crate) tracklets: Vec<Tracklet>,
    /// Frame spans `[first, last]` (sorted, disjoint) in which the track's boxes are group
    /// boxes: its detections there each covered two people who were detected on their own as
    /// well (see [`Track::group_at`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<[u64; 2]>,
}

impl Track {
    /// A track from its boxes (body boxes for a person, face boxes for a face track) and, for a
    /// person, the face boxes attached to it.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if an invariant (see [`Track`]) does not hold.
    pub fn new(
        id: u64,
        class: Class,
        boxes: Vec<TrackBox>,
        faces: Vec<TrackBox>,
    ) -> Result<Track, TrackError> {
        let t = Track::from_parts(id, class, boxes, faces);
        t.check().map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(t)
    }

    /// Built by the tracker, valid by construction.
    pub(crate) fn from_parts(id: u64, class: Class, boxes: Vec<TrackBox>, faces: Vec<TrackBox>) -> Track {
        let first = boxes
            .first()
            .map(|b| b.frame)
            .into_iter()
            .chain(faces.first().map(|b| b.frame))
            .min();
        let last = boxes
            .last()
            .map(|b| b.frame)
            .into_iter()
            .chain(faces.last().map(|b| b.frame))
            .max();
        let (first_frame, last_frame) = (first.unwrap_or(0), last.unwrap_or(0));
        Track {
            id,
            class,
            first_frame,
            last_frame,
            boxes,
            faces,
            tracklets: vec![whole(first_frame, last_frame)],
            groups: Vec::new(),
        }
    }

    pub(crate) fn set_groups(&mut self, groups: Vec<[u64; 2]>) {
        self.groups = groups;
    }

    /// Whether the track's box on `frame` is a group box: one detection over two people who
    /// were both detected on their own on the same frames, from one such detection to the
    /// next with no single-person detection between. Its people are covered by their own
    /// boxes, so the group box need not redact (over a kept requester, it would hide them).
    pub fn group_at(&self, frame: u64) -> bool {
        self.groups.iter().any(|g| g[0] <= frame && frame <= g[1])
    }

    /// The track with these tracklets instead of one over its whole span.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if the tracklets are not numbered 1, 2, ... in order,
    /// do not cover the track's frames without gap or overlap, or a link points to a later
    /// tracklet.
    pub fn with_tracklets(mut self, tracklets: Vec<Tracklet>) -> Result<Track, TrackError> {
        self.tracklets = tracklets;
        self.check()
            .map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(self)
    }

    pub(crate) fn set_tracklets_unchecked(&mut self, tracklets: Vec<Tracklet>) {
        self.tracklets = tracklets;
    }

    pub(crate) fn set_link(&mut self, index: u32, link: crate::identity::Link) {
        if let Some(t) = self.tracklets.iter_mut().find(|t| t.index == index) {
            t.link = Some(link);
        }
    }

    /// The track's tracklets, in order (one over the whole track when it met nobody).
    pub fn tracklets(&self) -> &[Tracklet] {
        &self.tracklets
    }

    /// The tracklet that holds `frame`: the one whose range contains it, the first for frames
    /// before the track and the last for frames after it (temporal padding).
    pub fn tracklet_at(&self, frame: u64) -> &Tracklet {
        let i = self.tracklets.partition_point(|t| t.start <= frame);
        &self.tracklets[i.saturating_sub(1).min(self.tracklets.len() - 1)]
    }

    /// Track id, unique in its [`Tracks`](crate::Tracks).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Person or face.
    pub fn class(&self) -> Class {
        self.class
    }

    /// First frame with a box (body or face), before temporal padding.
    pub fn first_frame(&self) -> u64 {
        self.first_frame
    }

    /// Last frame with a box (body or face), before temporal padding.
    pub fn last_frame(&self) -> u64 {
        self.last_frame
    }

    /// Body boxes of a person track, face boxes of a face track; sorted by frame, interpolated
    /// ones included.
    pub fn boxes(&self) -> &[TrackBox] {
        &self.boxes
    }

    /// The frame of the last detected (not interpolated) box in frames `first..=last`.
    pub fn last_detected_in(&self, first: u64, last: u64) -> Option<u64> {
        let b = &self.boxes;
        b[..b.partition_point(|x| x.frame <= last)]
            .iter()
            .rev()
            .take_while(|x| x.frame >= first)
            .find(|x| !x.interpolated)
            .map(|x| x.frame)
    }

    /// Face boxes attached to a person track (empty for face tracks); sorted by frame.
    pub fn faces(&self) -> &[TrackBox] {
        &self.faces
    }

    /// The face boxes this track holds: a face track's boxes, a person track's attached faces;
    /// sorted by frame.
    pub fn face_boxes(&self) -> &[TrackBox] {
        match self.class {
            Class::Face => &self.boxes,
            Class::Person => &self.faces,
        }
    }

    /// The box for this track's contact-sheet thumbnail: the highest-scoring detected face box,
    /// else the highest-scoring detected body box (larger area on equal scores); interpolated
    /// boxes only if there is nothing else. `None` only for a track without boxes, which a
    /// valid track never is.
    pub fn best_thumbnail_box(&self) -> Option<&TrackBox> {
        fn best(list: &[TrackBox], interp: bool) -> Option<&TrackBox> {
            list.iter().filter(|b| b.interpolated == interp).max_by(|a, b| {
                a.score
                    .total_cmp(&b.score)
                    .then(a.bbox.area().total_cmp(&b.bbox.area()))
            })
        }
        best(&self.faces, false)
            .or_else(|| best(&self.boxes, false))
            .or_else(|| best(&self.faces, true))
            .or_else(|| best(&self.boxes, true))
    }

    /// Why this track breaks an invariant, if it does.
    pub(crate) fn check(&self) -> Result<(), String> {
        let id = self.id;
        if self.boxes.is_empty() && self.faces.is_empty() {
            return Err(format!("track {id} has no box"));
        }
        if self.class == Class::Face && !self.faces.is_empty() {
            return Err(format!(
                "track {id} is a face track but has a \"faces\" list (only person tracks carry faces)"
            ));
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g[0] > g[1] || i > 0 && self.groups[i - 1][1] >= g[0] {
                return Err(format!(
                    "track {id} groups[{i}] [{}, {}] is empty or not after the one before (spans must be sorted and disjoint)",
                    g[0], g[1]
                ));
            }
        }
        for (name, list) in [("boxes", &self.boxes), ("faces", &self.faces)] {
            for (i, b) in list.iter().enumerate() {
                let r = &b.bbox;
                if !(r.x.is_finite() && r.y.is_finite() && r.w.is_finite() && r.h.is_finite()) {
                    return Err(format!(
                        "track {id} {name}[{i}] (frame {}): box is not finite",
                        b.frame
                    ));
                }
                if r.w < 0.0 || r.h < 0.0 {
                    return Err(format!(
                        "track {id} {name}[{i}] (frame {}): negative box size {} x {}",
                        b.frame, r.w, r.h
                    ));
                }
                if !b.score.is_finite() {
                    return Err(format!(
                        "track {id} {name}[{i}] (frame {}): score is not finite",
                        b.frame
                    ));
                }
                if i > 0 && list[i - 1].frame >= b.frame {
                    return Err(format!(
                        "track {id} {name}[{i}]: frame {} does not come after frame {} (frames must be sorted and unique)",
                        b.frame,
                        list[i - 1].frame
                    ));
                }
            }
        }
        let first = self
            .boxes
            .first()
            .into_iter()
            .chain(self.faces.first())
            .map(|b| b.frame)
            .min();
        let last = self
            .boxes
            .last()
            .into_iter()
            .chain(self.faces.last())
            .map(|b| b.frame)
            .max();
        if first != Some(self.first_frame) || last != Some(self.last_frame) {
            return Err(format!(
                "track {id}: first_frame/last_frame are {}/{} but its boxes span {}/{}",
                self.first_frame,
                self.last_frame,
                first.unwrap_or(0),
                last.unwrap_or(0)
            ));
        }
        if self.tracklets.is_empty() {
            return Err(format!("track {id} has no tracklet"));
        }
        let mut next = self.first_frame;
        for (k, t) in self.tracklets.iter().enumerate() {
            let name = TrackletId::new(id, t.index);
            if t.index as usize != k + 1 {
                return Err(format!(
                    "track {id}: tracklet {name} is number {} (tracklets are numbered 1, 2, ... in order)",
                    k + 1
                ));
            }
            if t.start != next || t.end < t.start {
                return Err(format!(
                    "tracklet {name}: frames {}..={} do not continue the track at frame {next}",
                    t.start, t.end
                ));
            }
            next = t.end + 1;
            if matches!(t.cause, Cause::Event | Cause::Parting) != t.event.is_some() {
                return Err(format!(
                    "tracklet {name}: an event index goes with cause \"event\" or \"parting\" and only with them"
                ));
            }
            if let Some(l) = &t.link {
                if l.to.track == id && l.to.index >= t.index {
                    return Err(format!("tracklet {name}: linked to a later tracklet {}", l.to));
                }
                if !(l.distance.is_finite() && l.margin.is_none_or(f32::is_finite)) {
                    return Err(format!("tracklet {name}: link distance or margin is not finite"));
                }
            }
        }
        if next != self.last_frame + 1 {
            return Err(format!(
                "track {id}: its tracklets end at frame {}, the track at {}",
                next - 1,
                self.last_frame
            ));
        }
        Ok(())
    }

    /// The boxes of `list` that cover `frame` with `pad` frames of temporal padding: the box of
    /// that frame if there is one, otherwise the nearest earlier box if at most `pad` frames
    /// before and the nearest later box if at most `pad` frames after (both when both are).
    pub(crate) fn covering(list: &[TrackBox], frame: u64, pad: u64) -> impl Iterator<Item = &TrackBox> {
        let i = list.partition_point(|b| b.frame < frame);
        let mut out = [None, None];
        match list.get(i) {
            Some(b) if b.frame == frame => out[0] = Some(b),
            next => {
                if i > 0 {
                    let prev = &list[i - 1];
                    if frame - prev.frame <= pad {
                        out[0] = Some(prev);
                    }
                }
                if let Some(n) = next {
                    if n.frame - frame <= pad {
                        out[1] = Some(n);
                    }
                }
            }
        }
        out.into_iter().flatten()
    }
}

/// One tracklet over a whole track (a track without identity events).
pub(crate) fn whole(first: u64, last: u64) -> Tracklet {
    Tracklet {
        index: 1,
        start: first,
        end: last,
        cause: Cause::Start,
        event: None,
        link: None,
    }
}

/// Fill gaps of at most `max_gap` missing frames between consecutive boxes with linearly
/// interpolated boxes (score: the lower of the two neighbours).
pub(crate) fn interpolate(list: &[TrackBox], max_gap: u64) -> Vec<TrackBox> {
    let mut out = Vec::with_capacity(list.len());
    for (i, b) in list.iter().enumerate() {
        if i > 0 {
            let a = &list[i - 1];
            let gap = b.frame - a.frame - 1;
            if gap > 0 && gap <= max_gap {
                let n = (b.frame - a.frame) as f32;
                for f in a.frame + 1..b.frame {
                    let t = (f - a.frame) as f32 / n;
                    let lerp = |p: f32, q: f32| p + (q - p) * t;
                    out.push(TrackBox {
                        frame: f,
                        bbox: BoxF::new(
                            lerp(a.bbox.x, b.bbox.x),
                            lerp(a.bbox.y, b.bbox.y),
                            lerp(a.bbox.w, b.bbox.w),
                            lerp(a.bbox.h, b.bbox.h),
                        ),
                        score: a.score.min(b.score),
                        interpolated: true,
                    });
                }
            }
        }
        out.push(*b);
    }
    out
}
