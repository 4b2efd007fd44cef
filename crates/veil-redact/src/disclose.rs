//! Disclosure to police and justice: an exact copy of a window, on a legal order or the
//! operator's own report of a crime, logged before it is released, with a manifest that a
//! recipient can check ([`crate::verify()`]).
//!
//! [`disclose`] does, in this order:
//!
//! 1. checks everything that could refuse the disclosure before any work: the basis must be
//!    `police-order` or `own-report` (an `inzage` copy goes through [`crate::export`], which
//!    redacts bystanders), the audit entry must be valid, the output and manifest must not
//!    exist (evidence is never overwritten), the signing key must load;
//! 2. copies the window packet for packet ([`veil_video::copy_window`]; the cut starts at
//!    the keyframe at or before `from`), or re-encodes it losslessly when a copy is
//!    impossible, into a hidden staging file beside the output;
//! 3. hashes input and output and builds the [`DisclosureManifest`];
//! 4. appends a `disclose` entry to the audit log, carrying the manifest's SHA-256 (of the
//!    manifest with `"audit": null`, see [`DisclosureManifest::entry_digest`]). If that
//!    fails, the staged copy is removed and nothing is released;
//! 5. writes the manifest with the entry's sequence number and hash (which chain the two
//!    together), signs it if a key was given, and only then moves the copy into place.

use std::path::{Path, PathBuf};

use crate::footage::Sealer;
use crate::outputs::{fault, Staging};
use serde::{Deserialize, Serialize};
use veil_audit::{Action, AuditLog, BasisKind, Entry, LegalBasis, NewEntry, Timestamp, Window};
use veil_video::{copy_or_reencode_lossless, CopyMethod, CopyOptions};

use crate::manifest::{file_hash, write_atomic, FileHash};
use crate::sign::{signature_path, SecretKey};
use crate::RedactError;

/// Version of the disclosure manifest schema.
pub const DISCLOSURE_MANIFEST_VERSION: u32 = 1;

/// Recipient recorded when none is given.
pub const DEFAULT_RECIPIENT: &str = "police or justice";

/// What [`disclose`] does.
#[derive(Debug, Clone)]
pub struct DiscloseOptions {
    /// The recording.
    pub input: PathBuf,
    /// The secret key file that opens an encrypted recording (a recorder segment
    /// `.mp4.age`, or a file encrypted to the key). It is decrypted in memory, never to disk;
    /// the copy is then bit-exact to the decrypted stream, and the manifest's input hash is the
    /// decrypted stream's, with the encrypted file's beside it
    /// ([`FileHash::decrypted_from`](crate::manifest::FileHash::decrypted_from)).
    pub key: Option<PathBuf>,
    /// Deliver the copy encrypted (age) to these public key files: written in memory,
    /// encrypted into its staging file before it is logged, published as usual. The
    /// manifest (and signature) stay plain: they hold hashes, times and names, no picture, and
    /// the recipient checks the decrypted copy against them. Empty: the copy is in the clear.
    pub encrypt_to: Vec<PathBuf>,
    /// The copy to hand over; its extension chooses the container (`.mp4`, `.mkv`). Must not
    /// exist.
    pub output: PathBuf,
    /// Manifest path (`None`: `OUTPUT.manifest.json`). Must not exist.
    pub manifest: Option<PathBuf>,
    /// Start of the window, seconds from the start of the recording (`None`: its start).
    pub from: Option<f64>,
    /// End of the window, seconds, inclusive (`None`: the end of the recording).
    pub to: Option<f64>,
    /// The legal basis: `police-order:REF` or `own-report:REF`.
    pub basis: LegalBasis,
    /// The audit log the disclosure is written to before the copy is released.
    pub audit_log: PathBuf,
    /// Who discloses.
    pub actor: String,
    /// Why (free text, e.g. the order's description).
    pub reason: String,
    /// Wall-clock time at which the recording starts: the audit entry and manifest name the
    /// footage by its real time window.
    pub recording_start: Timestamp,
    /// Camera id.
    pub camera: String,
    /// Who receives the copy (`None`: [`DEFAULT_RECIPIENT`]).
    pub recipient: Option<String>,
    /// Copy the audio too. Off by default: audio can carry bystanders' voices.
    pub keep_audio: bool,
    /// Sign the manifest with this Ed25519 secret key (PKCS#8 PEM, see [`crate::sign`]).
    pub sign_key: Option<PathBuf>,
    /// Set when `input` is the joined stream of a camera's recordings
    /// ([`veil_record::Recordings::open`]; `from` and `to` its seconds, `recording_start`
    /// its first segment's start): the manifest maps each part of the copy to its segment,
    /// lists the holes, and names the wall-clock window delivered, which the audit entry
    /// records too.
    pub recordings: Option<veil_record::RecordingsRecord>,
}

