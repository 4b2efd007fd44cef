//! An independent reference for the rasteriser's pixel rule, shared by the masking tests and
//! the parser fuzz test (included with `#[path]`).
//!
//! The rule: pixel `(x, y)` is inside a polygon when its centre `(x + 0.5, y + 0.5)` is,
//! by the even-odd rule with half-open edges: an edge from `(x0, y0)` to `(x1, y1)` counts
//! when it crosses the centre's row (`(y0 <= yc) != (y1 <= yc)`) at or left of the centre.
//!
//! The rasteriser computes each crossing's abscissa in floating point and compares it with
//! pixel centres. This reference never computes an abscissa: it takes the sign of the
//! orientation determinant `(px - x0)(y1 - y0) - (yc - y0)(x1 - x0)`, first in floating point
//! with an error bound, and where that bound cannot decide, exactly, in big integers (every
//! finite `f64` is an integer multiple of `2^-1074`).
//!
//! A centre exactly on a vertical edge is decided by the rule; one exactly on a sloped edge is
//! left undecided, as the rasteriser's rounded abscissa may fall on either side of it. A
//! centre within `2^-30 * m` pixels of
//! an edge but not on it, `m` being 1 plus the largest coordinate involved, is left undecided
//! (`None`): there the rasteriser's rounded abscissa may fall on either side (the parser fuzz
//! test found centres 1e-14 pixels from an edge), and no pixel is meaningfully inside or
//! outside at that distance.

#![allow(dead_code)]

use num_bigint::BigInt;

/// `v * 2^1074` as an exact integer (`v` finite).
fn exact(v: f64) -> BigInt {
    let bits = v.to_bits();
    let sign = bits >> 63;
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    // subnormals: frac * 2^-1074; normals: (2^52 + frac) * 2^(exp - 1075)
    let (mant, shift) = if exp == 0 {
        (frac, 0)
    } else {
        (frac | (1u64 << 52), exp - 1)
    };
    let m = BigInt::from(mant) << (shift as usize);
    if sign == 1 {
        -m
    } else {
        m
    }
}

/// Where a crossing lies relative to a point on its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The determinant is positive.
    Positive,
    /// The determinant is negative.
    Negative,
    /// The point is exactly on the edge.
    On,
    /// Within `2^-30 * m` pixels of the edge, not on it.
    Near,
}

/// Where `(px, yc)` lies relative to the edge from `(x0, y0)` to `(x1, y1)` (which crosses row
/// `yc`): the sign of `(px - x0)(y1 - y0) - (yc - y0)(x1 - x0)`, exactly, or [`Side::Near`]
/// (the horizontal distance of the point from the edge is `|det| / |y1 - y0|`).
fn side(px: f64, yc: f64, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) -> Side {
    let a = (px - x0) * (y1 - y0);
    let b = (yc - y0) * (x1 - x0);
    let det = a - b;
    let m = 1.0
        + [px, yc, x0, y0, x1, y1]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
    // each of the five roundings errs by at most 2^-53 relative; 1e-12 is far above their
    // sum. The horizontal distance of the point from the edge is |det| / |y1 - y0|.
    if det.is_finite() && det.abs() > 1e-12 * (a.abs() + b.abs()) && det.abs() > 1e-6 * (y1 - y0).abs() * m {
        return if det > 0.0 { Side::Positive } else { Side::Negative };
    }
    let (px, yc, x0, y0, x1, y1) = (exact(px), exact(yc), exact(x0), exact(y0), exact(x1), exact(y1));
    // det and dy * m are both scaled by 2^2148
    let det = (&px - &x0) * (&y1 - &y0) - (&yc - &y0) * (&x1 - &x0);
    let dy_m = (&y1 - &y0) * exact(m);
    let zero = BigInt::from(0);
    if det == zero {
        Side::On
    } else if (det.magnitude() << 30usize) < *dy_m.magnitude() {
        Side::Near
    } else if det > zero {
        Side::Positive
    } else {
        Side::Negative
    }
}

/// Whether point `(px, py)` is inside `poly` (pixel coordinates, finite) by the rule above;
/// `None` when it lies within `2^-30 * m` pixels of an edge it is not on.
pub fn contains(poly: &[(f64, f64)], px: f64, py: f64) -> Option<bool> {
    let mut crossings = 0usize;
    for (i, &p0) in poly.iter().enumerate() {
        let p1 = poly[(i + 1) % poly.len()];
        if (p0.1 <= py) == (p1.1 <= py) {
            continue;
        }
        // the crossing lies at or left of the point: det >= 0 for an edge going down the
        // image (y growing), det <= 0 for one going up
        let left = match (side(px, py, p0, p1), p1.1 > p0.1) {
            (Side::Near, _) => return None,
            // Exactly on a sloped edge: the rasteriser's rounded abscissa may fall on either
            // side of the centre (the fuzz test found one on an edge through vertices 1e15
            // pixels apart). Only a vertical edge's abscissa is exact.
            (Side::On, _) if p0.0 != p1.0 => return None,
            (Side::On, _) | (Side::Positive, true) | (Side::Negative, false) => true,
            (Side::Positive, false) | (Side::Negative, true) => false,
        };
        crossings += usize::from(left);
    }
    Some(crossings % 2 == 1)
}

/// Whether pixel `(x, y)` of a `w` x `h` frame lies inside the normalised polygon `poly`
/// (`None`: undecided, see the module documentation).
pub fn pixel_inside(poly: &[[f64; 2]], w: u32, h: u32, x: u32, y: u32) -> Option<bool> {
    let px: Vec<(f64, f64)> = poly
        .iter()
        .map(|[a, b]| (a * f64::from(w), b * f64::from(h)))
        .collect();
    contains(&px, f64::from(x) + 0.5, f64::from(y) + 0.5)
}

/// Whether a pixel is inside any of several shapes: `Some(true)` if one says so, `None` if
/// none does and one is undecided.
pub fn any(results: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut undecided = false;
    for r in results {
        match r {
            Some(true) => return Some(true),
            None => undecided = true,
            Some(false) => {}
        }
    }
    (!undecided).then_some(false)
}
