//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading ONNX Runtime or a model, or while detecting.
///
/// Every variant names the file (or the list of places looked at) and the reason, so that an
/// operator can fix the installation without reading code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// No ONNX Runtime library at any of the places Veil looks.
    #[error(
        "ONNX Runtime library not found; looked at: {}. Run `make setup` or set ORT_DYLIB_PATH",
        display_paths(tried)
    )]
    RuntimeNotFound {
        /// Every path tried, in lookup order.
        tried: Vec<PathBuf>,
    },
    /// A library file exists but ONNX Runtime could not be loaded or initialised from it.
    #[error("cannot load ONNX Runtime from {}: {reason}", path.display())]
    RuntimeLoad {
        /// The library file.
        path: PathBuf,
        /// What ONNX Runtime (or the dynamic loader) said.
        reason: String,
    },
    /// No models directory was configured and none of the places searched holds the models.
    #[error(
        "models not found: no {} in any of: {}. Install them (`make install`), pass --models-dir \
         or set VEIL_MODELS_DIR",
        crate::MANIFEST_FILE,
        display_paths(tried)
    )]
    ModelsNotFound {
        /// Every directory looked at, in lookup order.
        tried: Vec<PathBuf>,
    },
    /// The models manifest is missing or unreadable.
    #[error("cannot read model manifest {}: {source}", path.display())]
    ManifestIo {
        /// The manifest file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of the models manifest is malformed.
    #[error("model manifest {}, line {line}: {reason}", path.display())]
    ManifestSyntax {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The manifest has no entry for the requested model.
    #[error("model `{name}` is not listed in manifest {}", manifest.display())]
    NotInManifest {
        /// The model name asked for.
        name: String,
        /// The manifest searched.
        manifest: PathBuf,
    },
    /// The model file listed in the manifest cannot be read.
    #[error("cannot read model file {}: {source}", path.display())]
    ModelIo {
        /// The model file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The model file's SHA-256 differs from the manifest (swapped, truncated or corrupted file).
    #[error("model file {} has SHA-256 {actual}, but the manifest says {expected}", path.display())]
    ModelChecksum {
        /// The model file.
        path: PathBuf,
        /// SHA-256 from the manifest (lower-case hex).
        expected: String,
        /// SHA-256 of the file on disk (lower-case hex).
        actual: String,
    },
    /// ONNX Runtime rejected the model file (not ONNX, unsupported operator, ...).
    #[error("ONNX Runtime cannot load model {}: {reason}", path.display())]
    ModelLoad {
        /// The model file.
        path: PathBuf,
        /// What ONNX Runtime said.
        reason: String,
    },
    /// The model loaded, but its inputs or outputs are not what the decoder expects.
    #[error("model {model} does not have the expected interface: {reason}")]
    ModelInterface {
        /// The model name.
        model: String,
        /// What differs.
        reason: String,
    },
    /// A GPU device was asked for by name but the loaded ONNX Runtime cannot run on it (no
    /// such execution provider in this build, or its libraries or the GPU are missing).
    /// Never answered by running on the CPU instead: [`crate::Device::Auto`] does that.
    #[error("device {device} unavailable: {reason}")]
    DeviceUnavailable {
        /// The device asked for (`cuda` or `tensorrt`).
        device: crate::Device,
        /// Why it cannot be used (what ONNX Runtime said).
        reason: String,
    },
    /// A builder setting is out of range.
    #[error("invalid detector setting: {reason}")]
    InvalidConfig {
        /// Which setting and why.
        reason: String,
    },
    /// A frame or buffer handed to the preprocessing does not fit the plan it was given to.
    #[error("preprocessing input mismatch: {reason}")]
    InputMismatch {
        /// What does not fit.
        reason: String,
    },
    /// Running the network failed.
    #[error("inference with model {model} failed: {reason}")]
    Inference {
        /// The model name.
        model: String,
        /// What ONNX Runtime said.
        reason: String,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(nowhere)".to_owned();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
