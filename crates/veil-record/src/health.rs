//! Never losing frames silently: how far recording falls behind the source's clock, the
//! frames the source sent that were never recorded, and shedding load in a fixed order.
//!
//! **Lag.** A live source's frames carry the source's clock; the recorder places a
//! connection's first frame at the wall-clock time it arrived and every later frame at its
//! stream offset from there. When the recorder cannot keep up (the encoder is too slow for
//! the machine), frames queue in the network and the decoder, and a frame's place on the
//! wall clock falls further and further behind the wall clock when it is recorded: that
//! difference is the lag, measured from a baseline: the smallest offset seen, allowed to
//! rise by at most [`DRIFT`] (0.1%, 3.6 s an hour). A camera's clock drifts from the
//! recorder's by tens of ppm (seconds a day), which the baseline absorbs, while a recorder
//! that cannot keep up falls behind by a share of every second (10% short: 0.1 s a second),
//! which it does not. (A lag that stops growing is absorbed at the same 3.6 s an hour.)
//! Past [`LAG_LIMIT`] the camera is *behind*: a warning at once
//! ([`crate::Event::Lagging`]), a `note` in the audit log with the window (the frame's
//! time to the time it was recorded) and the lag, a mark in the index (a [`crate::Gap`]
//! with `lag_ms`: no footage is missing there, it is recorded late), and load is shed. It
//! is marked again each time the lag doubles; below half the limit the camera has caught up.
//!
//! **Shedding load**, in this order, one step per mark:
//! 1. the next faster x264 preset, from the next segment on (down to `ultrafast`); the
//!    change is in the mark's reason (index) and the audit note;
//! 2. at `ultrafast`, once the lag passes [`MAX_LAG`], the backlog is dropped: the input is
//!    reopened at the live edge, and the footage skipped is a gap (index, audit log) like
//!    any outage.
//!
//! A camera encoding in hardware (`h264_vaapi`, `h264_nvenc`, `h264_qsv`) has no x264 preset
//! to speed up: its marks go straight to step 2, and say so.
//!
//! **Lost frames.** Timestamps that jump by more than one frame mean frames the source sent
//! were never recorded (packets lost, frames the decoder could not decode and dropped, a
//! camera that skipped). Each jump counts the frames missing; a jump shorter than an
//! outage is a mark in the segment's index line (a [`crate::Gap`] with `lost_frames`, the
//! jumps of one segment merged into one mark), a warning and an audit note at the first
//! jump of each segment.

use std::time::Duration;

/// The lag past which a camera is behind.
pub const LAG_LIMIT: Duration = Duration::from_secs(2);
/// The lag past which, at the fastest preset, the backlog is dropped.
pub const MAX_LAG: Duration = Duration::from_secs(30);
/// The largest drift between a camera's clock and the recorder's that is not lag, as a
/// share of the time elapsed.
pub const DRIFT: f64 = 0.001;

/// What a frame showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing to report.
    Fine,
    /// The camera fell (further) behind: `lag_ms` at this frame.
    Behind { lag_ms: i64 },
    /// The camera is back within half the limit.
    CaughtUp,
}

/// Lag and loss of one connection.
#[derive(Debug)]
pub(crate) struct Health {
    frame_ms: i64,
    prev_t: Option<i64>,
    /// The lag last marked, while behind.
    marked: Option<i64>,
    /// The offset (wall clock minus a frame's place on it, ms) of a recorder keeping up:
    /// the smallest seen, risen by at most [`DRIFT`] of the time since.
    baseline: f64,
    /// The wall clock at the last frame.
    last_now: Option<i64>,
}

impl Health {
    pub(crate) fn new(frame_ms: i64) -> Self {
        Health {
            frame_ms: frame_ms.max(1),
            prev_t: None,
            marked: None,
            baseline: 0.0,
            last_now: None,
        }
    }

    /// Frames missing before the frame at `t_ms` (the source's clock), from the jump since
    /// the previous frame: a jump of one and a half frames or more.
    pub(crate) fn missing(&mut self, t_ms: i64) -> u64 {
        let prev = self.prev_t.replace(t_ms);
        match prev {
            Some(p) if 2 * (t_ms - p) >= 3 * self.frame_ms => {
                (((t_ms - p) as f64 / self.frame_ms as f64).round() as u64).saturating_sub(1)
            }
            _ => 0,
        }
    }

