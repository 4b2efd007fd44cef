//! The application of a [`Redaction`] to a frame through a [`Mask`]: solid fills run by run,
//! pixelate and both blurs region by region (see [`crate::Redaction`] for which styles are
//! irreversible).

use crate::cpu::CpuLevel;
use crate::error::RedactError;
use crate::frame::{FrameMut, FrameRef, PlaneMut, PlaneRef};
use crate::geometry::Rect;
use crate::kernels;
use crate::mask::{Mask, Run, SpanSet};
use crate::style::{Redaction, BLUR_CELL_NOISE};

/// The caller's thread pool for one apply, if any (rayon's global pool is never used
/// implicitly).
#[cfg(feature = "rayon")]
pub(crate) type Pool<'a> = Option<&'a rayon::ThreadPool>;
/// Without the `rayon` feature there is no pool: all work runs on the calling thread.
#[cfg(not(feature = "rayon"))]
pub(crate) type Pool<'a> = Option<&'a std::convert::Infallible>;

/// The redacted content of one region of one plane, computed from the frame before it is
/// written back under the mask.
struct RegionResult {
    plane: usize,
    rect: Rect,
    pixels: Pixels,
}

/// Redacted pixels of a region.
enum Pixels {
    /// The region's rows, `rect.w * bpp` bytes each.
    Full(Vec<u8>),
    /// Multi-resolution blur: `sh` rows upsampled horizontally to the region's width (plus
    /// slack), still to be interpolated vertically (by `f`, the region starting `ry` rows into
    /// the blur's context).
    Wide {
        wide: Vec<u8>,
        f: usize,
        sh: usize,
        ry: usize,
    },
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

fn blur_region(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32) -> Pixels {
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
    Pixels::Full(out)
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
    kernels::transpose_at(level, a, row_bytes, b, t_row, w, h, bpp);
    kernels::vbox_pass(level, b, t_row, a, t_row, t_row, w, r);
    kernels::vbox_pass(level, a, t_row, b, t_row, t_row, w, r);
    kernels::vbox_pass(level, b, t_row, a, t_row, t_row, w, r);
    // ... and back
    kernels::transpose_at(level, a, t_row, b, row_bytes, h, w, bpp);
}

/// Strong blur at reduced resolution: box-average the context down by `f = radius / 3`,
/// run the three box passes per direction at radius ~3 there, and interpolate back up
/// bilinearly. The result approximates the same Gaussian (sigma ~ radius) as full-resolution
/// box passes at a fraction of the cost, and it discards more detail (privacy-wise a plus).
fn blur_region_multires(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32) -> Pixels {
    cell_blur_region(level, plane, rect, radius, radius / 3, |_, _| {})
}

/// The irreversible blur ([`Redaction::Blur`]) of a region with plane radius `radius` and
/// plane cell `cell`: [`cell_blur_region`] with random noise on every cell mean.
fn noisy_blur_region(level: CpuLevel, plane: &PlaneRef<'_>, rect: Rect, radius: u32, cell: u32) -> Pixels {
    cell_blur_region(level, plane, rect, radius, cell, add_os_noise)
}

/// Adds noise uniform in `-BLUR_CELL_NOISE..=BLUR_CELL_NOISE` to every byte of the cell means
/// `small` (`bpp` interleaved channels), clamped to 0..=255, from `rand`'s thread generator
/// (a ChaCha generator seeded from the operating system's random source and reseeded by
/// `rand`): nobody who sees the output can reproduce it. The fourth byte of 4-byte pixels is
/// alpha (RGBA, the only such format) and is left as it is.
fn add_os_noise(small: &mut [u8], bpp: usize) {
    use rand::RngExt;
    let mut rng = rand::rng();
    for (i, v) in small.iter_mut().enumerate() {
        if bpp == 4 && i % 4 == 3 {
            continue;
        }
        let n: i16 = rng.random_range(-BLUR_CELL_NOISE..=BLUR_CELL_NOISE);
        *v = (i16::from(*v) + n).clamp(0, 255) as u8;
    }
}

/// Blur over cells: box-average the region's context (the region grown by `3 * radius`) down
/// to cells of `cell` pixels (clamped to 2..=128), call `noise` on the cell means (`bpp`
/// interleaved channels), run three box passes per direction over the cells at the radius
/// closest to `radius` in cells, and interpolate back up bilinearly. Every output pixel is a
/// function of the (noisy) cell means alone.
///
/// This computes the blurred small image and its horizontal upsampling (one row per small
/// row); the vertical interpolation is done while writing into the frame, and only under the
/// mask ([`write_back`]).
fn cell_blur_region(
    level: CpuLevel,
    plane: &PlaneRef<'_>,
    rect: Rect,
    radius: u32,
    cell: u32,
    noise: impl FnOnce(&mut [u8], usize),
) -> Pixels {
    let bpp = plane.bytes_per_pixel();
    // at most 128 rows are summed into the u16 accumulator (128 * 255 < 65536)
    let f = cell.clamp(2, 128) as usize;
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
    let (rx, ry) = ((rect.x - ctx.x) as usize, (rect.y - ctx.y) as usize);
    let rw = rect.w as usize;
    let rb = rw * bpp;
    // horizontally upsampled small rows (plus 16 bytes of slack for the SIMD loads)
    let mut wide = vec![0u8; sh * rb + 16];
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let Scratch {
            acc,
            small,
            tmp,
            blurred,
        } = &mut *guard;
        let acc = grown(acc, row_bytes);
        let small = grown(small, sw * sh * bpp);
        // 1. downsample: sum f rows (vectorised adds), then groups of f columns
        for sy in 0..sh {
            let y0 = sy * f;
            let y1 = (y0 + f).min(ch);
            acc.fill(0);
            for y in y0..y1 {
                let o = (ctx.y as usize + y) * stride + ctx.x as usize * bpp;
                kernels::add_row_u16(level, acc, &data[o..o + row_bytes]);
            }
            let srow = &mut small[sy * sw * bpp..(sy + 1) * sw * bpp];
            kernels::downsample_columns(level, acc, srow, f, (y1 - y0) as u32, bpp);
        }
        noise(small, bpp);
        // 2. blur the small image (16 bytes of slack after it for step 3's loads)
        let tmp = grown(tmp, sw * sh * bpp);
        let blurred = grown(blurred, sw * sh * bpp + 16);
        box3_2d(level, small, sw * bpp, tmp, blurred, sw, sh, bpp, rs);
        // 3. bilinear upsample, horizontal part: sample position of pixel x is (x + 0.5) / f - 0.5
        let xs: Vec<(usize, usize, u32)> = (0..rw)
            .map(|x| {
                let (i, w) = upsample_position(rx + x, f, sw);
                (i * bpp, (i + 1).min(sw - 1) * bpp, w)
            })
            .collect();
        let table = kernels::UpsampleTable::new(xs, bpp);
        for sy in 0..sh {
            let src = &blurred[sy * sw * bpp..];
            kernels::upsample_row(level, src, &table, &mut wide[sy * rb..(sy + 1) * rb]);
        }
    });
    Pixels::Wide { wide, f, sh, ry }
}

