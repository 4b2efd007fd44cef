//! Disclosure to police and justice and verification of what was handed over:
//! `veil_disclose_run` and `veil_verify`, mirroring `redact disclose` and `redact verify`.

use std::ffi::c_char;
use std::path::PathBuf;

use veil_audit::{LegalBasis, Timestamp};
use veil_redact::{disclose, verify, DiscloseOptions, RedactError, VerifyError};

use crate::error::{report, veil_error, Failure};
use crate::status::veil_status;
use crate::util::{cstr_path, cstr_utf8};

/// What `veil_disclose_run` does. Fill it with `veil_disclose_options_default` first, then
/// set the fields you need, so that unset times are NaN and unset strings NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct veil_disclose_options {
    /// The recording (required).
    pub input: *const c_char,
    /// The copy to hand over (required; its extension chooses the container, e.g. `.mp4`).
    /// Must not exist: evidence is never overwritten.
    pub output: *const c_char,
    /// Manifest path; NULL: `<output>.manifest.json`. Must not exist.
    pub manifest: *const c_char,
    /// The audit log the disclosure is logged in before the copy is released (required).
    pub audit_log: *const c_char,
    /// Who discloses (required).
    pub actor: *const c_char,
    /// Why (required).
    pub reason: *const c_char,
    /// Legal basis as `police-order:REF` or `own-report:REF` (required; `inzage:` is
    /// refused with `VEIL_STATUS_DISCLOSE_REFUSED`: an inzage copy goes through
    /// `veil_export_run`).
    pub basis: *const c_char,
    /// Wall-clock start of the recording, RFC 3339 (required).
    pub recording_start: *const c_char,
    /// Camera id (required).
    pub camera: *const c_char,
    /// Who receives the copy; NULL: "police or justice".
    pub recipient: *const c_char,
    /// Ed25519 secret key (PKCS#8 PEM) to sign the manifest with; NULL: unsigned.
    pub sign_key: *const c_char,
    /// Window start in seconds from the start of the recording; NaN: the start. The copy
    /// starts at the keyframe at or before it.
    pub from_s: f64,
    /// Window end in seconds, inclusive; NaN: the end.
    pub to_s: f64,
    /// Copy the audio too (off by default: audio can carry bystanders' voices).
    pub keep_audio: bool,
    /// The secret key file (age X25519, mode 0600, as `redact keys generate --encryption`
    /// writes it) that opens an encrypted input: a recorder segment (`.mp4.age`, through its
    /// data key sealed in the camera directory's `keys/`) or a file encrypted to the key. It
    /// is decrypted in memory, never to disk. NULL: an encrypted input is refused
    /// (`VEIL_STATUS_FOOTAGE_KEY`), as is a wrong key.
    pub key: *const c_char,
    /// Deliver the copy encrypted (age) to these public key files (`age1...`, e.g.
    /// `footage.key.pub`), `encrypt_to_len` of them (NULL and 0: in the clear). Any one of
    /// the matching secret keys decrypts it, with Veil or the standard `age` tool. The
    /// manifest stays plain, lists the recipients, and hashes the decrypted copy.
    pub encrypt_to: *const *const c_char,
    /// Number of paths in `encrypt_to`.
    pub encrypt_to_len: usize,
}

pub(crate) fn disclose_failure(e: RedactError) -> Failure {
    let code = |status, e: RedactError| Failure::new(status, e.to_string());
    match e {
        // the audit log's own codes say more (refused by a rule, damaged log, I/O)
        RedactError::Audit(a) => Failure::from(a),
        e @ RedactError::BasisRefused { .. } => code(veil_status::VEIL_STATUS_DISCLOSE_REFUSED, e),
        e @ RedactError::Withdrawn { .. } => code(veil_status::VEIL_STATUS_DISCLOSE_WITHDRAWN, e),
        e @ RedactError::Key { .. } => code(veil_status::VEIL_STATUS_KEY_INVALID, e),
        e => Failure::from(e),
    }
}

/// A required string field.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn text(s: *const c_char, what: &str) -> Result<String, Failure> {
    // SAFETY: forwarded contract.
    unsafe { cstr_utf8(s, what) }.map(str::to_owned)
}

