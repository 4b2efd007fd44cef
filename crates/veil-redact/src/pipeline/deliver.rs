//! What an export delivers besides its redacted frames: the stretches of an
//! `--only-requester` copy (where the requester is in view, widened by the margin) and how
//! the recorded segments map into such a copy, and the operator's additions to the requester
//! (checked, and recorded with the operator).

use veil_track::Tracks;

use crate::manifest::{OnlyRequester, Stretch};
use crate::select::KeepSet;
use crate::{ExportOptions, RedactError};

/// One run of consecutive delivered frames (`--only-requester`).
pub(super) struct Run1 {
    pub(super) frames: [u64; 2],
    pub(super) count: u64,
    /// Time of the first and last frame in the input stream.
    pub(super) stream: [f64; 2],
    /// Time of the first frame in the copy, before the copy's origin is subtracted.
    pub(super) output: f64,
}

/// The manifest's record of an `--only-requester` export's stretches.
pub(super) fn only_record(
    opts: &ExportOptions,
    fps: f64,
    runs: &[Run1],
    window: [Option<f64>; 2],
) -> Option<OnlyRequester> {
    let margin = opts.only_requester?;
    let step = 1.0 / fps;
    let origin = runs.first().map_or(0.0, |r| r.output);
    let stretches: Vec<Stretch> = runs
        .iter()
        .map(|r| {
            let stream = [r.stream[0], r.stream[1] + step];
            let start = r.output - origin;
            Stretch {
                frames: r.frames,
                frame_count: r.count,
                stream: [round_us(stream[0]), round_us(stream[1])],
                output: [round_us(start), round_us(start + stream[1] - stream[0])],
                wall: opts
                    .recordings
                    .as_ref()
                    .and_then(|rec| rec.delivered(stream[0], stream[1]).delivered),
            }
        })
        .collect();
    let delivered: f64 = stretches.iter().map(|s| s.stream[1] - s.stream[0]).sum();
    let window = match (window[0], window[1]) {
        (Some(a), Some(b)) => b + step - a,
        _ => delivered,
    };
    Some(OnlyRequester {
        margin,
        timestamps: "continuous".to_owned(),
        stretches,
        withheld_seconds: round_us((window - delivered).max(0.0)),
    })
}

/// The part of the copy each recorded segment gave, when only stretches were delivered: the
/// copy runs in stream order, so a segment's part runs from its first delivered moment to its
/// last.
pub(super) fn map_segments(rec: &mut veil_record::RecordingsRecord, only: &OnlyRequester) {
    for seg in &mut rec.segments {
        let mut part: Option<[f64; 2]> = None;
        for s in &only.stretches {
            let (a, b) = (seg.stream[0].max(s.stream[0]), seg.stream[1].min(s.stream[1]));
            if b > a {
                let (oa, ob) = (s.output[0] + a - s.stream[0], s.output[0] + b - s.stream[0]);
                part = Some(match part {
                    Some(p) => [p[0].min(oa), p[1].max(ob)],
                    None => [oa, ob],
                });
            }
        }
        seg.output = part.map(|p| [round_us(p[0]), round_us(p[1])]);
    }
}

fn round_us(t: f64) -> f64 {
    (t * 1e6).round() / 1e6
}

/// Audio is kept when asked, except when only stretches are delivered: it is dropped then
/// rather than cut (the manifest's `settings.audio` says so).
pub(super) fn keeps_audio(opts: &ExportOptions) -> bool {
    opts.encode.keep_audio && opts.only_requester.is_none()
}

/// `--only-requester` needs a margin that is a number of seconds and someone to deliver.
pub(super) fn check_only_requester(opts: &ExportOptions) -> Result<(), RedactError> {
    let Some(margin) = opts.only_requester else {
        return Ok(());
    };
    if !margin.is_finite() || margin < 0.0 {
        return Err(RedactError::InvalidOption {
            reason: format!("--only-requester: the margin must be 0 s or more, not {margin}"),
        });
    }
    if opts.requester == crate::Requester::None && opts.keep_tracklets.is_empty() {
        return Err(nothing_to_deliver("nobody is kept (--keep-none)"));
    }
    Ok(())
}

pub(super) fn nothing_to_deliver(why: &str) -> RedactError {
    RedactError::InvalidOption {
        reason: format!(
            "--only-requester: {why}, so there is nothing to deliver; export the whole window \
             without --only-requester, or name the requester"
        ),
    }
}

/// The frame ranges in which the requester is in view (a box of a kept tracklet, or a face
/// followed beyond them), each widened by `margin` seconds, merged where they overlap or touch.
pub(super) fn requester_stretches(
    tracks: &Tracks,
    keep: &KeepSet,
    margin: f64,
    fps: f64,
) -> Result<Vec<(u64, u64)>, RedactError> {
    let pad = (margin * fps).ceil() as u64;
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for t in &keep.tracklets {
        let Some(track) = tracks.get(t.track) else {
            continue;
        };
        let Some(tl) = track.tracklets().iter().find(|x| x.index == t.index) else {
            continue;
        };
        for b in track.boxes().iter().chain(track.faces()) {
            if (tl.start..=tl.end).contains(&b.frame) {
                seen.push((b.frame, b.frame));
            }
        }
    }
    seen.extend(keep.face_frames());
    if seen.is_empty() {
        return Err(nothing_to_deliver("no tracklet of the requester is kept"));
    }
    seen.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in seen {
        let (a, b) = (a.saturating_sub(pad), b.saturating_add(pad));
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    Ok(out)
}

/// Whether frame `n` lies in one of the (sorted, disjoint) stretches.
pub(super) fn in_stretches(stretches: &[(u64, u64)], n: u64) -> bool {
    let i = stretches.partition_point(|s| s.1 < n);
    stretches.get(i).is_some_and(|s| s.0 <= n)
}

/// Tracklets added by the operator come from a tracks file (a one-shot export analyses
/// again and its numbering can differ), and the operator named is the audit entry's actor.
pub(super) fn check_operator(opts: &ExportOptions) -> Result<(), RedactError> {
    if !opts.keep_tracklets.is_empty() && opts.tracks.is_none() {
        let names: Vec<String> = opts.keep_tracklets.iter().map(ToString::to_string).collect();
        return Err(RedactError::InvalidOption {
            reason: format!(
                "tracklet(s) {} added to the requester need the tracks file their ids come from \
                 (--tracks): an export without one analyses the input again, and its tracklets \
                 may be numbered differently",
                names.join(", ")
            ),
        });
    }
    if let (Some(actor), Some(audit)) = (&opts.actor, &opts.audit) {
        if *actor != audit.entry.actor {
            return Err(RedactError::InvalidOption {
                reason: format!(
                    "actor {actor:?} is not the audit entry's actor {:?}",
                    audit.entry.actor
                ),
            });
        }
    }
    Ok(())
}

/// The operator's additions for the manifest, in the order given, each once, with the
/// operator.
pub(super) fn operator_tracklets(opts: &ExportOptions) -> Vec<crate::OperatorTracklet> {
    let by = opts
        .actor
        .clone()
        .or_else(|| opts.audit.as_ref().map(|a| a.entry.actor.clone()));
    let mut out: Vec<crate::OperatorTracklet> = Vec::new();
    for &t in &opts.keep_tracklets {
        if !out.iter().any(|o| o.tracklet == t) {
            out.push(crate::OperatorTracklet {
                tracklet: t,
                added_by: by.clone(),
            });
        }
    }
    out
}
