//! Unit tests over synthetic detection sequences (the tracker is pure logic).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use veil_core::BoxF;

use crate::tracks_tests::sample_tracks;
use crate::*;

pub(crate) fn person(score: f32, x: f32, y: f32) -> Detection {
    Detection::new(Class::Person, score, BoxF::new(x, y, 40.0, 100.0))
}

pub(crate) fn face_of(p: &Detection, score: f32) -> Detection {
    let b = p.bbox;
    Detection::new(Class::Face, score, BoxF::new(b.x + 12.0, b.y + 5.0, 16.0, 20.0))
}

pub(crate) fn tracker() -> Tracker {
    Tracker::new(TrackerConfig::default()).unwrap()
}

fn body_boxes(t: &Track) -> Vec<(u64, BoxF, bool)> {
    t.boxes()
        .iter()
        .map(|b| (b.frame, b.bbox, b.interpolated))
        .collect()
}

fn contains(outer: &BoxF, inner: &BoxF) -> bool {
    let e = 1e-3;
    inner.x >= outer.x - e
        && inner.y >= outer.y - e
        && inner.x + inner.w <= outer.x + outer.w + e
        && inner.y + inner.h <= outer.y + outer.h + e
}

#[test]
fn walking_person_with_missed_frame_keeps_id_and_gets_interpolated_box() {
    let mut tr = tracker();
    let mut ids = Vec::new();
    for f in 0..20u64 {
        let d = person(0.9, 10.0 + 6.0 * f as f32, 50.0 + f as f32);
        let dets = if f == 8 { vec![] } else { vec![d] };
        let a = tr.update(f, &dets).unwrap().to_vec();
        ids.extend(a.into_iter().flatten());
    }
    assert_eq!(ids.len(), 19);
    assert!(ids.iter().all(|&i| i == ids[0]), "{ids:?}");
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 1);
    let t = &tracks.tracks()[0];
    assert_eq!((t.first_frame(), t.last_frame()), (0, 19));
    let boxes = body_boxes(t);
    assert_eq!(boxes.len(), 20);
    let (f, b, interp) = boxes[8];
    assert_eq!(f, 8);
    assert!(interp);
    assert!(
        (b.x - (10.0 + 6.0 * 8.0)).abs() < 1e-3 && (b.y - 58.0).abs() < 1e-3,
        "{b:?}"
    );
    assert!(boxes.iter().filter(|b| b.2).count() == 1);
    // The export sees exactly that box on the missed frame.
    let at: Vec<_> = tracks.boxes_at(8, 0).collect();
    assert_eq!(at.len(), 1);
    assert_eq!(at[0].0, t.id());
    assert!(!at[0].3);
}

#[test]
fn gap_longer_than_interpolation_limit_is_not_interpolated_but_padded() {
    let cfg = TrackerConfig {
        max_gap_interpolate: 3,
        ..TrackerConfig::default()
    };
    let mut tr = Tracker::new(cfg).unwrap();
    for f in 0..30u64 {
        let dets = if (10..20).contains(&f) {
            vec![]
        } else {
            vec![person(0.9, 100.0 + f as f32, 50.0)]
        };
        tr.update(f, &dets).unwrap();
    }
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 1, "re-found within max_age: one track");
    assert!(tracks.tracks()[0].boxes().iter().all(|b| !b.interpolated));
    // Held for 2 frames from each side of the 10-frame gap.
    assert_eq!(tracks.boxes_at(11, 2).count(), 1);
    assert_eq!(tracks.boxes_at(14, 2).count(), 0);
    assert_eq!(tracks.boxes_at(18, 2).count(), 1);
    assert_eq!(tracks.boxes_at(14, 6).count(), 2, "both sides within padding");
}

