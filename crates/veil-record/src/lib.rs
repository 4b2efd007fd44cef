//! Veil as the recorder: a live camera stream, masked at capture, recorded in segments
//! (encrypted to the site's public keys if asked), erased after the retention period unless
//! an incident holds it or a request covers it, every deletion audited.
//!
//! ```text
//! camera URL -> decode -> CaptureMasker -> encode -> DIR/<camera id>/<UTC start>.mp4
//!                                          [-> age stream -> <UTC start>.mp4.age,
//!                                              data key sealed to the site: keys/<UTC start>.key.age]
//!                                                 -> DIR/<camera id>/index.jsonl
//!            -> retention: segments past the period (or named by an erasure request) and
//!               neither held nor requested are erased, each erasure written to the audit
//!               log first; under a storage budget the oldest unprotected segments go early
//! ```
//!
//! - **Masking before anything touches disk.** Every decoded frame goes through the
//!   camera's [`veil_core::CaptureMasker`] before the encoder; there are no raw or unmasked
//!   temporary files. A masking failure stops recording.
//! - **Encryption as it is written** ([`RecorderConfig::encrypt_to`]): the encoder's bytes go
//!   into an age stream (`veil-crypt`), so only ciphertext reaches the disk; each segment has
//!   its own data key, sealed to the site's public keys and then forgotten. The recorder
//!   holds no secret key. [`decrypt_segment`] reads a segment with the site's secret key.
//! - **Segments** are fragmented MP4 files (a fragment per keyframe, at most one second),
//!   written in place: a crash or power cut loses at most the last fragment and the frames
//!   still inside the encoder (its lookahead), and for an encrypted segment the last chunk
//!   of the stream (at most 64 KiB). The next run indexes a segment a crash left
//!   without an index line ([`IndexEntry::recovered`]) and records the time it was not
//!   running as a gap. Each segment starts on a keyframe (a new encoder per segment) and
//!   begins where the previous one ended.
//! - **The index** ([`IndexEntry`]) has one line per closed segment: file, start, end,
//!   frames, SHA-256, gaps, the sealed data key; a deleted segment's line is marked
//!   `deleted`. Entries that are not plain file names are refused.
//! - **Drops.** A camera that fails or ends is reopened with backoff (1, 2, 4 ... 30 s);
//!   the gap goes to the index and a `note` entry. A size change starts a new segment with
//!   a new masker.
//! - **Retention** ([`apply_retention_camera`]) runs at every segment close and every few
//!   seconds during an outage, with the holds, requests files and audit log read again each
//!   time ([`HoldsWatch`], [`Requests`]). Erasing destroys an encrypted segment's data key
//!   (crypto-erasure) or overwrites a plain segment, then removes it.
//! - **Every deletion is audited**: the recorder refuses to start without an audit log.
//! - **A storage budget** ([`RecorderConfig::max_disk`]) and a free-space floor
//!   ([`RecorderConfig::min_free`]): before the next segment would break either, the site's
//!   oldest segments that no open hold or pending access request protects are deleted
//!   early, as retention deletes them (audited first with the reason "early: storage
//!   budget", naming the budget and the free space; erased; marked in the index).
//!   Retention is a maximum: deleting unprotected footage early breaks no hold, while
//!   stopping would lose every new frame. Only when protected footage alone fills the
//!   storage does recording stop ([`RecordError::StorageFull`], naming the holds and
//!   requests, with an audit note); the recorder then checks for room every few seconds
//!   and resumes by itself when a hold is released or space comes back
//!   ([`Event::Stalled`], [`Event::Resumed`]).
//! - **Capacity** ([`Capacity`]): the bytes per hour measured over the last hours and the
//!   days that fit, reported at start (or after the first segment) and once a day, with a
//!   warning, also noted in the audit log, when fewer days fit than the retention period.
//! - **Never losing frames silently**: the lag behind the camera's clock and the frames lost
//!   in timestamp jumps are warned ([`Event::Lagging`], [`Event::FramesLost`]), audited and
//!   marked in the index ([`Gap::is_mark`]); load is shed in a fixed order (a faster preset,
//!   then dropping the backlog); see the `health` module's documentation in the source.
//! - **A site** ([`Site`]): every camera of a directory of zone files (the `[camera]` table's
//!   `url` and recording keys), each on its own thread, reloaded when the files change or on
//!   request, each change a `config-change` audit entry; [`Metrics`] and
//!   [`serve_metrics`] serve per-camera counters in the Prometheus text format on loopback;
//!   [`site_status`] reads what each camera recorded, its gaps, lag marks and deletions.
//!
//! ```no_run
//! use veil_record::{Recorder, RecorderConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let camera = veil_core::CameraConfig::from_file("zones.toml".as_ref())?;
//! let mut cfg = RecorderConfig::new("rtsp://10.0.0.5/stream1", camera, "/srv/veil");
//! cfg.segment = veil_record::parse_duration("60s")?;
//! cfg.audit = Some(veil_record::AuditTarget {
//!     log: "/srv/veil/audit.jsonl".into(),
//!     actor: "recorder@site".into(),
//! });
//! cfg.encrypt_to = veil_crypt::load_recipients("footage.key.pub".as_ref())?;
//! // Footage is kept within 800 GiB: the oldest unprotected segments go early when it is full.
//! cfg.max_disk = Some(veil_record::parse_size("800G")?);
//! let mut recorder = Recorder::new(cfg)?;
//! let stop = recorder.stop_flag(); // set it from a signal handler to stop cleanly
//! # let _ = stop;
//! recorder.run(&mut |event| eprintln!("{event:?}"))?;
//! # Ok(()) }
//! ```

