//! Box overlap measures used by association, contacts and face attachment.

use veil_core::BoxF;

/// Fraction of the smaller of two boxes covered by their intersection.
pub(crate) fn overlap_of_smaller(a: &BoxF, b: &BoxF) -> f32 {
    let inter = inside_area(a, b);
    let small = a.area().min(b.area());
    if small > 0.0 {
        inter / small
    } else {
        0.0
    }
}

/// Area of `f` inside `r`.
pub(crate) fn inside_area(f: &BoxF, r: &BoxF) -> f32 {
    let iw = ((f.x + f.w).min(r.x + r.w) - f.x.max(r.x)).max(0.0);
    let ih = ((f.y + f.h).min(r.y + r.h) - f.y.max(r.y)).max(0.0);
    iw * ih
}