#[test]
fn track_lost_longer_than_max_age_ends() {
    let cfg = TrackerConfig {
        max_age: 5,
        ..TrackerConfig::default()
    };
    let mut tr = Tracker::new(cfg).unwrap();
    for f in 0..30u64 {
        let dets = if (10..20).contains(&f) {
            vec![]
        } else {
            vec![person(0.9, 100.0, 50.0)]
        };
        tr.update(f, &dets).unwrap();
    }
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks.tracks()[0].last_frame(), 9);
    assert_eq!(tracks.tracks()[1].first_frame(), 20);
    // max_age 0: a track survives while matched on every frame and ends at its first miss.
    let cfg = TrackerConfig {
        max_age: 0,
        ..TrackerConfig::default()
    };
    let mut tr = Tracker::new(cfg).unwrap();
    for f in 0..5u64 {
        assert_eq!(tr.update(f, &[person(0.9, 100.0, 50.0)]).unwrap(), &[Some(1)]);
    }
    tr.update(5, &[]).unwrap();
    assert_eq!(tr.update(6, &[person(0.9, 100.0, 50.0)]).unwrap(), &[Some(2)]);
}

/// Two people walk towards each other along nearly the same line and cross. The one behind
/// (B) is missed by the detector while it overlaps A by more than IoU 0.3, as a real detector
/// would. The constant-velocity prediction carries B through the occlusion.
///
/// Limits: greedy IoU association has no appearance model, so identities can swap when two
/// people of the same size cross on the same line at the same speed with both detected
/// throughout and the crossing lasts several frames of near-total overlap, or when one changes
/// direction while hidden. For redaction a swap is harmless for bystanders (both stay blurred),
/// but the operator should check the requester's track on the contact sheet.
fn crossing(occlude: bool) -> (Vec<u64>, Vec<u64>) {
    let mut tr = tracker();
    let (mut ids_a, mut ids_b) = (Vec::new(), Vec::new());
    for f in 0..60u64 {
        let a = Detection::new(
            Class::Person,
            0.9,
            BoxF::new(20.0 + 8.0 * f as f32, 100.0, 40.0, 100.0),
        );
        let b = Detection::new(
            Class::Person,
            0.8,
            BoxF::new(500.0 - 8.0 * f as f32, 110.0, 36.0, 90.0),
        );
        let hidden = occlude && a.bbox.iou(&b.bbox) > 0.3;
        let dets = if hidden { vec![a] } else { vec![a, b] };
        let out = tr.update(f, &dets).unwrap().to_vec();
        ids_a.push(out[0].unwrap());
        if !hidden {
            ids_b.push(out[1].unwrap());
        }
    }
    (ids_a, ids_b)
}

#[test]
fn two_people_crossing_keep_ids() {
    for occlude in [false, true] {
        let (a, b) = crossing(occlude);
        assert!(a.iter().all(|&i| i == a[0]), "occlude={occlude} A: {a:?}");
        assert!(b.iter().all(|&i| i == b[0]), "occlude={occlude} B: {b:?}");
        assert_ne!(a[0], b[0]);
    }
}

#[test]
fn occluded_crossing_gets_interpolated_boxes() {
    let mut tr = tracker();
    let mut hidden_frames = Vec::new();
    for f in 0..60u64 {
        let a = Detection::new(
            Class::Person,
            0.9,
            BoxF::new(20.0 + 8.0 * f as f32, 100.0, 40.0, 100.0),
        );
        let b = Detection::new(
            Class::Person,
            0.8,
            BoxF::new(500.0 - 8.0 * f as f32, 110.0, 36.0, 90.0),
        );
        if a.bbox.iou(&b.bbox) > 0.3 {
            hidden_frames.push(f);
            tr.update(f, &[a]).unwrap();
        } else {
            tr.update(f, &[a, b]).unwrap();
        }
    }
    assert!(!hidden_frames.is_empty());
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 2);
    let tb = &tracks.tracks()[1];
    for f in hidden_frames {
        let b = tb.boxes().iter().find(|b| b.frame == f).unwrap();
        assert!(b.interpolated);
        let truth = BoxF::new(500.0 - 8.0 * f as f32, 110.0, 36.0, 90.0);
        assert!(b.bbox.iou(&truth) > 0.99, "frame {f}: {:?}", b.bbox);
    }
}

