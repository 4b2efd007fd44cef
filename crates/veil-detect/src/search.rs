//! Finding every face of at least a minimum height, at a bounded cost, in frames of any size.
//!
//! CenterFace finds faces down to about [`NET_FACE_PX`] pixels tall in its input. At the
//! default input (long side 640) that is 28 px in a 1080p frame and 56 px in a 4K frame: the
//! distant faces of a CCTV view are smaller. Running the whole frame at the scale a small
//! face needs costs 3x (1080p) to 12x (4K) as much. [`FaceSearch`] instead looks at the
//! fine scale only where a face can be:
//!
//! 1. the whole frame at the detector's own input size, every frame (large faces);
//! 2. at the fine scale `NET_FACE_PX / min_face`, the regions of the frame that
//!    - **moved** since the previous frame (a per-cell difference of sampled luma, after
//!      taking out the camera's own translation when it pans, see [`crate::motion`]; a
//!      lighting change or a zoom makes every cell active and the search falls back to the
//!      whole frame at the fine scale),
//!    - hold a **small face found recently**, in the last [`RECENT_FRAMES`] frames (so a
//!      face keeps being found when its owner stops moving), and
//!    - a **sweep band** that moves down the frame and covers all of it every
//!      [`SWEEP_FRAMES`] frames (one band of six every fourth frame): someone who stands
//!      still from the start is found on the first frame, and someone who turns to the
//!      camera without moving within [`SWEEP_FRAMES`] frames;
//!
//!    each active cell grown by a margin of one face (so a face at the edge of a moving
//!    region lies wholly inside it), joined into rectangles;
//! 3. the first frame, and any frame where the rectangles would cost as much as the whole
//!    frame at the fine scale, runs the whole frame at the fine scale instead.
//!
//! Detections of all of them are merged with non-maximum suppression. The cost is bounded
//! by one run of the whole frame at the fine scale plus one at the default size, and on a
//! static camera it is the default run plus the moving regions.
//!
//! **Changes only, between full searches.** A frame that directly follows a searched frame
//! (its *base*) is searched only where the picture changed since the base, which is where
//! anything new can be, when the caller turns this on ([`Search::set_changes_only`]; off by
//! default, and on for the analysis of veil-redact, whose temporal padding covers the gap
//! below): after each full search as above, up to [`CHANGES_ONLY`] frames are. A
//! changes-only search runs
//!
//! - the regions of step 2 (what moved, the sweep band due, and the recent small objects
//!   that are not carried unchanged), at the fine scale, which sees objects of every size a
//!   region holds whole; an object of up to the margin touched by a change lies wholly in
//!   the grown motion regions;
//! - for every larger object of the base whose box (moved with the camera's pan) touches a
//!   changed cell, a region of its own (its box grown by the margin), so that an object that
//!   moves or turns is searched whole, never cut by the edge of the motion;
//!
//! and carries every object of the base whose box touches no changed cell as it was (moved
//! with the pan): its pixels are those the base's search saw. Without the whole-frame run
//! at the default size this costs a fraction of a full search; when it would cost as much,
//! the frame is searched in full instead.
//!
//! So every frame's result covers the whole frame: what did not change is what the previous
//! frame's result holds, and what changed was searched. The one gap is an object that
//! appears on a changes-only frame larger than the margin and changed only in part (so that
//! the motion regions cut it): it is found by the next full search, at most
//! [`CHANGES_ONLY`] frames later, and the tracker's temporal padding (5 frames by default:
//! the box first found held on the frames before) covers the frames before.
//!
//! **The bounds count frames, not searches.** A caller that searches only every n-th frame
//! says so ([`Search::detect_after`]): a search then runs every sweep band whose turn came
//! in the frames since the previous search, and a small face stays "recent" for
//! [`RECENT_FRAMES`] frames (and at least until the next search). Someone who turns to the
//! camera without moving is then found within `SWEEP_FRAMES + n - 1` frames, whatever n is.

use veil_core::{BoxF, FrameRef, Rect};

