//! NanoDet-m 416: persons (COCO class 0).
//!
//! The published graph declares a fixed 416x416 input, but the network is fully
//! convolutional (strides 8, 16, 32; every reshape is computed from the feature maps), so
//! its input height and width are made symbolic at load time ([`crate::onnx_patch`]) and
//! a frame runs at its letterboxed size rounded up to a multiple of 32: 416x256 for 16:9
//! instead of a 416x416 square that is 44% padding. The scale, and so what the network
//! sees of each person, is the same as in the square; only padding rows are left out.
//! A frame smaller than the square is not upscaled in that mode: it runs at its own size
//! (rounded up to a multiple of 32), where every person of about 28 px and more is found
//! (the minimum-size search, `crate::Search`, upsamples where a smaller `min_person` asks
//! for it). Upscaling a 176x144 frame to 416x352 cost 4.8x the network input for persons
//! far below any minimum size.

use std::path::PathBuf;

use veil_core::FrameRef;

use crate::centerface::default_threads;
use crate::preprocess::{Letterbox, Resampler};
use crate::{clip, input_tensor, nms, Class, Common, DetectError, Detection, Detector, ModelInfo};

/// Manifest name of the NanoDet model.
const MODEL: &str = "nanodet";
/// The network's trained input side: frames are scaled to fit a `SIDE` x `SIDE` square.
const SIDE: usize = 416;
/// Output strides.
const STRIDES: [usize; 3] = [8, 16, 32];
/// The input's name in the graph.
const INPUT: &str = "input_1:0";
/// COCO classes scored per cell.
const CLASSES: usize = 80;
/// Distance bins per box side (distribution focal loss, values 0..=10 strides).
const BINS: usize = 11;

/// Builder for [`NanoDet`]; see [`NanoDet::builder`].
#[derive(Debug, Clone)]
pub struct NanoDetBuilder {
    common: Common,
    square: bool,
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
    /// Run the network on the full 416x416 square it was published with (frames
    /// letterboxed into it), instead of on the letterboxed frame's own size rounded up to a
    /// multiple of 32 (the default, `false`: same scale, fewer padding rows, e.g. 416x256
    /// for a 16:9 frame, ~40% less work). For comparisons.
    pub fn square_input(mut self, square: bool) -> Self {
        self.square = square;
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
    /// Where the network runs. Default [`crate::Device::Cpu`]. A GPU device named explicitly
    /// that the loaded ONNX Runtime cannot use makes [`Self::build`] fail with
    /// [`DetectError::DeviceUnavailable`]; [`crate::Device::Auto`] falls back to the CPU
    /// (see [`crate::Detector::device`] for the device chosen).
    pub fn device(mut self, device: crate::Device) -> Self {
        self.common.device = device;
        self
    }

    /// Load ONNX Runtime and the checked model and create the detector.
    ///
    /// # Errors
    /// As [`crate::CenterFaceBuilder::build`].
    pub fn build(self) -> Result<NanoDet, DetectError> {
        let (info, session, device) = if self.square {
            self.common.load(MODEL)?
        } else {
            self.common
                .load_edited(MODEL, |b| crate::onnx_patch::symbolic_hw(b, INPUT))?
        };
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
            device,
            common: self.common,
            square: self.square,
            plan: None,
            input: Vec::new(),
        })
    }
}

/// The NanoDet-m person detector (416x416 input, letterboxed).
pub struct NanoDet {
    output_names: Vec<String>,
    session: ort::session::Session,
    info: ModelInfo,
    /// The device the session runs on (what [`crate::Device::Auto`] chose).
    device: crate::Device,
    common: Common,
    square: bool,
    plan: Option<Resampler>,
    input: Vec<f32>,
}

