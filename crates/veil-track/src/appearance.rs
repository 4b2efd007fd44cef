//! Non-biometric appearance descriptors of person detections: what a person wears, not who
//! they are.
//!
//! A descriptor holds the colour distribution of the torso and of the legs of a person box
//! (hue in 8 soft bins at two lightness levels, plus 4 grey levels for unsaturated pixels) and
//! a coarse texture measure of each (mean luma difference between neighbouring samples). The
//! head (the top fifth of the box) and the box's side margins are left out on purpose: the
//! descriptor is computed from clothing only, never from a face, and it is no face template
//! (see SECURITY.md, "Appearance cues"). Descriptors live in memory for the analysis and are
//! never written to the tracks file.
//!
//! The cost is a fixed grid of at most [`GRID_W`] x [`GRID_H`] samples per body half,
//! whatever the box size, so a few microseconds per person.

use veil_core::{BoxF, FrameRef, PixelFormat};

/// Bins of one region's colour histogram: 8 hues x 2 lightness levels, then 4 grey levels.
const BINS: usize = 20;
/// Values in a descriptor: two histograms and two texture values per region.
const DIM: usize = 2 * BINS + 4;
/// Sample columns per region.
pub const GRID_W: u32 = 12;
/// Sample rows per region.
pub const GRID_H: u32 = 16;
/// Chroma magnitude (in 8-bit Cb/Cr units) below which a pixel counts as grey.
const GREY_CHROMA: f32 = 14.0;
/// Fraction of the box height above which nothing is sampled (the head).
const TOP: f32 = 0.2;
/// Boundary between torso and legs, as a fraction of the box height.
const WAIST: f32 = 0.55;
/// Bottom of the sampled legs (feet are often cut or merged with the floor).
const BOTTOM: f32 = 0.95;
/// Left and right margin of the sampled columns (background beside the body).
const SIDE: f32 = 0.2;
/// Smallest box (pixels) that yields a descriptor: smaller boxes hold too few body pixels.
const MIN_SIDE: f32 = 8.0;

/// The part of a person box that [`Appearance::from_frame`] samples: the torso and legs,
/// without the head and the side margins. Another box reaching into this part spoils the
/// descriptor; one that only grazes the sides of the box does not.
pub(crate) fn sampled_region(bbox: &BoxF) -> BoxF {
    BoxF::new(
        bbox.x + SIDE * bbox.w,
        bbox.y + TOP * bbox.h,
        (1.0 - 2.0 * SIDE) * bbox.w,
        (BOTTOM - TOP) * bbox.h,
    )
}

/// A compact, non-biometric appearance descriptor of one person detection (clothing colour
/// and coarse texture of the torso and legs). Compare two with [`Appearance::distance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Appearance {
    v: [f32; DIM],
}

impl Appearance {
    /// The descriptor of the person in `bbox` (frame pixels) of `frame`, or `None` when the
    /// box is too small or lies (mostly) outside the frame.
    pub fn from_frame(frame: &FrameRef<'_>, bbox: BoxF) -> Option<Appearance> {
        if !(bbox.w >= MIN_SIDE && bbox.h >= 2.0 * MIN_SIDE) {
            return None;
        }
        let mut v = [0f32; DIM];
        for (r, (a, b)) in [(TOP, WAIST), (WAIST, BOTTOM)].into_iter().enumerate() {
            let region = [
                bbox.x + SIDE * bbox.w,
                bbox.y + a * bbox.h,
                bbox.x + (1.0 - SIDE) * bbox.w,
                bbox.y + b * bbox.h,
            ];
            // A region mostly outside the frame says too little about the person.
            let inside = sample_region(frame, region, &mut v[r * BINS..(r + 1) * BINS]);
            if inside * 2 < (region[3] - region[1]).max(0.0) as usize {
                return None;
            }
            let t = texture(frame, region);
            v[2 * BINS + 2 * r] = t[0];
            v[2 * BINS + 2 * r + 1] = t[1];
        }
        Some(Appearance { v })
    }

