//! Rules enforced before anything is written: legal basis, purpose limitation, fields.

use veil_audit::{
    check_purpose, Action, AuditError, AuditLog, BasisKind, LegalBasis, NewEntry, PurposeCheck, Window,
};

use crate::common::{purposes, t, temp_dir};

fn window() -> Window {
    Window::new(t("2026-03-01T09:00:00Z"), t("2026-03-01T09:10:00Z")).unwrap()
}

fn export(purpose: &str, basis: &str) -> NewEntry {
    NewEntry::new("j.jansen", Action::Export, "requested export")
        .camera("cam-entrance")
        .window(window())
        .purpose(purpose)
        .basis(basis.parse().unwrap())
        .manifest_sha256("AB".repeat(32))
}

fn disclose() -> NewEntry {
    NewEntry::new("j.jansen", Action::Disclose, "hand over footage")
        .camera("cam-entrance")
        .window(window())
        .recipient("Politie eenheid Noord")
}

#[test]
fn disclosure_without_basis_is_refused_and_nothing_is_written() {
    let dir = temp_dir("disclose");
    let path = dir.join("audit.jsonl");
    let log = AuditLog::new(&path);
    let err = log.append(&disclose(), &purposes()).unwrap_err();
    assert!(
        matches!(err, AuditError::DisclosureWithoutLegalBasis { .. }),
        "{err}"
    );
    assert!(!path.exists(), "a refused entry must not even create the log");

    // An access request is not a basis for handing footage to a third party.
    let err = log
        .append(&disclose().basis("inzage:AR-1".parse().unwrap()), &purposes())
        .unwrap_err();
    assert!(
        matches!(err, AuditError::DisclosureWithoutLegalBasis { .. }),
        "{err}"
    );

    // A police order or the operator's own report is.
    log.append(
        &disclose().basis("police-order:PV-1".parse().unwrap()),
        &purposes(),
    )
    .unwrap();
    log.append(&disclose().basis("own-report:AG-7".parse().unwrap()), &purposes())
        .unwrap();
    assert_eq!(veil_audit::verify_file(&path).unwrap().entries, 2);
}

