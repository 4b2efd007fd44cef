//! Masking outcomes on whole frames: privacy (every pixel inside a zone is blanked), no
//! collateral change outside the zones, SIMD == scalar in every format, and zone-file errors.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]
use proptest::prelude::*;
use veil_core::{
    rasterise, Action, CameraConfig, CaptureMasker, ConfigError, CpuLevel, Frame, FrameMut, Layer,
    PixelFormat, Polygon, RedactError, Redaction, Shape,
};

/// A frame in `format` with noise in every byte and each plane's stride padded by `pad` bytes
/// (padding bytes hold a sentinel that must never change).
struct PaddedFrame {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: Vec<(Vec<u8>, usize)>,
}

const SENTINEL: u8 = 0xA5;

impl PaddedFrame {
    fn new(format: PixelFormat, width: u32, height: u32, pad: usize, seed: u64) -> Self {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let planes = (0..format.plane_count())
            .map(|p| {
                let l = format.plane_layout(width, height, p).unwrap();
                let stride = l.row_bytes() + pad;
                let mut buf = vec![SENTINEL; stride * l.height as usize];
                for y in 0..l.height as usize {
                    for b in &mut buf[y * stride..y * stride + l.row_bytes()] {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        *b = (s >> 56) as u8;
                    }
                }
                (buf, stride)
            })
            .collect();
        PaddedFrame {
            format,
            width,
            height,
            planes,
        }
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
}

fn config(zones: &[(Vec<[f64; 2]>, &str)]) -> CameraConfig {
    let mut t = String::from("[camera]\nid = \"cam\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n");
    for (i, (poly, style)) in zones.iter().enumerate() {
        let pts: Vec<String> = poly.iter().map(|[x, y]| format!("[{x:?}, {y:?}]")).collect();
        t.push_str(&format!(
            "[[zones]]\nkind = \"custom\"\nlabel = \"z{i}\"\npolygon = [{}]\nstyle = \"{style}\"\n",
            pts.join(", ")
        ));
    }
    CameraConfig::from_toml_str(&t, "test.toml").unwrap()
}

#[path = "support/polygon_ref.rs"]
mod polygon_ref;

/// For each plane: which samples a correct solid mask must blank (by the pixel-centre and
/// chroma rules, computed independently of the rasteriser with exact crossing tests, see
/// `support/polygon_ref.rs`); `None` for the rare sample the reference leaves undecided.
fn expected_masked(format: PixelFormat, w: u32, h: u32, polys: &[Polygon]) -> Vec<Vec<Option<bool>>> {
    let px: Vec<Vec<(f64, f64)>> = polys.iter().map(|p| p.to_pixels(w, h)).collect();
    let luma: Vec<Option<bool>> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            polygon_ref::any(
                px.iter()
                    .map(|p| polygon_ref::contains(p, f64::from(x) + 0.5, f64::from(y) + 0.5)),
            )
        })
        .collect();
    (0..format.plane_count())
        .map(|p| {
            if p == 0 || !format.is_420() {
                return luma.clone();
            }
            let (cw, ch) = (w / 2, h / 2);
            (0..ch)
                .flat_map(|cy| (0..cw).map(move |cx| (cx, cy)))
                .map(|(cx, cy)| {
                    polygon_ref::any(
                        [(0, 0), (1, 0), (0, 1), (1, 1)]
                            .iter()
                            .map(|(dx, dy)| luma[((2 * cy + dy) * w + 2 * cx + dx) as usize]),
                    )
                })
                .collect()
        })
        .collect()
}