use crate::cells::CELL;
use crate::motion::{global_shift, moved_cells, Samples};
use crate::regions::{
    changes_plan, merge_contained, motion_regions, net_px, sample_luma, Geometry, Plan, CARRIED_IOU,
};
use crate::{nms, CenterFace, Class, DetectError, Detection, Detector, ModelInfo, NanoDet};

/// A detector that can also run on a region of the frame at a chosen scale: what
/// [`Search`] needs. Implemented by [`CenterFace`] and [`NanoDet`].
pub trait RegionDetector: Detector {
    /// Object height in network input pixels the detector finds reliably.
    const NET_MIN_PX: f32;
    /// What the objects are called in messages ("face", "person").
    const WHAT: &'static str;
    /// Whether a detection lying mostly inside another of the same class is the same object
    /// seen partly (a face cut by the edge of a region run): true for faces, which do not
    /// nest; false for persons, where a child in front of an adult is a second person.
    const MERGE_CONTAINED: bool;
    /// Network pixels per frame pixel of the whole-frame run.
    fn frame_scale(&self, width: u32, height: u32) -> f32;
    /// Network input pixels of the whole-frame run.
    fn frame_cost(&self, width: u32, height: u32) -> u64;
    /// Detect in `region` of `frame` sampled at `scale`; boxes in frame pixels.
    ///
    /// # Errors
    /// As [`Detector::detect`], and [`DetectError::InputMismatch`] for a bad region.
    fn detect_region(
        &mut self,
        frame: &FrameRef<'_>,
        region: Rect,
        scale: f32,
    ) -> Result<Vec<Detection>, DetectError>;
    /// IoU at which overlapping detections of different runs are merged.
    fn merge_iou(&self) -> f32;
}

/// [`RegionDetector`] for a detector type with inherent `frame_scale`, `letterbox_for`,
/// `detect_region` and `nms_iou` of the same signatures.
macro_rules! region_detector {
    ($t:ty, $px:expr, $what:literal, $contained:expr) => {
        impl RegionDetector for $t {
            const NET_MIN_PX: f32 = $px;
            const WHAT: &'static str = $what;
            const MERGE_CONTAINED: bool = $contained;
            fn frame_scale(&self, width: u32, height: u32) -> f32 {
                <$t>::frame_scale(self, width, height)
            }
            fn frame_cost(&self, width: u32, height: u32) -> u64 {
                let lb = self.letterbox_for(width, height);
                (lb.net_w * lb.net_h) as u64
            }
            fn detect_region(
                &mut self,
                frame: &FrameRef<'_>,
                region: Rect,
                scale: f32,
            ) -> Result<Vec<Detection>, DetectError> {
                <$t>::detect_region(self, frame, region, scale)
            }
            fn merge_iou(&self) -> f32 {
                self.nms_iou()
            }
        }
    };
}
region_detector!(CenterFace, NET_FACE_PX, "face", true);
region_detector!(NanoDet, NET_PERSON_PX, "person", false);

/// Faces of at least a minimum height: [`Search`] over [`CenterFace`].
pub type FaceSearch = Search<CenterFace>;
/// Persons of at least a minimum height: [`Search`] over [`NanoDet`].
pub type PersonSearch = Search<NanoDet>;

