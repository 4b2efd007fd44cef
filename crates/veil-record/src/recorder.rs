//! [`Recorder`]: a live input, masked at capture, recorded in fragmented MP4 segments.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use veil_audit::Timestamp;
use veil_core::CaptureMasker;
use veil_video::{DecodedFrame, ReadOptions, VideoError, VideoReader};

use crate::budget::oldest_kept;
use crate::config::{
    Event, RecordSummary, RecorderConfig, StopReason, BACKWARDS_LIMIT, MAX_BACKOFF, STREAM_ENDED,
};
use crate::health::{scrub, test_delay, with_credentials, Health, Verdict};
use crate::index::Gap;
use crate::metrics::{CameraStats, Metrics};
use crate::retention::HoldsWatch;
use crate::segment::{ms, ts, Segment, Segments};
use crate::RecordError;
use std::collections::HashSet;

/// Records one camera. See the crate documentation.
#[derive(Debug)]
pub struct Recorder {
    pub(crate) cfg: RecorderConfig,
    pub(crate) segs: Segments,
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    pub(crate) stats: Arc<CameraStats>,
    /// The tests' artificial encoder delay ([`crate::health`]).
    delay: Option<Duration>,
    pub(crate) holds: HoldsWatch,
    summary_frames: u64,
    pub(crate) summary_deleted: u64,
    /// Segments deleted early (storage budget, free-space floor) in this run.
    pub(crate) summary_early: u64,
    pub(crate) last_retention: Option<Instant>,
    /// When the capacity was last reported (once a day).
    pub(crate) capacity_reported: Option<Instant>,
    /// Warnings already reported in this run (each is reported once).
    pub(crate) warned: HashSet<String>,
    /// The decoder of the last connection (reported when it changes).
    decoder: Option<veil_video::Decoder>,
}

impl Recorder {
    /// Check the settings and create `dir/<camera id>/`.
    ///
    /// # Errors
    /// [`RecordError::InvalidOption`] for a camera id that is not a plain file name, a
    /// segment under one second or a retention under one second, or no audit log (every
    /// deletion is audited); [`RecordError::Io`] when the directory cannot be created.
    pub fn new(cfg: RecorderConfig) -> Result<Recorder, RecordError> {
        if cfg.audit.is_none() {
            return Err(RecordError::InvalidOption {
                reason: "the recorder deletes footage and every deletion is audited: an audit log (and an actor) is required".into(),
            });
        }
        let id = &cfg.camera.id;
        let plain = !id.is_empty()
            && id != "."
            && id != ".."
            && !id.starts_with('.')
            && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !plain {
            return Err(RecordError::InvalidOption {
                reason: format!(
                    "camera id {id:?} cannot name a directory (letters, digits, '-', '_' and '.' only)"
                ),
            });
        }
        if cfg.segment < Duration::from_secs(1) {
            return Err(RecordError::InvalidOption {
                reason: format!("a segment of {:?} is too short (at least 1 s)", cfg.segment),
            });
        }
        if cfg.retention < Duration::from_secs(1) {
            return Err(RecordError::InvalidOption {
                reason: format!("a retention of {:?} is too short (at least 1 s)", cfg.retention),
            });
        }
        let cam_dir = cfg.dir.join(id);
        fs::create_dir_all(&cam_dir).map_err(|source| RecordError::Io {
            path: cam_dir.clone(),
            op: "create",
            source,
        })?;
        let metrics = Metrics::new();
        let stats = metrics.camera(id);
        stats.set_preset(&cfg.encode.preset);
        Ok(Recorder {
            segs: Segments::new(cam_dir, cfg.encode.clone(), cfg.encrypt_to.clone()),
            metrics,
            stats,
            delay: test_delay(),
            holds: HoldsWatch::new(cfg.holds.clone())
                .access(cfg.access.clone())
                .erasures(cfg.erasures.clone())
                .audit_log(cfg.audit.as_ref().map(|a| a.log.clone())),
            cfg,
            stop: Arc::new(AtomicBool::new(false)),
            summary_frames: 0,
            summary_deleted: 0,
            summary_early: 0,
            last_retention: None,
            capacity_reported: None,
            warned: HashSet::new(),
            decoder: None,
        })
    }

