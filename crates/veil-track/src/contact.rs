//! Contacts between person tracks: the identity events that cut tracks into tracklets, and
//! the clear views that give each tracklet its appearance.

use veil_core::BoxF;

use crate::appearance::{sampled_region, Appearance};
use crate::geom::{inside_area, overlap_of_smaller};
use crate::identity::{Cause, EventKind, IdentityEvent};
use crate::pool::{Live, Update};

/// Two tracks in contact: the pair (lower id first), the last frame they touched, the event
/// (`None` for people already together when both tracks began, and for a provisional contact:
/// nothing to cut).
#[derive(Debug, Clone, Copy)]
struct Contact {
    pair: (u64, u64),
    last: u64,
    event: Option<usize>,
    /// A lost track and a track born over its prediction: most likely the same person, found
    /// again under a new id. No event yet; one starts once both are detected in contact.
    provisional: bool,
}

/// A contact goes on while the boxes overlap at least this fraction of `contact_overlap`
/// (hysteresis: boxes of people standing together jitter around the threshold, and each
/// jitter must not become a new identity event).
const CONTACT_HOLD: f32 = 0.25;

/// Two person boxes whose heights differ by more than this factor are not in contact.
const CONTACT_MAX_SIZE_RATIO: f32 = 2.0;

/// The tracker's identity bookkeeping: the events so far and the contacts going on.
#[derive(Debug, Default)]
pub(crate) struct Contacts {
    /// Every identity event so far, in order (tracklets refer to them by index).
    pub(crate) events: Vec<IdentityEvent>,
    contacts: Vec<Contact>,
    /// Person boxes present on this frame: (pool index, box, matched detection).
    present: Vec<(usize, BoxF, Option<usize>)>,
}

impl Contacts {
    /// Identity bookkeeping after the person step of one frame: detect contacts between person
    /// tracks (new ones are identity events that cut both tracks into new tracklets), and add the
    /// appearance of every clear view to its track's current tracklet.
    pub(crate) fn observe(
        &mut self,
        u: &Update<'_>,
        persons: &mut [Live],
        person_dets: &[usize],
        assignments: &[Option<u64>],
        looks: &[Option<Appearance>],
    ) {
        let Update { cfg, frame, dets, .. } = *u;
        let Contacts {
            events,
            contacts,
            present,
        } = self;
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
        // Group boxes: a detection over two people who are detected on their own as well is
        // no one person, and its track makes no contact while it stays one.
        // Its members must be people the export redacts or keeps on their own: detections
        // matched to confirmed tracks (the present ones).
        let members: Vec<usize> = present.iter().filter_map(|x| x.2).collect();
        for &(p, _, d) in present.iter() {
            if let Some(d) = d {
                let g = group_box(d, &members, dets);
                let live = &mut persons[p];
                if g {
                    match live.groups.last_mut() {
                        Some(span) if live.group => span[1] = frame,
                        _ => live.groups.push([frame, frame]),
                    }
                }
                live.group = g;
            }
        }
        for i in 0..present.len() {
            for j in i + 1..present.len() {
                let (a, b) = (present[i], present[j]);
                if a.2.is_none() && b.2.is_none() || persons[a.0].group || persons[b.0].group {
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
                let both_seen = a.2.is_some() && b.2.is_some();
                // Below the start threshold, both detected and neither reaching into the
                // other's sampled body: two people side by side, each seen on their own, who
                // cannot be confused by IoU matching. The contact does not go on (it ends after
                // `contact_gap` such frames, and its tracks part).
                let apart = both_seen
                    && ov < cfg.contact_overlap
                    && clear_of(&a.1, &b.1, cfg.clear_overlap)
                    && clear_of(&b.1, &a.1, cfg.clear_overlap);
                if ov < cfg.contact_overlap * if ongoing { CONTACT_HOLD } else { 1.0 } || apart {
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
                if let Some(i) = contacts
                    .iter()
                    .position(|c| c.pair == pair && c.provisional && both_seen)
                {
                    // The lost one is back beside the new one: two people after all.
                    contacts.swap_remove(i);
                } else if let Some(c) = contacts.iter_mut().find(|c| c.pair == pair) {
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
                // A track born over a lost track's prediction: the tracker did not recognise the
                // lost person (its motion model lags after few detections), or someone else
                // appeared there. No cut: the new track starts as a birth, linked only on
                // evidence (a face chain or its clothing), and the lost track ends or, if it is
                // seen again beside the new one, the contact becomes an event then.
                let lost_reborn = (a.2.is_none() && born_here(b.0)) || (b.2.is_none() && born_here(a.0));
                if (born_here(a.0) && born_here(b.0)) || lost_reborn {
                    contacts.push(Contact {
                        pair,
                        last: frame,
                        event: None,
                        provisional: lost_reborn,
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
                    provisional: false,
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
            let clear = present
                .iter()
                .enumerate()
                .all(|(k2, o)| k2 == k || clear_of(&b, &o.1, cfg.clear_overlap))
                && person_dets
                    .iter()
                    .all(|&d2| d2 == d || clear_of(&b, &dets[d2].bbox, cfg.clear_overlap));
            if clear {
                if let Some(t) = persons[p].tracklets.last_mut() {
                    t.look.add(look);
                }
            }
        }
    }
}

/// Whether `other` covers at most `limit` of the part of person box `b` that the appearance
/// descriptor samples (see [`sampled_region`]).
fn clear_of(b: &BoxF, other: &BoxF, limit: f32) -> bool {
    let r = sampled_region(b);
    inside_area(&r, other) <= limit * r.area()
}

/// A member of a group box lies at least this fraction inside it...
const GROUP_MEMBER_INSIDE: f32 = 0.5;
/// ...and the members together cover at least this fraction of it.
const GROUP_COVER: f32 = 0.7;

/// Whether person detection `d` is a group box: a box that two other person detections of
/// the same frame (`members`: those of confirmed tracks) each lie mostly inside ([`GROUP_MEMBER_INSIDE`]), side by side rather than
/// one hiding the other, and whose union fills it ([`GROUP_COVER`]). The detector saw the
/// pair once more as one. A single person standing in front of two smaller people farther
/// back is no group box: their boxes do not fill the near person's.
fn group_box(d: usize, members: &[usize], dets: &[veil_core::Detection]) -> bool {
    let g = &dets[d].bbox;
    let inside: Vec<&BoxF> = members
        .iter()
        .filter(|&&m| m != d)
        .map(|&m| &dets[m].bbox)
        .filter(|m| inside_area(m, g) >= GROUP_MEMBER_INSIDE * m.area())
        .collect();
    inside.iter().enumerate().any(|(i, a)| {
        inside[i + 1..].iter().any(|b| {
            let x0 = a.x.min(b.x);
            let y0 = a.y.min(b.y);
            let x1 = (a.x + a.w).max(b.x + b.w);
            let y1 = (a.y + a.h).max(b.y + b.h);
            let union = BoxF::new(x0, y0, x1 - x0, y1 - y0);
            overlap_of_smaller(a, b) < 0.5 && inside_area(&union, g) >= GROUP_COVER * g.area()
        })
    })
}
