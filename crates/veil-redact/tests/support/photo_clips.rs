//! Clips built from real photographs for the end-to-end identity and review tests (shared
//! with `#[path]`): people cut out of fixtures/images/group_t1.jpg, drawn over the real CCTV
//! scene of fixtures/images/vtest_f000.jpg, encoded with ffmpeg (x264, near lossless).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use image::{imageops, RgbImage};

pub const W: u32 = 640;
pub const H: u32 = 360;
pub const FPS: u32 = 12;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// A person cut out of the group photo: the patch and its face box in patch pixels.
pub struct Person {
    pub img: RgbImage,
    pub face: [f32; 4],
}

/// Cut `crop` (x, y, w, h) out of the group photo, with the hand-annotated `face`
/// (x0, y0, x1, y1, photo pixels, from fixtures/inzage/annotate.py), scaled by `s`.
pub fn cut(photo: &RgbImage, crop: [u32; 4], face: [u32; 4], s: f32) -> Person {
    let sub = imageops::crop_imm(photo, crop[0], crop[1], crop[2], crop[3]).to_image();
    let (w, h) = ((crop[2] as f32 * s) as u32, (crop[3] as f32 * s) as u32);
    let img = imageops::resize(&sub, w, h, imageops::FilterType::Triangle);
    let f = [
        (face[0] - crop[0]) as f32 * s,
        (face[1] - crop[1]) as f32 * s,
        (face[2] - face[0]) as f32 * s,
        (face[3] - face[1]) as f32 * s,
    ];
    Person { img, face: f }
}

/// The photographs and the two people every clip uses.
pub struct Photos {
    /// The group photo.
    pub photo: RgbImage,
    /// The CCTV scene, W x H.
    pub background: RgbImage,
    /// The man in red at the centre of the photo (the requester).
    pub requester: Person,
    /// The woman third from the left (a bystander).
    pub bystander: Person,
}

pub fn photos() -> &'static Photos {
    static P: OnceLock<Photos> = OnceLock::new();
    P.get_or_init(|| {
        let photo = image::open(fixture("images/group_t1.jpg")).unwrap().to_rgb8();
        let bg = image::open(fixture("images/vtest_f000.jpg")).unwrap().to_rgb8();
        Photos {
            background: imageops::resize(&bg, W, H, imageops::FilterType::Triangle),
            requester: cut(&photo, [700, 310, 200, 576], [745, 340, 850, 480], 0.5),
            bystander: cut(&photo, [425, 240, 190, 646], [462, 268, 575, 410], 0.46),
            photo,
        }
    })
}

/// ffmpeg encoding W x H RGB frames at FPS into an MP4 (x264, CRF 16, yuv420p).
pub struct Encoder(Child);

impl Encoder {
    pub fn create(path: &Path) -> Encoder {
        let child = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo"])
            .args(["-pix_fmt", "rgb24", "-s", &format!("{W}x{H}")])
            .args(["-r", &FPS.to_string(), "-i", "-"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "16"])
            .args(["-pix_fmt", "yuv420p"])
            .arg(path)
            .stdin(Stdio::piped())
            .spawn()
            .expect("ffmpeg");
        Encoder(child)
    }

    pub fn frame(&mut self, img: &RgbImage) {
        self.0.stdin.as_mut().unwrap().write_all(img.as_raw()).unwrap();
    }

    pub fn finish(mut self) {
        drop(self.0.stdin.take());
        assert!(self.0.wait().unwrap().success());
    }
}

/// The face box of `p` drawn with its patch at `rect` (x, y, w, h).
pub fn face_at(p: &Person, rect: [f32; 4]) -> [f32; 4] {
    [rect[0] + p.face[0], rect[1] + p.face[1], p.face[2], p.face[3]]
}

/// Whether face box `fb` is fully inside the frame and none of the patches drawn after it
/// (`later`, x, y, w, h) covers any of it.
pub fn face_in_view(fb: [f32; 4], later: impl IntoIterator<Item = [f32; 4]>) -> bool {
    let inside = fb[0] >= 0.0 && fb[0] + fb[2] <= W as f32 && fb[1] >= 0.0;
    inside
        && !later.into_iter().any(|o| {
            fb[0] < o[0] + o[2] && o[0] < fb[0] + fb[2] && fb[1] < o[1] + o[3] && o[1] < fb[1] + fb[3]
        })
}
