//! Unit tests: layer composition from tracks on synthetic frames, requester selection,
//! manifest time stamps. The end-to-end tests on real footage are in `tests/tests.rs`.
#![allow(clippy::unwrap_used)]

use veil_core::{BoxF, CpuLevel, Frame, PixelFormat};
use veil_track::{Class, Track, TrackBox, Tracks};

use crate::manifest::rfc3339_utc;
use crate::*;

fn tb(frame: u64, x: f32, y: f32, w: f32, h: f32) -> TrackBox {
    TrackBox {
        frame,
        bbox: BoxF::new(x, y, w, h),
        score: 0.9,
        interpolated: false,
    }
}

/// Two people on frames 10..=12 of a 200x120 video: the requester (track 1, body at x 20..100,
/// face at 40..70) and a bystander (track 2, body at 90..170, overlapping the requester's
/// body, face at 100..130 inside the requester's body box) and a lone face track (3).
fn scene() -> Tracks {
    let frames = 10..=12u64;
    let req = Track::new(
        1,
        Class::Person,
        frames.clone().map(|f| tb(f, 20.0, 10.0, 80.0, 100.0)).collect(),
        frames.clone().map(|f| tb(f, 40.0, 12.0, 30.0, 30.0)).collect(),
    )
    .unwrap();
    let by = Track::new(
        2,
        Class::Person,
        frames.clone().map(|f| tb(f, 90.0, 10.0, 80.0, 100.0)).collect(),
        frames.clone().map(|f| tb(f, 70.0, 40.0, 24.0, 24.0)).collect(),
    )
    .unwrap();
    let face = Track::new(3, Class::Face, vec![tb(11, 176.0, 80.0, 16.0, 16.0)], vec![]).unwrap();
    Tracks::new(200, 120, 25.0, vec![req, by, face]).unwrap()
}

/// A gray frame with a texture, so that any redaction changes pixels.
fn textured() -> Frame {
    let mut f = Frame::new(PixelFormat::Gray8, 200, 120).unwrap();
    {
        let mut m = f.as_mut();
        let p = &mut m.planes_mut()[0];
        for y in 0..120 {
            for (x, v) in p.row_mut(y).iter_mut().enumerate() {
                *v = if ((x + y as usize) / 2) & 1 == 0 { 30 } else { 220 };
            }
        }
    }
    f
}

fn changed(a: &Frame, b: &Frame, x: u32, y: u32) -> bool {
    a.as_ref().planes()[0].row(y)[x as usize] != b.as_ref().planes()[0].row(y)[x as usize]
}

fn run(plan: &LayerPlan, frame: u64, requester: &[u64]) -> (Frame, Frame, FrameLayers) {
    let t = scene();
    let orig = textured();
    let mut out = textured();
    let fl = frame_layers(&t, frame, requester, plan, 200, 120);
    apply_layers(&mut out.as_mut(), &fl.layers, CpuLevel::Scalar).unwrap();
    (orig, out, fl)
}

fn plan(style: Style, spotlight: bool) -> LayerPlan {
    LayerPlan {
        style,
        padding: Padding {
            face: 0.0,
            body: 0.0,
            requester: 0.0,
            frames: 0,
        },
        spotlight,
    }
}

#[test]
fn priorities_bystanders_win_ties() {
    let (o, r, fl) = run(&plan(Style::Solid, false), 11, &[1]);
    // Requester's face and body: kept.
    assert!(!changed(&o, &r, 55, 25));
    assert!(!changed(&o, &r, 30, 100));
    // Bystander body where it overlaps the requester's body (x 90..100): redacted (bystanders
    // win ties).
    assert!(changed(&o, &r, 95, 100));
    // Bystander body elsewhere: redacted.
    assert!(changed(&o, &r, 150, 100));
    // Bystander face inside the requester's body box: redacted anyway (on top).
    assert!(changed(&o, &r, 80, 50));
    // The lone face track: redacted.
    assert!(changed(&o, &r, 180, 85));
    // Background: untouched.
    assert!(!changed(&o, &r, 5, 5));
    assert_eq!(fl.redacted_tracks, vec![2, 3]);
    assert_eq!(fl.redacted_boxes, 3);
    assert_eq!(fl.kept_boxes, 2);
}

#[test]
fn spotlight_redacts_the_background_but_not_the_requester() {
    let (o, r, _) = run(&plan(Style::Solid, true), 11, &[1]);
    assert!(changed(&o, &r, 5, 5));
    assert!(changed(&o, &r, 195, 5));
    assert!(!changed(&o, &r, 55, 25));
    assert!(!changed(&o, &r, 30, 100));
    assert!(changed(&o, &r, 80, 50));
}

