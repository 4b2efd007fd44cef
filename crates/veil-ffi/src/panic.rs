//! The panic boundary every export runs inside.

/// What an export returns when its body panicked.
pub(crate) trait PanicDefault {
    /// The value returned instead of unwinding into C.
    fn panic_default() -> Self;
}

impl PanicDefault for crate::status::veil_status {
    fn panic_default() -> Self {
        crate::status::veil_status::VEIL_STATUS_PANIC
    }
}

impl PanicDefault for () {
    fn panic_default() -> Self {}
}

impl PanicDefault for *const std::ffi::c_char {
    fn panic_default() -> Self {
        c"internal error (panic)".as_ptr()
    }
}

/// Run `$body` and turn a panic into the return type's [`PanicDefault`].
///
/// Unwinding out of an `extern "C"` function aborts the process (Rust 1.81+), so without
/// this a bug in Veil would take the vendor's recorder down with it.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(v) => v,
            Err(_) => $crate::panic::PanicDefault::panic_default(),
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::status::veil_status;

    #[test]
    fn panic_becomes_a_status() {
        let s: veil_status = ffi_boundary! { panic!("a bug") };
        assert_eq!(s, veil_status::VEIL_STATUS_PANIC);
        let p: *const std::ffi::c_char = ffi_boundary! { panic!("a bug") };
        assert!(!p.is_null());
        let ok: veil_status = ffi_boundary! { veil_status::VEIL_STATUS_OK };
        assert_eq!(ok, veil_status::VEIL_STATUS_OK);
    }
}
