//! [`CaptureMasker`]: the per-frame call an NVR makes before it stores a frame.

#[cfg(feature = "rayon")]
use std::sync::Arc;

use crate::config::{CameraConfig, Zone, ZoneStyle};
use crate::cpu::CpuLevel;
use crate::error::RedactError;
use crate::format::PixelFormat;
use crate::frame::FrameMut;
use crate::geometry::Geometry;
use crate::mask::{Mask, Shape};
use crate::redact::Pool;
use crate::stack::{layers_by_strength, LayerStack};
use crate::style::Redaction;

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
/// (solid, pixelate, blur, weak blur), and where zones overlap the strongest style wins.
#[derive(Debug, Clone)]
pub struct CaptureMasker {
    stack: LayerStack,
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
        let layers = layers_by_strength(
            config
                .zones
                .iter()
                .map(|z| (zone_redaction(z, width), Shape::Polygon(z.polygon.clone()))),
        );
        Ok(CaptureMasker {
            stack: LayerStack::new(&layers, Geometry::new(format, width, height))?,
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
        self.stack.layers()
    }

    /// Frame geometry this masker was built for.
    pub fn geometry(&self) -> (PixelFormat, u32, u32) {
        let g = self.stack.geometry();
        (g.format, g.width, g.height)
    }

    /// The caller's pool, if one was given.
    #[cfg(feature = "rayon")]
    fn pool(&self) -> Pool<'_> {
        self.pool.as_deref()
    }

    /// No pool without the `rayon` feature.
    #[cfg(not(feature = "rayon"))]
    fn pool(&self) -> Pool<'_> {
        None
    }

    /// Mask the zones of one frame, in place.
    ///
    /// # Errors
    /// [`RedactError`] when the frame's geometry differs from the masker's. Privacy fails
    /// closed: the whole frame is then blanked to black before the error is returned, so a
    /// caller that stores it anyway stores nothing of the scene. (The geometry is checked
    /// before any layer, so a camera without zones still refuses and blanks a frame of the
    /// wrong geometry.)
    pub fn apply(&self, frame: &mut FrameMut<'_>) -> Result<(), RedactError> {
        let res = self.stack.apply_with(frame, self.level, self.pool());
        if res.is_err() {
            frame.fill_black();
        }
        res
    }
}

/// The redaction of a zone in frames `width` pixels wide.
fn zone_redaction(z: &Zone, width: u32) -> Redaction {
    match z.style {
        ZoneStyle::Solid => Redaction::Solid,
        ZoneStyle::Pixelate => Redaction::Pixelate {
            block: z.block.unwrap_or_else(|| default_block(width)),
        },
        ZoneStyle::Blur => Redaction::Blur {
            radius: z.radius.unwrap_or_else(|| default_radius(width)),
        },
        ZoneStyle::WeakBlur => Redaction::WeakBlur {
            radius: z.radius.unwrap_or_else(|| default_radius(width)),
        },
    }
}
