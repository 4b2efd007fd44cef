//! Resize + letterbox straight from a frame's planes into a network's NCHW float input.
//!
//! One pass, bilinear, no intermediate RGB frame: for every output pixel the source taps
//! are read from the Y/U/V (or packed RGB) planes, converted to RGB and written into the
//! three channel planes of the tensor. The tap tables depend only on the frame and network
//! geometry, so they are computed once and reused for every frame of a stream.

use veil_core::{FrameRef, PixelFormat};

use crate::DetectError;

/// How a frame is placed in the network input: scaled by `scale_x`/`scale_y` (network
/// pixels per frame pixel) into the top-left `content_w` x `content_h` corner of a
/// `net_w` x `net_h` input; the rest is padding (zeros).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Network input width.
    pub net_w: usize,
    /// Network input height.
    pub net_h: usize,
    /// Width of the scaled frame inside the input.
    pub content_w: usize,
    /// Height of the scaled frame inside the input.
    pub content_h: usize,
    /// Network pixels per frame pixel, horizontally.
    pub scale_x: f32,
    /// Network pixels per frame pixel, vertically.
    pub scale_y: f32,
}

impl Letterbox {
    /// Fit a `src_w` x `src_h` frame into `net_w` x `net_h`, keeping the aspect ratio.
    /// `allow_upscale = false` keeps small frames at their own size.
    pub fn fit(src_w: u32, src_h: u32, net_w: usize, net_h: usize, allow_upscale: bool) -> Letterbox {
        let (sw, sh) = (src_w as f64, src_h as f64);
        let mut s = (net_w as f64 / sw).min(net_h as f64 / sh);
        if !allow_upscale {
            s = s.min(1.0);
        }
        let content_w = ((sw * s).round() as usize).clamp(1, net_w);
        let content_h = ((sh * s).round() as usize).clamp(1, net_h);
        Letterbox {
            net_w,
            net_h,
            content_w,
            content_h,
            scale_x: (content_w as f64 / sw) as f32,
            scale_y: (content_h as f64 / sh) as f32,
        }
    }
}

/// One output coordinate's two source taps: `v = a * (1 - w) + b * w`.
#[derive(Debug, Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    w: f32,
}

