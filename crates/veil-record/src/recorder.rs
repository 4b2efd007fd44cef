//! [`Recorder`]: a live input, masked at capture, recorded in fragmented MP4 segments.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use veil_audit::{Action, Timestamp, Window};
use veil_core::{CameraConfig, CaptureMasker};
use veil_video::{DecodedFrame, EncodeOptions, ReadOptions, VideoError, VideoInfo, VideoReader, VideoWriter};

use crate::index::{sync_dir, Gap, Index, IndexEntry, INDEX_VERSION};
use crate::retention::{apply_retention_camera, AuditTarget, HoldsWatch, RetentionOptions, SegmentDeletion};
use crate::RecordError;

/// Default segment length: one minute.
pub const DEFAULT_SEGMENT: Duration = Duration::from_secs(60);
/// Default retention: four weeks.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(28 * 86_400);
/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest fragment: at most this much is lost when the power fails.
pub const FRAGMENT: Duration = Duration::from_secs(1);
/// Free space always left on the disk, on top of one segment's worth.
const MIN_RESERVE: u64 = 256 * 1024;
/// Why a connection ended when the input simply ended.
const STREAM_ENDED: &str = "the stream ended";
/// Frames in a row whose timestamp does not follow the last one before the stream counts
/// as restarted.
const BACKWARDS_LIMIT: u32 = 10;
/// How often retention runs besides at every segment close (at most; half a segment when
/// segments are shorter), so that a segment goes within seconds of its expiry, during an
/// outage too.
const RETENTION_EVERY: Duration = Duration::from_secs(10);

/// What to record and how.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// The input: `rtsp://`, `http://` MPEG-TS, or anything else FFmpeg reads live; a file
    /// is read as it is (as fast as it decodes).
    pub input: String,
    /// Extra options for FFmpeg's demuxer/protocol (e.g. `rtsp_transport=tcp`).
    pub input_options: Vec<(String, String)>,
    /// The camera: its id names the directory, its zones are masked in every frame.
    pub camera: CameraConfig,
    /// The recording directory; segments go to `dir/<camera id>/`.
    pub dir: PathBuf,
    /// Segment length (a segment may run one frame longer, and ends early on a drop).
    pub segment: Duration,
    /// How long a segment is kept after its end, unless a hold covers it.
    pub retention: Duration,
    /// The holds file (`{"version":1,"holds":[...]}`), read at every retention pass.
    pub holds: Option<PathBuf>,
    /// Where deletions and gaps are logged.
    pub audit: Option<AuditTarget>,
    /// Encoder settings; `fragment` and `keyframe_interval` are set by the recorder.
    pub encode: EncodeOptions,
    /// Stop after this long (for tests and scheduled jobs); `None`: until stopped.
    pub run_for: Option<Duration>,
}

impl RecorderConfig {
    /// Defaults: 60 s segments, 28 days' retention, no holds, no audit log.
    pub fn new(input: impl Into<String>, camera: CameraConfig, dir: impl Into<PathBuf>) -> Self {
        RecorderConfig {
            input: input.into(),
            input_options: Vec::new(),
            camera,
            dir: dir.into(),
            segment: DEFAULT_SEGMENT,
            retention: DEFAULT_RETENTION,
            holds: None,
            audit: None,
            encode: EncodeOptions::default(),
            run_for: None,
        }
    }
}

/// What happens while recording, for a caller's log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// The input was opened.
    Connected {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// Frame rate.
        fps: (i32, i32),
    },
    /// A segment was closed and indexed.
    SegmentClosed(IndexEntry),
    /// The input failed or ended; the recorder tries again after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
    /// Retention deleted a segment.
    Deleted(SegmentDeletion),
    /// Something the operator should know that does not stop recording.
    Warning(String),
}

/// Why [`Recorder::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The stop flag was set (SIGINT/SIGTERM in the CLI).
    Stopped,
    /// [`RecorderConfig::run_for`] elapsed.
    TimeUp,
    /// The input is a file and it ended (a file is recorded once, never reopened).
    EndOfInput,
}

