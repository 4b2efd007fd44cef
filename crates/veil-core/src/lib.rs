//! veil-core: frames, geometry, zones, masks and redaction kernels.
//!
//! Pure Rust with no native dependency, so an NVR can link just this crate to mask
//! forbidden zones (dwellings, front doors, workplaces, public road) at capture time,
//! before a frame is ever stored.
//!
//! The flow: load a [`CameraConfig`] from its TOML zone file, build a [`CaptureMasker`]
//! for the stream's geometry (this rasterises the zones into [`Mask`]s of row spans once),
//! then call [`CaptureMasker::apply`] on every decoded frame.
//!
//! ```
//! use veil_core::{CameraConfig, CaptureMasker, Frame, PixelFormat};
//!
//! let config = CameraConfig::from_toml_str(r#"
//! [camera]
//! id = "entrance-north"
//! purposes = ["safety"]
//! responsible = "Facility management"
//! [[zones]]
//! kind = "dwelling-door"
//! label = "Front door no. 12"
//! polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
//! "#, "example.toml")?;
//! let mut frame = Frame::new(PixelFormat::Gray8, 8, 2)?;
//! frame.as_mut().planes_mut()[0].row_mut(0).fill(200);
//! let masker = CaptureMasker::new(&config, 8, 2, PixelFormat::Gray8)?;
//! masker.apply(&mut frame.as_mut())?;
//! assert_eq!(frame.as_ref().planes()[0].row(0), &[0, 0, 0, 0, 200, 200, 200, 200]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod config;
pub mod cpu;
mod detection;
pub mod error;
pub mod frame;
pub mod fsutil;
pub mod geometry;
pub mod hash;
pub mod kernels;
pub mod mask;
pub mod masker;
pub mod redact;
pub mod zonefile;

pub use config::{CameraConfig, Zone, ZoneKind, ZoneStyle};
pub use cpu::CpuLevel;
pub use detection::{Class, Detection};
pub use error::{ConfigError, FrameError, RedactError};
pub use frame::{
    Frame, FrameMut, FrameRef, PixelFormat, PlaneLayout, PlaneMut, PlaneRef, MAX_DIMENSION, MAX_PIXELS,
};
pub use geometry::{BoxF, Polygon, Rect};
pub use mask::{rasterise, Action, Layer, Mask, Shape, SpanSet};
pub use masker::CaptureMasker;
pub use redact::{apply_mask, Redaction};