/// Taps for `n_out` output samples of a `n_src`-sample axis, `scale` output per source sample.
/// `sub` is the chroma subsampling factor (1 or 2) of the axis being sampled.
/// Indices never decrease along the output axis and `i0 <= i1 < n_src` (the YUV loop relies
/// on both to check bounds once per row).
fn taps(n_out: usize, scale: f32, n_src: usize, sub: f32) -> Vec<Tap> {
    let last = n_src.saturating_sub(1);
    (0..n_out)
        .map(|o| {
            // Pixel-centre alignment: output centre -> frame coordinate -> plane coordinate.
            let s = ((o as f32 + 0.5) / scale) / sub - 0.5;
            let s = s.clamp(0.0, last as f32);
            let i0 = (s.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            Tap {
                i0,
                i1,
                w: s - i0 as f32,
            }
        })
        .collect()
}

/// Precomputed sampling plan for one (frame size, letterbox) geometry.
#[derive(Debug, Clone)]
pub struct Resampler {
    src_w: u32,
    src_h: u32,
    lb: Letterbox,
    xs: Vec<Tap>,
    ys: Vec<Tap>,
    cxs: Vec<Tap>,
    cys: Vec<Tap>,
}

#[inline(always)]
fn lerp(a: u8, b: u8, w: f32) -> f32 {
    let a = f32::from(a);
    a + (f32::from(b) - a) * w
}

impl Resampler {
    /// A plan for `src_w` x `src_h` frames placed as `lb`.
    pub fn new(src_w: u32, src_h: u32, lb: Letterbox) -> Resampler {
        let (cw, ch) = (src_w.div_ceil(2) as usize, src_h.div_ceil(2) as usize);
        Resampler {
            src_w,
            src_h,
            lb,
            xs: taps(lb.content_w, lb.scale_x, src_w as usize, 1.0),
            ys: taps(lb.content_h, lb.scale_y, src_h as usize, 1.0),
            cxs: taps(lb.content_w, lb.scale_x, cw, 2.0),
            cys: taps(lb.content_h, lb.scale_y, ch, 2.0),
        }
    }

    /// Whether this plan was made for frames of this size.
    pub fn fits(&self, w: u32, h: u32) -> bool {
        self.src_w == w && self.src_h == h
    }

    /// The size of the source rectangle this plan samples (the whole frame for
    /// [`Resampler::fill`], a region of it for [`Resampler::fill_region`]).
    pub fn source_size(&self) -> (u32, u32) {
        (self.src_w, self.src_h)
    }

    /// The placement this plan writes.
    pub fn letterbox(&self) -> Letterbox {
        self.lb
    }

    /// Number of floats one frame occupies in the input tensor (3 x net_h x net_w).
    pub fn tensor_len(&self) -> usize {
        3 * self.lb.net_w * self.lb.net_h
    }

    /// Write `frame` as RGB, multiplied by `gain` (1 for 0..255 input, 1/255 for 0..1), into
    /// `out` (one frame's CHW planes, [`Resampler::tensor_len`] floats).
    ///
    /// # Errors
    /// [`DetectError::InputMismatch`] (nothing written) if the frame does not have the size
    /// this plan was made for or `out` is shorter than [`Resampler::tensor_len`].
    pub fn fill(&self, frame: &FrameRef<'_>, out: &mut [f32], gain: f32) -> Result<(), DetectError> {
        if !self.fits(frame.width(), frame.height()) || out.len() < self.tensor_len() {
            return Err(self.mismatch(frame, out.len()));
        }
        self.fill_at(frame, 0, 0, out, gain);
        Ok(())
    }

    /// As [`Resampler::fill`] for the region of `frame` whose top-left corner is
    /// (`x0`, `y0`) and whose size is the plan's source size: a tile of a large frame
    /// sampled at a finer scale than the whole frame.
    ///
    /// # Errors
    /// [`DetectError::InputMismatch`] (nothing written) if the region does not lie inside
    /// the frame, its corner is odd in a 4:2:0 frame (chroma would be shifted by half a
    /// sample), or `out` is shorter than [`Resampler::tensor_len`].
    pub fn fill_region(
        &self,
        frame: &FrameRef<'_>,
        (x0, y0): (u32, u32),
        out: &mut [f32],
        gain: f32,
    ) -> Result<(), DetectError> {
        let inside = u64::from(x0) + u64::from(self.src_w) <= u64::from(frame.width())
            && u64::from(y0) + u64::from(self.src_h) <= u64::from(frame.height());
        let aligned = !frame.format().is_420() || (x0 % 2 == 0 && y0 % 2 == 0);
        if !inside || !aligned || out.len() < self.tensor_len() {
            return Err(DetectError::InputMismatch {
                reason: format!(
                    "region {}x{} at ({x0}, {y0}) of a {}x{} {:?} frame (buffer of {} floats, plan needs {})",
                    self.src_w,
                    self.src_h,
                    frame.width(),
                    frame.height(),
                    frame.format(),
                    out.len(),
                    self.tensor_len()
                ),
            });
        }
        self.fill_at(frame, x0 as usize, y0, out, gain);
        Ok(())
    }

    fn mismatch(&self, frame: &FrameRef<'_>, len: usize) -> DetectError {
        DetectError::InputMismatch {
            reason: format!(
                "frame {}x{} and buffer of {} floats; the plan is for {}x{} frames and {} floats",
                frame.width(),
                frame.height(),
                len,
                self.src_w,
                self.src_h,
                self.tensor_len()
            ),
        }
    }

    /// Sample the plan's source rectangle at (`x0`, `y0`) (checked by the callers).
    fn fill_at(&self, frame: &FrameRef<'_>, x0: usize, y0: u32, out: &mut [f32], gain: f32) {
        let (nw, nh) = (self.lb.net_w, self.lb.net_h);
        let plane_len = nw * nh;
        let (r_out, rest) = out[..3 * plane_len].split_at_mut(plane_len);
        let (g_out, b_out) = rest.split_at_mut(plane_len);
        let cw = self.lb.content_w;
        // Vertically interpolated source rows of the YUV path (Y, then the chroma row(s)),
        // reused for every output row.
        let mut scratch = if frame.format().is_420() {
            vec![0f32; frame.planes()[0].row_bytes() + frame.planes()[1].row_bytes() * 2]
        } else {
            Vec::new()
        };
        let sw = self.src_w as usize;
        // The region's part of source row `y` of a one-plane frame, `bpp` bytes per pixel.
        let region_row =
            |y: usize, bpp: usize| &frame.planes()[0].row(y0 + y as u32)[x0 * bpp..(x0 + sw) * bpp];
        for (oy, ty) in self.ys.iter().enumerate() {
            let base = oy * nw;
            let (r, g, b) = (
                &mut r_out[base..base + cw],
                &mut g_out[base..base + cw],
                &mut b_out[base..base + cw],
            );
            match frame.format() {
                PixelFormat::I420 | PixelFormat::Nv12 => {
                    self.row_yuv(frame, (x0, y0), oy, *ty, [r, g, b], gain, &mut scratch)
                }
                PixelFormat::Gray8 => {
                    let (r0, r1) = (region_row(ty.i0, 1), region_row(ty.i1, 1));
                    for (ox, t) in self.xs.iter().enumerate() {
                        let top = lerp(r0[t.i0], r0[t.i1], t.w);
                        let bot = lerp(r1[t.i0], r1[t.i1], t.w);
                        let v = (top + (bot - top) * ty.w) * gain;
                        r[ox] = v;
                        g[ox] = v;
                        b[ox] = v;
                    }
                }
                fmt => {
                    let (bpp, ri, bi) = match fmt {
                        PixelFormat::Bgr24 => (3, 2, 0),
                        PixelFormat::Rgba => (4, 0, 2),
                        _ => (3, 0, 2),
                    };
                    let (r0, r1) = (region_row(ty.i0, bpp), region_row(ty.i1, bpp));
                    for (ox, t) in self.xs.iter().enumerate() {
                        let (a, c) = (t.i0 * bpp, t.i1 * bpp);
                        let mut px = [0f32; 3];
                        for (ch, v) in px.iter_mut().enumerate() {
                            let top = lerp(r0[a + ch], r0[c + ch], t.w);
                            let bot = lerp(r1[a + ch], r1[c + ch], t.w);
                            *v = (top + (bot - top) * ty.w) * gain;
                        }
                        r[ox] = px[ri];
                        g[ox] = px[1];
                        b[ox] = px[bi];
                    }
                }
            }
            // Right padding of this row.
            r_out[base + cw..base + nw].fill(0.0);
            g_out[base + cw..base + nw].fill(0.0);
            b_out[base + cw..base + nw].fill(0.0);
        }
        // Bottom padding.
        let ch = self.lb.content_h;
        for plane in [r_out, g_out, b_out] {
            plane[ch * nw..].fill(0.0);
        }
    }

    /// One output row from a 4:2:0 frame (BT.601 limited range, the usual for CCTV streams).
    ///
    /// Separable: the two source rows of each plane are first blended vertically into
    /// `scratch` (contiguous, so the compiler vectorises it), then each output pixel blends
    /// two samples of those rows horizontally: 6 gathered reads per pixel instead of 12.
    #[allow(clippy::too_many_arguments)]
    fn row_yuv(
        &self,
        frame: &FrameRef<'_>,
        (x0, y0): (usize, u32),
        oy: usize,
        ty: Tap,
        [r, g, b]: [&mut [f32]; 3],
        gain: f32,
        scratch: &mut [f32],
    ) {
        let planes = frame.planes();
        let y = &planes[0];
        let cy = self.cys[oy];
        let nv12 = frame.format() == PixelFormat::Nv12;
        // The region's samples: luma x0..x0 + w, chroma x0/2..(x0 + w)/2 (x0 is even).
        let sw = self.src_w as usize;
        let (cx0, cw) = (x0 / 2, sw.div_ceil(2));
        let luma = |row: u32| &y.row(y0 + row)[x0..x0 + sw];
        let (sy, rest) = scratch.split_at_mut(sw.min(scratch.len()));
        blend_rows(luma(ty.i0 as u32), luma(ty.i1 as u32), ty.w, sy);
        let crow = y0 / 2;
        // NV12 interleaves U and V: sample k of U is byte 2k, of V byte 2k + 1.
        if nv12 {
            let uv = &planes[1];
            let chroma = |row: u32| &uv.row(crow + row)[2 * cx0..2 * (cx0 + cw)];
            let (su, _) = rest.split_at_mut((2 * cw).min(rest.len()));
            blend_rows(chroma(cy.i0 as u32), chroma(cy.i1 as u32), cy.w, su);
            yuv_row::<2, 1>(&self.xs, &self.cxs, [sy, su, su], [r, g, b], gain);
        } else {
            let (u, v) = (&planes[1], &planes[2]);
            let (su, sv) = rest.split_at_mut(cw.min(rest.len()));
            let vn = cw.min(sv.len());
            let sv = &mut sv[..vn];
            let uc = |row: u32| &u.row(crow + row)[cx0..cx0 + cw];
            let vc = |row: u32| &v.row(crow + row)[cx0..cx0 + cw];
            blend_rows(uc(cy.i0 as u32), uc(cy.i1 as u32), cy.w, su);
            blend_rows(vc(cy.i0 as u32), vc(cy.i1 as u32), cy.w, sv);
            yuv_row::<1, 0>(&self.xs, &self.cxs, [sy, su, sv], [r, g, b], gain);
        }
    }
}

/// `out[i] = a[i] + (b[i] - a[i]) * w` over the common length (a vertical bilinear step).
#[inline(always)]
fn blend_rows(a: &[u8], b: &[u8], w: f32, out: &mut [f32]) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        let a = f32::from(a);
        *o = a + (f32::from(b) - a) * w;
    }
}

