//! A file that is not ONNX Runtime given as the library: a typed error, not a panic.
//!
//! A separate test binary with a single test: loading ONNX Runtime is process-global.
#![allow(clippy::unwrap_used)]

use veil_detect::{init_runtime, DetectError};

#[test]
fn a_text_file_as_runtime_is_a_load_error() {
    let fake = std::env::temp_dir().join(format!("veil-fake-ort-{}.so", std::process::id()));
    std::fs::write(&fake, b"not a shared library").unwrap();
    std::env::remove_var("ORT_DYLIB_PATH");
    let e = init_runtime(Some(&fake)).unwrap_err();
    match &e {
        DetectError::RuntimeLoad { path, reason } => {
            assert_eq!(path, &fake);
            assert!(!reason.is_empty());
        }
        other => panic!("expected RuntimeLoad, got {other:?}"),
    }
    std::fs::remove_file(&fake).unwrap();
}
