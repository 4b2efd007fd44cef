//! The grid of cells a region search works on: marking the cells an object or motion
//! touches, and covering the marked cells with few rectangles that never split a small
//! object (so that every object is seen whole by one detector run).

/// Side of a motion cell in frame pixels.
pub(crate) const CELL: u32 = 16;

/// The cells touched by the box (x0, y0)-(x1, y1) in frame pixels, clipped to the grid:
/// `[c0, r0, c1, r1]`, end exclusive (empty when the box lies outside).
pub(crate) fn span(cols: usize, rows: usize, x0: f32, y0: f32, x1: f32, y1: f32) -> [usize; 4] {
    let cell = CELL as f32;
    [
        (x0 / cell).floor().max(0.0) as usize,
        (y0 / cell).floor().max(0.0) as usize,
        ((x1 / cell).ceil().max(0.0) as usize).min(cols),
        ((y1 / cell).ceil().max(0.0) as usize).min(rows),
    ]
}

/// Mark the cells touched by the box (x0, y0)-(x1, y1) in frame pixels.
pub(crate) fn mark(cells: &mut [bool], cols: usize, rows: usize, x0: f32, y0: f32, x1: f32, y1: f32) {
    let [c0, r0, c1, r1] = span(cols, rows, x0, y0, x1, y1);
    for r in r0..r1 {
        if c0 < c1 {
            cells[r * cols + c0..r * cols + c1].fill(true);
        }
    }
}

/// Rectangles (in cells, end exclusive) that together cover every active cell, with little
/// inactive area: the bounding box of each 8-connected group of active cells, split in two
/// while less than 60% of it is active. The halves of a split overlap by `m` cells, so that
/// anything up to `m` cells tall or wide lies wholly inside one of them.
pub(crate) fn cover(active: &[bool], cols: usize, rows: usize, m: usize) -> Vec<[usize; 4]> {
    let mut seen = vec![false; active.len()];
    let mut boxes: Vec<[usize; 4]> = Vec::new();
    let mut stack = Vec::new();
    for start in 0..active.len() {
        if !active[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut b = [start % cols, start / cols, start % cols + 1, start / cols + 1];
        while let Some(i) = stack.pop() {
            let (c, r) = (i % cols, i / cols);
            b = [b[0].min(c), b[1].min(r), b[2].max(c + 1), b[3].max(r + 1)];
            for (dc, dr) in [
                (-1i64, -1i64),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let (nc, nr) = (c as i64 + dc, r as i64 + dr);
                if nc < 0 || nr < 0 || nc >= cols as i64 || nr >= rows as i64 {
                    continue;
                }
                let j = nr as usize * cols + nc as usize;
                if active[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        boxes.push(b);
    }
    let mut out = Vec::with_capacity(boxes.len());
    for b in boxes {
        split(active, cols, b, m, 0, &mut out);
    }
    // Drop rectangles inside another.
    let inside =
        |a: &[usize; 4], b: &[usize; 4]| a[0] >= b[0] && a[1] >= b[1] && a[2] <= b[2] && a[3] <= b[3];
    let mut keep: Vec<[usize; 4]> = Vec::with_capacity(out.len());
    for (i, a) in out.iter().enumerate() {
        let covered = out
            .iter()
            .enumerate()
            .any(|(j, b)| j != i && inside(a, b) && (a != b || j < i));
        if !covered {
            keep.push(*a);
        }
    }
    keep
}

/// The bounding box of the active cells inside `b`, and how many there are.
fn shrink(active: &[bool], cols: usize, b: [usize; 4]) -> Option<([usize; 4], usize)> {
    let mut out: Option<[usize; 4]> = None;
    let mut n = 0;
    for r in b[1]..b[3] {
        for c in b[0]..b[2] {
            if active[r * cols + c] {
                n += 1;
                out = Some(match out {
                    None => [c, r, c + 1, r + 1],
                    Some(o) => [o[0].min(c), o[1].min(r), o[2].max(c + 1), o[3].max(r + 1)],
                });
            }
        }
    }
    out.map(|o| (o, n))
}

fn split(active: &[bool], cols: usize, b: [usize; 4], m: usize, depth: u32, out: &mut Vec<[usize; 4]>) {
    let Some((b, n)) = shrink(active, cols, b) else {
        return;
    };
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    // Halves overlap by 2m + 1 cells: below that, splitting saves nothing.
    if n * 10 >= w * h * 6 || depth >= 12 || w.max(h) <= 4 * m + 4 {
        out.push(b);
        return;
    }
    let (first, second) = if w >= h {
        let mid = b[0] + w / 2;
        (
            [b[0], b[1], (mid + m + 1).min(b[2]), b[3]],
            [mid.saturating_sub(m).max(b[0]), b[1], b[2], b[3]],
        )
    } else {
        let mid = b[1] + h / 2;
        (
            [b[0], b[1], b[2], (mid + m + 1).min(b[3])],
            [b[0], mid.saturating_sub(m).max(b[1]), b[2], b[3]],
        )
    };
    split(active, cols, first, m, depth + 1, out);
    split(active, cols, second, m, depth + 1, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random active-cell patterns: the rectangles cover every active cell, and any square
    /// of up to `m` cells whose cells are all active lies wholly inside one rectangle.
    #[test]
    fn the_cover_holds_every_active_cell_and_every_small_object() {
        let mut seed = 1u64;
        let mut rnd = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for case in 0..200 {
            let (cols, rows) = (8 + rnd(60) as usize, 8 + rnd(40) as usize);
            let m = 1 + rnd(4) as usize;
            let mut active = vec![false; cols * rows];
            let mut objects = Vec::new();
            for _ in 0..1 + rnd(6) {
                // an object of up to m x m cells, with its dilation as the active area
                let (s, c, r) = (
                    1 + rnd(m as u64) as usize,
                    rnd(cols as u64) as usize,
                    rnd(rows as u64) as usize,
                );
                let (c1, r1) = ((c + s).min(cols), (r + s).min(rows));
                objects.push([c, r, c1, r1]);
                for rr in r.saturating_sub(m)..(r1 + m).min(rows) {
                    for cc in c.saturating_sub(m)..(c1 + m).min(cols) {
                        active[rr * cols + cc] = true;
                    }
                }
            }
            let rects = cover(&active, cols, rows, m);
            for (i, _) in active.iter().enumerate().filter(|(_, &a)| a) {
                let (c, r) = (i % cols, i / cols);
                assert!(
                    rects
                        .iter()
                        .any(|b| b[0] <= c && c < b[2] && b[1] <= r && r < b[3]),
                    "case {case}: cell ({c}, {r}) not covered by {rects:?}"
                );
            }
            for o in objects {
                assert!(
                    rects
                        .iter()
                        .any(|b| b[0] <= o[0] && b[1] <= o[1] && o[2] <= b[2] && o[3] <= b[3]),
                    "case {case}: object {o:?} split between {rects:?}"
                );
            }
        }
    }
}
