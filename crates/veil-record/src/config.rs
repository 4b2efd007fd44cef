//! A recorder's settings, the events it reports, and the summary of a run.

use std::path::PathBuf;
use std::time::Duration;

use veil_core::CameraConfig;
use veil_crypt::PublicKey;
use veil_video::EncodeOptions;

use crate::index::IndexEntry;
use crate::retention::{AuditTarget, SegmentDeletion};

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
    /// Encoder settings; `fragment` and `keyframe_interval` are set by the recorder.
    pub encode: EncodeOptions,
    /// Stop after this long (for tests and scheduled jobs); `None`: until stopped.
    pub run_for: Option<Duration>,
}

impl RecorderConfig {
    /// Defaults: 60 s segments, 28 days' retention, no holds or requests files, no audit
    /// log (one must be set before [`crate::Recorder::new`]), not encrypted.
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
    /// Segments deleted by retention.
    pub deleted: u64,
    /// Why the run ended.
    pub reason: StopReason,
}