#[test]
fn low_score_detections_extend_but_do_not_spawn() {
    let mut tr = tracker();
    // A low-score person alone never starts a track.
    for f in 0..5u64 {
        let a = tr.update(f, &[person(0.25, 300.0, 50.0)]).unwrap();
        assert_eq!(a, &[None]);
    }
    // A high-score track continues through low-score frames (e.g. partial occlusion).
    let mut ids = Vec::new();
    for f in 5..20u64 {
        let score = if (9..14).contains(&f) { 0.2 } else { 0.9 };
        let a = tr
            .update(f, &[person(score, 10.0 + 3.0 * f as f32, 50.0)])
            .unwrap();
        ids.push(a[0].unwrap());
    }
    assert!(ids.iter().all(|&i| i == ids[0]));
    // Below low_thresh: ignored.
    let a = tr.update(20, &[person(0.05, 70.0, 50.0)]).unwrap();
    assert_eq!(a, &[None]);
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 1);
    let t = &tracks.tracks()[0];
    assert_eq!((t.first_frame(), t.last_frame()), (5, 19));
    assert!(t.boxes().iter().all(|b| !b.interpolated));
    assert!(t.boxes().iter().any(|b| b.score == 0.2));
}

#[test]
fn low_score_detection_does_not_revive_lost_track() {
    let mut tr = tracker();
    tr.update(0, &[person(0.9, 100.0, 50.0)]).unwrap();
    tr.update(1, &[]).unwrap();
    // Lost on frame 1: a low detection on frame 2 is not matched (ByteTrack second stage only
    // considers tracks tracked on the previous update), a high one is.
    assert_eq!(tr.update(2, &[person(0.3, 100.0, 50.0)]).unwrap(), &[None]);
    assert_eq!(tr.update(3, &[person(0.9, 100.0, 50.0)]).unwrap(), &[Some(1)]);
}

#[test]
fn padding_extends_boxes_in_time() {
    let mut tr = tracker();
    for f in 10..20u64 {
        tr.update(f, &[person(0.9, 100.0 + f as f32, 50.0)]).unwrap();
    }
    let tracks = tr.finish();
    assert_eq!(tracks.boxes_at(9, 0).count(), 0);
    assert_eq!(tracks.boxes_at(20, 0).count(), 0);
    for f in 7..10 {
        let v: Vec<_> = tracks.boxes_at(f, 3).collect();
        assert_eq!(v.len(), 1, "frame {f}");
        assert_eq!(v[0].2, BoxF::new(110.0, 50.0, 40.0, 100.0), "holds the first box");
    }
    for f in 20..23 {
        let v: Vec<_> = tracks.boxes_at(f, 3).collect();
        assert_eq!(v.len(), 1, "frame {f}");
        assert_eq!(v[0].2, BoxF::new(119.0, 50.0, 40.0, 100.0), "holds the last box");
    }
    assert_eq!(tracks.boxes_at(6, 3).count(), 0);
    assert_eq!(tracks.boxes_at(23, 3).count(), 0);
    // Padding never goes below frame 0.
    let mut tr = tracker();
    tr.update(0, &[person(0.9, 0.0, 0.0)]).unwrap();
    let t = tr.finish();
    assert_eq!(t.boxes_at(0, u64::MAX).count(), 1);
    assert_eq!(t.boxes_at(u64::MAX, u64::MAX).count(), 1);
}

#[test]
fn faces_attach_to_the_right_person() {
    let mut tr = tracker();
    for f in 0..10u64 {
        let a = person(0.9, 50.0 + 2.0 * f as f32, 100.0);
        let b = person(0.9, 300.0 - 2.0 * f as f32, 100.0);
        // Faces listed in the opposite order to their persons, to rule out index pairing.
        let dets = [a, b, face_of(&b, 0.7), face_of(&a, 0.8)];
        let out = tr.update(f, &dets).unwrap().to_vec();
        assert_eq!(out[2], out[1]);
        assert_eq!(out[3], out[0]);
        assert_ne!(out[0], out[1]);
    }
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 2, "no separate face tracks");
    for t in tracks.tracks() {
        assert_eq!(t.class(), Class::Person);
        assert_eq!(t.faces().len(), 10);
        for (b, fc) in t.boxes().iter().zip(t.faces()) {
            assert_eq!(b.frame, fc.frame);
            assert!(contains(&b.bbox, &fc.bbox));
        }
    }
    let v: Vec<_> = tracks.boxes_at(3, 0).collect();
    assert_eq!(v.len(), 4);
    assert_eq!(v.iter().filter(|x| x.3).count(), 2);
}

