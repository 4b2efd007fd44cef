//! Portable reference kernels. SIMD paths must match these byte for byte.

use super::reciprocal;

#[inline]
fn avg(sum: u32, inv: u32) -> u8 {
    ((sum * inv + 32768) >> 16).min(255) as u8
}

pub(crate) fn vbox_pass(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    width_bytes: usize,
    height: usize,
    r: usize,
) {
    let inv = reciprocal(2 * r as u32 + 1);
    let last = height - 1;
    let mut sums = vec![0u32; width_bytes];
    for (c, s) in sums.iter_mut().enumerate() {
        let mut acc = (r as u32 + 1) * u32::from(src[c]);
        for k in 1..=r {
            acc += u32::from(src[k.min(last) * src_stride + c]);
        }
        *s = acc;
    }
    for y in 0..height {
        let out = &mut dst[y * dst_stride..y * dst_stride + width_bytes];
        for (o, &s) in out.iter_mut().zip(sums.iter()) {
            *o = avg(s, inv);
        }
        if y == last {
            break;
        }
        let add = &src[(y + r + 1).min(last) * src_stride..][..width_bytes];
        let sub = &src[y.saturating_sub(r) * src_stride..][..width_bytes];
        for ((s, &a), &b) in sums.iter_mut().zip(add).zip(sub) {
            *s = *s + u32::from(a) - u32::from(b);
        }
    }
}

pub(crate) fn accumulate_blocks(row: &[u8], bpp: usize, block: usize, sums: &mut [u32]) {
    for (g, chunk) in row.chunks(block * bpp).enumerate() {
        for px in chunk.chunks_exact(bpp) {
            for (c, &v) in px.iter().enumerate() {
                sums[g * bpp + c] += u32::from(v);
            }
        }
    }
}

pub(crate) fn transpose(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
    bpp: usize,
) {
    // Monomorphised per element size so each element moves as one fixed-size copy.
    match bpp {
        1 => transpose_n::<1>(src, src_stride, dst, dst_stride, w, h),
        2 => transpose_n::<2>(src, src_stride, dst, dst_stride, w, h),
        3 => transpose_n::<3>(src, src_stride, dst, dst_stride, w, h),
        _ => transpose_n::<4>(src, src_stride, dst, dst_stride, w, h),
    }
}

fn transpose_n<const N: usize>(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
) {
    // 32x32 tiles keep both the rows read and the rows written in L1.
    const T: usize = 32;
    for by in (0..h).step_by(T) {
        for bx in (0..w).step_by(T) {
            let (ye, xe) = ((by + T).min(h), (bx + T).min(w));
            for x in bx..xe {
                let d = &mut dst[x * dst_stride..x * dst_stride + h * N];
                for y in by..ye {
                    let s: [u8; N] = src[y * src_stride + x * N..][..N].try_into().unwrap_or([0; N]);
                    d[y * N..y * N + N].copy_from_slice(&s);
                }
            }
        }
    }
}

pub(crate) fn add_row_u16(acc: &mut [u16], row: &[u8]) {
    for (a, &v) in acc.iter_mut().zip(row) {
        *a = a.wrapping_add(u16::from(v));
    }
}

pub(crate) fn upsample_row(src: &[u8], xs: &[(usize, usize, u32)], bpp: usize, out: &mut [u8]) {
    if bpp == 1 {
        for (o, &(i, j, w)) in out.iter_mut().zip(xs) {
            *o = ((u32::from(src[i]) * (256 - w) + u32::from(src[j]) * w + 128) >> 8) as u8;
        }
    } else {
        for (px, &(i, j, w)) in out.chunks_exact_mut(bpp).zip(xs) {
            for (c, o) in px.iter_mut().enumerate() {
                let (a, b) = (u32::from(src[i + c]), u32::from(src[j + c]));
                *o = ((a * (256 - w) + b * w + 128) >> 8) as u8;
            }
        }
    }
}

pub(crate) fn lerp_rows(a: &[u8], b: &[u8], wb: u16, out: &mut [u8]) {
    let wa = 256 - wb;
    for ((o, &p), &q) in out.iter_mut().zip(a).zip(b) {
        *o = ((u16::from(p) * wa + u16::from(q) * wb + 128) >> 8) as u8;
    }
}

/// Fixed-point mean of a block of `n` pixels whose sum is `sum`, with `inv = 2^24 / n`.
/// sum <= 255 n and inv <= 2^24 / n, so sum * inv + 2^23 <= 255 * 2^24 + 2^23 < 2^32: u32
/// arithmetic is exact.
#[inline(always)]
fn block_mean(sum: u32, inv: u32) -> u8 {
    ((sum * inv + (1 << 23)) >> 24).min(255) as u8
}

/// Gray groups of `F` columns (compile-time `F`, so the group sum unrolls and the loop over
/// groups can vectorise).
#[inline(always)]
fn group_means_gray<const F: usize>(acc: &[u16], out: &mut [u8], inv: u32) -> usize {
    let (groups, _) = acc.as_chunks::<F>();
    let n = groups.len().min(out.len());
    for (o, g) in out[..n].iter_mut().zip(groups) {
        *o = block_mean(g.iter().map(|&v| u32::from(v)).sum(), inv);
    }
    n
}

/// Body of [`downsample_columns`], inlined into the SIMD entry point too (same integer code,
/// compiled for wider vectors).
#[inline(always)]
pub(crate) fn downsample_columns_impl(acc: &[u16], out: &mut [u8], f: usize, rows: u32, bpp: usize) {
    let full_inv = (1u32 << 24) / (f as u32 * rows);
    let gb = f * bpp;
    let full = (acc.len() / gb).min(out.len() / bpp);
    if bpp == 1 {
        let done = match f {
            2 => group_means_gray::<2>(acc, out, full_inv),
            3 => group_means_gray::<3>(acc, out, full_inv),
            4 => group_means_gray::<4>(acc, out, full_inv),
            5 => group_means_gray::<5>(acc, out, full_inv),
            6 => group_means_gray::<6>(acc, out, full_inv),
            8 => group_means_gray::<8>(acc, out, full_inv),
            12 => group_means_gray::<12>(acc, out, full_inv),
            _ => 0,
        };
        for (o, g) in out[done..full].iter_mut().zip(acc[done * f..].chunks_exact(f)) {
            *o = block_mean(g.iter().map(|&v| u32::from(v)).sum(), full_inv);
        }
    } else {
        for (o, g) in out[..full * bpp].chunks_exact_mut(bpp).zip(acc.chunks_exact(gb)) {
            for (c, oc) in o.iter_mut().enumerate() {
                *oc = block_mean(g[c..].iter().step_by(bpp).map(|&v| u32::from(v)).sum(), full_inv);
            }
        }
    }
    let rest = &acc[full * gb..];
    if !rest.is_empty() && full * bpp < out.len() {
        let inv = (1u32 << 24) / ((rest.len() / bpp) as u32 * rows);
        for (c, oc) in out[full * bpp..].iter_mut().take(bpp).enumerate() {
            *oc = block_mean(rest[c..].iter().step_by(bpp).map(|&v| u32::from(v)).sum(), inv);
        }
    }
}

pub(crate) fn downsample_columns(acc: &[u16], out: &mut [u8], f: usize, rows: u32, bpp: usize) {
    downsample_columns_impl(acc, out, f, rows, bpp);
}
