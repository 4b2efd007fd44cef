//! [`LayerStack`]: the rasterised redaction layers of one frame geometry, applied strongest
//! style first. Both the capture-time [`crate::CaptureMasker`] and the inzage export's
//! per-frame layers go through it, so the order rule and the geometry check live here only.

use crate::cpu::CpuLevel;
use crate::error::{FrameError, RedactError};
use crate::frame::FrameMut;
use crate::geometry::Geometry;
use crate::mask::{rasterise, Action, Layer, Mask, Shape};
use crate::redact::{apply_mask_with, Pool};
use crate::style::Redaction;

/// One [`Layer`] per distinct redaction of `items`, ordered weakest first: in the priority
/// order of [`rasterise`] the strongest style then wins where shapes of different styles
/// overlap. Shapes keep their order within a layer.
pub fn layers_by_strength(items: impl IntoIterator<Item = (Redaction, Shape)>) -> Vec<Layer> {
    let mut groups: Vec<(Redaction, Vec<Shape>)> = Vec::new();
    for (r, shape) in items {
        match groups.iter_mut().find(|(g, _)| *g == r) {
            Some((_, shapes)) => shapes.push(shape),
            None => groups.push((r, vec![shape])),
        }
    }
    groups.sort_by_key(|(r, _)| r.strength());
    groups
        .into_iter()
        .map(|(r, shapes)| Layer {
            action: Action::Redact(r),
            shapes,
        })
        .collect()
}

/// The masks of prioritised layers for one frame geometry, in the order they are applied:
/// strongest style first (solid, then pixelate, then blur), so that blur and pixelate read
/// pixels that stronger styles already blanked and never spread their content. Layers of
/// equal strength keep their priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerStack {
    geometry: Geometry,
    layers: Vec<(Redaction, Mask)>,
}

impl LayerStack {
    /// Rasterise `layers` (priority order, see [`rasterise`]) for `geometry`. Keep layers
    /// shield pixels from the layers before them and are not applied themselves.
    ///
    /// # Errors
    /// [`FrameError`] for an invalid geometry or too many layers.
    pub fn new(layers: &[Layer], geometry: Geometry) -> Result<Self, FrameError> {
        let masks = rasterise(layers, geometry.width, geometry.height, geometry.format)?;
        let mut stack: Vec<(Redaction, Mask)> = layers
            .iter()
            .zip(masks)
            .filter_map(|(l, m)| match l.action {
                Action::Redact(r) => Some((r, m)),
                Action::Keep => None,
            })
            .collect();
        stack.sort_by_key(|(r, _)| std::cmp::Reverse(r.strength()));
        Ok(LayerStack {
            geometry,
            layers: stack,
        })
    }

    /// The frame geometry the masks were rasterised for.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The redactions and their masks, in the order they are applied (strongest first).
    pub fn layers(&self) -> &[(Redaction, Mask)] {
        &self.layers
    }

    /// Apply every layer to `frame`, strongest first, on the calling thread.
    ///
    /// # Errors
    /// [`RedactError`] when the frame's geometry differs from the stack's (the frame is then
    /// untouched) or a parameter is out of range (the frame may then be partly redacted and
    /// must not be used).
    pub fn apply(&self, frame: &mut FrameMut<'_>, level: CpuLevel) -> Result<(), RedactError> {
        self.apply_with(frame, level, None)
    }

    /// [`LayerStack::apply`], computing blur and pixelate regions in `pool` (the global
    /// rayon pool is never used implicitly).
    ///
    /// # Errors
    /// As [`LayerStack::apply`].
    #[cfg(feature = "rayon")]
    pub fn apply_in_pool(
        &self,
        frame: &mut FrameMut<'_>,
        level: CpuLevel,
        pool: &rayon::ThreadPool,
    ) -> Result<(), RedactError> {
        self.apply_with(frame, level, Some(pool))
    }

    pub(crate) fn apply_with(
        &self,
        frame: &mut FrameMut<'_>,
        level: CpuLevel,
        pool: Pool<'_>,
    ) -> Result<(), RedactError> {
        self.geometry.expect(frame.geometry())?;
        for (r, mask) in &self.layers {
            apply_mask_with(frame, mask, *r, level, pool)?;
        }
        Ok(())
    }
}