#[test]
fn face_without_body_gets_its_own_track() {
    let mut tr = tracker();
    for f in 0..10u64 {
        // A person far away, and a face alone (body hidden behind a counter).
        let p = person(0.9, 10.0, 10.0);
        let face = Detection::new(Class::Face, 0.8, BoxF::new(400.0 + f as f32, 200.0, 20.0, 24.0));
        let dets = if f == 5 { vec![p] } else { vec![p, face] };
        tr.update(f, &dets).unwrap();
    }
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 2);
    let ft = tracks.tracks().iter().find(|t| t.class() == Class::Face).unwrap();
    assert_eq!(ft.boxes().len(), 10);
    assert!(ft.boxes()[5].interpolated);
    assert!(ft.faces().is_empty());
    let v: Vec<_> = tracks.boxes_at(5, 0).filter(|x| x.0 == ft.id()).collect();
    assert_eq!(v.len(), 1);
    assert!(v[0].3, "face track boxes are faces");
}

#[test]
fn ambiguous_face_is_not_attached() {
    let mut tr = tracker();
    // Two overlapping persons (one behind the other): a face inside both upper regions could
    // be either's, so it gets its own track rather than risk filing it under the wrong person.
    let a = person(0.9, 100.0, 100.0);
    let b = person(0.9, 110.0, 105.0);
    let face = Detection::new(Class::Face, 0.8, BoxF::new(118.0, 110.0, 16.0, 20.0));
    let out = tr.update(0, &[a, b, face]).unwrap().to_vec();
    assert!(out[2].is_some());
    assert_ne!(out[2], out[0]);
    assert_ne!(out[2], out[1]);
    // Two faces in one person's upper region: neither is attached.
    let mut tr = tracker();
    let p = person(0.9, 100.0, 100.0);
    let f1 = Detection::new(Class::Face, 0.8, BoxF::new(100.0, 100.0, 16.0, 20.0));
    let f2 = Detection::new(Class::Face, 0.8, BoxF::new(122.0, 100.0, 16.0, 20.0));
    let out = tr.update(0, &[p, f1, f2]).unwrap().to_vec();
    assert!(out[1].is_some() && out[2].is_some());
    assert_ne!(out[1], out[0]);
    assert_ne!(out[2], out[0]);
    assert_ne!(out[1], out[2]);
    // A face in the lower half (e.g. a child in front) does not attach.
    let mut tr = tracker();
    let low = Detection::new(Class::Face, 0.8, BoxF::new(110.0, 170.0, 16.0, 20.0));
    let out = tr.update(0, &[p, low]).unwrap().to_vec();
    assert_ne!(out[1], out[0]);
}

#[test]
fn face_attaches_to_person_missed_on_that_frame() {
    let mut tr = tracker();
    for f in 0..6u64 {
        let p = person(0.9, 100.0 + 4.0 * f as f32, 100.0);
        let dets = if f == 3 {
            vec![face_of(&p, 0.8)]
        } else {
            vec![p, face_of(&p, 0.8)]
        };
        let out = tr.update(f, &dets).unwrap().to_vec();
        assert!(out.iter().all(|&i| i == Some(1)), "frame {f}: {out:?}");
    }
    let tracks = tr.finish();
    assert_eq!(tracks.len(), 1);
    let t = &tracks.tracks()[0];
    assert_eq!(t.faces().len(), 6);
    assert!(t.faces().iter().all(|b| !b.interpolated));
    assert!(t.boxes()[3].interpolated);
}

