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