/// What a run recorded.
#[derive(Debug, Clone)]
pub struct RecordSummary {
    /// Segments closed.
    pub segments: u64,
    /// Frames recorded.
    pub frames: u64,
    /// Segments deleted by retention.
    pub deleted: u64,
    /// Why the run ended.
    pub reason: StopReason,
}

/// The segment being written.
struct Segment {
    writer: VideoWriter,
    file: String,
    path: PathBuf,
    start_ms: i64,
    /// End of the last frame written (its time plus one frame).
    end_ms: i64,
    gaps: Vec<Gap>,
}

/// Records one camera. See the crate documentation.
#[derive(Debug)]
pub struct Recorder {
    cfg: RecorderConfig,
    cam_dir: PathBuf,
    index: Index,
    stop: Arc<AtomicBool>,
    holds: HoldsWatch,
    largest_segment: u64,
    summary_segments: u64,
    summary_frames: u64,
    summary_deleted: u64,
    last_retention: Option<Instant>,
    /// End of the last footage recorded in this run (ms since the epoch).
    last_end: Option<i64>,
}

fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

fn ts(ms: i64) -> Timestamp {
    // Times come from the system clock plus stream offsets: always within 0001-9999.
    Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now)
}

/// `YYYYmmddTHHMMSSZ` for an instant.
pub fn segment_name(t: Timestamp) -> String {
    let s = t.to_string(); // 2026-03-01T09:00:00.25Z
    let digits: String = s.chars().take(19).filter(|c| *c != '-' && *c != ':').collect();
    format!("{digits}Z")
}

impl Recorder {
    /// Check the settings and create `dir/<camera id>/`.
    ///
    /// # Errors
    /// [`RecordError::InvalidOption`] for a camera id that is not a plain file name, a
    /// segment under one second or a retention under one second; [`RecordError::Io`] when
    /// the directory cannot be created.
    pub fn new(cfg: RecorderConfig) -> Result<Recorder, RecordError> {
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
        Ok(Recorder {
            index: Index::new(&cam_dir),
            holds: HoldsWatch::new(cfg.holds.clone()),
            cam_dir,
            cfg,
            stop: Arc::new(AtomicBool::new(false)),
            largest_segment: 0,
            summary_segments: 0,
            summary_frames: 0,
            summary_deleted: 0,
            last_retention: None,
            last_end: None,
        })
    }

