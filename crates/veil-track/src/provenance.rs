//! The provenance of a tracks document: how the analysis that made it detected (the
//! models, thresholds and detection cadence), and its validation.

use serde::{Deserialize, Serialize};

/// How the analysis that made a tracks document detected: with
/// [`Tracks::min_face`](crate::Tracks::min_face) and
/// [`Tracks::min_person`](crate::Tracks::min_person), what an auditor needs to reproduce its
/// boxes, and what an export needs to know that its temporal padding covers the frames
/// between detections. Every member is optional in the file (`None`, no models: not
/// recorded, as in files written before Veil recorded them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provenance {
    /// The Veil version that ran the analysis.
    pub veil_version: Option<String>,
    /// The models that ran, with the SHA-256 verified when each was loaded.
    pub models: Vec<DetectorModel>,
    /// Score threshold of the face detector (a higher one can leave faces unredacted).
    pub face_threshold: Option<f32>,
    /// Score threshold of the person detector.
    pub person_threshold: Option<f32>,
    /// The detectors ran on every `every`-th frame (and the last of the window); 1: every
    /// frame. The frames between have only interpolated and padded boxes, so an export must
    /// hold boxes at least `every - 1` frames.
    pub every: Option<u32>,
    /// Of the frames detected, the person detector ran on every `person_every`-th.
    pub person_every: Option<u32>,
    /// Activity gating: a frame was left unsearched only when it showed the same scene as
    /// one searched in full with nobody found and no track alive, and a full search ran at
    /// least every `full_search_every` seconds whatever was skipped. `None`: every frame
    /// the detectors were due on was searched (gating off, or a file of an older Veil).
    pub full_search_every: Option<f64>,
    /// Of the frames searched one after another, the `changes_only` after each full face
    /// search were searched for faces only where the picture changed since the frame before
    /// (the faces elsewhere carried from that frame's result); 0: every frame in full. An object such a search saw cut is
    /// found at most `changes_only` frames later, so an export must hold boxes at least that
    /// many frames. `None`: not recorded (every frame in full, an older Veil).
    pub changes_only: Option<u32>,
}

impl Provenance {
    /// The record, validated, with hashes in lowercase.
    pub(crate) fn checked(mut self) -> Result<Provenance, String> {
        for (name, t) in [
            ("face_threshold", self.face_threshold),
            ("person_threshold", self.person_threshold),
        ] {
            if let Some(t) = t.filter(|t| !(0.0..=1.0).contains(t)) {
                return Err(format!("{name} {t} is not in 0..=1"));
            }
        }
        for (name, n) in [("every", self.every), ("person_every", self.person_every)] {
            if n == Some(0) {
                return Err(format!("{name} is 0 (at least 1)"));
            }
        }
        if let Some(s) = self.full_search_every.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(format!(
                "full_search_every {s} is not a positive number of seconds"
            ));
        }
        if self.veil_version.as_deref().is_some_and(str::is_empty) {
            return Err("veil_version is empty".into());
        }
        for (i, m) in self.models.iter_mut().enumerate() {
            if m.name.is_empty() || m.file.is_empty() {
                return Err(format!("models[{i}] has an empty name or file"));
            }
            if m.device.as_deref().is_some_and(str::is_empty) {
                return Err(format!("models[{i}] ({}): device is empty", m.file));
            }
            m.sha256 = check_sha256(Some(&m.sha256))
                .map_err(|_| {
                    format!(
                        "models[{i}] ({}): sha256 {:?} is not 64 hexadecimal digits",
                        m.file, m.sha256
                    )
                })?
                .unwrap_or_default();
        }
        Ok(self)
    }
}

/// A model that ran in the analysis (see [`Provenance::models`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorModel {
    /// Model name in the models directory's manifest (`centerface`, `nanodet`).
    pub name: String,
    /// Model file name.
    pub file: String,
    /// SHA-256 of the file, verified when it was loaded (64 lowercase hex digits).
    pub sha256: String,
    /// The device its network ran on (`cpu`, `cuda`, `tensorrt`; `None`: not recorded, as in
    /// files written before Veil could run on a GPU, which ran on the CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The hash in lowercase, if it is 64 hex digits.
pub(crate) fn check_sha256(hex: Option<&str>) -> Result<Option<String>, String> {
    match hex {
        None => Ok(None),
        Some(h) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(h) => Err(format!("source_sha256 {h:?} is not 64 hexadecimal digits")),
    }
}