#[test]
fn nobody_as_requester_redacts_everyone() {
    let (o, r, fl) = run(&plan(Style::Pixelate, false), 11, &[]);
    assert!(changed(&o, &r, 55, 25));
    assert!(changed(&o, &r, 30, 100));
    assert_eq!(fl.redacted_tracks, vec![1, 2, 3]);
    assert_eq!(fl.kept_boxes, 0);
}

#[test]
fn temporal_padding_holds_boxes_around_the_track() {
    let mut p = plan(Style::Solid, false);
    let (o, r, _) = run(&p, 14, &[]);
    assert!(!changed(&o, &r, 150, 100), "no padding: nothing on frame 14");
    p.padding.frames = 2;
    let (o, r, _) = run(&p, 14, &[]);
    assert!(changed(&o, &r, 150, 100), "held for 2 frames after frame 12");
    let (o, r, _) = run(&p, 7, &[]);
    assert!(!changed(&o, &r, 150, 100), "3 frames before the start");
}

#[test]
fn spatial_padding_grows_boxes() {
    // The lone face (176..192 x 80..96) is the only box near (195, 85), (185, 74) and
    // (185, 101); the bystander's body ends at x 170.
    let mut p = plan(Style::Solid, false);
    let (o, r, _) = run(&p, 11, &[1]);
    for (x, y) in [(195, 85), (185, 74), (185, 101)] {
        assert!(
            !changed(&o, &r, x, y),
            "no padding: ({x}, {y}) lies outside the face"
        );
    }
    assert!(changed(&o, &r, 185, 85), "the face itself");
    p.padding.face = 0.5; // the 16 px face grows by 8 px on every side: 168..200 x 72..104
    let (o, r, _) = run(&p, 11, &[1]);
    for (x, y) in [(195, 85), (185, 74), (185, 101)] {
        assert!(changed(&o, &r, x, y), "padded: ({x}, {y}) lies in the margin");
    }
    for (x, y) in [(185, 69), (185, 107)] {
        assert!(!changed(&o, &r, x, y), "({x}, {y}) lies beyond the 8 px margin");
    }
}

#[test]
fn blur_radius_scales_with_the_box_in_buckets() {
    assert_eq!(
        Style::Blur.for_box(20.0),
        veil_core::Redaction::Blur { radius: 8 }
    );
    assert_eq!(
        Style::Blur.for_box(100.0),
        veil_core::Redaction::Blur { radius: 32 }
    );
    assert_eq!(
        Style::Blur.for_box(140.0),
        veil_core::Redaction::Blur { radius: 48 }
    );
    assert_eq!(
        Style::Pixelate.for_box(600.0),
        veil_core::Redaction::Pixelate { block: 128 }
    );
    assert_eq!(
        Style::Blur.for_box(f32::NAN),
        veil_core::Redaction::Blur { radius: 8 }
    );
    assert_eq!(
        Style::WeakBlur.for_box(100.0),
        veil_core::Redaction::WeakBlur { radius: 32 }
    );
    assert_eq!(bucket(100_000), 512);
    assert!(Style::Solid.is_irreversible() && Style::Pixelate.is_irreversible());
    assert!(Style::Blur.is_irreversible() && !Style::WeakBlur.is_irreversible());
}

#[test]
fn requester_selection() {
    let t = scene();
    // 11 / 25 s is frame 11 at 25 fps; (50, 80) is inside the requester's body only.
    let at = |x, y| Requester::At {
        time: 11.0 / 25.0,
        x,
        y,
    };
    assert_eq!(resolve_requester(&t, &at(50.0, 80.0), None).unwrap(), vec![1]);
    // Inside both bodies, on no face: no clear winner, an error naming both.
    let e = resolve_requester(&t, &at(98.0, 100.0), None).unwrap_err();
    assert!(
        matches!(&e, RedactError::AmbiguousPoint { frame: 11, candidates, .. } if candidates.len() == 2),
        "{e}"
    );
    let e = resolve_requester(&t, &at(5.0, 5.0), None).unwrap_err();
    assert!(matches!(e, RedactError::NobodyAt { frame: 11, .. }), "{e}");
    let e = resolve_requester(&t, &Requester::Tracks { ids: vec![1, 7] }, None).unwrap_err();
    assert!(matches!(e, RedactError::UnknownTrack { id: 7, .. }), "{e}");
    assert_eq!(
        resolve_requester(&t, &Requester::Tracks { ids: vec![3, 1, 3] }, None).unwrap(),
        vec![1, 3]
    );
    assert!(resolve_requester(&t, &Requester::None, None).unwrap().is_empty());
    let e = resolve_requester(
        &t,
        &Requester::At {
            time: f64::NAN,
            x: 1.0,
            y: 1.0,
        },
        None,
    )
    .unwrap_err();
    assert!(matches!(e, RedactError::InvalidOption { .. }));
}

