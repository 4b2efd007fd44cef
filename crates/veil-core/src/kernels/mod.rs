//! Redaction kernels over plane regions, with a scalar reference and SIMD paths.
//!
//! Each function takes a [`CpuLevel`]; a level the CPU lacks falls back to the scalar code,
//! so callers can never reach an unsupported instruction.

use crate::cpu::CpuLevel;

#[cfg(target_arch = "x86_64")]
mod avx2;
pub(crate) mod scalar;

/// Runs `$simd` (an AVX2 kernel call) when `$level` asks for AVX2, the CPU has it and
/// `$cond` holds; otherwise runs `$scalar`, the portable reference. The one place where a
/// kernel picks its instruction set: every kernel below goes through it.
///
/// `$check`, with the `check_simd` feature, runs after the SIMD kernel (a debugging aid that
/// recomputes the scalar result and compares).
macro_rules! dispatch {
    ($level:expr, if $cond:expr, simd: $simd:expr, scalar: $scalar:expr $(, check: $check:expr)? $(,)?) => {{
        #[cfg(target_arch = "x86_64")]
        if $level >= CpuLevel::Avx2 && CpuLevel::Avx2.is_supported() && $cond {
            // SAFETY: the CPU supports AVX2 (checked on this line's condition), which is all
            // the AVX2 kernels require beyond their arguments; each kernel bounds its own
            // slice accesses or its caller asserted the buffer sizes before dispatching.
            unsafe { $simd };
            $(
                #[cfg(feature = "check_simd")]
                $check;
            )?
            return;
        }
        let _ = $level;
        $scalar
    }};
}

/// Fixed-point reciprocal of a box window: `(sum * inv + 2^15) >> 16` ~= `sum / d`.
pub(crate) fn reciprocal(d: u32) -> u32 {
    (65536 + d / 2) / d
}

/// One vertical box-average pass of radius `r` with edge replication: for every byte column
/// of `width_bytes` columns and `height` rows, `dst[y] = mean(src[clamp(y - r ..= y + r)])`.
///
/// Buffers must hold `stride * (height - 1) + width_bytes` bytes; this is checked.
#[allow(clippy::too_many_arguments)]
pub(crate) fn vbox_pass(
    level: CpuLevel,
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    width_bytes: usize,
    height: usize,
    r: usize,
) {
    if width_bytes == 0 || height == 0 {
        return;
    }
    let need = |stride: usize| stride * (height - 1) + width_bytes;
    assert!(src_stride >= width_bytes && dst_stride >= width_bytes);
    assert!(src.len() >= need(src_stride) && dst.len() >= need(dst_stride));
    dispatch!(level, if true,
        simd: avx2::vbox_pass(src, src_stride, dst, dst_stride, width_bytes, height, r),
        scalar: scalar::vbox_pass(src, src_stride, dst, dst_stride, width_bytes, height, r),
        check: {
            let mut check = vec![0u8; dst.len()];
            scalar::vbox_pass(src, src_stride, &mut check, dst_stride, width_bytes, height, r);
            for y in 0..height {
                let o = y * dst_stride;
                assert_eq!(&check[o..o + width_bytes], &dst[o..o + width_bytes], "vbox_pass row {y}");
            }
        },
    );
}

/// Sum of each `block`-byte group of `row` (the last group may be shorter) into `sums`,
/// per channel of `bpp` interleaved channels: `sums[g * bpp + c] += sum of channel c`.
pub(crate) fn accumulate_blocks(level: CpuLevel, row: &[u8], bpp: usize, block: usize, sums: &mut [u32]) {
    dispatch!(level, if bpp == 1 && block.is_multiple_of(8),
        simd: avx2::accumulate_blocks_gray(row, block, sums),
        scalar: scalar::accumulate_blocks(row, bpp, block, sums),
    );
}

/// Transpose a `w` x `h` matrix of `bpp`-byte elements: `dst[x][y] = src[y][x]`, at the
/// detected CPU level.
#[cfg(test)]
pub(crate) fn transpose(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
    bpp: usize,
) {
    transpose_at(CpuLevel::detect(), src, src_stride, dst, dst_stride, w, h, bpp);
}

/// [`transpose`] at `level`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transpose_at(
    level: CpuLevel,
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
    bpp: usize,
) {
    if w == 0 || h == 0 {
        return;
    }
    assert!(src_stride >= w * bpp && dst_stride >= h * bpp);
    assert!(src.len() >= src_stride * (h - 1) + w * bpp && dst.len() >= dst_stride * (w - 1) + h * bpp);
    dispatch!(level, if bpp == 1 || bpp == 2,
        simd: avx2::transpose(src, src_stride, dst, dst_stride, w, h, bpp),
        scalar: scalar::transpose(src, src_stride, dst, dst_stride, w, h, bpp),
    );
}

