//! The reader's integrity rules, as a pure state machine over per-frame facts: which decoded
//! frames belong to the window, when a seek landed too late, when the stream has ended, and
//! when frames are missing or damaged. No FFmpeg type appears here, so every rule is
//! unit-tested directly (see `timeline_tests.rs`); [`crate::VideoReader`] feeds it what the
//! demuxer and decoder report and carries out its verdicts.

use std::path::Path;
use std::sync::Arc;

use crate::VideoError;

/// Tolerance when comparing a frame's time with the window's ends, in seconds: far below
/// one frame at any real frame rate, but above the rounding of `pts * time_base`.
pub(crate) const TIME_EPS: f64 = 1e-6;

/// How far before `from` the first seek aims, in seconds: with B-frames a keyframe's decode
/// time precedes its presentation time, so a keyframe found for `from` itself can lie after
/// frames that belong to the window. The first decoded frame verifies the landing spot.
pub(crate) const FIRST_BACKOFF: f64 = 1.0;

/// Both ends of a time window, when given, are finite numbers of seconds >= 0.
pub(crate) fn check_times(from: Option<f64>, to: Option<f64>) -> Result<(), VideoError> {
    for (name, v) in [("from", from), ("to", to)] {
        if let Some(v) = v {
            if !v.is_finite() || v < 0.0 {
                return Err(VideoError::InvalidOption {
                    reason: format!("{name} = {v}: a time must be a finite number of seconds >= 0"),
                });
            }
        }
    }
    Ok(())
}

/// The reader's window: both ends valid and `to` after `from`.
pub(crate) fn check_window(from: Option<f64>, to: Option<f64>) -> Result<(), VideoError> {
    check_times(from, to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(VideoError::InvalidOption {
                reason: format!("empty time window: to ({t}) must be after from ({f})"),
            });
        }
    }
    Ok(())
}

/// What the timeline is built from: the stream's clock and the window asked for.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    /// Video stream start in its time base; frame times are measured from it.
    pub(crate) start_pts: i64,
    /// Seconds per time-base tick (0 when the time base is unusable).
    pub(crate) tick: f64,
    /// Duration of one frame at the stream's frame rate, in seconds.
    pub(crate) frame_s: f64,
    /// The input cannot seek (a live network stream).
    pub(crate) live: bool,
    /// Duration of the video stream per the container's index, in seconds.
    pub(crate) stream_duration: Option<f64>,
    /// The end of the whole file per its header (Matroska gives no per-stream duration),
    /// in seconds from the video stream's start; `None` for live streams and durations
    /// guessed from the bit rate.
    pub(crate) container_duration: Option<f64>,
}

/// What the decoder says about one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct FrameFacts {
    /// The frame's best-effort timestamp (or its pts), in time-base ticks; `None` when the
    /// stream has none (some raw streams).
    pub(crate) pts: Option<i64>,
    /// The decoder flagged the frame corrupt or reported concealed errors in it.
    pub(crate) damaged: bool,
}

/// What to do with a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Hand the frame out, with this timestamp (synthesised when the frame had none) and
    /// time in seconds; take its index with [`Timeline::take_index`] once it is ready.
    Accept {
        /// Presentation timestamp in time-base ticks.
        pts: i64,
        /// Presentation time in seconds from the stream's start.
        time: f64,
    },
    /// Drop the frame: before the window, or a live stream's warm-up.
    Skip,
    /// The first frame after a seek lies after `from` (frames of the window were skipped),
    /// or the decoder failed before the window's first frame after a seek to a keyframe that
    /// is not the start (see [`Timeline::decode_failed`]). Seek again, this much before
    /// `from` (see [`Timeline::seek_target`]), and decode again.
    Reseek {
        /// How far before `from` to aim, in seconds.
        backoff: f64,
    },
    /// The frame is at or after `to`: the window is complete.
    End,
}

/// The integrity state of one read: the window, the last frame seen, the seek being
/// verified and the counts the completeness check needs.
#[derive(Debug)]
pub(crate) struct Timeline {
    path: Arc<Path>,
    clock: Clock,
    /// Start of the window (`None`: the start of the input; 0 counts as `None`).
    from: Option<f64>,
    /// End of the window, exclusive.
    to: Option<f64>,
    /// A clean frame has been handed out (or, for a file, any frame reached the window).
    started: bool,
    /// How far before `from` the current seek aimed, in seconds (`None`: no seek done or
    /// verified already).
    seek_backoff: Option<f64>,
    /// How far before `from` the last successful seek to a keyframe after the start aimed,
    /// until the window's first frame is accepted (`None`: decoding started at the start, a
    /// seek failed, or the window has begun). While set, any decoder error means decoding
    /// cannot start at the keyframe the seek landed on: a keyframe flag on a picture that is
    /// not a clean random-access point (an open-GOP I-frame in H.264, whose leading
    /// pictures and reference marking refer to the GOP before it). Such errors are not
    /// tolerated as damage before the window: with frame threading a strict decoder's state
    /// stays broken and later frames fail or come out wrong.
    landing: Option<f64>,
    last_pts: Option<i64>,
    next_index: u64,
    video_packets: u64,
    /// The latest end of any packet read, of any stream, in seconds from the video
    /// stream's start: where the file's content ends.
    content_end: Option<f64>,
}

