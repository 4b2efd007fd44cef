//! Face chains: a face followed box to box through the frames, by position and motion alone
//! (no face template is ever computed, see SECURITY.md).
//!
//! Faces of people who meet usually stay apart while their bodies overlap: two people walking
//! side by side, or one passing in front of the other at a distance. A face that continues
//! from one box to the next with exactly one candidate, and no other face that could be the
//! same, is the same person's face. The tracker uses such chains to link tracklets across
//! identity events and re-acquisitions (in `Tracker::finish`); an export uses them to keep the
//! requester's face visible through stretches where the body's identity is uncertain.

use veil_core::{BoxF, Class};

use crate::identity::{Cause, Link, LinkBasis, TrackletId};
use crate::track::{Track, TrackBox};

/// IoU with the previous (or motion-predicted) box for a face box to continue it.
const CONTINUE_IOU: f32 = 0.5;
/// IoU with another face of the previous frame above which a candidate might continue that
/// face instead: the chain is ambiguous there and stops.
const AMBIGUOUS_IOU: f32 = 0.3;
/// Two boxes of one frame with at least this IoU are the same face (held in two tracks).
const SAME_FACE_IOU: f32 = 0.8;
/// Frames without any continuing face that a chain bridges (a detector's missed frames).
const MAX_MISSES: u32 = 2;

/// The face box `t` holds on `frame`, if any.
fn face_on(t: &Track, frame: u64) -> Option<&TrackBox> {
    Track::covering(t.face_boxes(), frame, 0).next()
}

/// One face on a frame, as the tracks hold it.
#[derive(Debug, Clone)]
struct Face {
    /// Its box (a detected one when any track detected it).
    bbox: BoxF,
    /// Whether any track detected it there (rather than interpolated it: hidden, or missed).
    detected: bool,
    /// The tracks holding it, each with whether it detected it there.
    holders: Vec<(u64, bool)>,
}

/// Every face on `frame`: attached faces of person tracks and face tracks' boxes
/// (interpolated ones included: a face expected there may be hidden). The same face held in
/// several tracks (IoU at least 0.8) is one face.
fn faces_at(tracks: &[Track], frame: u64) -> Vec<Face> {
    let mut out: Vec<Face> = Vec::new();
    for t in tracks {
        let Some(b) = face_on(t, frame) else {
            continue;
        };
        match out.iter_mut().find(|o| o.bbox.iou(&b.bbox) >= SAME_FACE_IOU) {
            Some(o) => {
                o.holders.push((t.id(), !b.interpolated));
                if !b.interpolated && !o.detected {
                    o.bbox = b.bbox;
                    o.detected = true;
                }
            }
            None => out.push(Face {
                bbox: b.bbox,
                detected: !b.interpolated,
                holders: vec![(t.id(), !b.interpolated)],
            }),
        }
    }
    out
}

/// Whether `face` continues another face than `ours` of frame `before`: one of the tracks
/// holding it held a box there that is not `ours` (IoU below `same`), or a face there other
/// than `ours` overlaps it.
fn continues_other(tracks: &[Track], face: &Face, before: Option<u64>, ours: &BoxF, same: f32) -> bool {
    let Some(before) = before else {
        return false;
    };
    let held_elsewhere = face.holders.iter().any(|&(id, _)| {
        tracks
            .iter()
            .find(|t| t.id() == id)
            .and_then(|t| face_on(t, before))
            .is_some_and(|b| b.bbox.iou(ours) < same)
    });
    held_elsewhere
        || faces_at(tracks, before)
            .iter()
            .filter(|o| o.bbox.iou(ours) < same)
            .any(|o| o.bbox.iou(&face.bbox) >= AMBIGUOUS_IOU)
}

/// Every face box on `frame` that is the same face as `b` (IoU at least 0.8: the one face
/// held in several tracks, e.g. detected in a face track and interpolated in a person's).
pub fn same_faces(tracks: &[Track], frame: u64, b: &BoxF) -> Vec<BoxF> {
    tracks
        .iter()
        .filter_map(|t| face_on(t, frame))
        .map(|x| x.bbox)
        .filter(|x| x.iou(b) >= SAME_FACE_IOU)
        .collect()
}

/// `b` moved `k` frames on at velocity `v` (per frame).
pub fn moved(b: &BoxF, v: (f32, f32), k: f32) -> BoxF {
    BoxF::new(b.x + k * v.0, b.y + k * v.1, b.w, b.h)
}