/// Source row (or column) and weight out of 256 of the next one for output position `p` of a
/// bilinear upsampling by `f` from `n` samples: position `(p + 0.5) / f - 0.5`, clamped.
fn upsample_position(p: usize, f: usize, n: usize) -> (usize, u32) {
    let pos = ((2 * p + 1) * 256 / (2 * f)).saturating_sub(128);
    let i = (pos / 256).min(n - 1);
    let w = if i + 1 < n { (pos % 256) as u32 } else { 0 };
    (i, w)
}

/// Per-thread scratch buffers of the blur, reused across frames (allocating them per region
/// and frame cost page faults).
#[derive(Default)]
struct Scratch {
    acc: Vec<u16>,
    small: Vec<u8>,
    tmp: Vec<u8>,
    blurred: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// The first `n` elements of `v`, grown if needed. The contents are stale: callers overwrite
/// every element they read.
fn grown<T: Copy + Default>(v: &mut Vec<T>, n: usize) -> &mut [T] {
    if v.len() < n {
        v.resize(n, T::default());
    }
    &mut v[..n]
}

fn write_back(level: CpuLevel, plane: &mut PlaneMut<'_>, spans: &SpanSet, res: &RegionResult) {
    let bpp = plane.bytes_per_pixel();
    let (x0, x1) = (res.rect.x as u32, res.rect.x as u32 + res.rect.w);
    let rw = res.rect.w as usize * bpp;
    for ry in 0..res.rect.h {
        let y = res.rect.y as u32 + ry;
        let row = plane.row_mut(y);
        match &res.pixels {
            Pixels::Full(data) => {
                let src = &data[ry as usize * rw..(ry as usize + 1) * rw];
                for &[a, b] in spans.row(y) {
                    let (a, b) = (a.max(x0), b.min(x1));
                    if a < b {
                        let (da, db) = (a as usize * bpp, b as usize * bpp);
                        let (sa, sb) = ((a - x0) as usize * bpp, (b - x0) as usize * bpp);
                        row[da..db].copy_from_slice(&src[sa..sb]);
                    }
                }
            }
            Pixels::Wide { wide, f, sh, ry: dy } => {
                let (i, w) = upsample_position(dy + ry as usize, *f, *sh);
                let j = (i + 1).min(sh - 1);
                let (ra, rb) = (&wide[i * rw..(i + 1) * rw], &wide[j * rw..(j + 1) * rw]);
                for &[a, b] in spans.row(y) {
                    let (a, b) = (a.max(x0), b.min(x1));
                    if a < b {
                        let (da, db) = (a as usize * bpp, b as usize * bpp);
                        let (sa, sb) = ((a - x0) as usize * bpp, (b - x0) as usize * bpp);
                        kernels::lerp_rows(level, &ra[sa..sb], &rb[sa..sb], w as u16, &mut row[da..db]);
                    }
                }
            }
        }
    }
}

/// Calls `f(start, end)` for the byte ranges of `run` in a plane of `stride` and `row_bytes`:
/// one range when the run is in one row or the rows have no padding between them.
#[inline]
fn run_ranges(run: &Run, stride: usize, row_bytes: usize, bpp: usize, mut f: impl FnMut(usize, usize)) {
    let s = run.y0 as usize * stride + run.x0 as usize * bpp;
    let e = run.y1 as usize * stride + run.x1 as usize * bpp;
    if run.y0 == run.y1 || stride == row_bytes {
        f(s, e);
        return;
    }
    f(s, run.y0 as usize * stride + row_bytes);
    for y in run.y0 + 1..run.y1 {
        let o = y as usize * stride;
        f(o, o + row_bytes);
    }
    f(run.y1 as usize * stride, e);
}

/// Fill `runs` of a plane with the pixel value `black`; `data` holds the plane's bytes from
/// offset `base` on.
fn fill_runs(data: &mut [u8], base: usize, runs: &[Run], stride: usize, row_bytes: usize, black: &[u8]) {
    let bpp = black.len();
    if black.iter().all(|&v| v == black[0]) {
        let v = black[0];
        for run in runs {
            run_ranges(run, stride, row_bytes, bpp, |s, e| {
                data[s - base..e - base].fill(v)
            });
        }
    } else {
        for run in runs {
            run_ranges(run, stride, row_bytes, bpp, |s, e| {
                for px in data[s - base..e - base].chunks_exact_mut(bpp) {
                    px.copy_from_slice(black);
                }
            });
        }
    }
}

/// Runs of one plane filled by one task: `data` holds the plane's bytes from `base` on.
#[cfg(feature = "rayon")]
struct FillPart<'d, 'm> {
    data: &'d mut [u8],
    base: usize,
    runs: &'m [Run],
    stride: usize,
    row_bytes: usize,
    black: &'static [u8],
}

/// Solid fill of every plane, run by run (see [`Run`]). Large masks are split into parts of
/// similar size, filled across the caller's pool.
fn fill_solid(frame: &mut FrameMut<'_>, mask: &Mask, pool: Pool<'_>) {
    let format = frame.format();
    #[cfg(not(feature = "rayon"))]
    let _ = pool;
    #[cfg(feature = "rayon")]
    if let Some(pool) = pool.filter(|_| mask.pixel_count() >= PARALLEL_MIN_PIXELS) {
        use rayon::prelude::*;
        // a few parts per thread, so that a slow thread does not hold up the frame
        let target = (mask.pixel_count() as usize / (4 * pool.current_num_threads().max(1))).max(1);
        let mut parts: Vec<FillPart<'_, '_>> = Vec::new();
        for (p, plane) in frame.planes_mut().iter_mut().enumerate() {
            let runs = mask.runs(p);
            let (stride, row_bytes, bpp) = (plane.stride(), plane.row_bytes(), plane.bytes_per_pixel());
            let black = format.black(p);
            let mut rest: &mut [u8] = plane.data_mut();
            let (mut base, mut first, mut bytes) = (0usize, 0usize, 0usize);
            for (i, run) in runs.iter().enumerate() {
                let start = run.y0 as usize * stride + run.x0 as usize * bpp;
                if bytes >= target {
                    // runs are in raster order and disjoint: everything before `start` belongs
                    // to the runs already taken
                    let (head, tail) = std::mem::take(&mut rest).split_at_mut(start - base);
                    parts.push(FillPart {
                        data: head,
                        base,
                        runs: &runs[first..i],
                        stride,
                        row_bytes,
                        black,
                    });
                    (rest, base, first, bytes) = (tail, start, i, 0);
                }
                bytes += run.y1 as usize * stride + run.x1 as usize * bpp - start;
            }
            if first < runs.len() {
                parts.push(FillPart {
                    data: rest,
                    base,
                    runs: &runs[first..],
                    stride,
                    row_bytes,
                    black,
                });
            }
        }
        pool.install(|| {
            parts
                .into_par_iter()
                .for_each(|p| fill_runs(p.data, p.base, p.runs, p.stride, p.row_bytes, p.black))
        });
        return;
    }
    for (p, plane) in frame.planes_mut().iter_mut().enumerate() {
        let (stride, row_bytes) = (plane.stride(), plane.row_bytes());
        fill_runs(
            plane.data_mut(),
            0,
            mask.runs(p),
            stride,
            row_bytes,
            format.black(p),
        );
    }
}

/// Masks smaller than this are filled on the calling thread: handing work to a pool costs
/// more than it saves. A fill is bound by memory bandwidth, which a second core adds little
/// to, while waking the pool costs tens of microseconds on a busy machine (measured, load ~9
/// on 2 cores: 2160p zones of 1.2M pixels fill in 40 us alone, 60-65 us through a 2-thread
/// pool; earlier, before fills were merged into runs, 1080p zones of 311K pixels took 14 us
/// alone and 27 us through the pool).
#[cfg(feature = "rayon")]
const PARALLEL_MIN_PIXELS: u64 = 4 * 1024 * 1024;

/// Apply `redaction` to the pixels of `mask` in `frame`, on the calling thread.
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
) -> Result<(), RedactError> {
    apply_mask_with(frame, mask, redaction, level, None)
}

