//! The regions a [`crate::Search`] runs its detector on: the geometry of the search for one
//! frame size, the motion regions (changed cells and recent small objects grown by the
//! margin, and the sweep bands), the plan of a changes-only search (what to search again and
//! what to carry), and the merging of the detections of several runs of one frame.

use veil_core::{BoxF, FrameRef, PixelFormat, Rect};

use crate::cells::{cover, mark, span, CELL};
use crate::centerface::region_letterbox;
use crate::motion::{Samples, SAMPLES, STEP};
use crate::Detection;

/// Geometry of the search for one frame size.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) cols: usize,
    pub(crate) rows: usize,
    /// Scale of the whole-frame (default) input.
    pub(crate) coarse: f32,
    /// Scale at which an object of the minimum size is `D::NET_MIN_PX` tall.
    pub(crate) fine: f32,
    /// Objects at least this tall are found by the default input alone.
    pub(crate) coarse_min: f32,
    /// Cells to grow active cells by.
    pub(crate) margin: usize,
    /// Network pixels of the default input and of the whole frame at the fine scale.
    pub(crate) coarse_px: u64,
    pub(crate) whole_fine_px: u64,
}

/// The fine-scale regions for the `moved` cells and the `recent` small objects, each grown
/// by the margin and covered with rectangles (the grown cells left in `active`), and the
/// sweep bands `due` (of as many bands as it has).
pub(crate) fn motion_regions<'a>(
    g: &Geometry,
    moved: &[bool],
    due: &[bool],
    recent: impl Iterator<Item = &'a BoxF>,
    active: &mut Vec<bool>,
) -> Vec<Rect> {
    let (cols, rows) = (g.cols, g.rows);
    let mut seed = moved.to_vec();
    // Recent small faces, with half a face of surroundings on every side.
    for b in recent {
        mark(
            &mut seed,
            cols,
            rows,
            b.x - b.w / 2.0,
            b.y - b.h / 2.0,
            b.x + 1.5 * b.w,
            b.y + 1.5 * b.h,
        );
    }
    // Grow by the margin (a square dilation, separable).
    let m = g.margin;
    active.clear();
    active.resize(cols * rows, false);
    let mut horiz = vec![false; cols * rows];
    for r in 0..rows {
        let row = &seed[r * cols..(r + 1) * cols];
        for (c, _) in row.iter().enumerate().filter(|(_, &on)| on) {
            let (a, b) = (c.saturating_sub(m), (c + m).min(cols - 1));
            horiz[r * cols + a..=r * cols + b].fill(true);
        }
    }
    for c in 0..cols {
        for r in 0..rows {
            if horiz[r * cols + c] {
                let (a, b) = (r.saturating_sub(m), (r + m).min(rows - 1));
                for rr in a..=b {
                    active[rr * cols + c] = true;
                }
            }
        }
    }
    let mut rects = cover(active, cols, rows, m);
    // The sweep: the bands of rows due on this frame (one every SWEEP_EVERY frames of
    // the stream, several when searches are further apart), each run of adjacent bands
    // as a rectangle of its own (joined with the others it would span the frame). Bands
    // overlap by one margin, so a face up to the margin tall lies wholly inside one.
    let band = rows.div_ceil(due.len().max(1));
    let half = m.div_ceil(2);
    let mut b = 0;
    while b < due.len() {
        if !due[b] {
            b += 1;
            continue;
        }
        let first = b;
        while b < due.len() && due[b] {
            b += 1;
        }
        let (r0, r1) = ((first * band).min(rows), (b * band).min(rows));
        let band_rect = [0, r0.saturating_sub(half), cols, (r1 + half).min(rows)];
        rects.retain(|r| !(r[1] >= band_rect[1] && r[3] <= band_rect[3]));
        if band_rect[1] < band_rect[3] {
            rects.push(band_rect);
        }
    }
    rects
        .iter()
        .map(|&[c0, r0, c1, r1]| align(g, c0, r0, c1, r1))
        .collect()
}

/// IoU with an object carried by a changes-only search at which a recent small object is
/// taken to be that object (and its surroundings are not searched again).
pub(crate) const CARRIED_IOU: f32 = 0.3;

/// What one frame's search runs.
pub(crate) enum Plan {
    /// The whole frame at the fine scale.
    Whole,
    /// The whole frame at the default size, and these regions at the fine scale.
    Regions(Vec<Rect>),
    /// Only these regions at the fine scale, and the previous frame's objects carried over.
    Changes {
        rects: Vec<Rect>,
        carried: Vec<Detection>,
    },
}

/// Network input pixels of a run over a `w` x `h` region at `scale`.
pub(crate) fn net_px(w: u32, h: u32, scale: f32) -> u64 {
    let lb = region_letterbox(w, h, scale);
    (lb.net_w * lb.net_h) as u64
}