/// Face height in network input pixels that CenterFace finds reliably. Measured with the
/// group photo shrunk into 1080p frames (`examples/minface.rs`): every face of 12.7 px in
/// the network input and more was found at the default input, every face of 11.5 px at long
/// side 960; 14 leaves a margin.
pub const NET_FACE_PX: f32 = 14.0;
/// Person height in network input pixels that NanoDet finds reliably. Measured on the vtest
/// street scene sampled at scales 0.25-0.7 (`examples/minperson.rs`): every pedestrian of
/// 23 px and more in the network input was found, some of 19-22 px; 28 leaves a margin.
pub const NET_PERSON_PX: f32 = 28.0;
/// Default minimum person height searched for, in frame pixels: a person this tall has a
/// face of about 10 px, far below what can be recognised, so every person whose face could
/// be recognised is also covered by a body box. 40 px costs about twice as much.
pub const DEFAULT_MIN_PERSON: u32 = 80;
/// Default minimum face height guaranteed, in frame pixels.
pub const DEFAULT_MIN_FACE: u32 = 24;
/// Smallest minimum face height accepted: below it the fine scale would upsample the frame
/// more than [`MAX_SCALE`].
pub const MIN_MIN_FACE: u32 = 8;
/// Largest fine scale (network pixels per frame pixel).
pub const MAX_SCALE: f32 = 14.0 / 8.0;
/// Frames searched only where they changed after each full search, in a stream searched
/// frame by frame, that the analysis of veil-redact uses (see the module docs and
/// [`Search::set_changes_only`]): a full search every third frame. Measured on the
/// bench's 720p group and 1080p distant-face clips (`examples/search_cost.rs` in
/// veil-redact): face network input per frame 298k and 594k pixels with every frame searched
/// in full, 181k and 434k with a full search every 2nd frame, 141k and 387k every 3rd, and in
/// the exports every face of the minimum size or more hidden either way.
pub const CHANGES_ONLY: u32 = 2;
/// Frames a small face keeps its region active after it was last found (and at least
/// until the next search, when searches are further apart).
pub const RECENT_FRAMES: u32 = 12;
/// The sweep covers the whole frame once every this many frames of the stream (not
/// searches): one of `SWEEP_BANDS` bands of rows every `SWEEP_EVERY` frames; a search
/// `n` frames after the previous one runs every band whose turn came in between.
pub const SWEEP_FRAMES: u32 = SWEEP_BANDS * SWEEP_EVERY;
/// Bands of rows the sweep divides the frame into.
const SWEEP_BANDS: u32 = 6;
/// Frames between two sweep bands.
const SWEEP_EVERY: u32 = 4;

/// What one frame of the search cost: which runs were made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Frames searched.
    pub frames: u64,
    /// Frames where the default input was enough (the frame is small enough for the minimum size).
    pub default_only: u64,
    /// Frames searched with the default input plus fine-scale regions.
    pub with_regions: u64,
    /// Frames searched whole at the fine scale.
    pub whole_fine: u64,
    /// Frames searched only where they changed since the previous frame, searched in full
    /// (see the module docs).
    pub changes_only: u64,
    /// Objects carried over unchanged from the previous frame by changes-only searches.
    pub carried: u64,
    /// Fine-scale regions run.
    pub regions: u64,
    /// Network input pixels of all runs (the cost measure).
    pub net_pixels: u64,
    /// Frames where the camera's own motion (a pan) was taken out before looking for
    /// motion.
    pub compensated: u64,
}

/// Every object (face or person) of at least `min_size` pixels tall, at a bounded cost; see
/// the module docs.
///
/// It implements [`Detector`], so it stands wherever its detector does. It keeps state
/// between frames (the previous frame's luma samples, recent small objects, the sweep
/// band): feed it the frames of one stream in order.
pub struct Search<D> {
    det: D,
    min_size: u32,
    geo: Option<Geometry>,
    prev: Samples,
    cur: Samples,
    active: Vec<bool>,
    /// Small objects found recently, with the frames since they were found.
    recent: Vec<(BoxF, u32)>,
    /// The frame of the stream being searched, counted from its first (`None`: no frame
    /// yet); the sweep's position.
    at: Option<u64>,
    compensate: bool,
    /// A full search every this many frames, the frames between searched only where they
    /// changed (1: every frame in full).
    full_every: u32,
    /// Changes-only searches since the last full search.
    chain: u32,
    /// The detections of the previous frame when it was searched in full and directly
    /// precedes the next one (the base a changes-only search carries from).
    base: Option<Vec<Detection>>,
    stats: SearchStats,
}

