//! A swapped, truncated, missing or non-ONNX model file is a clear error, never a panic.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use veil_detect::{sha256_hex, CenterFace, DetectError, NanoDet};

const REPO_MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-detect-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn manifest(dir: &std::path::Path, lines: &[(&str, &str, &str)]) {
    let mut s = String::from("name\tfile\tsha256\tlicence\tsource\n");
    for (n, f, h) in lines {
        s.push_str(&format!("{n}\t{f}\t{h}\tMIT\ttest\n"));
    }
    std::fs::write(dir.join("manifest.tsv"), s).unwrap();
}

const CF_SHA: &str = "5aaf17b351911ad4a27f126d2de45809710c458b95cba4a6478c4fd4e2e9d978";

#[test]
fn truncated_model_fails_the_checksum() {
    let dir = temp_dir("trunc");
    let bytes = std::fs::read(format!("{REPO_MODELS}/centerface.onnx")).unwrap();
    std::fs::write(dir.join("centerface.onnx"), &bytes[..bytes.len() / 2]).unwrap();
    manifest(&dir, &[("centerface", "centerface.onnx", CF_SHA)]);
    let e = CenterFace::builder().models_dir(&dir).build().unwrap_err();
    match &e {
        DetectError::ModelChecksum {
            path,
            expected,
            actual,
        } => {
            assert_eq!(path, &dir.join("centerface.onnx"));
            assert_eq!(expected, CF_SHA);
            assert_eq!(actual, &sha256_hex(&bytes[..bytes.len() / 2]));
        }
        other => panic!("expected ModelChecksum, got {other:?}"),
    }
    assert!(e.to_string().contains("centerface.onnx"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn not_onnx_with_matching_manifest_is_a_load_error() {
    let dir = temp_dir("notonnx");
    let junk = b"this is not an ONNX model, just text pretending to be one\n".repeat(10);
    std::fs::write(dir.join("centerface.onnx"), &junk).unwrap();
    manifest(&dir, &[("centerface", "centerface.onnx", &sha256_hex(&junk))]);
    let e = CenterFace::builder().models_dir(&dir).build().unwrap_err();
    assert!(matches!(e, DetectError::ModelLoad { .. }), "{e:?}");
    assert!(e.to_string().contains("centerface.onnx"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn wrong_network_is_an_interface_error() {
    // The real CenterFace file listed as the person model: loads, but has the wrong outputs.
    let dir = temp_dir("swapped");
    std::fs::copy(
        format!("{REPO_MODELS}/centerface.onnx"),
        dir.join("nanodet-m-416.onnx"),
    )
    .unwrap();
    manifest(&dir, &[("nanodet", "nanodet-m-416.onnx", CF_SHA)]);
    let e = NanoDet::builder().models_dir(&dir).build().unwrap_err();
    assert!(matches!(e, DetectError::ModelInterface { .. }), "{e:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_model_file_manifest_entry_and_manifest() {
    let dir = temp_dir("missing");
    manifest(&dir, &[("centerface", "centerface.onnx", CF_SHA)]);
    let e = CenterFace::builder().models_dir(&dir).build().unwrap_err();
    match &e {
        DetectError::ModelIo { path, source } => {
            assert_eq!(path, &dir.join("centerface.onnx"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected ModelIo, got {other:?}"),
    }
    let e = NanoDet::builder().models_dir(&dir).build().unwrap_err();
    assert!(matches!(e, DetectError::NotInManifest { .. }), "{e:?}");
    let e = CenterFace::builder()
        .models_dir(dir.join("nope"))
        .build()
        .unwrap_err();
    assert!(matches!(e, DetectError::ManifestIo { .. }), "{e:?}");
    std::fs::write(
        dir.join("manifest.tsv"),
        "centerface\tcenterface.onnx\tnot-a-hash\tMIT\tx\n",
    )
    .unwrap();
    let e = CenterFace::builder().models_dir(&dir).build().unwrap_err();
    assert!(matches!(e, DetectError::ManifestSyntax { line: 1, .. }), "{e:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn repo_manifest_matches_the_files() {
    let entries = veil_detect::read_manifest(std::path::Path::new(REPO_MODELS)).unwrap();
    assert_eq!(entries.len(), 2);
    for m in entries {
        let bytes = std::fs::read(format!("{REPO_MODELS}/{}", m.file)).unwrap();
        assert_eq!(sha256_hex(&bytes), m.sha256, "{}", m.file);
    }
}
