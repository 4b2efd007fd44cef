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

//! # Public surface
//!
//! Everything a caller needs is re-exported at the crate root; the modules behind it are
//! private, so the layout can change without breaking anyone. Two modules stay public
//! because their names say what they are for and their items are not masking:
//! [`zonefile`] (reading and editing zone files as drafts, for tools), [`fsutil`]
//! (atomic file writes, temporary names, the same-file check) and [`hash`] (SHA-256 in
//! hex), the last two shared by the crates above.
//!
//! Layering inside the crate, each module importing only those above it:
//! `cpu`, `format` -> `error` -> `recording`, `geometry` -> `detection`, `frame`, `config` -> `style` -> `mask` ->
//! `kernels` -> `redact` -> `stack` -> `masker`.

mod config;
mod cpu;
mod detection;
mod error;
mod format;
mod frame;
pub mod fsutil;
mod geometry;
pub mod hash;
mod kernels;
mod mask;
mod masker;
mod recording;
mod redact;
mod stack;
mod style;
pub mod zonefile;

pub use config::{CameraConfig, Zone, ZoneKind, ZoneStyle, MIN_PIXELATE_BLOCK};
pub use cpu::CpuLevel;
pub use detection::{Class, Detection};
pub use error::{ConfigError, FrameError, RedactError};
pub use format::{PixelFormat, PlaneLayout, MAX_DIMENSION, MAX_PIXELS};
pub use frame::{Frame, FrameMut, FrameRef, PlaneMut, PlaneRef};
pub use geometry::{BoxF, Geometry, Polygon, Rect};
pub use mask::{rasterise, Action, Layer, Mask, Shape, SpanSet};
pub use masker::{default_block, default_radius, CaptureMasker};
pub use redact::apply_mask;
#[cfg(feature = "rayon")]
pub use redact::apply_mask_in_pool;
pub use stack::{layers_by_strength, LayerStack};
pub use style::{Redaction, BLUR_CELL_NOISE, MIN_BLUR_CELL};
