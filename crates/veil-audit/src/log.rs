//! The append-only, hash-chained audit log.
//!
//! See the crate documentation for the file format and the canonical form.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::purpose::check_purpose;
use crate::time::{Timestamp, Window};
use crate::AuditError;

/// Version written in every entry's `version` member.
pub const ENTRY_VERSION: u32 = 1;

/// The `prev` value of the first entry: 64 zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done. Serialised in kebab-case (`config-change`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Action {
    /// Someone watched footage.
    View,
    /// Footage was exported to a file (e.g. an inzage export with bystanders blurred).
    Export,
    /// Footage was handed to a third party (police, justice). Needs a legal basis.
    Disclose,
    /// Footage was erased on a data subject's erasure request.
    Erase,
    /// Footage was deleted because its retention period ended.
    Delete,
    /// A legal hold was placed on footage (an incident was opened).
    Hold,
    /// A legal hold was released (the incident was resolved).
    Release,
    /// A request for footage was received (access request, police request).
    Request,
    /// The configuration (zones, purposes, retention) changed.
    ConfigChange,
    /// Something happened to the recording itself that an auditor should see: a camera
    /// dropped and footage is missing for a while (the window says when), recording
    /// stopped because the disk was full.
    Note,
}

impl Action {
    /// All actions, in declaration order.
    pub const ALL: [Action; 10] = [
        Action::View,
        Action::Export,
        Action::Disclose,
        Action::Erase,
        Action::Delete,
        Action::Hold,
        Action::Release,
        Action::Request,
        Action::ConfigChange,
        Action::Note,
    ];

    /// The name used in the log and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Export => "export",
            Action::Disclose => "disclose",
            Action::Erase => "erase",
            Action::Delete => "delete",
            Action::Hold => "hold",
            Action::Release => "release",
            Action::Request => "request",
            Action::ConfigChange => "config-change",
            Action::Note => "note",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| AuditError::InvalidAction {
                input: s.to_owned(),
                expected:
                    "view, export, disclose, erase, delete, hold, release, request, config-change, note",
            })
    }
}

/// The kind of legal basis for an action. Serialised in kebab-case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BasisKind {
    /// A data subject's access request (inzage, GDPR art. 15); the reference is the
    /// requester's reference.
    Inzage,
    /// A police or justice order (vordering); the reference is the order's reference.
    PoliceOrder,
    /// The operator's own report of a crime (aangifte); the reference is the report's.
    OwnReport,
    /// An incident that requires keeping footage (legal hold); the reference is the incident.
    Incident,
    /// A data subject's erasure request (GDPR art. 17); the reference is the request's.
    ErasureRequest,
}

impl BasisKind {
    /// All kinds, in declaration order.
    pub const ALL: [BasisKind; 5] = [
        BasisKind::Inzage,
        BasisKind::PoliceOrder,
        BasisKind::OwnReport,
        BasisKind::Incident,
        BasisKind::ErasureRequest,
    ];

    /// The name used in the log and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            BasisKind::Inzage => "inzage",
            BasisKind::PoliceOrder => "police-order",
            BasisKind::OwnReport => "own-report",
            BasisKind::Incident => "incident",
            BasisKind::ErasureRequest => "erasure-request",
        }
    }

    /// Whether this basis allows handing footage to a third party (police or justice): only
    /// an order or the operator's own report of a crime do.
    pub fn allows_disclosure(&self) -> bool {
        matches!(self, BasisKind::PoliceOrder | BasisKind::OwnReport)
    }

    /// Whether this basis overrides the camera's purpose limitation for a view or export.
    ///
    /// A police/justice order does (the law compels it). So does an access request: handing
    /// a data subject their own footage is a legal obligation of the controller (GDPR art.
    /// 15), not a use of the footage for a new purpose.
    pub fn overrides_purpose(&self) -> bool {
        matches!(self, BasisKind::PoliceOrder | BasisKind::Inzage)
    }
}

impl fmt::Display for BasisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A legal basis: a kind and a non-empty reference, e.g. `police-order:PV-2026-0142`.
/// Serialised as `{"kind":"police-order","reference":"PV-2026-0142"}`; parsed from the
/// command line form `kind:reference` with [`FromStr`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// The kind of basis.
    pub kind: BasisKind,
    /// The reference of the order, report, request or incident.
    pub reference: String,
}

