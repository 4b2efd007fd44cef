//! Unit tests of appearance descriptors, link decisions and identity events: people drawn as
//! coloured figures on synthetic frames, so that the descriptors come from real pixels.
#![allow(clippy::unwrap_used)]

use veil_core::{BoxF, Frame, FrameRef, PixelFormat};

use crate::identity::{decide, Cell};
use crate::*;

const W: u32 = 400;
const H: u32 = 200;

/// A figure: shirt and trousers colours (RGB) and a box.
#[derive(Clone, Copy)]
struct Figure {
    shirt: [u8; 3],
    trousers: [u8; 3],
    bbox: BoxF,
}

const RED: [u8; 3] = [200, 30, 30];
const GREEN: [u8; 3] = [30, 170, 40];
const BLUE: [u8; 3] = [30, 40, 180];
const YELLOW: [u8; 3] = [220, 200, 40];
const GREY: [u8; 3] = [90, 90, 90];

/// An RGB frame of a grey textured wall with the figures drawn in order (later ones in front).
fn scene(figs: &[Figure]) -> Frame {
    let mut f = Frame::new(PixelFormat::Rgb24, W, H).unwrap();
    {
        let mut m = f.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 0..H {
            let row = p.row_mut(y);
            for x in 0..W as usize {
                let v = if (x / 7 + y as usize / 5) & 1 == 0 {
                    120
                } else {
                    140
                };
                row[3 * x..3 * x + 3].copy_from_slice(&[v, v, v + 10]);
            }
            for fig in figs {
                let b = fig.bbox;
                if (y as f32) < b.y || (y as f32) >= b.y + b.h {
                    continue;
                }
                let rel = (y as f32 - b.y) / b.h;
                let c = if rel < 0.18 {
                    [210, 170, 140] // head
                } else if rel < 0.55 {
                    fig.shirt
                } else {
                    fig.trousers
                };
                let x0 = b.x.max(0.0) as usize;
                let x1 = ((b.x + b.w) as usize).min(W as usize);
                for x in x0..x1 {
                    // A little texture so that texture values are not all zero.
                    let d = if (x + y as usize) % 6 < 1 { 20 } else { 0 };
                    let px = [
                        c[0].saturating_sub(d),
                        c[1].saturating_sub(d),
                        c[2].saturating_sub(d),
                    ];
                    row[3 * x..3 * x + 3].copy_from_slice(&px);
                }
            }
        }
    }
    f
}

fn fig(shirt: [u8; 3], trousers: [u8; 3], x: f32) -> Figure {
    Figure {
        shirt,
        trousers,
        bbox: BoxF::new(x, 40.0, 40.0, 120.0),
    }
}

fn look(f: &FrameRef<'_>, b: BoxF) -> Option<Appearance> {
    Appearance::from_frame(f, b)
}

/// Convert an RGB frame to I420 (BT.601, as the descriptor reads it).
fn to_i420(rgb: &Frame) -> Frame {
    let mut out = Frame::new(PixelFormat::I420, W, H).unwrap();
    let src = rgb.as_ref();
    let s = &src.planes()[0];
    {
        let mut m = out.as_mut();
        let planes = m.planes_mut();
        let ycc = |x: usize, y: u32| {
            let p = &s.row(y)[3 * x..3 * x + 3];
            let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
            let yy = 0.299 * r + 0.587 * g + 0.114 * b;
            (yy, 128.0 + 0.564 * (b - yy), 128.0 + 0.713 * (r - yy))
        };
        for y in 0..H {
            for x in 0..W as usize {
                planes[0].row_mut(y)[x] = ycc(x, y).0 as u8;
            }
        }
        for y in 0..H / 2 {
            for x in 0..(W / 2) as usize {
                let (_, u, v) = ycc(2 * x, 2 * y);
                planes[1].row_mut(y)[x] = u as u8;
                planes[2].row_mut(y)[x] = v as u8;
            }
        }
    }
    out
}

