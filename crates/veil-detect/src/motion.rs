//! Which cells of the frame moved since the previous frame, with the camera's own motion
//! taken out.
//!
//! A static CCTV camera sees motion only where something moves. A camera that pans (a PTZ
//! camera on tour, a handheld or vehicle camera) moves the whole picture, and a plain
//! per-cell difference then marks every cell. [`MotionGrid`] keeps luma samples on a grid
//! (every [`STEP`] pixels), estimates the global translation between two frames (an
//! integer search on a coarser grid, refined to a quarter of a sample with bilinear
//! interpolation), and compares each cell with where its content was in the previous frame.
//! Cells whose content came from outside the previous frame count as moved. When no
//! translation explains the change clearly better than none, nothing is compensated: a
//! lighting change or a zoom still marks every cell, and the search falls back to the whole
//! frame (never less searched than without compensation).

/// Pixels between two samples, and samples per cell side.
pub(crate) const STEP: u32 = 4;
/// Luma samples per cell side.
pub(crate) const SAMPLES: u32 = 4;
/// A cell moved when the mean absolute difference of its samples exceeds this many levels
/// (compression noise of a CRF 18-28 stream stays below 3).
const MOTION_LEVEL: f32 = 6.0;
/// Largest camera motion searched for, in samples per frame (x [`STEP`] pixels).
const MAX_SHIFT: i32 = 10;
/// A translation is used only when it lowers the mean difference to this fraction of the
/// unshifted one or less.
const CLEAR_GAIN: f32 = 0.6;

/// Luma samples of one frame on the motion grid, row-major.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) data: Vec<u8>,
}

impl Samples {
    fn at(&self, x: usize, y: usize) -> f32 {
        f32::from(self.data[y * self.w + x])
    }

    /// The lowest and highest of the (up to four) samples around (x, y) in sample units: the
    /// range any sub-sample position between them can take. `None` outside the grid.
    fn bracket(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        if x < 0.0 || y < 0.0 || x > (self.w - 1) as f32 || y > (self.h - 1) as f32 {
            return None;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let v = [self.at(x0, y0), self.at(x1, y0), self.at(x0, y1), self.at(x1, y1)];
        Some((
            v.iter().copied().fold(f32::MAX, f32::min),
            v.iter().copied().fold(f32::MIN, f32::max),
        ))
    }
}

/// The range of `i` in `0..n` (stepping by `stride`) whose source `i + d` lies in
/// `0..=n - 1 - edge` (`edge` 1 when the source is interpolated with its next sample).
fn overlap(n: usize, d: f32, edge: usize) -> (usize, usize) {
    let last = (n - 1 - edge) as f32;
    let lo = (-d).ceil().max(0.0) as usize;
    let hi = ((last - d).floor() + 1.0).clamp(0.0, n as f32) as usize;
    (lo, hi.max(lo))
}

/// Mean absolute difference between `cur` and `prev` displaced by (dx, dy) samples, over
/// every `stride`-th sample in both directions; `None` when less than a quarter of the
/// frame overlaps.
fn mean_diff(prev: &Samples, cur: &Samples, dx: f32, dy: f32, stride: usize) -> Option<f32> {
    let whole = dx.fract() == 0.0 && dy.fract() == 0.0;
    let edge = usize::from(!whole);
    let (x0, x1) = overlap(cur.w, dx, edge);
    let (y0, y1) = overlap(cur.h, dy, edge);
    let (mut sum, mut n) = (0.0f32, 0u32);
    if whole {
        let (ix, iy) = (dx as isize, dy as isize);
        for y in (y0..y1).step_by(stride) {
            let c = &cur.data[y * cur.w..(y + 1) * cur.w];
            let py = (y as isize + iy) as usize;
            let p = &prev.data[py * prev.w..(py + 1) * prev.w];
            for x in (x0..x1).step_by(stride) {
                sum += f32::from(c[x].abs_diff(p[(x as isize + ix) as usize]));
                n += 1;
            }
        }
    } else {
        let (fx, fy) = (dx - dx.floor(), dy - dy.floor());
        let (ix, iy) = (dx.floor() as isize, dy.floor() as isize);
        let w = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
        for y in (y0..y1).step_by(stride) {
            let c = &cur.data[y * cur.w..(y + 1) * cur.w];
            let py = (y as isize + iy) as usize;
            let (p0, p1) = (&prev.data[py * prev.w..], &prev.data[(py + 1) * prev.w..]);
            for x in (x0..x1).step_by(stride) {
                let px = (x as isize + ix) as usize;
                let v = w[0] * f32::from(p0[px])
                    + w[1] * f32::from(p0[px + 1])
                    + w[2] * f32::from(p1[px])
                    + w[3] * f32::from(p1[px + 1]);
                sum += (f32::from(c[x]) - v).abs();
                n += 1;
            }
        }
    }
    let total = (cur.w.div_ceil(stride) * cur.h.div_ceil(stride)) as u32;
    (n > 0 && 4 * n >= total).then(|| sum / n as f32)
}

/// Stride of the whole-sample search, in samples, both ways.
const COARSE: usize = 4;

/// The samples of one frame split by column phase: row `y` of phase `p` holds the samples
/// at `x = p, p + COARSE, p + 2 * COARSE, ...`, so that every [`COARSE`]-th sample of a row
/// from any starting column is one contiguous slice (which the compiler vectorises).
struct Phases<'a> {
    src: &'a Samples,
    /// Columns of each phase's rows.
    cols: [usize; COARSE],
    /// Phase `p`'s rows, `cols[p]` samples each.
    rows: [Vec<u8>; COARSE],
}

