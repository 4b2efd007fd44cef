//! What the face and person searches cost on a video: every frame searched in full, with and
//! without taking out the camera's own motion, and with the frames between full searches
//! searched only where they changed (a full search every 2nd and every 3rd frame, the
//! default being [`veil_detect::CHANGES_ONLY`] frames between): network input pixels per frame (a measure
//! independent of the machine and its load), frames searched whole at the fine scale,
//! objects found and carried, and time. The analysis uses the changes-only search for faces
//! only (persons are searched in full every frame there); the person figures with it are
//! for comparison.
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
    for (label, compensate, changes_only) in [
        ("full, compensation off", false, 0),
        ("full, compensation on ", true, 0),
        ("full every 2          ", true, 1),
        ("full every 3          ", true, 2),
    ] {
        let mut faces = FaceSearch::new(
            CenterFace::builder().threads(2).build().unwrap(),
            DEFAULT_MIN_FACE,
        )
        .unwrap();
        let mut persons =
            PersonSearch::new(NanoDet::builder().threads(2).build().unwrap(), DEFAULT_MIN_PERSON).unwrap();
        faces.set_motion_compensation(compensate);
        persons.set_motion_compensation(compensate);
        faces.set_changes_only(changes_only);
        persons.set_changes_only(changes_only);
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
                "{label}: {what}: {n} frames, {:.0} knet px/frame, {} whole fine, {} with regions, {} changes only ({} carried), {} compensated, {k} found",
                s.net_pixels as f64 / 1e3 / n.max(1) as f64,
                s.whole_fine,
                s.with_regions,
                s.changes_only,
                s.carried,
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
