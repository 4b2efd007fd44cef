//! Retention limits per camera.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::input::read_json;
use crate::AuditError;

/// Default retention: four weeks.
pub const DEFAULT_RETENTION_DAYS: u32 = 28;

/// Retention limits in days: a default and per-camera overrides.
/// JSON: `{"default_days": 28, "cameras": {"cam-entrance": 7}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Limit for cameras without an override.
    pub default_days: u32,
    /// Per-camera limits.
    #[serde(default)]
    pub cameras: BTreeMap<String, u32>,
}

impl Default for Policy {
    /// 28 days for every camera.
    fn default() -> Self {
        Policy {
            default_days: DEFAULT_RETENTION_DAYS,
            cameras: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// The limit for `camera`.
    pub fn days_for(&self, camera: &str) -> u32 {
        self.cameras.get(camera).copied().unwrap_or(self.default_days)
    }

    /// Checks that every limit is at least one day.
    ///
    /// # Errors
    /// [`AuditError::InvalidPolicy`] naming the offending limit.
    pub fn validate(&self) -> Result<(), AuditError> {
        if self.default_days == 0 {
            return Err(AuditError::InvalidPolicy {
                reason: "default_days is 0".into(),
            });
        }
        if let Some((cam, _)) = self.cameras.iter().find(|(_, d)| **d == 0) {
            return Err(AuditError::InvalidPolicy {
                reason: format!("camera `{cam}` has 0 days"),
            });
        }
        Ok(())
    }

    /// Reads a policy from a JSON file.
    ///
    /// # Errors
    /// [`AuditError::Io`], [`AuditError::Json`] or [`AuditError::InvalidPolicy`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let policy: Policy = read_json(path.as_ref())?;
        policy.validate()?;
        Ok(policy)
    }
}