mod budget;
mod config;
mod decrypt;
mod erase;
mod error;
mod health;
mod index;
mod metrics;
mod plain;
mod recorder;
mod recorder_storage;
mod recordings;
mod recordings_record;
mod retention;
mod segment;
mod site;
mod site_reload;
mod status;

use std::time::Duration;

pub use budget::{
    apply_budget, format_size, format_span, parse_size, BudgetOutcome, StorageBudget, EARLY_REASON,
};
pub use config::{
    Capacity, Credentials, Event, RecordSummary, RecorderConfig, StopReason, DEFAULT_RETENTION,
    DEFAULT_SEGMENT, FRAGMENT, MAX_BACKOFF,
};
pub use decrypt::{decrypt_segment, DecryptedSegment};
pub use erase::{overwrite_and_remove, AuditTarget, SegmentDeletion};
pub use error::{RecordError, RecordingsError};
pub use health::{DRIFT, LAG_LIMIT, MAX_LAG};
pub use index::{is_plain_name, Deleted, Gap, Index, IndexEntry, INDEX_FILE, INDEX_VERSION, KEYS_DIR};
pub use metrics::{serve_metrics, CameraStats, Metrics};
pub use plain::{DataKey, EncryptedInput, PlainInput};
pub use recorder::Recorder;
pub use recordings::{OpenedRecordings, Recordings, Segment};
pub use recordings_record::{Hole, HoleKind, IndexFile, RecordingsRecord, SegmentUsed, WallWindow};
pub use retention::{
    apply_retention, apply_retention_camera, HoldsWatch, PendingErasure, Requests, RetentionOptions,
    RetentionOutcome, SegmentHeld, UnknownCamera,
};
pub use segment::{key_file_for, segment_name, ENCRYPTED_EXT};
pub use site::{load_camera, Site, SiteCallback, SiteCamera, SiteConfig, SiteEvent};
pub use status::{site_rate, site_status, CameraStatus};

/// Parse a DURATION: `90` or `90s` (seconds), `15m`, `6h`, `28d`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(veil_record::parse_duration("90").unwrap(), Duration::from_secs(90));
/// assert_eq!(veil_record::parse_duration("15m").unwrap(), Duration::from_secs(900));
/// assert_eq!(veil_record::parse_duration("28d").unwrap(), Duration::from_secs(28 * 86_400));
/// assert!(veil_record::parse_duration("1.5h").is_err());
/// ```
///
/// # Errors
/// [`RecordError::InvalidDuration`] for anything else, zero, or more than 100 years.
pub fn parse_duration(text: &str) -> Result<Duration, RecordError> {
    let bad = |reason: &str| RecordError::InvalidDuration {
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(bad(
                "expected a whole number with s, m, h or d (90, 90s, 15m, 6h, 28d)",
            ))
        }
    };
    if digits.is_empty() {
        return Err(bad("no number"));
    }
    let n: u64 = digits.parse().map_err(|_| bad("the number is too large"))?;
    let secs = n
        .checked_mul(scale)
        .filter(|&s| s <= 100 * 365 * 86_400)
        .ok_or_else(|| bad("more than 100 years"))?;
    if secs == 0 {
        return Err(bad("must be more than zero"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod erasure_tests;
#[cfg(test)]
mod plain_tests;
#[cfg(all(test, unix))]
mod site_tests;
#[cfg(test)]
mod tests;
