//! Rasterisation of zones and boxes into row spans, computed once per frame geometry.
//!
//! Rule: a pixel is inside a polygon when its centre `(x + 0.5, y + 0.5)` is inside (even-odd
//! rule, so concave and self-intersecting outlines work). For 4:2:0 chroma, a chroma sample is
//! masked when any of the four luma pixels it covers is redacted, so no colour of a zone
//! survives.
//!
//! Shapes come in prioritised [`Layer`]s: each pixel takes the action of the last layer that
//! covers it. A [`Action::Keep`] layer protects its pixels from the layers before it (an
//! inzage requester's body) and is itself overridden by later layers (bystander faces).

use crate::error::FrameError;
use crate::format::PixelFormat;
use crate::frame::validate_size;
use crate::geometry::{Geometry, Polygon, Rect};
use crate::style::Redaction;

/// A shape to rasterise.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A polygon in normalised (0..1) coordinates.
    Polygon(Polygon),
    /// A rectangle in luma pixels (clamped to the frame).
    Rect(Rect),
}

/// What a layer does with its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the pixels as they are, overriding earlier layers.
    Keep,
    /// Redact the pixels.
    Redact(Redaction),
}

/// Shapes sharing one action. Later layers win where they overlap earlier ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// What happens to the covered pixels.
    pub action: Action,
    /// The shapes.
    pub shapes: Vec<Shape>,
}

/// Pixel spans of one plane, row by row: `[x0, x1)` in plane pixels, sorted, disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpanSet {
    row_start: Vec<u32>,
    spans: Vec<[u32; 2]>,
}

impl SpanSet {
    fn with_rows(rows: u32) -> Self {
        let mut row_start = Vec::with_capacity(rows as usize + 1);
        row_start.push(0);
        SpanSet {
            row_start,
            spans: Vec::new(),
        }
    }
    fn end_row(&mut self) {
        self.row_start.push(self.spans.len() as u32);
    }
    /// Number of rows.
    pub fn rows(&self) -> u32 {
        (self.row_start.len() - 1) as u32
    }
    /// Spans of row `y` (empty past the last row).
    pub fn row(&self, y: u32) -> &[[u32; 2]] {
        let y = y as usize;
        if y + 1 >= self.row_start.len() {
            return &[];
        }
        &self.spans[self.row_start[y] as usize..self.row_start[y + 1] as usize]
    }
    /// Whether the set holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    /// Pixels covered.
    pub fn pixel_count(&self) -> u64 {
        self.spans.iter().map(|[a, b]| u64::from(b - a)).sum()
    }
    /// Whether pixel `(x, y)` is covered.
    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.row(y).iter().any(|&[a, b]| x >= a && x < b)
    }
}

/// The pixels one redaction applies to, in every plane of one frame geometry, plus the
/// bounding rectangles (per plane) of the shapes they came from, which bound the work of
/// neighbourhood kernels (pixelate, blur).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    geometry: Geometry,
    planes: Vec<SpanSet>,
    regions: Vec<Vec<Rect>>,
    /// Per plane, the spans merged across rows where they meet in raster order (for fills).
    runs: Vec<Vec<Run>>,
}

/// Masked pixels of one plane from `(x0, y0)` up to `(x1, y1)` (exclusive) in raster order:
/// the rest of row `y0` from `x0`, the whole rows between, and row `y1` up to `x1`; just
/// `x0..x1` of row `y0` when `y0 == y1`. With a stride equal to the row length, one
/// contiguous byte range: a solid fill then writes a span that ends a row and the span that
/// starts the next as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) y0: u32,
    pub(crate) x0: u32,
    pub(crate) y1: u32,
    pub(crate) x1: u32,
}

impl SpanSet {
    /// The spans as [`Run`]s of a plane `width` pixels wide.
    fn runs(&self, width: u32) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        for y in 0..self.rows() {
            for &[a, b] in self.row(y) {
                match runs.last_mut() {
                    Some(r) if (r.y1 + 1 == y && r.x1 == width && a == 0) || (r.y1 == y && r.x1 == a) => {
                        r.y1 = y;
                        r.x1 = b;
                    }
                    _ => runs.push(Run {
                        y0: y,
                        x0: a,
                        y1: y,
                        x1: b,
                    }),
                }
            }
        }
        runs
    }
}

