//! What the face and person searches cost on a video, with and without taking out the
//! camera's own motion: network input pixels per frame (a measure independent of the
//! machine and its load), frames searched whole at the fine scale, and time.
//! `cargo run -p veil-redact --release --example search_cost -- VIDEO [frames]`
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use veil_detect::{
    CenterFace, Detector, FaceSearch, NanoDet, PersonSearch, DEFAULT_MIN_FACE, DEFAULT_MIN_PERSON,
};
use veil_video::{ReadOptions, VideoReader};

fn main() {
    let input = std::env::args()
        .nth(1)
        .expect("usage: search_cost VIDEO [frames]");
    let frames: u64 = std::env::args().nth(2).map_or(u64::MAX, |s| s.parse().unwrap());
    for compensate in [false, true] {
        let mut faces = FaceSearch::new(
            CenterFace::builder().threads(2).build().unwrap(),
            DEFAULT_MIN_FACE,
        )
        .unwrap();
        let mut persons =
            PersonSearch::new(NanoDet::builder().threads(2).build().unwrap(), DEFAULT_MIN_PERSON).unwrap();
        faces.set_motion_compensation(compensate);
        persons.set_motion_compensation(compensate);
        let mut reader = VideoReader::open(&input, &ReadOptions::default()).unwrap();
        let (mut n, mut found) = (0u64, (0usize, 0usize));
        let t = Instant::now();
        while n < frames {
            let Some(f) = reader.next_frame().unwrap() else {
                break;
            };
            let view = f.frame_ref().unwrap();
            found.0 += faces.detect(&view).unwrap().len();
            found.1 += persons.detect(&view).unwrap().len();
            n += 1;
        }
        let secs = t.elapsed().as_secs_f64();
        for (what, s, k) in [
            ("faces", faces.stats(), found.0),
            ("persons", persons.stats(), found.1),
        ] {
            println!(
                "compensation {}: {what}: {n} frames, {:.0} knet px/frame, {} whole fine, {} with regions, {} compensated, {k} found",
                if compensate { "on " } else { "off" },
                s.net_pixels as f64 / 1e3 / n.max(1) as f64,
                s.whole_fine,
                s.with_regions,
                s.compensated
            );
        }
        println!(
            "  {:.1} s for both ({:.2} fps, shared machine: indicative only)",
            secs,
            n as f64 / secs
        );
    }
}
