//! Unit tests of the redaction kernels: the irreversible blur against its cell means, CPU
//! levels agreeing, and the noise.
#![allow(clippy::unwrap_used)]
use super::*;
use crate::format::PixelFormat;

/// Plane `p` of `format` at `w` x `h` with `pad` bytes after every row, filled with
/// pseudo-random bytes.
fn plane_buf(format: PixelFormat, w: u32, h: u32, p: usize, pad: usize, seed: u32) -> (Vec<u8>, usize) {
    let l = format.plane_layout(w, h, p).unwrap();
    let stride = l.row_bytes() + pad;
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let buf = (0..stride * l.height as usize)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 24) as u8
        })
        .collect();
    (buf, stride)
}

/// A frame view over `planes` (one buffer and stride per plane).
fn view<'a>(format: PixelFormat, w: u32, h: u32, planes: &'a [(Vec<u8>, usize)]) -> FrameRef<'a> {
    let refs: Vec<(&[u8], usize)> = planes.iter().map(|(b, s)| (b.as_slice(), *s)).collect();
    FrameRef::new(format, w, h, &refs).unwrap()
}

fn wide(p: &Pixels) -> (&[u8], usize, usize, usize) {
    match p {
        Pixels::Wide { wide, f, sh, ry } => (wide, *f, *sh, *ry),
        Pixels::Full(_) => panic!("the cell blur always works over cells"),
    }
}

/// `buf` (a plane of `bpp`-byte pixels with `stride`) with every cell of the grid the
/// kernel uses for `rect` (cells of `f` from the corner of the rect's context, the last
/// ones narrower) replaced by the cell's mean as the kernel rounds it.
fn cell_means(buf: &[u8], stride: usize, bpp: usize, ctx: Rect, f: usize) -> Vec<u8> {
    let mut out = buf.to_vec();
    let (cx, cy, cw, ch) = (ctx.x as usize, ctx.y as usize, ctx.w as usize, ctx.h as usize);
    for y0 in (0..ch).step_by(f) {
        let y1 = (y0 + f).min(ch);
        for x0 in (0..cw).step_by(f) {
            let x1 = (x0 + f).min(cw);
            let inv = (1u32 << 24) / ((x1 - x0) * (y1 - y0)) as u32;
            for c in 0..bpp {
                let at = |x: usize, y: usize| (cy + y) * stride + (cx + x) * bpp + c;
                let sum: u32 = (y0..y1)
                    .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                    .map(|(x, y)| u32::from(buf[at(x, y)]))
                    .sum();
                let m = ((sum * inv + (1 << 23)) >> 24).min(255) as u8;
                for y in y0..y1 {
                    for x in x0..x1 {
                        out[at(x, y)] = m;
                    }
                }
            }
        }
    }
    out
}

/// Every plane kind (1 to 4 bytes a pixel, NV12's interleaved chroma among them), padded
/// strides, odd rects and rects at the plane's edge.
const CASES: [(PixelFormat, usize); 5] = [
    (PixelFormat::Gray8, 0),
    (PixelFormat::I420, 1),
    (PixelFormat::Nv12, 1),
    (PixelFormat::Rgb24, 0),
    (PixelFormat::Rgba, 0),
];

