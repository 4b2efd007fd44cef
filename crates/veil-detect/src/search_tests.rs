//! Unit tests of the search's schedule (module `search`): which regions a search runs,
//! frame by frame.

use super::*;
use veil_core::{Frame, PixelFormat};

/// The search's schedule with a stand-in for the network (the real detectors are tested
/// in tests/detect.rs): a face detector of CenterFace's default input geometry that never
/// finds the small face in the whole-frame run, and finds it in a fine-scale run whose
/// region holds it whole, from the frame it becomes visible on. Frames are identical (no
/// motion): the face is someone who turns to the camera without moving.
struct TurningFace {
    info: ModelInfo,
    /// Long side of the whole-frame input (CenterFace's default: 640).
    long_side: f32,
    face: BoxF,
    /// The face is visible from this frame on (`None`: on no frame).
    visible: Option<u64>,
    /// Only on this frame (after it, not visible).
    only: bool,
    /// The frame being searched, set by the test.
    now: u64,
    /// Whether a fine-scale run of the current frame held the face's box.
    searched: bool,
}

impl TurningFace {
    fn new(long_side: f32, face: BoxF, visible: Option<u64>, only: bool) -> Self {
        TurningFace {
            info: stand_in("turning-face"),
            long_side,
            face,
            visible,
            only,
            now: 0,
            searched: false,
        }
    }
}

/// The model information of a stand-in network.
fn stand_in(name: &str) -> ModelInfo {
    ModelInfo {
        name: name.into(),
        file: "none".into(),
        sha256: String::new(),
        licence: String::new(),
        source: String::new(),
    }
}

/// Whether region `r` holds box `f` whole.
fn holds(r: Rect, f: BoxF) -> bool {
    r.x as f32 <= f.x
        && r.y as f32 <= f.y
        && f.x + f.w <= (r.x as i64 + i64::from(r.w)) as f32
        && f.y + f.h <= (r.y as i64 + i64::from(r.h)) as f32
}

impl Detector for TurningFace {
    fn detect(&mut self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        Ok(Vec::new()) // too small for the whole-frame run
    }
    fn model(&self) -> &ModelInfo {
        &self.info
    }
    fn class(&self) -> Class {
        Class::Face
    }
    fn device(&self) -> crate::Device {
        crate::Device::Cpu
    }
}

impl RegionDetector for TurningFace {
    const NET_MIN_PX: f32 = NET_FACE_PX;
    const WHAT: &'static str = "face";
    const MERGE_CONTAINED: bool = true;
    fn frame_scale(&self, width: u32, height: u32) -> f32 {
        self.long_side / width.max(height) as f32
    }
    fn frame_cost(&self, width: u32, height: u32) -> u64 {
        net_px(width, height, self.frame_scale(width, height))
    }
    fn detect_region(&mut self, _: &FrameRef<'_>, r: Rect, _: f32) -> Result<Vec<Detection>, DetectError> {
        let f = self.face;
        let holds = holds(r, f);
        self.searched |= holds;
        let shown = self
            .visible
            .is_some_and(|v| if self.only { self.now == v } else { self.now >= v });
        Ok(if holds && shown {
            vec![Detection::new(Class::Face, 0.9, f)]
        } else {
            Vec::new()
        })
    }
    fn merge_iou(&self) -> f32 {
        0.3
    }
}

/// A frame of `width` x `height` and a small face in the middle of sweep band `band` (of
/// six). With a whole-frame input a third of the frame's size (1080p at the default
/// input), a 20 px face needs the fine scale.
fn frame_and_face(width: u32, height: u32, band: u32) -> (Frame, BoxF) {
    let frame = Frame::new(PixelFormat::Gray8, width, height).unwrap();
    let band_px = height as f32 / SWEEP_BANDS as f32;
    let face = BoxF::new(
        width as f32 / 2.0,
        band_px * (band as f32 + 0.5) - 10.0,
        16.0,
        20.0,
    );
    (frame, face)
}

#[test]
fn the_sweep_finds_a_still_face_within_its_frames_whatever_the_step() {
    // A frame of a quarter of 1080p, seen at a third of its size as 1080p is at the
    // default input: the same schedule, at a quarter of the test's cost.
    for step in [1u64, 2, 5, 6, 7, 23, 24, 60] {
        for band in 0..SWEEP_BANDS {
            for appears in [5u64, 18] {
                let (frame, face) = frame_and_face(960, 540, band);
                let mut s = Search::new(
                    TurningFace::new(320.0, face, Some(appears), false),
                    DEFAULT_MIN_FACE,
                )
                .unwrap();
                let mut found = None;
                let mut t = 0;
                while found.is_none() && t < appears + 1000 {
                    s.det.now = t;
                    let dets = s.detect_after(&frame.as_ref(), step).unwrap();
                    if !dets.is_empty() {
                        found = Some(t);
                    }
                    t += step;
                }
                let found = found.unwrap_or_else(|| panic!("step {step}, band {band}: never found"));
                // Within SWEEP_FRAMES frames of appearing, plus the frames to the next search.
                let bound = u64::from(SWEEP_FRAMES) + step - 1;
                assert!(
                    found >= appears && found - appears <= bound,
                    "step {step}, band {band}: appeared on frame {appears}, found on frame {found} \
                     ({} frames later; bound {bound})",
                    found - appears
                );
            }
        }
    }
}

