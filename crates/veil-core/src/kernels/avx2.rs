//! AVX2 kernels. Each one matches its `scalar` twin byte for byte (tested).

use std::arch::x86_64::*;

use super::reciprocal;

/// # Safety
/// The CPU must support AVX2; `src`/`dst` must hold `stride * (height - 1) + width_bytes`
/// bytes (the dispatcher asserts this).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn vbox_pass(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    width_bytes: usize,
    height: usize,
    r: usize,
) {
    let inv = _mm256_set1_epi32(reciprocal(2 * r as u32 + 1) as i32);
    let round = _mm256_set1_epi32(32768);
    let rp1 = _mm256_set1_epi32(r as i32 + 1);
    let last = height - 1;
    let sp = src.as_ptr();
    let dp = dst.as_mut_ptr();
    // Strips of 16 byte columns keep their 16 running sums in two registers for all rows.
    // A ragged tail is covered by one more strip ending at the last column, overlapping the
    // previous one: columns are independent, so the overlap is recomputed to the same bytes
    // (cheaper than the scalar loop over up to 15 columns).
    let strips = width_bytes / 16;
    let tail = (!width_bytes.is_multiple_of(16) && strips > 0).then(|| width_bytes - 16);
    for c in (0..strips).map(|s| s * 16).chain(tail) {
        // Rows are < height and columns c..c+16 <= width_bytes, so every access below lies
        // within `stride * (height - 1) + width_bytes`.
        let load = |y: usize| -> (__m256i, __m256i) {
            // SAFETY: y < height and c + 16 <= width_bytes (see above).
            let v = unsafe { _mm_loadu_si128(sp.add(y * src_stride + c) as *const __m128i) };
            (
                _mm256_cvtepu8_epi32(v),
                _mm256_cvtepu8_epi32(_mm_srli_si128::<8>(v)),
            )
        };
        let (a0, a1) = load(0);
        let mut s0 = _mm256_mullo_epi32(a0, rp1);
        let mut s1 = _mm256_mullo_epi32(a1, rp1);
        for k in 1..=r {
            let (b0, b1) = load(k.min(last));
            s0 = _mm256_add_epi32(s0, b0);
            s1 = _mm256_add_epi32(s1, b1);
        }
        for y in 0..height {
            let q0 = _mm256_srli_epi32::<16>(_mm256_add_epi32(_mm256_mullo_epi32(s0, inv), round));
            let q1 = _mm256_srli_epi32::<16>(_mm256_add_epi32(_mm256_mullo_epi32(s1, inv), round));
            // pack 16 x u32 -> u16 (saturating) -> u8 (saturating), fixing AVX2's lane order
            let p16 = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi32(q0, q1));
            let p8 = _mm_packus_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256::<1>(p16));
            // SAFETY: see above.
            unsafe { _mm_storeu_si128(dp.add(y * dst_stride + c) as *mut __m128i, p8) };
            if y == last {
                break;
            }
            let (a0, a1) = load((y + r + 1).min(last));
            let (b0, b1) = load(y.saturating_sub(r));
            s0 = _mm256_sub_epi32(_mm256_add_epi32(s0, a0), b0);
            s1 = _mm256_sub_epi32(_mm256_add_epi32(s1, a1), b1);
        }
    }
    let done = strips * 16;
    if done < width_bytes && tail.is_none() {
        // The tail columns go to the scalar reference, over sub-slices starting at column `done`.
        super::scalar::vbox_pass(
            &src[done..],
            src_stride,
            &mut dst[done..],
            dst_stride,
            width_bytes - done,
            height,
            r,
        );
    }
}

/// Gray (1 byte per pixel) block sums with `_mm256_sad_epu8`, for `block % 8 == 0`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn accumulate_blocks_gray(row: &[u8], block: usize, sums: &mut [u32]) {
    let zero = _mm_setzero_si128();
    for (g, chunk) in row.chunks(block).enumerate() {
        let mut acc = 0u64;
        let mut it = chunk.chunks_exact(8);
        for eight in &mut it {
            // SAFETY: `eight` is exactly 8 readable bytes.
            let v = unsafe { _mm_loadl_epi64(eight.as_ptr() as *const __m128i) };
            acc += _mm_cvtsi128_si64(_mm_sad_epu8(v, zero)) as u64;
        }
        for &b in it.remainder() {
            acc += u64::from(b);
        }
        sums[g] += acc as u32;
    }
}

