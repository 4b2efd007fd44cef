//! The protocol rules checked before anything is appended: what each action needs
//! ([`NewEntry::validate`]) and purpose limitation ([`check_purpose`]).

use serde::Serialize;

use crate::entry::NewEntry;
use crate::hash::is_sha256_hex;
use crate::vocab::{Action, BasisKind, LegalBasis};
use crate::AuditError;

impl NewEntry {
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
    ///   limitation as for `view`; operator tracklets, if any, written `TRACK.INDEX` (only
    ///   an export has them);
    /// - `disclose`: camera, recipient, and a basis of `police-order` or `own-report`
    ///   (otherwise [`AuditError::DisclosureWithoutLegalBasis`]);
    /// - `erase`: camera, window and an `erasure-request` basis; `hold`: camera and an
    ///   `incident` basis; `release`: camera and the basis of what it releases (an `incident`
    ///   hold, or an `inzage` request whose footage need no longer be kept); `request`:
    ///   camera, window and a basis; `delete` and `note`: camera.
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
        if !self.operator_tracklets.is_empty() && action != Action::Export {
            return Err(AuditError::InvalidEntry {
                reason: format!("operator_tracklets belong to an export entry, not {action}"),
            });
        }
        if let Some(t) = self.operator_tracklets.iter().find(|t| !is_tracklet(t)) {
            return Err(AuditError::InvalidEntry {
                reason: format!("operator tracklet `{t}` is not TRACK.INDEX (e.g. 3.2)"),
            });
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
            Action::Hold => {
                need_camera()?;
                if basis_kind != Some(BasisKind::Incident) {
                    return Err(missing("an incident basis"));
                }
            }
            Action::Release => {
                need_camera()?;
                if !matches!(basis_kind, Some(BasisKind::Incident | BasisKind::Inzage)) {
                    return Err(missing(
                        "the basis of what it releases (incident:REF for a hold, inzage:REF for an access request)",
                    ));
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

/// `TRACK.INDEX`: digits, a dot, digits not all zero (a tracklet name, e.g. `3.2`).
fn is_tracklet(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    s.split_once('.')
        .is_some_and(|(t, i)| digits(t) && digits(i) && i.bytes().any(|b| b != b'0'))
}
