//! The export manifest: what was exported, from what, how, and what was redacted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Padding, RedactError, Requester, Style};

/// Version of the manifest JSON schema. Members added since (`requester_tracklets`,
/// `withheld`, `operator_tracklets`, `settings.policy`, ...) are optional: a manifest
/// without them (an older Veil's) reads as empty there, and a verifier needs only
/// `output.sha256` ([`crate::verify()`]), so the version changes only when a member changes
/// meaning or goes away.
pub const MANIFEST_VERSION: u32 = 1;

/// A file and its SHA-256 (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// The path as given (a name that is not UTF-8, possible on Unix, is recorded with
    /// U+FFFD in place of the undecodable bytes: JSON holds text; the hash identifies the file).
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// SHA-256 of the contents, lowercase hex. For an encrypted input or a copy delivered
    /// encrypted, the SHA-256 of the plaintext stream (what was read, what a decrypted copy
    /// hashes to): the fields below say so.
    pub sha256: String,
    /// The input was encrypted footage, decrypted in memory: `sha256` is the decrypted
    /// stream's, and this names the encrypted file as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypted_from: Option<EncryptedFile>,
    /// The file was delivered encrypted to these age public keys (`--encrypt-to`): `sha256` is
    /// of the decrypted copy (decrypt it, e.g. `age -d -i KEY`, before checking the hash).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypted_to: Vec<String>,
}

/// An encrypted input as stored (see [`FileHash::decrypted_from`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedFile {
    /// SHA-256 of the encrypted file's bytes, lowercase hex.
    pub sha256: String,
    /// The sealed data key that opened a recorder segment (`None`: the file is encrypted to
    /// the key given itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<PathBuf>,
}

fn lossy_path<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// A model that ran in the analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model name in the manifest of models (`centerface`, `nanodet`).
    pub name: String,
    /// Model file name.
    pub file: String,
    /// SHA-256 verified when it was loaded.
    pub sha256: String,
    /// The device its network ran on (`cpu`, `cuda`, `tensorrt`; `None`: not recorded, as in
    /// manifests and tracks files written before Veil could run on a GPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The per-frame redaction policy recorded in every manifest (see [`crate::layers`]).
pub const LAYER_POLICY: &str = "per frame, lowest priority first: (spotlight: the whole frame redacted) < \
requester body (kept) < bystander bodies (redacted, also where they overlap the requester) < \
requester face (kept) < bystander faces (redacted, also over the requester's face) < zones; \
the requester is kept only on tracklets confidently linked to the selected one";

/// Settings that shaped the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestSettings {
    /// The per-frame redaction policy, in words ([`LAYER_POLICY`]; empty in manifests written
    /// before it was recorded).
    #[serde(default)]
    pub policy: String,
    /// Redaction style of bystanders.
    pub style: Style,
    /// Whether blur/pixelate/solid leaves nothing recoverable (see [`Style::is_irreversible`]).
    pub irreversible: bool,
    /// Spotlight mode: everything but the requester redacted.
    pub spotlight: bool,
    /// Box padding.
    pub padding: Padding,
    /// The camera's zone file, when zones were applied.
    pub zones: Option<FileHash>,
    /// x264 CRF.
    pub crf: u8,
    /// x264 preset.
    pub preset: String,
    /// Whether audio was copied.
    pub audio: bool,
    /// Smallest face height, in frame pixels, the analysis searched for in every frame
    /// (`None`: a tracks file that does not record it, made by an older Veil).
    #[serde(default)]
    pub min_face: Option<u32>,
    /// Smallest person height, in frame pixels, the analysis searched for in every frame
    /// (`None` as for `min_face`).
    #[serde(default)]
    pub min_person: Option<u32>,
    /// Score threshold of the face detector in the analysis (a higher one can leave faces
    /// unredacted; `None`: a tracks file that does not record it, made by an older Veil).
    #[serde(default)]
    pub face_threshold: Option<f32>,
    /// Score threshold of the person detector in the analysis (`None` as for
    /// `face_threshold`).
    #[serde(default)]
    pub person_threshold: Option<f32>,
    /// The analysis detected on every `every`-th frame (and the window's last); the frames
    /// between have interpolated and padded boxes only (`None` as for `face_threshold`; an
    /// export refuses such a tracks file, so only manifests of older Veils lack it).
    #[serde(default)]
    pub every: Option<u32>,
    /// Of the frames detected, persons were detected on every `person_every`-th (`None` as
    /// for `face_threshold`).
    #[serde(default)]
    pub person_every: Option<u32>,
    /// The analysis's activity gate: a full search at least every this many seconds, frames
    /// between left unsearched only where they showed the empty background (`None`: every
    /// frame due was searched, or an older Veil).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_search_every: Option<f64>,
    /// Frames searched for faces only where they changed after each full face search (`None` as for
    /// `face_threshold`; see [`crate::DetectOptions::changes_only`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_only: Option<u32>,
}

