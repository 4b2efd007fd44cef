//! Reading C strings.

use std::ffi::{c_char, CStr};
use std::path::PathBuf;

use crate::error::Failure;
use crate::status::veil_status;

/// The bytes of the NUL-terminated string `s`; `what` names the parameter in errors.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn cstr_bytes<'a>(s: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    if s.is_null() {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    Ok(unsafe { CStr::from_ptr(s) }.to_bytes())
}

/// The UTF-8 text of the NUL-terminated string `s`.
///
/// # Safety
/// As [`cstr_bytes`].
pub(crate) unsafe fn cstr_utf8<'a>(s: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { cstr_bytes(s, what) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            veil_status::VEIL_STATUS_INVALID_UTF8,
            format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

/// A file path from C: raw bytes on Unix (paths need not be UTF-8 there), UTF-8 elsewhere.
///
/// # Safety
/// As [`cstr_bytes`].
pub(crate) unsafe fn cstr_path(s: *const c_char, what: &str) -> Result<PathBuf, Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: forwarded contract.
        let bytes = unsafe { cstr_bytes(s, what) }?;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: forwarded contract.
        Ok(PathBuf::from(unsafe { cstr_utf8(s, what) }?))
    }
}