    /// The flag that stops [`Recorder::run`]: set it (from a signal handler, another
    /// thread) and the run closes its segment and returns; a blocked read is interrupted.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// The camera's directory.
    pub fn camera_dir(&self) -> &Path {
        &self.cam_dir
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

    /// Record until stopped, the time is up, or a local failure (full disk, masking,
    /// encoding, the index). The camera dropping or the network failing never ends it.
    ///
    /// # Errors
    /// [`RecordError::DiskFull`], [`RecordError::Video`] for a segment that cannot be
    /// written, [`RecordError::Mask`]/[`RecordError::Zones`], [`RecordError::Io`] for the
    /// index. The segment being written is closed first when it can be; what was written
    /// of it stays (fragments are playable).
    pub fn run(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<RecordSummary, RecordError> {
        let deadline = self.cfg.run_for.map(|d| Instant::now() + d);
        self.recover(on_event)?;
        self.retention_pass(on_event);
        let mut backoff = Duration::from_secs(1);
        // The end of the footage before an outage, and why it ended. Footage indexed by an
        // earlier run ends in one: the time the recorder was not running.
        // A path (not a URL) that is a regular file, or nothing: read once. A FIFO or a
        // device is live, like a URL.
        let path = Path::new(&self.cfg.input);
        let is_file = !self.cfg.input.contains("://") && (path.is_file() || !path.exists());
        let previous = self.index.locked(|i| i.read())?.iter().map(|e| ms(e.end)).max();
        let mut outage: Option<(i64, String)> =
            previous.map(|end| (end, "the recorder was not running".to_string()));
        let reason = loop {
            if let Some(r) = self.stopping(deadline) {
                break r;
            }
            let opts = ReadOptions {
                input_options: self.input_options(),
                interrupt: Some(Arc::clone(&self.stop)),
                ..ReadOptions::default()
            };
            let reader = VideoReader::open(&self.cfg.input, &opts);
            let (ended, frames) = match reader {
                Ok(reader) => self.record_connection(reader, deadline, &mut outage, on_event)?,
                Err(e) => (Ended::Dropped(e.to_string()), 0),
            };
            if is_file {
                // A file is read once: its end is the end of the recording, and a file that
                // cannot be read is an error, not a camera to wait for.
                match ended {
                    Ended::Stop(r) => break r,
                    Ended::Dropped(why) if frames > 0 && why == STREAM_ENDED => break StopReason::EndOfInput,
                    Ended::Dropped(why) | Ended::Restart(why) => {
                        return Err(RecordError::Input { reason: why })
                    }
                }
            }
            let (why, at_once) = match ended {
                Ended::Stop(r) => break r,
                Ended::Dropped(why) => (why, false),
                // A size or format change: reconnect at once, with a new masker.
                Ended::Restart(why) => (why, frames > 0),
            };
            if outage.is_none() {
                // Only footage already recorded in this run can have a gap after it.
                outage = self.last_end.map(|end| (end, why.clone()));
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
                &Gap {
                    from: ts(from),
                    to: Timestamp::now(),
                    reason: format!("{why} (recording stopped before the camera came back)"),
                },
                on_event,
            );
        }
        Ok(RecordSummary {
            segments: self.summary_segments,
            frames: self.summary_frames,
            deleted: self.summary_deleted,
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
    fn wait(
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
        let input = reader.path().to_path_buf();
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
                Err(e @ VideoError::GeometryChanged { .. }) => break Ended::Restart(e.to_string()),
                Err(e) => break Ended::Dropped(e.to_string()),
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
            // The footage missing since the last drop ends here.
            let mut pending_gap = None;
            if let Some((from, why)) = outage.take() {
                let gap = Gap {
                    from: ts(from.min(t_ms)),
                    to: ts(t_ms),
                    reason: why,
                };
                self.note_gap(&gap, on_event);
                pending_gap = Some(gap);
            }
            // Rotate: the new segment starts where the previous one ends.
            if let Some(s) = seg.as_ref() {
                if t_ms - s.start_ms >= self.cfg.segment.as_millis() as i64 {
                    if let Some(s) = seg.take() {
                        self.close(s, Some(t_ms), on_event)?;
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
                if let Err(e) = self.check_space(current) {
                    if let Some(s) = seg.take() {
                        self.close(s, None, on_event)?;
                    }
                    self.note(&format!("recording stopped: {e}"), on_event);
                    return Err(e);
                }
            }
            let s = match seg.as_mut() {
                Some(s) => s,
                None => seg.insert(self.open_segment(&info, t_ms)?),
            };
            if let Some(g) = pending_gap {
                s.gaps.push(g);
            }
            // Frames missing inside a connection (a stalled camera) are a gap too.
            if t_ms - s.end_ms > (3 * frame_ms).max(1000) {
                let gap = Gap {
                    from: ts(s.end_ms),
                    to: ts(t_ms),
                    reason: "no frames from the camera".into(),
                };
                self.note_gap(&gap, on_event);
                s.gaps.push(gap);
            }
            if let Err(e) = write_masked(&masker, &mut frame, s, &input) {
                if let Some(s) = seg.take() {
                    let _ = self.close(s, None, on_event);
                }
                return Err(e);
            }
            s.end_ms = t_ms + frame_ms;
            frames += 1;
            self.summary_frames += 1;
        };
        if let Some(s) = seg.take() {
            self.close(s, None, on_event)?;
        }
        Ok((ended, frames))
    }

    fn open_segment(&mut self, info: &VideoInfo, start_ms: i64) -> Result<Segment, RecordError> {
        let base = segment_name(ts(start_ms));
        let mut file = format!("{base}.mp4");
        let mut n = 1;
        while self.cam_dir.join(&file).exists() {
            file = format!("{base}-{n}.mp4");
            n += 1;
        }
        let path = self.cam_dir.join(&file);
        let fps = f64::from(info.fps.0) / f64::from(info.fps.1);
        let opts = EncodeOptions {
            fragment: Some(FRAGMENT),
            // A keyframe every second or so: fragments of one second, quick seeking.
            keyframe_interval: Some(fps.round().max(1.0) as u32),
            keep_audio: false,
            ..self.cfg.encode.clone()
        };
        let writer = VideoWriter::create(&path, info, &opts)?;
        Ok(Segment {
            writer,
            file,
            path,
            start_ms,
            end_ms: start_ms,
            gaps: Vec::new(),
        })
    }

    /// Finish a segment and index it. `next_start`: the next segment's start, which is
    /// this one's end when recording goes on without a break.
    fn close(
        &mut self,
        s: Segment,
        next_start: Option<i64>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), RecordError> {
        let frames = s.writer.frames_written();
        if frames == 0 {
            drop(s.writer); // removes the empty file
            return Ok(());
        }
        s.writer.finish()?;
        sync_dir(&self.cam_dir);
        let (sha256, size) = sha256_file(&s.path)?;
        self.largest_segment = self.largest_segment.max(size);
        self.last_end = Some(s.end_ms);
        let entry = IndexEntry {
            version: INDEX_VERSION,
            file: s.file,
            start: ts(s.start_ms),
            end: ts(next_start.unwrap_or(s.end_ms)),
            frames,
            sha256,
            gaps: s.gaps,
            deleted: None,
            recovered: None,
        };
        self.index.locked(|i| i.append(&entry))?;
        self.summary_segments += 1;
        on_event(&Event::SegmentClosed(entry));
        Ok(())
    }

    /// Index the segments an unclean stop left without an index line, so that retention
    /// sees them (a segment nobody indexed would never be deleted).
    fn recover(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<(), RecordError> {
        let cam_dir = self.cam_dir.clone();
        let found = self.index.locked(|index| {
            let known: std::collections::HashSet<String> =
                index.read()?.into_iter().map(|e| e.file).collect();
            let mut names: Vec<String> = fs::read_dir(&cam_dir)
                .map_err(|source| RecordError::Io {
                    path: cam_dir.clone(),
                    op: "list",
                    source,
                })?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".mp4") && !n.starts_with('.') && !known.contains(n))
                .collect();
            names.sort();
            let mut last_end = index.read()?.iter().map(|e| ms(e.end)).max();
            let mut found = Vec::new();
            for name in names {
                let Some(mut entry) = recover_segment(&cam_dir, &name) else {
                    continue;
                };
                // The name gives the start to the second only. A segment that began within
                // that second after the last indexed one ended followed it back to back
                // (segments are cut at frames): start it there, so its end, and the gap
                // after it, are not placed before footage already indexed.
                let (start, dur) = (ms(entry.start), ms(entry.end) - ms(entry.start));
                if let Some(le) = last_end {
                    if (start..start + 1000).contains(&le) {
                        entry.start = ts(le);
                        entry.end = ts(le + dur);
                    }
                }
                last_end = Some(last_end.map_or(ms(entry.end), |le| le.max(ms(entry.end))));
                index.append(&entry)?;
                found.push(entry);
            }
            Ok(found)
        })?;
        for e in found {
            on_event(&Event::Warning(format!(
                "{}: found without an index line after an unclean stop; indexed ({} frames)",
                e.file, e.frames
            )));
        }
        Ok(())
    }

    /// Stop before the disk is full: there must be room for a segment as large as the
    /// largest so far (less what the current one already holds), plus a margin.
    fn check_space(&self, current: u64) -> Result<(), RecordError> {
        let Some(free) = free_space(&self.cam_dir) else {
            return Ok(());
        };
        let needed = self.largest_segment.saturating_sub(current).max(MIN_RESERVE) + MIN_RESERVE;
        if free < needed {
            return Err(RecordError::DiskFull {
                path: self.cam_dir.clone(),
                free,
                needed,
            });
        }
        Ok(())
    }

    /// A retention pass if the last one is [`RETENTION_EVERY`] (or half a segment) ago.
    fn maybe_retention(&mut self, on_event: &mut dyn FnMut(&Event)) {
        let every = RETENTION_EVERY.min(self.cfg.segment / 2);
        if self.last_retention.is_none_or(|t| t.elapsed() >= every) {
            self.retention_pass(on_event);
        }
    }

    fn retention_pass(&mut self, on_event: &mut dyn FnMut(&Event)) {
        self.last_retention = Some(Instant::now());
        let holds = match self.holds.current() {
            Ok(h) => h,
            Err(e) => {
                on_event(&Event::Warning(format!(
                    "retention skipped, nothing deleted: {e}"
                )));
                return;
            }
        };
        let opts = RetentionOptions {
            retention: self.cfg.retention,
            holds,
            now: Timestamp::now(),
            dry_run: false,
            audit: self.cfg.audit.clone(),
        };
        match apply_retention_camera(&self.cam_dir, &self.cfg.camera.id, &opts) {
            Ok(out) => {
                for d in out.deleted {
                    self.summary_deleted += 1;
                    on_event(&Event::Deleted(d));
                }
            }
            Err(e) => on_event(&Event::Warning(format!(
                "retention failed, nothing more deleted: {e}"
            ))),
        }
    }

    fn note_gap(&self, gap: &Gap, on_event: &mut dyn FnMut(&Event)) {
        let Some(a) = &self.cfg.audit else { return };
        let text = format!(
            "no footage from {} to {}: {}",
            gap.from,
            gap.to,
            if gap.reason.is_empty() {
                "the camera dropped"
            } else {
                &gap.reason
            }
        );
        let window = Window {
            from: gap.from,
            to: gap.to.max(gap.from),
        };
        if let Err(e) = a.append(Action::Note, &self.cfg.camera.id, Some(window), &text) {
            on_event(&Event::Warning(format!("cannot log the gap: {e}")));
        }
    }

    fn note(&self, text: &str, on_event: &mut dyn FnMut(&Event)) {
        let Some(a) = &self.cfg.audit else { return };
        if let Err(e) = a.append(Action::Note, &self.cfg.camera.id, None, text) {
            on_event(&Event::Warning(format!("cannot log the note: {e}")));
        }
    }
}

/// How one connection ended.
enum Ended {
    /// Stop recording.
    Stop(StopReason),
    /// The input failed or ended: reconnect after the backoff.
    Dropped(String),
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

/// The index entry of a segment left behind by an unclean stop, or `None` when its name is
/// not a segment's or no frame of it can be read.
fn recover_segment(dir: &Path, name: &str) -> Option<IndexEntry> {
    let stem = name.strip_suffix(".mp4")?;
    let stamp = stem.split('-').next()?;
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    let start = Timestamp::parse(&rfc).ok()?;
    let path = dir.join(name);
    let mut reader = VideoReader::open(&path, &ReadOptions::default()).ok()?;
    let fps = reader.info().fps;
    let (mut frames, mut last) = (0u64, 0.0f64);
    // A file cut inside its last fragment ends with an error after the complete ones.
    while let Ok(Some(f)) = reader.next_frame() {
        frames += 1;
        last = f.time();
    }
    if frames == 0 {
        return None;
    }
    let frame_s = f64::from(fps.1) / f64::from(fps.0);
    let end_ms = ms(start) + ((last + frame_s) * 1000.0).round() as i64;
    let (sha256, _) = sha256_file(&path).ok()?;
    Some(IndexEntry {
        version: INDEX_VERSION,
        file: name.to_string(),
        start,
        end: ts(end_ms),
        frames,
        sha256,
        gaps: Vec::new(),
        deleted: None,
        recovered: Some("indexed after an unclean stop; start from the file name".into()),
    })
}

fn sha256_file(path: &Path) -> Result<(String, u64), RecordError> {
    use std::io::Read;
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        op: "read",
        source,
    };
    let mut f = fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((format!("{:x}", h.finalize()), size))
}

/// Bytes available to an unprivileged writer on the file system holding `dir`.
#[cfg(unix)]
// The statvfs field types differ between platforms (u32 on some 32-bit ones).
#[allow(clippy::useless_conversion)]
fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid, writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

#[cfg(not(unix))]
fn free_space(_dir: &Path) -> Option<u64> {
    None
}
