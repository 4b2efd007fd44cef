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
    let strips = width_bytes / 16;
    for s in 0..strips {
        let c = s * 16;
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
    if done < width_bytes {
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
