//! veil-core: frames, geometry, zones, masks and redaction kernels.
//!
//! Pure Rust with no native dependency, so an NVR can link just this crate to mask
//! forbidden zones (dwellings, front doors, workplaces, public road) at capture time,
//! before a frame is ever stored.
//!
//! The flow: load a [`CameraConfig`] from its TOML zone file, build a [`CaptureMasker`]
//! for the stream's geometry (this rasterises the zones into a [`Mask`] of row spans once),
//! then call [`CaptureMasker::apply`] on every decoded frame.

pub mod error;
pub mod frame;
pub mod geometry;

pub use error::{ConfigError, FrameError, RedactError};
pub use frame::{
    Frame, FrameMut, FrameRef, PixelFormat, PlaneLayout, PlaneMut, PlaneRef, MAX_DIMENSION, MAX_PIXELS,
};
pub use geometry::{BoxF, Polygon, Rect};
