//! NanoDet-m 416: persons (COCO class 0).

use std::path::PathBuf;

use veil_core::FrameRef;

use crate::centerface::default_threads;
use crate::preprocess::{Letterbox, Resampler};
use crate::{clip, input_tensor, nms, Class, Common, DetectError, Detection, Detector, ModelInfo};

/// Manifest name of the NanoDet model.
const MODEL: &str = "nanodet";
/// The network's fixed input side.
const SIDE: usize = 416;
/// Output strides and their grid cell counts (`(416 / s)^2`).
const STRIDES: [(usize, usize); 3] = [(8, 2704), (16, 676), (32, 169)];
/// COCO classes scored per cell.
const CLASSES: usize = 80;
/// Distance bins per box side (distribution focal loss, values 0..=10 strides).
const BINS: usize = 11;

/// Builder for [`NanoDet`]; see [`NanoDet::builder`].
#[derive(Debug, Clone)]
pub struct NanoDetBuilder {
    common: Common,
}

impl NanoDetBuilder {
    /// Person score above which a cell is a person. Default 0.3 (a little below the
    /// usual 0.35, for recall).
    pub fn threshold(mut self, t: f32) -> Self {
        self.common.threshold = t;
        self
    }
    /// IoU above which a lower-scoring overlapping box is suppressed. Default 0.5.
    pub fn nms_iou(mut self, iou: f32) -> Self {
        self.common.nms_iou = iou;
        self
    }
    /// ONNX Runtime intra-op threads. Default: the number of cores, at most 4.
    pub fn threads(mut self, n: usize) -> Self {
        self.common.threads = n;
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
    /// As [`crate::CenterFaceBuilder::build`].
    pub fn build(self) -> Result<NanoDet, DetectError> {
        let (info, session) = self.common.load(MODEL)?;
        if session.inputs().len() != 1 || session.outputs().len() != 6 {
            return Err(DetectError::ModelInterface {
                model: info.name.clone(),
                reason: format!(
                    "expected 1 input and 6 outputs, found {} and {}",
                    session.inputs().len(),
                    session.outputs().len()
                ),
            });
        }
        let output_names = session.outputs().iter().map(|o| o.name().to_owned()).collect();
        Ok(NanoDet {
            output_names,
            session,
            info,
            common: self.common,
            plan: None,
            input: vec![0.0; 3 * SIDE * SIDE],
        })
    }
}

/// The NanoDet-m person detector (416x416 input, letterboxed).
pub struct NanoDet {
    output_names: Vec<String>,
    session: ort::session::Session,
    info: ModelInfo,
    common: Common,
    plan: Option<Resampler>,
    input: Vec<f32>,
}

impl std::fmt::Debug for NanoDet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NanoDet")
            .field("model", &self.info)
            .field("threshold", &self.common.threshold)
            .field("threads", &self.common.threads)
            .finish_non_exhaustive()
    }
}

impl NanoDet {
    /// A builder with the defaults: threshold 0.3, NMS IoU 0.5, threads = cores (at most 4).
    pub fn builder() -> NanoDetBuilder {
        NanoDetBuilder {
            common: Common {
                threshold: 0.3,
                nms_iou: 0.5,
                threads: default_threads(),
                models_dir: None,
                ort_library: None,
            },
        }
    }

    /// Where a `width` x `height` frame goes in the 416x416 network input.
    pub fn letterbox_for(&self, width: u32, height: u32) -> Letterbox {
        Letterbox::fit(width, height, SIDE, SIDE, true)
    }
}

/// Expected value of the distance distribution of one box side, in strides.
fn side_distance(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (mut num, mut den) = (0.0, 0.0);
    for (k, &l) in logits.iter().enumerate() {
        let e = (l - max).exp();
        num += e * k as f32;
        den += e;
    }
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

impl Detector for NanoDet {
    fn detect(&mut self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let (fw, fh) = (frame.width(), frame.height());
        if !self.plan.as_ref().is_some_and(|p| p.fits(fw, fh)) {
            self.plan = None;
        }
        let plan = self
            .plan
            .get_or_insert_with(|| Resampler::new(fw, fh, Letterbox::fit(fw, fh, SIDE, SIDE, true)));
        let lb = plan.letterbox();
        plan.fill(frame, &mut self.input, 1.0 / 255.0)?;
        let model = self.info.name.clone();
        let err = |reason: String| DetectError::Inference {
            model: model.clone(),
            reason,
        };
        let tensor = input_tensor(&model, [1, 3, SIDE, SIDE], &self.input)?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| err(e.to_string()))?;
        // Outputs are told apart by shape: [1, cells, 80] scores, [1, cells, 44] boxes.
        let mut scores: [Option<&[f32]>; 3] = [None; 3];
        let mut boxes: [Option<&[f32]>; 3] = [None; 3];
        for name in &self.output_names {
            let Some(v) = outputs.get(name) else {
                return Err(err(format!("output `{name}` missing")));
            };
            let (shape, data) = v.try_extract_tensor::<f32>().map_err(|e| err(e.to_string()))?;
            let (n, c) = match shape.len() {
                3 => (shape[1] as usize, shape[2] as usize),
                _ => continue,
            };
            if let Some(s) = STRIDES.iter().position(|&(_, cells)| cells == n) {
                match c {
                    CLASSES => scores[s] = Some(data),
                    c if c == 4 * BINS => boxes[s] = Some(data),
                    _ => {}
                }
            }
        }
        let thr = self.common.threshold;
        let mut dets = Vec::new();
        for (s, &(stride, cells)) in STRIDES.iter().enumerate() {
            let (Some(sc), Some(bx)) = (scores[s], boxes[s]) else {
                return Err(DetectError::ModelInterface {
                    model: model.clone(),
                    reason: format!("no score/box outputs with {cells} cells (stride {stride})"),
                });
            };
            let g = SIDE / stride;
            for i in 0..cells {
                let score = sc[i * CLASSES];
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
                let reg = &bx[i * 4 * BINS..(i + 1) * 4 * BINS];
                let st = stride as f32;
                let d: [f32; 4] = std::array::from_fn(|k| side_distance(&reg[k * BINS..(k + 1) * BINS]) * st);
                // Cell centres sit at (i + 0.5) * stride, as in NanoDet's (pre-"Plus") GFL head:
                // without the half cell every box came out half a stride up and left of
                // the hand-annotated pedestrians of vtest.avi.
                let (cx, cy) = (((i % g) as f32 + 0.5) * st, ((i / g) as f32 + 0.5) * st);
                let (x0, y0, x1, y1) = (cx - d[0], cy - d[1], cx + d[2], cy + d[3]);
                dets.push(Detection {
                    class: Class::Person,
                    score,
                    bbox: veil_core::BoxF::new(x0, y0, x1 - x0, y1 - y0),
                    landmarks: None,
                });
            }
        }
        Ok(nms(dets, self.common.nms_iou)
            .into_iter()
            .filter_map(|mut d| {
                let b = d.bbox;
                d.bbox = clip(
                    b.x / lb.scale_x,
                    b.y / lb.scale_y,
                    (b.x + b.w) / lb.scale_x,
                    (b.y + b.h) / lb.scale_y,
                    fw,
                    fh,
                )?;
                Some(d)
            })
            .collect())
    }

    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn class(&self) -> Class {
        Class::Person
    }
}