    /// How different two people look, from 0 (same clothing) to 1 (nothing in common):
    /// the mean Hellinger distance of the two regions' colour histograms, weighted 0.85, plus
    /// the mean absolute difference of their texture values, weighted 0.15.
    pub fn distance(&self, o: &Appearance) -> f32 {
        let mut hell = 0.0;
        for r in 0..2 {
            let s = r * BINS;
            let bc: f32 = (s..s + BINS).map(|i| (self.v[i] * o.v[i]).sqrt()).sum();
            hell += (1.0 - bc.min(1.0)).max(0.0).sqrt();
        }
        let tex: f32 = (2 * BINS..DIM).map(|i| (self.v[i] - o.v[i]).abs()).sum::<f32>() / 4.0;
        0.85 * hell / 2.0 + 0.15 * tex.min(1.0)
    }
}

/// A running mean of descriptors (a tracklet's appearance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppearanceMean {
    sum: [f32; DIM],
    n: u32,
}

impl Default for AppearanceMean {
    fn default() -> Self {
        AppearanceMean {
            sum: [0.0; DIM],
            n: 0,
        }
    }
}

impl AppearanceMean {
    /// Add one descriptor.
    pub fn add(&mut self, a: &Appearance) {
        for (s, v) in self.sum.iter_mut().zip(&a.v) {
            *s += v;
        }
        self.n = self.n.saturating_add(1);
    }

    /// Descriptors added.
    pub fn count(&self) -> u32 {
        self.n
    }

    /// The mean descriptor, if any was added.
    pub fn mean(&self) -> Option<Appearance> {
        (self.n > 0).then(|| {
            let k = 1.0 / self.n as f32;
            let mut v = self.sum;
            for x in &mut v {
                *x *= k;
            }
            Appearance { v }
        })
    }
}

/// (Y, Cb, Cr) of pixel `(x, y)`, which the caller has clamped into the frame.
#[inline]
fn ycc(f: &FrameRef<'_>, x: u32, y: u32) -> (f32, f32, f32) {
    let p = f.planes();
    let rgb = |r: u8, g: u8, b: u8| {
        let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
        let yy = 0.299 * r + 0.587 * g + 0.114 * b;
        (yy, 128.0 + 0.564 * (b - yy), 128.0 + 0.713 * (r - yy))
    };
    let (xu, yu) = (x as usize, y);
    match f.format() {
        PixelFormat::I420 => (
            f32::from(p[0].row(y)[xu]),
            f32::from(p[1].row(yu / 2)[xu / 2]),
            f32::from(p[2].row(yu / 2)[xu / 2]),
        ),
        PixelFormat::Nv12 => {
            let uv = p[1].row(yu / 2);
            (
                f32::from(p[0].row(y)[xu]),
                f32::from(uv[2 * (xu / 2)]),
                f32::from(uv[2 * (xu / 2) + 1]),
            )
        }
        PixelFormat::Rgb24 => {
            let r = &p[0].row(y)[3 * xu..3 * xu + 3];
            rgb(r[0], r[1], r[2])
        }
        PixelFormat::Bgr24 => {
            let r = &p[0].row(y)[3 * xu..3 * xu + 3];
            rgb(r[2], r[1], r[0])
        }
        PixelFormat::Rgba => {
            let r = &p[0].row(y)[4 * xu..4 * xu + 3];
            rgb(r[0], r[1], r[2])
        }
        PixelFormat::Gray8 => (f32::from(p[0].row(y)[xu]), 128.0, 128.0),
    }
}

/// Luma of pixel `(x, y)` (in the frame).
#[inline]
fn luma(f: &FrameRef<'_>, x: u32, y: u32) -> f32 {
    match f.format() {
        PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Gray8 => {
            f32::from(f.planes()[0].row(y)[x as usize])
        }
        _ => ycc(f, x, y).0,
    }
}

