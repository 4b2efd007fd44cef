//! A pool of live tracks of one class and its ByteTrack step: Kalman prediction, two-stage
//! greedy IoU association, births and retirement.

use veil_core::{BoxF, Class, Detection};

use crate::appearance::AppearanceMean;
use crate::config::TrackerConfig;
use crate::identity::Cause;
use crate::kalman::Kalman;
use crate::track::TrackBox;

/// Upper bound on Kalman predict steps per update.
const MAX_PREDICT_STEPS: u64 = 10_000;

/// A track while the tracker runs.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) id: u64,
    pub(crate) class: Class,
    pub(crate) kf: Kalman,
    /// Frame the Kalman state refers to.
    pub(crate) predicted_to: u64,
    /// Predicted box for the current frame (valid after the predict step).
    pub(crate) pred: BoxF,
    /// Frame of the last match.
    pub(crate) last_hit: u64,
    pub(crate) hits: u32,
    pub(crate) confirmed: bool,
    /// Matched on the previous update (ByteTrack's "tracked" state, as opposed to "lost").
    pub(crate) tracked: bool,
    pub(crate) boxes: Vec<TrackBox>,
    pub(crate) faces: Vec<TrackBox>,
    /// The track's tracklets so far (the last one is current); never empty.
    pub(crate) tracklets: Vec<LiveTracklet>,
    /// Its last detection was a group box (one box over two people who are detected on their
    /// own as well, see [`crate::contact`]): it is no one person, so it makes no contacts.
    pub(crate) group: bool,
    /// The spans of group boxes so far (see [`crate::Track::group_at`]).
    pub(crate) groups: Vec<[u64; 2]>,
}

/// A tracklet while the tracker runs.
#[derive(Debug, Clone)]
pub(crate) struct LiveTracklet {
    pub(crate) start: u64,
    pub(crate) cause: Cause,
    pub(crate) event: Option<usize>,
    pub(crate) look: AppearanceMean,
}

impl Live {
    /// Start a new tracklet at `frame` because of event `event` (unless one starts there).
    /// A track born on this very frame inside a contact is inside the event from its start.
    pub(crate) fn cut(&mut self, frame: u64, event: usize) {
        if let [only] = self.tracklets.as_mut_slice() {
            if only.start >= frame && only.cause == Cause::Birth {
                only.cause = Cause::Event;
                only.event = Some(event);
                return;
            }
        }
        self.cut_as(frame, event, Cause::Event);
    }

    pub(crate) fn cut_as(&mut self, frame: u64, event: usize, cause: Cause) {
        if self.tracklets.last().is_some_and(|t| t.start >= frame) {
            return;
        }
        self.tracklets.push(LiveTracklet {
            start: frame,
            cause,
            event: Some(event),
            look: AppearanceMean::default(),
        });
    }
}

/// What one update works on: the settings, the frame, whether it is the tracker's first, and
/// the frame's detections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Update<'a> {
    pub(crate) cfg: &'a TrackerConfig,
    pub(crate) frame: u64,
    pub(crate) first: bool,
    pub(crate) dets: &'a [Detection],
}

/// A pool's reused association buffers, so that a steady-state update allocates nothing.
#[derive(Debug, Default)]
struct Matching {
    /// The pool's detections of this frame scoring at least `high_thresh`.
    high: Vec<usize>,
    /// The others (at least `low_thresh`).
    low: Vec<usize>,
    /// Candidate tracks (pool indices) of the current stage.
    cand: Vec<usize>,
    /// Candidate pairs: (IoU, track id, pool index, detection index).
    pairs: Vec<(f32, u64, u32, u32)>,
    /// Matched (pool index, detection index).
    matches: Vec<(usize, usize)>,
    track_used: Vec<bool>,
    det_used: Vec<bool>,
}

/// The tracks of one class: live ones, and confirmed ones that have ended.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    /// Tracks still running (tentative, tracked or lost).
    pub(crate) live: Vec<Live>,
    /// Confirmed tracks retired after `max_age` missed frames.
    pub(crate) ended: Vec<Live>,
    m: Matching,
}

