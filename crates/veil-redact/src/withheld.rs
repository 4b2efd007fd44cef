//! The withheld report of an inzage export: every stretch where the requester may be in view
//! but is not kept, with the reason (see [`crate::Withheld`]).

use veil_track::{Cause, TrackletId, Tracks};

use crate::Withheld;

/// Appearance distance up to which an undecided best guess into the identity is reported as
/// possibly the requester.
const NEAR_MISS: f32 = 0.35;

/// The stretches where the requester may be but is not kept: tracklets whose best (but not
/// decisive) link points into the identity, and the tracklets on the other side of an identity
/// event that the kept identity does not cross.
pub(crate) fn withheld(tracks: &Tracks, kept: &[TrackletId]) -> Vec<Withheld> {
    let fps = tracks.fps();
    let kept_tracks: Vec<u64> = kept.iter().map(|k| k.track).collect();
    // The other people of an event: the tracks that were not the requester before it.
    let others = |e: &veil_track::IdentityEvent, before: &[TrackletId]| -> String {
        let mut o: Vec<String> = before
            .iter()
            .filter(|b| !kept.contains(b))
            .map(|b| b.track.to_string())
            .collect();
        if o.is_empty() {
            o = e
                .tracks
                .iter()
                .filter(|t| !kept_tracks.contains(t))
                .map(u64::to_string)
                .collect();
        }
        match o.len() {
            0 => "another tracklet".to_owned(),
            1 => format!("track {}", o[0]),
            _ => format!("tracks {}", o.join(", ")),
        }
    };
    let mut out: Vec<Withheld> = Vec::new();
    let push = |ids: Vec<TrackletId>, reason: String, out: &mut Vec<Withheld>| {
        let ids: Vec<TrackletId> = ids
            .into_iter()
            .filter(|i| !kept.contains(i) && !out.iter().any(|w| w.tracklets.contains(i)))
            .collect();
        let spans: Vec<(u64, u64)> = ids
            .iter()
            .filter_map(|i| tracks.tracklet(*i).map(|t| (t.start, t.end)))
            .collect();
        let (Some(a), Some(b)) = (spans.iter().map(|s| s.0).min(), spans.iter().map(|s| s.1).max()) else {
            return;
        };
        let t = |f: u64| if fps > 0.0 { f as f64 / fps } else { 0.0 };
        out.push(Withheld {
            tracklets: ids,
            from_frame: a,
            to_frame: b,
            from: t(a),
            to: t(b),
            reason,
        });
    };
    // Whether a tracklet may be the requester: kept, or already withheld.
    let possible =
        |i: &TrackletId, out: &[Withheld]| kept.contains(i) || out.iter().any(|w| w.tracklets.contains(i));
    let scan = |out: &mut Vec<Withheld>| {
        for (ei, e) in tracks.events().iter().enumerate() {
            let (before, after) = tracks.event_sides(ei);
            // Forward from anyone who may be the requester; backward only from the kept.
            let kept_before = before.iter().any(|b| possible(b, out));
            let kept_after = after.iter().any(|a| kept.contains(a));
            let what = e.kind.describe();
            let who = others(e, &before);
            if kept_before || kept_after {
                // While people are together, who is who cannot be told: always withheld.
                let during: Vec<TrackletId> = e
                    .tracks
                    .iter()
                    .filter_map(|&id| tracks.get(id))
                    .flat_map(|t| {
                        t.tracklets()
                            .iter()
                            .filter(|tl| tl.event == Some(ei) && tl.cause == Cause::Event)
                            .map(|tl| TrackletId::new(t.id(), tl.index))
                    })
                    .collect();
                push(
                    during,
                    format!(
                        "identity uncertain while {what} {who} from {}",
                        clock(e.frame, fps)
                    ),
                    out,
                );
            }
            if kept_before && !kept_after {
                push(
                    after,
                    format!("identity uncertain after {what} {who} at {}", clock(e.frame, fps)),
                    out,
                );
            } else if kept_after && !kept_before {
                push(
                    before,
                    format!(
                        "identity uncertain before {what} {who} at {}",
                        clock(e.frame, fps)
                    ),
                    out,
                );
            }
        }
        // Re-entries, returns and events: a best guess into the identity that was not decisive,
        // and every return of a kept track after a while unseen that is not linked back.
        for t in tracks.tracks() {
            for (i, tl) in t.tracklets().iter().enumerate() {
                let me = TrackletId::new(t.id(), tl.index);
                let before = i
                    .checked_sub(1)
                    .map(|j| TrackletId::new(t.id(), t.tracklets()[j].index));
                let returned = tl.cause == Cause::Return && before.is_some_and(|b| possible(&b, out));
                // Only near misses: a best guess far off is just someone else.
                let guess = tl
                    .link
                    .filter(|l| !l.confident && possible(&l.to, out) && l.distance <= NEAR_MISS);
                if !returned && guess.is_none() {
                    continue;
                }
                let why = match tl.link {
                    Some(l) if l.confident => continue,
                    Some(l) => {
                        let m = l.margin.map_or(String::new(), |m| format!(", margin {m:.2}"));
                        format!("clothing distance {:.2}{m}", l.distance)
                    }
                    None => "never seen clearly enough to compare".to_owned(),
                };
                let (gone, what) = match (tl.cause, tl.link) {
                    (Cause::Return, _) => (before, "found again"),
                    (Cause::Birth, Some(l)) => (Some(l.to), "a person appeared"),
                    (_, Some(l)) => (Some(l.to), "a person after an identity event"),
                    (_, None) => (None, "a person appeared"),
                };
                let last = gone.and_then(|g| tracks.get(g.track)).and_then(|g| {
                    g.tracklets()
                        .iter()
                        .take_while(|x| x.start < tl.start)
                        .map(|x| x.end)
                        .max()
                });
                let reason = match last {
                    Some(e) => format!(
                        "the requester was lost from view at {}; {what} at {} (track {}): identity not established \
                         (no motion continuity with clothing close enough; {why})",
                        clock(e, fps),
                        clock(tl.start, fps),
                        t.id()
                    ),
                    None => format!(
                        "{what} at {} (track {}) may be the requester: identity not established ({why})",
                        clock(tl.start, fps),
                        t.id()
                    ),
                };
                push(vec![me], reason, out);
            }
        }
    };
    // Until nothing is added: the requester may also be anyone who comes out of an event
    // that a withheld tracklet went into, or who continues a withheld one on a best guess.
    loop {
        let found = out.len();
        scan(&mut out);
        if out.len() == found {
            break;
        }
    }
    out.sort_by_key(|w| w.from_frame);
    out
}
/// The report of the detected faces on `frames` of kept tracklet `k` that were not
/// established as the requester's own (see `owned_faces`): redacted, and listed so the
/// operator can check them. `None` when there are none.
pub(crate) fn disowned_faces(k: TrackletId, frames: &[u64], fps: f64) -> Option<Withheld> {
    let (&a, &b) = (frames.first()?, frames.last()?);
    let time = |f: u64| if fps > 0.0 { f as f64 / fps } else { 0.0 };
    Some(Withheld {
        tracklets: vec![k],
        from_frame: a,
        to_frame: b,
        from: time(a),
        to: time(b),
        reason: format!(
            "{} face detection(s) over the requester's body from {} to {} are not established as the \
             requester's own face (not chained to a face seen unambiguously as theirs): redacted as a \
             bystander's",
            frames.len(),
            clock(a, fps),
            clock(b, fps)
        ),
    })
}

/// `mm:ss.s` for frame `f`.
pub(crate) fn clock(f: u64, fps: f64) -> String {
    if fps <= 0.0 {
        return format!("frame {f}");
    }
    let s = f as f64 / fps;
    let m = (s / 60.0).floor();
    format!("{:02}:{:04.1}", m as u64, s - 60.0 * m)
}