impl DiscloseOptions {
    /// Options with the required fields; the window is the whole recording, no audio, no
    /// signature, the default recipient.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        basis: LegalBasis,
        audit_log: impl Into<PathBuf>,
        actor: impl Into<String>,
        reason: impl Into<String>,
        recording_start: Timestamp,
        camera: impl Into<String>,
    ) -> Self {
        DiscloseOptions {
            input: input.into(),
            key: None,
            encrypt_to: Vec::new(),
            output: output.into(),
            manifest: None,
            from: None,
            to: None,
            basis,
            audit_log: audit_log.into(),
            actor: actor.into(),
            reason: reason.into(),
            recording_start,
            camera: camera.into(),
            recipient: None,
            keep_audio: false,
            sign_key: None,
            recordings: None,
        }
    }

    /// The manifest path: [`DiscloseOptions::manifest`] or `OUTPUT.manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.manifest.clone().unwrap_or_else(|| {
            let mut s = self.output.as_os_str().to_owned();
            s.push(".manifest.json");
            PathBuf::from(s)
        })
    }
}

/// A time window in seconds from the start of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecondsWindow {
    /// Start (`None`: the start of the recording).
    pub from: Option<f64>,
    /// End (`None`: the end of the recording).
    pub to: Option<f64>,
}

/// The window delivered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeliveredWindow {
    /// Presentation time of the first frame, seconds from the start of the recording.
    pub from: f64,
    /// End of the last frame (its time plus its duration), seconds.
    pub to: f64,
    /// The same window in wall-clock time (whole seconds, widened outwards).
    pub wall_clock: Window,
}

/// How the window was copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DeliveryMethod {
    /// The recorded packets, bit for bit.
    StreamCopy,
    /// Decoded and re-encoded losslessly (H.264, QP 0), because a copy was impossible.
    LosslessReencode {
        /// Why a copy was impossible.
        reason: String,
    },
}

/// The signer of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// `ed25519`.
    pub algorithm: String,
    /// Fingerprint of the public key ([`crate::sign::PublicKey::fingerprint`]).
    pub public_key_sha256: String,
    /// Where the detached signature is: the manifest's file name plus `.sig`.
    pub signature_file: String,
}

/// The link from a manifest to its audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLink {
    /// The audit log.
    #[serde(serialize_with = "lossy_path")]
    pub log: PathBuf,
    /// The entry's sequence number.
    pub seq: u64,
    /// The entry's hash (its `hash` member).
    pub hash: String,
    /// The SHA-256 the entry records as `manifest_sha256`: that of this manifest with
    /// `"audit": null` ([`DisclosureManifest::entry_digest`]).
    pub manifest_sha256: String,
}

fn lossy_path<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// The manifest written beside a disclosure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisclosureManifest {
    /// Schema version ([`DISCLOSURE_MANIFEST_VERSION`]).
    pub version: u32,
    /// `disclosure`.
    pub kind: String,
    /// Veil version that made it.
    pub veil_version: String,
    /// When the disclosure was made (UTC, RFC 3339).
    pub disclosed_at: Timestamp,
    /// The recording.
    pub input: FileHash,
    /// The copy.
    pub output: FileHash,
    /// Wall-clock start of the recording.
    pub recording_start: Timestamp,
    /// The window asked for.
    pub requested: SecondsWindow,
    /// The window delivered (from the keyframe at or before `from`).
    pub delivered: DeliveredWindow,
    /// Frames in the copy.
    pub frames: u64,
    /// Stream copy or lossless re-encode.
    pub method: DeliveryMethod,
    /// The recording's video codec (FFmpeg's name).
    pub codec: String,
    /// The copy's video codec.
    pub output_codec: String,
    /// Whether the copy carries audio.
    pub audio: bool,
    /// Camera id.
    pub camera: String,
    /// Legal basis.
    pub basis: LegalBasis,
    /// Who disclosed.
    pub actor: String,
    /// Who receives the copy.
    pub recipient: String,
    /// Why.
    pub reason: String,
    /// The signer, when the manifest is signed.
    pub signer: Option<Signer>,
    /// The audit entry (`None` only in the form hashed for the entry itself).
    pub audit: Option<AuditLink>,
    /// When the recording is a camera's recordings read as one stream: the window asked and
    /// delivered (wall clock), each segment used (file, SHA-256, index line) with the part of
    /// the copy it gave (`output`, seconds of the copy), and every hole in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<veil_record::RecordingsRecord>,
}