/// Translate the C options into veil-redact's.
///
/// # Safety
/// `o`'s strings are NULL or NUL-terminated.
pub(crate) unsafe fn options(o: &veil_disclose_options) -> Result<DiscloseOptions, Failure> {
    let invalid = |m: String| Failure::new(veil_status::VEIL_STATUS_INVALID_ARGUMENT, m);
    // SAFETY: NULL or NUL-terminated strings (contract), as for every field below.
    let input = unsafe { cstr_path(o.input, "input") }?;
    // SAFETY: as above.
    let output = unsafe { cstr_path(o.output, "output") }?;
    // SAFETY: as above.
    let audit_log = unsafe { cstr_path(o.audit_log, "audit_log") }?;
    // SAFETY: as above.
    let actor = unsafe { text(o.actor, "actor") }?;
    // SAFETY: as above.
    let reason = unsafe { text(o.reason, "reason") }?;
    // SAFETY: as above.
    let basis_text = unsafe { text(o.basis, "basis") }?;
    let basis: LegalBasis = basis_text
        .parse()
        .map_err(|e: veil_audit::AuditError| invalid(format!("basis: {e}")))?;
    // SAFETY: as above.
    let start_text = unsafe { text(o.recording_start, "recording_start") }?;
    let start = Timestamp::parse(&start_text).map_err(|e| invalid(format!("recording_start: {e}")))?;
    // SAFETY: as above.
    let camera = unsafe { text(o.camera, "camera") }?;
    let mut opts = DiscloseOptions::new(input, output, basis, audit_log, actor, reason, start, camera);
    let optional_path = |s: *const c_char, what: &str| -> Result<Option<PathBuf>, Failure> {
        if s.is_null() {
            Ok(None)
        } else {
            // SAFETY: non-NULL, NUL-terminated (contract).
            unsafe { cstr_path(s, what) }.map(Some)
        }
    };
    opts.manifest = optional_path(o.manifest, "manifest")?;
    opts.sign_key = optional_path(o.sign_key, "sign_key")?;
    opts.recipient = if o.recipient.is_null() {
        None
    } else {
        // SAFETY: as above.
        Some(unsafe { text(o.recipient, "recipient") }?)
    };
    opts.from = (!o.from_s.is_nan()).then_some(o.from_s);
    opts.to = (!o.to_s.is_nan()).then_some(o.to_s);
    opts.keep_audio = o.keep_audio;
    opts.key = optional_path(o.key, "key")?;
    // SAFETY: NULL with length 0, or valid for encrypt_to_len strings (contract).
    opts.encrypt_to = unsafe { crate::export::path_list(o.encrypt_to, o.encrypt_to_len, "encrypt_to") }?;
    Ok(opts)
}

/// Fill `*opts` with the defaults: all strings NULL, the whole recording (`from_s`, `to_s`
/// NaN), no audio. Then set at least the required fields. Does nothing when `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_disclose_options_default(opts: *mut veil_disclose_options) {
    ffi_boundary! {
        if !opts.is_null() {
            let null = std::ptr::null();
            let d = veil_disclose_options {
                input: null,
                output: null,
                manifest: null,
                audit_log: null,
                actor: null,
                reason: null,
                basis: null,
                recording_start: null,
                camera: null,
                recipient: null,
                sign_key: null,
                from_s: f64::NAN,
                to_s: f64::NAN,
                keep_audio: false,
                key: null,
                encrypt_to: std::ptr::null(),
                encrypt_to_len: 0,
            };
            // SAFETY: non-NULL and valid for a write (contract).
            unsafe { opts.write(d) };
        }
    }
}