/// Counts of what was processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManifestCounts {
    /// Frames exported.
    pub frames: u64,
    /// Tracks in the analysis.
    pub tracks: u64,
    /// Tracks with at least one redacted box in the export.
    pub tracks_redacted: u64,
    /// Redacted boxes summed over frames (bodies and faces).
    pub boxes_redacted: u64,
    /// Kept requester boxes summed over frames.
    pub boxes_kept: u64,
}

/// A tracklet the operator added to the requester (see [`Manifest::operator_tracklets`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTracklet {
    /// The tracklet (`track.index`, numbering of the tracks file).
    pub tracklet: crate::TrackletId,
    /// The operator (`--actor`, the audit entry's actor); `null` when the export named none.
    pub added_by: Option<String>,
}

/// The manifest written beside an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// Veil version that made the export.
    pub veil_version: String,
    /// Time of export, UTC, RFC 3339.
    pub exported_at: String,
    /// The input recording.
    pub input: FileHash,
    /// The exported video.
    pub output: FileHash,
    /// Requested window start in seconds (`None`: start of the input).
    pub from: Option<f64>,
    /// Requested window end in seconds (`None`: end of the input).
    pub to: Option<f64>,
    /// Time of the first and last exported frame, seconds from the start of the input.
    pub frames_span: [f64; 2],
    /// How the requester was chosen.
    pub requester: Requester,
    /// The requester's track ids (kept visible on their kept tracklets).
    pub requester_tracks: Vec<u64>,
    /// The requester's tracklets kept visible (`track.index`): the one selected, those the
    /// operator added (listed again in `operator_tracklets`), and those confidently linked to
    /// them.
    #[serde(default)]
    pub requester_tracklets: Vec<crate::TrackletId>,
    /// The tracklets the operator added to the requester after review (`--add-tracklet`, or
    /// `N.K` in `--keep-track`), each with who added it: kept on a person's word, not on
    /// Veil's evidence. Empty in manifests written before it was recorded.
    #[serde(default)]
    pub operator_tracklets: Vec<OperatorTracklet>,
    /// Stretches where the requester may be but was redacted because the identity there is
    /// uncertain, with the reason.
    #[serde(default)]
    pub withheld: Vec<crate::Withheld>,
    /// Ids of the tracks redacted in the export.
    pub redacted_tracks: Vec<u64>,
    /// The tracks file used, if the export did not run its own analysis.
    pub tracks_file: Option<FileHash>,
    /// Models that ran in the analysis, with their verified hashes: the one-shot analysis's,
    /// or those the tracks file records (empty for a tracks file that records none, made by
    /// an older Veil).
    pub models: Vec<ModelRecord>,
    /// The Veil version that ran the analysis (the one-shot export's own, or the one that
    /// wrote the tracks file; `None`: a tracks file that does not record it). `veil_version`
    /// is the one that made the export.
    #[serde(default)]
    pub analysis_veil_version: Option<String>,
    /// Settings.
    pub settings: ManifestSettings,
    /// Counts.
    pub counts: ManifestCounts,
    /// When the input is a camera's recordings read as one stream: the window asked and
    /// delivered (wall clock), each segment used (file, SHA-256, index line, the part of the
    /// export it gave) and every hole in the window. `frames_span`, `from` and `to` are then
    /// seconds of the joined stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<veil_record::RecordingsRecord>,
    /// Set when only the stretches where the requester is in view were delivered
    /// (`--only-requester`): the margin and every stretch delivered. `frames_span` is then
    /// the first frame of the first stretch to the last of the last; `counts.frames` the
    /// frames delivered. Absent from manifests of whole-window exports and older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_requester: Option<OnlyRequester>,
}

/// What an `--only-requester` export delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlyRequester {
    /// Seconds added before and after each stretch in which the requester is in view.
    pub margin: f64,
    /// The copy's timestamps: `"continuous"`, the stretches follow each other with no gap.
    pub timestamps: String,
    /// The stretches delivered, in order.
    pub stretches: Vec<Stretch>,
    /// Seconds of the window left out (between, before and after the stretches).
    pub withheld_seconds: f64,
}