/// `acc[i] += row[i]` over `min(acc.len(), row.len())` elements (wrapping u16 adds; callers
/// keep the sums below 65536).
pub(crate) fn add_row_u16(level: CpuLevel, acc: &mut [u16], row: &[u8]) {
    dispatch!(level, if true,
        simd: avx2::add_row_u16(acc, row),
        scalar: scalar::add_row_u16(acc, row),
    );
}

/// Means of groups of `f` pixels of the column sums `acc` (each summed over `rows` rows, `bpp`
/// interleaved channels) into `out`, one pixel per group; the last group may be narrower.
/// Means are rounded in 24-bit fixed point: `(sum * (2^24 / n) + 2^23) >> 24`.
pub(crate) fn downsample_columns(
    level: CpuLevel,
    acc: &[u16],
    out: &mut [u8],
    f: usize,
    rows: u32,
    bpp: usize,
) {
    dispatch!(level, if true,
        simd: avx2::downsample_columns(acc, out, f, rows, bpp),
        scalar: scalar::downsample_columns(acc, out, f, rows, bpp),
    );
}

/// Where each output pixel of a horizontal bilinear upsampling reads, plus the same as
/// per-16-byte shuffle tables for SIMD.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpsampleTable {
    /// Per output pixel: byte offsets (in the source row) of the left and right samples, and
    /// the right sample's weight out of 256.
    xs: Vec<(usize, usize, u32)>,
    bpp: usize,
    /// Per 16 output bytes.
    chunks: Vec<UpChunk>,
}

/// 16 output bytes of an [`UpsampleTable`]: lane `k` reads source bytes `base + ia[k]` and
/// `base + ib[k]` with weight `wb[k]` on the second.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UpChunk {
    base: usize,
    ia: [u8; 16],
    ib: [u8; 16],
    wb: [u16; 16],
    /// Whether every offset fits in one 16-byte load from `base`.
    fits: bool,
}

impl UpsampleTable {
    /// Table for output pixels with source samples `xs` (as in the field) of `bpp` bytes.
    pub(crate) fn new(xs: Vec<(usize, usize, u32)>, bpp: usize) -> Self {
        let n = xs.len() * bpp;
        let mut chunks = Vec::with_capacity(n.div_ceil(16));
        for k0 in (0..n).step_by(16) {
            let lanes = (k0..(k0 + 16).min(n)).map(|k| {
                let (i, j, w) = xs[k / bpp];
                (i + k % bpp, j + k % bpp, w)
            });
            let base = lanes.clone().map(|(a, _, _)| a).min().unwrap_or(0);
            let mut ch = UpChunk {
                base,
                fits: true,
                ..UpChunk::default()
            };
            for (l, (a, b, w)) in lanes.enumerate() {
                match (u8::try_from(a - base), u8::try_from(b.max(base) - base)) {
                    (Ok(da), Ok(db)) if da < 16 && db < 16 && b >= base => {
                        ch.ia[l] = da;
                        ch.ib[l] = db;
                        ch.wb[l] = w as u16;
                    }
                    _ => ch.fits = false,
                }
            }
            chunks.push(ch);
        }
        UpsampleTable { xs, bpp, chunks }
    }

    /// Output bytes per row.
    pub(crate) fn bytes(&self) -> usize {
        self.xs.len() * self.bpp
    }

    /// Output byte `k` from the source row `src` (the reference formula).
    fn byte(&self, src: &[u8], k: usize) -> u8 {
        let (i, j, w) = self.xs[k / self.bpp];
        let c = k % self.bpp;
        ((u32::from(src[i + c]) * (256 - w) + u32::from(src[j + c]) * w + 128) >> 8) as u8
    }
}

/// Horizontal bilinear upsampling of one row: `out[x] = (src[i] * (256 - w) + src[j] * w +
/// 128) >> 8` per channel with `(i, j, w)` from the table. `src` starts at the source row and
/// may run on past it (SIMD loads use the slack; indices never reach past the row).
pub(crate) fn upsample_row(level: CpuLevel, src: &[u8], t: &UpsampleTable, out: &mut [u8]) {
    dispatch!(level, if true,
        simd: avx2::upsample_row(src, t, out),
        scalar: scalar::upsample_row(src, &t.xs, t.bpp, out),
    );
}

/// Vertical linear interpolation of two rows: `out = (a * (256 - wb) + b * wb + 128) >> 8`
/// per byte, `wb < 256`.
pub(crate) fn lerp_rows(level: CpuLevel, a: &[u8], b: &[u8], wb: u16, out: &mut [u8]) {
    debug_assert!(wb <= 256);
    dispatch!(level, if true,
        simd: avx2::lerp_rows(a, b, wb, out),
        scalar: scalar::lerp_rows(a, b, wb, out),
    );
}

#[cfg(test)]
mod tests;
