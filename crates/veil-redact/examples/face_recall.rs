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
#![allow(clippy::unwrap_used)]

use std::path::Path;

use veil_video::{ReadOptions, VideoReader};

fn luma(path: &Path) -> (u32, Vec<Vec<u8>>) {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let (w, h) = (r.info().width, r.info().height);
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        let p = &v.planes()[0];
        let mut y = Vec::with_capacity((w * h) as usize);
        for row in 0..h {
            y.extend_from_slice(&p.row(row)[..w as usize]);
        }
        out.push(y);
    }
    (w, out)
}

fn down16(y: &[u8], w: u32, b: [f32; 4]) -> Vec<f64> {
    let (x0, y0, bw, bh) = (b[0] as usize, b[1] as usize, b[2] as usize, b[3] as usize);
    (0..256)
        .map(|i| {
            let (cx, cy) = (i % 16, i / 16);
            let (xa, xb) = (x0 + cx * bw / 16, x0 + (cx + 1) * bw / 16);
            let (ya, yb) = (y0 + cy * bh / 16, y0 + (cy + 1) * bh / 16);
            let mut s = 0u64;
            for yy in ya..yb {
                for xx in xa..xb {
                    s += u64::from(y[yy * w as usize + xx]);
                }
            }
            s as f64 / ((xb - xa) * (yb - ya)).max(1) as f64
        })
        .collect()
}

fn detail(v: &[f64]) -> Vec<f64> {
    (0..256)
        .map(|i| {
            let (x, y) = ((i % 16) as i32, (i / 16) as i32);
            let (mut s, mut k) = (0.0, 0.0);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (xx, yy) = (x + dx, y + dy);
                    if (0..16).contains(&xx) && (0..16).contains(&yy) {
                        s += v[(yy * 16 + xx) as usize];
                        k += 1.0;
                    }
                }
            }
            v[i] - s / k
        })
        .collect()
}

fn pearson(p: &[f64], q: &[f64]) -> f64 {
    let n = p.len() as f64;
    let (mp, mq) = (p.iter().sum::<f64>() / n, q.iter().sum::<f64>() / n);
    let (mut c, mut vp, mut vq) = (0.0, 0.0, 0.0);
    for (x, y) in p.iter().zip(q) {
        c += (x - mp) * (y - mq);
        vp += (x - mp) * (x - mp);
        vq += (y - mq) * (y - mq);
    }
    if vp < 1e-9 || vq < 1e-9 {
        return 0.0;
    }
    c / (vp * vq).sqrt()
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        a.len() >= 3,
        "usage: face_recall ORIGINAL REDACTED FACES.json [SCALE]"
    );
    let scale: f32 = a.get(3).map_or(1.0, |s| s.parse().unwrap());
    let (w, orig) = luma(Path::new(&a[0]));
    let (w2, red) = luma(Path::new(&a[1]));
    assert_eq!(w, w2, "frame sizes differ");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&a[2]).unwrap()).unwrap();
    let frames = doc["frames"].as_array().unwrap();
    assert_eq!(orig.len(), frames.len(), "original frame count");
    let n = orig.len().min(red.len());
    let (mut hidden, mut total) = (0u32, 0u32);
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
            if r < 0.9 && d < 0.4 {
                hidden += 1;
            }
        }
    }
    // Frames missing from the output count as not hidden.
    total += ((frames.len() - n) * 6) as u32;
    println!(
        "face recall {:.3} ({hidden}/{total} annotated faces hidden, {} of {} frames)",
        f64::from(hidden) / f64::from(total.max(1)),
        red.len(),
        frames.len()
    );
}
