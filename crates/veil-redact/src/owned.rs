//! Which faces over the requester's body are the requester's: faces are owned by evidence
//! (README, "How Veil keeps the right person"), never by lying inside the requester's box.

use veil_core::BoxF;
use veil_track::facechain::moved;
use veil_track::{Class, Track, TrackBox, TrackletId, Tracks};

/// Frames between two faces of one chain of owned faces (the detector misses faces).
const OWN_GAP: u64 = 6;

/// Where a face sits on its person's body (see [`face_slot`]).
type Slot = (f32, f32, f32);

/// Whether face `f` sits where a person's own face sits in body box `body`: centred over it
/// (within half a face width), its top at most one face height below the body's top and at
/// most half a face height above it, and no larger than a head can be. A face beside the
/// head (looking over the shoulder) or at chest height (a child carried) is not.
fn in_head_slot(f: &BoxF, body: &BoxF) -> bool {
    let (fx, _) = f.center();
    let (bx, _) = body.center();
    (fx - bx).abs() <= 0.5 * f.w
        && f.y - body.y <= f.h
        && body.y - f.y <= 0.5 * f.h
        && f.w <= 0.8 * body.w
        && f.h <= 0.5 * body.h
}

/// The box of `list` on `frame` (detected or interpolated).
fn box_on(list: &[TrackBox], frame: u64) -> Option<&TrackBox> {
    list.binary_search_by_key(&frame, |b| b.frame)
        .ok()
        .map(|i| &list[i])
}

/// Whether face `g` continues owned face `p` (a few frames before or after it): of one
/// person track with its body on both frames, it keeps its place relative to the body
/// (within half a face width); otherwise (a face track, or the face going from one kept
/// tracklet's track to another's) it overlaps `p` moved on at velocity `v` (IoU 0.3). The
/// size stays within 1.5x either way.
fn continues_owned(tp: &Track, p: &TrackBox, tg: &Track, g: &TrackBox, v: (f32, f32)) -> bool {
    let (a, b) = (p.bbox.w.max(1.0), g.bbox.w.max(1.0));
    if a.max(b) > 1.5 * a.min(b) {
        return false;
    }
    let bodies = (tp.id() == tg.id() && tp.class() == Class::Person)
        .then(|| (box_on(tp.boxes(), p.frame), box_on(tp.boxes(), g.frame)));
    if let Some((Some(bp), Some(bg))) = bodies {
        // Centre to centre across, top to top down: a body box's bottom moves with the legs
        // and whatever the detector cuts off, its top stays with the head.
        let rel = |f: &BoxF, body: &BoxF| {
            let ((fx, _), (bx, _)) = (f.center(), body.center());
            (fx - bx, f.y - body.y)
        };
        let (r0, r1) = (rel(&p.bbox, &bp.bbox), rel(&g.bbox, &bg.bbox));
        return (r0.0 - r1.0).hypot(r0.1 - r1.1) <= 0.5 * a.max(b);
    }
    moved(&p.bbox, v, g.frame as f32 - p.frame as f32).iou(&g.bbox) >= 0.3
}

