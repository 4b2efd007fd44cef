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

/// Plane radius from which blur runs at reduced resolution.
const MULTIRES_MIN_RADIUS: u32 = 6;

fn blur_region(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32) -> Vec<u8> {
    if radius >= MULTIRES_MIN_RADIUS {
        return blur_region_multires(level, plane, rect, radius);
    }
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
    let stride = plane.stride();
    let src = &plane.data()[ctx.y as usize * stride + ctx.x as usize * bpp..];
    box3_2d(level, src, stride, &mut a, &mut b, cw, ch, bpp, r);
    let (dx, dy) = ((rect.x - ctx.x) as usize * bpp, (rect.y - ctx.y) as usize);
    let rw = rect.w as usize * bpp;
    let mut out = vec![0u8; rw * rect.h as usize];
    for (y, orow) in out.chunks_exact_mut(rw).enumerate() {
        let s = (dy + y) * row_bytes + dx;
        orow.copy_from_slice(&b[s..s + rw]);
    }
    out
}

/// Three box passes of radius `r` in each direction over a `w` x `h` image of `bpp`-byte
/// pixels read from `src` (with `src_stride`); the result lands in `b` (tight rows), `a` is
/// scratch. Both must hold `w * h * bpp` bytes.
#[allow(clippy::too_many_arguments)]
fn box3_2d(
    level: CpuLevel,
    src: &[u8],
    src_stride: usize,
    a: &mut [u8],
    b: &mut [u8],
    w: usize,
    h: usize,
    bpp: usize,
    r: usize,
) {
    let row_bytes = w * bpp;
    // vertical passes: src -> a -> b -> a
    kernels::vbox_pass(level, src, src_stride, a, row_bytes, row_bytes, h, r);
    kernels::vbox_pass(level, a, row_bytes, b, row_bytes, row_bytes, h, r);
    kernels::vbox_pass(level, b, row_bytes, a, row_bytes, row_bytes, h, r);
    // horizontal passes as vertical passes over the transpose: a -> b (transposed) -> ...
    let t_row = h * bpp;
    kernels::transpose(a, row_bytes, b, t_row, w, h, bpp);
    kernels::vbox_pass(level, b, t_row, a, t_row, t_row, w, r);
    kernels::vbox_pass(level, a, t_row, b, t_row, t_row, w, r);
    kernels::vbox_pass(level, b, t_row, a, t_row, t_row, w, r);
    // ... and back
    kernels::transpose(a, t_row, b, row_bytes, h, w, bpp);
}