/// The objects of `base` (the previous frame's, searched in full) for a changes-only
/// search (see the module docs), each moved with the camera by `shift` (in samples): for
/// every object that touches a `moved` cell or leaves the frame, a region of its box grown
/// by the margin, to search it again whole; the others carried (moved with the camera), and
/// their boxes as they were in `base`.
pub(crate) fn changes_plan(
    g: &Geometry,
    moved: &[bool],
    shift: (f32, f32),
    base: &[Detection],
) -> (Vec<Rect>, Vec<Detection>, Vec<BoxF>) {
    // Content at (x, y) of the previous frame is at (x - dx, y - dy) now.
    let (ox, oy) = (-shift.0 * STEP as f32, -shift.1 * STEP as f32);
    let (mut resee, mut carried, mut from) = (Vec::new(), Vec::new(), Vec::new());
    for d in base {
        let b = BoxF::new(d.bbox.x + ox, d.bbox.y + oy, d.bbox.w, d.bbox.h);
        let inside = b.x >= 0.0 && b.y >= 0.0 && b.x + b.w <= g.width as f32 && b.y + b.h <= g.height as f32;
        let [c0, r0, c1, r1] = span(g.cols, g.rows, b.x, b.y, b.x + b.w, b.y + b.h);
        let touched = (r0..r1).any(|r| moved[r * g.cols + c0.min(c1)..r * g.cols + c1].iter().any(|&m| m));
        if inside && !touched {
            let mut c = *d;
            c.bbox = b;
            for p in c.landmarks.iter_mut().flatten() {
                p[0] += ox;
                p[1] += oy;
            }
            carried.push(c);
            from.push(d.bbox);
        } else if b.w.max(b.h) <= (g.margin as u32 * CELL) as f32 {
            // Small enough that the motion regions, grown by the margin around every
            // changed cell, hold it whole: no region of its own.
        } else if c0 < c1 && r0 < r1 {
            let m = g.margin;
            resee.push(align(
                g,
                c0.saturating_sub(m).min(g.cols),
                r0.saturating_sub(m).min(g.rows),
                (c1 + m).min(g.cols),
                (r1 + m).min(g.rows),
            ));
        }
    }
    (resee, carried, from)
}

/// Share of a box's area a larger box must cover for [`merge_contained`] to take it as the
/// same object.
const CONTAINED: f32 = 0.6;

/// Merge detections that lie mostly inside a larger one into it (keeping the larger box and
/// the higher score): the runs of one frame at different scales and over different regions
/// can see one face whole and, at a region's edge, in part, and non-maximum suppression by
/// IoU keeps both. A face counted twice would become a second face track over the same
/// person, one not attached to that person's body, and in an inzage export it would redact
/// the requester's own face as a bystander's. The larger box covers the smaller, so no
/// pixel is left less redacted.
pub(crate) fn merge_contained(mut dets: Vec<Detection>) -> Vec<Detection> {
    dets.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
    let mut kept: Vec<Detection> = Vec::with_capacity(dets.len());
    for d in dets {
        let inside = kept
            .iter_mut()
            .find(|k| d.bbox.intersection_area(&k.bbox) >= CONTAINED * d.bbox.area());
        match inside {
            Some(k) => k.score = k.score.max(d.score),
            None => kept.push(d),
        }
    }
    kept.sort_by(|a, b| b.score.total_cmp(&a.score));
    kept
}

/// The frame rectangle of cells c0..c1 x r0..r1: even corner and size (4:2:0 chroma), inside
/// the frame, grown so that its network input has no padding where the frame allows.
pub(crate) fn align(g: &Geometry, c0: usize, r0: usize, c1: usize, r1: usize) -> Rect {
    let axis = |a: usize, b: usize, len: u32| -> (u32, u32) {
        let lo = (a as u32 * CELL).min(len);
        let hi = (b as u32 * CELL).min(len);
        // Grow to a whole number of 32-pixel network blocks.
        let want = ((((hi - lo) as f32 * g.fine) / 32.0).ceil() * 32.0 / g.fine).ceil() as u32;
        let size = want.max(hi - lo).min(len) & !1;
        let mut start = lo.saturating_sub((size - (hi - lo).min(size)) / 2) & !1;
        if start + size > len {
            start = (len - size) & !1;
        }
        (start, size.max(2).min(len - start))
    };
    let (x, w) = axis(c0, c1, g.width);
    let (y, h) = axis(r0, r1, g.height);
    Rect::new(x as i32, y as i32, w, h)
}

/// Luma samples on the motion grid (one per [`STEP`] x [`STEP`] block of pixels, its mean,
/// [`SAMPLES`] per cell side, row-major): the Y plane of 4:2:0 frames and GRAY8, the green
/// channel of packed RGB. Block means rather than single pixels, so that the samples of a
/// panning picture shift smoothly (no aliasing) and sub-sample shifts can be interpolated.
pub(crate) fn sample_luma(frame: &FrameRef<'_>, g: &Geometry, out: &mut Samples) {
    out.w = g.cols * SAMPLES as usize;
    out.h = g.rows * SAMPLES as usize;
    out.data.clear();
    out.data.resize(out.w * out.h, 0);
    let (ch, bpp) = match frame.format() {
        PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Gray8 => (0, 1),
        PixelFormat::Rgba => (1, 4),
        _ => (1, 3),
    };
    let p = &frame.planes()[0];
    let step = STEP as usize;
    let mut sums = vec![0u32; out.w];
    for sy in 0..out.h {
        sums.fill(0);
        for dy in 0..step {
            let row = p.row(((sy * step + dy) as u32).min(g.height - 1));
            for (sx, sum) in sums.iter_mut().enumerate() {
                for dx in 0..step {
                    let x = (sx * step + dx).min(g.width as usize - 1);
                    *sum += u32::from(row[x * bpp + ch]);
                }
            }
        }
        let n = (step * step) as u32;
        for (o, s) in out.data[sy * out.w..(sy + 1) * out.w].iter_mut().zip(&sums) {
            *o = ((s + n / 2) / n) as u8;
        }
    }
}