#[test]
fn frame_numbers_and_time_stamps() {
    assert_eq!(frame_number(0.44, 25.0), 11);
    assert_eq!(frame_number(-1.0, 25.0), 0);
    assert_eq!(frame_number(1.0 / 12.0 * 30.0, 12.0), 30);
    assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339_utc(1_795_714_200), "2026-11-26T17:30:00Z");
}

#[test]
fn requester_json_form() {
    let r = Requester::At {
        time: 1.5,
        x: 2.0,
        y: 3.0,
    };
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"mode":"at","time":1.5,"x":2.0,"y":3.0}"#
    );
    let r = Requester::Tracks { ids: vec![4] };
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"mode":"tracks","ids":[4]}"#
    );
}

/// Requester body < bystander bodies < requester face < bystander faces, in pixels: a
/// bystander's body box that covers part of the requester's body and face redacts the body
/// overlap but not the face; a bystander's face over the requester's face is redacted.
#[test]
fn bystander_bodies_win_over_the_requester_body_not_over_the_requester_face() {
    let frames = 10..=12u64;
    // Requester: body x 20..100, face x 40..70, y 12..42.
    let req = Track::new(
        1,
        Class::Person,
        frames.clone().map(|f| tb(f, 20.0, 10.0, 80.0, 100.0)).collect(),
        frames.clone().map(|f| tb(f, 40.0, 12.0, 30.0, 30.0)).collect(),
    )
    .unwrap();
    // Bystander: body x 60..140 (covers the right half of the requester's face and body),
    // face x 62..74, y 30..42 (overlapping the requester's face box at its lower right).
    let by = Track::new(
        2,
        Class::Person,
        frames.clone().map(|f| tb(f, 60.0, 5.0, 80.0, 110.0)).collect(),
        frames.clone().map(|f| tb(f, 62.0, 30.0, 12.0, 12.0)).collect(),
    )
    .unwrap();
    let t = Tracks::new(200, 120, 25.0, vec![req, by]).unwrap();
    let orig = textured();
    let mut out = textured();
    let fl = frame_layers(&t, 11, &[1], &plan(Style::Solid, false), 200, 120);
    apply_layers(&mut out.as_mut(), &fl.layers, CpuLevel::Scalar).unwrap();
    // Requester body outside the bystander: kept; inside the bystander's body box: redacted.
    assert!(!changed(&orig, &out, 30, 90));
    assert!(changed(&orig, &out, 80, 90));
    // Requester face inside the bystander's body box: kept (face beats bystander body).
    assert!(!changed(&orig, &out, 64, 20));
    // Bystander face over the requester's face: redacted.
    assert!(changed(&orig, &out, 66, 36));
    // Bystander body outside the requester: redacted.
    assert!(changed(&orig, &out, 120, 90));
    assert_eq!(fl.kept_boxes, 2);
    assert_eq!(fl.redacted_tracks, vec![2]);
}