/// [`apply_mask`], computing regions (and filling large solid masks) in `pool`.
///
/// # Errors
/// As [`apply_mask`].
#[cfg(feature = "rayon")]
pub fn apply_mask_in_pool(
    frame: &mut FrameMut<'_>,
    mask: &Mask,
    redaction: Redaction,
    level: CpuLevel,
    pool: &rayon::ThreadPool,
) -> Result<(), RedactError> {
    apply_mask_with(frame, mask, redaction, level, Some(pool))
}

/// [`apply_mask`] in the caller's pool, if any.
pub(crate) fn apply_mask_with(
    frame: &mut FrameMut<'_>,
    mask: &Mask,
    redaction: Redaction,
    level: CpuLevel,
    pool: Pool<'_>,
) -> Result<(), RedactError> {
    mask.geometry().expect(frame.geometry())?;
    redaction.check()?;
    if mask.is_empty() {
        return Ok(());
    }
    let n_planes = frame.format().plane_count();
    if redaction == Redaction::Solid {
        fill_solid(frame, mask, pool);
        return Ok(());
    }
    let jobs: Vec<(usize, Rect)> = (0..n_planes)
        .flat_map(|p| mask.regions(p).iter().map(move |r| (p, *r)))
        .collect();
    let view = frame.as_ref();
    let compute = |&(p, rect): &(usize, Rect)| -> Option<RegionResult> {
        let plane = view.plane(p)?;
        let pixels = match redaction {
            Redaction::Pixelate { block } => Pixels::Full(pixelate_region(
                level,
                plane,
                rect,
                plane_param(&view, p, block, 2),
            )),
            Redaction::Blur { radius } => noisy_blur_region(
                level,
                plane,
                rect,
                plane_param(&view, p, radius, 1),
                plane_param(&view, p, Redaction::blur_cell(radius), 2),
            ),
            Redaction::WeakBlur { radius } => {
                blur_region(level, plane, rect, plane_param(&view, p, radius, 1))
            }
            Redaction::Solid => return None,
        };
        Some(RegionResult {
            plane: p,
            rect,
            pixels,
        })
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
    let results: Vec<Option<RegionResult>> = {
        let _ = pool;
        jobs.iter().map(compute).collect()
    };
    let results: Vec<RegionResult> = results.into_iter().flatten().collect();
    // Every region was computed from the unmodified frame; now write them, plane by plane,
    // on the calling thread: the write is a fraction of the compute, and one round trip
    // through the pool per frame is enough (waking it is slow on a busy machine).
    let write_plane = |p: usize, plane: &mut PlaneMut<'_>| {
        if let Some(spans) = mask.plane(p) {
            for res in results.iter().filter(|r| r.plane == p) {
                write_back(level, plane, spans, res);
            }
        }
    };
    for (p, plane) in frame.planes_mut().iter_mut().enumerate() {
        write_plane(p, plane);
    }
    Ok(())
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
