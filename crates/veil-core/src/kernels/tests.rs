use super::*;

const WIDTHS: [usize; 10] = [1, 7, 8, 9, 15, 16, 17, 33, 65, 1920];

fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 24) as u8
        })
        .collect()
}

#[test]
fn vbox_simd_matches_scalar() {
    for &w in &WIDTHS {
        for &h in &[1usize, 2, 5, 40] {
            for &r in &[1usize, 3, 8, 50] {
                for pad in [0usize, 13] {
                    let stride = w + pad;
                    let src = noise(stride * h, (w * 31 + h * 7 + r) as u32);
                    let mut want = vec![0u8; stride * h];
                    scalar::vbox_pass(&src, stride, &mut want, stride, w, h, r);
                    for level in CpuLevel::supported() {
                        let mut got = vec![0u8; stride * h];
                        vbox_pass(level, &src, stride, &mut got, stride, w, h, r);
                        assert_eq!(got, want, "level {level:?} w {w} h {h} r {r} pad {pad}");
                    }
                }
            }
        }
    }
}

#[test]
fn vbox_scalar_is_a_box_mean() {
    // 1 column, values 0, 30, 60, 90; r = 1 with edge replication
    let src = [0u8, 30, 60, 90];
    let mut dst = [0u8; 4];
    scalar::vbox_pass(&src, 1, &mut dst, 1, 1, 4, 1);
    assert_eq!(dst, [10, 30, 60, 80]);
    // a constant column stays constant, even at 255 (no overflow past 255)
    let src = [255u8; 9];
    let mut dst = [0u8; 9];
    scalar::vbox_pass(&src, 1, &mut dst, 1, 1, 9, 4);
    assert_eq!(dst, [255u8; 9]);
}

#[test]
fn block_sums_simd_matches_scalar() {
    for &w in &WIDTHS {
        for &block in &[8usize, 16, 32] {
            let row = noise(w, w as u32 + block as u32);
            let groups = w.div_ceil(block);
            let mut want = vec![0u32; groups];
            scalar::accumulate_blocks(&row, 1, block, &mut want);
            for level in CpuLevel::supported() {
                let mut got = vec![0u32; groups];
                accumulate_blocks(level, &row, 1, block, &mut got);
                assert_eq!(got, want, "level {level:?} w {w} block {block}");
            }
        }
    }
}

#[test]
fn transpose_round_trip() {
    for bpp in [1usize, 2, 3, 4] {
        let (w, h) = (37usize, 19usize);
        let src = noise(w * h * bpp, bpp as u32);
        let mut t = vec![0u8; w * h * bpp];
        transpose(&src, w * bpp, &mut t, h * bpp, w, h, bpp);
        assert_eq!(
            &t[bpp..2 * bpp],
            &src[w * bpp..w * bpp + bpp],
            "t[0][1] = s[1][0]"
        );
        let mut back = vec![0u8; w * h * bpp];
        transpose(&t, h * bpp, &mut back, w * bpp, h, w, bpp);
        assert_eq!(back, src);
    }
}

#[test]
fn add_row_simd_matches_scalar() {
    for &w in &WIDTHS {
        let row = noise(w, w as u32 + 5);
        let start: Vec<u16> = noise(w, w as u32 + 9)
            .iter()
            .map(|&v| u16::from(v) * 100)
            .collect();
        let mut want = start.clone();
        scalar::add_row_u16(&mut want, &row);
        for level in CpuLevel::supported() {
            let mut got = start.clone();
            add_row_u16(level, &mut got, &row);
            assert_eq!(got, want, "level {level:?} w {w}");
        }
    }
}

#[test]
fn lerp_simd_matches_scalar() {
    for &w in &WIDTHS {
        // unaligned starts: slices beginning 1 byte into the buffers
        let (a, b) = (noise(w + 1, w as u32), noise(w + 1, w as u32 + 77));
        for wb in [0u16, 1, 100, 128, 255] {
            let mut want = vec![0u8; w];
            scalar::lerp_rows(&a[1..], &b[1..], wb, &mut want);
            for level in CpuLevel::supported() {
                let mut got = vec![0u8; w];
                lerp_rows(level, &a[1..], &b[1..], wb, &mut got);
                assert_eq!(got, want, "level {level:?} w {w} wb {wb}");
            }
        }
    }
    // extremes: 255 stays 255, weights sum to 256
    let mut out = [0u8; 40];
    scalar::lerp_rows(&[255; 40], &[255; 40], 255, &mut out);
    assert_eq!(out, [255; 40]);
}

/// The upsampling positions of the blur (as in `redact`), for building test tables.
fn positions(offset: usize, n_out: usize, f: usize, n: usize, bpp: usize) -> Vec<(usize, usize, u32)> {
    (0..n_out)
        .map(|x| {
            let pos = ((2 * (offset + x) + 1) * 256 / (2 * f)).saturating_sub(128);
            let i = (pos / 256).min(n - 1);
            let w = if i + 1 < n { (pos % 256) as u32 } else { 0 };
            (i * bpp, (i + 1).min(n - 1) * bpp, w)
        })
        .collect()
}

