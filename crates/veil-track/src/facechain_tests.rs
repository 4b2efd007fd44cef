//! Unit tests of face chains: following a face through crossings (and refusing to through
//! meetings), linking a re-found body track by its face, and the provisional contact between
//! a lost track and a track born over it.
#![allow(clippy::unwrap_used)]

use veil_core::BoxF;

use crate::facechain::follow_face;
use crate::*;

const FACE: f32 = 30.0;

fn face_box(frame: u64, x: f32) -> TrackBox {
    TrackBox {
        frame,
        bbox: BoxF::new(x, 50.0, FACE, FACE * 1.3),
        score: 0.9,
        interpolated: false,
    }
}

/// A face track with a box on each frame of `frames` at `x(frame)`, interpolated (not
/// detected: hidden) on the frames of `hidden`.
fn face_track(
    id: u64,
    frames: std::ops::Range<u64>,
    x: impl Fn(u64) -> f32,
    hidden: std::ops::Range<u64>,
) -> Track {
    let boxes: Vec<TrackBox> = frames
        .map(|n| TrackBox {
            interpolated: hidden.contains(&n),
            ..face_box(n, x(n))
        })
        .collect();
    Track::new(id, Class::Face, boxes, Vec::new()).unwrap()
}

/// Every box of `chain` is A's (at `a_x(frame)`), never the other face's.
fn assert_follows(chain: &[(u64, BoxF)], a_x: impl Fn(u64) -> f32) {
    for (n, b) in chain {
        assert!(
            (b.x - a_x(*n)).abs() < 1.0,
            "frame {n}: the chain holds B's face ({})",
            b.x
        );
    }
}

/// Follow face track 1 forward from frame 0 (no stop, whole range).
fn follow(tracks: &[Track], bridge: Option<u64>) -> Vec<(u64, BoxF)> {
    let start = tracks[0].boxes()[0].bbox;
    follow_face(tracks, &[(0, start)], 1, [0, 100], &|_| false, bridge)
}

/// A walks right at 10 px per frame, B left; they meet at frame 10. The face behind (B's, or
/// A's with `a_behind`) is hidden for frames 9 to 11 (interpolated there). On the frames
/// around the meeting the two faces overlap, so the chain is ambiguous.
fn crossing_with(a_behind: bool) -> Vec<Track> {
    let (hidden_a, hidden_b) = if a_behind { (9..12, 0..0) } else { (0..0, 9..12) };
    vec![
        face_track(1, 0..30, a_x, hidden_a),
        face_track(2, 0..30, b_x, hidden_b),
    ]
}

fn a_x(n: u64) -> f32 {
    50.0 + 10.0 * n as f32
}

fn b_x(n: u64) -> f32 {
    255.0 - 10.0 * n as f32
}

fn crossing() -> Vec<Track> {
    crossing_with(false)
}

#[test]
fn a_crossing_is_followed_through_on_steady_motion_only_when_asked() {
    let tracks = crossing();
    let strict = follow(&tracks, None);
    let last = strict.last().unwrap().0;
    assert!(
        (5..=9).contains(&last),
        "stops at the meeting, at {last}: {strict:?}"
    );
    let bridged = follow(&tracks, Some(5));
    assert_eq!(bridged.last().unwrap().0, 29, "{bridged:?}");
    assert_follows(&bridged, a_x);
    // A is in front (B's face is hidden, interpolated): A's face, the only one seen, is
    // followed on every frame, the crossing included.
    let frames: Vec<u64> = bridged.iter().map(|f| f.0).collect();
    assert_eq!(frames, (1..30).collect::<Vec<u64>>());
}

#[test]
fn a_face_in_front_is_never_taken_for_the_hidden_one() {
    // A passes behind B: where A is hidden, B's detected face lies near A's prediction.
    let tracks = crossing_with(true);
    for bridge in [None, Some(5)] {
        let chain = follow(&tracks, bridge);
        assert_follows(&chain, a_x);
        assert!(
            chain.iter().all(|(n, _)| !(9..=11).contains(n)),
            "A is hidden on frames 9 to 11: {chain:?}"
        );
    }
}