    /// The lag of a frame placed at `t_ms` and recorded at `now_ms`, and whether it makes
    /// the camera behind (first past [`LAG_LIMIT`], then each doubling) or caught up.
    pub(crate) fn lag(&mut self, t_ms: i64, now_ms: i64) -> (i64, Verdict) {
        let offset = (now_ms - t_ms) as f64;
        let elapsed = self.last_now.map_or(0, |p| (now_ms - p).max(0));
        self.last_now = Some(now_ms);
        // While behind, the baseline does not rise: a lag is not absorbed while it is marked.
        let rise = if self.marked.is_none() {
            DRIFT * elapsed as f64
        } else {
            0.0
        };
        self.baseline = offset.min(self.baseline + rise);
        let lag = (offset - self.baseline).round() as i64;
        (lag, self.verdict(lag))
    }

    /// The lag of footage ending at `end_ms` at `now_ms`.
    pub(crate) fn lag_at(&self, end_ms: i64, now_ms: i64) -> i64 {
        ((now_ms - end_ms) as f64 - self.baseline).round().max(0.0) as i64
    }

    fn verdict(&mut self, lag: i64) -> Verdict {
        let limit = LAG_LIMIT.as_millis() as i64;
        match self.marked {
            None if lag > limit => {
                self.marked = Some(lag);
                Verdict::Behind { lag_ms: lag }
            }
            Some(m) if lag > 2 * m => {
                self.marked = Some(lag);
                Verdict::Behind { lag_ms: lag }
            }
            Some(_) if 2 * lag < limit => {
                self.marked = None;
                Verdict::CaughtUp
            }
            _ => Verdict::Fine,
        }
    }
}

/// The next faster x264 preset than `p` (`None` at `ultrafast` or for an unknown name).
pub(crate) fn faster_preset(p: &str) -> Option<&'static str> {
    let presets = veil_video::PRESETS;
    let i = presets.iter().position(|&q| q == p)?;
    i.checked_sub(1).map(|j| presets[j])
}

/// The next step of shedding load for a camera `lag_ms` behind at x264 preset `current`
/// (`hardware`: the hardware encoder in use, which has no preset to speed up): what is done
/// (for the mark, the audit note and the warning), the preset of the next segments when it
/// changes, and whether the backlog is dropped now.
pub(crate) fn shed_step(
    current: &str,
    hardware: Option<&str>,
    lag_ms: i64,
) -> (String, Option<String>, bool) {
    let at = match hardware {
        Some(codec) => format!("with the hardware encoder {codec} (no x264 preset to speed up)"),
        None => format!("at preset {current}"),
    };
    match faster_preset(current).filter(|_| hardware.is_none()) {
        Some(p) => (
            format!("load shed: x264 preset {current} -> {p} from the next segment"),
            Some(p.to_string()),
            false,
        ),
        None if lag_ms > MAX_LAG.as_millis() as i64 => (
            format!(
                "load shed: {at} and more than {} s behind, the backlog is dropped and the input reopened at its live edge",
                MAX_LAG.as_secs()
            ),
            None,
            true,
        ),
        None if hardware.is_some() => (
            format!("{at}: the backlog is dropped past {} s", MAX_LAG.as_secs()),
            None,
            false,
        ),
        None => (
            format!(
                "already at the fastest preset {current}; the backlog is dropped past {} s",
                MAX_LAG.as_secs()
            ),
            None,
            false,
        ),
    }
}

/// A delay before every frame is encoded, to overload the recorder on purpose in tests
/// (`VEIL_RECORD_TEST_DELAY_MS`). Only debug builds (the tests') read it: a release build
/// never slows down.
pub(crate) fn test_delay() -> Option<Duration> {
    if !cfg!(debug_assertions) {
        return None;
    }
    std::env::var("VEIL_RECORD_TEST_DELAY_MS")
        .ok()?
        .parse::<u64>()
        .ok()
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis)
}

/// `input` with `credentials` (`user:password`) inserted as the URL's userinfo,
/// percent-encoded. Only the reader ever sees this string.
pub(crate) fn with_credentials(input: &str, credentials: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        return input.to_string();
    };
    let (user, pass) = credentials.split_once(':').unwrap_or((credentials, ""));
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    if pass.is_empty() {
        format!("{scheme}://{}@{rest}", enc(user))
    } else {
        format!("{scheme}://{}:{}@{rest}", enc(user), enc(pass))
    }
}

/// `text` with every form of the credentials' secret (the password as given and
/// percent-encoded, the whole `user:password`) replaced by `***`: for every message
/// that may quote the input (FFmpeg's errors name the URL).
pub(crate) fn scrub(text: &str, credentials: Option<&str>) -> String {
    let Some(c) = credentials else {
        return text.to_string();
    };
    let mut out = text.to_string();
    let (_, pass) = c.split_once(':').unwrap_or(("", c));
    let encoded = with_credentials("x://h", c);
    let encoded_pass = encoded
        .strip_prefix("x://")
        .and_then(|s| s.strip_suffix("@h"))
        .and_then(|s| s.split_once(':'))
        .map(|(_, p)| p.to_string());
    for secret in [Some(c.to_string()), Some(pass.to_string()), encoded_pass]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
    {
        out = out.replace(&secret, "***");
    }
    out
}

