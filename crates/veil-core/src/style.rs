//! [`Redaction`]: how masked pixels are redacted, and which style is the strongest.
//!
//! Which styles are irreversible:
//! - [`Redaction::Solid`] overwrites every masked pixel with black: nothing of the original
//!   survives. The default for zones.
//! - [`Redaction::Pixelate`] writes each masked pixel as the mean of its block of the frame
//!   (a grid anchored at the frame origin). With blocks of at least 8 pixels no single pixel
//!   value is recoverable: a block mean is rounded to 8 bits, which hides the sum of its
//!   pixels to within +-block^2/2.
//! - [`Redaction::Blur`] replaces pixels by a strong Gaussian-like blur (three box passes in
//!   each direction). A blur is a known linear filter: deconvolution can partly undo it, and
//!   coarse shapes and colours stay visible. It is for inzage exports, where the viewer should
//!   still see that a person is there; it is not the default for zones.

use crate::error::RedactError;

/// How masked pixels are redacted. Sizes are in luma pixels; chroma planes of 4:2:0 formats
/// use half of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Redaction {
    /// Black fill (irreversible).
    Solid,
    /// Block means (irreversible for `block >= 8`).
    Pixelate {
        /// Block edge in luma pixels.
        block: u32,
    },
    /// Three box-blur passes per direction of the given radius (not irreversible).
    Blur {
        /// Box radius in luma pixels (window `2 * radius + 1`).
        radius: u32,
    },
}

impl Redaction {
    /// Relative strength, for ordering the application of overlapping styles:
    /// solid first, then pixelate, then blur, so that neighbourhood kernels read pixels
    /// already blanked by stronger styles and never spread a zone's content.
    pub fn strength(&self) -> u32 {
        match self {
            Redaction::Solid => 3_000_000,
            Redaction::Pixelate { block } => 2_000_000 + block,
            Redaction::Blur { radius } => 1_000_000 + radius,
        }
    }

    /// Why the parameters are unusable, if they are.
    pub(crate) fn check(&self) -> Result<(), RedactError> {
        match *self {
            Redaction::Pixelate { block } if !(2..=4096).contains(&block) => Err(
                RedactError::InvalidParameter(format!("pixelate block {block} outside 2..=4096")),
            ),
            Redaction::Blur { radius } if !(1..=1024).contains(&radius) => Err(
                RedactError::InvalidParameter(format!("blur radius {radius} outside 1..=1024")),
            ),
            _ => Ok(()),
        }
    }
}