/// Per kept tracklet (in the order of `kept`): its faces that are the requester's, and the
/// frames of its detected faces that are not (sorted). A face is owned only on evidence:
///
/// - an *anchor*: the face the operator pointed at (`pick`: frame and point of `--keep-at`),
///   a face of a face track kept as the requester, or a face seen unambiguously as the
///   person's own: detected in the head slot of its track's detected body box (see
///   [`in_head_slot`]), where the track's faces typically sit (their median slot is a head
///   slot, and this face is in it: one frame's narrow body box does not make a face over
///   the shoulder the person's), with no box of any other track touching the body on that
///   frame;
/// - or a face chained to an owned one, over all kept tracklets in time order: the next
///   detected face at most [`OWN_GAP`] frames on (either way) that continues it (see
///   [`continues_owned`]).
///
/// A face first seen over the body with no such chain (a bystander looking over the
/// shoulder of a requester seen from behind, a child carried in front) is not owned; a
/// requester whose own face is never seen keeps the body only. Interpolated boxes are owned
/// when the detected faces of their track on both sides are.
pub(crate) fn owned_faces(
    tracks: &Tracks,
    kept: &[TrackletId],
    pick: Option<(u64, f32, f32)>,
) -> Vec<(Vec<TrackBox>, Vec<u64>)> {
    // Every detected face of the kept tracklets: (index into kept, track, box).
    let mut detected: Vec<(usize, &Track, &TrackBox)> = Vec::new();
    for (i, k) in kept.iter().enumerate() {
        let (Some(t), Some(tl)) = (tracks.get(k.track), tracks.tracklet(*k)) else {
            continue;
        };
        detected.extend(
            t.face_boxes()
                .iter()
                .filter(|b| b.frame >= tl.start && b.frame <= tl.end && !b.interpolated)
                .map(|b| (i, t, b)),
        );
    }
    detected.sort_by_key(|d| (d.2.frame, d.0));
    // Where each kept track's detected faces typically sit on its body (median slot). One
    // frame's head slot can be a coincidence: a body box that narrows for a frame or two
    // centres a bystander's face looking over the shoulder. A face in the head slot anchors
    // only where the track's faces typically are there too.
    let mut typical: Vec<(u64, Option<Slot>)> = Vec::new();
    for &(_, t, _) in &detected {
        if !typical.iter().any(|(id, _)| *id == t.id()) {
            let slots: Vec<(f32, f32, f32)> = detected
                .iter()
                .filter(|d| d.1.id() == t.id())
                .filter_map(|&(_, t, f)| face_slot(t, f))
                .collect();
            typical.push((t.id(), median_slot(&slots)));
        }
    }
    let typical_head = |t: &Track, f: &TrackBox| -> bool {
        let m = typical.iter().find(|(id, _)| *id == t.id()).and_then(|(_, m)| *m);
        m.is_some_and(|m| m.0.abs() <= 0.5 && (-0.5..=1.0).contains(&m.1))
            && face_slot(t, f).zip(m).is_some_and(|(s, m)| same_slot(s, m))
    };
    let anchor = |t: &Track, f: &TrackBox| -> bool {
        if t.class() == Class::Face || pick.is_some_and(|(n, x, y)| n == f.frame && f.bbox.contains(x, y)) {
            return true;
        }
        let Some(body) = box_on(t.boxes(), f.frame).filter(|b| !b.interpolated) else {
            return false;
        };
        in_head_slot(&f.bbox, &body.bbox)
            && typical_head(t, f)
            && !tracks
                .boxes_at(f.frame, 0)
                .any(|(id, _, b, _)| id != t.id() && b.intersection_area(&body.bbox) > 0.0)
    };
    let mut owned: Vec<bool> = detected.iter().map(|&(_, t, f)| anchor(t, f)).collect();
    chain_owned(&detected, &mut owned);
    // The requester's face slot: where their owned faces sit on their body (median, in face
    // sizes). A face of a kept tracklet in that very slot is theirs too (a stable place
    // relative to the body, e.g. after a meeting the body's tracklet is linked across); a
    // face elsewhere on the body (over the shoulder, at the chest) is not.
    let slots: Vec<(f32, f32, f32)> = detected
        .iter()
        .zip(&owned)
        .filter(|(_, &o)| o)
        .filter_map(|(&(_, t, f), _)| face_slot(t, f))
        .collect();
    if let Some(m) = median_slot(&slots) {
        for (i, &(_, t, f)) in detected.iter().enumerate() {
            if !owned[i] && face_slot(t, f).is_some_and(|s| same_slot(s, m)) {
                owned[i] = true;
            }
        }
        chain_owned(&detected, &mut owned);
    }
    let mut out = Vec::with_capacity(kept.len());
    for (i, k) in kept.iter().enumerate() {
        let (Some(t), Some(tl)) = (tracks.get(k.track), tracks.tracklet(*k)) else {
            out.push((Vec::new(), Vec::new()));
            continue;
        };
        let mine: Vec<(u64, bool)> = detected
            .iter()
            .zip(&owned)
            .filter(|(d, _)| d.0 == i)
            .map(|(d, &o)| (d.2.frame, o))
            .collect();
        let owned_at = |frame: u64| mine.iter().any(|&(f, o)| o && f == frame);
        let mut own = Vec::new();
        for b in t
            .face_boxes()
            .iter()
            .filter(|b| b.frame >= tl.start && b.frame <= tl.end)
        {
            let keep = if b.interpolated {
                let before = mine.iter().rev().find(|d| d.0 < b.frame);
                let after = mine.iter().find(|d| d.0 > b.frame);
                matches!((before, after), (Some(x), Some(y)) if x.1 && y.1)
            } else {
                owned_at(b.frame)
            };
            if keep {
                own.push(*b);
            }
        }
        let disowned = mine.iter().filter(|d| !d.1).map(|d| d.0).collect();
        out.push((own, disowned));
    }
    out
}

