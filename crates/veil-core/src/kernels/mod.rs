//! Redaction kernels over plane regions, with a scalar reference and SIMD paths.
//!
//! Each function takes a [`CpuLevel`]; a level the CPU lacks falls back to the scalar code,
//! so callers can never reach an unsupported instruction.

use crate::cpu::CpuLevel;

#[cfg(target_arch = "x86_64")]
mod avx2;
pub(crate) mod scalar;

/// Fixed-point reciprocal of a box window: `(sum * inv + 2^15) >> 16` ~= `sum / d`.
pub(crate) fn reciprocal(d: u32) -> u32 {
    (65536 + d / 2) / d
}

/// One vertical box-average pass of radius `r` with edge replication: for every byte column
/// of `width_bytes` columns and `height` rows, `dst[y] = mean(src[clamp(y - r ..= y + r)])`.
///
/// Buffers must hold `stride * (height - 1) + width_bytes` bytes; this is checked.
#[allow(clippy::too_many_arguments)]
pub fn vbox_pass(
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
    #[cfg(target_arch = "x86_64")]
    if level >= CpuLevel::Avx2 && CpuLevel::Avx2.is_supported() {
        // SAFETY: AVX2 support was just checked; buffer sizes were asserted above.
        unsafe { avx2::vbox_pass(src, src_stride, dst, dst_stride, width_bytes, height, r) };
        #[cfg(feature = "check_simd")]
        {
            let mut check = vec![0u8; dst.len()];
            scalar::vbox_pass(src, src_stride, &mut check, dst_stride, width_bytes, height, r);
            for y in 0..height {
                let o = y * dst_stride;
                assert_eq!(
                    &check[o..o + width_bytes],
                    &dst[o..o + width_bytes],
                    "vbox_pass row {y}"
                );
            }
        }
        return;
    }
    let _ = level;
    scalar::vbox_pass(src, src_stride, dst, dst_stride, width_bytes, height, r);
}

/// Sum of each `block`-byte group of `row` (the last group may be shorter) into `sums`,
/// per channel of `bpp` interleaved channels: `sums[g * bpp + c] += sum of channel c`.
pub fn accumulate_blocks(level: CpuLevel, row: &[u8], bpp: usize, block: usize, sums: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if bpp == 1 && block.is_multiple_of(8) && level >= CpuLevel::Avx2 && CpuLevel::Avx2.is_supported() {
        // SAFETY: AVX2 support was just checked; the function bounds-checks its slices.
        unsafe { avx2::accumulate_blocks_gray(row, block, sums) };
        return;
    }
    let _ = level;
    scalar::accumulate_blocks(row, bpp, block, sums);
}

/// Transpose a `w` x `h` matrix of `bpp`-byte elements: `dst[x][y] = src[y][x]`.
pub fn transpose(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
    bpp: usize,
) {
    scalar::transpose(src, src_stride, dst, dst_stride, w, h, bpp);
}

#[cfg(test)]
mod tests;