impl crate::Recorder {
    /// `missing` frames lost between `from_ms` and the frame at `t_ms` (a jump shorter than
    /// an outage):
    /// the first of a segment is warned, audited and marked; later ones join its mark.
    pub(crate) fn frames_lost(
        &self,
        s: &mut crate::segment::Segment,
        from_ms: i64,
        t_ms: i64,
        missing: u64,
        on_event: &mut dyn FnMut(&crate::Event),
    ) {
        use crate::segment::ts;
        let lost_reason = |n: u64| {
            format!("{n} frame(s) the camera sent were not recorded (its timestamps jumped: packets lost or frames not decoded)")
        };
        if let Some(g) = s.lost_mark.and_then(|i| s.gaps.get_mut(i)) {
            let n = g.lost_frames.unwrap_or(0) + missing;
            g.lost_frames = Some(n);
            g.to = ts(t_ms);
            g.reason = lost_reason(n);
            return;
        }
        let mut gap = crate::Gap::new(ts(from_ms), ts(t_ms), lost_reason(missing));
        gap.lost_frames = Some(missing);
        on_event(&crate::Event::FramesLost {
            frames: missing,
            from: gap.from,
            to: gap.to,
        });
        self.note_gap(&gap, on_event);
        s.lost_mark = Some(s.gaps.len());
        s.gaps.push(gap);
    }

    /// The camera fell (further) behind: warn, shed load, audit and mark. Returns the
    /// reason to reopen the input when the backlog is to be dropped.
    pub(crate) fn behind(
        &mut self,
        s: &mut crate::segment::Segment,
        t_ms: i64,
        now_ms: i64,
        lag_ms: i64,
        on_event: &mut dyn FnMut(&crate::Event),
    ) -> Option<String> {
        use crate::segment::ts;
        let current = self.segs.preset().to_string();
        let (shed, preset, drop_backlog) = shed_step(&current, self.segs.hardware_encoder(), lag_ms);
        if let Some(p) = &preset {
            self.segs.set_preset(p);
        }
        let lag = Duration::from_millis(lag_ms.max(0) as u64);
        let reason = format!(
            "recording fell {:.1} s behind the camera's clock (the frame of {} recorded at {}): {shed}",
            lag.as_secs_f64(),
            ts(t_ms),
            ts(now_ms)
        );
        if let Some(a) = &self.cfg.audit {
            let window = veil_audit::Window {
                from: ts(t_ms),
                to: ts(now_ms.max(t_ms)),
            };
            if let Err(e) = a.append(
                veil_audit::Action::Note,
                &self.cfg.camera.id,
                Some(window),
                &reason,
            ) {
                on_event(&crate::Event::Warning(format!("cannot log the lag: {e}")));
            }
        }
        let mut mark = crate::Gap::new(ts(t_ms), ts(t_ms), reason);
        mark.lag_ms = Some(lag_ms.max(0) as u64);
        s.gaps.push(mark);
        on_event(&crate::Event::Lagging {
            lag,
            at: ts(t_ms),
            preset,
            shed: shed.clone(),
        });
        drop_backlog.then_some(shed)
    }

    /// The run stops while recording is behind (its last frame recorded ends at `end_ms`):
    /// the frames the camera sent since, queued and never recorded, are lost; warned,
    /// counted and noted in the audit log with their window (the next run's index records
    /// the time from `end_ms` as a gap).
    pub(crate) fn stopped_behind(
        &self,
        end_ms: i64,
        lag: i64,
        frame_ms: i64,
        on_event: &mut dyn FnMut(&crate::Event),
    ) {
        use crate::segment::ts;
        let now = end_ms + lag;
        if lag <= LAG_LIMIT.as_millis() as i64 {
            return;
        }
        let frames = (lag / frame_ms.max(1)) as u64;
        self.stats
            .frames_lost
            .fetch_add(frames, std::sync::atomic::Ordering::Relaxed);
        let gap = crate::Gap::new(
            ts(end_ms),
            ts(now),
            format!(
                "recording stopped {:.1} s behind the camera: about {frames} frame(s) it had sent were never recorded",
                lag as f64 / 1000.0
            ),
        );
        on_event(&crate::Event::FramesLost {
            frames,
            from: gap.from,
            to: gap.to,
        });
        self.note_gap(&gap, on_event);
    }