#[test]
fn disclosure_needs_a_recipient() {
    let dir = temp_dir("recipient");
    let log = AuditLog::new(dir.join("audit.jsonl"));
    let mut e = disclose().basis("police-order:PV-1".parse().unwrap());
    e.recipient = None;
    let err = log.append(&e, &purposes()).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::MissingField {
                action: Action::Disclose,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn purpose_limitation() {
    let p = purposes();
    assert_eq!(
        check_purpose(&p, "Security", None).unwrap(),
        PurposeCheck::InPurpose
    );
    let err = check_purpose(&p, "marketing", None).unwrap_err();
    assert!(matches!(err, AuditError::PurposeNotAllowed { .. }));
    assert!(err.to_string().contains("security, safety of visitors"), "{err}");
    let own: LegalBasis = "own-report:AG-1".parse().unwrap();
    assert!(check_purpose(&p, "staff monitoring", Some(&own)).is_err());
    let order: LegalBasis = "police-order:PV-1".parse().unwrap();
    assert_eq!(
        check_purpose(&p, "criminal investigation", Some(&order)).unwrap(),
        PurposeCheck::OverriddenBy {
            basis: BasisKind::PoliceOrder
        }
    );
    // A camera without declared purposes may not be used without an overriding basis.
    assert!(check_purpose(&[], "security", None).is_err());
}

#[test]
fn export_outside_the_camera_purposes_is_refused_unless_ordered() {
    let dir = temp_dir("export");
    let path = dir.join("audit.jsonl");
    let log = AuditLog::new(&path);
    let err = log
        .append(&export("staff monitoring", "own-report:AG-1"), &purposes())
        .unwrap_err();
    assert!(matches!(err, AuditError::PurposeNotAllowed { .. }), "{err}");
    let e = log
        .append(
            &export("criminal investigation", "police-order:PV-1"),
            &purposes(),
        )
        .unwrap();
    assert_eq!(e.manifest_sha256.as_deref(), Some("ab".repeat(32).as_str()));
    log.append(&export("security", "own-report:AG-1"), &purposes())
        .unwrap();
    // A view for another purpose is refused too.
    let view = NewEntry::new("guard", Action::View, "curious")
        .camera("cam-entrance")
        .purpose("staff monitoring");
    assert!(matches!(
        log.append(&view, &purposes()),
        Err(AuditError::PurposeNotAllowed { .. })
    ));
    assert_eq!(veil_audit::verify_file(&path).unwrap().entries, 2);
}

#[test]
fn export_needs_manifest_hash_and_basis() {
    let log = AuditLog::new(temp_dir("export-fields").join("audit.jsonl"));
    let mut e = export("security", "inzage:AR-1");
    e.manifest_sha256 = None;
    assert!(matches!(
        log.append(&e, &purposes()),
        Err(AuditError::MissingField { .. })
    ));
    let mut e = export("security", "inzage:AR-1");
    e.basis = None;
    assert!(matches!(
        log.append(&e, &purposes()),
        Err(AuditError::MissingField { .. })
    ));
    let e = export("security", "inzage:AR-1").manifest_sha256("not-a-hash");
    assert!(matches!(
        log.append(&e, &purposes()),
        Err(AuditError::InvalidEntry { .. })
    ));
    let mut e = export("security", "inzage:AR-1");
    e.reason = "  ".into();
    assert!(matches!(
        log.append(&e, &purposes()),
        Err(AuditError::MissingField { .. })
    ));
}

#[test]
fn window_must_not_end_before_it_starts() {
    let err = Window::new(t("2026-03-01T10:00:00Z"), t("2026-03-01T09:00:00Z")).unwrap_err();
    assert!(matches!(err, AuditError::InvalidEntry { .. }));
}

#[test]
fn legal_basis_and_action_parsing() {
    let b: LegalBasis = "police-order:PV-2026:0142".parse().unwrap();
    assert_eq!(
        (b.kind, b.reference.as_str()),
        (BasisKind::PoliceOrder, "PV-2026:0142")
    );
    assert_eq!(b.to_string(), "police-order:PV-2026:0142");
    for bad in ["inzage", "inzage:", "inzage:  ", "court:1", ""] {
        assert!(
            matches!(bad.parse::<LegalBasis>(), Err(AuditError::InvalidBasis { .. })),
            "{bad}"
        );
    }
    for a in Action::ALL {
        assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
    }
    assert!(matches!(
        "delete-all".parse::<Action>(),
        Err(AuditError::InvalidAction { .. })
    ));
    assert_eq!(
        serde_json::to_string(&Action::ConfigChange).unwrap(),
        "\"config-change\""
    );
}

#[test]
fn timestamps_parse_rfc3339_only() {
    assert!(veil_audit::Timestamp::parse("2026-03-01 10:00:00").is_err());
    assert!(veil_audit::Timestamp::parse("2026-02-30T10:00:00Z").is_err());
    assert_eq!(
        t("2026-03-01T10:00:00.250+02:00").to_string(),
        "2026-03-01T08:00:00.25Z"
    );
}

#[test]
fn purpose_may_be_left_out_only_under_an_overriding_basis() {
    let log = AuditLog::new(temp_dir("no-purpose").join("audit.jsonl"));
    let mut e = export("x", "inzage:AR-1");
    e.purpose = None;
    log.append(&e, &purposes()).unwrap();
    let mut e = export("x", "own-report:AG-1");
    e.purpose = None;
    assert!(matches!(
        log.append(&e, &purposes()),
        Err(AuditError::MissingField { .. })
    ));
    let view = NewEntry::new("guard", Action::View, "look").camera("cam-entrance");
    assert!(matches!(
        log.append(&view, &purposes()),
        Err(AuditError::MissingField { .. })
    ));
}
