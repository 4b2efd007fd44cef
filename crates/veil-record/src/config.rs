//! A recorder's settings, the events it reports, and the summary of a run.

use std::path::PathBuf;
use std::time::Duration;

use veil_core::CameraConfig;
use veil_crypt::PublicKey;
use veil_video::{Decoder, DecoderUsed, EncodeOptions, Encoder, EncoderUsed};

use crate::erase::{AuditTarget, SegmentDeletion};
use crate::index::IndexEntry;

/// Default segment length: one minute.
pub const DEFAULT_SEGMENT: Duration = Duration::from_secs(60);
/// Default retention: four weeks.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(28 * 86_400);
/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest fragment: at most this much is lost when the power fails.
pub const FRAGMENT: Duration = Duration::from_secs(1);
/// Why a connection ended when the input simply ended.
pub(crate) const STREAM_ENDED: &str = "the stream ended";
/// Frames in a row whose timestamp does not follow the last one before the stream counts
/// as restarted.
pub(crate) const BACKWARDS_LIMIT: u32 = 10;
/// How often retention runs besides at every segment close (at most; half a segment when
/// segments are shorter), so that a segment goes within seconds of its expiry, during an
/// outage too.
pub(crate) const RETENTION_EVERY: Duration = Duration::from_secs(10);

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
    /// Access requests (`{"version":1,"requests":[...]}`), read at every retention pass:
    /// footage a pending request covers is kept.
    pub access: Option<PathBuf>,
    /// Erasure requests (`{"version":1,"requests":[...]}`), read at every retention pass:
    /// footage they cover is erased early unless a hold or access request keeps it.
    pub erasures: Option<PathBuf>,
    /// Where deletions and gaps are logged. Required ([`crate::Recorder::new`] refuses to
    /// start without it): every deletion is audited. The log's own `hold`, `request`,
    /// `erase` and `release` entries are honoured as the files above are.
    pub audit: Option<AuditTarget>,
    /// The site's public keys. When not empty every segment is encrypted as it is written
    /// (`.mp4.age`), each to a fresh data key that is sealed to these keys in `keys/` and
    /// then forgotten: the recorder holds no secret, and destroying a segment's sealed key
    /// erases it for good.
    pub encrypt_to: Vec<PublicKey>,
    /// Encoder settings; `fragment` and `keyframe_interval` are set by the recorder. The
    /// encoder defaults to [`Encoder::Auto`]: a hardware H.264 encoder when one opens at the
    /// camera's frame size, else libx264 ([`Event::Encoder`] says which). A hardware encoder
    /// asked for by name that cannot open stops the run with that error.
    pub encode: EncodeOptions,
    /// The decoder of the camera's stream, [`Decoder::Auto`] by default: a hardware decoder
    /// when one opens for the stream's codec, else software ([`Event::Decoder`] says which).
    /// A hardware decoder asked for by name that cannot be used stops the run with that
    /// error.
    pub decoder: Decoder,
    /// Stop after this long (for tests and scheduled jobs); `None`: until stopped.
    pub run_for: Option<Duration>,
    /// The storage budget: the bytes of footage (segments and sealed data keys of every
    /// camera) under `dir` are kept within it. Before the next segment would break it, the
    /// site's oldest segments that no hold or pending request protects are deleted early
    /// (audited, reason "early: storage budget"). `None`: no budget, the free-space floor
    /// alone.
    pub max_disk: Option<u64>,
    /// The free space always left on the file system, deleting early as for the budget.
    /// `None`: two segments of the largest seen (so the next one and two more fit).
    pub min_free: Option<u64>,
    /// The camera's `user:password`, inserted into the URL only when it is opened; every
    /// message that could quote it (FFmpeg's errors name the URL) has it replaced by `***`.
    pub credentials: Option<Credentials>,
}

/// A camera's `user:password`. Its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials(String);