/// Extend `owned` along chains (see [`owned_faces`]): forwards then backwards, each face
/// continues the last owned one within [`OWN_GAP`] frames; a face that does not is skipped
/// (the chain goes on from the last owned face), and the chain ends where the gap runs out.
fn chain_owned(detected: &[(usize, &Track, &TrackBox)], owned: &mut [bool]) {
    for forward in [true, false] {
        let order: Vec<usize> = if forward {
            (0..detected.len()).collect()
        } else {
            (0..detected.len()).rev().collect()
        };
        let mut last: Option<usize> = None;
        let mut velocity = (0.0f32, 0.0f32);
        for &i in &order {
            let (_, tg, g) = detected[i];
            if let Some(l) = last {
                if g.frame.abs_diff(detected[l].2.frame) > OWN_GAP {
                    last = None;
                }
            }
            let joins = owned[i]
                || last.is_some_and(|l| continues_owned(detected[l].1, detected[l].2, tg, g, velocity));
            if !joins {
                continue;
            }
            owned[i] = true;
            velocity = match last {
                Some(l) if detected[l].2.frame != g.frame => {
                    let p = detected[l].2;
                    let ((px, py), (gx, gy)) = (p.bbox.center(), g.bbox.center());
                    let k = g.frame as f32 - p.frame as f32;
                    ((gx - px) / k, (gy - py) / k)
                }
                Some(_) => velocity,
                None => (0.0, 0.0),
            };
            last = Some(i);
        }
    }
}

/// Where face `f` of person track `t` sits on the track's detected body box of that frame:
/// horizontal offset of the centres and offset of the tops, in face widths and heights, and
/// the face's width as a fraction of the body's.
fn face_slot(t: &Track, f: &TrackBox) -> Option<(f32, f32, f32)> {
    if t.class() != Class::Person {
        return None;
    }
    let body = box_on(t.boxes(), f.frame).filter(|b| !b.interpolated)?;
    let (fw, fh) = (f.bbox.w.max(1.0), f.bbox.h.max(1.0));
    let ((fx, _), (bx, _)) = (f.bbox.center(), body.bbox.center());
    Some((
        (fx - bx) / fw,
        (f.bbox.y - body.bbox.y) / fh,
        fw / body.bbox.w.max(1.0),
    ))
}

/// The median of each component of `slots` (`None` if empty).
fn median_slot(slots: &[(f32, f32, f32)]) -> Option<(f32, f32, f32)> {
    if slots.is_empty() {
        return None;
    }
    let med = |get: fn(&(f32, f32, f32)) -> f32| {
        let mut v: Vec<f32> = slots.iter().map(get).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    Some((med(|s| s.0), med(|s| s.1), med(|s| s.2)))
}

/// Whether two face slots are the same place: within 0.4 face sizes either way, the relative
/// size within 1.4x.
fn same_slot(a: (f32, f32, f32), b: (f32, f32, f32)) -> bool {
    (a.0 - b.0).abs() <= 0.4 && (a.1 - b.1).abs() <= 0.4 && a.2.max(b.2) <= 1.4 * a.2.min(b.2)
}