    /// The camera is back within half the limit.
    pub(crate) fn caught_up(&self, lag_ms: i64, on_event: &mut dyn FnMut(&crate::Event)) {
        self.note(
            &format!(
                "recording caught up with the camera's clock ({:.1} s behind); preset {}",
                lag_ms.max(0) as f64 / 1000.0,
                self.segs.preset()
            ),
            on_event,
        );
        on_event(&crate::Event::CaughtUp);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lag_is_marked_past_the_limit_then_at_each_doubling_then_caught_up() {
        let mut h = Health::new(100);
        // (The baseline rises by DRIFT of the time between frames while not behind: 1 ms
        // a second.)
        let mut v = |t, now| h.lag(t, now);
        assert_eq!(v(0, 0), (0, Verdict::Fine));
        assert_eq!(v(100, 1_100), (999, Verdict::Fine));
        assert_eq!(v(200, 2_300), (2_098, Verdict::Behind { lag_ms: 2_098 }));
        assert_eq!(v(300, 3_000), (2_698, Verdict::Fine));
        assert_eq!(v(400, 4_700), (4_298, Verdict::Behind { lag_ms: 4_298 }));
        assert_eq!(v(500, 1_300), (798, Verdict::CaughtUp));
        assert_eq!(v(600, 1_400).1, Verdict::Fine);
    }

    #[test]
    fn clock_drift_is_no_lag_and_falling_behind_is() {
        let mut h = Health::new(40);
        // The camera's clock runs 500 ppm slow for an hour, a frame every 40 ms: 1.8 s.
        let mut t = 0i64;
        while t < 3_600_000 {
            let now = t + t / 2000;
            let (lag, v) = h.lag(t, now);
            assert!(lag <= 1 && v == Verdict::Fine, "at {t}: {lag} {v:?}");
            t += 40;
        }
        // Then the recorder falls behind by 10% of every second: 2 s after about 20 s.
        let (t0, now0) = (t, t + t / 2000);
        let mut first = None;
        for k in 0..1000i64 {
            let (lag, v) = h.lag(t0 + 36 * k, now0 + 40 * k);
            if let Verdict::Behind { lag_ms } = v {
                first = Some((k, lag_ms, lag));
                break;
            }
        }
        let (k, lag_ms, lag) = first.unwrap();
        assert!((500..600).contains(&k), "{k}");
        assert!(lag_ms > 2000 && lag == lag_ms);
        // A frame placed earlier than the baseline lowers it (no negative lag).
        assert_eq!(h.lag(t0 + 1_000_000, now0).0, 0);
    }

    #[test]
    fn timestamp_jumps_count_the_frames_missing() {
        let mut h = Health::new(40);
        assert_eq!(h.missing(0), 0);
        assert_eq!(h.missing(40), 0);
        assert_eq!(h.missing(90), 0); // jitter
        assert_eq!(h.missing(210), 2);
        assert_eq!(h.missing(1_210), 24);
    }

    #[test]
    fn a_hardware_encoder_sheds_by_dropping_the_backlog_only() {
        let late = MAX_LAG.as_millis() as i64 + 1;
        // x264: a faster preset first, the backlog only at ultrafast and past MAX_LAG.
        let (why, preset, drop) = shed_step("veryfast", None, late);
        assert_eq!((preset.as_deref(), drop), (Some("superfast"), false), "{why}");
        let (why, preset, drop) = shed_step("ultrafast", None, late);
        assert_eq!((preset, drop), (None, true), "{why}");
        // Hardware: never a preset change (it would not speed anything up), never claimed.
        for lag in [2_500, late] {
            let (why, preset, drop) = shed_step("veryfast", Some("h264_nvenc"), lag);
            assert_eq!((preset, drop), (None, lag == late), "{why}");
            assert!(why.contains("h264_nvenc") && !why.contains("->"), "{why}");
        }
    }

    #[test]
    fn presets_shed_towards_ultrafast() {
        assert_eq!(faster_preset("veryfast"), Some("superfast"));
        assert_eq!(faster_preset("superfast"), Some("ultrafast"));
        assert_eq!(faster_preset("ultrafast"), None);
    }

    #[test]
    fn credentials_go_into_the_url_and_never_out() {
        let url = with_credentials("rtsp://10.0.0.5/s1", "admin:p@ss:w/rd");
        assert_eq!(url, "rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5/s1");
        let msg = format!("{url}: Connection refused; login admin:p@ss:w/rd");
        let clean = scrub(&msg, Some("admin:p@ss:w/rd"));
        assert!(!clean.contains("p@ss") && !clean.contains("p%40ss"), "{clean}");
        assert!(clean.contains("10.0.0.5"), "{clean}");
    }
}