impl std::fmt::Debug for NanoDet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NanoDet")
            .field("model", &self.info)
            .field("threshold", &self.common.threshold)
            .field("threads", &self.common.threads)
            .field("device", &self.device)
            .field("square_input", &self.square)
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
                device: crate::Device::Cpu,
            },
            square: false,
        }
    }

    /// The score threshold persons are reported above (manifests record it).
    pub fn threshold(&self) -> f32 {
        self.common.threshold
    }

    /// Where a `width` x `height` frame goes in the network input: scaled down to fit
    /// 416x416 (never up), in an input of that size rounded up to multiples of 32 (or scaled
    /// to fit, up or down, in the whole 416x416 square with [`NanoDetBuilder::square_input`]).
    pub fn letterbox_for(&self, width: u32, height: u32) -> Letterbox {
        letterbox(self.square, width, height)
    }
}

fn letterbox(square: bool, width: u32, height: u32) -> Letterbox {
    // The published square scales every frame to fit, small ones up; the compact input keeps
    // small frames at their own size (see the module documentation).
    let mut lb = Letterbox::fit(width, height, SIDE, SIDE, square);
    if !square {
        lb.net_w = lb.content_w.div_ceil(32) * 32;
        lb.net_h = lb.content_h.div_ceil(32) * 32;
    }
    lb
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

impl NanoDet {
    /// Detect persons inside `region` of `frame` only, sampled at `scale` network pixels per
    /// frame pixel (finer than the whole frame's input: the way [`crate::PersonSearch`]
    /// finds small persons). Boxes are in frame pixels, clipped to the frame.
    ///
    /// # Errors
    /// As [`crate::CenterFace::detect_region`].
    pub fn detect_region(
        &mut self,
        frame: &FrameRef<'_>,
        region: veil_core::Rect,
        scale: f32,
    ) -> Result<Vec<Detection>, DetectError> {
        let lb = crate::centerface::fill_region(frame, region, scale, 1.0 / 255.0, &mut self.input)?;
        // The whole-frame plan no longer describes the buffer's padding.
        self.plan = None;
        let origin = (region.x as f32, region.y as f32);
        self.run_input(lb, origin, (frame.width(), frame.height()))
    }

    /// Network pixels per frame pixel of the whole-frame input for `width` x `height`
    /// frames (the smaller of the two axes' scales).
    pub fn frame_scale(&self, width: u32, height: u32) -> f32 {
        let lb = letterbox(self.square, width, height);
        lb.scale_x.min(lb.scale_y)
    }

    /// The NMS IoU this detector suppresses overlapping persons at.
    pub(crate) fn nms_iou(&self) -> f32 {
        self.common.nms_iou
    }

    /// Run the network on `self.input` (placed as `lb`, its top-left corner at frame pixel
    /// `origin`) and decode the persons into frame pixels clipped to `(fw, fh)`.
    fn run_input(
        &mut self,
        lb: Letterbox,
        (ox, oy): (f32, f32),
        (fw, fh): (u32, u32),
    ) -> Result<Vec<Detection>, DetectError> {
        let model = self.info.name.clone();
        let err = |reason: String| DetectError::Inference {
            model: model.clone(),
            reason,
        };
        let tensor = input_tensor(&model, [1, 3, lb.net_h, lb.net_w], &self.input)?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| err(e.to_string()))?;
        // Outputs are told apart by shape: [1, cells, 80] scores, [1, cells, 44] boxes, where
        // a stride s has (net_w / s) x (net_h / s) cells.
        let cells_of = |s: usize| (lb.net_w / s) * (lb.net_h / s);
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
            if let Some(s) = STRIDES.iter().position(|&st| cells_of(st) == n) {
                match c {
                    CLASSES => scores[s] = Some(data),
                    c if c == 4 * BINS => boxes[s] = Some(data),
                    _ => {}
                }
            }
        }
        let thr = self.common.threshold;
        let mut dets = Vec::new();
        for (s, &stride) in STRIDES.iter().enumerate() {
            let cells = cells_of(stride);
            let (Some(sc), Some(bx)) = (scores[s], boxes[s]) else {
                return Err(DetectError::ModelInterface {
                    model: model.clone(),
                    reason: format!("no score/box outputs with {cells} cells (stride {stride})"),
                });
            };
            let g = lb.net_w / stride;
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
                    b.x / lb.scale_x + ox,
                    b.y / lb.scale_y + oy,
                    (b.x + b.w) / lb.scale_x + ox,
                    (b.y + b.h) / lb.scale_y + oy,
                    fw,
                    fh,
                )?;
                Some(d)
            })
            .collect())
    }
}