impl<'a> Phases<'a> {
    fn of(src: &'a Samples) -> Self {
        let cols: [usize; COARSE] = std::array::from_fn(|p| src.w.saturating_sub(p).div_ceil(COARSE));
        let rows = std::array::from_fn(|p| {
            let mut v = Vec::with_capacity(cols[p] * src.h);
            for row in src.data.chunks_exact(src.w.max(1)) {
                v.extend(row.iter().skip(p).step_by(COARSE));
            }
            v
        });
        Phases { src, cols, rows }
    }

    /// `n` samples of row `y` from column `x` on, every [`COARSE`]-th.
    fn run(&self, x: usize, y: usize, n: usize) -> &[u8] {
        let p = x % COARSE;
        let start = y * self.cols[p] + x / COARSE;
        &self.rows[p][start..start + n]
    }
}

/// [`mean_diff`] at a whole-sample shift and stride [`COARSE`], the same value (integer
/// sums, exact in `f32` for any frame up to 8K), on contiguous runs of samples.
fn coarse_diff(prev: &Phases<'_>, cur: &Phases<'_>, dx: i32, dy: i32) -> Option<f32> {
    let (w, h) = (cur.src.w, cur.src.h);
    let (x0, x1) = overlap(w, dx as f32, 0);
    let (y0, y1) = overlap(h, dy as f32, 0);
    let n_x = (x1 - x0).div_ceil(COARSE);
    let px0 = (x0 as isize + dx as isize) as usize;
    let (mut sum, mut n) = (0u64, 0u64);
    if n_x > 0 {
        for y in (y0..y1).step_by(COARSE) {
            let py = (y as isize + dy as isize) as usize;
            let c = cur.run(x0, y, n_x);
            let p = prev.run(px0, py, n_x);
            sum += c
                .iter()
                .zip(p)
                .map(|(a, b)| u32::from(a.abs_diff(*b)))
                .sum::<u32>() as u64;
            n += n_x as u64;
        }
    }
    let total = (w.div_ceil(COARSE) * h.div_ceil(COARSE)) as u64;
    (n > 0 && 4 * n >= total).then(|| sum as f32 / n as f32)
}

/// The best shift among `(bx, by) + (i, j) * step` for `i, j` in `-1..=1`, by
/// [`mean_diff`] at `stride`, starting from `best`.
fn refine(prev: &Samples, cur: &Samples, best: (f32, f32, f32), step: f32, stride: usize) -> (f32, f32, f32) {
    let (_, bx, by) = best;
    let mut out = best;
    for j in -1..=1 {
        for i in -1..=1 {
            let (dx, dy) = (bx + i as f32 * step, by + j as f32 * step);
            if let Some(d) = mean_diff(prev, cur, dx, dy, stride) {
                if d < out.0 {
                    out = (d, dx, dy);
                }
            }
        }
    }
    out
}

