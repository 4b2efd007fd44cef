//! Camera configuration: the zone file.
//!
//! ```toml
//! [camera]
//! id = "entrance-north"
//! purposes = ["safety", "vandalism"]        # why this camera exists (protocol: named purpose)
//! responsible = "Facility management"       # who is accountable for it
//!
//! [[zones]]
//! kind = "dwelling-door"     # dwelling-door | dwelling-window | workplace | public-road | custom
//! label = "Front door no. 12"
//! polygon = [[0.10, 0.20], [0.18, 0.20], [0.18, 0.55], [0.10, 0.55]]   # x, y normalised
//! style = "solid"            # optional: solid (default) | pixelate | blur | weak-blur
//! ```
//!
//! Optional per-zone keys: `block` (pixelate block size in luma pixels, at least
//! [`MIN_PIXELATE_BLOCK`]) and `radius` (radius of either blur in luma pixels). Unknown keys are errors,
//! because a misspelt key in a privacy configuration must not be silently ignored.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ConfigError;
use crate::geometry::Polygon;

/// Smallest pixelate block accepted for a zone; smaller blocks keep too much detail.
pub const MIN_PIXELATE_BLOCK: u32 = 8;

/// What a forbidden zone covers (the camera protocol's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKind {
    /// The front door of a dwelling.
    DwellingDoor,
    /// A window of a dwelling.
    DwellingWindow,
    /// A fixed workplace.
    Workplace,
    /// Public road, shown only where unavoidable.
    PublicRoad,
    /// Anything else the operator masks.
    Custom,
}

/// How a zone is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneStyle {
    /// Solid black: irreversible, the default.
    #[default]
    Solid,
    /// Blocks of their mean value: irreversible for blocks of at least [`MIN_PIXELATE_BLOCK`].
    Pixelate,
    /// A blur computed from noisy coarse cells (`blur`): irreversible, it keeps nothing finer
    /// than a cell of two thirds of the radius, and the cells' means only to within random
    /// noise (see [`crate::Redaction::Blur`]).
    Blur,
    /// The plain box blur (`weak-blur`): NOT irreversible (a blur is a linear filter that can
    /// be partly inverted when the kernel is known). Only by this explicit name.
    WeakBlur,
}

/// One forbidden zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Category.
    pub kind: ZoneKind,
    /// Human-readable label ("Front door no. 12").
    pub label: String,
    /// Outline in normalised coordinates.
    pub polygon: Polygon,
    /// Redaction style.
    pub style: ZoneStyle,
    /// Pixelate block size in luma pixels (`None`: scaled to the frame width).
    pub block: Option<u32>,
    /// Blur radius (either blur) in luma pixels (`None`: scaled to the frame width).
    pub radius: Option<u32>,
}

/// A camera and its forbidden zones, as read from a zone file.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraConfig {
    /// Camera identifier.
    pub id: String,
    /// Why this camera exists; footage may not be used for anything else.
    pub purposes: Vec<String>,
    /// Who is accountable for the camera.
    pub responsible: String,
    /// Forbidden zones, masked at capture time.
    pub zones: Vec<Zone>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    camera: RawCamera,
    #[serde(default)]
    zones: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCamera {
    id: String,
    purposes: Vec<String>,
    responsible: String,
    /// The recorder's keys ([`crate::zonefile::CameraRecording`]): accepted here, read and
    /// checked by [`crate::zonefile::camera_recording`].
    #[serde(flatten)]
    _recording: crate::recording::RecordingKeys,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    kind: ZoneKind,
    label: String,
    polygon: Polygon,
    #[serde(default)]
    style: ZoneStyle,
    block: Option<u32>,
    radius: Option<u32>,
}

impl CameraConfig {
    /// Read and validate a zone file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, and the zone (index and label) where one is at fault.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parse and validate zone-file text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError`] naming `origin`, and the zone (index and label) where one is at fault.
    pub fn from_toml_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path: PathBuf = origin.as_ref().to_path_buf();
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            reason: e.to_string().trim_end().replace('\n', " "),
        })?;
        let camera_err = |reason: &str| ConfigError::Camera {
            path: path.clone(),
            reason: reason.to_string(),
        };
        if raw.camera.id.trim().is_empty() {
            return Err(camera_err("id is empty"));
        }
        if raw.camera.purposes.is_empty() || raw.camera.purposes.iter().any(|p| p.trim().is_empty()) {
            return Err(camera_err("purposes must name at least one purpose, none empty"));
        }
        if raw.camera.responsible.trim().is_empty() {
            return Err(camera_err("responsible is empty"));
        }
        let mut zones = Vec::with_capacity(raw.zones.len());
        for (index, table) in raw.zones.into_iter().enumerate() {
            let label = table
                .get("label")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let zone_err = |reason: String| ConfigError::Zone {
                path: path.clone(),
                index,
                label: label.clone(),
                reason,
            };
            let z: RawZone = RawZone::deserialize(toml::Value::Table(table))
                .map_err(|e| zone_err(e.message().to_string()))?;
            z.polygon.validate().map_err(zone_err)?;
            if let Some(b) = z.block {
                if !(MIN_PIXELATE_BLOCK..=512).contains(&b) {
                    return Err(zone_err(format!(
                        "block {b} outside {MIN_PIXELATE_BLOCK}..=512 (smaller blocks keep recognisable detail)"
                    )));
                }
            }
            if let Some(r) = z.radius {
                if !(2..=256).contains(&r) {
                    return Err(zone_err(format!("radius {r} outside 2..=256")));
                }
            }
            zones.push(Zone {
                kind: z.kind,
                label: z.label,
                polygon: z.polygon,
                style: z.style,
                block: z.block,
                radius: z.radius,
            });
        }
        Ok(CameraConfig {
            id: raw.camera.id,
            purposes: raw.camera.purposes,
            responsible: raw.camera.responsible,
            zones,
        })
    }
}