#[test]
fn a_face_from_elsewhere_is_not_taken_across_a_gap() {
    // A passes behind B and its track has no box at all while hidden (no estimate); B's face
    // comes from the other side and, two frames on, lies where A's would be.
    let a = Track::new(
        1,
        Class::Face,
        (0..30)
            .filter(|n| !(9..=11).contains(n))
            .map(|n| face_box(n, a_x(n)))
            .collect(),
        Vec::new(),
    )
    .unwrap();
    let tracks = vec![a, face_track(2, 0..30, b_x, 0..0)];
    for bridge in [None, Some(5)] {
        let chain = follow(&tracks, bridge);
        assert_follows(&chain, a_x);
    }
}

#[test]
fn a_face_passing_in_front_of_a_standing_one_is_followed_through() {
    // B stands at 150; A walks past in front of it, B's face hidden (interpolated) while A's
    // overlaps it, for longer than the bridge.
    let tracks = vec![
        face_track(1, 0..30, a_x, 0..0),
        face_track(2, 0..30, |_| 150.0, 8..14),
    ];
    let chain = follow(&tracks, Some(2));
    let frames: Vec<u64> = chain.iter().map(|f| f.0).collect();
    assert_eq!(frames, (1..30).collect::<Vec<u64>>());
    assert_follows(&chain, a_x);
    // Without bridging the chain stops where the faces overlap.
    assert!(follow(&tracks, None).len() < 10);
}

#[test]
fn a_standing_face_in_front_is_never_taken_for_one_passing_behind() {
    // A walks behind B, who stands at 150: A's face is hidden (interpolated) while it
    // overlaps B's, which is seen all along.
    let tracks = vec![
        face_track(1, 0..30, a_x, 8..14),
        face_track(2, 0..30, |_| 150.0, 0..0),
    ];
    let chain = follow(&tracks, Some(5));
    assert_follows(&chain, a_x);
    assert!(
        chain.iter().all(|(n, _)| !(8..14).contains(n)),
        "A is hidden on frames 8 to 13: {chain:?}"
    );
}

#[test]
fn a_meeting_where_both_stop_and_turn_back_is_not_bridged() {
    // A slows down, both stand together for 12 frames, then each goes back.
    let a = |n: u64| -> f32 {
        match n {
            0..=6 => 50.0 + 10.0 * n as f32,
            7..=9 => 110.0 + [6.0, 10.0, 12.0][(n - 7) as usize],
            10..=21 => 125.0,
            _ => 125.0 - 10.0 * (n - 21) as f32,
        }
    };
    let b = |n: u64| -> f32 {
        match n {
            0..=9 => 220.0 - 9.0 * n as f32,
            10..=21 => 135.0,
            _ => 135.0 + 10.0 * (n - 21) as f32,
        }
    };
    let tracks = vec![face_track(1, 0..34, a, 0..0), face_track(2, 0..34, b, 0..0)];
    let chain = follow(&tracks, Some(5));
    assert_follows(&chain, a);
    assert!(chain.last().unwrap().0 < 22, "{chain:?}");
}

#[test]
fn a_face_that_is_not_moving_gives_no_motion_to_bridge_with() {
    // A stands still; B walks through A's place. A's face is in the chain only until B
    // reaches it.
    let tracks = vec![
        face_track(1, 0..30, |_| 150.0, 0..0),
        face_track(2, 0..30, |n| 300.0 - 10.0 * n as f32, 14..17),
    ];
    let chain = follow(&tracks, Some(5));
    assert!(chain.iter().all(|(_, f)| (f.x - 150.0).abs() < 1.0), "{chain:?}");
    assert!(chain.last().unwrap().0 < 14, "{chain:?}");
}

