//! Where the models directory is found: an explicit directory, `VEIL_MODELS_DIR`, then the
//! search path (installed next to the executable, the checkout only when running from it,
//! XDG, /usr/local, /usr), and an error that lists every place looked at.
//!
//! One test function: it sets environment variables, which are process-wide.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_detect::{find_models_dir, models_search_path, DetectError};

#[test]
fn lookup_chain() {
    std::env::remove_var("VEIL_MODELS_DIR");
    std::env::set_var("XDG_DATA_HOME", "/nonexistent-xdg");
    let exe = std::env::current_exe().unwrap();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .canonicalize()
        .unwrap();
    let expected: Vec<PathBuf> = vec![
        exe.parent().unwrap().parent().unwrap().join("share/veil/models"),
        checkout.clone(),
        PathBuf::from("/nonexistent-xdg/veil/models"),
        PathBuf::from("/usr/local/share/veil/models"),
        PathBuf::from("/usr/share/veil/models"),
    ];
    assert_eq!(models_search_path(), expected);

    // This test runs from the checkout: its models are found (nothing is installed beside
    // the test binary, target/<profile>/share/veil/models).
    assert!(!expected[0].exists());
    assert_eq!(find_models_dir(None).unwrap(), checkout);

    // A relative XDG_DATA_HOME is ignored (the spec says so); HOME's default applies.
    std::env::set_var("XDG_DATA_HOME", "relative");
    std::env::set_var("HOME", "/nonexistent-home");
    assert_eq!(
        models_search_path()[2],
        PathBuf::from("/nonexistent-home/.local/share/veil/models")
    );

    // An explicit directory or VEIL_MODELS_DIR is used as is, even when wrong: falling back
    // to other models than the ones configured would hide the mistake.
    assert_eq!(
        find_models_dir(Some(Path::new("/given"))).unwrap(),
        Path::new("/given")
    );
    std::env::set_var("VEIL_MODELS_DIR", "/from-env");
    assert_eq!(find_models_dir(None).unwrap(), Path::new("/from-env"));
    assert_eq!(
        find_models_dir(Some(Path::new("/given"))).unwrap(),
        Path::new("/given")
    );
    std::env::remove_var("VEIL_MODELS_DIR");

    // The error names every place looked at (the end-to-end case, an installed `redact` with
    // its models gone, is in scripts/test-install.sh).
    let e = DetectError::ModelsNotFound {
        tried: expected.clone(),
    };
    let msg = e.to_string();
    for p in &expected {
        assert!(msg.contains(&p.display().to_string()), "{msg}");
    }
    assert!(
        msg.contains("VEIL_MODELS_DIR") && msg.contains("--models-dir"),
        "{msg}"
    );
}
