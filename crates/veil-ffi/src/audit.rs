//! The audit log: append an entry given as JSON, verify the chain.

use std::ffi::c_char;

use serde::Deserialize;
use veil_audit::{Action, AuditLog, LegalBasis, NewEntry, Window};
use veil_core::CameraConfig;

use crate::error::{report, veil_error, Failure};
use crate::status::veil_status;
use crate::util::{cstr_path, cstr_utf8};

/// The entry JSON accepted by `veil_audit_append`: the members of a stored entry that the
/// caller provides (the log fills in version, seq, time, prev and hash).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    actor: String,
    action: Action,
    reason: String,
    camera: Option<String>,
    window: Option<Window>,
    purpose: Option<String>,
    basis: Option<LegalBasis>,
    recipient: Option<String>,
    manifest_sha256: Option<String>,
}

impl From<EntryJson> for NewEntry {
    fn from(j: EntryJson) -> Self {
        let mut e = NewEntry::new(j.actor, j.action, j.reason);
        e.camera = j.camera;
        e.window = j.window;
        e.purpose = j.purpose;
        e.basis = j.basis;
        e.recipient = j.recipient;
        e.manifest_sha256 = j.manifest_sha256.map(|h| h.to_ascii_lowercase());
        e
    }
}

/// Parse an entry given as JSON (the members of `veil_audit_append`'s `entry_json`).
pub(crate) fn parse_entry(json: &str) -> Result<NewEntry, Failure> {
    let parsed: EntryJson = serde_json::from_str(json).map_err(|e| {
        Failure::new(
            veil_status::VEIL_STATUS_AUDIT_INVALID_ENTRY,
            format!("entry_json: {e}"),
        )
    })?;
    Ok(NewEntry::from(parsed))
}

fn append(
    log_path: *const c_char,
    entry_json: *const c_char,
    camera_toml: *const c_char,
) -> Result<u64, Failure> {
    // SAFETY: NULL or NUL-terminated strings (contract of the export).
    let path = unsafe { cstr_path(log_path, "log_path") }?;
    // SAFETY: as above.
    let json = unsafe { cstr_utf8(entry_json, "entry_json") }?;
    let entry = parse_entry(json)?;
    let purposes = if camera_toml.is_null() {
        Vec::new()
    } else {
        // SAFETY: as above.
        let text = unsafe { cstr_utf8(camera_toml, "camera_toml") }?;
        let config = CameraConfig::from_toml_str(text, "<camera_toml>")?;
        // The purposes only mean something for the camera they belong to.
        if let Some(camera) = &entry.camera {
            if *camera != config.id {
                return Err(Failure::new(
                    veil_status::VEIL_STATUS_INVALID_ARGUMENT,
                    format!(
                        "entry camera `{camera}` but camera_toml describes camera `{}`",
                        config.id
                    ),
                ));
            }
        }
        config.purposes
    };
    let stored = AuditLog::new(path).append(&entry, &purposes)?;
    Ok(stored.seq)
}

/// Append one entry to the hash-chained audit log at `log_path` (created if absent), with
/// the current UTC time; the write is locked against concurrent appenders and fsynced.
///
/// `entry_json` is one JSON object with members `actor`, `action` (`view`, `export`,
/// `disclose`, `erase`, `delete`, `hold`, `release`, `request`, `config-change`) and
/// `reason` (required), and optionally `camera`, `window` (`{"from": RFC 3339, "to": RFC
/// 3339}`), `purpose`, `basis` (`{"kind": "inzage" | "police-order" | "own-report" |
/// "incident" | "erasure-request", "reference": "..."}`), `recipient` and
/// `manifest_sha256`; unknown members are refused. `camera_toml` (may be NULL) is the zone
/// file of the entry's camera: its purposes limit what a `view` or `export` may state. The
/// rules (a disclosure needs a police order or own report, ...) are checked before anything
/// is written.
///
/// On success `*seq_out` (if not NULL) receives the entry's sequence number. On failure, if
/// `err_out` is not NULL, `*err_out` receives a new `veil_error`.
///
/// # Safety
/// The strings are NULL or NUL-terminated; `seq_out` and `err_out` are NULL or valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn veil_audit_append(
    log_path: *const c_char,
    entry_json: *const c_char,
    camera_toml: *const c_char,
    seq_out: *mut u64,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        match append(log_path, entry_json, camera_toml) {
            Ok(seq) => {
                if !seq_out.is_null() {
                    // SAFETY: non-NULL and valid for a write (contract).
                    unsafe { seq_out.write(seq) };
                }
                veil_status::VEIL_STATUS_OK
            }
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

/// What `veil_audit_verify` found.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct veil_audit_summary {
    /// Entries verified good from the start, before the first problem (all when intact).
    pub entries: u64,
    /// Sequence number of the last good entry (0 if none). Record it with `head_hash`
    /// somewhere else to detect later removal of trailing entries.
    pub head_seq: u64,
    /// Hash of the last good entry: 64 lowercase hex digits and a NUL (empty if none).
    pub head_hash: [c_char; 65],
    /// 1-based line of the first problem, 0 when the log is intact.
    pub problem_line: u64,
}

/// Verify the audit log at `log_path`: every line's hash, the chain, the sequence, the
/// canonical form.
///
/// Returns `VEIL_STATUS_OK` when the log is intact and `VEIL_STATUS_AUDIT_TAMPERED` when it
/// is not (the error message says what is wrong at which line); in both cases the check ran
/// to completion and `*summary_out` (if not NULL) is written. Any other status means the
/// log could not be checked (e.g. `VEIL_STATUS_AUDIT_IO` for a missing file) and
/// `*summary_out` is untouched. On a non-OK status, if `err_out` is not NULL, `*err_out`
/// receives a new `veil_error`.
///
/// # Safety
/// `log_path` is NULL or a NUL-terminated string; `summary_out` and `err_out` are NULL or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_audit_verify(
    log_path: *const c_char,
    summary_out: *mut veil_audit_summary,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a NUL-terminated string (contract).
        let path = match unsafe { cstr_path(log_path, "log_path") } {
            Ok(p) => p,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => return unsafe { report(failure, err_out) },
        };
        let summary = match veil_audit::verify_file(&path) {
            Ok(s) => s,
            // SAFETY: as above.
            Err(e) => return unsafe { report(e.into(), err_out) },
        };
        if !summary_out.is_null() {
            let mut head_hash = [0 as c_char; 65];
            if let Some(h) = &summary.head {
                for (d, s) in head_hash.iter_mut().zip(h.hash.bytes().take(64)) {
                    *d = s as c_char;
                }
            }
            let c = veil_audit_summary {
                entries: summary.entries,
                head_seq: summary.head.as_ref().map_or(0, |h| h.seq),
                head_hash,
                problem_line: summary.problem.as_ref().map_or(0, |p| p.line),
            };
            // SAFETY: non-NULL and valid for a write (contract).
            unsafe { summary_out.write(c) };
        }
        if summary.is_intact() {
            veil_status::VEIL_STATUS_OK
        } else {
            let failure = Failure::new(veil_status::VEIL_STATUS_AUDIT_TAMPERED, summary.to_string());
            // SAFETY: as above.
            unsafe { report(failure, err_out) }
        }
    }
}