impl LegalBasis {
    /// A basis; the reference must not be blank.
    ///
    /// # Errors
    /// [`AuditError::InvalidBasis`] when the reference is blank.
    pub fn new(kind: BasisKind, reference: impl Into<String>) -> Result<Self, AuditError> {
        let reference = reference.into();
        if reference.trim().is_empty() {
            return Err(AuditError::InvalidBasis {
                input: format!("{kind}:{reference}"),
                reason: "the reference is empty".to_owned(),
            });
        }
        Ok(LegalBasis { kind, reference })
    }
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.reference)
    }
}

impl FromStr for LegalBasis {
    type Err = AuditError;
    /// Parses `kind:reference`, e.g. `inzage:AR-7`, `police-order:PV-1`, `own-report:R-3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, reference) = s.split_once(':').ok_or_else(|| AuditError::InvalidBasis {
            input: s.to_owned(),
            reason: "expected kind:reference, e.g. inzage:AR-7 or police-order:PV-1".to_owned(),
        })?;
        let kind = BasisKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| AuditError::InvalidBasis {
                input: s.to_owned(),
                reason: "unknown kind (expected inzage, police-order, own-report, incident or \
                         erasure-request)"
                    .to_owned(),
            })?;
        LegalBasis::new(kind, reference).map_err(|_| AuditError::InvalidBasis {
            input: s.to_owned(),
            reason: "the reference is empty".to_owned(),
        })
    }
}

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

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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

    /// Sets the export manifest's SHA-256 (64 hex digits; stored lowercase).
    pub fn manifest_sha256(mut self, hash: impl Into<String>) -> Self {
        self.manifest_sha256 = Some(hash.into().to_ascii_lowercase());
        self
    }

    /// Checks the rules an entry must satisfy before it is appended; `camera_purposes` are
    /// the purposes of the entry's camera (from the zone file's `[camera]` table; pass `&[]`
    /// for actions that do not use footage for a purpose).
    ///
    /// - every entry: non-blank actor and reason; a window that does not end before it
    ///   starts; a manifest hash, if any, of 64 hex digits; blank optional text is refused
    ///   rather than stored;
    /// - `view`: camera and purpose; the purpose must be one of the camera's purposes unless
    ///   the basis overrides purpose limitation ([`BasisKind::overrides_purpose`]); with such
    ///   a basis the purpose may be left out (the basis is the justification);
    /// - `export`: camera, window, purpose, manifest hash, and a basis of `inzage`,
    ///   `police-order`, `own-report` or `incident` (evidence kept for an incident); purpose
    ///   limitation as for `view`;
    /// - `disclose`: camera, recipient, and a basis of `police-order` or `own-report`
    ///   (otherwise [`AuditError::DisclosureWithoutLegalBasis`]);
    /// - `erase`: camera, window and an `erasure-request` basis; `hold`/`release`: camera and
    ///   an `incident` basis; `request`: camera, window and a basis; `delete` and `note`:
    ///   camera.
    ///
    /// # Errors
    /// [`AuditError::MissingField`], [`AuditError::InvalidEntry`],
    /// [`AuditError::DisclosureWithoutLegalBasis`] or [`AuditError::PurposeNotAllowed`].
    pub fn validate(&self, camera_purposes: &[String]) -> Result<(), AuditError> {
        let action = self.action;
        let missing = |field| AuditError::MissingField { action, field };
        if self.actor.trim().is_empty() {
            return Err(missing("an actor"));
        }
        if self.reason.trim().is_empty() {
            return Err(missing("a reason"));
        }
        for (name, value) in [
            ("camera", &self.camera),
            ("purpose", &self.purpose),
            ("recipient", &self.recipient),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(AuditError::InvalidEntry {
                    reason: format!("{name} is blank"),
                });
            }
        }
        if let Some(w) = &self.window {
            w.check().map_err(|reason| AuditError::InvalidEntry { reason })?;
        }
        if let Some(b) = &self.basis {
            if b.reference.trim().is_empty() {
                return Err(AuditError::InvalidEntry {
                    reason: "legal basis reference is blank".into(),
                });
            }
        }
        if let Some(h) = &self.manifest_sha256 {
            if !is_sha256_hex(h) {
                return Err(AuditError::InvalidEntry {
                    reason: format!("manifest_sha256 `{h}` is not 64 lowercase hex digits"),
                });
            }
        }
        let need_camera = || {
            self.camera
                .as_ref()
                .map(|_| ())
                .ok_or_else(|| missing("a camera"))
        };
        let need_window = || {
            self.window
                .as_ref()
                .map(|_| ())
                .ok_or_else(|| missing("a window"))
        };
        let basis_kind = self.basis.as_ref().map(|b| b.kind);
        match action {
            Action::View | Action::Export => {
                need_camera()?;
                // Without a stated purpose only an overriding basis (an order, an access
                // request) justifies using the footage; the basis is then the justification.
                let overridden = basis_kind.is_some_and(|k| k.overrides_purpose());
                if self.purpose.is_none() && !overridden {
                    return Err(missing("a purpose (or a police-order or inzage basis)"));
                }
                if action == Action::Export {
                    need_window()?;
                    match basis_kind {
                        Some(
                            BasisKind::Inzage
                            | BasisKind::PoliceOrder
                            | BasisKind::OwnReport
                            | BasisKind::Incident,
                        ) => {}
                        Some(other) => {
                            return Err(AuditError::InvalidEntry {
                                reason: format!(
                                    "an export needs an inzage, police-order, own-report or incident basis, not {other}"
                                ),
                            })
                        }
                        None => return Err(missing("a legal basis (inzage, police-order, own-report or incident)")),
                    }
                    if self.manifest_sha256.is_none() {
                        return Err(missing("the manifest's SHA-256"));
                    }
                }
                if let Some(purpose) = &self.purpose {
                    check_purpose(camera_purposes, purpose, self.basis.as_ref())?;
                }
            }
            Action::Disclose => {
                match &self.basis {
                    Some(b) if b.kind.allows_disclosure() => {}
                    Some(b) => {
                        return Err(AuditError::DisclosureWithoutLegalBasis {
                            reason: format!(
                                "a {} basis does not allow handing footage to a third party; only a \
                                 police/justice order (police-order:REF) or the operator's own \
                                 report of a crime (own-report:REF) does",
                                b.kind
                            ),
                        })
                    }
                    None => {
                        return Err(AuditError::DisclosureWithoutLegalBasis {
                            reason: "no legal basis given; footage goes to police or justice only on \
                                     an order (police-order:REF) or the operator's own report of a \
                                     crime (own-report:REF)"
                                .to_owned(),
                        })
                    }
                }
                need_camera()?;
                if self.recipient.is_none() {
                    return Err(missing("a recipient"));
                }
            }
            Action::Erase => {
                need_camera()?;
                need_window()?;
                if basis_kind != Some(BasisKind::ErasureRequest) {
                    return Err(missing("an erasure-request basis"));
                }
            }
            Action::Hold | Action::Release => {
                need_camera()?;
                if basis_kind != Some(BasisKind::Incident) {
                    return Err(missing("an incident basis"));
                }
            }
            Action::Request => {
                need_camera()?;
                need_window()?;
                if basis_kind.is_none() {
                    return Err(missing("a legal basis"));
                }
            }
            Action::Delete | Action::Note => need_camera()?,
            Action::ConfigChange => {}
        }
        Ok(())
    }
}