fn check_solid(
    format: PixelFormat,
    w: u32,
    h: u32,
    pad: usize,
    polys: Vec<Polygon>,
) -> Result<(), TestCaseError> {
    let zones: Vec<(Vec<[f64; 2]>, &str)> = polys.iter().map(|p| (p.0.clone(), "solid")).collect();
    let cfg = config(&zones);
    let original = PaddedFrame::new(format, w, h, pad, u64::from(w * 7 + h));
    let mut frame = PaddedFrame::new(format, w, h, pad, u64::from(w * 7 + h));
    let masker = CaptureMasker::new(&cfg, w, h, format).unwrap();
    masker.apply(&mut frame.view()).unwrap();
    let expected = expected_masked(format, w, h, &polys);
    for p in 0..format.plane_count() {
        let l = format.plane_layout(w, h, p).unwrap();
        let bpp = l.bytes_per_pixel as usize;
        let (ref buf, stride) = frame.planes[p];
        let orig = &original.planes[p].0;
        let black = format.black(p);
        for y in 0..l.height as usize {
            for x in 0..l.width as usize {
                let o = y * stride + x * bpp;
                let got = &buf[o..o + bpp];
                let Some(masked) = expected[p][y * l.width as usize + x] else {
                    continue;
                };
                if masked {
                    prop_assert_eq!(got, black, "{:?} plane {} ({}, {}) not blanked", format, p, x, y);
                } else {
                    prop_assert_eq!(
                        got,
                        &orig[o..o + bpp],
                        "{:?} plane {} ({}, {}) changed",
                        format,
                        p,
                        x,
                        y
                    );
                }
            }
            // stride padding untouched
            prop_assert!(buf[y * stride + l.row_bytes()..(y + 1) * stride]
                .iter()
                .all(|&b| b == SENTINEL));
        }
    }
    Ok(())
}

/// A random polygon: a star around a centre (concave when radii vary), or arbitrary points.
fn polygon() -> impl Strategy<Value = Polygon> {
    let star = (
        0.1f64..0.9,
        0.1f64..0.9,
        3usize..12,
        prop::collection::vec(0.02f64..0.5, 12),
    )
        .prop_map(|(cx, cy, n, radii)| {
            Polygon(
                (0..n)
                    .map(|i| {
                        let a = i as f64 / n as f64 * std::f64::consts::TAU;
                        [
                            (cx + radii[i] * a.cos()).clamp(0.0, 1.0),
                            (cy + radii[i] * a.sin()).clamp(0.0, 1.0),
                        ]
                    })
                    .collect(),
            )
        });
    let free =
        prop::collection::vec((0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(x, y)| [x, y]), 3..8).prop_map(Polygon);
    prop_oneof![star, free]
}

