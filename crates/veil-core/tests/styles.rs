//! Every redaction style in every pixel format, checked in every plane: colour must not
//! survive in chroma, overlapping zones of different styles resolve to the strongest, a blur
//! never spreads what a solid zone hid, and pixelate leaves nothing but block means.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]
use veil_core::{CameraConfig, CaptureMasker, CpuLevel, FrameMut, PixelFormat};

/// A frame held as one buffer per plane, each row padded by `PAD` bytes of a sentinel.
struct TestFrame {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: Vec<(Vec<u8>, usize)>,
}

const PAD: usize = 7;
const SENTINEL: u8 = 0x5A;

impl TestFrame {
    /// A frame whose byte `c` of pixel `(x, y)` in plane `p` is `f(p, c, x, y)`.
    fn new(format: PixelFormat, width: u32, height: u32, f: impl Fn(usize, usize, u32, u32) -> u8) -> Self {
        let planes = (0..format.plane_count())
            .map(|p| {
                let l = format.plane_layout(width, height, p).unwrap();
                let bpp = l.bytes_per_pixel as usize;
                let stride = l.row_bytes() + PAD;
                let mut buf = vec![SENTINEL; stride * l.height as usize];
                for y in 0..l.height {
                    for x in 0..l.width {
                        for c in 0..bpp {
                            buf[y as usize * stride + x as usize * bpp + c] = f(p, c, x, y);
                        }
                    }
                }
                (buf, stride)
            })
            .collect();
        TestFrame {
            format,
            width,
            height,
            planes,
        }
    }
    fn noise(format: PixelFormat, width: u32, height: u32, seed: u64) -> Self {
        TestFrame::new(format, width, height, |p, c, x, y| {
            let mut s = seed ^ ((p as u64) << 56 | (c as u64) << 48 | u64::from(x) << 24 | u64::from(y));
            s = s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            s ^= s >> 29;
            s = s.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            (s >> 56) as u8
        })
    }
    fn view(&mut self) -> FrameMut<'_> {
        FrameMut::new(
            self.format,
            self.width,
            self.height,
            self.planes.iter_mut().map(|(b, s)| (b.as_mut_slice(), *s)),
        )
        .unwrap()
    }
    fn bpp(&self, p: usize) -> usize {
        self.format
            .plane_layout(self.width, self.height, p)
            .unwrap()
            .bytes_per_pixel as usize
    }
    /// Byte `c` of pixel `(x, y)` of plane `p` (plane pixels).
    fn at(&self, p: usize, c: usize, x: u32, y: u32) -> u8 {
        let (buf, stride) = &self.planes[p];
        buf[y as usize * stride + x as usize * self.bpp(p) + c]
    }
    /// Plane `p`'s size in pixels.
    fn size(&self, p: usize) -> (u32, u32) {
        let l = self.format.plane_layout(self.width, self.height, p).unwrap();
        (l.width, l.height)
    }
    /// Luma pixels per plane pixel in each direction (2 for 4:2:0 chroma).
    fn sub(&self, p: usize) -> u32 {
        if p > 0 && self.format.is_420() {
            2
        } else {
            1
        }
    }
    fn padding_intact(&self) -> bool {
        (0..self.planes.len()).all(|p| {
            let (w, h) = self.size(p);
            let (buf, stride) = &self.planes[p];
            let row = w as usize * self.bpp(p);
            (0..h as usize).all(|y| {
                buf[y * stride + row..(y + 1) * stride]
                    .iter()
                    .all(|&b| b == SENTINEL)
            })
        })
    }
}

/// A zone file with axis-aligned rectangular zones `(x0, y0, x1, y1, style, extra)`, in
/// normalised coordinates.
fn config(zones: &[(f64, f64, f64, f64, &str, &str)]) -> CameraConfig {
    let mut t = String::from("[camera]\nid = \"cam\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n");
    for (i, (x0, y0, x1, y1, style, extra)) in zones.iter().enumerate() {
        t.push_str(&format!(
            "[[zones]]\nkind = \"custom\"\nlabel = \"z{i}\"\n\
             polygon = [[{x0:?}, {y0:?}], [{x1:?}, {y0:?}], [{x1:?}, {y1:?}], [{x0:?}, {y1:?}]]\n\
             style = \"{style}\"\n{extra}\n"
        ));
    }
    CameraConfig::from_toml_str(&t, "styles.toml").unwrap()
}