/// A point of the chain recorded elsewhere (printed in a report, kept by the data protection
/// officer): verifying against it detects removal of trailing entries and wholesale rewrites.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Anchor {
    /// Sequence number of the anchored entry.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

/// What `verify` found wrong, at which line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tamper {
    /// 1-based line number of the first entry that is wrong.
    pub line: u64,
    /// What is wrong.
    pub kind: TamperKind,
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

/// The kinds of damage `verify` tells apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TamperKind {
    /// The entry's content does not match its own hash: it was altered.
    Altered {
        /// The hash stored in the line.
        stored_hash: String,
        /// The hash of the line's canonical bytes.
        computed_hash: String,
    },
    /// The entry's hash matches but the line is not in canonical form (reformatted, members
    /// reordered): it was rewritten.
    NotCanonical,
    /// The line is not a valid entry (not JSON, wrong members, bad values).
    Malformed {
        /// The parser's complaint.
        reason: String,
    },
    /// Entries `expected_seq ..= found_seq - 1` are missing before this line.
    Removed {
        /// The sequence number this line should have had.
        expected_seq: u64,
        /// The sequence number it has.
        found_seq: u64,
    },
    /// The entry is out of order (the expected entry appears later, or this one came earlier).
    Reordered {
        /// The sequence number this line should have had.
        expected_seq: u64,
        /// The sequence number it has.
        found_seq: u64,
    },
    /// This line does not belong in the chain: the next line chains directly to the one
    /// before it.
    Inserted,
    /// The entry is intact and in sequence but its `prev` is not the previous line's hash:
    /// the previous entry (or this one) was rewritten with a recomputed hash.
    ChainBroken {
        /// The previous line's hash.
        expected_prev: String,
        /// The `prev` stored in this line.
        found_prev: String,
    },
    /// The last line has no terminating newline: a write was interrupted (or the file was cut).
    TruncatedLastLine {
        /// Bytes in the incomplete line.
        bytes: u64,
    },
    /// The log ends before the anchor's sequence number: trailing entries were removed.
    MissingAtEnd {
        /// The anchor's sequence number.
        anchor_seq: u64,
        /// The last sequence number in the log (0 if empty).
        last_seq: u64,
    },
    /// The entry at the anchor's sequence number has another hash: the log was rewritten.
    AnchorMismatch {
        /// The anchored hash.
        anchor_hash: String,
        /// The hash in the log.
        found_hash: String,
    },
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TamperKind::Altered {
                stored_hash,
                computed_hash,
            } => write!(
                f,
                "entry altered (stored hash {stored_hash}, content hashes to {computed_hash})"
            ),
            TamperKind::NotCanonical => f.write_str("entry rewritten (not in canonical form)"),
            TamperKind::Malformed { reason } => write!(f, "not a valid entry ({reason})"),
            TamperKind::Removed {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entries removed (expected seq {expected_seq}, found seq {found_seq})"
            ),
            TamperKind::Reordered {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entries reordered (expected seq {expected_seq}, found seq {found_seq})"
            ),
            TamperKind::Inserted => f.write_str("entry inserted (the next line chains to the previous one)"),
            TamperKind::ChainBroken {
                expected_prev,
                found_prev,
            } => write!(
                f,
                "chain broken (prev is {found_prev}, previous line hashes to {expected_prev}): the \
                 previous entry or this one was rewritten"
            ),
            TamperKind::TruncatedLastLine { bytes } => {
                write!(
                    f,
                    "incomplete last line ({bytes} bytes, no newline): interrupted write or cut file"
                )
            }
            TamperKind::MissingAtEnd { anchor_seq, last_seq } => write!(
                f,
                "log ends at seq {last_seq} but the anchor is at seq {anchor_seq}: trailing entries removed"
            ),
            TamperKind::AnchorMismatch {
                anchor_hash,
                found_hash,
            } => write!(
                f,
                "hash {found_hash} differs from the anchor's {anchor_hash}: log rewritten"
            ),
        }
    }
}

