//! Veil: privacy-preserving video processing for CCTV systems.
//!
//! This facade re-exports the workspace crates so that an NVR can depend on one
//! package. See the README for the forbidden-zone (capture-time masking) and
//! inzage (right of access) use cases.
//!
//! ```
//! use veil::core::{CameraConfig, CaptureMasker, Frame, PixelFormat};
//!
//! let toml = r#"
//! [camera]
//! id = "entrance-north"
//! purposes = ["safety"]
//! responsible = "Facility management"
//!
//! [[zones]]
//! kind = "dwelling-door"
//! label = "Front door no. 12"
//! polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
//! "#;
//! let config = CameraConfig::from_toml_str(toml, "inline")?;
//! let mut frame = Frame::new(PixelFormat::I420, 64, 48)?;
//! let masker = CaptureMasker::new(&config, 64, 48, PixelFormat::I420)?;
//! masker.apply(&mut frame.as_mut())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use veil_audit as audit;
pub use veil_core as core;
pub use veil_crypt as crypt;
pub use veil_detect as detect;
pub use veil_record as record;
pub use veil_redact as redact;
pub use veil_track as track;
pub use veil_video as video;
