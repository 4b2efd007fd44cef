//! [`CaptureMasker`]: the per-frame call an NVR makes before it stores a frame.

use std::sync::Arc;

use crate::config::{CameraConfig, ZoneStyle};
use crate::cpu::CpuLevel;
use crate::error::RedactError;
use crate::frame::{FrameMut, PixelFormat};
use crate::mask::{rasterise, Action, Layer, Mask, Shape};
use crate::redact::{apply_mask, Redaction};

/// Default pixelate block for a frame width: about 1/60 of the width, at least 16 pixels.
pub fn default_block(width: u32) -> u32 {
    (width / 60).max(16)
}

/// Default blur radius for a frame width: about 1/100 of the width, at least 8 pixels.
pub fn default_radius(width: u32) -> u32 {
    (width / 100).max(8)
}

/// Masks a camera's forbidden zones in frames of one geometry.
///
/// The zones are rasterised once, in [`CaptureMasker::new`]; [`CaptureMasker::apply`] is then
/// a loop over precomputed row spans. Zones of different styles are applied strongest first
/// (solid, pixelate, blur), and where zones overlap the strongest style wins.
#[derive(Debug, Clone)]
pub struct CaptureMasker {
    format: PixelFormat,
    width: u32,
    height: u32,
    layers: Vec<(Redaction, Mask)>,
    level: CpuLevel,
    #[cfg(feature = "rayon")]
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl CaptureMasker {
    /// Rasterise `config`'s zones for `width` x `height` frames in `format`.
    ///
    /// # Errors
    /// [`RedactError`] for an invalid geometry.
    pub fn new(
        config: &CameraConfig,
        width: u32,
        height: u32,
        format: PixelFormat,
    ) -> Result<Self, RedactError> {
        let mut groups: Vec<(Redaction, Vec<Shape>)> = Vec::new();
        for z in &config.zones {
            let r = match z.style {
                ZoneStyle::Solid => Redaction::Solid,
                ZoneStyle::Pixelate => Redaction::Pixelate {
                    block: z.block.unwrap_or_else(|| default_block(width)),
                },
                ZoneStyle::Blur => Redaction::Blur {
                    radius: z.radius.unwrap_or_else(|| default_radius(width)),
                },
            };
            match groups.iter_mut().find(|(g, _)| *g == r) {
                Some((_, shapes)) => shapes.push(Shape::Polygon(z.polygon.clone())),
                None => groups.push((r, vec![Shape::Polygon(z.polygon.clone())])),
            }
        }
        // weakest first in the layer list, so the strongest wins where zones overlap
        groups.sort_by_key(|(r, _)| r.strength());
        let layers: Vec<Layer> = groups
            .iter()
            .map(|(r, shapes)| Layer {
                action: Action::Redact(*r),
                shapes: shapes.clone(),
            })
            .collect();
        let masks = rasterise(&layers, width, height, format)?;
        // apply strongest first: later (weaker) kernels then read already-blanked pixels
        let mut layers: Vec<(Redaction, Mask)> = groups.into_iter().map(|(r, _)| r).zip(masks).collect();
        layers.reverse();
        Ok(CaptureMasker {
            format,
            width,
            height,
            layers,
            level: CpuLevel::detect(),
            #[cfg(feature = "rayon")]
            pool: None,
        })
    }

    /// Compute blur/pixelate regions in `pool` (the global rayon pool is never used implicitly).
    #[cfg(feature = "rayon")]
    pub fn with_thread_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Use `level` for the kernels (lowered to what the CPU supports).
    pub fn with_cpu_level(mut self, level: CpuLevel) -> Self {
        self.level = level.min(CpuLevel::detect().max(CpuLevel::Scalar));
        if !level.is_supported() {
            self.level = CpuLevel::Scalar;
        }
        self
    }

    /// The masks, strongest style first.
    pub fn layers(&self) -> &[(Redaction, Mask)] {
        &self.layers
    }

    /// Frame geometry this masker was built for.
    pub fn geometry(&self) -> (PixelFormat, u32, u32) {
        (self.format, self.width, self.height)
    }

    /// Mask the zones of one frame, in place.
    ///
    /// # Errors
    /// [`RedactError`] when the frame's geometry differs from the masker's. Privacy fails
    /// closed: the whole frame is then blanked to black before the error is returned, so a
    /// caller that stores it anyway stores nothing of the scene.
    pub fn apply(&self, frame: &mut FrameMut<'_>) -> Result<(), RedactError> {
        // Checked here too, not only per layer: a camera without zones must still refuse
        // (and blank) a frame of the wrong geometry.
        if (frame.format(), frame.width(), frame.height()) != (self.format, self.width, self.height) {
            let err = crate::FrameError::GeometryMismatch {
                expected_format: self.format,
                expected_width: self.width,
                expected_height: self.height,
                format: frame.format(),
                width: frame.width(),
                height: frame.height(),
            };
            frame.fill_black();
            return Err(err.into());
        }
        for (r, mask) in &self.layers {
            let res = apply_mask(
                frame,
                mask,
                *r,
                self.level,
                #[cfg(feature = "rayon")]
                self.pool.as_deref(),
            );
            if let Err(e) = res {
                frame.fill_black();
                return Err(e);
            }
        }
        Ok(())
    }
}