/// The result of verifying a log file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifySummary {
    /// The file verified.
    pub path: PathBuf,
    /// Number of entries verified good, from the start, before the first problem (all of
    /// them when the log is intact).
    pub entries: u64,
    /// The last good entry (record it elsewhere as an [`Anchor`]); `None` if there is none.
    pub head: Option<Anchor>,
    /// The first problem found, or `None` when the log is intact.
    pub problem: Option<Tamper>,
}

impl VerifySummary {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Why a single line is not a valid entry on its own.
enum LineFault {
    Malformed(String),
    Altered { stored: String, computed: String },
    NotCanonical,
}

impl From<LineFault> for TamperKind {
    fn from(f: LineFault) -> Self {
        match f {
            LineFault::Malformed(reason) => TamperKind::Malformed { reason },
            LineFault::Altered { stored, computed } => TamperKind::Altered {
                stored_hash: stored,
                computed_hash: computed,
            },
            LineFault::NotCanonical => TamperKind::NotCanonical,
        }
    }
}

/// Checks one line (without its newline) on its own: parses, recomputes the hash, and
/// requires the exact canonical bytes.
fn check_line(line: &[u8]) -> Result<Entry, LineFault> {
    let entry: Entry = serde_json::from_slice(line).map_err(|e| LineFault::Malformed(e.to_string()))?;
    if entry.version != ENTRY_VERSION {
        return Err(LineFault::Malformed(format!(
            "unsupported version {}",
            entry.version
        )));
    }
    let computed = entry
        .compute_hash()
        .map_err(|e| LineFault::Malformed(e.to_string()))?;
    if computed != entry.hash {
        return Err(LineFault::Altered {
            stored: entry.hash,
            computed,
        });
    }
    let canonical = entry.to_line().map_err(|e| LineFault::Malformed(e.to_string()))?;
    if canonical != line {
        return Err(LineFault::NotCanonical);
    }
    Ok(entry)
}

struct RawLine {
    bytes: Vec<u8>,
    terminated: bool,
}

struct Lines<R> {
    reader: R,
    path: PathBuf,
}

impl<R: BufRead> Lines<R> {
    fn next_line(&mut self) -> Result<Option<RawLine>, AuditError> {
        let mut bytes = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut bytes)
            .map_err(|source| AuditError::Io {
                path: self.path.clone(),
                op: "read",
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        let terminated = bytes.last() == Some(&b'\n');
        if terminated {
            bytes.pop();
        }
        Ok(Some(RawLine { bytes, terminated }))
    }
}

/// Verifies the chain of the log at `path`. See [`verify_reader`].
///
/// # Errors
/// [`AuditError::Io`] when the file cannot be opened or read. Tampering is reported in
/// [`VerifySummary::problem`], not as an error.
pub fn verify_file(path: impl AsRef<Path>) -> Result<VerifySummary, AuditError> {
    verify_inner(path.as_ref(), None)
}

/// Verifies the chain and also that it contains the anchored entry unchanged (detects removal
/// of trailing entries and a rewritten chain, which the chain alone cannot).
///
/// # Errors
/// As [`verify_file`].
pub fn verify_file_with_anchor(path: impl AsRef<Path>, anchor: &Anchor) -> Result<VerifySummary, AuditError> {
    verify_inner(path.as_ref(), Some(anchor))
}

fn verify_inner(path: &Path, anchor: Option<&Anchor>) -> Result<VerifySummary, AuditError> {
    let file = File::open(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    verify_reader(BufReader::new(file), path, anchor)
}

/// Verifies a log read from `reader` (`path` only names it in the summary and errors).
///
/// Walks the lines in order. Line `n` must be a valid entry on its own (parses, its `hash` is
/// the SHA-256 of its canonical bytes, the line is exactly canonical), must have `seq == n`,
/// and its `prev` must be the hash of line `n - 1` (64 zeros for line 1). The first line that
/// fails is classified by looking at its neighbours (see [`TamperKind`]). A last line without
/// a newline is reported as [`TamperKind::TruncatedLastLine`].
///
/// # Errors
/// [`AuditError::Io`] when reading fails.
pub fn verify_reader<R: BufRead>(
    reader: R,
    path: &Path,
    anchor: Option<&Anchor>,
) -> Result<VerifySummary, AuditError> {
    let mut lines = Lines {
        reader,
        path: path.to_owned(),
    };
    let mut expected_seq: u64 = 1;
    let mut head = GENESIS_PREV.to_owned();
    // The chain state before the last accepted line: lets us recognise, at a later line that
    // chains to it, that the last accepted line was an insertion.
    let mut before_last: Option<(u64, String)> = None;
    let mut line_no: u64 = 0;
    let mut problem = None;
    while let Some(raw) = lines.next_line()? {
        line_no += 1;
        if !raw.terminated {
            problem = Some(Tamper {
                line: line_no,
                kind: TamperKind::TruncatedLastLine {
                    bytes: raw.bytes.len() as u64,
                },
            });
            break;
        }
        let checked = check_line(&raw.bytes);
        if let Ok(e) = &checked {
            if e.seq == expected_seq && e.prev == head {
                if let Some(a) = anchor {
                    if a.seq == e.seq && a.hash != e.hash {
                        problem = Some(Tamper {
                            line: line_no,
                            kind: TamperKind::AnchorMismatch {
                                anchor_hash: a.hash.clone(),
                                found_hash: e.hash.clone(),
                            },
                        });
                        break;
                    }
                }
                before_last = Some((expected_seq, std::mem::replace(&mut head, e.hash.clone())));
                expected_seq += 1;
                continue;
            }
        }
        problem = Some(classify(
            checked,
            line_no,
            expected_seq,
            &head,
            before_last.as_ref(),
            &mut lines,
        )?);
        break;
    }
    let mut entries = expected_seq - 1;
    let mut head_anchor = (entries > 0).then(|| Anchor {
        seq: entries,
        hash: head.clone(),
    });
    if let Some(p) = &problem {
        if p.kind == TamperKind::Inserted && p.line < line_no {
            // The accepted line before the failing one was the insertion: un-accept it.
            entries -= 1;
            head_anchor = before_last.as_ref().and_then(|(seq, prev_head)| {
                (*seq > 1).then(|| Anchor {
                    seq: seq - 1,
                    hash: prev_head.clone(),
                })
            });
        }
    } else if let Some(a) = anchor {
        if a.seq > entries {
            problem = Some(Tamper {
                line: line_no + 1,
                kind: TamperKind::MissingAtEnd {
                    anchor_seq: a.seq,
                    last_seq: entries,
                },
            });
        }
    }
    Ok(VerifySummary {
        path: path.to_owned(),
        entries,
        head: head_anchor,
        problem,
    })
}

fn classify<R: BufRead>(
    checked: Result<Entry, LineFault>,
    line: u64,
    expected_seq: u64,
    head: &str,
    before_last: Option<&(u64, String)>,
    rest: &mut Lines<R>,
) -> Result<Tamper, AuditError> {
    let chains_to = |e: &Entry, seq: u64, prev: &str| e.seq == seq && e.prev == prev;
    let next_chains_here = |rest: &mut Lines<R>| -> Result<bool, AuditError> {
        Ok(match rest.next_line()? {
            Some(next) if next.terminated => {
                check_line(&next.bytes).is_ok_and(|n| chains_to(&n, expected_seq, head))
            }
            _ => false,
        })
    };
    let kind = match checked {
        Err(fault) => {
            if next_chains_here(rest)? {
                TamperKind::Inserted
            } else {
                fault.into()
            }
        }
        Ok(e) if e.seq < expected_seq => {
            if e.hash == head {
                // An exact copy of the previous line: this line is the extra one.
                return Ok(Tamper {
                    line,
                    kind: TamperKind::Inserted,
                });
            }
            if let Some((seq, prev)) = before_last {
                if chains_to(&e, *seq, prev) {
                    return Ok(Tamper {
                        line: line - 1,
                        kind: TamperKind::Inserted,
                    });
                }
            }
            TamperKind::Reordered {
                expected_seq,
                found_seq: e.seq,
            }
        }
        Ok(e) if e.seq > expected_seq => {
            let mut appears_later = false;
            while let Some(next) = rest.next_line()? {
                if let Ok(n) = check_line(&next.bytes) {
                    if n.seq == expected_seq {
                        appears_later = true;
                        break;
                    }
                }
            }
            if appears_later {
                TamperKind::Reordered {
                    expected_seq,
                    found_seq: e.seq,
                }
            } else {
                TamperKind::Removed {
                    expected_seq,
                    found_seq: e.seq,
                }
            }
        }
        Ok(e) => {
            if next_chains_here(rest)? {
                TamperKind::Inserted
            } else {
                TamperKind::ChainBroken {
                    expected_prev: head.to_owned(),
                    found_prev: e.prev,
                }
            }
        }
    };
    Ok(Tamper { line, kind })
}

/// An audit log file. Appends are durable and serialised across processes by an exclusive
/// `flock` held around read-last-entry + append.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// A handle on the log at `path` (created on first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Validates `entry` ([`NewEntry::validate`] with the camera's purposes), then appends it
    /// with the current time. Returns the entry as stored.
    ///
    /// # Errors
    /// Validation errors (nothing is written); [`AuditError::TruncatedLog`] or
    /// [`AuditError::CorruptTail`] when the log's last line is incomplete or invalid
    /// (appending is refused, see the crate docs); [`AuditError::Io`].
    pub fn append(&self, entry: &NewEntry, camera_purposes: &[String]) -> Result<Entry, AuditError> {
        self.append_at(entry, camera_purposes, Timestamp::now())
    }

    /// As [`AuditLog::append`] with an explicit time (tests, replays of queued events).
    ///
    /// # Errors
    /// As [`AuditLog::append`].
    pub fn append_at(
        &self,
        entry: &NewEntry,
        camera_purposes: &[String],
        time: Timestamp,
    ) -> Result<Entry, AuditError> {
        entry.validate(camera_purposes)?;
        let path = &self.path;
        let file = open_log(path)?;
        let _lock = crate::lock::ExclusiveLock::acquire(&file, path)?;
        append_locked(&file, path, entry, time)
    }

    /// Verifies the log ([`verify_file`]).
    ///
    /// # Errors
    /// As [`verify_file`].
    pub fn verify(&self) -> Result<VerifySummary, AuditError> {
        verify_file(&self.path)
    }

    /// Reads all entries, refusing a log that does not verify (so that callers never act on
    /// a tampered log).
    ///
    /// # Errors
    /// [`AuditError::CorruptTail`] naming the first problem when the log is not intact;
    /// [`AuditError::Io`].
    pub fn read_entries(&self) -> Result<Vec<Entry>, AuditError> {
        let summary = self.verify()?;
        if let Some(p) = summary.problem {
            return Err(AuditError::CorruptTail {
                path: self.path.clone(),
                reason: p.to_string(),
            });
        }
        let file = File::open(&self.path).map_err(|source| AuditError::Io {
            path: self.path.clone(),
            op: "open",
            source,
        })?;
        let mut lines = Lines {
            reader: BufReader::new(file),
            path: self.path.clone(),
        };
        let mut out = Vec::new();
        while let Some(raw) = lines.next_line()? {
            let e = check_line(&raw.bytes).map_err(|f| AuditError::CorruptTail {
                path: self.path.clone(),
                reason: format!("changed during reading: {}", TamperKind::from(f)),
            })?;
            out.push(e);
        }
        Ok(out)
    }
}

/// What [`AuditLog::repair_torn_tail`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TornTailRepair {
    /// Where the incomplete bytes were saved (`<log file name>.torn-<seq>` beside the log).
    pub saved_to: PathBuf,
    /// How many bytes were cut from the log.
    pub bytes: u64,
    /// SHA-256 of those bytes.
    pub sha256: String,
    /// The `config-change` entry that records the repair in the log itself.
    pub entry: Entry,
}

impl AuditLog {
    /// Repairs a log whose last line is incomplete (a crash mid-write). This is an explicit
    /// operator action, never done by `append`.
    ///
    /// Under the exclusive lock: verifies that every complete line forms an intact chain
    /// (anything else is not a crash, and is refused); saves the incomplete bytes to
    /// `<log file name>.torn-<seq>` beside the log (never overwriting, fsynced); cuts the log
    /// back to its last newline (fsynced); and appends a `config-change` entry by `actor`
    /// naming the saved file, the byte count and their SHA-256, so the repair is itself on
    /// the record. Returns `Ok(None)` and changes nothing when the log is intact.
    ///
    /// # Errors
    /// [`AuditError::CorruptTail`] when the log has any other problem; [`AuditError::Io`];
    /// [`AuditError::MissingField`] for a blank actor.
    pub fn repair_torn_tail(&self, actor: &str) -> Result<Option<TornTailRepair>, AuditError> {
        let path = &self.path;
        let io = |op: &'static str| {
            move |source| AuditError::Io {
                path: path.clone(),
                op,
                source,
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io("open"))?;
        let _lock = crate::lock::ExclusiveLock::acquire(&file, path)?;
        let mut bytes = Vec::new();
        (&file).seek(SeekFrom::Start(0)).map_err(io("seek"))?;
        (&file).read_to_end(&mut bytes).map_err(io("read"))?;
        let summary = verify_reader(&bytes[..], path, None)?;
        match &summary.problem {
            None => return Ok(None),
            Some(Tamper {
                kind: TamperKind::TruncatedLastLine { .. },
                ..
            }) => {}
            Some(other) => {
                return Err(AuditError::CorruptTail {
                    path: path.clone(),
                    reason: format!("not only a torn last line, refusing to repair: {other}"),
                })
            }
        }
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let torn = &bytes[keep..];
        let name = path
            .file_name()
            .map_or_else(|| "audit".into(), |n| n.to_string_lossy().into_owned());
        let saved_to = path.with_file_name(format!("{name}.torn-{}", summary.entries + 1));
        let mut saved = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&saved_to)
            .map_err(|source| AuditError::Io {
                path: saved_to.clone(),
                op: "create",
                source,
            })?;
        saved
            .write_all(torn)
            .and_then(|()| saved.sync_all())
            .map_err(|source| AuditError::Io {
                path: saved_to.clone(),
                op: "write",
                source,
            })?;
        sync_parent_dir(&saved_to)?;
        file.set_len(keep as u64).map_err(io("truncate"))?;
        file.sync_all().map_err(io("fsync"))?;
        let sha256 = sha256_hex(torn);
        let note = NewEntry::new(
            actor,
            Action::ConfigChange,
            format!(
                "repaired torn last line: cut {} bytes (sha256 {sha256}) after seq {}, saved to {}",
                torn.len(),
                summary.entries,
                saved_to.display()
            ),
        );
        note.validate(&[])?;
        let entry = append_locked(&file, path, &note, Timestamp::now())?;
        Ok(Some(TornTailRepair {
            saved_to,
            bytes: torn.len() as u64,
            sha256,
            entry,
        }))
    }
}