impl DisclosureManifest {
    /// The bytes written to the manifest file: pretty JSON and a newline.
    ///
    /// # Errors
    /// [`RedactError::Internal`] if serialisation fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RedactError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| RedactError::Internal(e.to_string()))?;
        json.push(b'\n');
        Ok(json)
    }

    /// The SHA-256 the audit entry records: of [`DisclosureManifest::to_bytes`] with
    /// `audit` set to `None` (written `"audit": null`). The entry cannot hold the hash of the
    /// final manifest, which holds the entry's own hash.
    ///
    /// # Errors
    /// As [`DisclosureManifest::to_bytes`].
    pub fn entry_digest(&self) -> Result<String, RedactError> {
        let mut m = self.clone();
        m.audit = None;
        Ok(veil_audit::sha256_hex(&m.to_bytes()?))
    }

    /// Read a disclosure manifest.
    ///
    /// # Errors
    /// [`RedactError::Io`] if it cannot be read or is not a disclosure manifest.
    pub fn load(path: &Path) -> Result<DisclosureManifest, RedactError> {
        let text = std::fs::read(path).map_err(|e| RedactError::io(path, "cannot read manifest", e))?;
        serde_json::from_slice(&text).map_err(|e| {
            RedactError::io(
                path,
                "not a disclosure manifest",
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            )
        })
    }
}

/// What [`disclose`] produced.
#[derive(Debug, Clone)]
pub struct DiscloseReport {
    /// The copy.
    pub output: PathBuf,
    /// The manifest.
    pub manifest_path: PathBuf,
    /// The detached signature, when signed.
    pub signature_path: Option<PathBuf>,
    /// The manifest as written.
    pub manifest: DisclosureManifest,
    /// The audit entry as appended.
    pub audit_entry: Entry,
}

/// Refuse a basis that does not allow handing footage to police or justice.
fn check_basis(basis: &LegalBasis) -> Result<(), RedactError> {
    if basis.kind.allows_disclosure() {
        return Ok(());
    }
    let reason = if basis.kind == BasisKind::Inzage {
        "an inzage copy is not a disclosure: it goes to the data subject with bystanders \
         redacted, through `redact export` (veil_redact::export)"
            .to_owned()
    } else {
        format!(
            "a {} basis does not allow handing footage to a third party; only a police/justice \
             order (police-order:REF) or the operator's own report of a crime (own-report:REF) does",
            basis.kind
        )
    };
    Err(RedactError::BasisRefused {
        basis: basis.to_string(),
        reason,
    })
}

/// Wall-clock instant `secs` seconds after `start`, rounded down (`up`: up).
fn at(start: Timestamp, secs: f64, up: bool) -> Option<Timestamp> {
    let s = if up { secs.ceil() } else { secs.floor() };
    if !s.is_finite() || s.abs() > 1e12 {
        return None;
    }
    Timestamp::from_unix_seconds(start.unix_seconds().checked_add(s as i64)?)
}

