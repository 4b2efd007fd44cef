//! Redaction styles and their application to a frame through a [`Mask`].
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

use crate::cpu::CpuLevel;
use crate::error::RedactError;
use crate::frame::{FrameMut, FrameRef, PlaneRef};
use crate::geometry::Rect;
use crate::kernels;
use crate::mask::{Mask, SpanSet};

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

    fn check(&self) -> Result<(), RedactError> {
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

/// The redacted content of one region of one plane, computed from the frame before it is
/// written back under the mask.
struct RegionResult {
    plane: usize,
    rect: Rect,
    data: Vec<u8>,
}

fn check_geometry(frame: &FrameRef<'_>, mask: &Mask) -> Result<(), RedactError> {
    if frame.format() != mask.format() || frame.width() != mask.width() || frame.height() != mask.height() {
        return Err(RedactError::Frame(crate::FrameError::GeometryMismatch {
            expected_format: mask.format(),
            expected_width: mask.width(),
            expected_height: mask.height(),
            format: frame.format(),
            width: frame.width(),
            height: frame.height(),
        }));
    }
    Ok(())
}

/// Plane-scaled parameter: chroma planes of 4:2:0 formats are half size.
fn plane_param(frame: &FrameRef<'_>, plane: usize, v: u32, min: u32) -> u32 {
    if plane > 0 && frame.format().is_420() {
        (v / 2).max(min)
    } else {
        v.max(min)
    }
}

fn pixelate_region(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, block: u32) -> Vec<u8> {
    let bpp = plane.bytes_per_pixel();
    let b = block as usize;
    let (pw, ph) = (plane.width() as usize, plane.height() as usize);
    let (rx0, ry0) = (rect.x as usize, rect.y as usize);
    let (rx1, ry1) = (rx0 + rect.w as usize, ry0 + rect.h as usize);
    let gx0 = rx0 / b;
    let gx1 = rx1.div_ceil(b);
    let gy0 = ry0 / b;
    let gy1 = ry1.div_ceil(b);
    let rw = rect.w as usize * bpp;
    let mut out = vec![0u8; rw * rect.h as usize];
    let mut sums = vec![0u32; (gx1 - gx0) * bpp];
    let mut means = vec![0u8; (gx1 - gx0) * bpp];
    let px0 = gx0 * b;
    let px1 = (gx1 * b).min(pw);
    for gy in gy0..gy1 {
        let (y0, y1) = (gy * b, ((gy + 1) * b).min(ph));
        sums.fill(0);
        for y in y0..y1 {
            let row = &plane.row(y as u32)[px0 * bpp..px1 * bpp];
            kernels::accumulate_blocks(level, row, bpp, b, &mut sums);
        }
        for g in 0..gx1 - gx0 {
            let bw = (((gx0 + g + 1) * b).min(pw) - (gx0 + g) * b) as u32;
            let n = bw * (y1 - y0) as u32;
            for c in 0..bpp {
                means[g * bpp + c] = ((sums[g * bpp + c] + n / 2) / n) as u8;
            }
        }
        let (oy0, oy1) = (y0.max(ry0), y1.min(ry1));
        if oy0 >= oy1 {
            continue;
        }
        // fill the first output row of this block row block by block, then copy it down
        let first = (oy0 - ry0) * rw;
        for g in 0..gx1 - gx0 {
            let xa = ((gx0 + g) * b).max(rx0) - rx0;
            let xb = ((gx0 + g + 1) * b).min(rx1) - rx0;
            let seg = &mut out[first + xa * bpp..first + xb * bpp];
            let m = &means[g * bpp..g * bpp + bpp];
            if bpp == 1 {
                seg.fill(m[0]);
            } else {
                for px in seg.chunks_exact_mut(bpp) {
                    px.copy_from_slice(m);
                }
            }
        }
        for y in oy0 + 1..oy1 {
            out.copy_within(first..first + rw, (y - ry0) * rw);
        }
    }
    out
}

fn blur_region(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32) -> Vec<u8> {
    let bpp = plane.bytes_per_pixel();
    let r = radius as usize;
    // Three passes of radius r reach 3r pixels: read that much context around the region.
    let ctx = rect
        .grow(3 * radius, 3 * radius)
        .clamp_to(plane.width(), plane.height())
        .unwrap_or(rect);
    let (cw, ch) = (ctx.w as usize, ctx.h as usize);
    let row_bytes = cw * bpp;
    let mut a = vec![0u8; row_bytes * ch];
    let mut b = vec![0u8; row_bytes * ch];
    let off = ctx.x as usize * bpp;
    let data = plane.data();
    let stride = plane.stride();
    let src = &data[ctx.y as usize * stride + off..];
    // vertical passes: plane -> a -> b -> a
    kernels::vbox_pass(level, src, stride, &mut a, row_bytes, row_bytes, ch, r);
    kernels::vbox_pass(level, &a, row_bytes, &mut b, row_bytes, row_bytes, ch, r);
    kernels::vbox_pass(level, &b, row_bytes, &mut a, row_bytes, row_bytes, ch, r);
    // horizontal passes as vertical passes over the transpose: a -> b (transposed) ...
    let t_row = ch * bpp;
    kernels::transpose(&a, row_bytes, &mut b, t_row, cw, ch, bpp);
    kernels::vbox_pass(level, &b, t_row, &mut a, t_row, t_row, cw, r);
    kernels::vbox_pass(level, &a, t_row, &mut b, t_row, t_row, cw, r);
    kernels::vbox_pass(level, &b, t_row, &mut a, t_row, t_row, cw, r);
    // ... and back, keeping only the region itself.
    let mut full = b;
    kernels::transpose(&a, t_row, &mut full, row_bytes, ch, cw, bpp);
    let (dx, dy) = ((rect.x - ctx.x) as usize * bpp, (rect.y - ctx.y) as usize);
    let rw = rect.w as usize * bpp;
    let mut out = vec![0u8; rw * rect.h as usize];
    for (y, orow) in out.chunks_exact_mut(rw).enumerate() {
        let s = (dy + y) * row_bytes + dx;
        orow.copy_from_slice(&full[s..s + rw]);
    }
    out
}

fn write_back(frame: &mut FrameMut<'_>, spans: &SpanSet, res: &RegionResult) {
    let Some(plane) = frame.plane_mut(res.plane) else {
        return;
    };
    let bpp = plane.bytes_per_pixel();
    let (x0, x1) = (res.rect.x as u32, res.rect.x as u32 + res.rect.w);
    let rw = res.rect.w as usize * bpp;
    for ry in 0..res.rect.h {
        let y = res.rect.y as u32 + ry;
        let src = &res.data[ry as usize * rw..(ry as usize + 1) * rw];
        let row = plane.row_mut(y);
        for &[a, b] in spans.row(y) {
            let (a, b) = (a.max(x0), b.min(x1));
            if a < b {
                let (da, db) = (a as usize * bpp, b as usize * bpp);
                let (sa, sb) = ((a - x0) as usize * bpp, (b - x0) as usize * bpp);
                row[da..db].copy_from_slice(&src[sa..sb]);
            }
        }
    }
}

fn fill_plane(frame: &mut FrameMut<'_>, plane_index: usize, spans: &SpanSet) {
    let black = frame.format().black(plane_index);
    let Some(plane) = frame.plane_mut(plane_index) else {
        return;
    };
    let bpp = plane.bytes_per_pixel();
    let uniform = black.iter().all(|&v| v == black[0]);
    for y in 0..plane.height() {
        let row = plane.row_mut(y);
        for &[a, b] in spans.row(y) {
            let dst = &mut row[a as usize * bpp..b as usize * bpp];
            if uniform {
                dst.fill(black[0]);
            } else {
                for px in dst.chunks_exact_mut(bpp) {
                    px.copy_from_slice(black);
                }
            }
        }
    }
}

/// Apply `redaction` to the pixels of `mask` in `frame`.
///
/// With the `rayon` feature and a `pool`, regions are computed in parallel in that pool
/// (never in rayon's global pool unless the caller passes it).
///
/// # Errors
/// [`RedactError`] when the frame's geometry differs from the mask's or a parameter is out of
/// range. The frame is untouched then; callers at capture time blank it (see
/// [`crate::CaptureMasker::apply`]).
pub fn apply_mask(
    frame: &mut FrameMut<'_>,
    mask: &Mask,
    redaction: Redaction,
    level: CpuLevel,
    #[cfg(feature = "rayon")] pool: Option<&rayon::ThreadPool>,
) -> Result<(), RedactError> {
    check_geometry(&frame.as_ref(), mask)?;
    redaction.check()?;
    if mask.is_empty() {
        return Ok(());
    }
    let n_planes = frame.format().plane_count();
    if redaction == Redaction::Solid {
        for p in 0..n_planes {
            if let Some(spans) = mask.plane(p) {
                fill_plane(frame, p, spans);
            }
        }
        return Ok(());
    }
    let jobs: Vec<(usize, Rect)> = (0..n_planes)
        .flat_map(|p| mask.regions(p).iter().map(move |r| (p, *r)))
        .collect();
    let view = frame.as_ref();
    let compute = |&(p, rect): &(usize, Rect)| -> Option<RegionResult> {
        let plane = view.plane(p)?;
        let data = match redaction {
            Redaction::Pixelate { block } => {
                pixelate_region(level, plane, rect, plane_param(&view, p, block, 2))
            }
            Redaction::Blur { radius } => blur_region(level, plane, rect, plane_param(&view, p, radius, 1)),
            Redaction::Solid => return None,
        };
        Some(RegionResult { plane: p, rect, data })
    };
    #[cfg(feature = "rayon")]
    let results: Vec<Option<RegionResult>> = match pool {
        Some(pool) if jobs.len() > 1 => {
            use rayon::prelude::*;
            pool.install(|| jobs.par_iter().map(compute).collect())
        }
        _ => jobs.iter().map(compute).collect(),
    };
    #[cfg(not(feature = "rayon"))]
    let results: Vec<Option<RegionResult>> = jobs.iter().map(compute).collect();
    for res in results.into_iter().flatten() {
        if let Some(spans) = mask.plane(res.plane) {
            write_back(frame, spans, &res);
        }
    }
    Ok(())
}
