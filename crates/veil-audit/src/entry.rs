//! Entries as stored, their canonical bytes and hash, and the entries callers build to append
//! ([`NewEntry`]; the rules it must satisfy are in `rules.rs`).
//!
//! See the crate documentation for the file format and the canonical form.

use serde::{Deserialize, Serialize};

use crate::hash::sha256_hex;
use crate::time::{Timestamp, Window};
use crate::vocab::{Action, LegalBasis};
use crate::AuditError;

/// Version written in every entry's `version` member.
pub const ENTRY_VERSION: u32 = 1;

/// The `prev` value of the first entry: 64 zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the audit log, as stored. Members are written in this declaration order
/// (see the crate docs for the canonical form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Format version ([`ENTRY_VERSION`]).
    pub version: u32,
    /// Sequence number: 1 for the first entry, +1 for each next one.
    pub seq: u64,
    /// When the entry was appended (UTC).
    pub time: Timestamp,
    /// Who did it (operator account, service name).
    pub actor: String,
    /// What was done.
    pub action: Action,
    /// Which camera's footage (id as in the zone file), if any.
    pub camera: Option<String>,
    /// Which time window of footage, if any.
    pub window: Option<Window>,
    /// The purpose the footage was used for.
    pub purpose: Option<String>,
    /// The legal basis.
    pub basis: Option<LegalBasis>,
    /// The third party who received footage (disclosures).
    pub recipient: Option<String>,
    /// Free-text reason.
    pub reason: String,
    /// For exports: SHA-256 (lowercase hex) of the export's manifest file.
    pub manifest_sha256: Option<String>,
    /// For exports: the tracklets (`3.2`) the operator (`actor`) added to the requester
    /// after review, kept on their word rather than Veil's evidence. Written only when not
    /// empty, so entries without it (and every entry written before it existed) keep their
    /// bytes and hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_tracklets: Vec<String>,
    /// `hash` of the previous entry ([`GENESIS_PREV`] for the first).
    pub prev: String,
    /// SHA-256 (lowercase hex) of this entry's canonical bytes.
    pub hash: String,
}

/// The canonical form: the entry without `hash`, members in declaration order, serde_json's
/// compact writer. Borrowing keeps hashing allocation-light.
#[derive(Serialize)]
struct CanonicalBody<'a> {
    version: u32,
    seq: u64,
    time: &'a Timestamp,
    actor: &'a str,
    action: Action,
    camera: &'a Option<String>,
    window: &'a Option<Window>,
    purpose: &'a Option<String>,
    basis: &'a Option<LegalBasis>,
    recipient: &'a Option<String>,
    reason: &'a str,
    manifest_sha256: &'a Option<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    operator_tracklets: &'a [String],
    prev: &'a str,
}

impl Entry {
    fn body(&self) -> CanonicalBody<'_> {
        CanonicalBody {
            version: self.version,
            seq: self.seq,
            time: &self.time,
            actor: &self.actor,
            action: self.action,
            camera: &self.camera,
            window: &self.window,
            purpose: &self.purpose,
            basis: &self.basis,
            recipient: &self.recipient,
            reason: &self.reason,
            manifest_sha256: &self.manifest_sha256,
            operator_tracklets: &self.operator_tracklets,
            prev: &self.prev,
        }
    }

    /// The entry's canonical bytes: what its `hash` is the SHA-256 of.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, AuditError> {
        serde_json::to_vec(&self.body()).map_err(|e| AuditError::InvalidEntry {
            reason: format!("cannot serialise entry: {e}"),
        })
    }

    /// SHA-256 of [`Entry::canonical_bytes`], lowercase hex.
    pub fn compute_hash(&self) -> Result<String, AuditError> {
        Ok(sha256_hex(&self.canonical_bytes()?))
    }

    /// The stored line (without the newline): canonical bytes with `,"hash":"<hex>"` inserted
    /// before the closing brace.
    pub fn to_line(&self) -> Result<Vec<u8>, AuditError> {
        let mut line = self.canonical_bytes()?;
        // serde_json writes a struct as `{...}`, so the last byte is the closing brace.
        line.pop();
        line.extend_from_slice(b",\"hash\":\"");
        line.extend_from_slice(self.hash.as_bytes());
        line.extend_from_slice(b"\"}");
        Ok(line)
    }
}

/// An entry to append: everything but `version`, `seq`, `time`, `prev` and `hash`, which the
/// log fills in. Build it with [`NewEntry::new`] and the setters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// Who does it.
    pub actor: String,
    /// What is done.
    pub action: Action,
    /// Which camera.
    pub camera: Option<String>,
    /// Which window of footage.
    pub window: Option<Window>,
    /// For which purpose.
    pub purpose: Option<String>,
    /// On which legal basis.
    pub basis: Option<LegalBasis>,
    /// To whom (disclosures).
    pub recipient: Option<String>,
    /// Why (free text).
    pub reason: String,
    /// The export manifest's SHA-256 (exports).
    pub manifest_sha256: Option<String>,
    /// The tracklets the operator added to the requester (exports; empty: none).
    pub operator_tracklets: Vec<String>,
}

impl NewEntry {
    /// An entry with the three members every action needs.
    pub fn new(actor: impl Into<String>, action: Action, reason: impl Into<String>) -> Self {
        NewEntry {
            actor: actor.into(),
            action,
            camera: None,
            window: None,
            purpose: None,
            basis: None,
            recipient: None,
            reason: reason.into(),
            manifest_sha256: None,
            operator_tracklets: Vec::new(),
        }
    }

    /// Sets the camera id.
    pub fn camera(mut self, camera: impl Into<String>) -> Self {
        self.camera = Some(camera.into());
        self
    }

    /// Sets the window of footage.
    pub fn window(mut self, window: Window) -> Self {
        self.window = Some(window);
        self
    }

    /// Sets the purpose.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    /// Sets the legal basis.
    pub fn basis(mut self, basis: LegalBasis) -> Self {
        self.basis = Some(basis);
        self
    }

    /// Sets the recipient of a disclosure.
    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }

    /// Sets the tracklets the operator added to the requester of an export (`3.2`, ...).
    pub fn operator_tracklets<S: Into<String>>(mut self, tracklets: impl IntoIterator<Item = S>) -> Self {
        self.operator_tracklets = tracklets.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the export manifest's SHA-256 (64 hex digits; stored lowercase).
    pub fn manifest_sha256(mut self, hash: impl Into<String>) -> Self {
        self.manifest_sha256 = Some(hash.into().to_ascii_lowercase());
        self
    }
}