/// `acc[i] += row[i]` (wrapping, like the scalar reference) over `min(acc, row)` elements.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn add_row_u16(acc: &mut [u16], row: &[u8]) {
    let n = acc.len().min(row.len());
    let (ap, rp) = (acc.as_mut_ptr(), row.as_ptr());
    let mut k = 0;
    while k + 16 <= n {
        // SAFETY: k + 16 <= n, within both slices.
        unsafe {
            let v = _mm256_cvtepu8_epi16(_mm_loadu_si128(rp.add(k) as *const __m128i));
            let a = _mm256_loadu_si256(ap.add(k) as *const __m256i);
            _mm256_storeu_si256(ap.add(k) as *mut __m256i, _mm256_add_epi16(a, v));
        }
        k += 16;
    }
    super::scalar::add_row_u16(&mut acc[k..n], &row[k..n]);
}

/// Horizontal bilinear upsampling of one row through the shuffle table `t` (see
/// [`super::UpsampleTable`]); `src` starts at the row and may run on past it (the loads of
/// 16 bytes need that slack; a chunk without it is done per byte, as in the reference).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn upsample_row(src: &[u8], t: &super::UpsampleTable, out: &mut [u8]) {
    let n = out.len().min(t.bytes());
    let c256 = _mm256_set1_epi16(256);
    let r128 = _mm256_set1_epi16(128);
    for (ci, ch) in t.chunks.iter().enumerate() {
        let k0 = ci * 16;
        if k0 >= n {
            break;
        }
        let len = (n - k0).min(16);
        if !ch.fits || ch.base + 16 > src.len() {
            for (k, o) in out[k0..k0 + len].iter_mut().enumerate() {
                *o = t.byte(src, k0 + k);
            }
            continue;
        }
        // SAFETY: base + 16 <= src.len() was just checked; the tables are 16 u8 / 16 u16.
        let r = unsafe {
            let v = _mm_loadu_si128(src.as_ptr().add(ch.base) as *const __m128i);
            let a = _mm_shuffle_epi8(v, _mm_loadu_si128(ch.ia.as_ptr() as *const __m128i));
            let b = _mm_shuffle_epi8(v, _mm_loadu_si128(ch.ib.as_ptr() as *const __m128i));
            let wb = _mm256_loadu_si256(ch.wb.as_ptr() as *const __m256i);
            let wa = _mm256_sub_epi16(c256, wb);
            // a * wa + b * wb <= 255 * 256, so the u16 lanes never wrap (as in the reference)
            let s = _mm256_add_epi16(
                _mm256_mullo_epi16(_mm256_cvtepu8_epi16(a), wa),
                _mm256_mullo_epi16(_mm256_cvtepu8_epi16(b), wb),
            );
            let q = _mm256_srli_epi16::<8>(_mm256_add_epi16(s, r128));
            _mm_packus_epi16(_mm256_castsi256_si128(q), _mm256_extracti128_si256::<1>(q))
        };
        if len == 16 {
            // SAFETY: k0 + 16 <= n <= out.len().
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(k0) as *mut __m128i, r) };
        } else {
            let mut tmp = [0u8; 16];
            // SAFETY: tmp holds 16 bytes.
            unsafe { _mm_storeu_si128(tmp.as_mut_ptr() as *mut __m128i, r) };
            out[k0..k0 + len].copy_from_slice(&tmp[..len]);
        }
    }
}

/// `out = (a * (256 - wb) + b * wb + 128) >> 8` per byte, `wb <= 256`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn lerp_rows(a: &[u8], b: &[u8], wb: u16, out: &mut [u8]) {
    let n = out.len().min(a.len()).min(b.len());
    let wbv = _mm256_set1_epi16(wb as i16);
    let wav = _mm256_set1_epi16((256 - wb) as i16);
    let r128 = _mm256_set1_epi16(128);
    let zero = _mm256_setzero_si256();
    let (ap, bp, op) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
    let mut k = 0;
    while k + 32 <= n {
        // SAFETY: k + 32 <= n, within all three slices.
        unsafe {
            let pa = _mm256_loadu_si256(ap.add(k) as *const __m256i);
            let pb = _mm256_loadu_si256(bp.add(k) as *const __m256i);
            // unpack and pack both work within 128-bit lanes, so the byte order comes back
            let lo = _mm256_add_epi16(
                _mm256_mullo_epi16(_mm256_unpacklo_epi8(pa, zero), wav),
                _mm256_mullo_epi16(_mm256_unpacklo_epi8(pb, zero), wbv),
            );
            let hi = _mm256_add_epi16(
                _mm256_mullo_epi16(_mm256_unpackhi_epi8(pa, zero), wav),
                _mm256_mullo_epi16(_mm256_unpackhi_epi8(pb, zero), wbv),
            );
            let lo = _mm256_srli_epi16::<8>(_mm256_add_epi16(lo, r128));
            let hi = _mm256_srli_epi16::<8>(_mm256_add_epi16(hi, r128));
            _mm256_storeu_si256(op.add(k) as *mut __m256i, _mm256_packus_epi16(lo, hi));
        }
        k += 32;
    }
    super::scalar::lerp_rows(&a[k..n], &b[k..n], wb, &mut out[k..n]);
}

