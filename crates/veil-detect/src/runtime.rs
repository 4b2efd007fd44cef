//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! ONNX Runtime is loaded dynamically (`ort`'s `load-dynamic` feature) so that Veil builds
//! without a network download and a missing library is a typed error at run time instead of
//! a link failure. `ort` keeps the loaded library and its environment in process-global
//! state, so the first successful (or failed) initialisation is stored in a [`OnceLock`] and
//! every later call returns the same result.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::DetectError;

/// File name of the library `scripts/setup.sh` installs.
const LIB_NAME: &str = "libonnxruntime.so";

/// Where the runtime was loaded from, or why it could not be.
static RUNTIME: OnceLock<Result<Loaded, InitFailure>> = OnceLock::new();

struct Loaded {
    path: PathBuf,
    // ort's environment, alive for the whole process: every session is created in it.
    env: ort::environment::Environment,
}

#[derive(Clone)]
enum InitFailure {
    NotFound(Vec<PathBuf>),
    Load(PathBuf, String),
}

impl InitFailure {
    fn to_error(&self) -> DetectError {
        match self {
            InitFailure::NotFound(tried) => DetectError::RuntimeNotFound { tried: tried.clone() },
            InitFailure::Load(path, reason) => DetectError::RuntimeLoad {
                path: path.clone(),
                reason: reason.clone(),
            },
        }
    }
}

/// The candidate library paths in lookup order, and whether each was given explicitly.
///
/// An explicit setting (`ORT_DYLIB_PATH`, or the path handed to the API) that points at a
/// missing file is an error rather than a fall-through: silently using another library than
/// the one configured would hide a misconfiguration.
fn candidates(configured: Option<&Path>) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(p), true));
    }
    if let Some(p) = configured {
        out.push((p.to_path_buf(), true));
    }
    if let Some(d) = std::env::var_os("VEIL_ORT_DIR").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(d).join(LIB_NAME), false));
    }
    out.push((PathBuf::from("/usr/local/lib/veil").join(LIB_NAME), false));
    if let Some(h) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(h).join(".local/lib/veil").join(LIB_NAME), false));
    }
    out
}

fn init(configured: Option<&Path>) -> Result<Loaded, InitFailure> {
    let mut tried = Vec::new();
    let mut chosen = None;
    for (path, explicit) in candidates(configured) {
        tried.push(path.clone());
        if path.is_file() {
            chosen = Some(path);
            break;
        }
        if explicit {
            return Err(InitFailure::NotFound(tried));
        }
    }
    let Some(path) = chosen else {
        return Err(InitFailure::NotFound(tried));
    };
    // `ort` panics in a few places when the library is unusable (e.g. a missing entry point);
    // contain that so a bad file is an error, not a crash of the caller.
    let res = std::panic::catch_unwind(|| -> Result<ort::environment::Environment, String> {
        let builder = ort::init_from(&path).map_err(|e| e.to_string())?;
        builder.with_name("veil").build().map_err(|e| e.to_string())
    });
    match res {
        Ok(Ok(env)) => Ok(Loaded { path, env }),
        Ok(Err(reason)) => Err(InitFailure::Load(path, reason)),
        Err(_) => Err(InitFailure::Load(
            path,
            "ONNX Runtime panicked while loading".to_owned(),
        )),
    }
}

/// Load ONNX Runtime, once per process, and return the path it was loaded from.
///
/// Lookup order: the `ORT_DYLIB_PATH` environment variable, then `library` (a path given by
/// the application), then `$VEIL_ORT_DIR/libonnxruntime.so`, then where `scripts/setup.sh`
/// installs it: `/usr/local/lib/veil/libonnxruntime.so`, then
/// `$HOME/.local/lib/veil/libonnxruntime.so`.
///
/// ONNX Runtime can be loaded only once per process: the first call decides, and later calls
/// (with any `library`) return the first call's result. Detector builders call this; an
/// application may call it first to choose the library or to check the installation.
///
/// # Errors
/// [`DetectError::RuntimeNotFound`] listing every path tried, or [`DetectError::RuntimeLoad`]
/// when the file exists but is not a usable ONNX Runtime (wrong file, too old a version).
pub fn init_runtime(library: Option<&Path>) -> Result<&'static Path, DetectError> {
    match RUNTIME.get_or_init(|| init(library)) {
        Ok(l) => Ok(&l.path),
        Err(f) => Err(f.to_error()),
    }
}

/// The path ONNX Runtime was loaded from, if it has been loaded successfully.
pub fn runtime_path() -> Option<&'static Path> {
    match RUNTIME.get() {
        Some(Ok(l)) => Some(&l.path),
        _ => None,
    }
}

/// The process's ONNX Runtime environment, loading the runtime first if needed.
pub(crate) fn environment(
    library: Option<&Path>,
) -> Result<&'static ort::environment::Environment, DetectError> {
    match RUNTIME.get_or_init(|| init(library)) {
        Ok(l) => Ok(&l.env),
        Err(f) => Err(f.to_error()),
    }
}
