//! Distant faces over a real CCTV scene: the group photo (six real faces, hand-annotated)
//! shrunk so its faces are 24-48 px tall, three copies pasted over OpenCV's vtest street
//! scene scaled to the frame size. One copy stands still, two walk across. Used by the
//! distant-face tests of veil-detect and veil-redact and `examples/distant.rs`; it needs
//! nothing but veil-core and image, so both crates include it by path.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use image::RgbImage;
use veil_core::{BoxF, Frame, PixelFormat};

/// Hand-annotated face boxes of `group_t1.jpg` (x0, y0, x1, y1), 115-142 px tall.
pub const GROUP_FACES: [(f32, f32, f32, f32); 6] = [
    (65.0, 265.0, 170.0, 390.0),
    (278.0, 150.0, 372.0, 265.0),
    (462.0, 268.0, 575.0, 410.0),
    (745.0, 340.0, 850.0, 480.0),
    (905.0, 65.0, 1010.0, 205.0),
    (1135.0, 268.0, 1228.0, 395.0),
];

/// `fixtures/images/<name>` (both crates sit two levels below the repository root).
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/images")).join(name)
}

/// One pasted copy: the scaled photo, where it starts and how fast it moves (px/frame).
struct Copy {
    img: RgbImage,
    k: f32,
    at: (f32, f32),
    v: (f32, f32),
}

/// A scene of `width` x `height` RGB frames.
pub struct Scene {
    bg: RgbImage,
    copies: Vec<Copy>,
}

impl Scene {
    /// Three copies with faces of about 24-30, 32-40 and 39-48 px (scales 0.21, 0.28, 0.34
    /// of the photo), independent of the frame size: distant people stay small in 4K.
    /// The 0.28 copy stands still; the others walk at `speed` px per frame.
    pub fn new(width: u32, height: u32, speed: f32) -> Scene {
        Scene::with_scales(width, height, speed, &[0.21, 0.28, 0.34])
    }

    /// As [`Scene::new`] with the three copies at these scales of the photo (faces 115-142 px
    /// tall times the scale); a fourth scale, if given, adds a copy walking along the bottom.
    pub fn with_scales(width: u32, height: u32, speed: f32, scales: &[f32]) -> Scene {
        let bg = image::open(fixture("vtest_f000.jpg")).unwrap().to_rgb8();
        let bg = image::imageops::resize(&bg, width, height, image::imageops::FilterType::Triangle);
        let photo = image::open(fixture("group_t1.jpg")).unwrap().to_rgb8();
        let (w, h) = (width as f32, height as f32);
        let places = [
            ((0.05 * w, 0.55 * h), (speed, 0.0)),
            ((0.55 * w, 0.10 * h), (0.0, 0.0)),
            ((0.30 * w, 0.35 * h), (-speed * 0.7, speed * 0.3)),
            ((0.60 * w, 0.80 * h), (-speed * 0.5, 0.0)),
        ];
        let copies = scales
            .iter()
            .zip(places)
            .map(|(&k, (at, v))| (k, at, v))
            .map(|(k, at, v)| {
                let (pw, ph) = ((1280.0 * k) as u32, (886.0 * k) as u32);
                let img = image::imageops::resize(&photo, pw, ph, image::imageops::FilterType::Triangle);
                Copy { img, k, at, v }
            })
            .collect();
        Scene { bg, copies }
    }

    /// Frame `n` as RGB and the face boxes in it (frame pixels).
    pub fn frame(&self, n: u32) -> (RgbImage, Vec<BoxF>) {
        let mut f = self.bg.clone();
        let mut faces = Vec::new();
        for c in &self.copies {
            let x = (c.at.0 + c.v.0 * n as f32).round();
            let y = (c.at.1 + c.v.1 * n as f32).round();
            image::imageops::overlay(&mut f, &c.img, x as i64, y as i64);
            for &(x0, y0, x1, y1) in &GROUP_FACES {
                faces.push(BoxF::new(
                    x + x0 * c.k,
                    y + y0 * c.k,
                    (x1 - x0) * c.k,
                    (y1 - y0) * c.k,
                ));
            }
        }
        (f, faces)
    }
}

/// An RGB image as an RGB24 frame.
pub fn to_frame(img: &RgbImage) -> Frame {
    let (w, h) = img.dimensions();
    let mut f = Frame::new(PixelFormat::Rgb24, w, h).unwrap();
    {
        let mut m = f.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 0..h {
            let src = &img.as_raw()[(y * w * 3) as usize..((y + 1) * w * 3) as usize];
            p.row_mut(y).copy_from_slice(src);
        }
    }
    f
}
