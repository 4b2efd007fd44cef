//! The planner's input: recordings, incident holds, access and erasure requests, the JSON
//! files they come in, and the checks on every record.

use std::collections::HashSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::time::{Timestamp, Window};
use crate::AuditError;

/// Version of every input and output file of the planner.
pub const PLAN_VERSION: u32 = 1;

/// A stored recording file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Camera id (as in the zone file).
    pub camera: String,
    /// First instant recorded.
    pub start: Timestamp,
    /// Last instant recorded; the retention period counts from here.
    pub end: Timestamp,
    /// Where the file is (as the NVR names it; the planner never touches it).
    pub path: String,
    /// Its size in bytes, for a storage budget ([`crate::apply_storage_budget`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// `recordings.json`: `{"version": 1, "recordings": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingsFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The recordings.
    pub recordings: Vec<Recording>,
}

/// An incident hold: footage of `camera` in `window` must be kept while the incident is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Incident id.
    pub incident: String,
    /// Camera id.
    pub camera: String,
    /// The footage concerned.
    pub window: Window,
    /// When the incident was opened.
    pub opened: Timestamp,
    /// When it was resolved; `null` while open. A hold counts as open until `resolved <= now`.
    #[serde(default)]
    pub resolved: Option<Timestamp>,
}

/// `holds.json`: `{"version": 1, "holds": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldsFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The holds.
    pub holds: Vec<Hold>,
}

/// A data subject's access request (inzage) for footage of `camera` in `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// The request's reference.
    pub reference: String,
    /// Camera id.
    pub camera: String,
    /// The footage asked for.
    pub window: Window,
    /// When the request was received.
    pub received: Timestamp,
    /// When it was handled; `null` while pending. Pending until `handled <= now`.
    #[serde(default)]
    pub handled: Option<Timestamp>,
}

/// `access.json`: `{"version": 1, "requests": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The access requests.
    pub requests: Vec<AccessRequest>,
}

/// A data subject's erasure request for footage of `camera` in `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The request's reference.
    pub reference: String,
    /// Who asked (name or description, as recorded by the operator).
    pub requester: String,
    /// Camera id.
    pub camera: String,
    /// The footage to erase.
    pub window: Window,
    /// When the request was received.
    pub received: Timestamp,
}

/// `erasures.json`: `{"version": 1, "requests": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasuresFile {
    /// Must be [`PLAN_VERSION`].
    pub version: u32,
    /// The erasure requests.
    pub requests: Vec<ErasureRequest>,
}

/// Everything the planner looks at, in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInput {
    /// Stored recordings.
    pub recordings: Vec<Recording>,
    /// Incident holds.
    pub holds: Vec<Hold>,
    /// Access requests.
    pub access: Vec<AccessRequest>,
    /// Erasure requests.
    pub erasures: Vec<ErasureRequest>,
}

/// Names used in errors for each input list (a file path, or a description).
#[derive(Clone, Debug)]
pub(super) struct Sources {
    pub(super) recordings: String,
    pub(super) holds: String,
    pub(super) access: String,
    pub(super) erasures: String,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            recordings: "<recordings>".into(),
            holds: "<holds>".into(),
            access: "<access requests>".into(),
            erasures: "<erasure requests>".into(),
        }
    }
}

impl PlanInput {
    /// Checks every record: non-blank ids, windows that do not end before they start, holds
    /// resolved no earlier than opened, requests handled no earlier than received, unique
    /// recording paths.
    ///
    /// # Errors
    /// [`AuditError::InvalidInput`] naming the list, the index and the problem.
    pub fn validate(&self) -> Result<(), AuditError> {
        self.validate_named(&Sources::default())
    }

    pub(super) fn validate_named(&self, src: &Sources) -> Result<(), AuditError> {
        let bad = |file: &String, what, index, reason: String| AuditError::InvalidInput {
            file: file.clone(),
            what,
            index,
            reason,
        };
        let blank = |s: &str| s.trim().is_empty();
        let mut paths = HashSet::new();
        for (i, r) in self.recordings.iter().enumerate() {
            let f = &src.recordings;
            if blank(&r.camera) {
                return Err(bad(f, "recording", i, "camera is blank".into()));
            }
            if blank(&r.path) {
                return Err(bad(f, "recording", i, "path is blank".into()));
            }
            if r.start > r.end {
                return Err(bad(
                    f,
                    "recording",
                    i,
                    format!("ends ({}) before it starts ({})", r.end, r.start),
                ));
            }
            if !paths.insert(r.path.as_str()) {
                return Err(bad(f, "recording", i, format!("path `{}` listed twice", r.path)));
            }
        }
        for (i, h) in self.holds.iter().enumerate() {
            let f = &src.holds;
            if blank(&h.incident) || blank(&h.camera) {
                return Err(bad(f, "hold", i, "incident or camera is blank".into()));
            }
            h.window.check().map_err(|r| bad(f, "hold", i, r))?;
            if let Some(res) = h.resolved {
                if res < h.opened {
                    return Err(bad(
                        f,
                        "hold",
                        i,
                        format!("resolved ({res}) before opened ({})", h.opened),
                    ));
                }
            }
        }
        for (i, a) in self.access.iter().enumerate() {
            let f = &src.access;
            if blank(&a.reference) || blank(&a.camera) {
                return Err(bad(f, "access request", i, "reference or camera is blank".into()));
            }
            a.window.check().map_err(|r| bad(f, "access request", i, r))?;
            if let Some(done) = a.handled {
                if done < a.received {
                    return Err(bad(
                        f,
                        "access request",
                        i,
                        format!("handled ({done}) before received ({})", a.received),
                    ));
                }
            }
        }
        for (i, e) in self.erasures.iter().enumerate() {
            let f = &src.erasures;
            if blank(&e.reference) || blank(&e.camera) {
                return Err(bad(
                    f,
                    "erasure request",
                    i,
                    "reference or camera is blank".into(),
                ));
            }
            e.window.check().map_err(|r| bad(f, "erasure request", i, r))?;
        }
        Ok(())
    }
}
pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, AuditError> {
    let bytes = std::fs::read(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "read",
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| AuditError::Json {
        file: path.display().to_string(),
        source,
    })
}

fn check_version(file: &Path, found: u32) -> Result<(), AuditError> {
    if found == PLAN_VERSION {
        Ok(())
    } else {
        Err(AuditError::UnsupportedVersion {
            file: file.display().to_string(),
            found,
            supported: PLAN_VERSION,
        })
    }
}

/// Reads a recordings file.
///
/// # Errors
/// [`AuditError::Io`], [`AuditError::Json`], [`AuditError::UnsupportedVersion`].
pub fn load_recordings(path: impl AsRef<Path>) -> Result<Vec<Recording>, AuditError> {
    let f: RecordingsFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.recordings)
}

/// Reads a holds file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_holds(path: impl AsRef<Path>) -> Result<Vec<Hold>, AuditError> {
    let f: HoldsFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.holds)
}

/// Reads an access requests file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_access(path: impl AsRef<Path>) -> Result<Vec<AccessRequest>, AuditError> {
    let f: AccessFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.requests)
}

/// Reads an erasure requests file.
///
/// # Errors
/// As [`load_recordings`].
pub fn load_erasures(path: impl AsRef<Path>) -> Result<Vec<ErasureRequest>, AuditError> {
    let f: ErasuresFile = read_json(path.as_ref())?;
    check_version(path.as_ref(), f.version)?;
    Ok(f.requests)
}
