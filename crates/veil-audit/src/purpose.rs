//! Purpose limitation: footage may only be used for the camera's declared purposes.

use serde::Serialize;

use crate::log::{BasisKind, LegalBasis};
use crate::AuditError;

/// Why a view or export was allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "allowed", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PurposeCheck {
    /// The stated purpose is one of the camera's purposes.
    InPurpose,
    /// The stated purpose is not, but the legal basis overrides purpose limitation.
    OverriddenBy {
        /// The overriding basis kind.
        basis: BasisKind,
    },
}

/// Checks a view's or export's stated `purpose` against the camera's purposes (the zone
/// file's `[camera] purposes`). Purposes compare trimmed and ASCII case-insensitively.
///
/// A camera without declared purposes allows no purpose: footage may not be used at all
/// except under an overriding basis. A police/justice order or an access request (inzage)
/// overrides ([`BasisKind::overrides_purpose`]); the operator's own report does not (it must
/// fit a declared purpose such as security).
///
/// # Errors
/// [`AuditError::PurposeNotAllowed`] when the purpose is not allowed.
pub fn check_purpose(
    camera_purposes: &[String],
    purpose: &str,
    basis: Option<&LegalBasis>,
) -> Result<PurposeCheck, AuditError> {
    let wanted = purpose.trim();
    if !wanted.is_empty()
        && camera_purposes
            .iter()
            .any(|p| p.trim().eq_ignore_ascii_case(wanted))
    {
        return Ok(PurposeCheck::InPurpose);
    }
    match basis {
        Some(b) if b.kind.overrides_purpose() => Ok(PurposeCheck::OverriddenBy { basis: b.kind }),
        _ => Err(AuditError::PurposeNotAllowed {
            purpose: purpose.to_owned(),
            allowed: camera_purposes.to_vec(),
        }),
    }
}
