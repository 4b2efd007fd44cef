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

/// The sign of `(px - x0)(y1 - y0) - (yc - y0)(x1 - x0)`, exactly.
fn orientation(px: f64, yc: f64, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) -> std::cmp::Ordering {
    let a = (px - x0) * (y1 - y0);
    let b = (yc - y0) * (x1 - x0);
    let det = a - b;
    // each of the five roundings errs by at most 2^-53 relative; 1e-12 is far above their sum
    if det.is_finite() && det.abs() > 1e-12 * (a.abs() + b.abs()) {
        return det.partial_cmp(&0.0).unwrap_or(std::cmp::Ordering::Equal);
    }
    let (px, yc, x0, y0, x1, y1) = (exact(px), exact(yc), exact(x0), exact(y0), exact(x1), exact(y1));
    ((&px - &x0) * (&y1 - &y0) - (&yc - &y0) * (&x1 - &x0)).cmp(&BigInt::from(0))
}

/// Whether point `(px, py)` is inside `poly` (pixel coordinates, finite) by the rule above.
pub fn contains(poly: &[(f64, f64)], px: f64, py: f64) -> bool {
    let mut crossings = 0usize;
    for (i, &p0) in poly.iter().enumerate() {
        let p1 = poly[(i + 1) % poly.len()];
        if (p0.1 <= py) == (p1.1 <= py) {
            continue;
        }
        // the crossing lies at or left of the point: det >= 0 for an edge going down the
        // image (y growing), det <= 0 for one going up
        let o = orientation(px, py, p0, p1);
        let left = if p1.1 > p0.1 { o.is_ge() } else { o.is_le() };
        crossings += usize::from(left);
    }
    crossings % 2 == 1
}

/// Whether pixel `(x, y)` of a `w` x `h` frame lies inside the normalised polygon `poly`.
pub fn pixel_inside(poly: &[[f64; 2]], w: u32, h: u32, x: u32, y: u32) -> bool {
    let px: Vec<(f64, f64)> = poly
        .iter()
        .map(|[a, b]| (a * f64::from(w), b * f64::from(h)))
        .collect();
    contains(&px, f64::from(x) + 0.5, f64::from(y) + 0.5)
}