/// The hot loop of 4:2:0 input (every CCTV frame goes through here): horizontal bilinear
/// Y, U, V at each output pixel from the vertically blended rows, BT.601 limited range to
/// RGB. `STEP`/`VOFF` select I420 (1, 0) or NV12's interleaved chroma (2, 1). Unchecked
/// reads: this loop is most of the preprocessing cost and the bounds checks kept it from
/// being vectorised.
#[inline(always)]
fn yuv_row<const STEP: usize, const VOFF: usize>(
    xs: &[Tap],
    cxs: &[Tap],
    rows: [&[f32]; 3],
    out: [&mut [f32]; 3],
    gain: f32,
) {
    let [ys, us, vs] = rows;
    let [r, g, b] = out;
    let n = xs.len().min(cxs.len()).min(r.len()).min(g.len()).min(b.len());
    // Checked once per row instead of per sample: taps are non-decreasing (built from an
    // increasing coordinate), so the last tap is the largest index.
    let y_ok = xs[..n].last().is_none_or(|t| t.i1.max(t.i0) < ys.len());
    let c_ok = cxs[..n]
        .last()
        .is_none_or(|t| t.i1.max(t.i0) * STEP + VOFF < us.len().min(vs.len()));
    assert!(y_ok && c_ok, "resampling taps outside the frame rows");
    let k = 1.164_f32 * gain;
    let hi = 255.0 * gain;
    for ox in 0..n {
        // SAFETY: ox < n <= the length of xs, cxs, r, g and b. Taps are monotonic (see
        // `taps`) with i0 <= i1, so the assert above on the last tap bounds every tap of
        // xs[..n] inside ys and of cxs[..n] (times STEP, plus VOFF) inside us and vs.
        unsafe {
            let t = *xs.get_unchecked(ox);
            let ct = *cxs.get_unchecked(ox);
            let px = |row: &[f32], i: usize| *row.get_unchecked(i);
            let yy = (px(ys, t.i0) + (px(ys, t.i1) - px(ys, t.i0)) * t.w - 16.0) * k;
            let (a, c) = (ct.i0 * STEP, ct.i1 * STEP);
            let uu = px(us, a) + (px(us, c) - px(us, a)) * ct.w - 128.0;
            let vv = px(vs, a + VOFF) + (px(vs, c + VOFF) - px(vs, a + VOFF)) * ct.w - 128.0;
            *r.get_unchecked_mut(ox) = (yy + 1.596 * gain * vv).clamp(0.0, hi);
            *g.get_unchecked_mut(ox) = (yy - (0.392 * uu + 0.813 * vv) * gain).clamp(0.0, hi);
            *b.get_unchecked_mut(ox) = (yy + 2.017 * gain * uu).clamp(0.0, hi);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use veil_core::Frame;

    #[test]
    fn letterbox_keeps_aspect_and_never_upscales_unless_allowed() {
        let lb = Letterbox::fit(1920, 1080, 640, 384, false);
        assert_eq!((lb.content_w, lb.content_h), (640, 360));
        let lb = Letterbox::fit(320, 240, 640, 480, false);
        assert_eq!((lb.content_w, lb.content_h), (320, 240));
        let lb = Letterbox::fit(320, 240, 640, 480, true);
        assert_eq!((lb.content_w, lb.content_h), (640, 480));
    }

    #[test]
    fn identity_geometry_reproduces_pixels_in_every_format() {
        // A 4x2 RGB pattern through each format at scale 1 must come back (YUV within rounding).
        let rgb: [[u8; 3]; 8] = [
            [200, 30, 40],
            [200, 30, 40],
            [10, 220, 30],
            [10, 220, 30],
            [200, 30, 40],
            [200, 30, 40],
            [10, 220, 30],
            [10, 220, 30],
        ];
        let lb = Letterbox::fit(4, 2, 4, 2, false);
        let rs = Resampler::new(4, 2, lb);
        let mut out = vec![0f32; rs.tensor_len()];
        let mut f = Frame::new(PixelFormat::Bgr24, 4, 2).unwrap();
        {
            let mut m = f.as_mut();
            let p = &mut m.planes_mut()[0];
            for y in 0..2 {
                let row = p.row_mut(y);
                for x in 0..4 {
                    let c = rgb[(y * 4 + x) as usize];
                    row[x as usize * 3..x as usize * 3 + 3].copy_from_slice(&[c[2], c[1], c[0]]);
                }
            }
        }
        rs.fill(&f.as_ref(), &mut out, 1.0).unwrap();
        for i in 0..8 {
            assert_eq!(out[i], f32::from(rgb[i][0]));
            assert_eq!(out[8 + i], f32::from(rgb[i][1]));
            assert_eq!(out[16 + i], f32::from(rgb[i][2]));
        }
    }

    #[test]
    fn padding_is_zero() {
        let lb = Letterbox::fit(4, 2, 8, 8, false);
        let rs = Resampler::new(4, 2, lb);
        let mut out = vec![7f32; rs.tensor_len()];
        let mut f = Frame::new(PixelFormat::Gray8, 4, 2).unwrap();
        f.as_mut().planes_mut()[0].data_mut().fill(100);
        rs.fill(&f.as_ref(), &mut out, 1.0).unwrap();
        assert_eq!(out[0], 100.0);
        assert_eq!(out[4], 0.0);
        assert_eq!(out[2 * 8], 0.0);
        assert!(out[64..].iter().take(4).all(|&v| v == 100.0));
    }

    #[test]
    fn i420_and_nv12_agree_and_flat_gray_maps_to_gray() {
        let (w, h) = (38u32, 22u32);
        let mut i420 = Frame::new(PixelFormat::I420, w, h).unwrap();
        let mut nv12 = Frame::new(PixelFormat::Nv12, w, h).unwrap();
        let mut seed = 12345u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        {
            let (mut a, mut b) = (i420.as_mut(), nv12.as_mut());
            for y in 0..h {
                let row: Vec<u8> = (0..w).map(|_| next()).collect();
                a.planes_mut()[0].row_mut(y).copy_from_slice(&row);
                b.planes_mut()[0].row_mut(y).copy_from_slice(&row);
            }
            for y in 0..h / 2 {
                for x in 0..(w / 2) as usize {
                    let (u, v) = (next(), next());
                    a.planes_mut()[1].row_mut(y)[x] = u;
                    a.planes_mut()[2].row_mut(y)[x] = v;
                    b.planes_mut()[1].row_mut(y)[2 * x] = u;
                    b.planes_mut()[1].row_mut(y)[2 * x + 1] = v;
                }
            }
        }
        for (nw, nh) in [(32, 32), (64, 32), (13, 7)] {
            let rs = Resampler::new(w, h, Letterbox::fit(w, h, nw, nh, true));
            let (mut o1, mut o2) = (vec![0f32; rs.tensor_len()], vec![1f32; rs.tensor_len()]);
            rs.fill(&i420.as_ref(), &mut o1, 1.0).unwrap();
            rs.fill(&nv12.as_ref(), &mut o2, 1.0).unwrap();
            assert_eq!(o1, o2);
        }
        // Mid gray (Y 126, U = V = 128) is R = G = B = 1.164 * 110.
        let mut g = Frame::new(PixelFormat::I420, w, h).unwrap();
        {
            let mut m = g.as_mut();
            m.planes_mut()[0].data_mut().fill(126);
            m.planes_mut()[1].data_mut().fill(128);
            m.planes_mut()[2].data_mut().fill(128);
        }
        let rs = Resampler::new(w, h, Letterbox::fit(w, h, 32, 32, true));
        let mut o = vec![0f32; rs.tensor_len()];
        rs.fill(&g.as_ref(), &mut o, 1.0).unwrap();
        assert!(
            (o[0] - 128.04).abs() < 0.01 && o[0] == o[32 * 32] && o[0] == o[2 * 32 * 32],
            "{}",
            o[0]
        );
    }

    #[test]
    fn wrong_frame_size_or_short_buffer_is_an_error() {
        let rs = Resampler::new(8, 8, Letterbox::fit(8, 8, 32, 32, true));
        let f = Frame::new(PixelFormat::I420, 10, 8).unwrap();
        let mut out = vec![0f32; rs.tensor_len()];
        assert!(matches!(
            rs.fill(&f.as_ref(), &mut out, 1.0),
            Err(DetectError::InputMismatch { .. })
        ));
        let f = Frame::new(PixelFormat::I420, 8, 8).unwrap();
        let mut short = vec![0f32; rs.tensor_len() - 1];
        assert!(rs.fill(&f.as_ref(), &mut short, 1.0).is_err());
        assert!(rs.fill(&f.as_ref(), &mut out, 1.0).is_ok());
    }

    /// A region sampled in place equals the same region cut out into a frame of its own,
    /// float for float, in every pixel format (the 4:2:0 chroma offsets included).
    #[test]
    fn a_region_samples_exactly_like_the_cropped_frame() {
        let (w, h) = (64u32, 48u32);
        let (rx, ry, rw, rh) = (10u32, 6u32, 30u32, 20u32);
        for format in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Rgb24,
            PixelFormat::Bgr24,
            PixelFormat::Rgba,
            PixelFormat::Gray8,
        ] {
            let mut full = Frame::new(format, w, h).unwrap();
            let mut seed = 7u32;
            {
                let mut m = full.as_mut();
                for p in m.planes_mut() {
                    for y in 0..p.height() {
                        for v in p.row_mut(y).iter_mut() {
                            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                            *v = (seed >> 16) as u8;
                        }
                    }
                }
            }
            let mut crop = Frame::new(format, rw, rh).unwrap();
            {
                let src = full.as_ref();
                let mut dst = crop.as_mut();
                for (i, (sp, dp)) in src.planes().iter().zip(dst.planes_mut()).enumerate() {
                    let sub = if format.is_420() && i > 0 { 2 } else { 1 };
                    let bpp = sp.bytes_per_pixel();
                    let x0 = (rx / sub) as usize * bpp;
                    for y in 0..dp.height() {
                        let n = dp.row_bytes();
                        dp.row_mut(y).copy_from_slice(&sp.row(ry / sub + y)[x0..x0 + n]);
                    }
                }
            }
            for scale in [0.5f32, 0.7, 1.3] {
                let lb = crate::centerface::region_letterbox(rw, rh, scale);
                let plan = Resampler::new(rw, rh, lb);
                let mut a = vec![1f32; plan.tensor_len()];
                let mut b = vec![2f32; plan.tensor_len()];
                plan.fill_region(&full.as_ref(), (rx, ry), &mut a, 1.0).unwrap();
                plan.fill(&crop.as_ref(), &mut b, 1.0).unwrap();
                assert_eq!(a, b, "{format:?} at scale {scale}");
            }
            // Outside the frame, or an odd corner of a 4:2:0 frame: refused, nothing written.
            let plan = Resampler::new(rw, rh, crate::centerface::region_letterbox(rw, rh, 1.0));
            let mut out = vec![3f32; plan.tensor_len()];
            assert!(plan
                .fill_region(&full.as_ref(), (w - rw + 2, 0), &mut out, 1.0)
                .is_err());
            assert!(plan
                .fill_region(&full.as_ref(), (0, h - rh + 2), &mut out, 1.0)
                .is_err());
            if format.is_420() {
                assert!(plan.fill_region(&full.as_ref(), (1, 2), &mut out, 1.0).is_err());
            }
            assert!(out.iter().all(|&v| v == 3.0));
        }
    }
}