#[test]
fn the_irreversible_blur_is_a_function_of_the_cell_means_alone() {
    let (w, h) = (160u32, 120u32);
    for (format, p) in CASES {
        for (pad, rect, radius, cell) in [
            (0usize, Rect::new(20, 16, 41, 33), 12u32, 8u32),
            (13, Rect::new(0, 0, 37, 29), 6, 4),
            (5, Rect::new(50, 40, 30, 20), 9, 6),
        ] {
            let planes: Vec<(Vec<u8>, usize)> = (0..format.plane_count())
                .map(|i| plane_buf(format, w, h, i, pad, 7 + i as u32))
                .collect();
            let plane = *view(format, w, h, &planes).plane(p).unwrap();
            let (pw, ph, bpp) = (plane.width(), plane.height(), plane.bytes_per_pixel());
            let rect = rect.clamp_to(pw, ph).unwrap();
            let ctx = rect.grow(3 * radius, 3 * radius).clamp_to(pw, ph).unwrap();
            let (buf, stride) = &planes[p];
            let flat = cell_means(buf, *stride, bpp, ctx, cell as usize);
            assert_ne!(
                &flat, buf,
                "the cells must hold detail for the test to mean anything"
            );
            let mut flat_planes = planes.clone();
            flat_planes[p].0 = flat;
            let flat_plane = *view(format, w, h, &flat_planes).plane(p).unwrap();
            for level in CpuLevel::supported() {
                let a = cell_blur_region(level, &plane, rect, radius, cell, |_, _| {});
                let b = cell_blur_region(level, &flat_plane, rect, radius, cell, |_, _| {});
                assert_eq!(wide(&a), wide(&b), "{format:?} plane {p} {rect:?} at {level:?}");
                // and with the same noise on both
                let tilt = |s: &mut [u8], _: usize| {
                    for (i, v) in s.iter_mut().enumerate() {
                        *v = v.wrapping_add((i * 37 % 61) as u8);
                    }
                };
                let a = cell_blur_region(level, &plane, rect, radius, cell, tilt);
                let b = cell_blur_region(level, &flat_plane, rect, radius, cell, tilt);
                assert_eq!(
                    wide(&a),
                    wide(&b),
                    "{format:?} plane {p} {rect:?} at {level:?}, noisy"
                );
            }
        }
    }
}

#[test]
fn every_cpu_level_computes_the_same_cells_and_noise_reaches_the_output() {
    let (w, h) = (96u32, 64u32);
    for (format, p) in CASES {
        let planes: Vec<(Vec<u8>, usize)> = (0..format.plane_count())
            .map(|i| plane_buf(format, w, h, i, 3, 11 + i as u32))
            .collect();
        let plane = *view(format, w, h, &planes).plane(p).unwrap();
        let rect = Rect::new(5, 7, 30, 21);
        let plus = |d: u8| move |s: &mut [u8], _: usize| s.iter_mut().for_each(|v| *v = v.saturating_add(d));
        let want = cell_blur_region(CpuLevel::Scalar, &plane, rect, 8, 5, plus(0));
        for level in CpuLevel::supported() {
            let got = cell_blur_region(level, &plane, rect, 8, 5, plus(0));
            assert_eq!(wide(&got), wide(&want), "{format:?} plane {p} at {level:?}");
        }
        // a flat plane of 100: every output byte is the cell mean plus the noise, here 20
        let flat: Vec<(Vec<u8>, usize)> = planes.iter().map(|(b, s)| (vec![100; b.len()], *s)).collect();
        let fplane = *view(format, w, h, &flat).plane(p).unwrap();
        let out = cell_blur_region(CpuLevel::detect(), &fplane, rect, 8, 5, plus(20));
        let (bytes, ..) = wide(&out);
        let used = rect.w as usize * fplane.bytes_per_pixel();
        let sh = bytes.len() / used;
        assert!(bytes[..sh * used].iter().all(|&v| v == 120), "{format:?}");
    }
}

#[test]
fn os_noise_is_bounded_new_on_every_call_and_leaves_alpha_alone() {
    let cells = vec![128u8; 4096];
    let (mut a, mut b) = (cells.clone(), cells.clone());
    add_os_noise(&mut a, 1);
    add_os_noise(&mut b, 1);
    assert_ne!(a, b, "two calls drew the same noise");
    let n = BLUR_CELL_NOISE as u8;
    assert!(a.iter().all(|&v| (128 - n..=128 + n).contains(&v)));
    // uniform: both extremes are reached in 4096 draws of 65 values
    assert!(a.contains(&(128 - n)) && a.contains(&(128 + n)));
    let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64;
    assert!((mean - 128.0).abs() < 2.0, "mean {mean}");
    // clamped at the ends of the range
    let mut dark = vec![0u8; 256];
    add_os_noise(&mut dark, 1);
    assert!(dark.iter().all(|&v| v <= n) && dark.iter().any(|&v| v > 0));
    // RGBA: the alpha byte of every pixel is kept
    let mut rgba = vec![200u8; 4 * 256];
    add_os_noise(&mut rgba, 4);
    assert!(rgba.chunks_exact(4).all(|px| px[3] == 200));
    assert!(rgba.chunks_exact(4).any(|px| px[..3] != [200, 200, 200]));
}