#[test]
fn a_recent_small_face_is_searched_around_for_recent_frames_whatever_the_step() {
    // A face in band 2 seen on the first frame only (someone who then looks away): the
    // searches within RECENT_FRAMES frames, and the first one after, look where it was;
    // later ones do not (unless the sweep's band 2 is due: frames 8, 32, 56, ...).
    for (step, around, not_around) in [
        (1u64, vec![1u64, 5, 7, 12], vec![13u64, 14, 15]),
        (6, vec![6], vec![18, 24]),
        (13, vec![13], vec![26]),
    ] {
        let (frame, face) = frame_and_face(1920, 1080, 2);
        let mut s = Search::new(TurningFace::new(640.0, face, Some(0), true), DEFAULT_MIN_FACE).unwrap();
        s.set_motion_compensation(false);
        let mut t = 0;
        while t <= 30 {
            s.det.now = t;
            s.det.searched = false;
            let dets = s.detect_after(&frame.as_ref(), step).unwrap();
            if t == 0 {
                assert_eq!(dets.len(), 1, "found on the first frame (searched whole)");
            }
            if around.contains(&t) {
                assert!(
                    s.det.searched,
                    "step {step}: frame {t} did not search where the face was"
                );
            }
            if not_around.contains(&t) {
                assert!(
                    !s.det.searched,
                    "step {step}: frame {t} still searched where the face was"
                );
            }
            t += step;
        }
    }
}

fn face(x: f32, y: f32, w: f32, h: f32, score: f32) -> Detection {
    Detection::new(Class::Face, score, BoxF::new(x, y, w, h))
}

#[test]
fn a_face_seen_whole_and_in_part_is_one_face() {
    // The whole face (100x120 at 50,40), its left part cut by a region's edge (scoring
    // higher), and a second face beside it that touches the first.
    let whole = face(50.0, 40.0, 100.0, 120.0, 0.7);
    let part = face(50.0, 45.0, 45.0, 110.0, 0.9);
    let other = face(140.0, 40.0, 100.0, 120.0, 0.8);
    let out = merge_contained(vec![part, other, whole]);
    assert_eq!(out.len(), 2, "{out:?}");
    let merged = out
        .iter()
        .find(|d| d.bbox.x == 50.0)
        .unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(merged.bbox, whole.bbox, "the larger box is kept");
    assert_eq!(merged.score, 0.9, "with the higher score");
    assert!(
        out.iter().any(|d| d.bbox == other.bbox),
        "a neighbour is another face"
    );
}

/// A stand-in for the network that sees one large face, whole: in the whole-frame run, and
/// in any region run whose region holds its box. Records the regions it was run on.
struct LargeFace {
    info: ModelInfo,
    face: BoxF,
    /// Regions run on since the test last cleared it (`None`: the whole-frame run).
    runs: Vec<Option<Rect>>,
}

impl LargeFace {
    fn new(face: BoxF) -> Self {
        LargeFace {
            info: stand_in("large-face"),
            face,
            runs: Vec::new(),
        }
    }
}

impl Detector for LargeFace {
    fn detect(&mut self, _: &FrameRef<'_>) -> Result<Vec<Detection>, DetectError> {
        self.runs.push(None);
        Ok(vec![Detection::new(Class::Face, 0.9, self.face)])
    }
    fn model(&self) -> &ModelInfo {
        &self.info
    }
    fn class(&self) -> Class {
        Class::Face
    }
    fn device(&self) -> crate::Device {
        crate::Device::Cpu
    }
}

impl RegionDetector for LargeFace {
    const NET_MIN_PX: f32 = NET_FACE_PX;
    const WHAT: &'static str = "face";
    const MERGE_CONTAINED: bool = true;
    fn frame_scale(&self, width: u32, height: u32) -> f32 {
        320.0 / width.max(height) as f32
    }
    fn frame_cost(&self, width: u32, height: u32) -> u64 {
        net_px(width, height, self.frame_scale(width, height))
    }
    fn detect_region(&mut self, _: &FrameRef<'_>, r: Rect, _: f32) -> Result<Vec<Detection>, DetectError> {
        self.runs.push(Some(r));
        Ok(if holds(r, self.face) {
            vec![Detection::new(Class::Face, 0.9, self.face)]
        } else {
            Vec::new()
        })
    }
    fn merge_iou(&self) -> f32 {
        0.3
    }
}

