//! Constant-velocity Kalman filter on a box's centre x, centre y, width and height.
//!
//! The state and noise model are those of SORT/ByteTrack in the `xywh` form used by BoT-SORT:
//! eight states (cx, cy, w, h and their velocities), position-only measurements, noise standard
//! deviations proportional to the box size (1/20 of it for positions, 1/160 for velocities).
//!
//! Why four 2x2 filters instead of one 8x8 filter: the transition matrix only couples each
//! coordinate with its own velocity, the measurement matrix picks the four positions, and the
//! initial, process and measurement covariances are diagonal. The covariance therefore stays
//! block-diagonal (one 2x2 block per coordinate) through every predict and update, and the 8x8
//! recursions reduce exactly to four independent (position, velocity) filters. That is the same
//! estimate at a fraction of the arithmetic, and no matrix inverse is needed (the innovation
//! covariance of each block is a scalar).

use veil_core::BoxF;

/// Noise weight for positions, relative to the box size (SORT/ByteTrack value).
const STD_POS: f64 = 1.0 / 20.0;
/// Noise weight for velocities, relative to the box size (SORT/ByteTrack value).
const STD_VEL: f64 = 1.0 / 160.0;
/// Smallest size used to scale noise and returned as a box side, so a shrinking prediction
/// never collapses to zero or goes negative.
const MIN_SIDE: f64 = 1.0;

/// One coordinate and its velocity, with their 2x2 covariance `[[c00, c01], [c01, c11]]`.
#[derive(Debug, Clone, Copy)]
struct Axis {
    pos: f64,
    vel: f64,
    c00: f64,
    c01: f64,
    c11: f64,
}

impl Axis {
    fn new(pos: f64, size: f64) -> Self {
        let sp = 2.0 * STD_POS * size;
        let sv = 10.0 * STD_VEL * size;
        Axis {
            pos,
            vel: 0.0,
            c00: sp * sp,
            c01: 0.0,
            c11: sv * sv,
        }
    }

    /// `x <- F x`, `P <- F P F^T + Q` with `F = [[1, 1], [0, 1]]`.
    fn predict(&mut self, size: f64) {
        let qp = (STD_POS * size).powi(2);
        let qv = (STD_VEL * size).powi(2);
        self.pos += self.vel;
        self.c00 += 2.0 * self.c01 + self.c11 + qp;
        self.c01 += self.c11;
        self.c11 += qv;
    }

    /// Standard update with `H = [1, 0]`, measurement `z` and variance `r`.
    fn update(&mut self, z: f64, size: f64) {
        let r = (STD_POS * size).powi(2);
        let s = self.c00 + r;
        if s <= 0.0 || !s.is_finite() {
            // Cannot happen with positive sizes; resetting keeps the filter usable if it does.
            *self = Axis::new(z, size);
            return;
        }
        let k0 = self.c00 / s;
        let k1 = self.c01 / s;
        let innov = z - self.pos;
        self.pos += k0 * innov;
        self.vel += k1 * innov;
        let (c00, c01, c11) = (self.c00, self.c01, self.c11);
        self.c00 = (1.0 - k0) * c00;
        self.c01 = (1.0 - k0) * c01;
        self.c11 = c11 - k1 * c01;
    }
}

/// The motion model of one track.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kalman {
    cx: Axis,
    cy: Axis,
    w: Axis,
    h: Axis,
}

impl Kalman {
    /// A filter starting at `b` with zero velocity.
    pub(crate) fn new(b: &BoxF) -> Self {
        let (cx, cy, w, h) = measure(b);
        Kalman {
            cx: Axis::new(cx, w),
            cy: Axis::new(cy, h),
            w: Axis::new(w, w),
            h: Axis::new(h, h),
        }
    }

    /// Advance one frame. `coasting` tracks (not matched on the last frame) stop changing size,
    /// as ByteTrack does, so a lost track's box does not grow or shrink without evidence.
    pub(crate) fn predict(&mut self, coasting: bool) {
        if coasting {
            self.w.vel = 0.0;
            self.h.vel = 0.0;
        }
        let (w, h) = (self.w.pos.max(MIN_SIDE), self.h.pos.max(MIN_SIDE));
        self.cx.predict(w);
        self.cy.predict(h);
        self.w.predict(w);
        self.h.predict(h);
    }

    /// Correct with a measured box.
    pub(crate) fn update(&mut self, b: &BoxF) {
        let (cx, cy, w, h) = measure(b);
        let (sw, sh) = (self.w.pos.max(MIN_SIDE), self.h.pos.max(MIN_SIDE));
        self.cx.update(cx, sw);
        self.cy.update(cy, sh);
        self.w.update(w, sw);
        self.h.update(h, sh);
    }

    /// The current estimate as a box.
    pub(crate) fn bbox(&self) -> BoxF {
        let w = self.w.pos.max(MIN_SIDE);
        let h = self.h.pos.max(MIN_SIDE);
        BoxF::new(
            (self.cx.pos - w / 2.0) as f32,
            (self.cy.pos - h / 2.0) as f32,
            w as f32,
            h as f32,
        )
    }
}

fn measure(b: &BoxF) -> (f64, f64, f64, f64) {
    let w = f64::from(b.w).max(MIN_SIDE);
    let h = f64::from(b.h).max(MIN_SIDE);
    (
        f64::from(b.x) + f64::from(b.w) / 2.0,
        f64::from(b.y) + f64::from(b.h) / 2.0,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_constant_velocity() {
        let mut kf = Kalman::new(&BoxF::new(0.0, 0.0, 40.0, 100.0));
        for i in 1..30 {
            kf.predict(false);
            kf.update(&BoxF::new(5.0 * i as f32, 2.0 * i as f32, 40.0, 100.0));
        }
        kf.predict(false);
        let b = kf.bbox();
        assert!((b.x - 150.0).abs() < 1.0, "{b:?}");
        assert!((b.y - 60.0).abs() < 1.0, "{b:?}");
        assert!((b.w - 40.0).abs() < 0.5 && (b.h - 100.0).abs() < 0.5, "{b:?}");
    }

    #[test]
    fn coasting_keeps_size() {
        let mut kf = Kalman::new(&BoxF::new(0.0, 0.0, 40.0, 100.0));
        for i in 1..10 {
            kf.predict(false);
            kf.update(&BoxF::new(0.0, 0.0, 40.0 + 2.0 * i as f32, 100.0));
        }
        let before = kf.bbox();
        for _ in 0..20 {
            kf.predict(true);
        }
        let after = kf.bbox();
        assert!((after.w - before.w).abs() < 1e-3);
    }
}
