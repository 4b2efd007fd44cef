//! Governance for Veil: a tamper-evident audit log, a retention and legal-hold planner,
//! erasure requests and purpose limitation.
//!
//! The camera protocols Veil serves require that footage is kept at most four weeks (longer
//! only while an incident is open, and only until it is resolved); that a filmed person's
//! erasure request is granted when nothing requires keeping the footage; that every request
//! for footage and every viewing or export is logged with who and when; that footage goes to
//! police or justice only on a legal order (or the operator's own report of a crime); and that
//! footage is used only for the camera's declared purposes. This crate implements those rules;
//! it never touches video files itself (the NVR or the `redact` CLI acts on its answers).
//!
//! # The audit log
//!
//! A log is a UTF-8 file of JSON lines, one [`Entry`] per line, each line ending in `\n`.
//! Append with [`AuditLog::append`] (or [`append_entry`]); check with [`verify_file`].
//!
//! ```
//! use veil_audit::{AuditLog, BasisKind, LegalBasis, NewEntry, Action, Timestamp, Window};
//! # let dir = std::env::temp_dir().join(format!("veil-audit-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("audit.jsonl");
//! # let _ = std::fs::remove_file(&path);
//! let log = AuditLog::new(&path);
//! let window = Window::new(
//!     Timestamp::parse("2026-03-01T09:00:00Z")?,
//!     Timestamp::parse("2026-03-01T09:10:00Z")?,
//! )?;
//! let purposes = vec!["security".to_string()];
//! let entry = log.append(
//!     &NewEntry::new("j.jansen", Action::View, "check the break-in reported on 1 March")
//!         .camera("cam-entrance")
//!         .window(window)
//!         .purpose("security"),
//!     &purposes,
//! )?;
//! assert_eq!(entry.seq, 1);
//!
//! // Handing footage to the police without an order is refused, not merely logged.
//! let refused = log.append(
//!     &NewEntry::new("j.jansen", Action::Disclose, "police asked by phone")
//!         .camera("cam-entrance")
//!         .recipient("police")
//!         .window(window),
//!     &purposes,
//! );
//! assert!(matches!(refused, Err(veil_audit::AuditError::DisclosureWithoutLegalBasis { .. })));
//! log.append(
//!     &NewEntry::new("j.jansen", Action::Disclose, "order for the break-in of 1 March")
//!         .camera("cam-entrance")
//!         .recipient("police")
//!         .window(window)
//!         .basis("police-order:PV-2026-0142".parse()?),
//!     &purposes,
//! )?;
//!
//! let summary = veil_audit::verify_file(&path)?;
//! assert!(summary.is_intact());
//! assert_eq!(summary.entries, 2);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), veil_audit::AuditError>(())
//! ```
//!
//! ## Entry format and canonical form
//!
//! Every line is one JSON object with exactly these members, in this order, all present
//! (absent optional values are `null`) except `operator_tracklets`, which is written only
//! when it is not empty (so entries without it, including every entry written before it
//! existed, keep their bytes), with no whitespace between tokens:
//!
//! | member | type | meaning |
//! |---|---|---|
//! | `version` | integer | `1` |
//! | `seq` | integer | 1 for the first line, then +1 per line |
//! | `time` | string | UTC, RFC 3339, `Z` suffix, fraction digits only if non-zero |
//! | `actor` | string | who |
//! | `action` | string | `view`, `export`, `disclose`, `erase`, `delete`, `hold`, `release`, `request`, `config-change`, `note` |
//! | `camera` | string or null | camera id |
//! | `window` | `{"from":time,"to":time}` or null | footage concerned |
//! | `purpose` | string or null | purpose of use |
//! | `basis` | `{"kind":k,"reference":r}` or null | `k` is `inzage`, `police-order`, `own-report`, `incident` or `erasure-request` |
//! | `recipient` | string or null | third party (disclosures) |
//! | `reason` | string | free text |
//! | `manifest_sha256` | string or null | export manifest's SHA-256, 64 lowercase hex digits |
//! | `operator_tracklets` | array of strings, only when not empty | exports: the tracklets (`3.2`) the actor added to the requester after review |
//! | `prev` | string | `hash` of the previous line; 64 `0`s for the first line |
//! | `hash` | string | SHA-256 of this entry's canonical bytes, 64 lowercase hex digits |
//!
//! Strings are escaped as serde_json writes them: `"` and `\` backslash-escaped; `\b \f \n
//! \r \t` for those controls and `\u00XX` (lowercase hex) for other characters below U+0020;
//! everything else (including non-ASCII) as raw UTF-8.
//!
//! **Canonical bytes** of an entry: the object above *without* the `hash` member. Because
//! `hash` is the last member, an auditor can re-implement verification without any JSON
//! writer: for each line, check that it ends with `,"hash":"` + 64 hex digits + `"}`, remove
//! that suffix and append `}`; the SHA-256 of the result must equal the hex digits, the
//! line's `prev` must equal the previous line's hash, and `seq` must equal the line number.
//! [`verify_file`] additionally requires each line to be exactly what this crate would write
//! for the parsed entry (so one entry has exactly one valid spelling), and classifies the
//! first failure ([`TamperKind`]): altered, not canonical, malformed, removed, reordered,
//! inserted, chain broken, truncated last line.
//!
//! **What the chain does and does not prove.** The hashes are unkeyed: anyone who can write
//! the file can append a well-formed entry at the end, or recompute the whole chain. The chain
//! makes any edit, removal, insertion or reordering *before the last entry* detectable; to
//! detect removal of the last entries or a wholesale rewrite, record the head
//! ([`VerifySummary::head`], an [`Anchor`]) somewhere else (a periodic report, the export
//! manifest) and use [`verify_file_with_anchor`].
//!
//! ## Durability and concurrency
//!
//! [`AuditLog::append`] opens the file with `O_APPEND`, takes an exclusive `flock` (blocking),
//! reads and checks the last entry, writes the new line in one `write`, `fsync`s the file and
//! releases the lock. When it creates the file it also `fsync`s the directory, so the log
//! itself survives a crash. The log is append-only, so the usual temp-file + rename of Veil's
//! outputs does not apply; a crash mid-write leaves an incomplete last line instead, which
//! `verify` reports as [`TamperKind::TruncatedLastLine`].
//!
//! **A log ending in an incomplete line is never appended to**: [`AuditLog::append`] fails
//! with [`AuditError::TruncatedLog`] (and with [`AuditError::CorruptTail`] when the last line
//! is complete but invalid). Repairing automatically would chain new entries onto a log whose
//! damage nobody looked at, and a torn line may as well be tampering. The operator repairs
//! explicitly with [`AuditLog::repair_torn_tail`]: it refuses unless every complete line
//! verifies, saves the torn bytes beside the log, cuts them off, and appends a
//! `config-change` entry recording what was cut (byte count and SHA-256).
//!
//! ## Rules enforced on append
//!
//! [`NewEntry::validate`] lists them. In short: a `disclose` needs a `police-order` or
//! `own-report` basis ([`AuditError::DisclosureWithoutLegalBasis`] otherwise); a `view` or
//! `export` must state a purpose among the camera's purposes unless a police order or an
//! access request (inzage) overrides it ([`check_purpose`], [`AuditError::PurposeNotAllowed`]);
//! an `export` carries its manifest's SHA-256 ([`sha256_file`]) and a basis (`inzage`,
//! `police-order`, `own-report` or `incident`). Nothing is written when a rule fails.
//!
//! # Retention planning
//!
//! [`plan`] (in memory) or [`plan_from_files`] decides, for each recording, whether it is
//! deleted now or kept and by which rule ([`KeepReason`], [`DeleteReason`]), and decides each
//! erasure request ([`ErasureDecision`]). It never deletes footage under an open incident
//! hold or covered by a pending access request, and reports footage kept past its limit
//! ([`Plan::over_limit`]). The rules are listed on [`plan`].
//!
//! ## Input files
//!
//! All times are RFC 3339 (any offset; converted to UTC). Windows are closed intervals
//! `{"from": ..., "to": ...}`. Every file carries `"version": 1`; unknown members are
//! refused (a misspelt `resolved` must not silently mean "still open").
//!
//! **Recordings** ([`RecordingsFile`]): one object per stored file; retention counts from
//! `end`.
//! ```
//! let json = r#"{
//!   "version": 1,
//!   "recordings": [
//!     {"camera": "cam-entrance", "start": "2026-03-01T00:00:00Z",
//!      "end": "2026-03-01T01:00:00Z", "path": "/nvr/cam-entrance/2026-03-01T00.mp4"}
//!   ]
//! }"#;
//! let file: veil_audit::RecordingsFile = serde_json::from_str(json).unwrap();
//! assert_eq!(file.recordings[0].camera, "cam-entrance");
//! ```
//!
//! **Incident holds** ([`HoldsFile`]): `resolved` is `null` (or absent) while the incident is
//! open.
//! ```
//! let json = r#"{
//!   "version": 1,
//!   "holds": [
//!     {"incident": "INC-2026-031", "camera": "cam-entrance",
//!      "window": {"from": "2026-03-01T00:20:00Z", "to": "2026-03-01T00:40:00Z"},
//!      "opened": "2026-03-02T08:00:00Z", "resolved": null},
//!     {"incident": "INC-2026-007", "camera": "cam-yard",
//!      "window": {"from": "2026-01-10T12:00:00+01:00", "to": "2026-01-10T13:00:00+01:00"},
//!      "opened": "2026-01-11T08:00:00Z", "resolved": "2026-02-20T16:00:00Z"}
//!   ]
//! }"#;
//! let file: veil_audit::HoldsFile = serde_json::from_str(json).unwrap();
//! assert!(file.holds[0].resolved.is_none());
//! ```
//!
//! **Access requests** (inzage, [`AccessFile`]): `handled` is `null` (or absent) while
//! pending.
//! ```
//! let json = r#"{
//!   "version": 1,
//!   "requests": [
//!     {"reference": "AR-2026-12", "camera": "cam-entrance",
//!      "window": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T00:15:00Z"},
//!      "received": "2026-03-20T10:00:00Z", "handled": null}
//!   ]
//! }"#;
//! let file: veil_audit::AccessFile = serde_json::from_str(json).unwrap();
//! assert_eq!(file.requests[0].reference, "AR-2026-12");
//! ```
//!
//! **Erasure requests** ([`ErasuresFile`]): the planner decides each one (granted when nothing
//! requires keeping the footage, refused with the reason otherwise).
//! ```
//! let json = r#"{
//!   "version": 1,
//!   "requests": [
//!     {"reference": "ER-2026-04", "requester": "resident, Dorpsstraat 3",
//!      "camera": "cam-entrance",
//!      "window": {"from": "2026-03-01T00:30:00Z", "to": "2026-03-01T00:35:00Z"},
//!      "received": "2026-03-05T09:00:00Z"}
//!   ]
//! }"#;
//! let file: veil_audit::ErasuresFile = serde_json::from_str(json).unwrap();
//! assert_eq!(file.requests[0].requester, "resident, Dorpsstraat 3");
//! ```
//!
//! **Policy** ([`Policy`], optional, default 28 days):
//! `{"default_days": 28, "cameras": {"cam-yard": 7}}`.
//!
//! ## A plan
//!
//! ```
//! use veil_audit::{plan, Hold, KeepReason, PlanInput, Policy, Recording, Timestamp, Window};
//! let t = |s: &str| Timestamp::parse(s).unwrap();
//! let rec = |path: &str, start: &str, end: &str| Recording {
//!     camera: "cam-entrance".into(), start: t(start), end: t(end), path: path.into(), bytes: None,
//! };
//! let input = PlanInput {
//!     recordings: vec![
//!         rec("old.mp4", "2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"),
//!         rec("incident.mp4", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"),
//!         rec("recent.mp4", "2026-04-01T00:00:00Z", "2026-04-01T01:00:00Z"),
//!     ],
//!     holds: vec![Hold {
//!         incident: "INC-1".into(), camera: "cam-entrance".into(),
//!         window: Window { from: t("2026-03-02T00:30:00Z"), to: t("2026-03-02T00:31:00Z") },
//!         opened: t("2026-03-03T00:00:00Z"), resolved: None,
//!     }],
//!     ..PlanInput::default()
//! };
//! // Five weeks after the first recording.
//! let p = plan(&input, &Policy::default(), t("2026-04-05T00:00:00Z")).unwrap();
//! assert_eq!(p.delete.len(), 1);
//! assert_eq!(p.delete[0].recording.path, "old.mp4");
//! let over: Vec<_> = p.over_limit().collect();
//! assert_eq!(over[0].recording.path, "incident.mp4");
//! assert_eq!(over[0].reasons, vec![KeepReason::OpenHold { incident: "INC-1".into() }]);
//! ```

mod entry;
mod error;
mod file;
mod hash;
mod lock;
mod parse;
mod retention;
mod rules;
mod tamper;
mod time;
mod verify;
mod vocab;

pub use entry::{Entry, NewEntry, ENTRY_VERSION, GENESIS_PREV};
pub use error::AuditError;
pub use file::{append_entry, AuditLog, TornTailRepair};
pub use hash::{sha256_file, sha256_hex};
pub use retention::{
    apply_storage_budget, load_access, load_erasures, load_holds, load_recordings, plan, plan_from_files,
    plan_with_retention, AccessFile, AccessRequest, BudgetPlan, DeleteReason, Deletion, ErasureDecision,
    ErasureOutcome, ErasureRequest, ErasuresFile, Hold, HoldsFile, KeepReason, Plan, PlanInput, Policy,
    Recording, RecordingsFile, RefusedErasure, Retained, DEFAULT_RETENTION_DAYS, PLAN_VERSION,
};
pub use rules::{check_purpose, PurposeCheck};
pub use tamper::{Anchor, Tamper, TamperKind, VerifySummary};
pub use time::{Timestamp, Window};
pub use verify::{verify_file, verify_file_with_anchor, verify_reader};
pub use vocab::{Action, BasisKind, LegalBasis};
