//! Faces and persons: attaching each face detection to the one person it belongs to, and
//! handing a face tracked on its own over to the person whose body appears under it.

use veil_core::{BoxF, Class};

use crate::geom::inside_area;
use crate::pool::{Live, Update};
use crate::track::TrackBox;

/// Margin around a person's upper region, as a fraction of the person box, because a head
/// often pokes slightly out of a detector's person box.
const FACE_MARGIN: f32 = 0.1;

/// A face continues a person's face (see `attach_faces`) when that person's last face box is
/// at most this many frames old.
const FACE_CONTINUITY: u64 = 3;

/// The region of a person box where its face is expected: the top `frac` of the box, widened
/// by [`FACE_MARGIN`] on the sides and above.
fn upper_region(p: &BoxF, frac: f32) -> BoxF {
    let (mx, my) = (p.w * FACE_MARGIN, p.h * FACE_MARGIN);
    BoxF::new(p.x - mx, p.y - my, p.w + 2.0 * mx, p.h * frac + my)
}

/// Face attachment's reused buffers, and the hand-offs seen so far.
#[derive(Debug, Default)]
pub(crate) struct Faces {
    /// Per face detection: the person pool index it uniquely fits, if any.
    face_owner: Vec<Option<usize>>,
    /// Per person pool index: how many faces claim it.
    claims: Vec<u32>,
    /// Face regions of the candidate persons: (pool index, region).
    regions: Vec<(usize, BoxF)>,
    /// Face tracks whose face went on as the face of a person track: (face track, person
    /// track, first frame of the person's face).
    pub(crate) handoffs: Vec<(u64, u64, u64)>,
}

impl Faces {
    /// Attach faces to person tracks and leave in `faces` only the face detections to track on
    /// their own.
    ///
    /// Candidate persons are confirmed tracks matched on this frame (their detection box) or
    /// lost for at most `max_gap_interpolate` frames (their predicted box). A face attaches only
    /// when it fits exactly one candidate and no other face fits that candidate: an ambiguous face
    /// gets its own face track instead, because attaching a bystander's face to the requester would
    /// leave it unredacted, while an extra face track only costs an extra blurred box.
    pub(crate) fn attach(
        &mut self,
        u: &Update<'_>,
        persons: &mut [Live],
        faces: &mut Vec<usize>,
        assignments: &mut [Option<u64>],
    ) {
        let Update { cfg, frame, dets, .. } = *u;
        let s = self;
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

    /// A face tracked on its own that now attaches to a person (whose body the detector
    /// has just found) is that person's face: remember the hand-off, so that
    /// [`hand_over_faces`] can give the person its earlier face boxes (one identity, not two
    /// tracks). Only a person whose body was first detected on this very frame takes over a
    /// face: a face handed to a person seen before could be a bystander's face behind their
    /// head. `unattached` are the face detections left to track on their own.
    pub(crate) fn note_handoffs(
        &mut self,
        u: &Update<'_>,
        persons: &[Live],
        face_tracks: &[Live],
        unattached: &[usize],
        assignments: &[Option<u64>],
    ) {
        let Update { cfg, frame, dets, .. } = *u;
        for (d, det) in dets.iter().enumerate() {
            let Some(pid) = assignments[d] else { continue };
            if det.class != Class::Face || unattached.contains(&d) {
                continue;
            }
            let new_body = persons
                .iter()
                .find(|p| p.id == pid)
                .is_some_and(|p| p.boxes.len() == 1 && p.boxes[0].frame == frame);
            if !new_body {
                continue;
            }
            for f in face_tracks {
                let recent = frame - f.last_hit <= cfg.max_gap_interpolate;
                let same = f.boxes.last().is_some_and(|b| b.bbox.iou(&det.bbox) >= 0.3);
                if f.confirmed && recent && same && !self.handoffs.iter().any(|h| h.0 == f.id && h.1 == pid) {
                    self.handoffs.push((f.id, pid, frame));
                }
            }
        }
    }
}

/// Give each person track the face boxes of the face track it took its face over from (the
/// boxes before the hand-off), when the hand-off is unambiguous: the face track went to one
/// person only and the person took over from one face track only. A face track left without
/// boxes is dropped.
pub(crate) fn hand_over_faces(all: &mut Vec<Live>, handoffs: &[(u64, u64, u64)]) {
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