#[test]
fn upsample_simd_matches_scalar() {
    for bpp in 1..=4usize {
        for f in [2usize, 3, 5, 6, 12, 128] {
            for &n_out in &[1usize, 7, 15, 16, 17, 33, 101, 1920] {
                for offset in [0usize, 1, 9] {
                    let n = (offset + n_out).div_ceil(f).max(1);
                    let xs = positions(offset, n_out, f, n, bpp);
                    let table = UpsampleTable::new(xs.clone(), bpp);
                    // rows without slack (the last row of a buffer) and with it
                    for slack in [0usize, 16] {
                        let src = noise(n * bpp + slack, (f * 131 + n_out + bpp) as u32);
                        let mut want = vec![0u8; n_out * bpp];
                        scalar::upsample_row(&src, &xs, bpp, &mut want);
                        for level in CpuLevel::supported() {
                            let mut got = vec![0u8; n_out * bpp];
                            upsample_row(level, &src, &table, &mut got);
                            assert_eq!(
                                got, want,
                                "level {level:?} bpp {bpp} f {f} n_out {n_out} offset {offset} slack {slack}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn upsample_tables_fit_one_load_for_every_blur_factor() {
    // f >= 2 (the blur's minimum) keeps every 16-byte chunk within one 16-byte load, so the
    // SIMD path never falls back to per-byte work for want of reach.
    for bpp in 1..=4usize {
        for f in 2usize..=16 {
            let xs = positions(3, 200, f, 200usize.div_ceil(f) + 1, bpp);
            let t = UpsampleTable::new(xs, bpp);
            assert!(t.chunks.iter().all(|c| c.fits), "bpp {bpp} f {f}");
        }
    }
}

#[test]
fn downsample_columns_match_the_u64_reference_at_every_level() {
    for bpp in 1..=4usize {
        for f in [2usize, 3, 4, 5, 6, 7, 8, 12, 13, 128] {
            for rows in [1u32, 2, f as u32] {
                for &cols in &[1usize, 5, 17, 101, 333] {
                    // worst-case sums (255 everywhere) and noise
                    for full in [false, true] {
                        let acc: Vec<u16> = noise(cols * bpp, (f * 7 + cols) as u32)
                            .iter()
                            .map(|&v| {
                                if full {
                                    255 * rows as u16
                                } else {
                                    u16::from(v) * rows as u16 / 2
                                }
                            })
                            .collect();
                        let groups = cols.div_ceil(f);
                        // the original formula, in u64
                        let want: Vec<u8> = (0..groups * bpp)
                            .map(|k| {
                                let (g, c) = (k / bpp, k % bpp);
                                let (x0, x1) = (g * f, ((g + 1) * f).min(cols));
                                let sum: u64 = (x0..x1).map(|x| u64::from(acc[x * bpp + c])).sum();
                                let inv = u64::from((1u32 << 24) / ((x1 - x0) as u32 * rows));
                                ((sum * inv + (1 << 23)) >> 24).min(255) as u8
                            })
                            .collect();
                        for level in CpuLevel::supported() {
                            let mut got = vec![0u8; groups * bpp];
                            downsample_columns(level, &acc, &mut got, f, rows, bpp);
                            assert_eq!(
                                got, want,
                                "level {level:?} bpp {bpp} f {f} rows {rows} cols {cols}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn transpose_simd_matches_scalar() {
    for bpp in [1usize, 2, 3, 4] {
        for &w in &[1usize, 7, 8, 15, 16, 17, 33, 100] {
            for &h in &[1usize, 8, 9, 16, 31, 48] {
                for pad in [0usize, 5] {
                    let (ss, ds) = (w * bpp + pad, h * bpp + pad);
                    let src = noise(ss * h, (w * 3 + h * 5 + bpp) as u32);
                    let mut want = vec![0xEEu8; ds * w];
                    scalar::transpose(&src, ss, &mut want, ds, w, h, bpp);
                    for level in CpuLevel::supported() {
                        let mut got = vec![0xEEu8; ds * w];
                        transpose_at(level, &src, ss, &mut got, ds, w, h, bpp);
                        assert_eq!(got, want, "level {level:?} bpp {bpp} w {w} h {h} pad {pad}");
                    }
                }
            }
        }
    }
}

/// Scalar reference against the dispatched kernel at every level this CPU supports, byte
/// for byte, for every kernel of this module on random shapes and contents.
mod every_kernel_matches_scalar {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn vbox_pass_any((w, h, r, sp, dp) in (1usize..80, 1usize..40, 0usize..50, 0usize..20, 0usize..20), seed in any::<u32>()) {
            let (ss, ds) = (w + sp, w + dp);
            let src = noise(ss * h, seed);
            let mut want = vec![0xEEu8; ds * h];
            scalar::vbox_pass(&src, ss, &mut want, ds, w, h, r);
            for level in CpuLevel::supported() {
                let mut got = vec![0xEEu8; ds * h];
                vbox_pass(level, &src, ss, &mut got, ds, w, h, r);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn accumulate_blocks_any(
            (bpp, px, block) in (1usize..=4, 0usize..300, prop_oneof![Just(8usize), Just(16), Just(24), Just(64), 1usize..40]),
            seed in any::<u32>(),
        ) {
            let row = noise(px * bpp, seed);
            let groups = px.div_ceil(block);
            let start: Vec<u32> = noise(groups * bpp, seed ^ 1).iter().map(|&v| u32::from(v) << 12).collect();
            let mut want = start.clone();
            scalar::accumulate_blocks(&row, bpp, block, &mut want);
            for level in CpuLevel::supported() {
                let mut got = start.clone();
                accumulate_blocks(level, &row, bpp, block, &mut got);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn transpose_any((w, h, bpp, sp, dp) in (0usize..70, 0usize..70, 1usize..=4, 0usize..9, 0usize..9), seed in any::<u32>()) {
            let (ss, ds) = (w * bpp + sp, h * bpp + dp);
            let src = noise(ss * h.max(1), seed);
            let mut want = vec![0xEEu8; ds * w.max(1)];
            if w > 0 && h > 0 {
                scalar::transpose(&src, ss, &mut want, ds, w, h, bpp);
            }
            for level in CpuLevel::supported() {
                let mut got = vec![0xEEu8; ds * w.max(1)];
                transpose_at(level, &src, ss, &mut got, ds, w, h, bpp);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn add_row_u16_any(row in proptest::collection::vec(any::<u8>(), 0..200), start in proptest::collection::vec(any::<u16>(), 0..200)) {
            let mut want = start.clone();
            scalar::add_row_u16(&mut want, &row);
            for level in CpuLevel::supported() {
                let mut got = start.clone();
                add_row_u16(level, &mut got, &row);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn downsample_columns_any((bpp, f, cols) in (1usize..=4, 2usize..=128, 1usize..300), rows_frac in 0.0f64..=1.0, seed in any::<u32>()) {
            let rows = ((f as f64 * rows_frac) as u32).clamp(1, f as u32);
            // column sums of `rows` rows of bytes: anything in 0..=255 * rows
            let (hi, lo) = (noise(cols * bpp, seed), noise(cols * bpp, seed ^ 5));
            let acc: Vec<u16> = hi
                .iter()
                .zip(&lo)
                .map(|(&h, &l)| ((u32::from(h) << 8 | u32::from(l)) % (255 * rows + 1)) as u16)
                .collect();
            let groups = cols.div_ceil(f);
            let mut want = vec![0u8; groups * bpp];
            scalar::downsample_columns(&acc, &mut want, f, rows, bpp);
            for level in CpuLevel::supported() {
                let mut got = vec![0u8; groups * bpp];
                downsample_columns(level, &acc, &mut got, f, rows, bpp);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn upsample_row_any(
            (bpp, n, n_out) in (1usize..=4, 1usize..60, 0usize..200),
            slack in prop_oneof![Just(0usize), Just(16), 0usize..40],
            seed in any::<u32>(),
        ) {
            // arbitrary sample pairs and weights, not only the blur's: the table must handle
            // chunks that do not fit one load too
            let picks = noise(3 * n_out, seed);
            let xs: Vec<(usize, usize, u32)> = (0..n_out)
                .map(|x| {
                    let i = usize::from(picks[3 * x]) % n;
                    let j = if picks[3 * x + 1] < 200 { (i + 1).min(n - 1) } else { usize::from(picks[3 * x + 1]) % n };
                    (i * bpp, j * bpp, u32::from(picks[3 * x + 2]))
                })
                .collect();
            let src = noise(n * bpp + slack, seed ^ 7);
            let table = UpsampleTable::new(xs.clone(), bpp);
            prop_assert_eq!(table.bytes(), n_out * bpp);
            let mut want = vec![0u8; n_out * bpp];
            scalar::upsample_row(&src, &xs, bpp, &mut want);
            for (k, &v) in want.iter().enumerate() {
                prop_assert_eq!(v, table.byte(&src, k));
            }
            for level in CpuLevel::supported() {
                let mut got = vec![0u8; n_out * bpp];
                upsample_row(level, &src, &table, &mut got);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }

        #[test]
        fn lerp_rows_any((la, lb, lo) in (0usize..150, 0usize..150, 0usize..150), wb in 0u16..=256, off in 0usize..4, seed in any::<u32>()) {
            let (a, b) = (noise(la + off, seed), noise(lb + off, seed ^ 3));
            let mut want = vec![0xEEu8; lo];
            scalar::lerp_rows(&a[off..], &b[off..], wb, &mut want);
            for level in CpuLevel::supported() {
                let mut got = vec![0xEEu8; lo];
                lerp_rows(level, &a[off..], &b[off..], wb, &mut got);
                prop_assert_eq!(&got, &want, "level {:?}", level);
            }
        }
    }
}
