//! veil-redact: Veil's inzage pipelines.
//!
//! A person filmed by a camera may ask for a copy of the footage of themselves; the copy must
//! not harm the privacy of anyone else in view. Two passes over a time window:
//!
//! - [`analyze`] decodes the window, detects persons (NanoDet) and faces (CenterFace), tracks
//!   them (veil-track) and writes a tracks file plus an optional contact sheet PNG with one
//!   numbered thumbnail per track, so an operator can point at the requester.
//! - [`export`] decodes the window again and, on every frame, applies the camera's zones,
//!   redacts every tracked person and face except the requester's, keeps the requester
//!   visible, encodes H.264 and writes a manifest. Without a tracks file it runs the analysis
//!   itself first (one-shot).
//!
//! Privacy fails closed: any decoder, detector, tracker or encoder error aborts the export
//! and leaves no output file (outputs are written to a temporary file and renamed when
//! complete). The layer priority per frame is described in [`layers`].
//!
//! ```no_run
//! use veil_redact::{export, ExportOptions, Requester};
//! # fn main() -> Result<(), veil_redact::RedactError> {
//! let mut opts = ExportOptions::new("recording.mp4", "inzage.mp4");
//! opts.from = Some(12.0);
//! opts.to = Some(20.0);
//! opts.requester = Requester::At { time: 13.0, x: 640.0, y: 360.0 };
//! let report = export(&opts)?;
//! println!("{} frames, manifest {}", report.manifest.counts.frames, report.manifest_path.display());
//! # Ok(()) }
//! ```

pub mod disclose;
mod error;
mod export_audit;
mod footage;
pub mod layers;
pub mod manifest;
mod outputs;
mod owned;
mod pipeline;
pub mod preview;
mod select;
mod sheet;
pub mod sign;
pub mod verify;
mod withheld;

use std::path::PathBuf;
use std::sync::Arc;

pub use disclose::{disclose, DiscloseOptions, DiscloseReport, DisclosureManifest};
pub use error::RedactError;
pub use export_audit::ExportAudit;
/// The image crate, whose `RgbImage` the [`preview`] functions return.
pub use image;
pub use layers::{apply_layers, bucket, frame_layers, FrameLayers, Keeps, LayerPlan, Padding, Style};
pub use manifest::{
    sha256_file, FileHash, Manifest, ManifestCounts, ManifestSettings, ModelRecord, OnlyRequester,
    OperatorTracklet, Stretch,
};
pub use outputs::{fault, refuse_existing, rename_no_replace, same_destination};
pub use pipeline::{analyze, export};
pub use select::{frame_number, resolve_identity, resolve_requester, KeepSet, Requester, Withheld};
#[doc(hidden)]
pub use sheet::review::ReviewPlace;
pub use veil_detect::{Device, InputSize};
pub use veil_track::{PointCandidate, TrackletId};
pub use veil_track::{TrackerConfig, Tracks};
pub use veil_video::{EncodeOptions, VideoError};
pub use verify::{verify, verify_audit_link, Verified, VerifyError};