/// Motion of the centre from `a` to `b`, per frame of `frames`.
fn velocity(a: &BoxF, b: &BoxF, frames: u64) -> (f32, f32) {
    let (ax, ay) = a.center();
    let (bx, by) = b.center();
    let k = frames.max(1) as f32;
    ((bx - ax) / k, (by - ay) / k)
}

fn norm(v: (f32, f32)) -> f32 {
    v.0.hypot(v.1)
}

/// A walker's speed, per frame, below which a face gives no motion evidence to bridge a
/// crossing with (as a fraction of the face's width).
const BRIDGE_MIN_SPEED: f32 = 0.15;
/// How much the speed may vary (as a fraction of it) for the motion to count as steady:
/// before a crossing, and from before to after it.
const BRIDGE_STEADY: f32 = 0.3;
/// Box jitter allowed on top of that, as a fraction of the face's width.
const BRIDGE_JITTER: f32 = 0.1;

/// Follow a face from `seed` (its last boxes up to the start, in the chain's direction: the
/// start is the last, the ones before give its motion) frame by frame in direction `step`
/// (+1 or -1) while it continues unambiguously: exactly one face box on the next frame
/// overlaps the previous box or its constant-velocity prediction (IoU at least 0.5; a walker
/// at 10 fps moves a third of a face width per frame), and that box continues no other face
/// of the previous frame (IoU at least 0.3). Up to two frames without a face are bridged.
/// Stops at `stop(frame)` and outside `range` (inclusive).
///
/// With `bridge` (a number of frames), a crossing is followed through: where the chain turns
/// ambiguous while the face moves steadily (at least 0.15 face widths per frame, the speed
/// varying less than 30% over its last three boxes), and within `bridge` frames exactly one
/// face is where the constant-velocity prediction puts it, nothing else near, and it goes on
/// at the same velocity (within 30%), the chain resumes there. The frames in between are not
/// in the chain. Two people meeting, stopping and turning back are never bridged: turning
/// needs slowing down first, and standing together lasts longer than a crossing; choose
/// `bridge` as a short time (Veil's export uses 0.4 s). With `bridge`, a face passing in front
/// of a hidden one is also followed frame by frame, however long it takes, while it is the
/// only face seen near the chain, moves on steadily where its motion puts it, and the tracker
/// continued it from the chain's last box.
pub fn follow_face(
    tracks: &[Track],
    seed: &[(u64, BoxF)],
    step: i64,
    range: [u64; 2],
    stop: &dyn Fn(u64) -> bool,
    bridge: Option<u64>,
) -> Vec<(u64, BoxF)> {
    let mut out = Vec::new();
    let Some(&(from, start)) = seed.last() else {
        return out;
    };
    // The chain's last boxes (at most four), latest last.
    let mut hist: Vec<(u64, BoxF)> = seed[seed.len().saturating_sub(4)..].to_vec();
    let (mut misses, mut n) = (0u32, from);
    let within = |m: u64| m >= range[0] && m <= range[1] && !stop(m);
    while let Some(next) = n.checked_add_signed(step) {
        n = next;
        if !within(n) {
            break;
        }
        let &(prev_frame, prev) = hist.last().unwrap_or(&(from, start));
        // Motion per frame from the two last boxes of the chain, carried to this frame.
        let predicted = hist.len().checked_sub(2).map(|i| {
            let (f, b) = hist[i];
            let v = velocity(&b, &prev, prev_frame.abs_diff(f));
            moved(&prev, v, n.abs_diff(prev_frame) as f32)
        });
        let here = faces_at(tracks, n);
        let continues =
            |c: &BoxF| c.iou(&prev) >= CONTINUE_IOU || predicted.is_some_and(|p| c.iou(&p) >= CONTINUE_IOU);
        // Only a detected face carries the chain (an interpolated box is the tracker's guess
        // for a face it did not see), but every face counts against it.
        let near: Vec<&Face> = here.iter().filter(|c| continues(&c.bbox)).collect();
        let clear = match near.as_slice() {
            [c] if c.detected => {
                (!continues_other(tracks, c, Some(prev_frame), &prev, SAME_FACE_IOU)).then_some(c.bbox)
            }
            [] | [_] if misses < MAX_MISSES => {
                misses += 1;
                continue;
            }
            _ => None,
        };
        let resumed = match (clear, bridge) {
            (Some(c), _) => Some((n, c)),
            (None, Some(max)) => through(tracks, &hist, n, &near)
                .map(|c| (n, c))
                .or_else(|| cross(tracks, &hist, step, max, &within)),
            (None, None) => None,
        };
        let Some((m, c)) = resumed else { break };
        out.push((m, c));
        hist.push((m, c));
        if hist.len() > 4 {
            hist.remove(0);
        }
        n = m;
        misses = 0;
    }
    out
}

