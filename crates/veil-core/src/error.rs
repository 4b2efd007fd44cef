//! Error types of veil-core.

use std::path::{Path, PathBuf};

use crate::format::PixelFormat;

/// A frame's geometry or planes were rejected at construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Width or height is zero.
    #[error("frame size {width}x{height} has a zero dimension")]
    ZeroSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Width or height exceeds [`crate::MAX_DIMENSION`], or the pixel count exceeds [`crate::MAX_PIXELS`].
    #[error(
        "frame size {width}x{height} is too large (at most {max} pixels a side, {max_pixels} pixels in all)"
    )]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Largest accepted side.
        max: u32,
        /// Largest accepted pixel count.
        max_pixels: u64,
    },
    /// A 4:2:0 format was given an odd width or height.
    #[error("{format:?} needs even width and height, got {width}x{height}")]
    OddSize {
        /// The pixel format.
        format: PixelFormat,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The wrong number of planes was passed.
    #[error("{format:?} has {expected} plane(s), got {got}")]
    PlaneCount {
        /// The pixel format.
        format: PixelFormat,
        /// Planes the format has.
        expected: usize,
        /// Planes passed.
        got: usize,
    },
    /// A plane's stride is shorter than one row of its pixels.
    #[error("plane {plane}: stride {stride} is smaller than the row size {min}")]
    InvalidStride {
        /// Plane index.
        plane: usize,
        /// Stride given, in bytes.
        stride: usize,
        /// Bytes in one row.
        min: usize,
    },
    /// A plane's buffer is too short for its rows.
    #[error("plane {plane}: buffer holds {len} bytes, needs at least {min}")]
    BufferTooShort {
        /// Plane index.
        plane: usize,
        /// Buffer length in bytes.
        len: usize,
        /// Bytes needed.
        min: usize,
    },
    /// A plane pointer was null (raw-pointer constructors only).
    #[error("plane {plane}: null data pointer")]
    NullPlane {
        /// Plane index.
        plane: usize,
    },
    /// Size arithmetic overflowed `usize`.
    #[error("size arithmetic overflowed for plane {plane}")]
    Overflow {
        /// Plane index.
        plane: usize,
    },
    /// Two frames or a frame and a mask do not have the same geometry.
    #[error("geometry mismatch: expected {expected_format:?} {expected_width}x{expected_height}, got {format:?} {width}x{height}")]
    GeometryMismatch {
        /// Format expected.
        expected_format: PixelFormat,
        /// Width expected.
        expected_width: u32,
        /// Height expected.
        expected_height: u32,
        /// Format given.
        format: PixelFormat,
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
}

/// Why a camera configuration (zone file) was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error text.
        reason: String,
    },
    /// The TOML did not parse or did not match the schema (unknown kind/style, missing field...).
    #[error("{}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said, with line and column.
        reason: String,
    },
    /// A zone is invalid.
    #[error("{}: zone {index} ({label:?}): {reason}", path.display())]
    Zone {
        /// The file.
        path: PathBuf,
        /// Index of the zone in the file (0-based).
        index: usize,
        /// The zone's label.
        label: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The camera table is invalid.
    #[error("{}: camera: {reason}", path.display())]
    Camera {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a redaction could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// The frame does not match the mask's geometry.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A redaction parameter is out of range.
    #[error("invalid redaction parameter: {0}")]
    InvalidParameter(String),
}

/// A zone file that is not TOML or has a key of the wrong type, as a [`ConfigError::Parse`]
/// on one line.
pub(crate) fn parse_err(origin: &Path, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::Parse {
        path: origin.to_path_buf(),
        reason: e.to_string().trim_end().replace('\n', " "),
    }
}