/// Fail-closed reveal from a tracks file: track 1 meets track 2 at frame 10, they part at 14;
/// after parting, 2.3 is confidently linked to 1.1 (they swapped), 1.3 only weakly to 2.1.
#[test]
fn the_requester_is_kept_only_on_confidently_linked_tracklets() {
    use veil_track::{Cause, EventKind, IdentityEvent, Link, Tracklet, TrackletId};
    let frames = 0..=20u64;
    let tl = |index, start, end, cause, event: Option<usize>, link: Option<Link>| Tracklet {
        index,
        start,
        end,
        cause,
        event,
        link,
    };
    let link = |t: u64, i: u32, confident| Link {
        to: TrackletId::new(t, i),
        distance: 0.05,
        margin: Some(if confident { 0.3 } else { 0.01 }),
        confident,
        basis: veil_track::LinkBasis::Appearance,
    };
    let mk = |id: u64, x: f32, links: [Option<Link>; 1]| {
        Track::new(
            id,
            Class::Person,
            frames.clone().map(|f| tb(f, x, 10.0, 40.0, 100.0)).collect(),
            vec![],
        )
        .unwrap()
        .with_tracklets(vec![
            tl(1, 0, 9, Cause::Start, None, None),
            tl(2, 10, 13, Cause::Event, Some(0), None),
            tl(3, 14, 20, Cause::Parting, Some(0), links[0]),
        ])
        .unwrap()
    };
    let t = Tracks::new_with_events(
        200,
        120,
        10.0,
        vec![
            mk(1, 20.0, [Some(link(2, 1, false))]),
            mk(2, 120.0, [Some(link(1, 1, true))]),
        ],
        vec![IdentityEvent {
            frame: 10,
            kind: EventKind::Overlap,
            tracks: vec![1, 2],
        }],
    )
    .unwrap();
    let keep = resolve_identity(&t, &Requester::Tracks { ids: vec![1] }, &[], None).unwrap();
    assert_eq!(keep.tracklets, vec![TrackletId::new(1, 1), TrackletId::new(2, 3)]);
    assert_eq!(keep.tracks(), vec![1, 2]);
    assert!(keep.keeps(1, 5) && !keep.keeps(1, 12) && !keep.keeps(1, 16));
    assert!(keep.keeps(2, 16) && !keep.keeps(2, 5));
    // The meeting itself is withheld, with a reason naming the other track and the time.
    let w = &keep.withheld[0];
    assert_eq!(w.tracklets, vec![TrackletId::new(1, 2), TrackletId::new(2, 2)]);
    assert_eq!(w.reason, "identity uncertain while meeting track 2 from 00:01.0");
    assert_eq!((w.from_frame, w.to_frame), (10, 13));
    // Adding 1.3 to the requester of track 1 is refused: 2.3, confidently linked to 1.1, is
    // in view at the same time, and two people at once are two people.
    let e = resolve_identity(
        &t,
        &Requester::Tracks { ids: vec![1] },
        &[TrackletId::new(1, 3)],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(e, RedactError::TrackletRefused { tracklet, .. } if tracklet == TrackletId::new(1, 3)),
        "{e}"
    );
    assert!(e.to_string().contains("tracklet 2.3 (frames 14-20"), "{e}");
    // After review, the operator adds 1.3 to the requester of track 2 (1.3's best, undecided
    // link is to 2.1): kept from then on.
    let keep = resolve_identity(
        &t,
        &Requester::Tracks { ids: vec![2] },
        &[TrackletId::new(1, 3)],
        None,
    )
    .unwrap();
    assert!(keep.keeps(1, 16) && keep.keeps(2, 5) && !keep.keeps(2, 16));
    let e = resolve_identity(&t, &Requester::None, &[TrackletId::new(1, 9)], None).unwrap_err();
    assert!(matches!(e, RedactError::InvalidOption { .. }), "{e}");
    // A version 1 tracks file (no identity) is refused when someone is to be kept.
    let old = Tracks::from_json(&t.to_json().unwrap().replace(r#""version":2"#, r#""version":1"#));
    assert!(old.is_err(), "version 1 with tracklets is refused on load");
}

/// Faces are owned by evidence: one requester (track 1, body 100x200 at (50, 40) on frames
/// 0..=20) carrying a face at `face` on every frame, and a bystander far away. Returns whether
/// that face is kept on frame 10, and how many withheld entries the keep set has.
fn face_kept(face: (f32, f32), pick: Option<(f32, f32)>) -> (bool, usize) {
    let frames = 0..=20u64;
    let req = Track::new(
        1,
        Class::Person,
        frames.clone().map(|f| tb(f, 50.0, 40.0, 100.0, 200.0)).collect(),
        frames
            .clone()
            .map(|f| tb(f, face.0, face.1, 30.0, 36.0))
            .collect(),
    )
    .unwrap();
    let far = Track::new(
        2,
        Class::Person,
        frames.clone().map(|f| tb(f, 300.0, 40.0, 100.0, 200.0)).collect(),
        vec![],
    )
    .unwrap();
    let t = Tracks::new_with_events(400, 300, 10.0, vec![req, far], vec![]).unwrap();
    let requester = match pick {
        Some((x, y)) => Requester::At { time: 0.0, x, y },
        None => Requester::Tracks { ids: vec![1] },
    };
    let keep = resolve_identity(&t, &requester, &[], None).unwrap();
    assert!(keep.keeps(1, 10), "the body is kept");
    let b = BoxF::new(face.0, face.1, 30.0, 36.0);
    (keep.keeps_face_of(1, 10, &b), keep.withheld.len())
}

#[test]
fn only_faces_owned_by_evidence_are_kept() {
    // The person's own face: centred at the top of the body, nobody else near.
    assert_eq!(face_kept((85.0, 45.0), None), (true, 0));
    // A face over the shoulder (beside the head) of a requester seen from behind: redacted,
    // and reported.
    assert_eq!(face_kept((122.0, 38.0), None), (false, 1));
    // A child's face carried at the chest.
    assert_eq!(face_kept((85.0, 110.0), None), (false, 1));
    // Unless the operator pointed at that very face.
    assert_eq!(face_kept((85.0, 110.0), Some((100.0, 128.0))), (true, 0));
    // A list of track ids (no keep set) keeps every face of the kept tracks, as before.
    let ids: Vec<u64> = vec![1];
    assert!(ids.keeps_face_of(1, 10, &BoxF::new(122.0, 38.0, 30.0, 36.0)));
}

/// A kept tracklet followed by one that is not kept (someone found again after a while
/// unseen, identity not established): the boxes filled in across the gap, which lead to the
/// person found, are not kept, so the spotlight does not cut them out.
#[test]
fn boxes_filled_in_before_an_unlinked_return_are_not_kept() {
    use veil_track::{Cause, Tracklet, TrackletId};
    let boxes: Vec<TrackBox> = (0..=20u64)
        .map(|f| TrackBox {
            interpolated: (6..=11).contains(&f),
            ..tb(f, 20.0 + 4.0 * f as f32, 10.0, 40.0, 100.0)
        })
        .collect();
    let tl = |index, start, end, cause| Tracklet {
        index,
        start,
        end,
        cause,
        event: None,
        link: None,
    };
    let t = Tracks::new_with_events(
        200,
        120,
        10.0,
        vec![Track::new(1, Class::Person, boxes, vec![])
            .unwrap()
            .with_tracklets(vec![tl(1, 0, 11, Cause::Start), tl(2, 12, 20, Cause::Return)])
            .unwrap()],
        vec![],
    )
    .unwrap();
    let keep = resolve_identity(&t, &Requester::Tracks { ids: vec![1] }, &[], None).unwrap();
    assert_eq!(keep.tracklets, vec![TrackletId::new(1, 1)]);
    assert!(keep.keeps(1, 0) && keep.keeps(1, 5));
    assert!((6..=20).all(|f| !keep.keeps(1, f)));
}

/// A group box (one detection over two people detected on their own: the tracks file's
/// `groups` span of its track) is not redacted inside its span, where it would hide the kept
/// requester; its people are covered by their own boxes. Outside the span the same box is
/// an ordinary person box and is redacted.
#[test]
fn a_group_box_is_not_redacted_inside_its_span_only() {
    let mut doc: serde_json::Value = serde_json::from_str(&scene().to_json().unwrap()).unwrap();
    let group = Track::new(
        4,
        Class::Person,
        (10..=12u64).map(|f| tb(f, 15.0, 8.0, 160.0, 104.0)).collect(),
        vec![],
    )
    .unwrap();
    let mut one: serde_json::Value = serde_json::from_str(
        &Tracks::new(200, 120, 25.0, vec![group])
            .unwrap()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    let mut g = one["tracks"][0].take();
    g["groups"] = serde_json::json!([[10, 11]]);
    doc["tracks"].as_array_mut().unwrap().push(g);
    let t: Tracks = serde_json::from_str(&doc.to_string()).unwrap();
    assert!(t.get(4).unwrap().group_at(11) && !t.get(4).unwrap().group_at(12));
    for (frame, group) in [(11, true), (12, false)] {
        let orig = textured();
        let mut out = textured();
        let fl = frame_layers(&t, frame, &[1], &plan(Style::Solid, false), 200, 120);
        apply_layers(&mut out.as_mut(), &fl.layers, CpuLevel::Scalar).unwrap();
        // The requester's body outside the bystander's box: kept only where the group box
        // is one.
        assert_eq!(!changed(&orig, &out, 30, 100), group, "frame {frame}");
        assert_eq!(!fl.redacted_tracks.contains(&4), group, "frame {frame}");
        // The bystander stays redacted by their own box either way.
        assert!(changed(&orig, &out, 150, 100), "frame {frame}");
    }
}