/// The camera's translation from `prev` to `cur` in samples: content at (x, y) in `cur` was
/// at (x + dx, y + dy) in `prev`, to a quarter of a sample. (0, 0) unless a translation is
/// clearly better than none.
pub(crate) fn global_shift(prev: &Samples, cur: &Samples) -> (f32, f32) {
    if prev.w != cur.w || prev.h != cur.h || cur.w < 8 || cur.h < 8 {
        return (0.0, 0.0);
    }
    let Some(still) = mean_diff(prev, cur, 0.0, 0.0, 2) else {
        return (0.0, 0.0);
    };
    if still <= MOTION_LEVEL / 2.0 {
        return (0.0, 0.0); // nothing much moved at all
    }
    // Whole samples on every fourth sample, then half and quarter samples on every second.
    let (pp, cp) = (Phases::of(prev), Phases::of(cur));
    let mut best = (f32::MAX, 0.0f32, 0.0f32);
    for dy in -MAX_SHIFT..=MAX_SHIFT {
        for dx in -MAX_SHIFT..=MAX_SHIFT {
            if let Some(d) = coarse_diff(&pp, &cp, dx, dy) {
                if d < best.0 {
                    best = (d, dx as f32, dy as f32);
                }
            }
        }
    }
    let start = (
        mean_diff(prev, cur, best.1, best.2, 2).unwrap_or(f32::MAX),
        best.1,
        best.2,
    );
    let fine = refine(prev, cur, refine(prev, cur, start, 0.5, 2), 0.25, 2);
    if fine.0 <= CLEAR_GAIN * still {
        (fine.1, fine.2)
    } else {
        (0.0, 0.0)
    }
}