impl Pool {
    /// One ByteTrack step over the detections `idx` (indices into `u.dets`, all of this pool's
    /// class): writes the track id of every matched or newly born detection to `assignments`,
    /// taking new ids from `next_id`.
    pub(crate) fn step(
        &mut self,
        u: &Update<'_>,
        idx: &[usize],
        next_id: &mut u64,
        assignments: &mut [Option<u64>],
    ) {
        let Update {
            cfg,
            frame,
            first,
            dets,
        } = *u;
        let (pool, finished, s) = (&mut self.live, &mut self.ended, &mut self.m);
        // End tracks unmatched for too long. Order in the pool does not matter: ties in matching
        // are broken by track id.
        let mut i = 0;
        while i < pool.len() {
            // Frames missed before this one (frame > last_hit: frames increase).
            if frame - pool[i].last_hit - 1 > cfg.max_age {
                let t = pool.swap_remove(i);
                if t.confirmed {
                    finished.push(t);
                }
            } else {
                i += 1;
            }
        }

        // Predict every track to this frame.
        for t in pool.iter_mut() {
            // Retirement above guarantees at most max_age + 1 steps; the constant bounds the loop for
            // huge max_age values and frame jumps (a prediction that far out is meaningless).
            let steps = (frame - t.predicted_to)
                .min(cfg.max_age.saturating_add(1))
                .min(MAX_PREDICT_STEPS);
            // Frames skipped by the caller (detection every n-th frame) are not misses: a track
            // matched on the previous update keeps its size velocity; a lost one coasts.
            for _ in 0..steps {
                t.kf.predict(!t.tracked);
            }
            t.predicted_to = frame;
            t.pred = t.kf.bbox();
        }

        s.high.clear();
        s.low.clear();
        for &d in idx {
            if dets[d].score >= cfg.high_thresh {
                s.high.push(d);
            } else {
                s.low.push(d);
            }
        }
        s.track_used.clear();
        s.track_used.resize(pool.len(), false);
        s.det_used.clear();
        s.det_used.resize(dets.len(), false);
        s.matches.clear();

        // Stage 1: high detections against every track (tracked, lost and tentative).
        s.cand.clear();
        s.cand.extend(0..pool.len());
        s.greedy(pool, dets, false, cfg.match_iou);

        // Stage 2: low detections against confirmed tracks matched on the previous update and
        // still unmatched.
        s.cand.clear();
        s.cand
            .extend((0..pool.len()).filter(|&t| !s.track_used[t] && pool[t].tracked && pool[t].confirmed));
        s.greedy(pool, dets, true, cfg.low_match_iou);

        for &(t, d) in &s.matches {
            let tr = &mut pool[t];
            let det = &dets[d];
            // Found again after a while unseen, outside a meeting: whoever it is now starts a
            // tracklet of its own, linked back only on evidence (see `link_tracklets`).
            let unseen = frame - tr.last_hit - 1;
            if tr.confirmed
                && unseen >= cfg.reappear_gap
                && tr.tracklets.last().is_some_and(|l| l.cause != Cause::Event)
            {
                tr.tracklets.push(LiveTracklet {
                    start: frame,
                    cause: Cause::Return,
                    event: None,
                    look: AppearanceMean::default(),
                });
            }
            tr.kf.update(&det.bbox);
            tr.boxes.push(TrackBox {
                frame,
                bbox: det.bbox,
                score: det.score,
                interpolated: false,
            });
            tr.hits = tr.hits.saturating_add(1);
            tr.last_hit = frame;
            tr.tracked = true;
            if tr.hits >= cfg.min_hits {
                tr.confirmed = true;
            }
            assignments[d] = Some(tr.id);
        }

        // Unmatched tracks become lost; unmatched tentative tracks are dropped (ByteTrack).
        let mut t = pool.len();
        while t > 0 {
            t -= 1;
            if !s.track_used[t] {
                if pool[t].confirmed {
                    pool[t].tracked = false;
                } else {
                    pool.swap_remove(t);
                }
            }
        }

        // Births from unmatched high detections.
        for &d in &s.high {
            let det = &dets[d];
            if s.det_used[d] || det.score < cfg.birth_thresh {
                continue;
            }
            let id = *next_id;
            *next_id += 1;
            pool.push(Live {
                id,
                class: det.class,
                kf: Kalman::new(&det.bbox),
                predicted_to: frame,
                pred: det.bbox,
                last_hit: frame,
                hits: 1,
                confirmed: first || cfg.min_hits <= 1,
                tracked: true,
                boxes: vec![TrackBox {
                    frame,
                    bbox: det.bbox,
                    score: det.score,
                    interpolated: false,
                }],
                faces: Vec::new(),
                group: false,
                groups: Vec::new(),
                tracklets: vec![LiveTracklet {
                    start: frame,
                    cause: if first { Cause::Start } else { Cause::Birth },
                    event: None,
                    look: AppearanceMean::default(),
                }],
            });
            assignments[d] = Some(id);
        }
    }
}

impl Matching {
    /// Greedy IoU assignment between the candidate tracks `cand` (by their predicted box) and
    /// the `low` or high detections: pairs with IoU >= `thresh`, best first.
    fn greedy(&mut self, pool: &[Live], dets: &[Detection], low: bool, thresh: f32) {
        let Matching {
            high,
            low: lows,
            cand: trk,
            pairs,
            matches,
            track_used,
            det_used,
        } = self;
        let det: &[usize] = if low { lows } else { high };
        let trk: &[usize] = trk;
        pairs.clear();
        for &t in trk {
            let p = &pool[t].pred;
            let (px1, py1, pa) = (p.x + p.w, p.y + p.h, p.area());
            for &d in det {
                // IoU without a division, rejecting non-overlapping pairs first: most pairs in a
                // frame do not overlap, and this loop is most of the tracker's time.
                let b = &dets[d].bbox;
                let iw = px1.min(b.x + b.w) - p.x.max(b.x);
                let ih = py1.min(b.y + b.h) - p.y.max(b.y);
                if iw <= 0.0 || ih <= 0.0 {
                    continue;
                }
                let inter = iw * ih;
                let union = pa + b.area() - inter;
                if union > 0.0 && inter >= thresh * union {
                    pairs.push((inter / union, pool[t].id, t as u32, d as u32));
                }
            }
        }
        pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.3.cmp(&b.3)));
        for &(_, _, t, d) in pairs.iter() {
            let (t, d) = (t as usize, d as usize);
            if !track_used[t] && !det_used[d] {
                track_used[t] = true;
                det_used[d] = true;
                matches.push((t, d));
            }
        }
    }
}
