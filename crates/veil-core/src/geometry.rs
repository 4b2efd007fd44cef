//! Geometry: integer pixel rectangles, float boxes, normalised polygons, and the
//! [`Geometry`] (format and size) of a frame.

use serde::{Deserialize, Serialize};

use crate::error::FrameError;
use crate::format::PixelFormat;

/// An integer rectangle in pixels: `x..x+w`, `y..y+h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge (may be negative before clamping).
    pub x: i32,
    /// Top edge (may be negative before clamping).
    pub y: i32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: i32, y: i32, w: u32, h: u32) -> Self {
        Rect { x, y, w, h }
    }
    /// Right edge (exclusive).
    pub fn right(&self) -> i64 {
        i64::from(self.x) + i64::from(self.w)
    }
    /// Bottom edge (exclusive).
    pub fn bottom(&self) -> i64 {
        i64::from(self.y) + i64::from(self.h)
    }
    /// Area in pixels.
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }
    /// Whether the rectangle holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.w == 0 || self.h == 0
    }
    /// The part inside a `width` x `height` frame, or `None` if nothing is inside.
    pub fn clamp_to(&self, width: u32, height: u32) -> Option<Rect> {
        let x0 = i64::from(self.x).max(0);
        let y0 = i64::from(self.y).max(0);
        let x1 = self.right().min(i64::from(width));
        let y1 = self.bottom().min(i64::from(height));
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0 as i32, y0 as i32, (x1 - x0) as u32, (y1 - y0) as u32))
    }
    /// Intersection of two rectangles.
    pub fn intersect(&self, o: &Rect) -> Option<Rect> {
        let x0 = i64::from(self.x.max(o.x));
        let y0 = i64::from(self.y.max(o.y));
        let x1 = self.right().min(o.right());
        let y1 = self.bottom().min(o.bottom());
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0 as i32, y0 as i32, (x1 - x0) as u32, (y1 - y0) as u32))
    }
    /// Whether pixel `(px, py)` lies inside.
    pub fn contains(&self, px: i64, py: i64) -> bool {
        px >= i64::from(self.x) && py >= i64::from(self.y) && px < self.right() && py < self.bottom()
    }
    /// Grown by `dx` pixels left and right and `dy` pixels top and bottom.
    pub fn grow(&self, dx: u32, dy: u32) -> Rect {
        Rect::new(
            self.x.saturating_sub(dx as i32),
            self.y.saturating_sub(dy as i32),
            self.w.saturating_add(2 * dx),
            self.h.saturating_add(2 * dy),
        )
    }
}

