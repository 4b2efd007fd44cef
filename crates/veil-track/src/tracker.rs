//! The online tracker: ByteTrack-style two-stage IoU association over Kalman predictions
//! ([`crate::pool`]), attachment of faces to person tracks ([`crate::faces`]), and the identity
//! bookkeeping of people meeting ([`crate::contact`], [`crate::link`]).

use veil_core::{BoxF, Class, Detection};

use crate::appearance::Appearance;
use crate::config::TrackerConfig;
use crate::contact::Contacts;
use crate::error::TrackError;
use crate::faces::{hand_over_faces, Faces};
use crate::identity::TrackletId;
use crate::link::{build_tracklets, link_tracklets};
use crate::pool::{Live, Pool, Update};
use crate::track::{interpolate, Track};
use crate::tracks::Tracks;

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
    persons: Pool,
    faces: Pool,
    next_id: u64,
    last_frame: Option<u64>,
    /// The first frame passed to [`Tracker::update`]: tracks born there are
    /// [`crate::Cause::Start`].
    first_frame: Option<u64>,
    assignments: Vec<Option<u64>>,
    /// Reused per update: this frame's usable person and face detections (indices).
    person_dets: Vec<usize>,
    face_dets: Vec<usize>,
    contacts: Contacts,
    face_links: Faces,
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
            persons: Pool::default(),
            faces: Pool::default(),
            next_id: 1,
            last_frame: None,
            first_frame: None,
            assignments: Vec::new(),
            person_dets: Vec::new(),
            face_dets: Vec::new(),
            contacts: Contacts::default(),
            face_links: Faces::default(),
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
        let low = self.cfg.low_thresh;
        let usable = |d: &Detection| d.score >= low && d.bbox.w > 0.0 && d.bbox.h > 0.0;
        // Every class goes to its pool: the match is exhaustive, so a new class cannot be
        // dropped here without a compile error.
        let (persons, faces) = (&mut self.person_dets, &mut self.face_dets);
        persons.clear();
        faces.clear();
        for (i, d) in dets.iter().enumerate() {
            if !usable(d) {
                continue;
            }
            match d.class {
                Class::Person => persons.push(i),
                Class::Face => faces.push(i),
            }
        }
        let u = Update {
            cfg: &self.cfg,
            frame,
            first,
            dets,
        };

        // Persons.
        self.persons
            .step(&u, &self.person_dets, &mut self.next_id, &mut self.assignments);
        self.contacts.observe(
            &u,
            &mut self.persons.live,
            &self.person_dets,
            &self.assignments,
            looks,
        );

        // Faces: attach to persons where unambiguous, track the rest.
        self.face_links.attach(
            &u,
            &mut self.persons.live,
            &mut self.face_dets,
            &mut self.assignments,
        );
        self.face_links.note_handoffs(
            &u,
            &self.persons.live,
            &self.faces.live,
            &self.face_dets,
            &self.assignments,
        );
        self.faces
            .step(&u, &self.face_dets, &mut self.next_id, &mut self.assignments);
        Ok(&self.assignments)
    }

    /// Confirmed tracks matched on the last updated frame: `(id, class, box)` with the box of
    /// that frame's detection. For live previews; the export uses [`Tracker::finish`].
    pub fn active(&self) -> impl Iterator<Item = (u64, Class, BoxF)> + '_ {
        let last = self.last_frame;
        self.persons
            .live
            .iter()
            .chain(self.faces.live.iter())
            .filter_map(move |t| {
                let b = t.boxes.last()?;
                (t.confirmed && Some(t.last_hit) == last).then_some((t.id, t.class, b.bbox))
            })
    }

    /// Whether track `id` is still in its first tracklet (the one shown for it on the contact
    /// sheet): true for a live track before its first identity event.
    pub fn in_first_tracklet(&self, id: u64) -> bool {
        self.persons
            .live
            .iter()
            .chain(self.faces.live.iter())
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
        let mut all: Vec<Live> = self.persons.ended;
        all.extend(self.faces.ended);
        all.extend(self.persons.live.into_iter().filter(|t| t.confirmed));
        all.extend(self.faces.live.into_iter().filter(|t| t.confirmed));
        all.sort_by_key(|t| t.id);
        hand_over_faces(&mut all, &self.face_links.handoffs);
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
                track.set_groups(t.groups);
                track
            })
            .collect();
        link_tracklets(&cfg, &self.contacts.events, &mut tracks, &looks);
        Tracks::from_tracks_unchecked(tracks, self.contacts.events)
    }
}