impl Mask {
    /// Frame geometry this mask was built for.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }
    /// Pixel format this mask was built for.
    pub fn format(&self) -> PixelFormat {
        self.geometry.format
    }
    /// Frame width.
    pub fn width(&self) -> u32 {
        self.geometry.width
    }
    /// Frame height.
    pub fn height(&self) -> u32 {
        self.geometry.height
    }
    /// Spans of plane `i`.
    pub fn plane(&self, i: usize) -> Option<&SpanSet> {
        self.planes.get(i)
    }
    /// Bounding rectangles of the shapes, in plane `i`'s pixels, merged where they overlap.
    pub fn regions(&self, i: usize) -> &[Rect] {
        self.regions.get(i).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Runs of plane `i` (empty for a missing plane).
    pub(crate) fn runs(&self, i: usize) -> &[Run] {
        self.runs.get(i).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Whether the mask covers nothing.
    pub fn is_empty(&self) -> bool {
        self.planes.iter().all(SpanSet::is_empty)
    }
    /// Luma (or packed) pixels covered.
    pub fn pixel_count(&self) -> u64 {
        self.planes.first().map_or(0, SpanSet::pixel_count)
    }
}

/// Half-open pixel intervals `[x0, x1)` of row `y` whose centres lie inside `poly`
/// (pixel coordinates), by the even-odd rule. `xs` is scratch space.
fn polygon_row_intervals(
    poly: &[(f64, f64)],
    y: u32,
    width: u32,
    xs: &mut Vec<f64>,
    out: &mut Vec<(u32, u32)>,
) {
    let yc = f64::from(y) + 0.5;
    xs.clear();
    let n = poly.len();
    for i in 0..n {
        let (x0, y0) = poly[i];
        let (x1, y1) = poly[(i + 1) % n];
        if (y0 <= yc) != (y1 <= yc) {
            xs.push(x0 + (yc - y0) * (x1 - x0) / (y1 - y0));
        }
    }
    xs.sort_by(f64::total_cmp);
    for pair in xs.chunks_exact(2) {
        // pixel x is inside when pair[0] <= x + 0.5 < pair[1]
        let a = (pair[0] - 0.5).ceil().max(0.0);
        let b = (pair[1] - 0.5).ceil().min(f64::from(width));
        if b > a {
            out.push((a as u32, b as u32));
        }
    }
}

enum PixelShape {
    Poly(Vec<(f64, f64)>),
    Rect(Rect),
}

fn bbox_of(shape: &PixelShape, width: u32, height: u32) -> Option<Rect> {
    match shape {
        PixelShape::Rect(r) => r.clamp_to(width, height),
        PixelShape::Poly(p) => {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for &(x, y) in p {
                // f64::min/max skip NaN, so a coordinate that is not a number adds nothing
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
            if !(x0 <= x1 && y0 <= y1) {
                return None; // no point with finite coordinates
            }
            // Clamp in floating point before any integer conversion, so a polygon reaching far
            // outside the frame keeps every row and column of the frame it covers.
            let (w, h) = (f64::from(width), f64::from(height));
            let (fx0, fx1) = (x0.floor().clamp(0.0, w), x1.ceil().clamp(0.0, w));
            let (fy0, fy1) = (y0.floor().clamp(0.0, h), y1.ceil().clamp(0.0, h));
            (fx1 > fx0 && fy1 > fy0)
                .then(|| Rect::new(fx0 as i32, fy0 as i32, (fx1 - fx0) as u32, (fy1 - fy0) as u32))
        }
    }
}

/// Merge rectangles that overlap once grown by `margin`, until none do.
pub(crate) fn merge_rects(mut rects: Vec<Rect>, margin: u32) -> Vec<Rect> {
    loop {
        let mut merged = false;
        let mut out: Vec<Rect> = Vec::with_capacity(rects.len());
        for r in rects {
            if let Some(o) = out
                .iter_mut()
                .find(|o| o.grow(margin, margin).intersect(&r).is_some())
            {
                let x0 = o.x.min(r.x);
                let y0 = o.y.min(r.y);
                let x1 = o.right().max(r.right());
                let y1 = o.bottom().max(r.bottom());
                *o = Rect::new(x0, y0, (x1 - i64::from(x0)) as u32, (y1 - i64::from(y0)) as u32);
                merged = true;
            } else {
                out.push(r);
            }
        }
        rects = out;
        if !merged {
            return rects;
        }
    }
}

fn chroma_rect(r: &Rect) -> Rect {
    let x0 = r.x / 2;
    let y0 = r.y / 2;
    let x1 = r.right().div_euclid(2) + r.right().rem_euclid(2);
    let y1 = r.bottom().div_euclid(2) + r.bottom().rem_euclid(2);
    Rect::new(x0, y0, (x1 - i64::from(x0)) as u32, (y1 - i64::from(y0)) as u32)
}

/// Run-length encode `labels` into the span sets: label `l > 0` goes to `sets[l - 1]`.
fn push_runs(labels: &[u8], sets: &mut [SpanSet]) {
    let mut x = 0usize;
    while x < labels.len() {
        let l = labels[x];
        let start = x;
        while x < labels.len() && labels[x] == l {
            x += 1;
        }
        if l > 0 {
            if let Some(s) = sets.get_mut(l as usize - 1) {
                s.spans.push([start as u32, x as u32]);
            }
        }
    }
}

/// Rasterise prioritised layers for one frame geometry. Returns one [`Mask`] per layer, in
/// layer order (a [`Action::Keep`] layer's mask is empty: its pixels are left alone).
///
/// # Errors
/// [`FrameError`] for an invalid geometry, or more than 254 layers.
pub fn rasterise(
    layers: &[Layer],
    width: u32,
    height: u32,
    format: PixelFormat,
) -> Result<Vec<Mask>, FrameError> {
    let layouts = validate_size(format, width, height)?;
    if layers.len() > 254 {
        return Err(FrameError::Overflow { plane: 0 });
    }
    let n_planes = format.plane_count();
    let shapes: Vec<Vec<PixelShape>> = layers
        .iter()
        .map(|l| {
            l.shapes
                .iter()
                .map(|s| match s {
                    Shape::Polygon(p) => PixelShape::Poly(p.to_pixels(width, height)),
                    Shape::Rect(r) => PixelShape::Rect(*r),
                })
                .collect()
        })
        .collect();
    let keep: Vec<bool> = layers.iter().map(|l| l.action == Action::Keep).collect();
    // Row bounds of every shape, so rows outside a shape skip it.
    let row_bounds: Vec<Vec<Option<Rect>>> = shapes
        .iter()
        .map(|ls| ls.iter().map(|s| bbox_of(s, width, height)).collect())
        .collect();

    // per layer, per plane spans
    let mut sets: Vec<Vec<SpanSet>> = (0..n_planes)
        .map(|p| {
            let rows = layouts[p].map_or(0, |l| l.height);
            (0..layers.len()).map(|_| SpanSet::with_rows(rows)).collect()
        })
        .collect();

    let w = width as usize;
    let mut labels = vec![0u8; w];
    let mut prev = vec![0u8; w];
    let mut chroma = vec![0u8; w.div_ceil(2)];
    let mut xs = Vec::new();
    let mut iv = Vec::new();
    for y in 0..height {
        labels.fill(0);
        for (li, ls) in shapes.iter().enumerate() {
            let label = li as u8 + 1;
            for (si, s) in ls.iter().enumerate() {
                let Some(bb) = row_bounds[li][si] else { continue };
                if i64::from(y) < i64::from(bb.y) || i64::from(y) >= bb.bottom() {
                    continue;
                }
                iv.clear();
                match s {
                    PixelShape::Rect(_) => iv.push((bb.x as u32, bb.right() as u32)),
                    PixelShape::Poly(p) => polygon_row_intervals(p, y, width, &mut xs, &mut iv),
                }
                for &(a, b) in &iv {
                    labels[a as usize..b as usize].fill(label);
                }
            }
        }
        // Keep layers only shield pixels: they own no spans.
        let visible: Vec<u8> = labels
            .iter()
            .map(|&l| if l > 0 && keep[l as usize - 1] { 0 } else { l })
            .collect();
        push_runs(&visible, &mut sets[0]);
        for s in sets[0].iter_mut() {
            s.end_row();
        }
        if format.is_420() {
            if y % 2 == 1 {
                for (cx, c) in chroma.iter_mut().enumerate() {
                    let x0 = 2 * cx;
                    let x1 = (x0 + 1).min(w - 1);
                    *c = visible[x0].max(visible[x1]).max(prev[x0]).max(prev[x1]);
                }
                for plane_sets in sets.iter_mut().skip(1) {
                    push_runs(&chroma, plane_sets);
                    for s in plane_sets.iter_mut() {
                        s.end_row();
                    }
                }
            } else {
                prev.copy_from_slice(&visible);
            }
        }
    }

    let mut masks = Vec::with_capacity(layers.len());
    for li in 0..layers.len() {
        let luma_regions: Vec<Rect> = if keep[li] {
            Vec::new()
        } else {
            row_bounds[li].iter().flatten().copied().collect()
        };
        let mut planes = Vec::with_capacity(n_planes);
        let mut regions = Vec::with_capacity(n_planes);
        for (p, plane_sets) in sets.iter_mut().enumerate() {
            let set = std::mem::take(&mut plane_sets[li]);
            let rs: Vec<Rect> = if p > 0 && format.is_420() {
                luma_regions.iter().map(chroma_rect).collect()
            } else {
                luma_regions.clone()
            };
            regions.push(if set.is_empty() {
                Vec::new()
            } else {
                merge_rects(rs, 0)
            });
            planes.push(set);
        }
        let runs = planes
            .iter()
            .enumerate()
            .map(|(p, set)| set.runs(layouts[p].map_or(0, |l| l.width)))
            .collect();
        masks.push(Mask {
            geometry: Geometry::new(format, width, height),
            planes,
            regions,
            runs,
        });
    }
    Ok(masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Shape {
        Shape::Polygon(Polygon(vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    }

    #[test]
    fn runs_join_spans_that_meet_across_rows() {
        // rows 2..6 of a 10 x 8 frame fully covered plus the start of row 6: one run
        let layer = Layer {
            action: Action::Redact(Redaction::Solid),
            shapes: vec![
                Shape::Rect(Rect::new(0, 2, 10, 4)),
                Shape::Rect(Rect::new(0, 6, 3, 1)),
                Shape::Rect(Rect::new(5, 0, 2, 1)),
            ],
        };
        let m = rasterise(&[layer], 10, 8, PixelFormat::Gray8).expect("mask");
        assert_eq!(
            m[0].runs(0),
            &[
                Run {
                    y0: 0,
                    x0: 5,
                    y1: 0,
                    x1: 7
                },
                Run {
                    y0: 2,
                    x0: 0,
                    y1: 6,
                    x1: 3
                },
            ]
        );
    }

    #[test]
    fn pixel_centre_rule() {
        // 10x10 frame, polygon covering x in [0.2, 0.5) → pixel centres 2.5, 3.5, 4.5 inside
        let l = Layer {
            action: Action::Redact(Redaction::Solid),
            shapes: vec![square(0.2, 0.2, 0.5, 0.5)],
        };
        let m = rasterise(&[l], 10, 10, PixelFormat::Gray8).expect("mask");
        let p = m[0].plane(0).expect("plane");
        assert_eq!(p.row(1), &[] as &[[u32; 2]]);
        assert_eq!(p.row(2), &[[2, 5]]);
        assert_eq!(p.row(4), &[[2, 5]]);
        assert_eq!(p.row(5), &[] as &[[u32; 2]]);
        assert_eq!(m[0].pixel_count(), 9);
    }

    #[test]
    fn concave_polygon_has_two_spans() {
        // a U shape
        let u = Polygon(vec![
            [0.0, 0.0],
            [0.3, 0.0],
            [0.3, 0.6],
            [0.7, 0.6],
            [0.7, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
        ]);
        let l = Layer {
            action: Action::Redact(Redaction::Solid),
            shapes: vec![Shape::Polygon(u)],
        };
        let m = rasterise(&[l], 10, 10, PixelFormat::Gray8).expect("mask");
        assert_eq!(m[0].plane(0).expect("p").row(2), &[[0, 3], [7, 10]]);
        assert_eq!(m[0].plane(0).expect("p").row(8), &[[0, 10]]);
    }

    #[test]
    fn chroma_covers_any_masked_luma() {
        // one luma pixel (3, 5) masked → chroma (1, 2) masked
        let l = Layer {
            action: Action::Redact(Redaction::Solid),
            shapes: vec![Shape::Rect(Rect::new(3, 5, 1, 1))],
        };
        let m = rasterise(&[l], 8, 8, PixelFormat::I420).expect("mask");
        assert_eq!(m[0].plane(1).expect("u").row(2), &[[1, 2]]);
        assert_eq!(m[0].plane(2).expect("v").row(2), &[[1, 2]]);
        assert_eq!(m[0].plane(1).expect("u").pixel_count(), 1);
        assert_eq!(m[0].regions(1), &[Rect::new(1, 2, 1, 1)]);
    }

    #[test]
    fn keep_layer_shields_and_later_layer_overrides() {
        let layers = [
            Layer {
                action: Action::Redact(Redaction::Solid),
                shapes: vec![Shape::Rect(Rect::new(0, 0, 10, 1))],
            },
            Layer {
                action: Action::Keep,
                shapes: vec![Shape::Rect(Rect::new(2, 0, 6, 1))],
            },
            Layer {
                action: Action::Redact(Redaction::Solid),
                shapes: vec![Shape::Rect(Rect::new(4, 0, 2, 1))],
            },
        ];
        let m = rasterise(&layers, 10, 2, PixelFormat::Gray8).expect("mask");
        assert_eq!(m[0].plane(0).expect("p").row(0), &[[0, 2], [8, 10]]);
        assert!(m[1].is_empty());
        assert_eq!(m[2].plane(0).expect("p").row(0), &[[4, 6]]);
    }

    #[test]
    fn merge_overlapping_rects() {
        let r = merge_rects(
            vec![
                Rect::new(0, 0, 5, 5),
                Rect::new(20, 20, 2, 2),
                Rect::new(4, 4, 5, 5),
            ],
            0,
        );
        assert_eq!(r, vec![Rect::new(0, 0, 9, 9), Rect::new(20, 20, 2, 2)]);
    }
}
