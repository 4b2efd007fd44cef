//! Finishing tracks: their tracklets, and the links between tracklets across identity events
//! and re-entries (see [`crate::identity`]).

use veil_core::Class;

use crate::appearance::Appearance;
use crate::config::TrackerConfig;
use crate::identity::{decide, Cause, Cell, IdentityEvent, Link, LinkBasis, Tracklet, TrackletId};
use crate::pool::LiveTracklet;
use crate::track::Track;

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
                    basis: LinkBasis::Appearance,
                },
            );
        }
    }
    crate::facechain::face_links(tracks);
}
