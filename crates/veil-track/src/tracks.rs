//! The tracks document: complete tracks of a recording, their validation and the queries of
//! the export pass (its JSON form is in `wire`).

use std::collections::HashSet;

use veil_core::{BoxF, Class};

use crate::error::TrackError;
use crate::identity::{Cause, IdentityEvent, LinkBasis, Tracklet, TrackletId};
use crate::provenance::{check_sha256, Provenance};
use crate::track::Track;

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
/// for, in pixels) and the members of [`Provenance`] (`veil_version`, `models`:
/// `[{"name":"centerface","file":"centerface.onnx","sha256":"<hex>","device":"cpu"}]`, `face_threshold`,
/// `person_threshold`, `every`, `person_every`) are present only when set (files written
/// before they existed still load, without them).
/// Version 1 (no `tracklets`, no `events`) still loads; see [`Tracks::has_identity`].
///
/// The analysed range matters for privacy: a frame outside it has no tracks because nobody
/// looked, not because nobody was there, so an export must not use the tracks there.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracks {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) fps: f64,
    pub(crate) analyzed: Option<[u64; 2]>,
    pub(crate) source_sha256: Option<String>,
    pub(crate) min_face: Option<u32>,
    pub(crate) min_person: Option<u32>,
    pub(crate) provenance: Provenance,
    pub(crate) tracks: Vec<Track>,
    pub(crate) events: Vec<IdentityEvent>,
    /// Whether the document records identity (tracklets, events, links): version 2 and later.
    pub(crate) identity: bool,
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
            provenance: Provenance::default(),
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
            provenance: Provenance::default(),
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
            provenance: Provenance::default(),
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

    /// Record how the analysis detected (models, thresholds, frame step, Veil version).
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if a threshold is not in 0..=1, `every` or `person_every`
    /// is 0, or a model's SHA-256 is not 64 hex digits (see [`Provenance`]); the document is
    /// left unchanged.
    pub fn set_provenance(&mut self, p: Provenance) -> Result<(), TrackError> {
        self.provenance = p
            .checked()
            .map_err(|reason| TrackError::InvalidTrack { reason })?;
        Ok(())
    }

    /// How the analysis detected, as far as the document records it (files written before
    /// these were recorded have none of it).
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
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

    /// Every track with a box (body or face, interpolated included, no temporal padding)
    /// containing point `(x, y)` on `frame`, sorted by track id: the candidates for "the
    /// person at this point".
    pub fn candidates_at_point(&self, frame: u64, x: f32, y: f32) -> Vec<PointCandidate> {
        let mut out: Vec<PointCandidate> = Vec::new();
        for (id, class, b, is_face) in self.boxes_at(frame, 0) {
            if !b.contains(x, y) {
                continue;
            }
            let i = match out.iter().position(|c| c.track == id) {
                Some(i) => i,
                None => {
                    out.push(PointCandidate {
                        track: id,
                        class,
                        body: None,
                        face: None,
                    });
                    out.len() - 1
                }
            };
            if is_face {
                out[i].face = Some(b);
            } else {
                out[i].body = Some(b);
            }
        }
        out.sort_by_key(|c| c.track);
        out
    }

    /// Who is at point `(x, y)` on `frame` (boxes as in [`Tracks::candidates_at_point`]):
    /// the track whose box contains the point when there is a clear winner, else every
    /// candidate. A winner is clear when the point lies in the boxes of one track only, or,
    /// when several tracks' boxes contain it, in the face box of exactly one of them (someone
    /// pointed at is pointed at by the face; a body box overlapping another person's face is
    /// not who was meant). Two bodies and no face, or two faces, are ambiguous: the nearest box
    /// centre is no evidence of who was meant, and a wrong guess reveals a bystander.
    pub fn at_point(&self, frame: u64, x: f32, y: f32) -> AtPoint {
        let candidates = self.candidates_at_point(frame, x, y);
        match candidates.as_slice() {
            [] => AtPoint::Nobody,
            [one] => AtPoint::Track(one.track),
            many => {
                let mut faces = many.iter().filter(|c| c.face.is_some());
                match (faces.next(), faces.next()) {
                    (Some(one), None) => AtPoint::Track(one.track),
                    _ => AtPoint::Ambiguous(candidates),
                }
            }
        }
    }

    /// The track at point `(x, y)` on `frame` when there is a clear winner (see
    /// [`Tracks::at_point`]); `None` when nobody is there or the point is ambiguous.
    pub fn track_at_point(&self, frame: u64, x: f32, y: f32) -> Option<u64> {
        match self.at_point(frame, x, y) {
            AtPoint::Track(id) => Some(id),
            AtPoint::Nobody | AtPoint::Ambiguous(_) => None,
        }
    }

    pub(crate) fn check(&self) -> Result<(), String> {
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
                        // A face chain may pass from a track that holds only the face to one
                        // that starts with the body on that frame.
                        .is_some_and(|x| match l.basis {
                            LinkBasis::Face => x.start < tl.start && x.end <= tl.start,
                            LinkBasis::Appearance | LinkBasis::Motion => x.end < tl.start,
                        });
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

/// A track with a box containing a point (see [`Tracks::candidates_at_point`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointCandidate {
    /// The track id.
    pub track: u64,
    /// Person or face track.
    pub class: Class,
    /// The person box containing the point (`None`: only the face box does, or a face track).
    pub body: Option<BoxF>,
    /// The face box containing the point (a face track's own box, or a person's face).
    pub face: Option<BoxF>,
}

impl std::fmt::Display for PointCandidate {
    /// `track 3 (person box 120,40 80x200; face box 140,50 30x36)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = |b: &BoxF| format!("{:.0},{:.0} {:.0}x{:.0}", b.x, b.y, b.w, b.h);
        let mut parts = Vec::new();
        if let Some(body) = &self.body {
            parts.push(format!("person box {}", b(body)));
        }
        if let Some(face) = &self.face {
            parts.push(format!("face box {}", b(face)));
        }
        write!(f, "track {} ({})", self.track, parts.join("; "))
    }
}

/// Who is at a point of a frame (see [`Tracks::at_point`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AtPoint {
    /// No box contains the point.
    Nobody,
    /// The clear winner.
    Track(u64),
    /// Boxes of several tracks contain the point and none is a clear winner: all of them,
    /// sorted by track id.
    Ambiguous(Vec<PointCandidate>),
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

pub(crate) fn check_fps(fps: f64) -> Result<(), String> {
    if fps.is_finite() && fps >= 0.0 {
        Ok(())
    } else {
        Err(format!("fps {fps} is negative or not finite"))
    }
}

pub(crate) fn check_analyzed(range: Option<[u64; 2]>) -> Result<(), String> {
    match range {
        Some([a, b]) if a > b => Err(format!(
            "analyzed range [{a}, {b}] is empty (its first frame comes after its last)"
        )),
        _ => Ok(()),
    }
}