#[test]
fn appearance_tells_clothing_apart_in_every_format() {
    let a = fig(RED, BLUE, 40.0);
    let b = fig(GREEN, BLUE, 200.0);
    let c = fig(RED, BLUE, 300.0);
    let rgb = scene(&[a, b, c]);
    let yuv = to_i420(&rgb);
    for f in [&rgb, &yuv] {
        let v = f.as_ref();
        let (la, lb, lc) = (
            look(&v, a.bbox).unwrap(),
            look(&v, b.bbox).unwrap(),
            look(&v, c.bbox).unwrap(),
        );
        let same = la.distance(&lc);
        let diff = la.distance(&lb);
        assert!(same < 0.05, "same clothing: {same}");
        assert!(diff > 0.25, "different shirt: {diff}");
        assert!(la.distance(&la) < 0.01);
        assert!((diff - lb.distance(&la)).abs() < 1e-6, "symmetric");
    }
    // RGB and I420 of the same person agree.
    let d = look(&rgb.as_ref(), a.bbox)
        .unwrap()
        .distance(&look(&yuv.as_ref(), a.bbox).unwrap());
    assert!(d < 0.08, "RGB vs I420: {d}");
    // Too small, or outside the frame: no descriptor.
    assert!(look(&rgb.as_ref(), BoxF::new(10.0, 10.0, 4.0, 8.0)).is_none());
    assert!(look(&rgb.as_ref(), BoxF::new(500.0, 10.0, 40.0, 100.0)).is_none());
}

#[test]
fn the_descriptor_ignores_the_head() {
    let a = fig(RED, BLUE, 40.0);
    let mut f1 = scene(&[a]);
    let l1 = look(&f1.as_ref(), a.bbox).unwrap();
    // Paint the head region (top 18 %) a different colour: the descriptor does not change.
    {
        let mut m = f1.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 40..60 {
            for x in 40..80 {
                p.row_mut(y)[3 * x..3 * x + 3].copy_from_slice(&[0, 255, 0]);
            }
        }
    }
    let l2 = look(&f1.as_ref(), a.bbox).unwrap();
    assert_eq!(l1, l2);
}