/// A floating-point box in pixels (detector and tracker output): top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BoxF {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl BoxF {
    /// A box from its top-left corner and size.
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        BoxF { x, y, w, h }
    }
    /// Area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }
    /// Centre point.
    pub fn center(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    /// Area of the intersection of the two boxes (0 when they do not overlap).
    pub fn intersection_area(&self, o: &BoxF) -> f32 {
        let iw = ((self.x + self.w).min(o.x + o.w) - self.x.max(o.x)).max(0.0);
        let ih = ((self.y + self.h).min(o.y + o.h) - self.y.max(o.y)).max(0.0);
        iw * ih
    }
    /// Intersection over union (0 when either box is empty).
    pub fn iou(&self, o: &BoxF) -> f32 {
        let inter = self.intersection_area(o);
        let union = self.area() + o.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
    /// Whether point `(px, py)` lies inside.
    pub fn contains(&self, px: f32, py: f32) -> bool {
        px >= self.x && py >= self.y && px < self.x + self.w && py < self.y + self.h
    }
    /// Grown by a fraction of its size on every side (`0.1` adds 10% of the width left and right).
    pub fn pad(&self, frac: f32) -> BoxF {
        let (dx, dy) = (self.w * frac, self.h * frac);
        BoxF::new(self.x - dx, self.y - dy, self.w + 2.0 * dx, self.h + 2.0 * dy)
    }
    /// The smallest integer rectangle covering this box (outward rounding, so nothing is lost).
    pub fn to_rect(&self) -> Rect {
        let x0 = self.x.floor().clamp(i32::MIN as f32, i32::MAX as f32) as i64;
        let y0 = self.y.floor().clamp(i32::MIN as f32, i32::MAX as f32) as i64;
        let x1 = (self.x + self.w).ceil().clamp(i32::MIN as f32, i32::MAX as f32) as i64;
        let y1 = (self.y + self.h).ceil().clamp(i32::MIN as f32, i32::MAX as f32) as i64;
        Rect::new(
            x0 as i32,
            y0 as i32,
            (x1 - x0).clamp(0, u32::MAX as i64) as u32,
            (y1 - y0).clamp(0, u32::MAX as i64) as u32,
        )
    }
}

/// A polygon in normalised coordinates: `(x, y)` with both in `0..=1` of the frame's width
/// and height, so one zone file serves every resolution of a camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Polygon(pub Vec<[f64; 2]>);

impl Polygon {
    /// The vertices.
    pub fn points(&self) -> &[[f64; 2]] {
        &self.0
    }
    /// Why this polygon is unusable, if it is: fewer than 3 points, a coordinate outside 0..1
    /// or not finite, or no area.
    pub fn validate(&self) -> Result<(), String> {
        if self.0.len() < 3 {
            return Err(format!("polygon has {} point(s), needs at least 3", self.0.len()));
        }
        for (i, [x, y]) in self.0.iter().enumerate() {
            if !(x.is_finite() && y.is_finite() && (0.0..=1.0).contains(x) && (0.0..=1.0).contains(y)) {
                return Err(format!("point {i} ({x}, {y}) lies outside 0..1"));
            }
        }
        Ok(())
    }
    /// The polygon in pixel coordinates of a `width` x `height` frame.
    pub fn to_pixels(&self, width: u32, height: u32) -> Vec<(f64, f64)> {
        self.0
            .iter()
            .map(|[x, y]| (x * f64::from(width), y * f64::from(height)))
            .collect()
    }
}

/// The geometry of a frame: pixel format and size in pixels. A mask, a masker and the
/// frames they are applied to must share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Pixel format.
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Geometry {
    /// A geometry from its parts.
    pub const fn new(format: PixelFormat, width: u32, height: u32) -> Self {
        Geometry {
            format,
            width,
            height,
        }
    }

    /// `Ok` when `actual` is this geometry, else [`FrameError::GeometryMismatch`] naming this
    /// one as expected.
    ///
    /// # Errors
    /// [`FrameError::GeometryMismatch`] when the two differ in format, width or height.
    pub fn expect(&self, actual: Geometry) -> Result<(), FrameError> {
        if actual == *self {
            return Ok(());
        }
        Err(FrameError::GeometryMismatch {
            expected_format: self.format,
            expected_width: self.width,
            expected_height: self.height,
            format: actual.format,
            width: actual.width,
            height: actual.height,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_clamp_and_intersect() {
        let r = Rect::new(-5, -5, 20, 20);
        assert_eq!(r.clamp_to(10, 12), Some(Rect::new(0, 0, 10, 12)));
        assert_eq!(Rect::new(20, 0, 5, 5).clamp_to(10, 10), None);
        assert_eq!(
            Rect::new(0, 0, 10, 10).intersect(&Rect::new(5, 5, 10, 10)),
            Some(Rect::new(5, 5, 5, 5))
        );
    }

    #[test]
    fn iou_values() {
        let a = BoxF::new(0.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = BoxF::new(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BoxF::new(20.0, 20.0, 1.0, 1.0)), 0.0);
    }

    #[test]
    fn to_rect_rounds_outward() {
        assert_eq!(BoxF::new(1.5, 2.2, 3.0, 3.0).to_rect(), Rect::new(1, 2, 4, 4));
    }

    #[test]
    fn polygon_validation() {
        assert!(Polygon(vec![[0.0, 0.0], [1.0, 0.0]]).validate().is_err());
        assert!(Polygon(vec![[0.0, 0.0], [1.1, 0.0], [0.0, 1.0]])
            .validate()
            .is_err());
        assert!(Polygon(vec![[0.0, 0.0], [f64::NAN, 0.0], [0.0, 1.0]])
            .validate()
            .is_err());
        assert!(Polygon(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
            .validate()
            .is_ok());
    }
}
