//! The activity gate of pass 1: the detectors run where something can be, so that the cost of
//! a long window follows what happens in it, not its hours (issue 31, item 4).
//!
//! CCTV footage is mostly an empty scene. A frame is left unsearched only when all of these
//! hold, and otherwise it is searched as every frame was before (fail closed):
//!
//! - it is not the first frame of the window (always searched in full);
//! - a full search ran less than the interval ago ([`Gate::new`], 1 s by default, recorded
//!   in the tracks file and the manifest): whatever is skipped, both detectors run at least
//!   that often;
//! - no detection of either detector (of any score) was made within a track's lifetime
//!   (`max_age + 1` frames) before it: a live track, coasting frames included, is followed;
//! - it shows the same scene as the **background**: the last first-frame or interval search
//!   on which both detectors found nobody while no track was alive. "The same" means that, on luma block
//!   means ([`Luma`], 8x8 pixels: sensor and compression noise averages out), after taking
//!   out a common brightness offset of at most [`MAX_OFFSET`] levels (slow light changes),
//!   no block differs by more than [`SAMPLE_LEVEL`] levels and no group of 4x4 blocks by more
//!   than [`CELL_LEVEL`] on average. A person standing still is not "the same" as the empty
//!   background, however long they stand.
//!
//! A skipped frame's result is therefore "nobody here" only because it equals a frame
//! searched in full with nobody in it. Two stages share the decision, so that the two
//! detectors keep running at once on different frames:
//!
//! - the face stage decides from what the tracking stage has told it so far
//!   ([`Feedback::snapshot`], a few frames behind): it searches or skips ([`Gate::verdict`]);
//! - the tracking stage, which runs the person detector and knows every earlier frame's
//!   detections, checks each skipped frame again against the exact state
//!   ([`Feedback::must_search`]): one that a detection on a frame just before, or a newer
//!   background, says must be searched is searched there and then (with a face search of
//!   its own, loaded when first needed), as a full search.

use std::sync::{Arc, Mutex, MutexGuard};

use veil_core::{FrameRef, PixelFormat};

/// Frame pixels per side of one luma block.
const BLOCK: usize = 8;
/// Blocks per side of a cell, the group whose mean difference is also checked (cells start
/// every half cell).
const CELL: usize = 4;
/// A block differs when its mean luma is more than this many levels from the background's,
/// once the common offset is taken out. Noise and compression of a static scene move a
/// block mean by 1-3 levels; a face of the minimum size covers several whole blocks.
pub(super) const SAMPLE_LEVEL: u32 = 12;
/// A cell differs when its blocks differ from the background by more than this many levels
/// on average: a low-contrast object over a larger area.
pub(super) const CELL_LEVEL: u32 = 5;
/// The largest common brightness offset taken out; a larger change of the whole picture
/// (lights switched, the camera's gain) is a change.
pub(super) const MAX_OFFSET: i32 = 16;

/// Bytes of decoded frames one queue of the gated analysis may hold, at most (64 MiB: 21
/// frames of 1080p I420, 101 of 768x576).
const QUEUE_BYTES: usize = 64 << 20;

/// Frames in flight between two stages of the analysis: `depth` (the pipeline's own) without
/// the gate; with it, one `interval` of frames more, so that decoding and the tracking stage
/// go on while the face stage runs a full search. With the gate the face stage's work comes in
/// bursts (one search an interval, little between): with 4 frames in flight the decoder
/// stopped for most of every search. Bounded by [`QUEUE_BYTES`] of `format` frames of
/// `width` x `height`, never below `depth`.
pub(super) fn queue_depth(
    depth: usize,
    interval: Option<f64>,
    fps: f64,
    (format, width, height): (PixelFormat, u32, u32),
) -> usize {
    let Some(interval) = interval else {
        return depth;
    };
    let frame: usize = (0..3)
        .filter_map(|p| format.plane_layout(width, height, p))
        .map(|l| l.row_bytes() * l.height as usize)
        .sum();
    let per_interval = (interval * fps).ceil();
    let per_interval = if per_interval.is_finite() && per_interval > 0.0 {
        per_interval.min(QUEUE_BYTES as f64) as usize
    } else {
        0
    };
    (depth + per_interval).min(QUEUE_BYTES / frame.max(1)).max(depth)
}

/// Luma block means of one frame ([`BLOCK`] x [`BLOCK`] pixels each, row-major): the Y plane
/// of 4:2:0 frames and GRAY8, the green channel of packed RGB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Luma {
    w: usize,
    h: usize,
    data: Vec<u8>,
}