impl Credentials {
    /// `user:password` (or a user alone).
    pub fn new(user_password: impl Into<String>) -> Self {
        Credentials(user_password.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

impl RecorderConfig {
    /// Defaults: 60 s segments, 28 days' retention, no holds or requests files, no audit
    /// log (one must be set before [`crate::Recorder::new`]), not encrypted, encoder
    /// [`Encoder::Auto`], decoder [`Decoder::Auto`].
    pub fn new(input: impl Into<String>, camera: CameraConfig, dir: impl Into<PathBuf>) -> Self {
        RecorderConfig {
            input: input.into(),
            input_options: Vec::new(),
            camera,
            dir: dir.into(),
            segment: DEFAULT_SEGMENT,
            retention: DEFAULT_RETENTION,
            holds: None,
            access: None,
            erasures: None,
            audit: None,
            encrypt_to: Vec::new(),
            encode: EncodeOptions {
                encoder: Encoder::Auto,
                ..EncodeOptions::default()
            },
            decoder: Decoder::Auto,
            run_for: None,
            max_disk: None,
            min_free: None,
            credentials: None,
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
    /// The encoder the segments are written with: at the first segment of a run, and
    /// whenever it changes (with [`Encoder::Auto`], why the hardware encoders were passed
    /// over).
    Encoder(EncoderUsed),
    /// The decoder the camera's stream is decoded with: at the first connection of a run,
    /// and whenever it changes (with [`Decoder::Auto`], why the hardware decoders were
    /// passed over).
    Decoder(DecoderUsed),
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
    /// What the storage holds at the current rate (at start when footage exists, after the
    /// first segment otherwise, and once a day).
    Capacity(Capacity),
    /// Recording stopped for want of room that early deletion cannot make (protected
    /// footage alone fills the budget); the recorder waits and resumes when there is room.
    Stalled(String),
    /// Recording resumed after [`Event::Stalled`].
    Resumed,
    /// Recording fell behind the camera's clock by more than [`crate::LAG_LIMIT`] (again
    /// each time the lag doubles): audited and marked in the index, load shed
    /// (see the crate documentation).
    Lagging {
        /// How far behind.
        lag: Duration,
        /// The camera's time of the frame recorded late.
        at: veil_audit::Timestamp,
        /// The preset the next segments are encoded with, when load was shed that way.
        preset: Option<String>,
        /// What was done, in words.
        shed: String,
    },
    /// Recording is back within half of [`crate::LAG_LIMIT`] of the camera's clock.
    CaughtUp,
    /// Frames the camera sent were not recorded (its timestamps jumped): audited and marked
    /// in the index at the first loss of a segment, counted in its mark after that.
    FramesLost {
        /// Frames missing in this jump.
        frames: u64,
        /// The last frame before the jump (its end).
        from: veil_audit::Timestamp,
        /// The first frame after it.
        to: veil_audit::Timestamp,
    },
}

/// The capacity of the storage at the current rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Bytes of footage per hour, the site's (every camera under the directory), measured
    /// over the segments of the last hours.
    pub bytes_per_hour: f64,
    /// The bytes footage may take: the storage budget, or without one what the footage
    /// holds plus the free space above the floor.
    pub room: u64,
    /// Days of footage that fit in `room` at this rate.
    pub days_fit: f64,
    /// The retention period asked.
    pub retention: Duration,
}

impl Capacity {
    /// Fewer days fit than the retention period asks: footage will be deleted early.
    pub fn short(&self) -> bool {
        self.days_fit * 86_400.0 < self.retention.as_secs_f64()
    }

    /// The warning when [`Capacity::short`]: "retention 28 d asked, 9 d fit at the current
    /// rate (...)".
    pub fn warning(&self) -> String {
        format!(
            "retention {} asked, {} fit at the current rate ({} an hour in {}): the oldest unprotected footage will be deleted early",
            crate::format_span(self.retention),
            crate::format_span(Duration::from_secs_f64((self.days_fit * 86_400.0).min(1e12))),
            crate::format_size(self.bytes_per_hour as u64),
            crate::format_size(self.room)
        )
    }
}

/// Why [`Recorder::run`](crate::Recorder::run) returned.
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
    /// Segments deleted (by retention, on request, or early).
    pub deleted: u64,
    /// Of those, deleted early for the storage budget or the free-space floor.
    pub early_deleted: u64,
    /// Start of the oldest footage of this camera still kept.
    pub oldest_kept: Option<veil_audit::Timestamp>,
    /// The capacity at the end of the run, once measured.
    pub capacity: Option<Capacity>,
    /// Why the run ended.
    pub reason: StopReason,
}