/// SHA-256 (lowercase hex) of a file's contents, e.g. an export manifest for
/// [`NewEntry::manifest_sha256`].
///
/// # Errors
/// [`AuditError::Io`] when the file cannot be read.
pub fn sha256_file(path: impl AsRef<Path>) -> Result<String, AuditError> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "read",
        source,
    })?;
    Ok(hex(&hasher.finalize()))
}

impl fmt::Display for VerifySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(f, "{}: intact, {} entries", self.path.display(), self.entries)?,
            Some(p) => write!(
                f,
                "{}: NOT INTACT: {p} ({} entries verified before it)",
                self.path.display(),
                self.entries
            )?,
        }
        if let Some(h) = &self.head {
            write!(f, "; head seq {} hash {}", h.seq, h.hash)?;
        }
        Ok(())
    }
}

/// Opens (creating if needed) the log for reading and appending.
fn open_log(path: &Path) -> Result<File, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    match OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => {
            // A new file: make its directory entry durable too, or a crash could lose the
            // whole log even though every append was fsynced.
            sync_parent_dir(path)?;
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io("open")),
        Err(e) => Err(io("create")(e)),
    }
}

/// Appends `entry` at `time`; the caller holds the exclusive lock on `file`.
fn append_locked(
    mut file: &File,
    path: &Path,
    entry: &NewEntry,
    time: Timestamp,
) -> Result<Entry, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    let last = read_last_entry(file, path)?;
    let (seq, prev) = match &last {
        Some(e) => (
            e.seq.checked_add(1).ok_or_else(|| AuditError::SeqOverflow {
                path: path.to_owned(),
            })?,
            e.hash.clone(),
        ),
        None => (1, GENESIS_PREV.to_owned()),
    };
    let mut stored = Entry {
        version: ENTRY_VERSION,
        seq,
        time,
        actor: entry.actor.clone(),
        action: entry.action,
        camera: entry.camera.clone(),
        window: entry.window,
        purpose: entry.purpose.clone(),
        basis: entry.basis.clone(),
        recipient: entry.recipient.clone(),
        reason: entry.reason.clone(),
        manifest_sha256: entry.manifest_sha256.clone(),
        prev,
        hash: String::new(),
    };
    stored.hash = stored.compute_hash()?;
    let mut line = stored.to_line()?;
    line.push(b'\n');
    // One write of the whole line (O_APPEND puts it at the end); under the lock nobody
    // else writes, so a short write can only come from a crash, which verify detects.
    file.write_all(&line).map_err(io("write"))?;
    file.sync_all().map_err(io("fsync"))?;
    Ok(stored)
}

