//! Detailed error messages: the `veil_error` handle and the message-buffer convention.

use std::ffi::c_char;

use veil_audit::AuditError;
use veil_core::{ConfigError, FrameError, RedactError};

use crate::status::veil_status;

/// A failure inside the crate: the status C sees and the detailed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: veil_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: veil_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }
}

/// The status of a zone-file error.
pub(crate) fn config_status(e: &ConfigError) -> veil_status {
    match e {
        ConfigError::Parse { .. } => veil_status::VEIL_STATUS_CONFIG_PARSE,
        ConfigError::Camera { .. } => veil_status::VEIL_STATUS_CONFIG_CAMERA,
        ConfigError::Zone { .. } => veil_status::VEIL_STATUS_CONFIG_ZONE,
        ConfigError::Io { .. } => veil_status::VEIL_STATUS_CONFIG_IO,
        // non_exhaustive: a future kind of configuration error is still a bad file
        _ => veil_status::VEIL_STATUS_CONFIG_PARSE,
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::new(config_status(&e), e.to_string())
    }
}

impl From<FrameError> for Failure {
    fn from(e: FrameError) -> Self {
        let status = match &e {
            FrameError::ZeroSize { .. } | FrameError::TooLarge { .. } | FrameError::OddSize { .. } => {
                veil_status::VEIL_STATUS_INVALID_SIZE
            }
            FrameError::GeometryMismatch { .. } => veil_status::VEIL_STATUS_GEOMETRY_MISMATCH,
            _ => veil_status::VEIL_STATUS_INVALID_FRAME,
        };
        Failure::new(status, e.to_string())
    }
}

impl From<RedactError> for Failure {
    fn from(e: RedactError) -> Self {
        match e {
            RedactError::Frame(f) => f.into(),
            other => Failure::new(veil_status::VEIL_STATUS_MASKING_FAILED, other.to_string()),
        }
    }
}

impl From<AuditError> for Failure {
    fn from(e: AuditError) -> Self {
        let status = match &e {
            AuditError::Io { .. } => veil_status::VEIL_STATUS_AUDIT_IO,
            AuditError::Json { .. }
            | AuditError::MissingField { .. }
            | AuditError::InvalidEntry { .. }
            | AuditError::InvalidBasis { .. }
            | AuditError::InvalidAction { .. }
            | AuditError::InvalidTimestamp { .. }
            | AuditError::InvalidInput { .. }
            | AuditError::UnsupportedVersion { .. } => veil_status::VEIL_STATUS_AUDIT_INVALID_ENTRY,
            AuditError::DisclosureWithoutLegalBasis { .. } | AuditError::PurposeNotAllowed { .. } => {
                veil_status::VEIL_STATUS_AUDIT_REFUSED
            }
            AuditError::TruncatedLog { .. } | AuditError::CorruptTail { .. } => {
                veil_status::VEIL_STATUS_AUDIT_LOG_DAMAGED
            }
            _ => veil_status::VEIL_STATUS_AUDIT_FAILED,
        };
        Failure::new(status, e.to_string())
    }
}

/// A detailed error: a status and a message naming what failed (the zone file and zone, the
/// entry field, the log file and operation). Returned through the optional `veil_error **err_out`
/// parameter of the `_ex` and audit functions; owned by the caller, released with
/// `veil_error_free`.
#[derive(Debug)]
pub struct veil_error {
    failure: Failure,
}

/// Hand `failure` to C through `err_out` (ignored when `err_out` is NULL), return its status.
///
/// # Safety
/// `err_out` is NULL or valid for a pointer write.
pub(crate) unsafe fn report(failure: Failure, err_out: *mut *mut veil_error) -> veil_status {
    let status = failure.status;
    if !err_out.is_null() {
        let boxed = Box::into_raw(Box::new(veil_error { failure }));
        // SAFETY: non-NULL and valid for writes per this function's contract.
        unsafe { err_out.write(boxed) };
    }
    status
}