fn mask(cfg: &CameraConfig, f: &mut TestFrame, level: CpuLevel) {
    CaptureMasker::new(cfg, f.width, f.height, f.format)
        .unwrap()
        .with_cpu_level(level)
        .apply(&mut f.view())
        .unwrap();
}

const W: u32 = 128;
const H: u32 = 96;

/// Zone in luma pixels `[32, 96) x [16, 80)` of a 128 x 96 frame.
const ZONE: (f64, f64, f64, f64) = (0.25, 1.0 / 6.0, 0.75, 80.0 / 96.0);

fn in_zone(x: u32, y: u32) -> bool {
    (32..96).contains(&x) && (16..80).contains(&y)
}

/// Background colour per plane byte, and the colour of a "face" in the middle of the zone.
fn background(p: usize, c: usize) -> u8 {
    [[90, 120, 150, 255], [110, 140, 0, 0], [135, 0, 0, 0]][p][c]
}
fn face(p: usize, c: usize) -> u8 {
    [[240, 20, 230, 255], [230, 30, 0, 0], [25, 0, 0, 0]][p][c]
}
/// The face: luma pixels `[56, 72) x [40, 56)`.
fn in_face(x: u32, y: u32) -> bool {
    (56..72).contains(&x) && (40..56).contains(&y)
}

