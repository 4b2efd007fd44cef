//! The distant-face benchmark clip: real photographs of people (the hand-annotated group
//! photo, four copies with faces of about 18-23, 24-30, 32-40 and 39-48 px) over OpenCV's
//! real CCTV street scene, 1080p, 12 fps; three groups walk, one stands still. Writes the
//! clip and its face boxes in the format of fixtures/inzage/faces.json.
//!
//! ```text
//! cargo run --release -p veil-redact --example distant_clip -- OUT.mp4 FACES.json [FRAMES] [WIDTH HEIGHT]
//! ```
#![allow(clippy::unwrap_used)]

#[path = "../../veil-detect/tests/common/scene.rs"]
mod scene;

use scene::{to_frame, Scene};
use serde_json::json;
use veil_video::{EncodeOptions, VideoInfo, VideoWriter};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        a.len() >= 2,
        "usage: distant_clip OUT.mp4 FACES.json [FRAMES] [WIDTH HEIGHT]"
    );
    let frames: u32 = a.get(2).map_or(60, |s| s.parse().unwrap());
    let (w, h): (u32, u32) = match (a.get(3), a.get(4)) {
        (Some(w), Some(h)) => (w.parse().unwrap(), h.parse().unwrap()),
        _ => (1920, 1080),
    };
    let scene = Scene::with_scales(w, h, 3.0, &[0.21, 0.28, 0.34, 0.16]);
    let opts = EncodeOptions {
        crf: 16,
        ..EncodeOptions::default()
    };
    let mut wr = VideoWriter::create(&a[0], &VideoInfo::new(w, h, (12, 1)), &opts).unwrap();
    let mut list = Vec::new();
    for n in 0..frames {
        let (img, faces) = scene.frame(n);
        wr.write(&to_frame(&img).as_ref(), i64::from(n)).unwrap();
        let b: Vec<_> = faces
            .iter()
            .map(|b| [b.x.round(), b.y.round(), b.w.round(), b.h.round()])
            .collect();
        list.push(json!({"frame": n, "faces": b}));
    }
    wr.finish().unwrap();
    let doc = json!({"version": 1, "clip": a[0], "width": w, "height": h, "fps": 12,
                     "note": "faces of the group photo copies; boxes are [x, y, w, h] in frame pixels", "frames": list});
    std::fs::write(&a[1], serde_json::to_string(&doc).unwrap()).unwrap();
}