    /// The flag that stops [`Recorder::run`]: set it (from a signal handler, another
    /// thread) and the run closes its segment and returns; a blocked read is interrupted.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Use `stop` as the stop flag (a site's recorders share one).
    pub fn set_stop_flag(&mut self, stop: Arc<AtomicBool>) {
        self.stop = stop;
    }

    /// Count into `metrics` (a site's recorders share one registry, served by
    /// [`crate::serve_metrics`]).
    pub fn set_metrics(&mut self, metrics: Arc<Metrics>) {
        self.stats = metrics.camera(&self.cfg.camera.id);
        self.stats.set_preset(self.segs.preset());
        self.metrics = metrics;
    }

    /// The camera's directory.
    pub fn camera_dir(&self) -> &Path {
        &self.segs.cam_dir
    }

    fn stopping(&self, deadline: Option<Instant>) -> Option<StopReason> {
        if self.stop.load(Ordering::Relaxed) {
            Some(StopReason::Stopped)
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some(StopReason::TimeUp)
        } else {
            None
        }
    }

    /// Record until stopped, the time is up, or a local failure (masking, encoding, the
    /// index, the audit log). The camera dropping or the network failing never ends it.
    ///
    /// # Errors
    /// [`RecordError::StorageFull`] when the run is to stop (time up, stop flag) while
    /// protected footage fills the storage (the recorder waits for room until then) or at
    /// once for a file input, [`RecordError::Video`] for a segment that cannot be
    /// written, [`RecordError::Mask`]/[`RecordError::Zones`], [`RecordError::Io`] for the
    /// index. The segment being written is closed first when it can be; what was written
    /// of it stays (fragments are playable).
    pub fn run(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<RecordSummary, RecordError> {
        let (metrics, id, cam_dir) = (
            Arc::clone(&self.metrics),
            self.cfg.camera.id.clone(),
            self.segs.cam_dir.clone(),
        );
        let mut counted = |e: &Event| {
            metrics.observe(&id, &cam_dir, e);
            on_event(e);
        };
        let out = self.run_counted(&mut counted);
        self.stats.up.store(0, Ordering::Relaxed);
        if let Err(e) = &out {
            self.stats.set_error(&e.to_string());
        }
        out
    }

    fn run_counted(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<RecordSummary, RecordError> {
        let deadline = self.cfg.run_for.map(|d| Instant::now() + d);
        self.segs.recover(on_event)?;
        self.segs.seed_largest();
        self.retention_pass(on_event);
        let mut backoff = Duration::from_secs(1);
        // The end of the footage before an outage, and why it ended. Footage indexed by an
        // earlier run ends in one: the time the recorder was not running.
        // A path (not a URL) that is a regular file, or nothing: read once. A FIFO or a
        // device is live, like a URL.
        let path = Path::new(&self.cfg.input);
        let is_file = !self.cfg.input.contains("://") && (path.is_file() || !path.exists());
        let previous = self
            .segs
            .index
            .locked(|i| i.read())?
            .iter()
            .map(|e| ms(e.end))
            .max();
        let mut outage: Option<(i64, String)> =
            previous.map(|end| (end, "the recorder was not running".to_string()));
        let reason = loop {
            if let Some(r) = self.stopping(deadline) {
                break r;
            }
            let opts = ReadOptions {
                input_options: self.input_options(),
                interrupt: Some(Arc::clone(&self.stop)),
                decoder: self.cfg.decoder,
                ..ReadOptions::default()
            };
            let creds = self.cfg.credentials.as_ref().map(|c| c.expose());
            let url = match creds {
                Some(c) => with_credentials(&self.cfg.input, c),
                None => self.cfg.input.clone(),
            };
            let reader = VideoReader::open(&url, &opts);
            drop(url);
            let (ended, frames) = match reader {
                Ok(reader) => {
                    let used = reader.decoder_used();
                    if self.decoder != Some(used.decoder) {
                        self.decoder = Some(used.decoder);
                        on_event(&Event::Decoder(used.clone()));
                    }
                    self.record_connection(reader, deadline, &mut outage, on_event)?
                }
                // A hardware decoder asked for by name that cannot be used: a setting to
                // change, not a camera to wait for (never decoded in software instead).
                Err(e @ VideoError::HardwareDecoder { .. }) if self.cfg.decoder.is_hardware() => {
                    return Err(e.into())
                }
                Err(e) => (Ended::Dropped(scrub(&e.to_string(), creds)), 0),
            };
            let ended = match ended {
                Ended::Full(e) if is_file => return Err(e),
                Ended::Full(e) => {
                    let why = format!("no room for footage: {e}");
                    if outage.is_none() {
                        outage = self.segs.last_end.map(|end| (end, why));
                    }
                    match self.wait_for_room(e, deadline, on_event)? {
                        Some(r) => break r,
                        None => {
                            backoff = Duration::from_secs(1);
                            continue;
                        }
                    }
                }
                other => other,
            };
            if is_file {
                // A file is read once: its end is the end of the recording, and a file that
                // cannot be read is an error, not a camera to wait for.
                match ended {
                    Ended::Stop(r) => break r,
                    Ended::Full(e) => return Err(e),
                    Ended::Dropped(why) if frames > 0 && why == STREAM_ENDED => break StopReason::EndOfInput,
                    Ended::Dropped(why) | Ended::Restart(why) => {
                        return Err(RecordError::Input { reason: why })
                    }
                }
            }
            let (why, at_once) = match ended {
                Ended::Stop(r) => break r,
                Ended::Full(e) => return Err(e),
                Ended::Dropped(why) => (why, false),
                // A size or format change: reconnect at once, with a new masker.
                Ended::Restart(why) => (why, frames > 0),
            };
            if outage.is_none() {
                // Only footage already recorded in this run can have a gap after it.
                outage = self.segs.last_end.map(|end| (end, why.clone()));
            }
            if frames > 0 {
                backoff = Duration::from_secs(1);
            }
            if at_once {
                on_event(&Event::Disconnected {
                    reason: why,
                    retry_in: Duration::ZERO,
                });
                continue;
            }
            if let Some(r) = self.stopping(deadline) {
                break r;
            }
            on_event(&Event::Disconnected {
                reason: why,
                retry_in: backoff,
            });
            if let Some(r) = self.wait(backoff, deadline, on_event) {
                break r;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        };
        if let Some((from, why)) = outage {
            // Stopped during an outage: the footage missing until now is still a gap.
            self.note_gap(
                &Gap::new(
                    ts(from),
                    Timestamp::now(),
                    format!("{why} (recording stopped before the camera came back)"),
                ),
                on_event,
            );
        }
        Ok(RecordSummary {
            segments: self.segs.closed,
            frames: self.summary_frames,
            deleted: self.summary_deleted,
            early_deleted: self.summary_early,
            oldest_kept: oldest_kept(&self.segs.cam_dir),
            capacity: self.capacity(),
            reason,
        })
    }

    /// The caller's input options, plus a 5 s network timeout unless one is given: a camera
    /// that goes silent without closing the connection must count as a drop.
    fn input_options(&self) -> Vec<(String, String)> {
        let mut o = self.cfg.input_options.clone();
        let scheme = self
            .cfg
            .input
            .split("://")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let key = match scheme.as_str() {
            "rtsp" | "rtsps" => Some("timeout"),
            "http" | "https" | "tcp" | "udp" | "rtmp" => Some("rw_timeout"),
            _ => None,
        };
        if let Some(k) = key {
            if !o.iter().any(|(n, _)| n == k) {
                o.push((k.to_string(), "5000000".to_string()));
            }
        }
        o
    }

    /// Sleep `d` in small steps, running retention meanwhile.
    pub(crate) fn wait(
        &mut self,
        d: Duration,
        deadline: Option<Instant>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<StopReason> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if let Some(r) = self.stopping(deadline) {
                return Some(r);
            }
            self.maybe_retention(on_event);
            std::thread::sleep(
                Duration::from_millis(50).min(until.saturating_duration_since(Instant::now())),
            );
        }
        None
    }

    /// Record from one open input until it ends, fails, or the run stops. Returns how it
    /// ended and how many frames it gave.
    fn record_connection(
        &mut self,
        mut reader: VideoReader,
        deadline: Option<Instant>,
        outage: &mut Option<(i64, String)>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(Ended, u64), RecordError> {
        let info = reader.info().clone();
        // The input as configured: never the URL with credentials the reader opened.
        let input = std::path::PathBuf::from(&self.cfg.input);
        let creds = self.cfg.credentials.clone();
        let scrubbed = |e: VideoError| scrub(&e.to_string(), creds.as_ref().map(|c| c.expose()));
        let masker =
            CaptureMasker::new(&self.cfg.camera, info.width, info.height, info.format).map_err(|source| {
                RecordError::Zones {
                    path: input.clone(),
                    width: info.width,
                    height: info.height,
                    source,
                }
            })?;
        on_event(&Event::Connected {
            width: info.width,
            height: info.height,
            fps: info.fps,
        });
        let frame_ms = (1000.0 * f64::from(info.fps.1) / f64::from(info.fps.0))
            .round()
            .max(1.0) as i64;
        // Stream time `anchor.1` (seconds) is wall-clock time `anchor.0` (ms).
        let mut anchor: Option<(i64, f64)> = None;
        let mut seg: Option<Segment> = None;
        let mut last_pts: Option<i64> = None;
        let mut backwards = 0u32;
        let mut frames = 0u64;
        let mut health = Health::new(frame_ms);
        let mut last_space_check = Instant::now();
        let ended = loop {
            if let Some(r) = self.stopping(deadline) {
                break Ended::Stop(r);
            }
            let mut frame = match reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break Ended::Dropped(STREAM_ENDED.into()),
                Err(e) if self.stop.load(Ordering::Relaxed) => {
                    let _ = e;
                    break Ended::Stop(StopReason::Stopped);
                }
                Err(e @ VideoError::GeometryChanged { .. }) => break Ended::Restart(scrubbed(e)),
                Err(e) => break Ended::Dropped(scrubbed(e)),
            };
            if last_pts.is_some_and(|p| frame.pts() <= p) {
                // A frame that does not follow the last one: a live stream's first frame
                // may carry no timestamp (it is then given the stream's start, which the
                // next frame repeats), or the camera restarted its clock. Skip a few; a
                // clock that went back for good starts a new connection and segment.
                backwards += 1;
                if backwards > BACKWARDS_LIMIT {
                    break Ended::Restart(format!(
                        "{}: the timestamps went back (at {:.3} s)",
                        input.display(),
                        frame.time()
                    ));
                }
                continue;
            }
            backwards = 0;
            last_pts = Some(frame.pts());
            let (a_ms, a_t) = *anchor.get_or_insert((ms(Timestamp::now()), frame.time()));
            let t_ms = a_ms + ((frame.time() - a_t) * 1000.0).round() as i64;
            let now_ms = ms(Timestamp::now());
            let missing = health.missing(t_ms);
            self.stats.frames_in.fetch_add(1 + missing, Ordering::Relaxed);
            self.stats.frames_lost.fetch_add(missing, Ordering::Relaxed);
            let (lag_ms, verdict) = health.lag(t_ms, now_ms);
            self.stats.lag(lag_ms.max(0) as u64);
            // The footage missing since the last drop ends here.
            let mut pending_gap = None;
            if let Some((from, why)) = outage.take() {
                let gap = Gap::new(ts(from.min(t_ms)), ts(t_ms), why);
                self.note_gap(&gap, on_event);
                pending_gap = Some(gap);
            }
            // Rotate: the new segment starts where the previous one ends.
            if let Some(s) = seg.as_ref() {
                if t_ms - s.start_ms >= self.cfg.segment.as_millis() as i64 {
                    if let Some(s) = seg.take() {
                        self.segs.close(s, Some(t_ms), on_event)?;
                    }
                    self.retention_pass(on_event);
                }
            }
            self.maybe_retention(on_event);
            if seg.is_none() || last_space_check.elapsed() >= Duration::from_secs(1) {
                last_space_check = Instant::now();
                let current = seg
                    .as_ref()
                    .and_then(|s| fs::metadata(&s.path).ok())
                    .map_or(0, |m| m.len());
                if let Err(e) = self.make_room(current, on_event) {
                    if let Some(s) = seg.take() {
                        self.segs.close(s, None, on_event)?;
                    }
                    self.note(&format!("recording stopped: {e}"), on_event);
                    if matches!(e, RecordError::StorageFull { .. }) {
                        // Protected footage fills the storage: wait for room (a hold
                        // released, space freed) instead of going dark for good.
                        break Ended::Full(e);
                    }
                    return Err(e);
                }
            }
            let s = match seg.as_mut() {
                Some(s) => s,
                None => {
                    let s = self.segs.open(&info, t_ms)?;
                    if let Some(used) = self.segs.take_encoder_change() {
                        on_event(&Event::Encoder(used));
                    }
                    seg.insert(s)
                }
            };
            if let Some(g) = pending_gap {
                s.gaps.push(g);
            }
            // Frames missing inside a connection (a stalled camera) are a gap too.
            if t_ms - s.end_ms > (3 * frame_ms).max(1000) {
                let gap = Gap::new(
                    ts(s.end_ms),
                    ts(t_ms),
                    format!("no frames from the camera ({missing} frame(s) missing by its timestamps)"),
                );
                self.note_gap(&gap, on_event);
                s.gaps.push(gap);
            } else if missing > 0 {
                self.frames_lost(s, t_ms - missing as i64 * frame_ms, t_ms, missing, on_event);
            }
            match verdict {
                Verdict::Behind { lag_ms } => {
                    if let Some(why) = self.behind(s, t_ms, t_ms + lag_ms, lag_ms, on_event) {
                        break Ended::Restart(why);
                    }
                }
                Verdict::CaughtUp => self.caught_up(lag_ms, on_event),
                Verdict::Fine => {}
            }
            if let Some(d) = self.delay {
                std::thread::sleep(d);
            }
            if let Err(e) = write_masked(&masker, &mut frame, s, &input) {
                if let Some(s) = seg.take() {
                    let _ = self.segs.close(s, None, on_event);
                }
                return Err(e);
            }
            s.end_ms = t_ms + frame_ms;
            frames += 1;
            self.summary_frames += 1;
        };
        if let (Ended::Stop(_), Some(s)) = (&ended, seg.as_ref()) {
            let lag = health.lag_at(s.end_ms, ms(Timestamp::now()));
            self.stopped_behind(s.end_ms, lag, frame_ms, on_event);
        }
        if let Some(s) = seg.take() {
            self.segs.close(s, None, on_event)?;
        }
        Ok((ended, frames))
    }
}

/// How one connection ended.
enum Ended {
    /// Stop recording.
    Stop(StopReason),
    /// The input failed or ended: reconnect after the backoff.
    Dropped(String),
    /// No room that early deletion can make: wait for room, then reconnect.
    Full(RecordError),
    /// The stream changed (size, timestamps): reconnect at once.
    Restart(String),
}

fn write_masked(
    masker: &CaptureMasker,
    frame: &mut DecodedFrame,
    s: &mut Segment,
    input: &Path,
) -> Result<(), RecordError> {
    {
        let mut view = frame.frame_mut()?;
        masker.apply(&mut view).map_err(|source| RecordError::Mask {
            path: input.to_path_buf(),
            source,
        })?;
    }
    s.writer.write_decoded(frame)?;
    Ok(())
}