#[test]
fn min_hits_drops_one_frame_false_positives() {
    let cfg = TrackerConfig {
        min_hits: 3,
        ..TrackerConfig::default()
    };
    let mut tr = Tracker::new(cfg).unwrap();
    tr.update(0, &[person(0.9, 0.0, 0.0)]).unwrap(); // first frame: confirmed at once
    tr.update(1, &[person(0.9, 0.0, 0.0), person(0.9, 300.0, 0.0)])
        .unwrap(); // blip
    for f in 2..6 {
        tr.update(f, &[person(0.9, 0.0, 0.0), person(0.9, 500.0, 0.0)])
            .unwrap();
    }
    let tracks = tr.finish();
    let firsts: Vec<_> = tracks
        .tracks()
        .iter()
        .map(|t| (t.first_frame(), t.boxes().len()))
        .collect();
    // The blip is gone; the track born on frame 2 keeps its tentative boxes once confirmed.
    assert_eq!(firsts, vec![(0, 6), (2, 4)]);
}

#[test]
fn frames_may_be_skipped() {
    // Detection every 3rd frame: ids hold and the skipped frames are interpolated.
    let mut tr = tracker();
    for f in (0..30u64).step_by(3) {
        let a = tr.update(f, &[person(0.9, 10.0 + 3.0 * f as f32, 50.0)]).unwrap();
        assert_eq!(a, &[Some(1)]);
    }
    let tracks = tr.finish();
    assert_eq!(tracks.tracks()[0].boxes().len(), 28);
}

#[test]
fn update_errors() {
    let mut tr = tracker();
    tr.update(5, &[]).unwrap();
    assert!(matches!(
        tr.update(5, &[]),
        Err(TrackError::FrameOrder { previous: 5, got: 5 })
    ));
    let bad = Detection::new(Class::Person, 0.9, BoxF::new(f32::NAN, 0.0, 1.0, 1.0));
    let e = tr.update(6, &[person(0.9, 0.0, 0.0), bad]).unwrap_err();
    assert!(
        matches!(
            e,
            TrackError::InvalidDetection {
                frame: 6,
                index: 1,
                ..
            }
        ),
        "{e}"
    );
    let bad = Detection::new(Class::Face, f32::INFINITY, BoxF::new(0.0, 0.0, 1.0, 1.0));
    assert!(tr.update(6, &[bad]).is_err());
    // State unchanged by the failed calls: frame 6 is still accepted.
    assert_eq!(tr.update(6, &[person(0.9, 0.0, 0.0)]).unwrap(), &[Some(1)]);
    // Zero-size boxes are ignored (they cover no pixel).
    let zero = Detection::new(Class::Person, 0.9, BoxF::new(5.0, 5.0, 0.0, 10.0));
    assert_eq!(tr.update(7, &[zero]).unwrap(), &[None]);
}

#[test]
fn config_validation() {
    assert!(TrackerConfig::default().validate().is_ok());
    let bad = [
        TrackerConfig {
            low_thresh: 0.6,
            ..Default::default()
        },
        TrackerConfig {
            birth_thresh: 0.2,
            ..Default::default()
        },
        TrackerConfig {
            high_thresh: f32::NAN,
            ..Default::default()
        },
        TrackerConfig {
            match_iou: 0.0,
            ..Default::default()
        },
        TrackerConfig {
            face_inside: 1.5,
            ..Default::default()
        },
        TrackerConfig {
            min_hits: 0,
            ..Default::default()
        },
    ];
    for c in bad {
        assert!(
            matches!(Tracker::new(c.clone()), Err(TrackError::Config { .. })),
            "{c:?}"
        );
    }
}