#[test]
fn every_style_redacts_every_plane_of_every_format() {
    for format in PixelFormat::ALL {
        let original = TestFrame::new(format, W, H, |p, c, x, y| {
            let s = if p > 0 && format.is_420() { 2 } else { 1 };
            if in_face(x * s, y * s) {
                face(p, c)
            } else {
                background(p, c)
            }
        });
        for style in ["solid", "pixelate", "blur", "weak-blur"] {
            // a blur radius of the face's size (the default, 8 here, is for people far smaller
            // than the frame)
            let extra = if style.ends_with("blur") {
                "radius = 16"
            } else {
                ""
            };
            let cfg = config(&[(ZONE.0, ZONE.1, ZONE.2, ZONE.3, style, extra)]);
            for level in CpuLevel::supported() {
                let mut f = TestFrame::new(format, W, H, |p, c, x, y| original.at(p, c, x, y));
                mask(&cfg, &mut f, level);
                assert!(f.padding_intact(), "{format:?} {style}: stride padding written");
                for p in 0..format.plane_count() {
                    let (pw, ph) = f.size(p);
                    let s = f.sub(p);
                    let black = format.black(p);
                    for y in 0..ph {
                        for x in 0..pw {
                            for c in 0..f.bpp(p) {
                                let (got, was) = (f.at(p, c, x, y), original.at(p, c, x, y));
                                let at =
                                    || format!("{format:?} {style} {level:?} plane {p} byte {c} ({x}, {y})");
                                if !in_zone(x * s, y * s) {
                                    assert_eq!(got, was, "{}: outside the zone, changed", at());
                                    continue;
                                }
                                match style {
                                    "solid" => assert_eq!(got, black[c], "{}: not black", at()),
                                    _ if in_face(x * s, y * s) => {
                                        // the face's colour is gone: at most a third of its
                                        // contrast to the background is left
                                        let contrast = u32::from(face(p, c).abs_diff(background(p, c)));
                                        assert!(
                                            u32::from(got.abs_diff(background(p, c))) * 3 <= contrast,
                                            "{}: {got}, face {was}, background {}",
                                            at(),
                                            background(p, c)
                                        );
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The mean of the `block` x `block` cell of plane `p` holding `(x, y)` (grid anchored at
/// the origin; edge cells are smaller), rounded to nearest.
fn block_mean(f: &TestFrame, p: usize, c: usize, block: u32, x: u32, y: u32) -> u8 {
    let (pw, ph) = f.size(p);
    let (x0, y0) = (x / block * block, y / block * block);
    let (x1, y1) = ((x0 + block).min(pw), (y0 + block).min(ph));
    let mut sum = 0u32;
    for yy in y0..y1 {
        for xx in x0..x1 {
            sum += u32::from(f.at(p, c, xx, yy));
        }
    }
    let n = (x1 - x0) * (y1 - y0);
    ((sum + n / 2) / n) as u8
}

#[test]
fn pixelate_leaves_only_block_means_in_every_plane() {
    // whole-frame zones; 100 x 70 is not a multiple of any block, so edge cells are partial
    for format in PixelFormat::ALL {
        for block in [8u32, 16, 24] {
            let cfg = config(&[(0.0, 0.0, 1.0, 1.0, "pixelate", &format!("block = {block}"))]);
            let original = TestFrame::noise(format, 100, 70, u64::from(block));
            for level in CpuLevel::supported() {
                let mut f = TestFrame::new(format, 100, 70, |p, c, x, y| original.at(p, c, x, y));
                mask(&cfg, &mut f, level);
                assert!(f.padding_intact());
                for p in 0..format.plane_count() {
                    let b = block / f.sub(p);
                    let (pw, ph) = f.size(p);
                    for y in 0..ph {
                        for x in 0..pw {
                            for c in 0..f.bpp(p) {
                                assert_eq!(
                                    f.at(p, c, x, y),
                                    block_mean(&original, p, c, b, x, y),
                                    "{format:?} block {block} {level:?} plane {p} byte {c} ({x}, {y})"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn overlapping_zones_take_the_strongest_style_and_blur_never_spreads_a_solid_zone() {
    for blur_style in ["blur", "weak-blur"] {
        overlapping_zones(blur_style);
    }
}

fn overlapping_zones(blur_style: &str) {
    // luma pixels: solid [32, 64) x [16, 48); pixelate [48, 96) x [32, 80) (block 16);
    // blur [16, 112) x [8, 88) around both. The solid zone holds bright content, everything
    // else a flat background: whatever a blur or pixelate shows must come from the
    // background and black, never from the solid zone's content.
    let zones = [
        (0.125, 8.0 / 96.0, 0.875, 88.0 / 96.0, blur_style, "radius = 12"),
        (0.25, 16.0 / 96.0, 0.5, 0.5, "solid", ""),
        (0.375, 1.0 / 3.0, 0.75, 80.0 / 96.0, "pixelate", "block = 16"),
    ];
    // The irreversible blur adds noise of at most BLUR_CELL_NOISE to every cell mean, and its
    // output is a weighted mean of the noisy cells (plus a level of rounding per box pass):
    // its pixels may stray that far from the range of what it read. The secret (5 or 250)
    // lies further away than that from every bound, so a spread would still show.
    let slack = if blur_style == "blur" {
        veil_core::BLUR_CELL_NOISE as u8 + 6
    } else {
        0
    };
    let cfg = config(&zones);
    let solid = |x: u32, y: u32| (32..64).contains(&x) && (16..48).contains(&y);
    let pixelate = |x: u32, y: u32| (48..96).contains(&x) && (32..80).contains(&y);
    let blur = |x: u32, y: u32| (16..112).contains(&x) && (8..88).contains(&y);
    // a secret colour far from both black and the background, in every byte
    let secret = |p: usize, c: usize, format: PixelFormat| if format.black(p)[c] == 0 { 250 } else { 5 };
    for format in PixelFormat::ALL {
        let original = TestFrame::new(format, W, H, |p, c, x, y| {
            let s = if p > 0 && format.is_420() { 2 } else { 1 };
            if solid(x * s, y * s) {
                secret(p, c, format)
            } else {
                background(p, c)
            }
        });
        for level in CpuLevel::supported() {
            let mut f = TestFrame::new(format, W, H, |p, c, x, y| original.at(p, c, x, y));
            mask(&cfg, &mut f, level);
            // the frame as the solid zone leaves it, for the pixelate reference
            let after_solid = TestFrame::new(format, W, H, |p, c, x, y| {
                let s = if p > 0 && format.is_420() { 2 } else { 1 };
                if solid(x * s, y * s) {
                    format.black(p)[c]
                } else {
                    background(p, c)
                }
            });
            for p in 0..format.plane_count() {
                let s = f.sub(p);
                let (pw, ph) = f.size(p);
                for y in 0..ph {
                    for x in 0..pw {
                        let (lx, ly) = (x * s, y * s);
                        for c in 0..f.bpp(p) {
                            let got = f.at(p, c, x, y);
                            let (bg, black) = (background(p, c), format.black(p)[c]);
                            let at = || format!("{format:?} {level:?} plane {p} byte {c} ({x}, {y})");
                            if solid(lx, ly) {
                                assert_eq!(got, black, "{}: solid lost to a weaker style", at());
                            } else if pixelate(lx, ly) {
                                assert_eq!(
                                    got,
                                    block_mean(&after_solid, p, c, 16 / s, x, y),
                                    "{}: not the block mean of the solid-filled frame",
                                    at()
                                );
                            } else if blur(lx, ly) {
                                let (lo, hi) = (
                                    bg.min(black).saturating_sub(slack),
                                    bg.max(black).saturating_add(slack),
                                );
                                assert!(
                                    got >= lo && got <= hi,
                                    "{} {blur_style}: {got} outside [{lo}, {hi}]: the solid zone's content spread",
                                    at(),
                                );
                            } else {
                                assert_eq!(got, bg, "{}: outside every zone, changed", at());
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn pixelate_covers_every_masked_sample_of_a_zone_with_odd_edges() {
    // luma [13, 61) x [7, 45) of a 128 x 64 frame: odd edges, so 4:2:0 chroma samples at the
    // zone's border are masked for one luma pixel of their four, and regions rounded down to
    // whole chroma samples would miss them
    let (w, h) = (128u32, 64u32);
    let cfg = config(&[(
        13.0 / 128.0,
        7.0 / 64.0,
        61.0 / 128.0,
        45.0 / 64.0,
        "pixelate",
        "block = 8",
    )]);
    let luma = |x: u32, y: u32| (13..61).contains(&x) && (7..45).contains(&y);
    for format in PixelFormat::ALL {
        let original = TestFrame::noise(format, w, h, 77);
        for level in CpuLevel::supported() {
            let mut f = TestFrame::new(format, w, h, |p, c, x, y| original.at(p, c, x, y));
            mask(&cfg, &mut f, level);
            assert!(f.padding_intact());
            for p in 0..format.plane_count() {
                let s = f.sub(p);
                let (pw, ph) = f.size(p);
                for y in 0..ph {
                    for x in 0..pw {
                        // a chroma sample is masked when any luma pixel it covers is
                        let masked = (0..s).any(|dy| (0..s).any(|dx| luma(x * s + dx, y * s + dy)));
                        for c in 0..f.bpp(p) {
                            let want = if masked {
                                block_mean(&original, p, c, 8 / s, x, y)
                            } else {
                                original.at(p, c, x, y)
                            };
                            assert_eq!(
                                f.at(p, c, x, y),
                                want,
                                "{format:?} {level:?} plane {p} byte {c} ({x}, {y}), masked {masked}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_irreversible_blur_draws_new_noise_every_time_and_only_inside_the_zone() {
    // the same frame masked twice: inside the zone the noise differs (nobody can reproduce
    // it), outside and in the stride padding nothing changes; a flat zone stays within the
    // noise of its value
    let cfg = config(&[(ZONE.0, ZONE.1, ZONE.2, ZONE.3, "blur", "radius = 16")]);
    let n = veil_core::BLUR_CELL_NOISE as u8;
    for format in PixelFormat::ALL {
        let original = TestFrame::new(format, W, H, |p, c, _, _| background(p, c));
        let run = || {
            let mut f = TestFrame::new(format, W, H, |p, c, x, y| original.at(p, c, x, y));
            mask(&cfg, &mut f, CpuLevel::detect());
            assert!(f.padding_intact(), "{format:?}: stride padding written");
            f
        };
        let (a, b) = (run(), run());
        let mut differ = 0;
        for p in 0..format.plane_count() {
            let (pw, ph) = a.size(p);
            let s = a.sub(p);
            for y in 0..ph {
                for x in 0..pw {
                    for c in 0..a.bpp(p) {
                        let (va, vb, was) = (a.at(p, c, x, y), b.at(p, c, x, y), original.at(p, c, x, y));
                        let at = format!("{format:?} plane {p} byte {c} ({x}, {y})");
                        if !in_zone(x * s, y * s) {
                            assert!(va == was && vb == was, "{at}: outside the zone, changed");
                            continue;
                        }
                        differ += usize::from(va != vb);
                        for v in [va, vb] {
                            assert!(
                                v.abs_diff(was) <= n,
                                "{at}: {v} further than the noise from {was}"
                            );
                        }
                        if format == PixelFormat::Rgba && c == 3 {
                            assert_eq!(va, was, "{at}: alpha changed");
                        }
                    }
                }
            }
        }
        assert!(differ > 0, "{format:?}: two runs drew the same noise");
    }
}