/// Detector settings of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectOptions {
    /// CenterFace score threshold (`None`: the detector's default, 0.2, tuned for recall).
    pub face_threshold: Option<f32>,
    /// NanoDet person score threshold (`None`: the detector's default, 0.3).
    pub person_threshold: Option<f32>,
    /// CenterFace network input size of the whole-frame run (default: long side 640).
    pub face_input: InputSize,
    /// Smallest face height, in frame pixels, the analysis guarantees to search for
    /// (default [`veil_detect::DEFAULT_MIN_FACE`], 24 px; at least
    /// [`veil_detect::MIN_MIN_FACE`]). Faces smaller than the whole-frame input can see are
    /// searched at a finer scale where they can be (see [`veil_detect::FaceSearch`]); the
    /// manifest records the value.
    pub min_face: u32,
    /// Smallest person height, in frame pixels, the analysis searches for in every frame
    /// (default [`veil_detect::DEFAULT_MIN_PERSON`], 80 px: people whose faces are too small
    /// to detect are still covered by a body box), in the same way as `min_face`.
    pub min_person: u32,
    /// Run the detectors (and the tracker) on every n-th frame only; the frames between are
    /// covered by the tracker's interpolation and the temporal padding, which must be at
    /// least n - 1 frames ([`Padding::frames`], [`TrackerConfig::pad_frames`] for
    /// [`analyze`]). The last frame of the window is always detected. Default 1 (every
    /// frame): skipping frames trades privacy margin (a face that appears and turns away
    /// between two detections) for speed.
    pub every: u32,
    /// Of the frames detected, run the person detector on every n-th frame only (1 = every frame; the tracker
    /// interpolates between). Faces are detected on every frame regardless. Default 1.
    pub person_every: u32,
    /// Activity gating, in seconds: `Some(s)` leaves a frame unsearched only when it shows
    /// the same scene (within sensor noise and slow light changes) as the last frame searched
    /// in full with nobody found and no track alive, and runs a full search at least every
    /// `s` seconds whatever is skipped; the first frame, every frame that changed and every
    /// frame while a track lives (coasting included) are searched. `None`: every frame the
    /// detectors are due on is searched. Default `Some(1.0)`; recorded in the tracks file
    /// and the manifest.
    pub full_search_every: Option<f64>,
    /// Of the frames searched one after another, search the `n` after each full face search
    /// for faces only where the picture changed since the frame before, carrying the faces
    /// where it did not from that frame's result (see
    /// [`veil_detect::Search::set_changes_only`]; default [`veil_detect::CHANGES_ONLY`], a
    /// full face search every third frame); 0 searches every frame in full. Persons are
    /// always searched in full. An object that such a search sees cut is found at most `n` frames
    /// later, so the temporal padding must be at least `n` frames. Recorded in the tracks
    /// file and the manifest.
    pub changes_only: u32,
    /// ONNX Runtime intra-op threads of each detector. The two detectors run in separate
    /// pipeline stages at the same time, so the default is half the cores (at least 1).
    pub threads: usize,
    /// Models directory (`None`: `VEIL_MODELS_DIR`, else found at run time, see
    /// [`veil_detect::find_models_dir`]).
    pub models_dir: Option<PathBuf>,
    /// Where both detectors' networks run (default [`Device::Cpu`]). A GPU named here that
    /// the loaded ONNX Runtime cannot use fails the analysis before it starts
    /// ([`veil_detect::DetectError::DeviceUnavailable`]); [`Device::Auto`] falls back to the
    /// CPU. The device used is recorded per model in the tracks file and the manifest.
    pub device: Device,
    /// Fault injection for Veil's own fail-closed tests; always `None` in real use.
    #[doc(hidden)]
    pub fault: Option<InjectedFault>,
}

/// Fault injection for Veil's own tests: make a detection stage of the analysis fail on one
/// frame, as a failing model would, to check that the export then aborts and leaves nothing.
/// Not part of the API: hidden from the documentation, not settable from any file or
/// command-line option (only Rust code that names it can), and free to change.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InjectedFault {
    /// The face stage returns an inference error on the window's n-th frame (from 0).
    FaceStage(u64),
    /// The person stage returns an inference error on the window's n-th frame (from 0).
    PersonStage(u64),
}

impl Default for DetectOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        DetectOptions {
            face_threshold: None,
            person_threshold: None,
            face_input: InputSize::default(),
            min_face: veil_detect::DEFAULT_MIN_FACE,
            min_person: veil_detect::DEFAULT_MIN_PERSON,
            every: 1,
            person_every: 1,
            full_search_every: Some(1.0),
            changes_only: veil_detect::CHANGES_ONLY,
            threads: (cores / 2).max(1),
            models_dir: None,
            device: Device::Cpu,
            fault: None,
        }
    }
}

/// Which pass a [`Progress`] report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pass {
    /// Pass 1: detection and tracking.
    Analysis,
    /// Pass 2: redaction and encoding.
    Export,
}

