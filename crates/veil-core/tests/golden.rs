//! The exact output bytes of every style in every pixel format, pinned by SHA-256.
//!
//! The other tests check what a redaction must do (which pixels, which block means, that no
//! colour or zone content survives); they leave the blur's exact values free, and with them
//! the regions it is computed over. This test pins them: any change to the rasteriser's
//! regions, the kernels or their order shows up here. A deliberate change of the output (a
//! better blur) updates the digests below, and says so in its commit.
//!
//! The zones use the weak blur (`weak-blur`): the irreversible `blur` adds random noise to
//! its cells, so its bytes differ from run to run; it runs the same kernels over its cells,
//! and its own properties are tested in veil-core's unit tests and tests/styles.rs.

#![allow(clippy::unwrap_used)]
use sha2::{Digest, Sha256};
use veil_core::{CameraConfig, CaptureMasker, CpuLevel, Frame, PixelFormat};

/// Overlapping zones of all three styles, concave and convex, one reaching the frame's edge.
const ZONES: &str = r#"
[camera]
id = "golden"
purposes = ["safety"]
responsible = "FM"
[[zones]]
kind = "custom"
label = "blur, concave"
polygon = [[0.05, 0.1], [0.6, 0.05], [0.45, 0.5], [0.65, 0.95], [0.1, 0.7]]
style = "weak-blur"
radius = 9
[[zones]]
kind = "custom"
label = "large blur (at reduced resolution in chroma too), odd edges"
polygon = [[0.02, 0.75], [0.33, 0.72], [0.3, 0.99], [0.05, 0.97]]
style = "weak-blur"
radius = 14
[[zones]]
kind = "custom"
label = "two overlapping blurs of one radius: one layer, their regions merged"
polygon = [[0.36, 0.66], [0.5, 0.66], [0.5, 0.8], [0.36, 0.8]]
style = "weak-blur"
radius = 14
[[zones]]
kind = "custom"
label = "the second"
polygon = [[0.45, 0.75], [0.58, 0.75], [0.58, 0.88], [0.45, 0.88]]
style = "weak-blur"
radius = 14
[[zones]]
kind = "custom"
label = "small blur"
polygon = [[0.7, 0.6], [0.95, 0.6], [0.95, 0.9], [0.7, 0.9]]
style = "weak-blur"
radius = 3
[[zones]]
kind = "custom"
label = "pixelate at the edge"
polygon = [[0.55, 0.0], [1.0, 0.0], [1.0, 0.55], [0.7, 0.3]]
style = "pixelate"
block = 10
[[zones]]
kind = "custom"
label = "solid across the others"
polygon = [[0.3, 0.35], [0.8, 0.4], [0.75, 0.65], [0.35, 0.6]]
style = "solid"
"#;

fn digest(format: PixelFormat, level: CpuLevel) -> String {
    let (w, h) = (142, 98);
    let mut f = Frame::new(format, w, h).unwrap();
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    for plane in f.as_mut().planes_mut().iter_mut() {
        for y in 0..plane.height() {
            for b in plane.row_mut(y) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                *b = (s >> 56) as u8;
            }
        }
    }
    let cfg = CameraConfig::from_toml_str(ZONES, "golden.toml").unwrap();
    CaptureMasker::new(&cfg, w, h, format)
        .unwrap()
        .with_cpu_level(level)
        .apply(&mut f.as_mut())
        .unwrap();
    let mut hash = Sha256::new();
    for p in f.as_ref().planes() {
        for y in 0..p.height() {
            hash.update(p.row(y));
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn output_bytes_are_pinned() {
    // RGB and BGR bytes are processed alike (black is all zero in both)
    let want = [
        (
            PixelFormat::I420,
            "98788b0e7962591bf42d6b84bed223ddc960c38e7b981010cea0b4568c52e227",
        ),
        (
            PixelFormat::Nv12,
            "9adfd578158e0d44995a9c13928bd47bb37b4de32dfdad55b28861f1f4453010",
        ),
        (
            PixelFormat::Rgb24,
            "1dd1bf71d248e45de1b790e7ba3473a53bf4fee68a25fa5c3356aec4e3549508",
        ),
        (
            PixelFormat::Bgr24,
            "1dd1bf71d248e45de1b790e7ba3473a53bf4fee68a25fa5c3356aec4e3549508",
        ),
        (
            PixelFormat::Rgba,
            "85c5db0d0ad650f46d6ac79f4cba5a2bc3cd809a6c4605b46aed916777cc34a2",
        ),
        (
            PixelFormat::Gray8,
            "d46af2c13868d36a0b2880bc17dfe777fc1fe42be59bdee2d6f50e9338ae9785",
        ),
    ];
    for (format, digest_want) in want {
        for level in CpuLevel::supported() {
            assert_eq!(digest(format, level), digest_want, "{format:?} at {level:?}");
        }
    }
}