impl Luma {
    /// The block means of `frame` (blocks at the right and bottom edges cover what is left).
    pub(super) fn of(frame: &FrameRef<'_>) -> Luma {
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        let (w, h) = (fw.div_ceil(BLOCK), fh.div_ceil(BLOCK));
        let (ch, bpp) = match frame.format() {
            PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Gray8 => (0, 1),
            PixelFormat::Rgba => (1, 4),
            _ => (1, 3),
        };
        let mut data = Vec::with_capacity(w * h);
        let mut sums = vec![0u32; w];
        let Some(plane) = frame.planes().first() else {
            return Luma::default();
        };
        for by in 0..h {
            sums.fill(0);
            let rows = by * BLOCK..((by + 1) * BLOCK).min(fh);
            let n_rows = rows.len();
            for y in rows {
                let row = plane.row(y as u32);
                if bpp == 1 {
                    for (sum, px) in sums.iter_mut().zip(row[..fw].chunks(BLOCK)) {
                        *sum += px.iter().map(|&v| u32::from(v)).sum::<u32>();
                    }
                } else {
                    for (sum, px) in sums.iter_mut().zip(row[..fw * bpp].chunks(BLOCK * bpp)) {
                        *sum += px
                            .iter()
                            .skip(ch)
                            .step_by(bpp)
                            .map(|&v| u32::from(v))
                            .sum::<u32>();
                    }
                }
            }
            for (bx, &s) in sums.iter().enumerate() {
                let n = (BLOCK.min(fw - bx * BLOCK) * n_rows) as u32;
                data.push(((s + n / 2) / n.max(1)) as u8);
            }
        }
        Luma { w, h, data }
    }

    /// Whether this frame shows the same scene as `background` (see the module docs): false
    /// for frames of another size, a common brightness change above [`MAX_OFFSET`], a block
    /// that differs by more than [`SAMPLE_LEVEL`] or a cell by more than [`CELL_LEVEL`] on
    /// average.
    pub(super) fn same_scene(&self, background: &Luma) -> bool {
        if (self.w, self.h) != (background.w, background.h) || self.data.is_empty() {
            return false;
        }
        // The common offset: the median difference (a histogram, 511 bins).
        let mut hist = [0u32; 511];
        for (&c, &b) in self.data.iter().zip(&background.data) {
            hist[(i32::from(c) - i32::from(b) + 255) as usize] += 1;
        }
        let half = self.data.len().div_ceil(2) as u32;
        let mut seen = 0;
        let mut offset = 0i32;
        for (i, &n) in hist.iter().enumerate() {
            seen += n;
            if seen >= half {
                offset = i as i32 - 255;
                break;
            }
        }
        if offset.abs() > MAX_OFFSET {
            return false;
        }
        let residual =
            |i: usize| (i32::from(self.data[i]) - i32::from(background.data[i]) - offset).unsigned_abs();
        if (0..self.data.len()).any(|i| residual(i) > SAMPLE_LEVEL) {
            return false;
        }
        // Cells overlap by half, so that an object straddling two is wholly inside one.
        for cy in (0..self.h).step_by(CELL / 2) {
            for cx in (0..self.w).step_by(CELL / 2) {
                let (mut sum, mut n) = (0u32, 0u32);
                for y in cy..(cy + CELL).min(self.h) {
                    for x in cx..(cx + CELL).min(self.w) {
                        sum += residual(y * self.w + x);
                        n += 1;
                    }
                }
                if sum > CELL_LEVEL * n {
                    return false;
                }
            }
        }
        true
    }
}

/// What the tracking stage knows after the frames it has processed.
#[derive(Debug, Clone, Default)]
pub(super) struct Known {
    /// Frames up to this one are searched: a detection was made within a track's lifetime
    /// before them.
    hold_until: Option<u64>,
    /// The last renewing search ([`Verdict::Search`]) with nobody found and no track alive.
    background: Option<Arc<Luma>>,
}

impl Known {
    /// Whether frame `n` with block means `luma` must be searched: a track may be alive, or
    /// it does not show the background (or there is none yet).
    fn must_search(&self, n: u64, luma: &Luma) -> bool {
        self.hold_until.is_some_and(|h| n <= h)
            || !self.background.as_deref().is_some_and(|b| luma.same_scene(b))
    }
}

/// How a frame is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Run the detectors. `full`: both of them, whatever the person detector's own step (the
    /// first frame, the interval, and the first frame after skipped ones). `renew`: the first
    /// frame or the interval's search, which becomes the background if nobody is found and
    /// no track is alive.
    Search { full: bool, renew: bool },
    /// Leave it: it shows the empty background.
    Skip,
}

#[cfg(test)]
impl Verdict {
    /// Whether the detectors run.
    pub(super) fn searched(self) -> bool {
        matches!(self, Verdict::Search { .. })
    }
}