/// Per cell (`cols` x `rows`, [`SAMPLES`] samples a side): whether its content changed
/// between `prev` and `cur` once the camera's translation `(dx, dy)` is taken out (the mean
/// difference of its samples exceeds the motion level). Content that was outside the
/// previous frame counts as changed. For a shift between samples, a sample's difference is
/// its distance outside the range of the four samples around its source (interpolating a
/// detailed picture at a sub-sample shift errs by up to that range; new content falls
/// outside it); on whole samples (a still camera) it is the plain difference.
pub(crate) fn moved_cells(
    prev: &Samples,
    cur: &Samples,
    (dx, dy): (f32, f32),
    cols: usize,
    rows: usize,
) -> Vec<bool> {
    let s = SAMPLES as usize;
    let whole = dx.fract() == 0.0 && dy.fract() == 0.0;
    let mut out = vec![false; cols * rows];
    for r in 0..rows {
        for c in 0..cols {
            let mut sum = 0.0f32;
            let mut outside = false;
            for y in r * s..((r + 1) * s).min(cur.h) {
                for x in c * s..((c + 1) * s).min(cur.w) {
                    let (sx, sy) = (x as f32 + dx, y as f32 + dy);
                    // On the grid (a still camera, or a pan of whole samples): the plain
                    // difference. Between samples: how far the value lies outside the range
                    // of the four samples around its source, which an interpolation error
                    // cannot leave but new content does.
                    let range = if whole {
                        prev.bracket(sx, sy).map(|_| {
                            let p = prev.at(sx as usize, sy as usize);
                            (p, p)
                        })
                    } else {
                        prev.bracket(sx, sy)
                    };
                    match range {
                        Some((lo, hi)) => {
                            let v = cur.at(x, y);
                            sum += (lo - v).max(v - hi).max(0.0);
                        }
                        None => outside = true,
                    }
                }
            }
            out[r * cols + c] = outside || sum > MOTION_LEVEL * (s * s) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured grid, displaced by (ox, oy) samples (content at x is pattern(x + ox)).
    fn grid(w: usize, h: usize, ox: f32, oy: f32) -> Samples {
        let pattern = |x: f32, y: f32| {
            let v = 128.0 + 60.0 * (x * 0.37).sin() * (y * 0.23).cos() + 40.0 * ((x + 2.0 * y) * 0.11).sin();
            v.clamp(0.0, 255.0) as u8
        };
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(pattern(x as f32 + ox, y as f32 + oy));
            }
        }
        Samples { w, h, data }
    }

    #[test]
    fn a_pan_is_found_and_taken_out() {
        let prev = grid(120, 68, 0.0, 0.0);
        for (dx, dy) in [(3.0f32, 0.0f32), (-2.5, 1.0), (0.75, -4.25)] {
            let cur = grid(120, 68, dx, dy);
            let (ex, ey) = global_shift(&prev, &cur);
            assert!(
                (ex - dx).abs() <= 0.25 && (ey - dy).abs() <= 0.25,
                "({dx}, {dy}) estimated ({ex}, {ey})"
            );
            let moved = moved_cells(&prev, &cur, (ex, ey), 30, 17);
            // Only cells whose content came from outside the previous frame moved.
            let inner = moved
                .iter()
                .enumerate()
                .filter(|&(i, &m)| {
                    let (c, r) = (i % 30, i / 30);
                    m && (2..28).contains(&c) && (2..15).contains(&r)
                })
                .count();
            assert_eq!(inner, 0, "({dx}, {dy}): {inner} inner cells marked");
            assert!(
                moved.iter().any(|&m| m),
                "({dx}, {dy}): the entering edge is marked"
            );
            // Without compensation nearly every cell would count as moved.
            let plain = moved_cells(&prev, &cur, (0.0, 0.0), 30, 17);
            assert!(plain.iter().filter(|&&m| m).count() > 30 * 17 / 2);
        }
    }

    #[test]
    fn an_object_moving_over_a_panning_scene_stays_marked() {
        let prev = grid(120, 68, 0.0, 0.0);
        let mut cur = grid(120, 68, 2.0, 0.0);
        // A bright square (cells 10..12 x 6..8) appears in the current frame only.
        for y in 24..32 {
            for x in 40..48 {
                cur.data[y * 120 + x] = 250;
            }
        }
        let shift = global_shift(&prev, &cur);
        assert!(
            (shift.0 - 2.0).abs() <= 0.25 && shift.1.abs() <= 0.25,
            "{shift:?}"
        );
        let moved = moved_cells(&prev, &cur, shift, 30, 17);
        for r in 6..8 {
            for c in 10..12 {
                assert!(moved[r * 30 + c], "cell ({c}, {r}) holds the new object");
            }
        }
    }

    #[test]
    fn a_lighting_change_is_not_explained_away() {
        let prev = grid(120, 68, 0.0, 0.0);
        let mut cur = prev.clone();
        for v in &mut cur.data {
            *v = v.saturating_add(40);
        }
        assert_eq!(global_shift(&prev, &cur), (0.0, 0.0));
        let moved = moved_cells(&prev, &cur, (0.0, 0.0), 30, 17);
        assert!(moved.iter().all(|&m| m), "every cell changed");
    }

    #[test]
    fn coarse_diff_equals_mean_diff_at_every_whole_shift() {
        // Odd sizes, so that the phases have different lengths and the overlaps start at
        // every column phase.
        for (w, h) in [(121usize, 69usize), (8, 8), (33, 9), (320, 180)] {
            let prev = grid(w, h, 0.0, 0.0);
            let mut cur = grid(w, h, 1.7, -0.6);
            cur.data[w * h / 2] = 255;
            let (pp, cp) = (Phases::of(&prev), Phases::of(&cur));
            for dy in -MAX_SHIFT..=MAX_SHIFT {
                for dx in -MAX_SHIFT..=MAX_SHIFT {
                    let want = mean_diff(&prev, &cur, dx as f32, dy as f32, COARSE);
                    let got = coarse_diff(&pp, &cp, dx, dy);
                    assert_eq!(
                        got.map(f32::to_bits),
                        want.map(f32::to_bits),
                        "{w}x{h} shift ({dx}, {dy}): {got:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_still_scene_stays_still() {
        let prev = grid(120, 68, 0.0, 0.0);
        assert_eq!(global_shift(&prev, &prev.clone()), (0.0, 0.0));
        assert!(moved_cells(&prev, &prev, (0.0, 0.0), 30, 17).iter().all(|&m| !m));
    }
}