#[test]
fn point_query_and_thumbnail() {
    let t = sample_tracks();
    assert_eq!(t.track_at_point(3, 20.0, 50.0), Some(1));
    assert_eq!(t.track_at_point(3, 300.0, 50.0), None);
    assert_eq!(t.track_at_point(2, 215.0, 30.0), Some(7));
    assert_eq!(
        t.track_at_point(5, 20.0, 50.0),
        None,
        "no padding in point queries"
    );
    // Two bodies and no face at the point: no clear winner (the nearest centre is no
    // evidence), every candidate listed; a point on one body only, or on exactly one of the
    // faces over the bodies, has one.
    let tb = |x: f32, y: f32, w: f32, h: f32| TrackBox {
        frame: 0,
        bbox: BoxF::new(x, y, w, h),
        score: 0.9,
        interpolated: false,
    };
    let a = Track::new(
        1,
        Class::Person,
        vec![tb(100.0, 100.0, 40.0, 100.0)],
        vec![tb(122.0, 105.0, 16.0, 20.0)],
    )
    .unwrap();
    let b = Track::new(2, Class::Person, vec![tb(120.0, 100.0, 40.0, 100.0)], vec![]).unwrap();
    let f = Track::new(3, Class::Face, vec![tb(140.0, 105.0, 16.0, 20.0)], vec![]).unwrap();
    let tt = Tracks::new(640, 480, 25.0, vec![a, b, f]).unwrap();
    assert_eq!(tt.track_at_point(0, 125.0, 150.0), None);
    let AtPoint::Ambiguous(c) = tt.at_point(0, 125.0, 150.0) else {
        panic!("two bodies: ambiguous")
    };
    assert_eq!(c.iter().map(|c| c.track).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(c[0].body, Some(BoxF::new(100.0, 100.0, 40.0, 100.0)));
    assert!(c.iter().all(|c| c.face.is_none()));
    assert_eq!(
        c[1].to_string(),
        "track 2 (person box 120,100 40x100)",
        "candidates name their boxes"
    );
    assert_eq!(tt.at_point(0, 105.0, 150.0), AtPoint::Track(1));
    assert_eq!(tt.at_point(0, 150.0, 150.0), AtPoint::Track(2));
    // On track 1's face, over both bodies: track 1; on the face-only track 3 over track 2's
    // body: track 3.
    assert_eq!(tt.at_point(0, 125.0, 110.0), AtPoint::Track(1));
    assert_eq!(tt.at_point(0, 145.0, 110.0), AtPoint::Track(3));
    // Two faces at the point (track 1's and the face track's boxes overlap): ambiguous.
    let a = Track::new(
        1,
        Class::Person,
        vec![tb(100.0, 100.0, 40.0, 100.0)],
        vec![tb(122.0, 105.0, 16.0, 20.0)],
    )
    .unwrap();
    let f = Track::new(3, Class::Face, vec![tb(130.0, 105.0, 16.0, 20.0)], vec![]).unwrap();
    let tt = Tracks::new(640, 480, 25.0, vec![a, f]).unwrap();
    let AtPoint::Ambiguous(c) = tt.at_point(0, 135.0, 110.0) else {
        panic!("two faces: ambiguous")
    };
    assert_eq!(
        c[0].to_string(),
        "track 1 (person box 100,100 40x100; face box 122,105 16x20)"
    );
    assert_eq!(c[1].to_string(), "track 3 (face box 130,105 16x20)");
    assert_eq!(tt.at_point(0, 5.0, 5.0), AtPoint::Nobody);
    // Thumbnail: best face box, else best detected body box.
    let p = t.get(1).unwrap();
    assert_eq!(p.best_thumbnail_box().unwrap().frame, 4);
    assert_eq!(p.best_thumbnail_box().unwrap().bbox.w, 16.0);
    let b = |frame, score, interpolated| TrackBox {
        frame,
        bbox: BoxF::new(0.0, 0.0, 10.0, 10.0),
        score,
        interpolated,
    };
    let body = Track::new(
        2,
        Class::Person,
        vec![b(0, 0.5, false), b(1, 0.9, true), b(2, 0.7, false)],
        vec![],
    )
    .unwrap();
    assert_eq!(body.best_thumbnail_box().unwrap().frame, 2);
    assert!(t.get(3).is_none());
}

/// A random scene: objects with constant velocity, random misses and scores, plus clutter.
fn scene() -> impl Strategy<Value = Vec<Vec<Detection>>> {
    let object = (
        0.0f32..600.0,
        0.0f32..400.0,
        -12.0f32..12.0,
        -6.0f32..6.0,
        10.0f32..120.0,
        any::<bool>(),
        prop::collection::vec((0.0f32..1.0, 0.0f32..1.0), 40),
    );
    let clutter = prop::collection::vec(
        prop::collection::vec(
            (
                0.0f32..600.0,
                0.0f32..400.0,
                2.0f32..80.0,
                0.0f32..1.0,
                any::<bool>(),
            ),
            0..3,
        ),
        40,
    );
    (prop::collection::vec(object, 0..8), clutter).prop_map(|(objects, clutter)| {
        (0..40usize)
            .map(|f| {
                let mut dets = Vec::new();
                for (x, y, vx, vy, size, with_face, per_frame) in &objects {
                    let (miss, score) = per_frame[f];
                    if miss < 0.2 {
                        continue;
                    }
                    let b = BoxF::new(x + vx * f as f32, y + vy * f as f32, *size * 0.4, *size);
                    dets.push(Detection::new(Class::Person, score, b));
                    if *with_face && miss > 0.4 {
                        let fb = BoxF::new(b.x + b.w * 0.3, b.y + b.h * 0.05, b.w * 0.4, b.h * 0.15);
                        dets.push(Detection::new(Class::Face, score, fb));
                    }
                }
                for &(x, y, s, score, is_face) in &clutter[f] {
                    let class = if is_face { Class::Face } else { Class::Person };
                    dets.push(Detection::new(class, score, BoxF::new(x, y, s, s * 1.5)));
                }
                dets
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The privacy invariant: every detection at or above the birth threshold is assigned a
    /// track, and every assigned detection (high or low) is covered, on its frame, by a box of
    /// its track in the output, with no temporal padding needed.
    #[test]
    fn every_assigned_detection_is_covered(frames in scene(), skip in 1u64..3, min_hits in 1u32..3) {
        let cfg = TrackerConfig { min_hits, ..TrackerConfig::default() };
        let birth = cfg.birth_thresh;
        let low = cfg.low_thresh;
        let mut tr = Tracker::new(cfg).unwrap();
        let mut assigned = Vec::new();
        for (i, dets) in frames.iter().enumerate() {
            let frame = i as u64 * skip;
            let out = tr.update(frame, dets).unwrap().to_vec();
            for (d, id) in dets.iter().zip(out) {
                if d.score >= birth {
                    prop_assert!(id.is_some(), "frame {frame}: {d:?} not assigned");
                }
                if d.score < low {
                    prop_assert!(id.is_none());
                }
                if let Some(id) = id {
                    assigned.push((frame, id, *d));
                }
            }
        }
        let tracks = tr.finish();
        for (frame, id, d) in assigned {
            // A face track's boxes may have been handed over to the person track its face
            // went on with (finish): then a face box of another track covers the detection.
            let handed_over = |tracks: &Tracks| {
                d.class == Class::Face
                    && tracks
                        .boxes_at(frame, 0)
                        .any(|(_, c, b, is_face)| c == Class::Person && is_face && contains(&b, &d.bbox))
            };
            let Some(t) = tracks.get(id) else {
                // Only tentative tracks (min_hits > 1) may be dropped, and handed-over faces.
                prop_assert!(min_hits > 1 || handed_over(&tracks), "track {id} missing");
                continue;
            };
            prop_assert!(t.class() == d.class || t.class() == Class::Person);
            let covered = handed_over(&tracks) || tracks
                .boxes_at(frame, 0)
                .any(|(tid, _, b, is_face)| tid == id && is_face == (d.class == Class::Face) && contains(&b, &d.bbox));
            prop_assert!(covered, "frame {frame}: {d:?} of track {id} not covered");
        }
        // And the JSON round-trip holds for arbitrary tracker output.
        let back = Tracks::from_json(&tracks.to_json().unwrap()).unwrap();
        prop_assert_eq!(back, tracks);
    }
}