/// Disclose a window of a recording to police or justice: see the [module
/// documentation](self) for the steps.
///
/// # Errors
/// [`RedactError::BasisRefused`] for a basis other than `police-order` / `own-report`
/// (nothing is written, nothing logged); [`RedactError::Audit`] for an invalid entry or a
/// log that cannot be appended to (the copy is withdrawn); [`RedactError::Key`] for a bad
/// signing key; [`RedactError::OutputExists`] when the output, manifest or signature exists
/// (a disclosure never replaces a file); [`RedactError::Io`] when one cannot be written;
/// [`RedactError::Video`] when the window cannot be copied. On any error no output,
/// manifest or signature is left behind.
pub fn disclose(opts: &DiscloseOptions) -> Result<DiscloseReport, RedactError> {
    check_basis(&opts.basis)?;
    let manifest_path = opts.manifest_path();
    let recipient = opts
        .recipient
        .clone()
        .unwrap_or_else(|| DEFAULT_RECIPIENT.to_owned());
    let entry = NewEntry::new(&opts.actor, Action::Disclose, &opts.reason)
        .camera(&opts.camera)
        .recipient(&recipient)
        .basis(opts.basis.clone());
    // Everything but the window and the manifest hash is known now: refuse before any work.
    entry
        .clone()
        .manifest_sha256("0".repeat(64))
        .window(Window::new(opts.recording_start, opts.recording_start)?)
        .validate(&[])?;
    if let (Ok(a), Ok(b)) = (opts.input.canonicalize(), opts.output.canonicalize()) {
        if a == b {
            return Err(RedactError::InvalidOption {
                reason: format!("{}: the output would overwrite the input", opts.output.display()),
            });
        }
    }
    let sig_path = signature_path(&manifest_path);
    // Every file staged out of sight until it is logged; a disclosure never replaces a file
    // (refused now, and again atomically when published).
    let mut staging = Staging::new(false);
    let mut sealer = Sealer::new(crate::footage::load_recipients(&opts.encrypt_to)?);
    let staged = sealer.divert(staging.stage(&opts.output)?)?;
    let staged_manifest = staging.stage(&manifest_path)?;
    let staged_sig = match opts.sign_key {
        Some(_) => Some(staging.stage(&sig_path)?),
        None => None,
    };
    let key = opts.sign_key.as_deref().map(SecretKey::load).transpose()?;
    // Encrypted footage is copied from its plaintext in memory.
    let plain = crate::footage::open_input(&opts.input, opts.key.as_deref())?;

    // Errors name the input as given, not its plaintext in memory.
    let named = |e: RedactError| crate::footage::named_as(e, &plain, opts.recordings.as_ref());
    let copy = copy_or_reencode_lossless(
        plain.path(),
        &staged,
        &CopyOptions {
            from: opts.from,
            to: opts.to,
            keep_audio: opts.keep_audio,
        },
    )
    .map_err(|e| named(e.into()))?;
    let input = crate::footage::record_input(
        &plain,
        file_hash(plain.path()).map_err(named)?,
        opts.recordings.as_ref(),
    );
    let recordings = opts
        .recordings
        .as_ref()
        .map(|r| r.delivered(copy.first, copy.end));
    let output = FileHash {
        path: opts.output.clone(),
        sha256: crate::manifest::sha256_file(&staged)?,
        decrypted_from: None,
        encrypted_to: sealer.recipients(),
    };
    let wall_clock = match (
        recordings.as_ref().and_then(|r| r.delivered),
        at(opts.recording_start, copy.first, false),
        at(opts.recording_start, copy.end, true),
    ) {
        // Recordings: the wall clock of the segments the copy came from, holes left out.
        (Some(d), _, _) => Window::new(d.from, d.to)?,
        (None, Some(f), Some(t)) => Window::new(f, t)?,
        _ => {
            return Err(RedactError::InvalidOption {
                reason: "--recording-start: the window lies outside the representable years".into(),
            })
        }
    };
    let signer = key.as_ref().map(|k| Signer {
        algorithm: "ed25519".into(),
        public_key_sha256: k.public_key().fingerprint(),
        signature_file: sig_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    });
    let mut manifest = DisclosureManifest {
        version: DISCLOSURE_MANIFEST_VERSION,
        kind: "disclosure".into(),
        veil_version: env!("CARGO_PKG_VERSION").into(),
        disclosed_at: Timestamp::now(),
        input,
        output,
        recording_start: opts.recording_start,
        requested: SecondsWindow {
            from: opts.from,
            to: opts.to,
        },
        delivered: DeliveredWindow {
            from: copy.first,
            to: copy.end,
            wall_clock,
        },
        frames: copy.frames,
        method: match copy.method {
            CopyMethod::StreamCopy => DeliveryMethod::StreamCopy,
            CopyMethod::LosslessReencode { reason } => DeliveryMethod::LosslessReencode { reason },
        },
        codec: copy.codec,
        output_codec: copy.output_codec,
        audio: copy.audio,
        camera: opts.camera.clone(),
        basis: opts.basis.clone(),
        actor: opts.actor.clone(),
        recipient,
        reason: opts.reason.clone(),
        signer,
        audit: None,
        recordings,
    };
    let digest = manifest.entry_digest()?;

    // Encrypted before it is logged: a copy that cannot be encrypted is never logged.
    sealer.seal()?;
    // Logged before it is released: if the log refuses, the staged files are removed.
    let mut entry = entry.manifest_sha256(&digest).window(wall_clock);
    if let Some(r) = &manifest.recordings {
        entry.reason = format!(
            "{} [{}]",
            entry.reason,
            crate::export_audit::recordings_summary(r)
        );
    }
    let stored = AuditLog::new(&opts.audit_log).append(&entry, &[])?;
    manifest.audit = Some(AuditLink {
        log: opts.audit_log.clone(),
        seq: stored.seq,
        hash: stored.hash.clone(),
        manifest_sha256: digest,
    });
    let bytes = manifest.to_bytes()?;
    let withdrawn = |e: RedactError| RedactError::Withdrawn {
        output: opts.output.clone(),
        seq: stored.seq,
        source: Box::new(e),
    };
    write_atomic(&staged_manifest, &bytes).map_err(withdrawn)?;
    let signature_path = match (&key, &staged_sig) {
        (Some(k), Some(staged_sig)) => {
            write_atomic(staged_sig, &k.sign(&bytes)).map_err(withdrawn)?;
            Some(sig_path)
        }
        _ => None,
    };
    fault::point(fault::LOGGED_NOT_PUBLISHED);
    // Release: the files appear under their names only now, complete and logged, together
    // or not at all, never over a file that appeared meanwhile.
    staging.publish().map_err(withdrawn)?;
    Ok(DiscloseReport {
        output: opts.output.clone(),
        manifest_path,
        signature_path,
        manifest,
        audit_entry: stored,
    })
}
