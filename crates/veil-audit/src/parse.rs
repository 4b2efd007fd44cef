//! Reading the log's vocabulary from its text form (the command line): `view`,
//! `police-order:PV-1`. Kept apart from `vocab.rs` because these report [`AuditError`]s, and
//! the error type itself names an [`Action`].

use std::str::FromStr;

use crate::vocab::{Action, BasisKind, LegalBasis};
use crate::AuditError;

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
