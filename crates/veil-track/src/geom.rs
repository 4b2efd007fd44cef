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
    f.intersection_area(r)
}
