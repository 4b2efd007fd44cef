//! Face and person detection for Veil over ONNX Runtime.
//!
//! Two detectors implement [`Detector`]: [`CenterFace`] (faces, with five landmarks) and
//! [`NanoDet`] (persons, COCO class 0). Both take any [`veil_core::FrameRef`] (I420, NV12,
//! RGB24, BGR24, RGBA, GRAY8), resize it straight from its planes into the network input,
//! run ONNX Runtime, decode, apply non-maximum suppression and return boxes in frame pixels.
//!
//! Models are looked up in a models directory holding `manifest.tsv` (see [`ModelInfo`]):
//! the one given to the builder, else `VEIL_MODELS_DIR`, else the first of
//! [`models_search_path`] that holds one (an installed `share/veil/models`, or the checkout's
//! `models/` when running from it); see [`find_models_dir`].
//! Each file's SHA-256 is checked against the manifest before ONNX Runtime sees it.
//! ONNX Runtime itself is loaded once per process, see [`init_runtime`]. The networks run
//! on the CPU unless a builder is given another [`Device`] (CUDA or TensorRT, when the loaded
//! runtime is a GPU build).
//!
//! ```no_run
//! use veil_detect::{CenterFace, Detector};
//! # fn f(frame: &veil_core::FrameRef<'_>) -> Result<(), veil_detect::DetectError> {
//! let mut faces = CenterFace::builder().threshold(0.3).threads(2).build()?;
//! for d in faces.detect(frame)? {
//!     println!("face {:.2} at {:?}", d.score, d.bbox);
//! }
//! # Ok(()) }
//! ```

mod cells;
mod centerface;
mod device;
mod error;
mod model;
mod motion;
mod nanodet;
mod onnx_patch;
pub mod preprocess;
mod regions;
mod runtime;
mod search;

pub use centerface::{CenterFace, CenterFaceBuilder, InputSize};
pub use device::{Device, ParseDeviceError, DEVICE_ENV};
pub use error::DetectError;
pub use model::{
    default_models_dir, find_models_dir, models_search_path, read_manifest, sha256_hex, ModelInfo,
    MANIFEST_FILE,
};
pub use nanodet::{NanoDet, NanoDetBuilder};
pub use runtime::{init_runtime, runtime_path};
pub use search::{
    FaceSearch, PersonSearch, RegionDetector, Search, SearchStats, CHANGES_ONLY, DEFAULT_MIN_FACE,
    DEFAULT_MIN_PERSON, MAX_SCALE, MIN_MIN_FACE, NET_FACE_PX, NET_PERSON_PX, RECENT_FRAMES, SWEEP_FRAMES,
};

use veil_core::{BoxF, FrameRef};
pub use veil_core::{Class, Detection};

/// A detector: frames in, detections in frame pixels out.
pub trait Detector: Send {
    /// Detect in one frame.
    ///
    /// # Errors
    /// [`DetectError::Inference`] if ONNX Runtime fails, [`DetectError::ModelInterface`] if
    /// the network's outputs do not have the expected shapes.
    fn detect(&mut self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError>;

    /// Detect in several frames; one result per frame, in order. Detectors that can batch
    /// (CenterFace, for frames of one size) run them through the network together.
    ///
    /// # Errors
    /// As [`Detector::detect`]; on error no result is returned for any frame.
    fn detect_batch(&mut self, frames: &[FrameRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        frames.iter().map(|f| self.detect(f)).collect()
    }

    /// The model file this detector runs (name, file, SHA-256 as verified at load time).
    fn model(&self) -> &ModelInfo;

    /// The class this detector reports.
    fn class(&self) -> Class;

    /// The device its network runs on (never [`Device::Auto`]: what `Auto` chose).
    fn device(&self) -> Device;
}

/// Greedy non-maximum suppression: keep the best-scoring box, drop every box overlapping a
/// kept one by more than `iou`, repeat. Returns the kept detections, best first.
pub fn nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Detection> = Vec::with_capacity(dets.len().min(64));
    for d in dets {
        if keep.iter().all(|k| k.bbox.iou(&d.bbox) <= iou) {
            keep.push(d);
        }
    }
    keep
}

/// Settings shared by both detectors' builders.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub threshold: f32,
    pub nms_iou: f32,
    pub threads: usize,
    pub models_dir: Option<std::path::PathBuf>,
    pub ort_library: Option<std::path::PathBuf>,
    pub device: Device,
}

impl Common {
    pub(crate) fn validate(&self) -> Result<(), DetectError> {
        let bad = |reason: String| Err(DetectError::InvalidConfig { reason });
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return bad(format!("threshold {} must be in (0, 1)", self.threshold));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return bad(format!("NMS IoU {} must be in (0, 1]", self.nms_iou));
        }
        if self.threads == 0 || self.threads > 256 {
            return bad(format!("thread count {} must be in 1..=256", self.threads));
        }
        Ok(())
    }

    /// Load the runtime and the verified model; create the session on the configured device
    /// (returned with the device it runs on).
    pub(crate) fn load(&self, name: &str) -> Result<Loaded, DetectError> {
        self.load_edited(name, |b| Ok(b.to_vec()))
    }

    /// As [`Common::load`], handing ONNX Runtime `edit` of the verified bytes (an error of
    /// `edit` is a [`DetectError::ModelInterface`]: the file is not the network expected).
    pub(crate) fn load_edited(
        &self,
        name: &str,
        edit: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<Loaded, DetectError> {
        self.validate()?;
        let env = runtime::environment(self.ort_library.as_deref())?;
        let dir = find_models_dir(self.models_dir.as_deref())?;
        let (info, path, bytes) = model::load_verified(&dir, name)?;
        let bytes = edit(&bytes).map_err(|reason| DetectError::ModelInterface {
            model: info.name.clone(),
            reason,
        })?;
        let (session, device) = model::session_from_bytes(&path, &bytes, self.threads, self.device, env)?;
        Ok((info, session, device))
    }
}

/// A loaded model: its manifest entry, the session, the device the session runs on.
pub(crate) type Loaded = (ModelInfo, ort::session::Session, Device);

/// Clip a box to the frame; `None` if nothing is left.
pub(crate) fn clip(x0: f32, y0: f32, x1: f32, y1: f32, w: u32, h: u32) -> Option<BoxF> {
    let (w, h) = (w as f32, h as f32);
    let (x0, y0) = (x0.clamp(0.0, w), y0.clamp(0.0, h));
    let (x1, y1) = (x1.clamp(0.0, w), y1.clamp(0.0, h));
    (x1 > x0 && y1 > y0).then(|| BoxF::new(x0, y0, x1 - x0, y1 - y0))
}

/// Tensor of shape `[n, 3, h, w]` borrowed for one run.
pub(crate) fn input_tensor<'a>(
    model: &str,
    shape: [usize; 4],
    data: &'a [f32],
) -> Result<ort::value::TensorRef<'a, f32>, DetectError> {
    ort::value::TensorRef::from_array_view((shape, data)).map_err(|e| DetectError::Inference {
        model: model.to_owned(),
        reason: e.to_string(),
    })
}