impl Timeline {
    pub(crate) fn new(path: Arc<Path>, clock: Clock, from: Option<f64>, to: Option<f64>) -> Self {
        Timeline {
            path,
            clock,
            from: from.filter(|&f| f > 0.0),
            to,
            started: false,
            seek_backoff: None,
            landing: None,
            last_pts: None,
            next_index: 0,
            video_packets: 0,
            content_end: None,
        }
    }

    /// Start of the window, if it is after the start of the input.
    pub(crate) fn from(&self) -> Option<f64> {
        self.from
    }

    /// End of the window.
    pub(crate) fn to(&self) -> Option<f64> {
        self.to
    }

    /// Frames handed out so far.
    pub(crate) fn frames(&self) -> u64 {
        self.next_index
    }

    /// Time in seconds of a timestamp, from the stream's start.
    pub(crate) fn time_of(&self, pts: i64) -> f64 {
        (pts - self.clock.start_pts) as f64 * self.clock.tick
    }

    /// Whether time `t` (seconds) lies before the window.
    pub(crate) fn before_window(&self, t: f64) -> bool {
        self.from.is_some_and(|f| t < f - TIME_EPS)
    }

    /// Whether time `t` (seconds) lies at or after the window's end.
    pub(crate) fn after_window(&self, t: f64) -> bool {
        self.to.is_some_and(|to| t >= to - TIME_EPS)
    }

    /// Where a seek `backoff` seconds before `from` aims: (seconds, timestamp in ticks);
    /// `None` without a window start.
    pub(crate) fn seek_target(&self, backoff: f64) -> Option<(f64, i64)> {
        let from = self.from?;
        let target_s = (from - backoff).max(0.0);
        Some((
            target_s,
            self.clock.start_pts + (target_s / self.clock.tick).floor() as i64,
        ))
    }

    /// The outcome of a seek aimed at `target_s` with `backoff`: after a successful one the
    /// next frame is verified (unless it aimed at the very start, which cannot be too late);
    /// after a failed one (a live stream) decoding goes on where the input is.
    pub(crate) fn seeked(&mut self, ok: bool, target_s: f64, backoff: f64) {
        if ok {
            self.last_pts = None;
            self.seek_backoff = (target_s > 0.0).then_some(backoff);
            self.landing = self.seek_backoff;
        } else {
            self.seek_backoff = None;
            self.landing = None;
        }
    }

    /// The decoder reported an error (for a packet, a frame, or a frame flagged damaged).
    /// Returns how far before `from` to seek again when the error may come from where the
    /// last seek landed: after a seek to a keyframe past the start, before the window's
    /// first frame. Each retry aims four times further back, the last one at the start
    /// (from which an error is the file's own). `None`: the error is judged as usual.
    pub(crate) fn decode_failed(&mut self) -> Option<f64> {
        let backoff = self.landing.take()?;
        self.seek_backoff = None;
        Some(backoff * 4.0)
    }

    /// The rules for one decoded frame, in order: synthesise a missing timestamp, verify
    /// the first frame after a seek, clip to the window, skip a live stream's warm-up, then
    /// refuse gaps and damaged frames.
    ///
    /// # Errors
    /// [`VideoError::Decode`] when frames are missing before this one (a jump in time in a
    /// file) or the frame is damaged.
    pub(crate) fn frame(&mut self, facts: FrameFacts) -> Result<Verdict, VideoError> {
        let pts = match facts.pts {
            Some(p) => p,
            // No timestamp at all (some raw streams): one frame duration after the last.
            None => match self.last_pts {
                Some(l) => l + (self.clock.frame_s / self.clock.tick).round().max(1.0) as i64,
                None => self.clock.start_pts,
            },
        };
        let t = self.time_of(pts);
        let previous = self.last_pts.map(|p| self.time_of(p));
        if let Some(backoff) = self.seek_backoff.take() {
            // First frame after a seek: it must not lie after `from`, or frames of the window
            // were skipped. Seek further back (or to the start) and decode again.
            if self.from.is_some_and(|f| t > f + TIME_EPS) {
                return Ok(Verdict::Reseek {
                    backoff: backoff * 4.0,
                });
            }
        }
        if facts.damaged {
            if let Some(backoff) = self.decode_failed() {
                return Ok(Verdict::Reseek { backoff });
            }
        }
        self.last_pts = Some(pts);
        if self.before_window(t) {
            return Ok(Verdict::Skip);
        }
        if self.after_window(t) {
            return Ok(Verdict::End);
        }
        if facts.damaged && self.clock.live && !self.started {
            // A live stream joined between keyframes: the frames before the first clean one
            // reference pictures we never received. They are not recorded footage; skip them.
            return Ok(Verdict::Skip);
        }
        self.started = true;
        // Frames that vanish in the middle of a file (a damaged Matroska cluster is skipped
        // by the demuxer without an error) show as a jump in time. Three frame durations (at
        // least 0.1 s) of slack allow for timestamp jitter; a live stream may drop frames.
        if let (Some(prev), false) = (previous, self.clock.live) {
            let frame_s = self.clock.frame_s;
            if t - prev > (3.0 * frame_s).max(0.1) {
                return Err(VideoError::Decode {
                    path: self.path.to_path_buf(),
                    time: Some(t),
                    reason: format!(
                        "frames are missing: the video jumps from {prev:.3} s to {t:.3} s \
                         (about {} frame(s) at {:.3} fps); the file is damaged or has a gap",
                        ((t - prev) / frame_s).round() as i64 - 1,
                        1.0 / frame_s
                    ),
                });
            }
        }
        if facts.damaged {
            return Err(VideoError::Decode {
                path: self.path.to_path_buf(),
                time: Some(t),
                reason: "the decoder reported a damaged frame (concealed errors)".into(),
            });
        }
        // The window has begun: from here on an error is the file's, wherever decoding
        // started.
        self.landing = None;
        Ok(Verdict::Accept { pts, time: t })
    }