/// A chain's steady motion: its velocity per frame (in the chain's direction) and how far a
/// step may stray from it.
struct Motion {
    v: (f32, f32),
    tolerance: f32,
}

impl Motion {
    /// The motion of the chain's last boxes `hist`, if it is steady: at least three boxes, a
    /// speed of at least 0.15 face widths a frame, and every step agreeing with the velocity
    /// over the whole history (detector jitter averages out) within 30% of the speed plus a
    /// tenth of the face's width (box jitter).
    fn of(hist: &[(u64, BoxF)]) -> Option<Motion> {
        let [(f0, b0), _, .., (f2, b2)] = hist else {
            return None;
        };
        let v = velocity(b0, b2, f0.abs_diff(*f2));
        let speed = norm(v);
        let m = Motion {
            v,
            tolerance: BRIDGE_STEADY * speed + BRIDGE_JITTER * b2.w,
        };
        let steps_steady = hist
            .windows(2)
            .all(|w| m.agrees(velocity(&w[0].1, &w[1].1, w[0].0.abs_diff(w[1].0))));
        (speed >= BRIDGE_MIN_SPEED * b2.w && steps_steady).then_some(m)
    }

    /// Whether velocity `a` agrees with this motion.
    fn agrees(&self, a: (f32, f32)) -> bool {
        norm((a.0 - self.v.0, a.1 - self.v.1)) <= self.tolerance
    }
}

/// A face tracked through someone else's hidden face (see [`follow_face`]): among the faces
/// `near` the chain `hist` on frame `n`, exactly one is detected; it lies where the chain's
/// steady motion puts it, every track holding it held the chain's last box (the tracker
/// continued it too), and no other detected face of the last frame could be it. The others
/// near are interpolated: faces the tracker expects there but did not see (hidden behind).
fn through(tracks: &[Track], hist: &[(u64, BoxF)], n: u64, near: &[&Face]) -> Option<BoxF> {
    let motion = Motion::of(hist)?;
    let &(pf, prev) = hist.last()?;
    let [c] = near.iter().filter(|f| f.detected).collect::<Vec<_>>()[..] else {
        return None;
    };
    let p = moved(&prev, motion.v, n.abs_diff(pf) as f32);
    if c.bbox.iou(&p) < CONTINUE_IOU {
        return None;
    }
    // The tracks that saw it (the ones holding it interpolated are the hidden face's).
    let held = c.holders.iter().filter(|h| h.1).all(|&(id, _)| {
        tracks
            .iter()
            .find(|t| t.id() == id)
            .and_then(|t| face_on(t, pf))
            .is_some_and(|b| b.bbox.iou(&prev) >= SAME_FACE_IOU)
    });
    let other_seen = faces_at(tracks, pf)
        .iter()
        .filter(|o| o.detected && o.bbox.iou(&prev) < SAME_FACE_IOU)
        .any(|o| o.bbox.iou(&c.bbox) >= AMBIGUOUS_IOU);
    (held && !other_seen).then_some(c.bbox)
}

/// A crossing bridged (see [`follow_face`]): the frame and box where the chain `hist` resumes
/// within `max` frames after its last box, if the motion is steady and the exit is clean.
fn cross(
    tracks: &[Track],
    hist: &[(u64, BoxF)],
    step: i64,
    max: u64,
    within: &dyn Fn(u64) -> bool,
) -> Option<(u64, BoxF)> {
    let motion = Motion::of(hist)?;
    let (v, steady) = (motion.v, |a: (f32, f32)| motion.agrees(a));
    let &(f2, b2) = hist.last()?;
    for k in 1..=max {
        let m = f2.checked_add_signed(step * k as i64)?;
        if !within(m) {
            return None;
        }
        let p = moved(&b2, v, k as f32);
        let here = faces_at(tracks, m);
        let near: Vec<&Face> = here.iter().filter(|c| c.bbox.iou(&p) > 0.0).collect();
        let [c] = near.as_slice() else { continue };
        // Clean: detected where the prediction puts it, and continuing no other face of the
        // frame before (on the chain's side of the crossing, the prediction one frame earlier).
        let ours = moved(&p, v, -1.0);
        let before = m.checked_add_signed(-step);
        if !c.detected
            || c.bbox.iou(&p) < CONTINUE_IOU
            || continues_other(tracks, c, before, &ours, CONTINUE_IOU)
        {
            continue;
        }
        let c = c.bbox;
        // It goes on at the same velocity: one face continues it on the next frame.
        let m2 = m.checked_add_signed(step)?;
        let p2 = moved(&c, v, 1.0);
        let after = faces_at(tracks, m2);
        let [d] = after
            .iter()
            .filter(|d| d.bbox.iou(&p2) >= CONTINUE_IOU)
            .collect::<Vec<_>>()[..]
        else {
            return None;
        };
        return (d.detected && steady(velocity(&c, &d.bbox, 1))).then_some((m, c));
    }
    None
}