/// One delivered stretch of an `--only-requester` export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    /// First and last frame delivered (frame numbers of the input, as in the tracks).
    pub frames: [u64; 2],
    /// Frames delivered.
    pub frame_count: u64,
    /// Its window in seconds of the input stream: the first frame's time to the end of the
    /// last frame.
    pub stream: [f64; 2],
    /// Where it is in the copy, in seconds of the copy.
    pub output: [f64; 2],
    /// Its window in wall-clock time, when the input is a camera's recordings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<veil_record::WallWindow>,
}

/// SHA-256 of a file's contents, lowercase hex.
///
/// # Errors
/// [`RedactError::Io`] if the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String, RedactError> {
    veil_core::hash::sha256_file(path)
        .map(|(hex, _)| hex)
        .map_err(|e| RedactError::io(path, "cannot read for hashing", e))
}

/// Hash a file into a [`FileHash`].
pub(crate) fn file_hash(path: &Path) -> Result<FileHash, RedactError> {
    Ok(FileHash {
        path: path.to_path_buf(),
        sha256: sha256_file(path)?,
        decrypted_from: None,
        encrypted_to: Vec::new(),
    })
}

/// The SHA-256 of an input for its tracks file: `None` for a URL (a stream has no file to
/// hash). A path that exists is always hashed, whatever its name.
pub(crate) fn input_sha256(input: &Path) -> Result<Option<String>, RedactError> {
    let url = !input.exists() && input.to_str().is_some_and(|s| s.contains("://"));
    if url {
        Ok(None)
    } else {
        sha256_file(input).map(Some)
    }
}

/// Write `bytes` to `path` atomically ([`veil_core::fsutil::write_atomic`]).
///
/// # Errors
/// [`RedactError::Io`]; no temporary file is left and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RedactError> {
    veil_core::fsutil::write_atomic(path, bytes).map_err(|e| RedactError::io(path, "cannot write", e))
}

impl Manifest {
    /// Write the manifest as pretty JSON, atomically.
    ///
    /// # Errors
    /// [`RedactError::Io`] if writing fails.
    pub fn save(&self, path: &Path) -> Result<(), RedactError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| RedactError::Internal(e.to_string()))?;
        json.push(b'\n');
        write_atomic(path, &json)
    }

    /// Read a manifest.
    ///
    /// # Errors
    /// [`RedactError::Io`] if it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Manifest, RedactError> {
        let text = std::fs::read(path).map_err(|e| RedactError::io(path, "cannot read manifest", e))?;
        let invalid = |msg: String| {
            RedactError::io(
                path,
                "not a manifest",
                std::io::Error::new(std::io::ErrorKind::InvalidData, msg),
            )
        };
        let m: Manifest = serde_json::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
        // serde_json reads a number beyond f32's range as infinity; such a manifest could not
        // be written back, so it is refused here.
        let mut floats = vec![m.frames_span[0], m.frames_span[1]];
        floats.extend(m.from.iter().chain(m.to.iter()).copied());
        let p = &m.settings.padding;
        floats.extend([p.face, p.body, p.requester].map(f64::from));
        let st = &m.settings;
        floats.extend(
            st.face_threshold
                .iter()
                .chain(&st.person_threshold)
                .map(|&t| f64::from(t)),
        );
        if let Requester::At { time, x, y } = m.requester {
            floats.extend([time, f64::from(x), f64::from(y)]);
        }
        if floats.iter().any(|v| !v.is_finite()) {
            return Err(invalid("a number is out of range (not finite)".to_string()));
        }
        Ok(m)
    }
}

/// `secs` (seconds since the Unix epoch) as UTC RFC 3339 with seconds (past the year 9999:
/// its last second), e.g.
/// `2026-11-26T17:30:00Z`.
pub fn rfc3339_utc(secs: u64) -> String {
    // veil-audit's `Timestamp` (the `time` crate) is the one RFC 3339 formatter of Veil.
    i64::try_from(secs)
        .ok()
        .and_then(veil_audit::Timestamp::from_unix_seconds)
        .map_or_else(|| "9999-12-31T23:59:59Z".to_owned(), |t| t.to_string())
}

/// Now as UTC RFC 3339.
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339_utc(secs)
}