fn person_box(frame: u64, x: f32, w: f32, h: f32) -> TrackBox {
    TrackBox {
        frame,
        bbox: BoxF::new(x, 40.0, w, h),
        score: 0.9,
        interpolated: false,
    }
}

/// A person whose body track (1) ends at frame 3 while the face goes on attached to it until
/// frame 8; from frame 9 a new body track (2) carries the face (a body re-found under a new
/// id). With `other`, someone else's face stands right beside it on frames 6 to 10.
fn refound(other: bool) -> Vec<Track> {
    let x = |n: u64| 40.0 + 6.0 * n as f32;
    let face = |n: u64| TrackBox {
        bbox: BoxF::new(x(n) + 12.0, 45.0, 16.0, 20.0),
        ..person_box(n, 0.0, 0.0, 0.0)
    };
    let old = Track::new(
        1,
        Class::Person,
        (0..4).map(|n| person_box(n, x(n), 40.0, 120.0)).collect(),
        (0..9).map(face).collect(),
    )
    .unwrap()
    .with_tracklets(vec![Tracklet {
        index: 1,
        start: 0,
        end: 8,
        cause: Cause::Start,
        event: None,
        link: None,
    }])
    .unwrap();
    let new = Track::new(
        2,
        Class::Person,
        (9..24).map(|n| person_box(n, x(n) - 4.0, 48.0, 70.0)).collect(),
        (9..24).map(face).collect(),
    )
    .unwrap()
    .with_tracklets(vec![Tracklet {
        index: 1,
        start: 9,
        end: 23,
        cause: Cause::Birth,
        event: None,
        link: None,
    }])
    .unwrap();
    let mut tracks = vec![old, new];
    if other {
        let beside = |n: u64| TrackBox {
            bbox: BoxF::new(x(n) + 18.0, 47.0, 16.0, 20.0),
            ..person_box(n, 0.0, 0.0, 0.0)
        };
        tracks.push(Track::new(3, Class::Face, (6..11).map(beside).collect(), Vec::new()).unwrap());
    }
    crate::facechain::face_links(&mut tracks);
    tracks
}

#[test]
fn a_track_born_over_a_lost_one_is_linked_by_the_face_chain() {
    let tracks = refound(false);
    let link = tracks[1].tracklets()[0].link.expect("linked");
    assert!(link.confident && link.basis == LinkBasis::Face, "{link:?}");
    assert_eq!(link.to, TrackletId::new(1, 1));
    let t = Tracks::new(640, 360, 25.0, tracks).unwrap();
    let id = t.identity(&[TrackletId::new(1, 1)]);
    assert_eq!(id, vec![TrackletId::new(1, 1), TrackletId::new(2, 1)]);
    // The link and its basis survive the tracks file.
    assert_eq!(Tracks::from_json(&t.to_json().unwrap()).unwrap(), t);
}

#[test]
fn a_face_chain_with_another_face_beside_it_links_nothing() {
    let tracks = refound(true);
    assert_eq!(tracks[1].tracklets()[0].link, None);
}

/// A lost track and a track born over its prediction are one person found again until the
/// lost one is seen beside the new one: then the contact is an identity event.
#[test]
fn a_lost_track_seen_again_beside_the_new_one_makes_an_event() {
    let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
    let body = |x: f32, h: f32| Detection::new(Class::Person, 0.9, BoxF::new(x, 40.0, 40.0, h));
    for n in 0..20u64 {
        let a = 60.0 + 2.0 * n as f32;
        let dets = match n {
            0..=5 => vec![body(a, 120.0)],
            // A is hidden; B appears right over A's place (a different, shorter box).
            6..=9 => vec![body(a + 6.0, 70.0)],
            // A is back beside B, overlapping it.
            _ => vec![body(a, 120.0), body(a + 20.0, 70.0)],
        };
        tr.update(n, &dets).unwrap();
    }
    let t = tr.finish();
    assert_eq!(t.events().len(), 1, "{t:?}");
    assert_eq!(t.events()[0].frame, 10);
}