/// The face stage's side of the gate: the interval, and whether the previous frame was
/// skipped.
#[derive(Debug)]
pub(super) struct Gate {
    interval: f64,
    last_full: Option<f64>,
    skipping: bool,
    skipped: u64,
}

impl Gate {
    /// A gate that runs a full search at least every `interval` seconds of the stream.
    pub(super) fn new(interval: f64) -> Gate {
        Gate {
            interval,
            last_full: None,
            skipping: false,
            skipped: 0,
        }
    }

    /// Frames skipped so far.
    pub(super) fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The verdict on frame `n` at `time` (seconds) with block means `luma`, given `known`.
    /// A [`Verdict::Skip`] is final only when `known` covers every frame before `n`; with
    /// less it is checked again by [`Feedback::must_search`].
    pub(super) fn verdict(&self, n: u64, time: f64, luma: &Luma, known: &Known) -> Verdict {
        // A time that is not a number (never from a decoder) counts as due.
        let interval_due = self
            .last_full
            .is_none_or(|t| (time - t).partial_cmp(&self.interval) != Some(std::cmp::Ordering::Less));
        if interval_due {
            return Verdict::Search {
                full: true,
                renew: true,
            };
        }
        if known.must_search(n, luma) {
            Verdict::Search {
                full: self.skipping,
                renew: false,
            }
        } else {
            Verdict::Skip
        }
    }

    /// The verdict on frame `n` from what `fb` knows so far, acted on.
    pub(super) fn decide(&mut self, fb: &Feedback, (n, time): (u64, f64), luma: &Luma) -> Verdict {
        let v = self.verdict(n, time, luma, &fb.snapshot());
        self.note(v, time);
        v
    }

    /// Act on `verdict` for the frame at `time`.
    pub(super) fn note(&mut self, verdict: Verdict, time: f64) {
        match verdict {
            Verdict::Search { renew, .. } => {
                if renew {
                    self.last_full = Some(time);
                }
                self.skipping = false;
            }
            Verdict::Skip => {
                self.skipping = true;
                self.skipped += 1;
            }
        }
    }
}

/// What the tracking stage tells the face stage: [`Known`], kept by the tracking stage (its
/// only writer, so exact there) and read by the face stage.
#[derive(Debug)]
pub(super) struct Feedback {
    known: Mutex<Known>,
    /// Frames a detection keeps the search going: a track's lifetime (`max_age + 1`).
    hold: u64,
}

impl Feedback {
    /// Feedback for tracks that live `max_age + 1` frames after their last detection.
    pub(super) fn new(max_age: u64) -> Feedback {
        Feedback {
            known: Mutex::new(Known::default()),
            hold: max_age.saturating_add(1),
        }
    }

    /// A poisoned lock (a stage panicked; its join reports it) is read through: [`Known`]
    /// is replaced whole or a field at a time, never left half written.
    fn lock(&self) -> MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What is known so far (possibly not yet about the latest frames sent).
    pub(super) fn snapshot(&self) -> Known {
        self.lock().clone()
    }

    /// For the tracking stage, on a frame the face stage skipped, every earlier frame
    /// processed: whether it must be searched after all (see [`Known::must_search`]).
    pub(super) fn must_search(&self, n: u64, luma: &Luma) -> bool {
        self.lock().must_search(n, luma)
    }

    /// The tracking stage searched frame `n`: `found` whether either detector returned
    /// anything on it; `empty` the frame's block means when it was a renewing search
    /// ([`Verdict::Search`]) and both detectors found nothing (it becomes the background if
    /// no track is alive).
    pub(super) fn searched(&self, n: u64, found: bool, empty: Option<Luma>) {
        let mut k = self.lock();
        if found {
            k.hold_until = Some(n.saturating_add(self.hold));
        } else if let Some(l) = empty {
            if k.hold_until.is_none_or(|h| n > h) {
                k.background = Some(Arc::new(l));
            }
        }
    }
}

/// What the face stage did with a frame, for the tracking stage.
pub(super) enum FaceStep {
    /// Not a frame the detectors are due on (`DetectOptions::every`).
    Between,
    /// Skipped by the face stage's gate (it showed the empty background as far as the face
    /// stage knew): the frame's block means, for the tracking stage's check.
    Skipped(Luma),
    /// Searched: the faces found; `full` as in [`Verdict::Search`]; the frame's block means
    /// when it is a renewing search (a background if nobody is found).
    Searched {
        faces: Vec<veil_core::Detection>,
        full: bool,
        renew: Option<Luma>,
    },
}

#[cfg(test)]
#[path = "activity_tests.rs"]
mod tests;