/// The reference's integer code compiled for AVX2 (the group loops vectorise).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn downsample_columns(acc: &[u16], out: &mut [u8], f: usize, rows: u32, bpp: usize) {
    super::scalar::downsample_columns_impl(acc, out, f, rows, bpp);
}

/// One interleave step of a register transpose: `out[2i] = lo(in[i], in[i + n/2])`,
/// `out[2i + 1] = hi(in[i], in[i + n/2])`. Each step rotates the bit string (register index,
/// lane index) left by one bit, so 4 steps over 16 x 16 bytes (3 over 8 x 8 u16) swap the
/// two indices: the transpose.
macro_rules! interleave_step {
    ($a:expr, $n:literal, $lo:ident, $hi:ident) => {{
        let mut out = [_mm_setzero_si128(); $n];
        for i in 0..$n / 2 {
            out[2 * i] = $lo($a[i], $a[i + $n / 2]);
            out[2 * i + 1] = $hi($a[i], $a[i + $n / 2]);
        }
        out
    }};
}

/// Transpose of a `w` x `h` matrix of 1- or 2-byte elements (see [`super::transpose`]) in
/// 16 x 16 (8 x 8) blocks; the ragged edges go to the scalar reference.
///
/// # Safety
/// The CPU must support AVX2; `bpp` is 1 or 2; `src` holds `src_stride * (h - 1) + w * bpp`
/// bytes and `dst` holds `dst_stride * (w - 1) + h * bpp` (the dispatcher asserts this).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn transpose(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    w: usize,
    h: usize,
    bpp: usize,
) {
    let n = 16 / bpp; // elements per block side
    let (bw, bh) = (w / n * n, h / n * n);
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    for by in (0..bh).step_by(n) {
        for bx in (0..bw).step_by(n) {
            let mut a = [_mm_setzero_si128(); 16];
            for (i, r) in a.iter_mut().take(n).enumerate() {
                // SAFETY: row by + i < h, bytes bx * bpp .. bx * bpp + 16 <= w * bpp.
                *r = unsafe { _mm_loadu_si128(sp.add((by + i) * src_stride + bx * bpp) as *const __m128i) };
            }
            if bpp == 1 {
                let a = interleave_step!(a, 16, _mm_unpacklo_epi8, _mm_unpackhi_epi8);
                let a = interleave_step!(a, 16, _mm_unpacklo_epi8, _mm_unpackhi_epi8);
                let a = interleave_step!(a, 16, _mm_unpacklo_epi8, _mm_unpackhi_epi8);
                let a = interleave_step!(a, 16, _mm_unpacklo_epi8, _mm_unpackhi_epi8);
                for (i, r) in a.iter().enumerate() {
                    // SAFETY: dst row bx + i < w, bytes by .. by + 16 <= h.
                    unsafe { _mm_storeu_si128(dp.add((bx + i) * dst_stride + by) as *mut __m128i, *r) };
                }
            } else {
                let b = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
                let b = interleave_step!(b, 8, _mm_unpacklo_epi16, _mm_unpackhi_epi16);
                let b = interleave_step!(b, 8, _mm_unpacklo_epi16, _mm_unpackhi_epi16);
                let b = interleave_step!(b, 8, _mm_unpacklo_epi16, _mm_unpackhi_epi16);
                for (i, r) in b.iter().enumerate() {
                    // SAFETY: dst row bx + i < w, bytes 2 by .. 2 by + 16 <= 2 h.
                    unsafe { _mm_storeu_si128(dp.add((bx + i) * dst_stride + by * 2) as *mut __m128i, *r) };
                }
            }
        }
    }
    // right strip: columns bw..w of every row; bottom strip: rows bh..h of columns 0..bw
    if bw < w {
        super::scalar::transpose(
            &src[bw * bpp..],
            src_stride,
            &mut dst[bw * dst_stride..],
            dst_stride,
            w - bw,
            h,
            bpp,
        );
    }
    if bh < h && bw > 0 {
        super::scalar::transpose(
            &src[bh * src_stride..],
            src_stride,
            &mut dst[bh * bpp..],
            dst_stride,
            bw,
            h - bh,
            bpp,
        );
    }
}