impl<D: std::fmt::Debug> std::fmt::Debug for Search<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("detector", &self.det)
            .field("min_size", &self.min_size)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<D: RegionDetector> Search<D> {
    /// Search with `det` (its own input size is the whole-frame run) for objects of at least
    /// `min_size` frame pixels tall.
    ///
    /// # Errors
    /// [`DetectError::InvalidConfig`] if the fine scale `D::NET_MIN_PX / min_size` would
    /// exceed [`MAX_SCALE`] (for faces: `min_size` below [`MIN_MIN_FACE`]).
    pub fn new(det: D, min_size: u32) -> Result<Self, DetectError> {
        check_min::<D>(min_size)?;
        Ok(Search {
            det,
            min_size,
            geo: None,
            prev: Samples::default(),
            cur: Samples::default(),
            active: Vec::new(),
            recent: Vec::new(),
            at: None,
            compensate: true,
            full_every: 1,
            chain: 0,
            base: None,
            stats: SearchStats::default(),
        })
    }

    /// Change the minimum height; the next frame starts the stream afresh.
    ///
    /// # Errors
    /// As [`Search::new`]; the search is left unchanged.
    pub fn set_min_size(&mut self, min_size: u32) -> Result<(), DetectError> {
        check_min::<D>(min_size)?;
        self.min_size = min_size;
        self.reset();
        Ok(())
    }

    /// Whether the camera's own motion (a pan) is taken out before looking for motion (on
    /// by default). Off, a panning camera makes every cell active and every frame is
    /// searched whole at the fine scale: the same objects are found, at a higher cost.
    pub fn set_motion_compensation(&mut self, on: bool) {
        self.compensate = on;
    }

    /// Search the `n` frames after each full search only where they changed (see the module
    /// docs; [`CHANGES_ONLY`] is what the analysis uses); 0, the default, searches every
    /// frame in full: the same objects are found, at a higher cost. At most `n` frames pass
    /// before an object that a changes-only search saw cut is found, so use it only where
    /// the boxes are held at least `n` frames around every detection (a tracker's temporal
    /// padding); a caller that redacts each frame's detections alone should keep 0.
    pub fn set_changes_only(&mut self, n: u32) {
        self.full_every = n.saturating_add(1);
        self.base = None;
    }

    /// The minimum height this search guarantees to look for, in frame pixels.
    pub fn min_size(&self) -> u32 {
        self.min_size
    }

    /// The detector searched with (its settings, e.g. the threshold, are what a manifest
    /// records).
    pub fn detector(&self) -> &D {
        &self.det
    }

    /// What the search has cost so far.
    pub fn stats(&self) -> SearchStats {
        self.stats
    }

    /// Forget the stream: the next frame is searched whole at the fine scale.
    pub fn reset(&mut self) {
        self.geo = None;
        self.prev = Samples::default();
        self.recent.clear();
        self.at = None;
        self.base = None;
    }

    fn geometry(&self, width: u32, height: u32) -> Geometry {
        let coarse = self.det.frame_scale(width, height);
        let fine = (D::NET_MIN_PX / self.min_size as f32).min(MAX_SCALE);
        let coarse_min = D::NET_MIN_PX / coarse;
        let cols = width.div_ceil(CELL) as usize;
        let rows = height.div_ceil(CELL) as usize;
        Geometry {
            width,
            height,
            cols,
            rows,
            coarse,
            fine,
            coarse_min,
            margin: (coarse_min / CELL as f32).ceil() as usize,
            coarse_px: self.det.frame_cost(width, height),
            whole_fine_px: net_px(width, height, fine),
        }
    }

    /// Search `frame`, which comes `frames` frames after the previous frame searched in this
    /// stream: 1 for the next frame, n when the caller searches only every n-th frame (0
    /// counts as 1; the first frame of a stream ignores it). The sweep and the recent small
    /// objects count these frames, so their bounds hold in frames whatever the step (see the
    /// module docs). [`Detector::detect`] is `detect_after(frame, 1)`.
    ///
    /// # Errors
    /// As [`Detector::detect`].
    pub fn detect_after(&mut self, frame: &FrameRef<'_>, frames: u64) -> Result<Vec<Detection>, DetectError> {
        self.search(frame, frames)
    }

    fn search(&mut self, frame: &FrameRef<'_>, frames: u64) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = (frame.width(), frame.height());
        if !self.geo.as_ref().is_some_and(|g| g.width == w && g.height == h) {
            self.reset();
            self.geo = Some(self.geometry(w, h));
        }
        let Some(g) = self.geo.clone() else {
            return Ok(Vec::new());
        };
        // Where the stream is: the sweep bands due and the age of recent objects follow it.
        let step = if self.at.is_some() { frames.max(1) } else { 0 };
        let at = self.at.map_or(0, |a| a.saturating_add(step));
        self.at = Some(at);
        let age = u32::try_from(step).unwrap_or(u32::MAX);
        // Small faces keep their surroundings active for a while: RECENT_FRAMES frames, and
        // at least on the first search after they were found.
        self.recent.retain_mut(|(_, a)| {
            let found_last_search = *a == 0;
            *a = a.saturating_add(age);
            found_last_search || *a <= RECENT_FRAMES
        });
        self.stats.frames += 1;
        if g.coarse >= g.fine {
            self.base = None;
            self.stats.default_only += 1;
            self.stats.net_pixels += g.coarse_px;
            return self.det.detect(frame);
        }
        sample_luma(frame, &g, &mut self.cur);
        // A changes-only search needs the directly preceding frame searched in full.
        let base = self.base.take().filter(|_| step == 1);
        let plan = self.plan(&g, sweep_due(at, step), base.as_deref());
        std::mem::swap(&mut self.prev, &mut self.cur);
        let whole = Rect::new(0, 0, w, h);
        let (dets, full) = match plan {
            Plan::Whole => {
                self.stats.whole_fine += 1;
                self.stats.net_pixels += g.whole_fine_px;
                (self.det.detect_region(frame, whole, g.fine)?, true)
            }
            Plan::Regions(rects) => {
                self.stats.with_regions += 1;
                self.stats.net_pixels += g.coarse_px;
                let mut all = self.det.detect(frame)?;
                all.extend(self.run_regions(frame, &g, &rects)?);
                (self.merge(all), true)
            }
            Plan::Changes { rects, carried } => {
                self.stats.changes_only += 1;
                self.stats.carried += carried.len() as u64;
                let found = self.run_regions(frame, &g, &rects)?;
                let found = self.merge(found);
                // Only what was found counts as recent, not what was carried.
                self.note_recent(&g, &found);
                let mut all = found;
                all.extend(carried);
                (self.merge(all), false)
            }
        };
        if full {
            self.note_recent(&g, &dets);
            self.chain = 0;
        } else {
            self.chain += 1;
        }
        // The next frame may be searched for changes only while the chain is short enough.
        self.base = (self.chain + 1 < self.full_every).then(|| dets.clone());
        Ok(dets)
    }

    /// Run the detector on `rects` at the fine scale.
    fn run_regions(
        &mut self,
        frame: &FrameRef<'_>,
        g: &Geometry,
        rects: &[Rect],
    ) -> Result<Vec<Detection>, DetectError> {
        let mut all = Vec::new();
        for &r in rects {
            self.stats.regions += 1;
            self.stats.net_pixels += net_px(r.w, r.h, g.fine);
            all.extend(self.det.detect_region(frame, r, g.fine)?);
        }
        Ok(all)
    }

    /// Detections of several runs of one frame as one set (see [`merge_contained`]).
    fn merge(&self, all: Vec<Detection>) -> Vec<Detection> {
        let kept = nms(all, self.det.merge_iou());
        if D::MERGE_CONTAINED {
            merge_contained(kept)
        } else {
            kept
        }
    }

    /// Remember the small objects among `dets` as found on this frame.
    fn note_recent(&mut self, g: &Geometry, dets: &[Detection]) {
        self.recent.extend(
            dets.iter()
                .filter(|d| d.bbox.h < g.coarse_min * 1.5)
                .map(|d| (d.bbox, 0)),
        );
    }

    /// What to run on this frame: a changes-only search when `base` (the detections of the
    /// previous frame, searched in full) is given and that costs less, else a full search.
    fn plan(&mut self, g: &Geometry, due: [bool; SWEEP_BANDS as usize], base: Option<&[Detection]>) -> Plan {
        if self.prev.data.len() != self.cur.data.len() || self.prev.data.is_empty() {
            return Plan::Whole; // first frame of the stream
        }
        let (cols, rows) = (g.cols, g.rows);
        // Motion relative to the scene: a panning camera's own motion is taken out.
        let shift = if self.compensate {
            global_shift(&self.prev, &self.cur)
        } else {
            (0.0, 0.0)
        };
        if shift != (0.0, 0.0) {
            self.stats.compensated += 1;
        }
        let moved = moved_cells(&self.prev, &self.cur, shift, cols, rows);
        let regions = motion_regions(
            g,
            &moved,
            &due,
            self.recent.iter().map(|(b, _)| b),
            &mut self.active,
        );
        let cost_of = |r: &Rect| net_px(r.w, r.h, g.fine);
        let regions_cost: u64 = regions.iter().map(cost_of).sum();
        // The cheaper full search: the default run plus the regions, or the whole frame fine.
        let full_cost = (g.coarse_px + regions_cost).min(g.whole_fine_px);
        if let Some(base) = base {
            let (resee, carried, from) = changes_plan(g, &moved, shift, base);
            // A recent small object carried unchanged needs no search around it: what the
            // search there would find is what is carried.
            let uncarried = self
                .recent
                .iter()
                .map(|(b, _)| b)
                .filter(|b| !from.iter().any(|f| f.iou(b) >= CARRIED_IOU));
            let mut rects = motion_regions(g, &moved, &due, uncarried, &mut self.active);
            rects.extend(resee);
            let cost: u64 = rects.iter().map(cost_of).sum();
            if cost < full_cost {
                return Plan::Changes { rects, carried };
            }
        }
        if g.coarse_px + regions_cost < g.whole_fine_px {
            Plan::Regions(regions)
        } else {
            Plan::Whole
        }
    }
}

