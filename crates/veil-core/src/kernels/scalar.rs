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