impl Detector for NanoDet {
    fn detect(&mut self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        let (fw, fh) = (frame.width(), frame.height());
        if !self.plan.as_ref().is_some_and(|p| p.fits(fw, fh)) {
            self.plan = None;
        }
        let square = self.square;
        let plan = self
            .plan
            .get_or_insert_with(|| Resampler::new(fw, fh, letterbox(square, fw, fh)));
        let lb = plan.letterbox();
        self.input.resize(plan.tensor_len(), 0.0);
        plan.fill(frame, &mut self.input, 1.0 / 255.0)?;
        self.run_input(lb, (0.0, 0.0), (fw, fh))
    }

    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn class(&self) -> Class {
        Class::Person
    }

    fn device(&self) -> crate::Device {
        self.device
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use veil_core::{Frame, PixelFormat};

    fn fixture_rgb(name: &str) -> Frame {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/images")
            .join(name);
        let img = image::open(p).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let mut f = Frame::new(PixelFormat::Rgb24, w, h).unwrap();
        {
            let mut m = f.as_mut();
            let p = &mut m.planes_mut()[0];
            for y in 0..h {
                p.row_mut(y)
                    .copy_from_slice(&img.as_raw()[(y * w * 3) as usize..((y + 1) * w * 3) as usize]);
            }
        }
        f
    }

    #[test]
    fn compact_input_keeps_the_square_scale() {
        let c = letterbox(false, 1280, 720);
        let s = letterbox(true, 1280, 720);
        assert_eq!((c.net_w, c.net_h, s.net_w, s.net_h), (416, 256, 416, 416));
        assert_eq!((c.content_w, c.content_h), (s.content_w, s.content_h));
        assert_eq!(c.scale_x, s.scale_x);
        let p = letterbox(false, 576, 768);
        assert_eq!((p.net_w, p.net_h, p.content_h), (320, 416, 416));
        // small frames are not upscaled in the compact input (the square still fits them)
        let small = letterbox(false, 176, 144);
        assert_eq!(
            (small.net_w, small.net_h, small.content_w, small.content_h),
            (192, 160, 176, 144)
        );
        assert_eq!((small.scale_x, small.scale_y), (1.0, 1.0));
        let tiny = letterbox(false, 2, 2);
        assert_eq!((tiny.net_w, tiny.net_h), (32, 32));
        let sq = letterbox(true, 176, 144);
        assert_eq!((sq.net_w, sq.net_h, sq.content_h), (416, 416, 340));
    }

    /// The compact input finds the persons the published square input finds, at nearly the
    /// same places (real pictures: a street scene and a group photo). Not bit-identical: the
    /// network's resize layers replicate the border of the feature maps, which now lies at
    /// the picture's edge instead of inside the padding (a person at the group photo's
    /// bottom-right edge moves by ~25 px, IoU 0.87).
    #[test]
    fn compact_and_square_inputs_agree() {
        let mut square = NanoDet::builder().threads(1).square_input(true).build().unwrap();
        let mut compact = NanoDet::builder().threads(1).build().unwrap();
        for name in ["vtest_f000.jpg", "group_t1.jpg"] {
            let f = fixture_rgb(name);
            let a = square.detect(&f.as_ref()).unwrap();
            let b = compact.detect(&f.as_ref()).unwrap();
            assert!(!a.is_empty(), "{name}: nobody found");
            for d in &a {
                let best = b.iter().map(|e| e.bbox.iou(&d.bbox)).fold(0f32, f32::max);
                assert!(best >= 0.8, "{name}: {d:?} not in {b:?}");
            }
        }
    }
}