/// The sample grid of a region `[x0, y0, x1, y1]` clipped to the frame: column and row
/// coordinates, or `None` if nothing of it is inside.
fn grid(
    f: &FrameRef<'_>,
    r: [f32; 4],
) -> Option<([u32; GRID_W as usize], usize, [u32; GRID_H as usize], usize)> {
    let (w, h) = (f.width() as f32, f.height() as f32);
    let (x0, y0) = (r[0].max(0.0), r[1].max(0.0));
    let (x1, y1) = (r[2].min(w), r[3].min(h));
    if !(x1 - x0 >= 2.0 && y1 - y0 >= 2.0) {
        return None;
    }
    let mut xs = [0u32; GRID_W as usize];
    let mut ys = [0u32; GRID_H as usize];
    // Sample centres of equal cells; a region narrower than the grid repeats columns.
    for (i, x) in xs.iter_mut().enumerate() {
        let c = x0 + (i as f32 + 0.5) * (x1 - x0) / GRID_W as f32;
        *x = (c as u32).min(f.width() - 1);
    }
    for (i, y) in ys.iter_mut().enumerate() {
        let c = y0 + (i as f32 + 0.5) * (y1 - y0) / GRID_H as f32;
        *y = (c as u32).min(f.height() - 1);
    }
    Some((xs, xs.len(), ys, ys.len()))
}

/// Accumulate the normalised colour histogram of a region into `hist`; returns how many
/// rows of the region lie inside the frame (0 if none).
fn sample_region(f: &FrameRef<'_>, r: [f32; 4], hist: &mut [f32]) -> usize {
    let Some((xs, nx, ys, ny)) = grid(f, r) else {
        return 0;
    };
    let rows_inside = (r[3].min(f.height() as f32) - r[1].max(0.0)).max(0.0) as usize;
    for &y in &ys[..ny] {
        for &x in &xs[..nx] {
            let (l, cb, cr) = ycc(f, x, y);
            let (u, v) = (cb - 128.0, cr - 128.0);
            let c = (u * u + v * v).sqrt();
            if c < GREY_CHROMA {
                let g = ((l / 64.0) as usize).min(3);
                hist[16 + g] += 1.0;
            } else {
                // Soft hue: split the sample between the two nearest of 8 hue bins.
                let a = v.atan2(u); // -pi..pi
                let t = (a / std::f32::consts::TAU + 1.0) * 8.0; // 0..16 (wraps at 8)
                let t = t % 8.0;
                let i0 = t as usize % 8;
                let i1 = (i0 + 1) % 8;
                let w1 = t - t.floor();
                let lvl = if l < 110.0 { 0 } else { 8 };
                hist[lvl + i0] += 1.0 - w1;
                hist[lvl + i1] += w1;
            }
        }
    }
    let n = nx * ny;
    let k = 1.0 / n as f32;
    for b in hist.iter_mut() {
        *b *= k;
    }
    rows_inside
}

/// Coarse texture of a region: mean absolute luma difference between horizontally and
/// vertically neighbouring samples, scaled to 0..1 (64 grey levels = 1).
fn texture(f: &FrameRef<'_>, r: [f32; 4]) -> [f32; 2] {
    let Some((xs, nx, ys, ny)) = grid(f, r) else {
        return [0.0; 2];
    };
    let (mut dh, mut dv) = (0.0f32, 0.0f32);
    let mut prev_row = [0f32; GRID_W as usize];
    for (j, &y) in ys[..ny].iter().enumerate() {
        let mut prev = 0.0;
        for (i, &x) in xs[..nx].iter().enumerate() {
            let l = luma(f, x, y);
            if i > 0 {
                dh += (l - prev).abs();
            }
            if j > 0 {
                dv += (l - prev_row[i]).abs();
            }
            prev = l;
            prev_row[i] = l;
        }
    }
    let nh = ((nx - 1) * ny).max(1) as f32;
    let nv = (nx * (ny - 1)).max(1) as f32;
    [(dh / nh / 64.0).min(1.0), (dv / nv / 64.0).min(1.0)]
}