/// Disclose a window of a recording to police or justice, as `redact disclose` does: copy
/// the window packet for packet (from the keyframe at or before `from_s`; a lossless
/// re-encode when the codec does not fit the container, stated in the manifest), append a
/// `disclose` entry to the audit log, write the manifest (input and output SHA-256, the
/// windows asked for and delivered, the audit entry's sequence number and hash) and, with
/// `sign_key`, its detached Ed25519 signature `<manifest>.sig`; the copy is moved into place
/// only after all that.
///
/// On any status but `VEIL_STATUS_OK` no copy, manifest or signature is left. A basis other
/// than a police order or own report gives `VEIL_STATUS_DISCLOSE_REFUSED` (nothing logged);
/// a log that cannot be appended to gives a `VEIL_STATUS_AUDIT_*` status (nothing released);
/// `VEIL_STATUS_DISCLOSE_WITHDRAWN` means the entry was logged but the files could not be
/// written afterwards (the message names the entry). If `err_out` is not NULL, it receives
/// a new `veil_error` on failure.
///
/// # Safety
/// `opts` is NULL or points to a `veil_disclose_options` whose strings are NULL or
/// NUL-terminated; `err_out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_disclose_run(
    opts: *const veil_disclose_options,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if opts.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "opts is NULL"))
        } else {
            // SAFETY: non-NULL and pointing to a veil_disclose_options (contract); every field
            // is a raw pointer, a float or a bool (0 or 1 in C too).
            let o = unsafe { opts.read() };
            // SAFETY: the field contracts are this function's.
            unsafe { options(&o) }.and_then(|opts| disclose(&opts).map_err(disclose_failure))
        };
        match result {
            Ok(_) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

fn verify_failure(e: VerifyError) -> Failure {
    let status = match &e {
        VerifyError::Missing { .. } => veil_status::VEIL_STATUS_VERIFY_MISSING,
        VerifyError::NotAManifest { .. } => veil_status::VEIL_STATUS_VERIFY_NOT_A_MANIFEST,
        VerifyError::InvalidKey { .. } => veil_status::VEIL_STATUS_KEY_INVALID,
        VerifyError::Unsigned { .. } | VerifyError::InvalidSignature { .. } => {
            veil_status::VEIL_STATUS_VERIFY_UNSIGNED
        }
        VerifyError::WrongKey { .. } => veil_status::VEIL_STATUS_VERIFY_WRONG_KEY,
        VerifyError::BadSignature { .. } => veil_status::VEIL_STATUS_VERIFY_BAD_SIGNATURE,
        VerifyError::OutputMismatch { .. } => veil_status::VEIL_STATUS_VERIFY_MISMATCH,
        _ => veil_status::VEIL_STATUS_VERIFY_NOT_A_MANIFEST,
    };
    Failure::new(status, e.to_string())
}

/// Check a received file against its manifest, as `redact verify` does: with `pubkey` (an
/// Ed25519 public key, SubjectPublicKeyInfo PEM; may be NULL) first that the manifest's
/// signature `<manifest>.sig` verifies with it, then that the file's SHA-256 is the
/// manifest's `output.sha256`. Works for disclosure and export manifests.
///
/// `VEIL_STATUS_OK` on a match; otherwise the failed check: `VEIL_STATUS_VERIFY_MISSING`,
/// `VEIL_STATUS_VERIFY_NOT_A_MANIFEST`, `VEIL_STATUS_KEY_INVALID`,
/// `VEIL_STATUS_VERIFY_UNSIGNED` (a key was given, no valid signature file),
/// `VEIL_STATUS_VERIFY_WRONG_KEY`, `VEIL_STATUS_VERIFY_BAD_SIGNATURE` (manifest altered) or
/// `VEIL_STATUS_VERIFY_MISMATCH` (file altered), with a one-line message in `*err_out` when
/// it is not NULL.
///
/// # Safety
/// `output` and `manifest` are NULL or NUL-terminated, `pubkey` likewise (NULL: no signature
/// check); `err_out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_verify(
    output: *const c_char,
    manifest: *const c_char,
    pubkey: *const c_char,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let run = || -> Result<(), Failure> {
            // SAFETY: NULL or NUL-terminated (contract).
            let output = unsafe { cstr_path(output, "output") }?;
            // SAFETY: as above.
            let manifest = unsafe { cstr_path(manifest, "manifest") }?;
            let pubkey = if pubkey.is_null() {
                None
            } else {
                // SAFETY: as above.
                Some(unsafe { cstr_path(pubkey, "pubkey") }?)
            };
            verify(&output, &manifest, pubkey.as_deref()).map(|_| ()).map_err(verify_failure)
        };
        match run() {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}
