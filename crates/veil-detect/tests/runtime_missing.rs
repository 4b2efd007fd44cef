//! ONNX Runtime missing: a typed error naming where Veil looked, not a panic.
//!
//! A separate test binary with a single test, because loading ONNX Runtime is process-global
//! and this test must set `ORT_DYLIB_PATH` before anything else touches it.
#![allow(clippy::unwrap_used)]

use veil_detect::{CenterFace, DetectError, NanoDet};

#[test]
fn missing_runtime_library_is_a_clear_error() {
    let bogus = std::env::temp_dir().join("veil-no-such-dir/libonnxruntime.so");
    std::env::set_var("ORT_DYLIB_PATH", &bogus);
    let e = CenterFace::builder().build().unwrap_err();
    match &e {
        DetectError::RuntimeNotFound { tried } => assert_eq!(tried, &vec![bogus.clone()]),
        other => panic!("expected RuntimeNotFound, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("veil-no-such-dir/libonnxruntime.so") && msg.contains("ORT_DYLIB_PATH"),
        "{msg}"
    );
    // Idempotent: the second attempt reports the same, and nothing got loaded.
    let e = NanoDet::builder().build().unwrap_err();
    assert!(matches!(e, DetectError::RuntimeNotFound { .. }), "{e:?}");
    assert!(veil_detect::runtime_path().is_none());
}