/// A progress callback, called from a pipeline thread after every frame with the pass, the
/// frames done and the frames expected (when the container says). Keep it cheap.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(Pass, u64, Option<u64>) + Send + Sync>);

impl Progress {
    /// Wrap a closure.
    pub fn new(f: impl Fn(Pass, u64, Option<u64>) + Send + Sync + 'static) -> Self {
        Progress(Arc::new(f))
    }
    pub(crate) fn report(p: &Option<Progress>, pass: Pass, done: u64, total: Option<u64>) {
        if let Some(p) = p {
            (p.0)(pass, done, total);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl PartialEq for Progress {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Busy time of each pipeline stage in seconds, for profiling. Stages run at the same time on
/// separate threads, so on several cores they add up to more than the wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageTimes {
    /// Decoding (both passes).
    pub decode: f64,
    /// Face detection (CenterFace, including preprocessing).
    pub faces: f64,
    /// Person detection (NanoDet, including preprocessing).
    pub persons: f64,
    /// Tracking and thumbnails.
    pub track: f64,
    /// Zones and layers: rasterising and redacting.
    pub redact: f64,
    /// Encoding and muxing.
    pub encode: f64,
}

/// What [`analyze`] does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalyzeOptions {
    /// Input recording.
    pub input: PathBuf,
    /// The secret key file (age X25519, private to its owner) that opens an encrypted input:
    /// a recorder segment (`.mp4.age`, through its data key sealed in the camera directory)
    /// or a file encrypted to the key. It is decrypted in memory, never to disk. `None`: an
    /// encrypted input is refused ([`RedactError::Footage`]).
    pub key: Option<PathBuf>,
    /// Window start in seconds from the start of the input (`None`: the start).
    pub from: Option<f64>,
    /// Window end in seconds, exclusive (`None`: the end).
    pub to: Option<f64>,
    /// Where the tracks file (veil-track JSON) is written: staged beside it and published at
    /// the end with a no-replace rename (an existing file is refused, see `overwrite`).
    pub tracks_out: PathBuf,
    /// Where the contact sheet PNG is written, as the tracks file, if wanted (refused when it
    /// names the input, the tracks file or the zone file).
    pub contact_sheet: Option<PathBuf>,
    /// The camera's zone file (TOML): its zones are masked in the contact sheet as in an
    /// export (the detectors still see the whole frame).
    pub zones: Option<PathBuf>,
    /// Detector settings.
    pub detect: DetectOptions,
    /// Tracker settings.
    pub tracker: TrackerConfig,
    /// Called after every analysed frame.
    pub progress: Option<Progress>,
    /// Replace an existing tracks file and contact sheet. Off by default: an existing one
    /// refuses the analysis before the work ([`RedactError::OutputExists`]), and publishing
    /// never replaces a file that appeared meanwhile (a no-replace rename).
    pub overwrite: bool,
}

impl AnalyzeOptions {
    /// Analyse all of `input` into `tracks_out`, default settings, no contact sheet.
    pub fn new(input: impl Into<PathBuf>, tracks_out: impl Into<PathBuf>) -> Self {
        AnalyzeOptions {
            input: input.into(),
            tracks_out: tracks_out.into(),
            ..Default::default()
        }
    }
}

/// What [`analyze`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeReport {
    /// The tracks (also written to the tracks file).
    pub tracks: Tracks,
    /// The tracks file written.
    pub tracks_path: PathBuf,
    /// The contact sheet written, if asked.
    pub contact_sheet: Option<PathBuf>,
    /// Every page of the contact sheet, the first being `contact_sheet` (a long window's
    /// tracks take several, see `sheet::PAGE_ROWS`; empty when none was asked).
    pub contact_sheet_pages: Vec<PathBuf>,
    /// Frames analysed.
    pub frames: u64,
    /// Of them, frames the activity gate left unsearched (the empty background, see
    /// [`DetectOptions::full_search_every`]).
    pub frames_skipped: u64,
    /// First and last frame number analysed (see [`frame_number`]).
    pub frame_range: [u64; 2],
    /// Time of the first and last analysed frame, seconds from the start of the input.
    pub time_span: [f64; 2],
    /// Person tracks.
    pub person_tracks: usize,
    /// Face tracks (faces not attached to a person).
    pub face_tracks: usize,
    /// The models that ran.
    pub models: Vec<ModelRecord>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Busy time per stage.
    pub stages: StageTimes,
}

/// What [`export`] does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportOptions {
    /// Input recording.
    pub input: PathBuf,
    /// The secret key file that opens an encrypted input (as [`AnalyzeOptions::key`]). The
    /// manifest's input hash is then the decrypted stream's, and it records the encrypted
    /// file's hash too ([`manifest::FileHash::decrypted_from`]).
    pub key: Option<PathBuf>,
    /// Deliver the output video encrypted (age) to these public key files (`age1...`, as
    /// `redact keys generate --encryption` writes them): written in memory, encrypted into its
    /// staging file, then logged and published as usual. The manifest stays plain (hashes and
    /// settings, no picture), records the recipients, and its output hash is of the decrypted
    /// copy. Empty: the video is written in the clear.
    pub encrypt_to: Vec<PathBuf>,
    /// Output video (H.264 MP4), written atomically. Must not exist unless
    /// [`ExportOptions::overwrite`].
    pub output: PathBuf,
    /// Manifest path (`None`: beside the output, `<output>.manifest.json`).
    pub manifest: Option<PathBuf>,
    /// Window start in seconds from the start of the input (`None`: the start).
    pub from: Option<f64>,
    /// Window end in seconds, exclusive (`None`: the end).
    pub to: Option<f64>,
    /// Tracks file from [`analyze`] (`None`: run the analysis over the window first). Its
    /// analysed frame range must cover the export window (frames outside it have no tracks,
    /// so the export is refused with [`RedactError::TracksCoverage`]), and when it records the
    /// SHA-256 of its input, that must be this input's ([`RedactError::TracksMismatch`]).
    pub tracks: Option<PathBuf>,
    /// One-shot only: also save the analysis' tracks here.
    pub tracks_out: Option<PathBuf>,
    /// Where to write the review strip PNG (the kept identity along the window, one view a
    /// second and one at every identity event, withheld stretches marked), if wanted. Its
    /// cells are cut from the redacted frames (zones and bystanders as in the export); a
    /// withheld candidate is shown clear only inside its own boxes and nobody else's, and not
    /// while it is together with another person. Written atomically, and removed again if the
    /// export fails or is withdrawn. A path that names the input, or another file the export
    /// reads or writes, is refused ([`RedactError::InvalidOption`]) before any work.
    pub review: Option<PathBuf>,
    /// Who is kept visible.
    pub requester: Requester,
    /// Tracklets added to the requester by the operator after review (e.g. `3.2`, shown
    /// as withheld in an earlier manifest or review strip), with everything confidently
    /// linked to them. They need [`ExportOptions::tracks`], the file their ids come from (a
    /// one-shot export analyses again, and its numbering can differ), else the export is
    /// refused with [`RedactError::InvalidOption`]. An event tracklet, or one that coexists
    /// in time with a kept tracklet of another person, is refused
    /// ([`RedactError::TrackletRefused`]). The manifest lists them apart
    /// ([`Manifest::operator_tracklets`]) with [`ExportOptions::actor`], and so does the
    /// audit entry.
    pub keep_tracklets: Vec<TrackletId>,
    /// Who makes the export (the operator), recorded with the tracklets they added
    /// (`None`: the audit entry's actor when [`ExportOptions::audit`] is set, else recorded
    /// as unknown). When both are set they must be the same.
    pub actor: Option<String>,
    /// The camera's zone file (TOML), applied to every frame before anything else.
    pub zones: Option<PathBuf>,
    /// Redaction style of bystanders.
    pub style: Style,
    /// Box padding in space and time.
    pub padding: Padding,
    /// Spotlight mode: redact everything outside the requester's (padded) boxes, so that a
    /// person the detector never saw cannot leak. Bystander faces are still redacted on top.
    pub spotlight: bool,
    /// Encoder settings.
    pub encode: EncodeOptions,
    /// Detector settings (one-shot).
    pub detect: DetectOptions,
    /// Tracker settings (one-shot).
    pub tracker: TrackerConfig,
    /// Called after every analysed frame (one-shot) and every exported frame.
    pub progress: Option<Progress>,
    /// Log the export in this audit log: checked before the work, appended once every
    /// output is written and before any is published; if the log refuses, nothing is
    /// published (see [`ExportAudit`]).
    pub audit: Option<ExportAudit>,
    /// Set when `input` is the joined stream of a camera's recordings
    /// ([`veil_record::Recordings::open`]; `from` and `to` its seconds): the manifest records
    /// the segments used, the holes and the wall-clock window delivered, and the audit entry
    /// its wall-clock window.
    pub recordings: Option<veil_record::RecordingsRecord>,
    /// Deliver only where the requester is (`--only-requester`): `Some(margin)` keeps just the
    /// stretches in which a kept tracklet (or a face of the requester followed beyond them) has
    /// a box, each widened by `margin` seconds on both sides (clamped to the window), stretches
    /// that overlap or touch merged. Frames outside are redacted as usual for the review strip
    /// (where they are marked as not delivered) but not encoded. The copy's timestamps are
    /// continuous (the stretches follow each other without a gap, so it plays in any player),
    /// and audio is dropped (the manifest's `settings.audio` is then `false`). The manifest
    /// lists the stretches ([`manifest::OnlyRequester`]). Refused with
    /// [`RedactError::InvalidOption`] when nobody is kept, as there is nothing to deliver:
    /// [`Requester::None`] before any work, no kept tracklet once the requester is resolved. `None`: the
    /// whole window, as without it. The margin must be finite and not negative.
    pub only_requester: Option<f64>,
    /// Replace existing files at the destinations (the output, manifest, review strip and
    /// tracks output). Off by default: an existing destination refuses the export before
    /// the work ([`RedactError::OutputExists`]), and publishing never replaces a file that
    /// appeared meanwhile (a no-replace rename). Either way a failed export removes only
    /// files it created.
    pub overwrite: bool,
}

