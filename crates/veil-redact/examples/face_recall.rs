//! Face recall of a redacted clip against the hand annotations of fixtures/inzage: the
//! fraction of annotated (frame, face) pairs that are no longer recognisable, with the same
//! criterion as the tests (16x16 thumbnail correlation with the original below 0.9 and its
//! detail band below 0.4). Works for any redactor's output (Veil, deface) with the same
//! frame count as the original.
//!
//! ```text
//! cargo run --release -p veil-redact --example face_recall -- ORIGINAL REDACTED FACES.json [SCALE]
//! ```
//! SCALE multiplies the annotated boxes (1.5 for the 1080p upscale of the 720p clip).
//! With `VEIL_RECALL_MISSES=1` every face still recognisable is named on stderr (frame, box,
//! thumbnail correlation and detail-band correlation).
#![allow(clippy::unwrap_used)]

use std::path::Path;

#[path = "../tests/support/thumb.rs"]
mod thumb;
use thumb::{detail, down16, luma, pearson};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        a.len() >= 3,
        "usage: face_recall ORIGINAL REDACTED FACES.json [SCALE]"
    );
    let scale: f32 = a.get(3).map_or(1.0, |s| s.parse().unwrap());
    // VEIL_RECALL_MISSES=1: name every annotated face that is still recognisable (stderr).
    let show_misses = std::env::var_os("VEIL_RECALL_MISSES").is_some_and(|v| v == "1");
    let (w, _, orig) = luma(Path::new(&a[0]));
    let (w2, _, red) = luma(Path::new(&a[1]));
    assert_eq!(w, w2, "frame sizes differ");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&a[2]).unwrap()).unwrap();
    let frames = doc["frames"].as_array().unwrap();
    assert_eq!(orig.len(), frames.len(), "original frame count");
    let n = orig.len().min(red.len());
    let (mut hidden, mut total) = (0u32, 0u32);
    // By face height: 16-24, 24-32, 32-48, 48+ px (and under 16).
    let bins = [
        (0.0, 16.0, "<16"),
        (16.0, 24.0, "16-24"),
        (24.0, 32.0, "24-32"),
        (32.0, 48.0, "32-48"),
        (48.0, f32::MAX, "48+"),
    ];
    let mut by_size = [(0u32, 0u32); 5];
    for (k, f) in frames.iter().enumerate().take(n) {
        for b in f["faces"].as_array().unwrap() {
            let b: Vec<f32> = b
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32 * scale)
                .collect();
            let b = [b[0], b[1], b[2], b[3]];
            let (p, q) = (down16(&orig[k], w, b), down16(&red[k], w, b));
            let (r, d) = (pearson(&p, &q), pearson(&detail(&p), &detail(&q)));
            total += 1;
            let bin = bins
                .iter()
                .position(|&(lo, hi, _)| b[3] >= lo && b[3] < hi)
                .unwrap_or(4);
            by_size[bin].1 += 1;
            if show_misses && !(r < 0.9 && d < 0.4) {
                eprintln!("not hidden: frame {k}, box {b:?}, correlation {r:.3}, detail {d:.3}");
            }
            if r < 0.9 && d < 0.4 {
                hidden += 1;
                by_size[bin].0 += 1;
            }
        }
    }
    // Frames missing from the output count as not hidden.
    total += frames[n..]
        .iter()
        .map(|f| f["faces"].as_array().map_or(0, Vec::len) as u32)
        .sum::<u32>();
    println!(
        "face recall {:.3} ({hidden}/{total} annotated faces hidden, {} of {} frames)",
        f64::from(hidden) / f64::from(total.max(1)),
        red.len(),
        frames.len()
    );
    let sizes: serde_json::Map<String, serde_json::Value> = bins
        .iter()
        .zip(by_size)
        .filter(|(_, (_, t))| *t > 0)
        .map(|(&(_, _, name), (h, t))| (name.to_owned(), serde_json::json!([h, t])))
        .collect();
    println!("by size {}", serde_json::Value::Object(sizes));
}
