//! The tracks document: complete tracks of a recording, their JSON form, validation and the
//! queries of the export pass.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use veil_core::BoxF;

use crate::identity::{Cause, IdentityEvent, Tracklet, TrackletId};
use veil_core::Class;

use crate::error::TrackError;

/// The tracks document version this build writes. Version 2 added tracklets, identity
/// events and links; version 1 files still load (each track then is one tracklet without
/// identity information, see [`Tracks::has_identity`]).
pub const TRACKS_VERSION: u32 = 2;

/// The oldest tracks document version this build reads.
pub const TRACKS_VERSION_MIN: u32 = 1;

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
    id: u64,
    class: Class,
    first_frame: u64,
    last_frame: u64,
    boxes: Vec<TrackBox>,
    faces: Vec<TrackBox>,
    tracklets: Vec<Tracklet>,
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
        }
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

    /// Track id, unique in its [`Tracks`].
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

    /// Face boxes attached to a person track (empty for face tracks); sorted by frame.
    pub fn faces(&self) -> &[TrackBox] {
        &self.faces
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
    fn check(&self) -> Result<(), String> {
        let id = self.id;
        if self.boxes.is_empty() && self.faces.is_empty() {
            return Err(format!("track {id} has no box"));
        }
        if self.class == Class::Face && !self.faces.is_empty() {
            return Err(format!(
                "track {id} is a face track but has a \"faces\" list (only person tracks carry faces)"
            ));
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
    fn covering(list: &[TrackBox], frame: u64, pad: u64) -> impl Iterator<Item = &TrackBox> {
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

/// All tracks of an analysed recording, with the video's size and frame rate, and
/// optionally the frame range that was analysed and the SHA-256 of the analysed input.
///
/// JSON form (version 2):
/// `{"version":2,"width":W,"height":H,"fps":F,"analyzed":[a,b],"source_sha256":"<hex>",
/// "tracks":[{"id":n,"class":"person","first_frame":a,"last_frame":b,"boxes":[{"frame":i,
/// "box":[x,y,w,h],"score":s,"interpolated":false}],"faces":[...],"tracklets":[{"index":1,
/// "start":a,"end":e,"cause":"start"},{"index":2,"start":e+1,"end":b,"cause":"event",
/// "event":0,"link":{"to":"n.1","distance":d,"margin":m,"confident":true}}]}],
/// "events":[{"frame":e+1,"kind":"overlap","tracks":[n,m]}]}`, where `analyzed`,
/// `source_sha256`, `min_face` and `min_person` (the smallest face and person heights searched
/// for, in pixels) are present only when set (files written before they existed still load).
/// Version 1 (no `tracklets`, no `events`) still loads; see [`Tracks::has_identity`].
///
/// The analysed range matters for privacy: a frame outside it has no tracks because nobody
/// looked, not because nobody was there, so an export must not use the tracks there.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracks {
    width: u32,
    height: u32,
    fps: f64,
    analyzed: Option<[u64; 2]>,
    source_sha256: Option<String>,
    min_face: Option<u32>,
    min_person: Option<u32>,
    tracks: Vec<Track>,
    events: Vec<IdentityEvent>,
    /// Whether the document records identity (tracklets, events, links): version 2 and later.
    identity: bool,
}

#[derive(Serialize)]
struct TracksRef<'a> {
    version: u32,
    width: u32,
    height: u32,
    fps: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    analyzed: Option<[u64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_face: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_person: Option<u32>,
    tracks: &'a [Track],
    events: &'a [IdentityEvent],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TracksWire {
    version: u64,
    width: u32,
    height: u32,
    fps: f64,
    #[serde(default)]
    analyzed: Option<[u64; 2]>,
    #[serde(default)]
    source_sha256: Option<String>,
    #[serde(default)]
    min_face: Option<u32>,
    #[serde(default)]
    min_person: Option<u32>,
    tracks: Vec<TrackWire>,
    #[serde(default)]
    events: Option<Vec<IdentityEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackWire {
    id: u64,
    class: Class,
    first_frame: u64,
    last_frame: u64,
    boxes: Vec<TrackBox>,
    faces: Vec<TrackBox>,
    #[serde(default)]
    tracklets: Option<Vec<Tracklet>>,
}

#[derive(Deserialize)]
struct VersionProbe {
    version: serde_json::Value,
}

impl Serialize for Tracks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TracksRef {
            version: TRACKS_VERSION,
            width: self.width,
            height: self.height,
            fps: self.fps,
            analyzed: self.analyzed,
            source_sha256: self.source_sha256.as_deref(),
            min_face: self.min_face,
            min_person: self.min_person,
            tracks: &self.tracks,
            events: &self.events,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tracks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Tracks::from_wire(TracksWire::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Tracks {
    /// A document from tracks built in code, sorted by id.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if `fps` is negative or not finite or two tracks share an
    /// id.
    pub fn new(width: u32, height: u32, fps: f64, mut tracks: Vec<Track>) -> Result<Tracks, TrackError> {
        tracks.sort_by_key(|t| t.id);
        let t = Tracks {
            width,
            height,
            fps,
            analyzed: None,
            source_sha256: None,
            min_face: None,
            min_person: None,
            tracks,
            events: Vec::new(),
            identity: true,
        };
        t.check().map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(t)
    }

    /// A document from tracks and identity events built in code (tracklets' `event` fields
    /// index `events`), sorted by id.
    ///
    /// # Errors
    /// As [`Tracks::new`] and [`Tracks::with_events`].
    pub fn new_with_events(
        width: u32,
        height: u32,
        fps: f64,
        mut tracks: Vec<Track>,
        events: Vec<IdentityEvent>,
    ) -> Result<Tracks, TrackError> {
        tracks.sort_by_key(|t| t.id);
        let t = Tracks {
            width,
            height,
            fps,
            analyzed: None,
            source_sha256: None,
            min_face: None,
            min_person: None,
            tracks,
            events,
            identity: true,
        };
        t.check().map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(t)
    }

    /// The document with these identity events (their indices are what tracklets' `event`
    /// fields refer to).
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if an event names fewer than two tracks or a track that
    /// is not in the document, or a tracklet refers to a missing event or tracklet.
    pub fn with_events(mut self, events: Vec<IdentityEvent>) -> Result<Tracks, TrackError> {
        self.events = events;
        self.check()
            .map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(self)
    }

    /// From the tracker (valid by construction, sorted by id).
    pub(crate) fn from_tracks_unchecked(tracks: Vec<Track>, events: Vec<IdentityEvent>) -> Tracks {
        let t = Tracks {
            width: 0,
            height: 0,
            fps: 0.0,
            analyzed: None,
            source_sha256: None,
            min_face: None,
            min_person: None,
            tracks,
            events,
            identity: true,
        };
        debug_assert_eq!(t.check(), Ok(()));
        t
    }

    /// Set the video's frame size and rate (the tracker does not know them).
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if `fps` is negative or not finite (0 means unknown).
    pub fn set_video(&mut self, width: u32, height: u32, fps: f64) -> Result<(), TrackError> {
        check_fps(fps).map_err(|reason| TrackError::InvalidTrack { reason })?;
        self.width = width;
        self.height = height;
        self.fps = fps;
        Ok(())
    }

    /// Record the inclusive range of frames that were analysed, `[first, last]`, in the
    /// numbering of the tracks' frames (`None`: unknown, as in files written before this
    /// field existed). Frames inside the range without a box had nobody detected; frames
    /// outside it were never looked at.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if `first > last`; the document is left unchanged.
    pub fn set_analyzed(&mut self, range: Option<[u64; 2]>) -> Result<(), TrackError> {
        check_analyzed(range).map_err(|reason| TrackError::InvalidTrack { reason })?;
        self.analyzed = range;
        Ok(())
    }

    /// The inclusive range of frames that were analysed, `[first, last]`, if recorded.
    pub fn analyzed(&self) -> Option<[u64; 2]> {
        self.analyzed
    }

    /// Whether every frame of `first..=last` lies in the analysed range (`false` when no
    /// range is recorded, or when `first > last`).
    pub fn covers(&self, first: u64, last: u64) -> bool {
        self.analyzed
            .is_some_and(|[a, b]| first <= last && a <= first && last <= b)
    }

    /// Record the SHA-256 of the analysed input file (64 hex digits, stored in lowercase;
    /// `None`: unknown, e.g. a stream that could not be hashed).
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if `hex` is not 64 hexadecimal digits; the document is
    /// left unchanged.
    pub fn set_source_sha256(&mut self, hex: Option<&str>) -> Result<(), TrackError> {
        self.source_sha256 = check_sha256(hex).map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(())
    }

    /// Record the smallest face height (frame pixels) the analysis searched for (`None`:
    /// unknown, as in files written before this field existed).
    pub fn set_min_face(&mut self, px: Option<u32>) {
        self.min_face = px;
    }

    /// The smallest face height (frame pixels) the analysis searched for, if recorded.
    pub fn min_face(&self) -> Option<u32> {
        self.min_face
    }

    /// Record the smallest person height (frame pixels) the analysis searched for.
    pub fn set_min_person(&mut self, px: Option<u32>) {
        self.min_person = px;
    }

    /// The smallest person height (frame pixels) the analysis searched for, if recorded.
    pub fn min_person(&self) -> Option<u32> {
        self.min_person
    }

    /// SHA-256 of the analysed input file (64 lowercase hex digits), if recorded.
    pub fn source_sha256(&self) -> Option<&str> {
        self.source_sha256.as_deref()
    }

    /// Frame width in pixels (0 if unknown).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Frame height in pixels (0 if unknown).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Frames per second (0 if unknown).
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// The tracks, sorted by id.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The track with this id.
    pub fn get(&self, id: u64) -> Option<&Track> {
        self.tracks
            .binary_search_by_key(&id, |t| t.id)
            .ok()
            .map(|i| &self.tracks[i])
    }

    /// The identity events (people meeting, hiding or merging), in frame order.
    pub fn events(&self) -> &[IdentityEvent] {
        &self.events
    }

    /// Whether the document records identity (tracklets, events, links). Version 1 files do
    /// not: their tracks may carry two people after a meeting without anything saying so, so
    /// an export must not rely on them to keep a requester visible.
    pub fn has_identity(&self) -> bool {
        self.identity
    }

    /// The tracklet with this name.
    pub fn tracklet(&self, id: TrackletId) -> Option<&Tracklet> {
        self.get(id.track)?.tracklets.iter().find(|t| t.index == id.index)
    }

    /// Every tracklet of the same person as `seeds`: the seeds and all tracklets reachable
    /// from them through confident links, in either direction. Sorted.
    pub fn identity(&self, seeds: &[TrackletId]) -> Vec<TrackletId> {
        let mut out: Vec<TrackletId> = seeds
            .iter()
            .copied()
            .filter(|s| self.tracklet(*s).is_some())
            .collect();
        let mut k = 0;
        while k < out.len() {
            let cur = out[k];
            k += 1;
            for t in &self.tracks {
                for tl in &t.tracklets {
                    let here = TrackletId::new(t.id, tl.index);
                    let Some(l) = tl.link.filter(|l| l.confident) else {
                        continue;
                    };
                    let other = if here == cur {
                        l.to
                    } else if l.to == cur {
                        here
                    } else {
                        continue;
                    };
                    if !out.contains(&other) {
                        out.push(other);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// Whether there is no track.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Every box to redact on `frame`: `(track_id, class, box, is_face)`, where `is_face` is
    /// true for face boxes (a face track's boxes and a person track's attached faces).
    ///
    /// Interpolated boxes count as boxes. With `pad_frames > 0` a box is also held on the
    /// `pad_frames` frames around every frame that has one: before a track starts, after it
    /// ends, and into gaps that were too long to interpolate (from both sides, so such a frame
    /// may yield two boxes of one track). A frame that has its own box yields only that box.
    pub fn boxes_at(
        &self,
        frame: u64,
        pad_frames: u64,
    ) -> impl Iterator<Item = (u64, Class, BoxF, bool)> + '_ {
        self.tracks
            .iter()
            .filter(move |t| {
                frame.saturating_add(pad_frames) >= t.first_frame
                    && frame <= t.last_frame.saturating_add(pad_frames)
            })
            .flat_map(move |t| {
                let body_is_face = t.class == Class::Face;
                Track::covering(&t.boxes, frame, pad_frames)
                    .map(move |b| (t.id, t.class, b.bbox, body_is_face))
                    .chain(
                        Track::covering(&t.faces, frame, pad_frames)
                            .map(move |b| (t.id, t.class, b.bbox, true)),
                    )
            })
    }

    /// The track whose box (body or face, interpolated included, no temporal padding) contains
    /// point `(x, y)` on `frame`; if several do, the one whose box centre is nearest the point
    /// (lower id on a tie).
    pub fn track_at_point(&self, frame: u64, x: f32, y: f32) -> Option<u64> {
        let mut best: Option<(f32, u64)> = None;
        for (id, _, b, _) in self.boxes_at(frame, 0) {
            if !b.contains(x, y) {
                continue;
            }
            let (cx, cy) = b.center();
            let d = (cx - x).powi(2) + (cy - y).powi(2);
            let better = match best {
                None => true,
                Some((bd, bid)) => d < bd || (d == bd && id < bid),
            };
            if better {
                best = Some((d, id));
            }
        }
        best.map(|(_, id)| id)
    }

    /// The document as compact JSON.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if serialisation fails (not expected for a valid document).
    pub fn to_json(&self) -> Result<String, TrackError> {
        serde_json::to_string(self).map_err(|e| TrackError::InvalidTrack {
            reason: e.to_string(),
        })
    }

    /// Parse and validate a document held in memory (errors name the file as `<string>`).
    ///
    /// # Errors
    /// [`TrackError::Parse`] or [`TrackError::Invalid`], see [`Tracks::load`].
    pub fn from_json(json: &str) -> Result<Tracks, TrackError> {
        Tracks::parse(json, Path::new("<string>"))
    }

    /// Read and validate a tracks file.
    ///
    /// # Errors
    /// [`TrackError::Read`] if the file cannot be read; [`TrackError::Parse`] if it is not JSON
    /// of the tracks schema (including negative sizes and unknown fields);
    /// [`TrackError::Invalid`] for an unsupported version, a non-finite box or score, a negative
    /// box size or fps, unsorted or repeated frames, inconsistent first/last frame, an empty
    /// track, a repeated id, an `analyzed` range whose first frame comes after its last, or a
    /// `source_sha256` that is not 64 hex digits.
    pub fn load(path: impl AsRef<Path>) -> Result<Tracks, TrackError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TrackError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Tracks::parse(&text, path)
    }

    /// Write the document atomically: to a temporary file beside `path`, flushed to disk, then
    /// renamed over `path`, so a reader never sees a partial file.
    ///
    /// # Errors
    /// [`TrackError::Write`] if any step fails; the temporary file is removed and `path` is left
    /// as it was.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TrackError> {
        let path = path.as_ref();
        let json = self.to_json()?;
        let werr = |source| TrackError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = json.into_bytes();
        bytes.push(b'\n');
        veil_core::fsutil::write_atomic(path, &bytes).map_err(werr)
    }

    fn parse(json: &str, path: &Path) -> Result<Tracks, TrackError> {
        match serde_json::from_str::<TracksWire>(json) {
            Ok(w) => Tracks::from_wire(w).map_err(|reason| TrackError::Invalid {
                path: path.to_path_buf(),
                reason,
            }),
            Err(e) => {
                // A document of another version may fail the schema; say so rather than
                // reporting the first field that differs.
                if let Ok(p) = serde_json::from_str::<VersionProbe>(json) {
                    let known = u64::from(TRACKS_VERSION_MIN)..=u64::from(TRACKS_VERSION);
                    if !p.version.as_u64().is_some_and(|v| known.contains(&v)) {
                        return Err(TrackError::Invalid {
                            path: path.to_path_buf(),
                            reason: version_reason(&p.version),
                        });
                    }
                }
                Err(TrackError::Parse {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        }
    }

    fn from_wire(w: TracksWire) -> Result<Tracks, String> {
        if !(u64::from(TRACKS_VERSION_MIN)..=u64::from(TRACKS_VERSION)).contains(&w.version) {
            return Err(version_reason(&serde_json::Value::from(w.version)));
        }
        let identity = w.version >= 2;
        if identity && w.events.is_none() {
            return Err("version 2 requires \"events\"".into());
        }
        if !identity && (w.events.is_some() || w.tracks.iter().any(|t| t.tracklets.is_some())) {
            return Err("version 1 has no \"events\" or \"tracklets\" (written by a newer Veil?)".into());
        }
        let mut tracks = Vec::with_capacity(w.tracks.len());
        for (i, t) in w.tracks.into_iter().enumerate() {
            let tracklets = match t.tracklets {
                Some(list) => list,
                None if identity => {
                    return Err(format!(
                        "tracks[{i}] (id {}): version 2 requires \"tracklets\"",
                        t.id
                    ))
                }
                None => vec![whole(t.first_frame, t.last_frame)],
            };
            tracks.push(Track {
                id: t.id,
                class: t.class,
                first_frame: t.first_frame,
                last_frame: t.last_frame,
                boxes: t.boxes,
                faces: t.faces,
                tracklets,
            });
        }
        check_analyzed(w.analyzed)?;
        let source_sha256 = check_sha256(w.source_sha256.as_deref())?;
        let mut t = Tracks {
            width: w.width,
            height: w.height,
            fps: w.fps,
            analyzed: w.analyzed,
            source_sha256,
            min_face: w.min_face,
            min_person: w.min_person,
            tracks,
            events: w.events.unwrap_or_default(),
            identity,
        };
        t.check()?;
        // Lookups by id use binary search; the file's order is not part of its meaning.
        t.tracks.sort_by_key(|t| t.id);
        Ok(t)
    }

    fn check(&self) -> Result<(), String> {
        check_fps(self.fps)?;
        let mut ids = HashSet::with_capacity(self.tracks.len());
        for (i, t) in self.tracks.iter().enumerate() {
            if !ids.insert(t.id) {
                return Err(format!("tracks[{i}]: id {} is used by another track", t.id));
            }
            t.check().map_err(|r| format!("tracks[{i}]: {r}"))?;
        }
        for (i, e) in self.events.iter().enumerate() {
            if e.tracks.len() < 2 {
                return Err(format!("events[{i}] names fewer than two tracks"));
            }
            if let Some(id) = e.tracks.iter().find(|&&id| !ids.contains(&id)) {
                return Err(format!(
                    "events[{i}] names track {id}, which is not in the document"
                ));
            }
        }
        for t in &self.tracks {
            for tl in &t.tracklets {
                let name = TrackletId::new(t.id, tl.index);
                if let Some(e) = tl.event {
                    if e >= self.events.len() {
                        return Err(format!("tracklet {name}: event {e} does not exist"));
                    }
                }
                if let Some(l) = &tl.link {
                    let ok = self
                        .tracks
                        .iter()
                        .find(|o| o.id == l.to.track)
                        .and_then(|o| o.tracklets.iter().find(|x| x.index == l.to.index))
                        .is_some_and(|x| x.end < tl.start);
                    if !ok {
                        return Err(format!(
                            "tracklet {name}: linked to {}, which does not exist or does not end before {name} starts",
                            l.to
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The two sides of identity event `ei`: the tracklets before it (for every track the event
/// cut, the tracklet before the cut) and after it (the tracklets that start when a track
/// leaves the event's contact). The tracklets during the contact are on neither side.
pub(crate) fn event_sides(
    tracks: &[Track],
    ei: usize,
    e: &IdentityEvent,
) -> (Vec<TrackletId>, Vec<TrackletId>) {
    let mut before = Vec::new();
    let mut after = Vec::new();
    for &id in &e.tracks {
        let Some(t) = tracks.iter().find(|t| t.id == id) else {
            continue;
        };
        for (k, tl) in t.tracklets.iter().enumerate() {
            if tl.event == Some(ei) && tl.cause == Cause::Event {
                if k > 0 {
                    before.push(TrackletId::new(id, t.tracklets[k - 1].index));
                }
            } else if tl.event == Some(ei) && tl.cause == Cause::Parting {
                after.push(TrackletId::new(id, tl.index));
            }
        }
    }
    (before, after)
}

impl Tracks {
    /// The tracklets before and after identity event `index` (see [`Tracks::events`]): for
    /// every track the event cut, the tracklet before the contact and the one after leaving
    /// it. The tracklets during the contact are on neither side (never linked).
    pub fn event_sides(&self, index: usize) -> (Vec<TrackletId>, Vec<TrackletId>) {
        match self.events.get(index) {
            Some(e) => event_sides(&self.tracks, index, e),
            None => (Vec::new(), Vec::new()),
        }
    }
}

/// One tracklet over a whole track (a track without identity events).
fn whole(first: u64, last: u64) -> Tracklet {
    Tracklet {
        index: 1,
        start: first,
        end: last,
        cause: Cause::Start,
        event: None,
        link: None,
    }
}

fn check_fps(fps: f64) -> Result<(), String> {
    if fps.is_finite() && fps >= 0.0 {
        Ok(())
    } else {
        Err(format!("fps {fps} is negative or not finite"))
    }
}

fn check_analyzed(range: Option<[u64; 2]>) -> Result<(), String> {
    match range {
        Some([a, b]) if a > b => Err(format!(
            "analyzed range [{a}, {b}] is empty (its first frame comes after its last)"
        )),
        _ => Ok(()),
    }
}

/// The hash in lowercase, if it is 64 hex digits.
fn check_sha256(hex: Option<&str>) -> Result<Option<String>, String> {
    match hex {
        None => Ok(None),
        Some(h) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(h) => Err(format!("source_sha256 {h:?} is not 64 hexadecimal digits")),
    }
}

fn version_reason(v: &serde_json::Value) -> String {
    format!("unsupported version {v} (this build reads versions {TRACKS_VERSION_MIN} to {TRACKS_VERSION})")
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