fn geometry() -> impl Strategy<Value = (PixelFormat, u32, u32, usize)> {
    (
        0usize..6,
        1u32..48,
        1u32..40,
        prop_oneof![Just(0usize), 1usize..40],
    )
        .prop_map(|(f, w, h, pad)| {
            let format = PixelFormat::ALL[f];
            if format.is_420() {
                (format, w * 2, h * 2, pad)
            } else {
                (format, w, h, pad)
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn solid_blanks_exactly_the_zones((format, w, h, pad) in geometry(), polys in prop::collection::vec(polygon(), 1..4)) {
        check_solid(format, w, h, pad, polys)?;
    }
}

#[test]
fn full_frame_zone_blanks_everything_in_every_format() {
    let full = Polygon(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
    for format in PixelFormat::ALL {
        check_solid(format, 34, 18, 5, vec![full.clone()]).unwrap();
    }
}

const WIDTHS: [u32; 10] = [1, 7, 8, 9, 15, 16, 17, 33, 65, 1920];

#[test]
fn simd_matches_scalar_for_every_style_format_and_width() {
    // the weak blur runs the same kernels as the irreversible one, whose random noise makes
    // two runs differ (its levels are compared under equal noise in veil-core's unit tests)
    let zones = vec![
        (
            vec![[0.05, 0.1], [0.4, 0.05], [0.45, 0.9], [0.1, 0.7]],
            "weak-blur",
        ),
        (vec![[0.5, 0.0], [1.0, 0.0], [1.0, 0.6], [0.7, 0.3]], "pixelate"),
        (vec![[0.3, 0.5], [0.8, 0.5], [0.8, 1.0], [0.3, 1.0]], "solid"),
    ];
    let cfg = config(&zones);
    let levels = CpuLevel::supported();
    for format in PixelFormat::ALL {
        for &w in &WIDTHS {
            let w = if format.is_420() { w.div_ceil(2) * 2 } else { w };
            let h = 24;
            for pad in [0usize, 19] {
                let mut want = PaddedFrame::new(format, w, h, pad, u64::from(w));
                CaptureMasker::new(&cfg, w, h, format)
                    .unwrap()
                    .with_cpu_level(CpuLevel::Scalar)
                    .apply(&mut want.view())
                    .unwrap();
                for &level in &levels {
                    let mut got = PaddedFrame::new(format, w, h, pad, u64::from(w));
                    CaptureMasker::new(&cfg, w, h, format)
                        .unwrap()
                        .with_cpu_level(level)
                        .apply(&mut got.view())
                        .unwrap();
                    assert!(
                        got.planes == want.planes,
                        "{format:?} w {w} pad {pad} level {level:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn pixelate_and_blur_change_only_the_zone_and_destroy_detail() {
    let zone = vec![[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]];
    for style in ["pixelate", "blur", "weak-blur"] {
        let cfg = config(&[(zone.clone(), style)]);
        let (w, h) = (128u32, 96u32);
        let orig = PaddedFrame::new(PixelFormat::Gray8, w, h, 0, 9);
        let mut f = PaddedFrame::new(PixelFormat::Gray8, w, h, 0, 9);
        CaptureMasker::new(&cfg, w, h, PixelFormat::Gray8)
            .unwrap()
            .apply(&mut f.view())
            .unwrap();
        let (a, b) = (&orig.planes[0].0, &f.planes[0].0);
        let mut inside_diff = 0u64;
        let mut n = 0u64;
        for y in 0..h as usize {
            for x in 0..w as usize {
                let i = y * w as usize + x;
                let inside = (32..96).contains(&x) && (24..72).contains(&y);
                if inside {
                    inside_diff += u64::from(a[i].abs_diff(b[i]));
                    n += 1;
                } else {
                    assert_eq!(a[i], b[i], "{style}: pixel ({x}, {y}) outside the zone changed");
                }
            }
        }
        // noise has mean |diff| from its mean of ~64; a strong filter leaves pixels near the mean
        assert!(
            inside_diff / n > 40,
            "{style}: zone barely changed ({})",
            inside_diff / n
        );
        // variance inside the zone collapses
        let vals: Vec<f64> = (24..72)
            .flat_map(|y| (32..96).map(move |x| (x, y)))
            .map(|(x, y)| f64::from(b[y * w as usize + x]))
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / vals.len() as f64;
        assert!(var < 200.0, "{style}: variance {var} inside the zone");
    }
}

#[test]
fn wrong_geometry_blanks_the_frame_and_errors() {
    let cfg = config(&[(vec![[0.0, 0.0], [0.1, 0.0], [0.1, 0.1]], "solid")]);
    let masker = CaptureMasker::new(&cfg, 64, 48, PixelFormat::I420).unwrap();
    let mut f = PaddedFrame::new(PixelFormat::I420, 32, 24, 0, 1);
    let err = masker.apply(&mut f.view()).unwrap_err();
    assert!(matches!(err, RedactError::Frame(_)), "{err}");
    assert!(f.planes[0].0.iter().all(|&b| b == 0));
    assert!(f.planes[1].0.iter().all(|&b| b == 128));
}

#[test]
fn owned_frame_can_be_masked() {
    let cfg = config(&[(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], "solid")]);
    let mut f = Frame::new(PixelFormat::Nv12, 16, 8).unwrap();
    CaptureMasker::new(&cfg, 16, 8, PixelFormat::Nv12)
        .unwrap()
        .apply(&mut f.as_mut())
        .unwrap();
    assert_eq!(f.as_ref().planes()[1].row(0)[14..16], [128, 128]);
}

// ---- zone-file errors: each names the file, the zone (index and label) and the reason ----

const HEAD: &str = "[camera]\nid = \"cam\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n";

fn err_of(body: &str) -> (ConfigError, String) {
    let e = CameraConfig::from_toml_str(&format!("{HEAD}{body}"), "zones/cam.toml").unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("zones/cam.toml: "), "{msg}");
    (e, msg)
}

#[test]
fn coordinate_outside_unit_square() {
    let (e, msg) = err_of(
        "[[zones]]\nkind = \"custom\"\nlabel = \"ok\"\npolygon = [[0,0],[1,0],[1,1]]\n\
         [[zones]]\nkind = \"dwelling-door\"\nlabel = \"Door 12\"\npolygon = [[0.1,0.2],[1.5,0.2],[0.1,0.5]]\n",
    );
    assert!(matches!(e, ConfigError::Zone { index: 1, .. }), "{e:?}");
    assert!(
        msg.contains("zone 1 (\"Door 12\")") && msg.contains("outside 0..1"),
        "{msg}"
    );
}

#[test]
fn too_few_points() {
    let (_, msg) =
        err_of("[[zones]]\nkind = \"workplace\"\nlabel = \"Desk\"\npolygon = [[0.1,0.2],[0.3,0.2]]\n");
    assert!(
        msg.contains("zone 0 (\"Desk\")") && msg.contains("2 point(s), needs at least 3"),
        "{msg}"
    );
}

#[test]
fn unknown_kind() {
    let (e, msg) =
        err_of("[[zones]]\nkind = \"garden\"\nlabel = \"Garden\"\npolygon = [[0,0],[1,0],[1,1]]\n");
    assert!(matches!(e, ConfigError::Zone { index: 0, .. }), "{e:?}");
    assert!(
        msg.contains("(\"Garden\")") && msg.contains("garden") && msg.contains("dwelling-door"),
        "{msg}"
    );
}

#[test]
fn unknown_style() {
    let (_, msg) = err_of(
        "[[zones]]\nkind = \"public-road\"\nlabel = \"Road\"\npolygon = [[0,0],[1,0],[1,1]]\nstyle = \"sparkle\"\n",
    );
    assert!(
        msg.contains("zone 0 (\"Road\")") && msg.contains("sparkle"),
        "{msg}"
    );
}

#[test]
fn unknown_key_and_bad_block() {
    let (_, msg) = err_of(
        "[[zones]]\nkind = \"custom\"\nlabel = \"X\"\npolygon = [[0,0],[1,0],[1,1]]\nstlye = \"blur\"\n",
    );
    assert!(msg.contains("zone 0 (\"X\")") && msg.contains("stlye"), "{msg}");
    let (_, msg) = err_of(
        "[[zones]]\nkind = \"custom\"\nlabel = \"X\"\npolygon = [[0,0],[1,0],[1,1]]\nstyle = \"pixelate\"\nblock = 2\n",
    );
    assert!(msg.contains("block 2"), "{msg}");
}

#[test]
fn not_toml_at_all() {
    let e = CameraConfig::from_toml_str("this is [ not toml", "cam.toml").unwrap_err();
    assert!(matches!(e, ConfigError::Parse { .. }));
    assert!(e.to_string().starts_with("cam.toml: "), "{e}");
}

#[test]
fn missing_camera_purpose_and_missing_file() {
    let e = CameraConfig::from_toml_str(
        "[camera]\nid = \"c\"\npurposes = []\nresponsible = \"FM\"\n",
        "c.toml",
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::Camera { .. }), "{e}");
    let e = CameraConfig::from_file(std::path::Path::new("/nonexistent/zones.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }) && e.to_string().contains("/nonexistent/zones.toml"));
}

#[cfg(feature = "rayon")]
#[test]
fn thread_pool_gives_the_same_bytes() {
    let zones = vec![
        (vec![[0.0, 0.0], [0.9, 0.1], [0.5, 0.9]], "solid"),
        (vec![[0.6, 0.5], [1.0, 0.5], [1.0, 1.0], [0.6, 1.0]], "weak-blur"),
        (vec![[0.0, 0.6], [0.3, 0.6], [0.3, 1.0]], "pixelate"),
    ];
    let cfg = config(&zones);
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap());
    for format in PixelFormat::ALL {
        let (w, h) = (1920, 1080); // the solid zone (~700K pixels) crosses the parallel threshold
        let mut want = PaddedFrame::new(format, w, h, 8, 3);
        CaptureMasker::new(&cfg, w, h, format)
            .unwrap()
            .apply(&mut want.view())
            .unwrap();
        let mut got = PaddedFrame::new(format, w, h, 8, 3);
        CaptureMasker::new(&cfg, w, h, format)
            .unwrap()
            .with_thread_pool(pool.clone())
            .apply(&mut got.view())
            .unwrap();
        assert!(got.planes == want.planes, "{format:?}");
    }
}

#[test]
fn camera_without_zones_still_refuses_a_wrong_geometry() {
    let cfg = config(&[]);
    let masker = CaptureMasker::new(&cfg, 64, 48, PixelFormat::Gray8).unwrap();
    let mut f = PaddedFrame::new(PixelFormat::Gray8, 32, 24, 0, 1);
    assert!(masker.apply(&mut f.view()).is_err());
    assert!(f.planes[0].0.iter().all(|&b| b == 0));
    let mut ok = PaddedFrame::new(PixelFormat::Gray8, 64, 48, 0, 1);
    let before = ok.planes.clone();
    masker.apply(&mut ok.view()).unwrap();
    assert!(ok.planes == before);
}

#[cfg(feature = "rayon")]
#[test]
fn pooled_solid_fill_gives_the_same_bytes() {
    // zones covering > 4M pixels of a 2160p frame take the parallel fill; with and without
    // stride padding (runs then span several rows, and parts split between runs)
    let zones = vec![
        (vec![[0.0, 0.0], [0.9, 0.1], [0.5, 0.9]], "solid"),
        (vec![[0.0, 0.5], [1.0, 0.5], [1.0, 0.8], [0.0, 0.8]], "solid"),
        (vec![[0.7, 0.85], [0.9, 0.85], [0.9, 0.95]], "solid"),
    ];
    let cfg = config(&zones);
    let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap());
    let (w, h) = (3840, 2160);
    for format in [PixelFormat::I420, PixelFormat::Nv12, PixelFormat::Rgb24] {
        for pad in [0, 8] {
            let masker = CaptureMasker::new(&cfg, w, h, format).unwrap();
            assert!(masker.layers()[0].1.pixel_count() > 4 << 20);
            let mut want = PaddedFrame::new(format, w, h, pad, 5);
            masker.apply(&mut want.view()).unwrap();
            let mut got = PaddedFrame::new(format, w, h, pad, 5);
            masker
                .clone()
                .with_thread_pool(pool.clone())
                .apply(&mut got.view())
                .unwrap();
            assert!(got.planes == want.planes, "{format:?} pad {pad}");
        }
    }
}

/// Coordinates as the parser fuzz test draws them: anywhere in 0..=1 plus the edges and the
/// values next to them.
fn fuzz_coord() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0f64..=1.0,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => Just(0.5),
        1 => Just(f64::EPSILON),
        1 => Just(1.0 - f64::EPSILON),
    ]
}

/// Polygons as the parser fuzz test draws them: few points, thousands of points, stars with
/// hundreds of self-intersecting spikes, and zero-area slivers.
fn fuzz_polygon() -> impl Strategy<Value = Vec<[f64; 2]>> {
    prop_oneof![
        prop::collection::vec((fuzz_coord(), fuzz_coord()).prop_map(|(x, y)| [x, y]), 3..12),
        prop::collection::vec((fuzz_coord(), fuzz_coord()).prop_map(|(x, y)| [x, y]), 1000..4000),
        (3usize..500).prop_map(|n| {
            (0..n)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::PI * 2.0 * (n as f64 / 2.0).floor() / n as f64;
                    [0.5 + 0.5 * a.cos(), 0.5 + 0.5 * a.sin()]
                })
                .collect()
        }),
        (fuzz_coord(), fuzz_coord()).prop_map(|(x, y)| vec![[x, y], [x, y], [x, 1.0 - y]]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// The rasteriser's spans against the exact reference, pixel by pixel, on the parser fuzz
    /// test's shapes (which it checks the same way, at the top level).
    #[test]
    fn rasterise_matches_the_exact_reference(poly in fuzz_polygon(), w in (1u32..40).prop_map(|v| v * 2), h in (1u32..30).prop_map(|v| v * 2)) {
        let layer = Layer { action: Action::Redact(Redaction::Solid), shapes: vec![Shape::Polygon(Polygon(poly.clone()))] };
        let masks = rasterise(&[layer], w, h, PixelFormat::Gray8).unwrap();
        let spans = masks[0].plane(0).unwrap();
        for y in 0..h {
            for x in 0..w {
                if let Some(inside) = polygon_ref::pixel_inside(&poly, w, h, x, y) {
                    prop_assert_eq!(spans.contains(x, y), inside, "pixel ({}, {}) of {}x{}", x, y, w, h);
                }
            }
        }
    }
}
