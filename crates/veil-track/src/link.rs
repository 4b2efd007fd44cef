//! Finishing tracks: their tracklets, and the links between tracklets across identity events
//! and re-entries (see [`crate::identity`]).

use veil_core::Class;

use crate::appearance::Appearance;
use crate::config::TrackerConfig;
use crate::identity::{decide, Cause, Cell, IdentityEvent, Link, LinkBasis, Tracklet, TrackletId};
use crate::pool::LiveTracklet;
use crate::track::{Track, TrackBox};

/// The surviving tracklets of a finished track: the live ones that hold at least one box,
/// numbered from 1, each running to the frame before the next (the last to the track's end).
/// Their appearances (with at least `min_views` clear views) go to `looks`.
pub(crate) fn build_tracklets(
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
pub(crate) fn link_tracklets(
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
                        basis: LinkBasis::Appearance,
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
        .filter(|t| t.class() == Class::Person)
        .filter_map(|t| {
            let first = t.tracklets().first()?;
            (first.cause != Cause::Start && !first.link.is_some_and(|l| l.confident))
                .then_some((TrackletId::new(t.id(), first.index), first.start))
        })
        .collect();
    let cols: Vec<(TrackletId, u64)> = tracks
        .iter()
        .filter(|t| t.class() == Class::Person)
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
    for ((r, start), d) in rows
        .iter()
        .zip(decide(&cells, cfg.relink_max_dist, cfg.link_margin))
    {
        let Some(d) = d else { continue };
        let (c, end) = cols[d.col];
        // Positive evidence only: the clothing is close (and beats every alternative by the
        // margin, if there is one), no alternative was never seen clearly, and the motion
        // carries the old track into the new one. Without an alternative the appearance
        // alone decides nothing (a newcomer in the same uniform would match as well).
        let moved = match (find(tracks, c.track), find(tracks, r.track)) {
            (Some(ci), Some(ri)) => {
                start - end <= cfg.relink_motion_gap
                    && motion_continues(tracks[ci].boxes(), tracks[ri].boxes(), *start)
            }
            _ => false,
        };
        let confident = moved
            && !d.blocked
            && d.distance <= cfg.relink_max_dist
            && d.margin.is_none_or(|m| m >= cfg.link_margin);
        if let Some(i) = find(tracks, r.track) {
            tracks[i].set_link(
                r.index,
                Link {
                    to: c,
                    distance: d.distance,
                    margin: d.margin,
                    confident,
                    basis: if moved {
                        LinkBasis::Motion
                    } else {
                        LinkBasis::Appearance
                    },
                },
            );
        }
    }
    return_links(cfg, tracks, &look);
    crate::facechain::face_links(tracks);
}

/// Detected boxes at a track's end (or start) that give its motion: at most this many...
const MOTION_BOXES: usize = 6;
/// ...within this many frames.
const MOTION_SPAN: u64 = 12;

/// A track's end: centre, velocity (pixels per frame), height, frame.
type EndMotion = ((f32, f32), (f32, f32), f32, u64);

/// Where a track is at one end and how it moves there: the centre of its outermost detected
/// box, its velocity (pixels per frame, from the detected boxes within [`MOTION_SPAN`] frames
/// of that end) and its height. `None` without two detected boxes on different frames.
fn end_motion(boxes: &[TrackBox], at_end: bool) -> Option<EndMotion> {
    let detected: Vec<&TrackBox> = if at_end {
        boxes
            .iter()
            .rev()
            .filter(|b| !b.interpolated)
            .take(MOTION_BOXES)
            .collect()
    } else {
        boxes
            .iter()
            .filter(|b| !b.interpolated)
            .take(MOTION_BOXES)
            .collect()
    };
    let edge = *detected.first()?;
    let far = detected
        .iter()
        .rev()
        .find(|b| b.frame.abs_diff(edge.frame) <= MOTION_SPAN && b.frame != edge.frame)?;
    let (ex, ey) = edge.bbox.center();
    let (fx, fy) = far.bbox.center();
    let k = edge.frame.abs_diff(far.frame) as f32;
    let sign = if at_end { 1.0 } else { -1.0 };
    let v = (sign * (ex - fx) / k, sign * (ey - fy) / k);
    Some(((ex, ey), v, edge.bbox.h.max(1.0), edge.frame))
}

/// Whether boxes `new` (of a track or tracklet that starts at `start`) continue boxes `old` by
/// motion: `old`'s last
/// detected box moved on at its velocity to `new`'s first one lands within a third of the
/// body height of it, plus half the distance covered at that speed (the longer the gap, the
/// less certain the prediction), `new` moves on at about the same velocity (within half the
/// speed, plus 2 % of the height per frame for a standing person's jitter), and the two boxes
/// are of about the same size (within 1.5x). Someone who turns back, reappears elsewhere or
/// much later does not continue.
fn motion_continues(old: &[TrackBox], new: &[TrackBox], start: u64) -> bool {
    let (Some((c0, v0, h0, f0)), Some((c1, v1, h1, f1))) = (end_motion(old, true), end_motion(new, false))
    else {
        return false;
    };
    if h0.max(h1) > 1.5 * h0.min(h1) || f1 < start || f1 <= f0 {
        return false;
    }
    let gap = (f1 - f0) as f32;
    let h = h0.max(h1);
    let pred = (c0.0 + v0.0 * gap, c0.1 + v0.1 * gap);
    let speed0 = v0.0.hypot(v0.1);
    let off = (c1.0 - pred.0).hypot(c1.1 - pred.1);
    let dv = (v1.0 - v0.0).hypot(v1.1 - v0.1);
    off <= h / 3.0 + 0.5 * speed0 * gap && dv <= 0.5 * speed0.max(v1.0.hypot(v1.1)) + 0.02 * h
}

/// Link every tracklet of a track found again after a while unseen ([`Cause::Return`]) to the
/// tracklet before it, when the motion carries one into the other within
/// `relink_motion_gap` frames and the clothing of both is known and close
/// (`relink_max_dist`). No alternative is needed: the motion is the evidence. Otherwise
/// the link is recorded as a best guess (not confident), or not at all when a tracklet was
/// never seen clearly.
fn return_links(cfg: &TrackerConfig, tracks: &mut [Track], look: &dyn Fn(TrackletId) -> Option<Appearance>) {
    for t in tracks.iter_mut() {
        let mut links = Vec::new();
        for pair in t.tracklets().windows(2) {
            let (prev, tl) = (&pair[0], &pair[1]);
            if tl.cause != Cause::Return || tl.link.is_some_and(|l| l.confident) {
                continue;
            }
            let (a, b) = (
                TrackletId::new(t.id(), prev.index),
                TrackletId::new(t.id(), tl.index),
            );
            let (Some(la), Some(lb)) = (look(a), look(b)) else {
                continue;
            };
            let distance = la.distance(&lb);
            let boxes = t.boxes();
            let split = boxes.partition_point(|x| x.frame < tl.start);
            let before = &boxes[..split];
            let before = &before[before.partition_point(|x| x.frame < prev.start)..];
            let after = &boxes[split..];
            let after = &after[..after.partition_point(|x| x.frame <= tl.end)];
            let last_seen = t.last_detected_in(prev.start, tl.start - 1).unwrap_or(prev.start);
            let moved = tl.start - last_seen <= cfg.relink_motion_gap.saturating_add(1)
                && motion_continues(before, after, tl.start);
            links.push((
                tl.index,
                Link {
                    to: a,
                    distance,
                    margin: None,
                    confident: moved && distance <= cfg.relink_max_dist,
                    basis: LinkBasis::Motion,
                },
            ));
        }
        for (index, link) in links {
            t.set_link(index, link);
        }
    }
}