impl ExportOptions {
    /// Export all of `input` to `output` with default settings, redacting everyone
    /// ([`Requester::None`]) until a requester is set.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        ExportOptions {
            input: input.into(),
            output: output.into(),
            ..Default::default()
        }
    }

    /// The manifest path: [`ExportOptions::manifest`] or `<output>.manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.manifest.clone().unwrap_or_else(|| {
            let mut s = self.output.clone().into_os_string();
            s.push(".manifest.json");
            PathBuf::from(s)
        })
    }
}

/// What [`export`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// The output video.
    pub output: PathBuf,
    /// The manifest written beside it.
    pub manifest_path: PathBuf,
    /// The manifest's contents.
    pub manifest: Manifest,
    /// Wall-clock seconds of the analysis (0 with a tracks file).
    pub analysis_seconds: f64,
    /// Wall-clock seconds of the redaction pass (decode, redact, encode).
    pub export_seconds: f64,
    /// Busy time per stage, both passes.
    pub stages: StageTimes,
    /// Where each picture of the review strip came from (empty without one): for Veil's own
    /// tests, not part of the API.
    #[doc(hidden)]
    pub review_cells: Vec<ReviewPlace>,
}

/// `[from, to)` for messages.
pub(crate) fn fmt_window(from: Option<f64>, to: Option<f64>) -> String {
    let f = from.map_or("start".to_owned(), |v| format!("{v} s"));
    let t = to.map_or("end".to_owned(), |v| format!("{v} s"));
    format!("[{f}, {t})")
}

pub(crate) use veil_core::fsutil::same_file;

#[cfg(test)]
mod tests;
