//! The luma planes of a video, and whether a face region in them is still recognisable: 16x16
//! thumbnails of a box, their detail band and their correlation. Shared by the end-to-end tests (`tests/tests.rs`) and the
//! face-recall measurement of the export benchmark (`examples/face_recall.rs`), so the bench
//! counts a face as redacted by exactly the rule the tests assert.

use std::path::Path;

use veil_video::{ReadOptions, VideoReader};

/// Luma planes of every frame of a video (width, height, planes).
pub fn luma(path: &Path) -> (u32, u32, Vec<Vec<u8>>) {
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
    (w, h, out)
}

/// The region downscaled to 16x16 by area means.
pub fn down16(y: &[u8], w: u32, b: [f32; 4]) -> Vec<f64> {
    let (x0, y0, bw, bh) = (b[0] as usize, b[1] as usize, b[2] as usize, b[3] as usize);
    let mut out = vec![0f64; 256];
    for (i, o) in out.iter_mut().enumerate() {
        let (cx, cy) = (i % 16, i / 16);
        let (xa, xb) = (x0 + cx * bw / 16, x0 + (cx + 1) * bw / 16);
        let (ya, yb) = (y0 + cy * bh / 16, y0 + (cy + 1) * bh / 16);
        let mut s = 0u64;
        for yy in ya..yb {
            for xx in xa..xb {
                s += u64::from(y[yy * w as usize + xx]);
            }
        }
        *o = s as f64 / ((xb - xa) * (yb - ya)).max(1) as f64;
    }
    out
}

pub fn pearson(p: &[f64], q: &[f64]) -> f64 {
    let n = p.len() as f64;
    let (mp, mq) = (p.iter().sum::<f64>() / n, q.iter().sum::<f64>() / n);
    let (mut c, mut vp, mut vq) = (0.0, 0.0, 0.0);
    for (x, y) in p.iter().zip(q) {
        c += (x - mp) * (y - mq);
        vp += (x - mp) * (x - mp);
        vq += (y - mq) * (y - mq);
    }
    if vp < 1e-9 || vq < 1e-9 {
        return 0.0; // a flat region (solid fill) correlates with nothing
    }
    c / (vp * vq).sqrt()
}

/// The detail of a 16x16 thumbnail: each cell minus the mean of its 3x3 neighbourhood. This
/// is the band that holds eyes, nose and mouth at this scale; the coarsest shading (a light
/// face against dark hair) survives any blur that reads the surroundings and identifies no one.
pub fn detail(v: &[f64]) -> Vec<f64> {
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