/// A 960x540 grey frame with a texture (so that a camera pan can be measured).
fn textured(seed: u32) -> Frame {
    let mut frame = Frame::new(PixelFormat::Gray8, 960, 540).unwrap();
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let mut f = frame.as_mut();
    for b in f.plane_mut(0).unwrap().data_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = 64 + (x >> 26) as u8 * 2;
    }
    frame
}

#[test]
fn a_still_frame_after_a_full_search_carries_its_objects_without_a_run() {
    let frame = textured(1);
    let face = BoxF::new(400.0, 200.0, 60.0, 80.0);
    let mut s = Search::new(LargeFace::new(face), DEFAULT_MIN_FACE).unwrap();
    s.set_changes_only(1);
    // Frame 0: the first frame, searched whole at the fine scale.
    assert_eq!(s.detect(&frame.as_ref()).unwrap().len(), 1);
    assert_eq!(s.det.runs, vec![Some(Rect::new(0, 0, 960, 540))]);
    // Frame 1 (no sweep band due, nothing changed): no run at all, the face carried.
    s.det.runs.clear();
    let dets = s.detect(&frame.as_ref()).unwrap();
    assert_eq!(dets.iter().map(|d| d.bbox).collect::<Vec<_>>(), vec![face]);
    assert!(s.det.runs.is_empty(), "{:?}", s.det.runs);
    assert_eq!((s.stats().changes_only, s.stats().carried), (1, 1));
    // Frame 2 follows a changes-only search: searched in full (the default run, and the
    // regions: none here).
    s.det.runs.clear();
    assert_eq!(s.detect(&frame.as_ref()).unwrap().len(), 1);
    assert_eq!(s.det.runs, vec![None]);
    assert_eq!(s.stats().changes_only, 1);
    // Off: every frame searched in full.
    s.set_changes_only(0);
    s.det.runs.clear();
    s.detect(&frame.as_ref()).unwrap();
    s.detect(&frame.as_ref()).unwrap();
    assert_eq!(
        s.det.runs.iter().filter(|r| r.is_none()).count(),
        2,
        "{:?}",
        s.det.runs
    );
    assert_eq!(s.stats().changes_only, 1);
}

#[test]
fn an_object_touched_by_a_change_is_searched_again_whole() {
    let still = textured(2);
    let face = BoxF::new(400.0, 200.0, 60.0, 80.0);
    let mut s = Search::new(LargeFace::new(face), DEFAULT_MIN_FACE).unwrap();
    s.set_changes_only(CHANGES_ONLY);
    s.detect(&still.as_ref()).unwrap();
    // The mouth moves: a 16x16 patch at the bottom of the face changes, the rest does not.
    let mut moved = still.clone();
    {
        let mut f = moved.as_mut();
        let p = f.plane_mut(0).unwrap();
        for y in 264..280 {
            p.row_mut(y)[424..440].fill(250);
        }
    }
    s.det.runs.clear();
    let dets = s.detect(&moved.as_ref()).unwrap();
    assert_eq!(dets.iter().map(|d| d.bbox).collect::<Vec<_>>(), vec![face]);
    assert_eq!(s.stats().changes_only, 1);
    assert_eq!(s.stats().carried, 0, "not carried: its pixels changed");
    assert!(
        s.det.runs.iter().flatten().any(|&r| holds(r, face)),
        "a region holding the whole face was searched: {:?}",
        s.det.runs
    );
    assert!(!s.det.runs.contains(&None), "no whole-frame run");
}

#[test]
fn a_carried_object_moves_with_the_camera() {
    // The camera pans: the picture moves 8 px to the left between the frames (new content
    // comes in on the right), and so does the face.
    let first = textured(3);
    let mut second = textured(4);
    {
        let src = first.as_ref();
        let mut f = second.as_mut();
        let p = f.plane_mut(0).unwrap();
        for y in 0..540 {
            let row = src.planes()[0].row(y);
            p.row_mut(y)[..952].copy_from_slice(&row[8..]);
        }
    }
    let face = BoxF::new(400.0, 200.0, 60.0, 80.0);
    let mut s = Search::new(LargeFace::new(face), DEFAULT_MIN_FACE).unwrap();
    s.set_changes_only(CHANGES_ONLY);
    s.detect(&first.as_ref()).unwrap();
    s.det.runs.clear();
    let dets = s.detect(&second.as_ref()).unwrap();
    assert_eq!(s.stats().compensated, 1, "the pan was measured");
    assert_eq!((s.stats().changes_only, s.stats().carried), (1, 1));
    assert_eq!(dets.len(), 1, "{dets:?}");
    let b = dets[0].bbox;
    assert!(
        (b.x - 392.0).abs() < 0.5 && (b.y - 200.0).abs() < 0.5 && b.w == face.w && b.h == face.h,
        "carried 8 px to the left with the picture: {b:?}"
    );
    assert!(!s.det.runs.contains(&None), "no whole-frame run");
}