/// The seed of a face chain leaving the stretch `start..=end` of `faces` in direction `step`:
/// its last three boxes towards that end, in the chain's order (for `step` -1, the
/// first three, latest first).
pub fn seed(faces: &[TrackBox], start: u64, end: u64, step: i64) -> Vec<(u64, BoxF)> {
    let inside: Vec<(u64, BoxF)> = faces
        .iter()
        .filter(|f| f.frame >= start && f.frame <= end)
        .map(|f| (f.frame, f.bbox))
        .collect();
    if step < 0 {
        inside.iter().take(3).rev().copied().collect()
    } else {
        inside[inside.len().saturating_sub(3)..].to_vec()
    }
}

/// Link person tracklets by face chains (run after the appearance links): a tracklet that
/// starts after an identity event or as a new track, without a confident link, whose first
/// detected face follows back unambiguously to the face of an earlier tracklet that is not
/// inside a meeting and ends before the chain enters this one, continues that tracklet.
/// Meeting (event) tracklets the chain passes through are skipped over. A chain that reaches
/// a face held by two person tracks at once, or a tracklet that another tracklet already
/// continues with confidence, links nothing (fail closed).
pub(crate) fn face_links(tracks: &mut [Track]) {
    let mut links: Vec<(usize, u32, TrackletId)> = Vec::new();
    for (bi, b) in tracks.iter().enumerate() {
        if b.class() != Class::Person {
            continue;
        }
        for tl in b.tracklets() {
            if !matches!(tl.cause, Cause::Birth | Cause::Parting) || tl.link.is_some_and(|l| l.confident) {
                continue;
            }
            let seed = seed(b.faces(), tl.start, tl.end, -1);
            let Some(&(entry, _)) = seed.last() else {
                continue;
            };
            let me = TrackletId::new(b.id(), tl.index);
            let chain = follow_face(tracks, &seed, -1, [0, entry], &|_| false, None);
            if let Some(to) = chain_origin(tracks, me, tl.start, entry, &chain) {
                links.push((bi, tl.index, to));
            }
        }
    }
    for (bi, index, to) in links {
        let taken = tracks.iter().any(|t| {
            t.tracklets()
                .iter()
                .any(|x| x.link.is_some_and(|l| l.confident && l.to == to))
        });
        if taken {
            continue;
        }
        tracks[bi].set_link(
            index,
            Link {
                to,
                distance: 0.0,
                margin: None,
                confident: true,
                basis: LinkBasis::Face,
            },
        );
    }
}

/// Where a backward face chain from tracklet `me` (first face on frame `entry`) comes from:
/// the first tracklet other than `me`, and not inside a meeting, that holds a chain box. It
/// must not hold any box on or after `entry` (two tracklets at once are two people), nor
/// last beyond the frame `start` on which `me` starts.
fn chain_origin(
    tracks: &[Track],
    me: TrackletId,
    start: u64,
    entry: u64,
    chain: &[(u64, BoxF)],
) -> Option<TrackletId> {
    for &(n, fb) in chain {
        let holders: Vec<TrackletId> = tracks
            .iter()
            .filter(|t| t.class() == Class::Person)
            .filter(|t| face_on(t, n).is_some_and(|b| b.bbox.iou(&fb) >= SAME_FACE_IOU))
            .map(|t| TrackletId::new(t.id(), t.tracklet_at(n).index))
            .collect();
        let [holder] = holders.as_slice() else {
            if holders.is_empty() {
                continue; // a face track's box: no body to link
            }
            return None;
        };
        if *holder == me {
            continue;
        }
        let t = tracks.iter().find(|t| t.id() == holder.track)?;
        let tl = t.tracklets().iter().find(|x| x.index == holder.index)?;
        if tl.cause == Cause::Event {
            continue;
        }
        let later = |list: &[TrackBox]| {
            list.iter()
                .any(|b| b.frame >= entry && b.frame >= tl.start && b.frame <= tl.end)
        };
        if later(t.boxes()) || later(t.faces()) || tl.start >= start || tl.end > start {
            return None;
        }
        return Some(*holder);
    }
    None
}