/// The sweep bands due on frame `at` of the stream, searched `step` frames after the
/// previous search (0: the first frame): band `k` has its turn on the frames `t` with
/// `t % SWEEP_FRAMES == k * SWEEP_EVERY`, and is due when such a frame lies in
/// `at - step + 1 ..= at`.
fn sweep_due(at: u64, step: u64) -> [bool; SWEEP_BANDS as usize] {
    let mut due = [false; SWEEP_BANDS as usize];
    if step >= u64::from(SWEEP_FRAMES) {
        return [true; SWEEP_BANDS as usize];
    }
    for t in (at - step + 1)..=at {
        if t % u64::from(SWEEP_EVERY) == 0 {
            due[((t / u64::from(SWEEP_EVERY)) % u64::from(SWEEP_BANDS)) as usize] = true;
        }
    }
    due
}

fn check_min<D: RegionDetector>(min_size: u32) -> Result<(), DetectError> {
    if min_size == 0 || D::NET_MIN_PX / min_size as f32 > MAX_SCALE {
        let least = (D::NET_MIN_PX / MAX_SCALE).ceil();
        return Err(DetectError::InvalidConfig {
            reason: format!(
                "minimum {} height {min_size} px is below {least} px (the detector would have to upsample the frame more than {MAX_SCALE}x)",
                D::WHAT
            ),
        });
    }
    Ok(())
}

impl<D: RegionDetector> Detector for Search<D> {
    fn detect(&mut self, frame: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        self.search(frame, 1)
    }

    fn model(&self) -> &ModelInfo {
        self.det.model()
    }

    fn class(&self) -> Class {
        self.det.class()
    }

    fn device(&self) -> crate::Device {
        self.det.device()
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