    /// The index of an accepted frame, once it is ready to be handed out.
    pub(crate) fn take_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// A video packet read from the input, with its timestamp (pts, else dts) and whether
    /// the demuxer flagged it incomplete. Returns whether it lies wholly before the window:
    /// such packets (after a seek, possibly open-GOP leftovers) may be damaged without
    /// consequence, since their frames are dropped anyway.
    ///
    /// # Errors
    /// [`VideoError::Truncated`] for an incomplete packet that is not before the window.
    pub(crate) fn packet(&mut self, pts: Option<i64>, corrupt: bool) -> Result<bool, VideoError> {
        self.video_packets += 1;
        let t = pts.map(|p| self.time_of(p));
        let before = t.is_some_and(|t| self.before_window(t));
        if corrupt && !before {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: format!(
                    "the video packet at {:.3} s is incomplete (the file ends or was cut inside it)",
                    t.unwrap_or(f64::NAN)
                ),
            });
        }
        Ok(before)
    }

    /// A packet of any stream was read that ends at `end` seconds from the video stream's
    /// start (its timestamp plus its duration).
    pub(crate) fn packet_end(&mut self, end: f64) {
        if end.is_finite() {
            self.content_end = Some(self.content_end.map_or(end, |e| e.max(end)));
        }
    }

    /// The input has no more packets.
    ///
    /// # Errors
    /// [`VideoError::Truncated`] when it held no video packet at all (and was read from
    /// its start).
    pub(crate) fn input_ended(&self) -> Result<(), VideoError> {
        if self.video_packets == 0 && self.from.is_none() {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: "no video data".into(),
            });
        }
        Ok(())
    }

    /// At the end of the input: when the container's index gives the video stream's
    /// duration, the last frame must reach it. A file cut at a packet boundary reads like
    /// a clean end otherwise.
    ///
    /// Without a stream duration (Matroska), the end the file's header states must be reached
    /// by the file's content, with the same slack: the end of the last packet of any stream
    /// (audio may run on a little after the video). A file cut short, or whose last clusters
    /// the demuxer skipped as damaged, ends early. And a file read whole
    /// must have given a frame for at least half its video packets: a damaged header can
    /// make the demuxer drop most of a stream while its own timing agrees with the loss.
    ///
    /// # Errors
    /// [`VideoError::Truncated`] when either check fails.
    pub(crate) fn check_complete(&self) -> Result<(), VideoError> {
        let frame_s = self.clock.frame_s;
        let last = self.last_pts.map(|p| self.time_of(p));
        let reached = last.map_or(0.0, |l| l + frame_s);
        // One and a half frames of slack: the index's duration may count the last frame's
        // own duration, and variable frame rates make "one frame" approximate.
        let expected = match (self.clock.stream_duration, self.clock.container_duration) {
            (Some(d), _) => Some((d, reached, 1.5 * frame_s, "the file's index")),
            (None, Some(d)) => {
                let content = self.content_end.map_or(reached, |e| e.max(reached));
                Some((d, content, 1.5 * frame_s, "the file's header"))
            }
            (None, None) => None,
        };
        if let Some((expected, reached, slack, source)) = expected {
            if reached + slack < expected {
                return Err(VideoError::Truncated {
                    path: self.path.to_path_buf(),
                    reason: format!(
                        "the video ends at {:.3} s but {source} says {expected:.3} s",
                        last.unwrap_or(0.0)
                    ),
                });
            }
        }
        let whole = self.from.is_none() && self.to.is_none();
        if whole && !self.clock.live && self.next_index.saturating_mul(2) + 3 < self.video_packets {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: format!(
                    "only {} frame(s) decoded from {} video packets (damaged timing or index)",
                    self.next_index, self.video_packets
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
