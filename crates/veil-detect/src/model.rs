//! The models manifest and loading a model with its SHA-256 checked.

use std::path::{Path, PathBuf};

use crate::DetectError;

/// File name of the manifest inside a models directory.
pub const MANIFEST_FILE: &str = "manifest.tsv";

/// The root of the source checkout this crate was built from. Its `models/` directory is
/// used only by programs running from inside that checkout (`cargo run`, `cargo test`), never
/// by an installed program: an installed binary must not depend on where it was built.
const CHECKOUT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The models directory below an installation prefix (`make install` puts them there).
const SHARE_MODELS: &str = "share/veil/models";

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
/// else the first directory of [`models_search_path`] holding a `manifest.tsv`, else (nothing
/// found) the first place of that search path, so that loading from it names a missing file.
///
/// Prefer [`find_models_dir`], whose error lists every place looked at.
pub fn default_models_dir() -> PathBuf {
    match find_models_dir(None) {
        Ok(dir) => dir,
        Err(_) => models_search_path().into_iter().next().unwrap_or_default(),
    }
}

/// The directory holding the models: `explicit` if given (a builder's `models_dir`, the CLI's
/// `--models-dir`), else `VEIL_MODELS_DIR` if set, else the first directory of
/// [`models_search_path`] that holds a `manifest.tsv`.
///
/// An explicit directory or `VEIL_MODELS_DIR` is returned as is, without falling through to
/// other places when it is wrong: using other models than the ones configured would hide a
/// misconfiguration (loading then fails naming the missing file).
///
/// # Errors
/// [`DetectError::ModelsNotFound`] listing every place looked at, when nothing is configured
/// and no place of the search path holds a manifest.
pub fn find_models_dir(explicit: Option<&Path>) -> Result<PathBuf, DetectError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("VEIL_MODELS_DIR").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let tried = models_search_path();
    match tried.iter().find(|d| d.join(MANIFEST_FILE).is_file()) {
        Some(dir) => Ok(dir.clone()),
        None => Err(DetectError::ModelsNotFound { tried }),
    }
}

/// Where the models are looked for when neither a directory nor `VEIL_MODELS_DIR` is given,
/// in order:
///
/// 1. `<directory of the running executable>/../share/veil/models` (an installed `redact`
///    or application finds the models installed with it, whatever the prefix);
/// 2. the source checkout's `models/`, only when the program runs from inside that checkout
///    (its executable or working directory is below it): a developer's `cargo run` and
///    `cargo test` use the tree's own models even when another Veil is installed;
/// 3. `$XDG_DATA_HOME/veil/models` (default `~/.local/share/veil/models`);
/// 4. `/usr/local/share/veil/models`;
/// 5. `/usr/share/veil/models`.
///
/// Duplicates are listed once.
pub fn models_search_path() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let exe = std::env::current_exe().ok();
    if let Some(prefix) = exe.as_deref().and_then(Path::parent).and_then(Path::parent) {
        out.push(prefix.join(SHARE_MODELS));
    }
    if let Some(models) = checkout_models(exe.as_deref()) {
        out.push(models);
    }
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    if let Some(d) = xdg {
        out.push(d.join("veil/models"));
    }
    out.push(Path::new("/usr/local").join(SHARE_MODELS));
    out.push(Path::new("/usr").join(SHARE_MODELS));
    let mut seen = Vec::with_capacity(out.len());
    out.retain(|p| {
        let new = !seen.contains(p);
        seen.push(p.clone());
        new
    });
    out
}

/// The checkout's `models/` if the running program's executable or working directory lies
/// inside the checkout this crate was built from (and that checkout still exists).
fn checkout_models(exe: Option<&Path>) -> Option<PathBuf> {
    let root = Path::new(CHECKOUT_DIR).canonicalize().ok()?;
    let inside = |p: &Path| p.canonicalize().is_ok_and(|p| p.starts_with(&root));
    let cwd = std::env::current_dir().ok();
    let from_checkout = exe.is_some_and(inside) || cwd.as_deref().is_some_and(inside);
    from_checkout.then(|| root.join("models"))
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

pub use veil_core::hash::sha256_hex;

/// Create an ONNX Runtime session from verified model bytes on `device` (see
/// [`crate::Device`]); returns it with the device it runs on.
pub(crate) fn session_from_bytes(
    path: &Path,
    bytes: &[u8],
    threads: usize,
    device: crate::Device,
    env: &ort::environment::Environment,
) -> Result<(ort::session::Session, crate::Device), DetectError> {
    let load = |reason: String| DetectError::ModelLoad {
        path: path.to_path_buf(),
        reason,
    };
    // Intra-op threads are set explicitly (ONNX Runtime would otherwise take every core,
    // fighting the decoder and encoder of the export pipeline). Spinning is off for the same
    // reason: idle workers busy-waiting steal the cores the other stages need.
    let make = || {
        ort::session::Session::builder(env)
            .map_err(|e| load(e.to_string()))?
            .with_intra_threads(threads)
            .map_err(|e| load(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load(e.to_string()))?
            .with_intra_op_spinning(false)
            .map_err(|e| load(e.to_string()))
    };
    crate::device::session_on(device, make, |mut b| {
        b.commit_from_memory(bytes).map_err(|e| load(e.to_string()))
    })
}
