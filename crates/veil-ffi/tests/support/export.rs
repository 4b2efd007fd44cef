//! What the `veil_export_run` tests share: C strings, and one export run from the defaults
//! with its status and error message.

use std::ffi::{CStr, CString};

use veil_ffi::{
    veil_error, veil_error_free, veil_error_message, veil_export_options, veil_export_options_default,
    veil_export_run, veil_status,
};

pub fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// `veil_export_run` with `veil_export_options_default`'s options, changed by `set`; the
/// status and the error message (empty when there is none). The pointers `set` stores must
/// outlive this call.
pub fn run_export(set: impl FnOnce(&mut veil_export_options)) -> (veil_status, String) {
    let mut o = std::mem::MaybeUninit::<veil_export_options>::uninit();
    // SAFETY: valid for a write; the caller's strings outlive the call.
    unsafe {
        veil_export_options_default(o.as_mut_ptr());
        let mut o = o.assume_init();
        set(&mut o);
        let mut err: *mut veil_error = std::ptr::null_mut();
        let status = veil_export_run(&o, &mut err);
        let message = if err.is_null() {
            String::new()
        } else {
            let mut buf = vec![0 as std::ffi::c_char; 4096];
            let mut n = 0usize;
            veil_error_message(err, buf.as_mut_ptr(), buf.len(), &mut n);
            veil_error_free(err);
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        };
        (status, message)
    }
}
