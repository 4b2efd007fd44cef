//! [`Redaction`]: how masked pixels are redacted, and which style is the strongest.
//!
//! Which styles are irreversible:
//! - [`Redaction::Solid`] overwrites every masked pixel with black: nothing of the original
//!   survives. The default for zones.
//! - [`Redaction::Pixelate`] writes each masked pixel as the mean of its block of the frame
//!   (a grid anchored at the frame origin). With blocks of at least 8 pixels no single pixel
//!   value is recoverable: a block mean is rounded to 8 bits, which hides the sum of its
//!   pixels to within +-block^2/2.
//! - [`Redaction::Blur`] looks like a strong blur but is computed from coarse cells only: the
//!   region (with its context) is averaged over cells of [`Redaction::blur_cell`] pixels (a
//!   sixth of a box's height in inzage exports, as their pixelate block), every cell mean gets
//!   random noise of up to +-[`BLUR_CELL_NOISE`] levels from the operating system's random
//!   source (through `rand`'s thread generator: ChaCha seeded from the OS, new noise on every
//!   call), the noisy cells are blurred among themselves (three box passes of about two cells)
//!   and interpolated bilinearly back to full size. Every output pixel is a function of the
//!   noisy cell means alone, so no detail finer than a cell survives, and the cell means are
//!   known only to within the noise: deconvolution cannot undo it (see the README's "Inzage
//!   export" and SECURITY.md). The default for inzage exports, and `blur` in zone files.
//! - [`Redaction::WeakBlur`] is the plain blur (three box passes in each direction, at reduced
//!   resolution for large radii): a known linear filter with no noise, which deconvolution can
//!   partly undo; coarse shapes and colours stay visible. It is available by name only
//!   (`weak-blur`), never a default.

use crate::error::RedactError;

/// Noise added to every cell mean of [`Redaction::Blur`]: uniform in
/// `-BLUR_CELL_NOISE..=BLUR_CELL_NOISE` 8-bit levels, drawn anew for every cell of every call.
/// The cells are then blurred among themselves, which averages the noise down to a faint
/// mottle (a standard deviation of about two levels) while it still hides each cell's mean.
pub const BLUR_CELL_NOISE: i16 = 32;

/// Smallest cell of [`Redaction::Blur`], in luma pixels.
pub const MIN_BLUR_CELL: u32 = 4;

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
    /// A blur computed from noisy coarse cell means (irreversible): it looks like a blur of
    /// the given radius, but cells of [`Redaction::blur_cell`] pixels are the finest detail
    /// it keeps, and each of their means carries random noise.
    Blur {
        /// Blur radius in luma pixels (the cell is two thirds of it).
        radius: u32,
    },
    /// Plain blur: three box-blur passes per direction of the given radius (not irreversible:
    /// deconvolution with the known kernel partly undoes it).
    WeakBlur {
        /// Box radius in luma pixels (window `2 * radius + 1`).
        radius: u32,
    },
}

impl Redaction {
    /// Relative strength, for ordering the application of overlapping styles:
    /// solid first, then pixelate, then the irreversible blur, then the weak blur, so that
    /// neighbourhood kernels read pixels already blanked by stronger styles and never spread
    /// a zone's content.
    pub fn strength(&self) -> u32 {
        match self {
            Redaction::Solid => 3_000_000,
            Redaction::Pixelate { block } => 2_000_000 + block,
            Redaction::Blur { radius } => 1_500_000 + radius,
            Redaction::WeakBlur { radius } => 1_000_000 + radius,
        }
    }

    /// The cell edge of a [`Redaction::Blur`] of `radius`, in luma pixels: two thirds of the
    /// radius, at least [`MIN_BLUR_CELL`]. Inzage exports use a radius of a quarter of the box
    /// height, so a cell is a sixth of it (or more: radii are rounded up to buckets), the same
    /// as their pixelate block.
    pub fn blur_cell(radius: u32) -> u32 {
        (radius.saturating_mul(2) / 3).max(MIN_BLUR_CELL)
    }

    /// Whether nothing finer than a block or cell survives and what does survive cannot be
    /// recovered exactly: solid, pixelate with blocks of at least 8 pixels, and blur; never
    /// [`Redaction::WeakBlur`].
    pub fn is_irreversible(&self) -> bool {
        match *self {
            Redaction::Solid | Redaction::Blur { .. } => true,
            Redaction::Pixelate { block } => block >= 8,
            Redaction::WeakBlur { .. } => false,
        }
    }

    /// Why the parameters are unusable, if they are.
    pub(crate) fn check(&self) -> Result<(), RedactError> {
        match *self {
            Redaction::Pixelate { block } if !(2..=4096).contains(&block) => Err(
                RedactError::InvalidParameter(format!("pixelate block {block} outside 2..=4096")),
            ),
            Redaction::Blur { radius } | Redaction::WeakBlur { radius } if !(1..=1024).contains(&radius) => {
                Err(RedactError::InvalidParameter(format!(
                    "blur radius {radius} outside 1..=1024"
                )))
            }
            _ => Ok(()),
        }
    }
}
