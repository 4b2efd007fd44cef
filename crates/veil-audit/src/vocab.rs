//! The log's vocabulary: what was done ([`Action`]) and on which legal basis ([`BasisKind`],
//! [`LegalBasis`]).
//!
//! This module imports nothing else from the crate, so that the error type can name an
//! [`Action`]. Reading these words from text (`FromStr`) and [`LegalBasis::new`] report
//! [`AuditError`](crate::AuditError)s and so live in `parse.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

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
/// command line form `kind:reference` with [`FromStr`](std::str::FromStr).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// The kind of basis.
    pub kind: BasisKind,
    /// The reference of the order, report, request or incident.
    pub reference: String,
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.reference)
    }
}