/// Copy `message` into `buf` (snprintf-style; see `veil_error_message`).
///
/// # Safety
/// `buf` is NULL (then `len` must be 0) or valid for `len` bytes of writes; `out_n` is NULL
/// or valid for a write.
pub(crate) unsafe fn write_message(
    message: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> veil_status {
    if buf.is_null() && len != 0 {
        return veil_status::VEIL_STATUS_NULL_PARAMETER;
    }
    if len > 0 {
        // Truncate on a character boundary so the caller never gets half a UTF-8 sequence.
        let mut n = message.len().min(len - 1);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: buf is valid for len >= n + 1 bytes (contract), and `message` is a
        // different allocation, so the regions do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
            buf.add(n).write(0);
        }
    }
    if !out_n.is_null() {
        // SAFETY: non-NULL and valid for a write (contract).
        unsafe { out_n.write(message.len()) };
    }
    veil_status::VEIL_STATUS_OK
}

/// The status of `err`, or `VEIL_STATUS_NULL_PARAMETER` if `err` is NULL.
///
/// # Safety
/// `err` is NULL or a live `veil_error` from Veil.
#[no_mangle]
pub unsafe extern "C" fn veil_error_status(err: *const veil_error) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live veil_error (contract).
        match unsafe { err.as_ref() } {
            Some(e) => e.failure.status,
            None => veil_status::VEIL_STATUS_NULL_PARAMETER,
        }
    }
}

/// Copy the message of `err` into `buf`, snprintf-style: at most `len - 1` bytes (cut on a
/// UTF-8 character boundary) followed by a NUL. `*out_n` (if `out_n` is not NULL) receives
/// the full message length in bytes without the NUL, so `*out_n >= len` means the message
/// was truncated; pass `buf = NULL, len = 0` to ask for the length. 512 bytes hold any
/// message in practice.
///
/// Returns `VEIL_STATUS_NULL_PARAMETER` when `err` is NULL, or `buf` is NULL with `len > 0`.
///
/// # Safety
/// `err` is NULL or a live `veil_error`; `buf` is valid for `len` bytes of writes; `out_n`
/// is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_error_message(
    err: *const veil_error,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live veil_error (contract).
        let Some(e) = (unsafe { err.as_ref() }) else {
            return veil_status::VEIL_STATUS_NULL_PARAMETER;
        };
        // SAFETY: buffer and out_n validity are this function's contract.
        unsafe { write_message(&e.failure.message, buf, len, out_n) }
    }
}

/// Release an error. NULL is accepted and ignored.
///
/// # Safety
/// `err` is NULL or a `veil_error` from Veil not yet freed; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn veil_error_free(err: *mut veil_error) {
    ffi_boundary! {
        if !err.is_null() {
            // SAFETY: created by Box::into_raw in `report` and not freed before (contract).
            drop(unsafe { Box::from_raw(err) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_into(msg: &str, len: usize) -> (Vec<u8>, usize) {
        let mut buf = vec![0x55u8; len];
        let mut n = 0usize;
        let ptr = if len == 0 {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        // SAFETY: buf has len bytes, n is a local.
        let st = unsafe { write_message(msg, ptr, len, &mut n) };
        assert_eq!(st, veil_status::VEIL_STATUS_OK);
        (buf, n)
    }

    #[test]
    fn message_fits_and_truncates_on_char_boundaries() {
        let (buf, n) = message_into("zone 1", 16);
        assert_eq!(n, 6);
        assert_eq!(&buf[..7], b"zone 1\0");
        let (buf, n) = message_into("zone 1", 4);
        assert_eq!(n, 6);
        assert_eq!(&buf, b"zon\0");
        // "é" is two bytes: a 3-byte buffer holds "a" + NUL, not half of the "é".
        let (buf, n) = message_into("aé", 3);
        assert_eq!(n, 3);
        assert_eq!(&buf[..2], b"a\0");
        let (_, n) = message_into("length query", 0);
        assert_eq!(n, 12);
    }

    #[test]
    fn null_buffer_with_length_is_rejected() {
        // SAFETY: NULL buffer with len > 0 is rejected before any write.
        let st = unsafe { write_message("x", std::ptr::null_mut(), 4, std::ptr::null_mut()) };
        assert_eq!(st, veil_status::VEIL_STATUS_NULL_PARAMETER);
    }
}
