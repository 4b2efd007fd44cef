//! The models manifest and loading a model with its SHA-256 checked.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::DetectError;

/// File name of the manifest inside a models directory.
pub const MANIFEST_FILE: &str = "manifest.tsv";

/// The repository's own `models/` directory, fixed at compile time (the last fallback).
const REPO_MODELS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");

/// Identity of a model file as listed in the manifest (and verified when it was loaded).
///
/// Export manifests record these so that a redaction can be traced to the exact network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Short name, e.g. `centerface`.
    pub name: String,
    /// File name inside the models directory, e.g. `centerface.onnx`.
    pub file: String,
    /// SHA-256 of the file, lower-case hex (checked against the file at load time).
    pub sha256: String,
    /// Licence of the model weights, e.g. `MIT`.
    pub licence: String,
    /// Where the file came from.
    pub source: String,
}

/// The models directory used when none is given to a builder: `VEIL_MODELS_DIR` if set,
/// else the repository's `models/` directory (compiled in).
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VEIL_MODELS_DIR").filter(|p| !p.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(REPO_MODELS_DIR),
    }
}

/// Read every entry of `dir/manifest.tsv`.
///
/// The manifest is tab-separated with a header line `name file sha256 licence source`;
/// blank lines and lines starting with `#` are ignored.
///
/// # Errors
/// [`DetectError::ManifestIo`] or [`DetectError::ManifestSyntax`].
pub fn read_manifest(dir: &Path) -> Result<Vec<ModelInfo>, DetectError> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| DetectError::ManifestIo {
        path: path.clone(),
        source,
    })?;
    let mut out = Vec::new();
    let mut seen_header = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if !seen_header {
            seen_header = true;
            if cols.first() == Some(&"name") {
                continue;
            }
        }
        let syntax = |reason: String| DetectError::ManifestSyntax {
            path: path.clone(),
            line: i + 1,
            reason,
        };
        if cols.len() != 5 {
            return Err(syntax(format!(
                "expected 5 tab-separated columns (name, file, sha256, licence, source), found {}",
                cols.len()
            )));
        }
        let sha = cols[2].to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(syntax(format!("`{}` is not a SHA-256 in hex", cols[2])));
        }
        if cols[1].contains('/') || cols[1].contains('\\') || cols[1].is_empty() {
            return Err(syntax(format!("file `{}` must be a plain file name", cols[1])));
        }
        out.push(ModelInfo {
            name: cols[0].to_owned(),
            file: cols[1].to_owned(),
            sha256: sha,
            licence: cols[3].to_owned(),
            source: cols[4].to_owned(),
        });
    }
    Ok(out)
}

/// Look up `name` in `dir`'s manifest, read the file and check its SHA-256.
///
/// Returns the manifest entry and the file's bytes; the bytes are what gets handed to ONNX
/// Runtime, so the checked content is exactly the loaded content.
///
/// # Errors
/// Manifest errors, [`DetectError::NotInManifest`], [`DetectError::ModelIo`] (missing file),
/// [`DetectError::ModelChecksum`].
pub fn load_verified(dir: &Path, name: &str) -> Result<(ModelInfo, PathBuf, Vec<u8>), DetectError> {
    let entries = read_manifest(dir)?;
    let info = entries
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| DetectError::NotInManifest {
            name: name.to_owned(),
            manifest: dir.join(MANIFEST_FILE),
        })?;
    let path = dir.join(&info.file);
    let bytes = std::fs::read(&path).map_err(|source| DetectError::ModelIo {
        path: path.clone(),
        source,
    })?;
    let actual = sha256_hex(&bytes);
    if actual != info.sha256 {
        return Err(DetectError::ModelChecksum {
            path,
            expected: info.sha256,
            actual,
        });
    }
    Ok((info, path, bytes))
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// Create an ONNX Runtime session from verified model bytes.
pub(crate) fn session_from_bytes(
    path: &Path,
    bytes: &[u8],
    threads: usize,
    env: &ort::environment::Environment,
) -> Result<ort::session::Session, DetectError> {
    let load = |reason: String| DetectError::ModelLoad {
        path: path.to_path_buf(),
        reason,
    };
    // Intra-op threads are set explicitly (ONNX Runtime would otherwise take every core,
    // fighting the decoder and encoder of the export pipeline). Spinning is off for the same
    // reason: idle workers busy-waiting steal the cores the other stages need.
    ort::session::Session::builder(env)
        .map_err(|e| load(e.to_string()))?
        .with_intra_threads(threads)
        .map_err(|e| load(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| load(e.to_string()))?
        .with_intra_op_spinning(false)
        .map_err(|e| load(e.to_string()))?
        .commit_from_memory(bytes)
        .map_err(|e| load(e.to_string()))
}
