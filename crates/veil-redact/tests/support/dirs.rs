//! Scratch directories for tests that check which files an operation leaves behind (shared
//! with `#[path]` by the veil-redact and veil-ffi tests).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// A fresh, empty directory `<tmp>/<prefix>-<pid>-<name>` for one test's outputs.
pub fn out_dir(prefix: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The names of the files (and directories) in `d`, sorted.
pub fn listing(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