#[test]
fn decisions_need_distance_margin_and_no_unknown_alternative() {
    let d = Cell::Dist;
    // Clear 2x2: identity.
    let r = decide(&[vec![d(0.05), d(0.5)], vec![d(0.6), d(0.04)]], 0.3, 0.08);
    assert_eq!(r[0].unwrap().col, 0);
    assert!(r[0].unwrap().confident && r[1].unwrap().confident);
    assert_eq!(r[1].unwrap().col, 1);
    // Swapped: follows appearance.
    let r = decide(&[vec![d(0.5), d(0.05)], vec![d(0.04), d(0.6)]], 0.3, 0.08);
    assert_eq!((r[0].unwrap().col, r[1].unwrap().col), (1, 0));
    assert!(r[0].unwrap().confident);
    // Too similar (margin 0.03): best guess recorded, not confident.
    let r = decide(&[vec![d(0.10), d(0.13)], vec![d(0.12), d(0.10)]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident && !r[1].unwrap().confident);
    assert!(
        (r[0].unwrap().margin.unwrap() - 0.02).abs() < 1e-6,
        "min of row and column"
    );
    // Too far even without an alternative.
    let r = decide(&[vec![d(0.4)]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident);
    // No alternative is no evidence: however close, a lone candidate is not decisive (someone
    // else in the same clothes would match as well).
    let r = decide(&[vec![d(0.01)]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident && r[0].unwrap().margin.is_none());
    // An unknown alternative (never seen clearly) blocks the decision.
    let r = decide(&[vec![d(0.05), d(0.5), Cell::Unknown]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident && r[0].unwrap().blocked);
    // An unknown later tracklet does not: it coexists with the first row, so it is someone
    // else, and the first row matched its column decisively against the other column.
    let r = decide(
        &[vec![d(0.05), d(0.5)], vec![Cell::Unknown, Cell::Unknown]],
        0.3,
        0.08,
    );
    assert!(r[0].unwrap().confident);
    assert!(r[1].is_none());
    // Impossible pairs are no alternative: without a real one, nothing is decided.
    let r = decide(&[vec![d(0.05), Cell::Impossible]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident);
    let r = decide(&[vec![d(0.05), Cell::Impossible, d(0.4)]], 0.3, 0.08);
    assert!(r[0].unwrap().confident);
    // Two rows wanting the same column: neither is confident unless one wins by the margin.
    let r = decide(&[vec![d(0.05)], vec![d(0.07)]], 0.3, 0.08);
    assert!(!r[0].unwrap().confident && !r[1].unwrap().confident);
}

#[test]
fn tracklet_names_parse_and_print() {
    assert_eq!("3.2".parse::<TrackletId>().unwrap(), TrackletId::new(3, 2));
    assert_eq!("3".parse::<TrackletId>().unwrap(), TrackletId::new(3, 1));
    assert!("3.0".parse::<TrackletId>().is_err());
    assert!("x.1".parse::<TrackletId>().is_err());
    assert_eq!(TrackletId::new(12, 4).to_string(), "12.4");
}

/// Run the tracker over frames described by `figs(frame)`: each figure in the list is drawn
/// (in order) and, if its flag says so, detected.
fn run(frames: u64, figs: impl Fn(u64) -> Vec<(Figure, bool)>) -> Tracks {
    run_with(TrackerConfig::default(), frames, figs)
}

fn run_with(cfg: TrackerConfig, frames: u64, figs: impl Fn(u64) -> Vec<(Figure, bool)>) -> Tracks {
    let mut tr = Tracker::new(cfg).unwrap();
    for n in 0..frames {
        let fs = figs(n);
        let frame = scene(&fs.iter().map(|f| f.0).collect::<Vec<_>>());
        let v = frame.as_ref();
        let dets: Vec<Detection> = fs
            .iter()
            .filter(|f| f.1)
            .map(|f| Detection::new(Class::Person, 0.9, f.0.bbox))
            .collect();
        let looks: Vec<Option<Appearance>> = dets.iter().map(|d| look(&v, d.bbox)).collect();
        tr.update_with_appearance(n, &dets, &looks).unwrap();
    }
    let mut t = tr.finish();
    t.set_video(W, H, 25.0).unwrap();
    t
}

/// The track whose box on `frame` is nearest `x` (box left edge).
fn track_near(t: &Tracks, frame: u64, x: f32) -> u64 {
    t.boxes_at(frame, 0)
        .filter(|b| b.1 == Class::Person)
        .min_by(|a, b| (a.2.x - x).abs().total_cmp(&(b.2.x - x).abs()))
        .unwrap()
        .0
}

fn tracklet_near(t: &Tracks, frame: u64, x: f32) -> TrackletId {
    let id = track_near(t, frame, x);
    TrackletId::new(id, t.get(id).unwrap().tracklet_at(frame).index)
}

/// Meet and turn back: A (red) walks right, B (green) walks left, they stand overlapping,
/// then each goes back the way they came. IoU and motion alone continue each track in its old
/// direction (a swap); the identity links must follow the clothing instead.
fn meet_and_turn_back(b_front: bool) -> (Tracks, u64, u64) {
    let ax = |n: u64| -> f32 {
        match n {
            0..=14 => 40.0 + 6.0 * n as f32,
            15..=24 => 130.0,
            _ => 130.0 - 6.0 * (n - 24) as f32,
        }
    };
    let bx = |n: u64| -> f32 {
        match n {
            0..=14 => 240.0 - 6.0 * n as f32,
            15..=24 => 150.0,
            _ => 150.0 + 6.0 * (n - 24) as f32,
        }
    };
    let t = run(40, |n| {
        let a = fig(RED, BLUE, ax(n));
        let b = fig(GREEN, GREY, bx(n));
        if b_front {
            vec![(a, true), (b, true)]
        } else {
            vec![(b, true), (a, true)]
        }
    });
    (t, ax(39) as u64, bx(39) as u64)
}

#[test]
fn overlap_event_cuts_tracks_and_links_follow_appearance() {
    for b_front in [false, true] {
        let (t, ax_end, bx_end) = meet_and_turn_back(b_front);
        assert!(!t.events().is_empty(), "the meeting is an identity event");
        let e = &t.events()[0];
        assert_eq!(e.tracks.len(), 2);
        assert!((13..=16).contains(&e.frame), "event at {}", e.frame);
        let a0 = tracklet_near(&t, 0, 40.0);
        let b0 = tracklet_near(&t, 0, 240.0);
        let a_end = tracklet_near(&t, 39, ax_end as f32);
        let b_end = tracklet_near(&t, 39, bx_end as f32);
        assert_ne!(a_end, a0, "a new tracklet after the event");
        let ida = t.identity(&[a0]);
        let idb = t.identity(&[b0]);
        assert!(ida.contains(&a_end), "A after the meeting is A: {ida:?} {t:?}");
        assert!(!ida.contains(&b_end), "B is never A: {ida:?}");
        assert!(idb.contains(&b_end) && !idb.contains(&a_end), "{idb:?}");
    }
}

#[test]
fn identical_clothing_leaves_identity_uncertain() {
    let t = run(40, |n| {
        let ax = if n < 15 {
            40.0 + 6.0 * n as f32
        } else {
            130.0 - 6.0 * (n as f32 - 24.0).max(0.0)
        };
        let bx = if n < 15 {
            240.0 - 6.0 * n as f32
        } else {
            150.0 + 6.0 * (n as f32 - 24.0).max(0.0)
        };
        vec![(fig(RED, BLUE, ax), true), (fig(RED, BLUE, bx), true)]
    });
    assert!(!t.events().is_empty());
    let a0 = tracklet_near(&t, 0, 40.0);
    // Nothing after the meeting is confidently A: withheld, not guessed.
    assert_eq!(t.identity(&[a0]), vec![a0]);
    let later = t.get(a0.track).unwrap().tracklets();
    assert!(later.len() >= 2);
    assert!(later[1].link.is_none_or(|l| !l.confident));
}

/// B is hidden behind A (not detected) for 10 frames, then steps out again.
#[test]
fn occlusion_event_and_relink_after_hiding() {
    let t = run(40, |n| {
        let a = fig(RED, BLUE, 150.0);
        let bx = match n {
            0..=9 => 60.0 + 8.0 * n as f32,
            10..=19 => 150.0,
            _ => 150.0 + 8.0 * (n - 19) as f32,
        };
        let b = fig(GREEN, GREY, bx);
        // B detected only while not fully behind A.
        vec![(b, !(12..=19).contains(&n)), (a, true)]
    });
    let kinds: Vec<EventKind> = t.events().iter().map(|e| e.kind).collect();
    assert!(
        kinds.contains(&EventKind::Occlusion) || kinds.contains(&EventKind::Merge),
        "{kinds:?}"
    );
    let b0 = tracklet_near(&t, 0, 60.0);
    let b_end = tracklet_near(&t, 39, 150.0 + 8.0 * 20.0);
    let a_end = tracklet_near(&t, 39, 150.0);
    let idb = t.identity(&[b0]);
    assert!(idb.contains(&b_end), "{idb:?} {:?}", t.events());
    assert!(!idb.contains(&a_end));
}

/// Two people walk side by side, so close that the detector returns one box around both,
/// then part.
#[test]
fn merge_event_when_two_detections_become_one() {
    let t = run(36, |n| {
        let (ax, bx) = match n {
            0..=9 => (60.0 + 5.0 * n as f32, 200.0 - 5.0 * n as f32),
            10..=21 => (110.0, 150.0),
            _ => (110.0 - 6.0 * (n - 21) as f32, 150.0 + 6.0 * (n - 21) as f32),
        };
        let a = fig(RED, BLUE, ax);
        let b = fig(YELLOW, GREY, bx);
        if (12..=21).contains(&n) {
            // One detection around both (they are drawn, not detected separately).
            let merged = Figure {
                bbox: BoxF::new(108.0, 38.0, 84.0, 124.0),
                ..a
            };
            vec![(a, false), (b, false), (merged, true)]
        } else {
            vec![(a, true), (b, true)]
        }
    });
    // The merged box is drawn over both: draw order in `run` paints it red-blue; what matters
    // is the event and the links after the parting.
    let kinds: Vec<EventKind> = t.events().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::Merge), "{kinds:?}");
    let a0 = tracklet_near(&t, 0, 60.0);
    let b0 = tracklet_near(&t, 0, 200.0);
    let a_end = tracklet_near(&t, 35, 110.0 - 6.0 * 14.0);
    let b_end = tracklet_near(&t, 35, 150.0 + 6.0 * 14.0);
    let (ida, idb) = (t.identity(&[a0]), t.identity(&[b0]));
    assert!(
        ida.contains(&a_end) && !ida.contains(&b_end),
        "{ida:?} {:?}",
        t.events()
    );
    assert!(idb.contains(&b_end) && !idb.contains(&a_end), "{idb:?}");
}

/// A leaves the picture (track ended) and comes back as a new track much later: never
/// re-linked, even in the same clothes, because a newcomer in the same clothes (a uniform)
/// would look the same. The link is recorded as a best guess for review.
#[test]
fn reentry_after_leaving_is_never_relinked_on_clothing_alone() {
    let scenario = |returning: [u8; 3]| {
        run(90, move |n| {
            let b = fig(GREEN, GREY, 300.0);
            match n {
                0..=19 => vec![(fig(RED, BLUE, 40.0 + 3.0 * n as f32), true), (b, true)],
                20..=59 => vec![(b, true)],
                _ => vec![(fig(returning, BLUE, 60.0), true), (b, true)],
            }
        })
    };
    let t = scenario(RED);
    let a0 = tracklet_near(&t, 0, 40.0);
    let back = tracklet_near(&t, 80, 60.0);
    assert_ne!(back.track, a0.track, "a new track after 40 frames away");
    let first = &t.get(back.track).unwrap().tracklets()[0];
    assert_eq!(first.cause, Cause::Birth);
    assert!(!t.identity(&[a0]).contains(&back), "{:?}", t.get(back.track));
    let guess = first.link.expect("best guess recorded");
    assert!(guess.to == a0 && !guess.confident, "{guess:?}");
    // Someone in a yellow shirt enters instead: not linked either.
    let t = scenario(YELLOW);
    let a0 = tracklet_near(&t, 0, 40.0);
    let other = tracklet_near(&t, 80, 60.0);
    assert!(!t.identity(&[a0]).contains(&other));
}

/// A walks behind a pillar (not detected for 14 frames, and the tracker keeps a lost track
/// for 6 only) and comes out on the far side where and when the motion predicted, moving on:
/// re-linked on motion and clothing. Someone in the same clothes coming out where A went in,
/// walking back, is not A, however alike the clothing.
#[test]
fn reappearance_behind_scenery_links_only_where_the_motion_predicted() {
    let cfg = TrackerConfig {
        max_age: 6,
        ..TrackerConfig::default()
    };
    let scenario = |same_way: bool| {
        run_with(cfg.clone(), 60, move |n| {
            let b = fig(GREEN, GREY, 340.0);
            let x = if same_way || n < 20 {
                20.0 + 4.0 * n as f32
            } else {
                100.0 - 4.0 * (n as f32 - 34.0)
            };
            vec![(fig(RED, BLUE, x), !(20..34).contains(&n)), (b, true)]
        })
    };
    let t = scenario(true);
    let a0 = tracklet_near(&t, 0, 20.0);
    let out = tracklet_near(&t, 50, 220.0);
    assert_ne!(a0.track, out.track, "lost for longer than max_age: a new track");
    assert!(t.identity(&[a0]).contains(&out), "{:?}", t.tracks());
    let link = t.tracklet(out).unwrap().link.unwrap();
    assert!(link.confident && link.basis == LinkBasis::Motion, "{link:?}");
    let t = scenario(false);
    let a0 = tracklet_near(&t, 0, 20.0);
    let other = tracklet_near(&t, 50, 36.0);
    assert_ne!(a0.track, other.track);
    assert!(!t.identity(&[a0]).contains(&other), "{:?}", t.tracks());
}

/// The same walk behind a pillar with the tracker's default patience: the track is found
/// again, and the stretch after the pillar is a tracklet of its own (whoever comes out may
/// be someone else), linked back on motion and clothing. Someone in other clothes coming out
/// where the motion predicted is found by the same track, but not linked.
#[test]
fn a_track_found_again_after_a_while_starts_a_tracklet_linked_on_motion() {
    let scenario = |shirt: [u8; 3]| {
        run(60, move |n| {
            let x = 20.0 + 4.0 * n as f32;
            let who = if n < 20 { RED } else { shirt };
            vec![
                (fig(who, BLUE, x), !(20..34).contains(&n)),
                (fig(GREEN, GREY, 340.0), true),
            ]
        })
    };
    let t = scenario(RED);
    let a0 = tracklet_near(&t, 0, 20.0);
    let out = tracklet_near(&t, 50, 220.0);
    assert_eq!(a0.track, out.track, "re-matched by the tracker");
    let tl = t.tracklet(out).unwrap();
    assert_eq!(tl.cause, Cause::Return);
    let link = tl.link.unwrap();
    assert!(
        link.confident && link.basis == LinkBasis::Motion && link.to == a0,
        "{link:?}"
    );
    assert!(t.identity(&[a0]).contains(&out));
    let t = scenario(YELLOW);
    let a0 = tracklet_near(&t, 0, 20.0);
    let out = tracklet_near(&t, 50, 220.0);
    assert!(!t.identity(&[a0]).contains(&out), "{:?}", t.tracks());
}

#[test]
fn tracks_file_round_trips_tracklets_events_and_links() {
    let (t, _, _) = meet_and_turn_back(true);
    let json = t.to_json().unwrap();
    assert!(json.contains(r#""events":[{"frame":"#), "{json}");
    assert!(json.contains(r#""cause":"event""#) && json.contains(r#""confident":true"#));
    let back = Tracks::from_json(&json).unwrap();
    assert_eq!(back, t);
    // A link to a tracklet that does not exist is refused on load.
    let bad = json.replacen(r#""to":""#, r#""to":"99"#, 1);
    let e = Tracks::from_json(&bad).unwrap_err();
    assert!(e.to_string().contains("linked to"), "{e}");
}

/// A face seen alone first (its body not detected yet), then with its body: one person track
/// that carries the face from the start, not a face track plus a person track.
#[test]
fn a_face_tracked_alone_hands_over_to_its_person() {
    let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
    for n in 0..12u64 {
        let x = 40.0 + 4.0 * n as f32;
        let face = Detection::new(Class::Face, 0.9, BoxF::new(x + 12.0, 45.0, 16.0, 20.0));
        let body = Detection::new(Class::Person, 0.9, BoxF::new(x, 40.0, 40.0, 120.0));
        let dets = if n < 5 { vec![face] } else { vec![body, face] };
        tr.update(n, &dets).unwrap();
    }
    let t = tr.finish();
    assert_eq!(t.len(), 1, "{t:?}");
    let p = &t.tracks()[0];
    assert_eq!(p.class(), Class::Person);
    assert_eq!(p.first_frame(), 0);
    assert_eq!(p.faces().first().unwrap().frame, 0);
    assert_eq!(p.boxes().first().unwrap().frame, 5);
}

/// Two people meet: the requester's face lies inside both persons' upper regions. It stays
/// with the person whose face it continues; a second face claiming that person attaches to
/// neither (fail closed).
#[test]
fn a_face_inside_two_persons_goes_on_with_the_one_it_continues() {
    let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
    let face_a = |x: f32| Detection::new(Class::Face, 0.9, BoxF::new(x + 12.0, 45.0, 16.0, 20.0));
    let body = |x: f32| Detection::new(Class::Person, 0.9, BoxF::new(x, 40.0, 40.0, 120.0));
    let mut ids = Vec::new();
    for n in 0..10u64 {
        let ax = 40.0 + 3.0 * n as f32;
        // B stands so that from frame 5 on A's face is also inside B's upper region.
        let bx = if n < 5 { 200.0 } else { ax + 12.0 };
        let dets = vec![body(ax), body(bx), face_a(ax)];
        ids.push(tr.update(n, &dets).unwrap().to_vec());
    }
    let a = ids[0][0].unwrap();
    for (n, row) in ids.iter().enumerate() {
        assert_eq!(row[2], Some(a), "frame {n}: A's face stays with A");
    }
    // A second face in A's region only (left of B's): two faces claim A, neither attaches.
    let ax = 70.0;
    let other = Detection::new(Class::Face, 0.9, BoxF::new(ax - 2.0, 41.0, 8.0, 20.0));
    let row = tr
        .update(10, &[body(ax), body(ax + 12.0), face_a(ax), other])
        .unwrap()
        .to_vec();
    assert_ne!(row[2], Some(a));
    assert_ne!(row[3], Some(a));
}

/// Two people walk side by side, their boxes grazing (15 % of a box width). A third detection
/// covers both on frames 10 to 20 (the detector saw the pair once more as one): a group box.
/// It makes no identity event, its track records the group span, and each person stays one
/// tracklet, seen clearly throughout.
#[test]
fn a_group_box_over_two_people_side_by_side_is_no_identity_event() {
    let t = run(30, |n| {
        let x = 40.0 + 4.0 * n as f32;
        let a = fig(RED, BLUE, x);
        let b = fig(GREEN, GREY, x + 34.0);
        let mut v = vec![(a, true), (b, true)];
        if (10..=20).contains(&n) {
            let group = Figure {
                bbox: BoxF::new(x - 2.0, 38.0, 78.0, 124.0),
                ..a
            };
            v.insert(0, (group, true));
        }
        v
    });
    assert!(t.events().is_empty(), "{:?}", t.events());
    let group = t
        .tracks()
        .iter()
        .find(|tr| tr.group_at(15))
        .expect("the group box's track records its span");
    assert!((10..=20).all(|f| group.group_at(f)) && !group.group_at(21));
    for x in [40.0, 74.0] {
        let id = track_near(&t, 0, x);
        assert_eq!(t.get(id).unwrap().tracklets().len(), 1, "track {id} was cut");
        assert!(!t.get(id).unwrap().group_at(15));
    }
}

/// Two people meet (their boxes overlap by half), then walk on side by side, grazing (15 %):
/// the contact ends once both are detected apart, each clear of the other's sampled body, so
/// they part while still walking together, and the clothing links each back.
#[test]
fn people_walking_on_side_by_side_after_meeting_part() {
    let t = run(40, |n| {
        let x = 40.0 + 4.0 * n as f32;
        let gap = if (8..=12).contains(&n) { 20.0 } else { 34.0 };
        vec![(fig(RED, BLUE, x), true), (fig(GREEN, GREY, x + gap), true)]
    });
    assert_eq!(t.events().len(), 1, "{:?}", t.events());
    let a0 = tracklet_near(&t, 0, 40.0);
    let a_end = tracklet_near(&t, 39, 40.0 + 4.0 * 39.0);
    let b_end = tracklet_near(&t, 39, 74.0 + 4.0 * 39.0);
    assert_ne!(a0, a_end, "the meeting cut the track");
    let ida = t.identity(&[a0]);
    assert!(ida.contains(&a_end) && !ida.contains(&b_end), "{ida:?}");
}

/// A box over a confirmed person and a detection that never becomes a track (seen once, the
/// tracker asks for two hits) is no group box: that second person is covered by nothing
/// else, so the box over them must stay an ordinary, redacted person box.
#[test]
fn a_box_over_someone_not_tracked_is_no_group_box() {
    let cfg = TrackerConfig {
        min_hits: 2,
        ..TrackerConfig::default()
    };
    let t = run_with(cfg, 20, |n| {
        let x = 40.0 + 4.0 * n as f32;
        let a = fig(RED, BLUE, x);
        let b = fig(GREEN, GREY, x + 34.0);
        let group = Figure {
            bbox: BoxF::new(x - 2.0, 38.0, 78.0, 124.0),
            ..a
        };
        vec![(group, true), (a, true), (b, n == 10)]
    });
    assert!(
        t.tracks().iter().all(|tr| (0..20).all(|f| !tr.group_at(f))),
        "a group span over someone who is not tracked"
    );
}