/// Appends one entry to the log at `path` ([`AuditLog::append`]).
///
/// # Errors
/// As [`AuditLog::append`].
pub fn append_entry(
    path: impl AsRef<Path>,
    entry: &NewEntry,
    camera_purposes: &[String],
) -> Result<Entry, AuditError> {
    AuditLog::new(path.as_ref()).append(entry, camera_purposes)
}

/// Reads the last line of the file, which must be a complete, valid entry. Reads backwards
/// in blocks so that appending stays cheap however long the log grows.
fn read_last_entry(mut file: &File, path: &Path) -> Result<Option<Entry>, AuditError> {
    let io = |op: &'static str| {
        move |source| AuditError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    };
    let len = file.seek(SeekFrom::End(0)).map_err(io("seek"))?;
    if len == 0 {
        return Ok(None);
    }
    const BLOCK: u64 = 8192;
    // Find the last newline, then the one before it.
    let mut end = len; // exclusive end of the region searched so far
    let mut newlines: Vec<u64> = Vec::with_capacity(2);
    let mut buf = vec![0u8; BLOCK as usize];
    while end > 0 && newlines.len() < 2 {
        let start = end.saturating_sub(BLOCK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io("seek"))?;
        file.read_exact(chunk).map_err(io("read"))?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            if b == b'\n' {
                newlines.push(start + i as u64);
                if newlines.len() == 2 {
                    break;
                }
            }
        }
        end = start;
    }
    let last_newline = match newlines.first() {
        Some(&p) => p,
        None => {
            return Err(AuditError::TruncatedLog {
                path: path.to_owned(),
                bytes: len,
            })
        }
    };
    if last_newline != len - 1 {
        return Err(AuditError::TruncatedLog {
            path: path.to_owned(),
            bytes: len - 1 - last_newline,
        });
    }
    let line_start = newlines.get(1).map_or(0, |&p| p + 1);
    let mut line = vec![0u8; (last_newline - line_start) as usize];
    file.seek(SeekFrom::Start(line_start)).map_err(io("seek"))?;
    file.read_exact(&mut line).map_err(io("read"))?;
    check_line(&line).map(Some).map_err(|f| AuditError::CorruptTail {
        path: path.to_owned(),
        reason: TamperKind::from(f).to_string(),
    })
}

#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), AuditError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| AuditError::Io {
            path: dir.to_owned(),
            op: "fsync directory",
            source,
        })
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), AuditError> {
    // Directories cannot be opened for fsync on this platform; creation is made durable by the
    // file system's own metadata journaling.
    Ok(())
}