/// Strong blur at reduced resolution: box-average the context down by `f = radius / 3`,
/// run the three box passes per direction at radius ~3 there, and interpolate back up
/// bilinearly. The result approximates the same Gaussian (sigma ~ radius) as full-resolution
/// box passes at a fraction of the cost, and it discards more detail (privacy-wise a plus).
fn blur_region_multires(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32) -> Vec<u8> {
    let bpp = plane.bytes_per_pixel();
    // at most 128 rows are summed into the u16 accumulator (128 * 255 < 65536)
    let f = (radius / 3).clamp(2, 128) as usize;
    let rs = ((radius as usize + f / 2) / f).max(1);
    let ctx = rect
        .grow(3 * radius, 3 * radius)
        .clamp_to(plane.width(), plane.height())
        .unwrap_or(rect);
    let (cw, ch) = (ctx.w as usize, ctx.h as usize);
    let (sw, sh) = (cw.div_ceil(f), ch.div_ceil(f));
    let stride = plane.stride();
    let data = plane.data();
    let row_bytes = cw * bpp;
    // 1. downsample: sum f rows (vectorisable adds), then groups of f columns
    let mut small = vec![0u8; sw * sh * bpp];
    let mut acc = vec![0u16; row_bytes];
    for sy in 0..sh {
        let y0 = sy * f;
        let y1 = (y0 + f).min(ch);
        acc.fill(0);
        for y in y0..y1 {
            let o = (ctx.y as usize + y) * stride + ctx.x as usize * bpp;
            for (a, &v) in acc.iter_mut().zip(&data[o..o + row_bytes]) {
                *a += u16::from(v);
            }
        }
        let srow = &mut small[sy * sw * bpp..(sy + 1) * sw * bpp];
        let rows = (y1 - y0) as u32;
        // fixed-point reciprocal of a full block; only the last column block may be narrower
        let full_inv = (1u32 << 24) / (f as u32 * rows);
        for sx in 0..sw {
            let x0 = sx * f;
            let x1 = (x0 + f).min(cw);
            let n = (x1 - x0) as u32 * rows;
            let inv = if x1 - x0 == f { full_inv } else { (1u32 << 24) / n };
            for c in 0..bpp {
                let sum: u32 = acc[x0 * bpp + c..x1 * bpp]
                    .iter()
                    .step_by(bpp)
                    .map(|&v| u32::from(v))
                    .sum();
                srow[sx * bpp + c] = ((u64::from(sum) * u64::from(inv) + (1 << 23)) >> 24).min(255) as u8;
            }
        }
    }
    // 2. blur the small image
    let mut tmp = vec![0u8; small.len()];
    let mut blurred = vec![0u8; small.len()];
    box3_2d(level, &small, sw * bpp, &mut tmp, &mut blurred, sw, sh, bpp, rs);
    // 3. bilinear upsample into the region: sample position of pixel x is (x + 0.5) / f - 0.5
    let sample = |p: usize, n: usize| -> (usize, u32) {
        let pos = ((2 * p + 1) * 256 / (2 * f)).saturating_sub(128);
        let i = (pos / 256).min(n - 1);
        let w = if i + 1 < n { (pos % 256) as u32 } else { 0 };
        (i, w)
    };
    let (rx, ry) = ((rect.x - ctx.x) as usize, (rect.y - ctx.y) as usize);
    let (rw, rh) = (rect.w as usize, rect.h as usize);
    let xs: Vec<(usize, usize, u32)> = (0..rw)
        .map(|x| {
            let (i, w) = sample(rx + x, sw);
            (i * bpp, (i + 1).min(sw - 1) * bpp, w)
        })
        .collect();
    // horizontally upsampled small rows, computed once per small row
    let mut wide = vec![0u8; sh * rw * bpp];
    for sy in 0..sh {
        let srow = &blurred[sy * sw * bpp..(sy + 1) * sw * bpp];
        let wrow = &mut wide[sy * rw * bpp..(sy + 1) * rw * bpp];
        if bpp == 1 {
            for (o, &(i, j, w)) in wrow.iter_mut().zip(&xs) {
                *o = ((u32::from(srow[i]) * (256 - w) + u32::from(srow[j]) * w + 128) >> 8) as u8;
            }
        } else {
            for (px, &(i, j, w)) in wrow.chunks_exact_mut(bpp).zip(&xs) {
                for (c, o) in px.iter_mut().enumerate() {
                    let (a, b) = (u32::from(srow[i + c]), u32::from(srow[j + c]));
                    *o = ((a * (256 - w) + b * w + 128) >> 8) as u8;
                }
            }
        }
    }
    let rb = rw * bpp;
    let mut out = vec![0u8; rb * rh];
    for (y, orow) in out.chunks_exact_mut(rb).enumerate() {
        let (i, w) = sample(ry + y, sh);
        let j = (i + 1).min(sh - 1);
        let (a, b) = (&wide[i * rb..(i + 1) * rb], &wide[j * rb..(j + 1) * rb]);
        let (wa, wb) = (256 - w as u16, w as u16);
        for ((o, &p), &q) in orow.iter_mut().zip(a).zip(b) {
            *o = ((u16::from(p) * wa + u16::from(q) * wb + 128) >> 8) as u8;
        }
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

/// Fill the spans of rows `y0..` held in `band` (consecutive rows, `stride` apart).
fn fill_band(band: &mut [u8], stride: usize, y0: u32, spans: &SpanSet, black: &[u8]) {
    let bpp = black.len();
    let uniform = black.iter().all(|&v| v == black[0]);
    for (i, row) in band.chunks_mut(stride).enumerate() {
        for &[a, b] in spans.row(y0 + i as u32) {
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

/// Solid fill of every plane. Large masks are filled in row bands across the caller's pool.
fn fill_solid(
    frame: &mut FrameMut<'_>,
    mask: &Mask,
    #[cfg(feature = "rayon")] pool: Option<&rayon::ThreadPool>,
) {
    let format = frame.format();
    #[cfg(feature = "rayon")]
    if let Some(pool) = pool.filter(|_| mask.pixel_count() >= PARALLEL_MIN_PIXELS) {
        use rayon::prelude::*;
        pool.install(|| {
            frame
                .planes_mut()
                .par_iter_mut()
                .enumerate()
                .for_each(|(p, plane)| {
                    let Some(spans) = mask.plane(p) else { return };
                    let stride = plane.stride();
                    let rows_per_band = (BAND_BYTES / stride.max(1)).max(2);
                    plane
                        .data_mut()
                        .par_chunks_mut(stride * rows_per_band)
                        .enumerate()
                        .for_each(|(b, band)| {
                            fill_band(band, stride, (b * rows_per_band) as u32, spans, format.black(p))
                        });
                })
        });
        return;
    }
    for (p, plane) in frame.planes_mut().iter_mut().enumerate() {
        if let Some(spans) = mask.plane(p) {
            let stride = plane.stride();
            fill_band(plane.data_mut(), stride, 0, spans, format.black(p));
        }
    }
}

/// Masks smaller than this are filled on the calling thread: handing work to a pool costs
/// more than it saves (measured: 1080p zones of 311K pixels fill in 14 us alone, 27 us through
/// a 2-thread pool; 2160p zones of 1.2M pixels take 50 us alone, 43 us through the pool).
#[cfg(feature = "rayon")]
const PARALLEL_MIN_PIXELS: u64 = 512 * 1024;
/// Bytes of plane per parallel band.
#[cfg(feature = "rayon")]
const BAND_BYTES: usize = 256 * 1024;

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
        fill_solid(
            frame,
            mask,
            #[cfg(feature = "rayon")]
            pool,
        );
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
