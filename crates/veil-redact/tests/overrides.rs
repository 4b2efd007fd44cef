//! Operator overrides are checked and recorded (issue 25, item 4): a tracklet added to the
//! requester after review must come from the tracks file the export uses, must not be an
//! event tracklet (people together: who is who cannot be told), and must not be in view at
//! the same time as a kept tracklet of another person (two people at once are two people,
//! by the tracker's own rule); the manifest lists the additions apart with the operator, and
//! the audit entry records them. A `--keep-at` point inside two people's boxes with no clear
//! winner is an error listing the candidates, not the nearest box centre.
//!
//! The rules are checked on tracks built in code; the end-to-end test analyses and exports
//! the bundled CCTV clip (fixtures/vtest.mp4) with the real models.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use veil_audit::{Action, LegalBasis, NewEntry, Timestamp};
use veil_core::BoxF;
use veil_redact::{
    analyze, export, resolve_identity, resolve_requester, AnalyzeOptions, ExportAudit, ExportOptions,
    Manifest, RedactError, Requester, TrackletId, Tracks,
};
use veil_track::{Cause, Class, EventKind, IdentityEvent, Link, LinkBasis, Track, TrackBox, Tracklet};

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-redact-overrides", name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn tl(index: u32, start: u64, end: u64, cause: Cause, event: Option<usize>, link: Option<Link>) -> Tracklet {
    Tracklet {
        index,
        start,
        end,
        cause,
        event,
        link,
    }
}

fn confident(track: u64, index: u32) -> Option<Link> {
    Some(Link {
        to: TrackletId::new(track, index),
        distance: 0.05,
        margin: Some(0.3),
        confident: true,
        basis: LinkBasis::Appearance,
    })
}

/// A person track at column `x` over `frames`, cut into `tracklets`.
fn person(id: u64, x: f32, frames: std::ops::RangeInclusive<u64>, tracklets: Vec<Tracklet>) -> Track {
    let b = |frame| TrackBox {
        frame,
        bbox: BoxF::new(x, 10.0, 40.0, 100.0),
        score: 0.9,
        interpolated: false,
    };
    Track::new(id, Class::Person, frames.map(b).collect(), vec![])
        .unwrap()
        .with_tracklets(tracklets)
        .unwrap()
}

/// At 10 fps: the requester (track 1) meets track 2 at frame 10 and they part at 14; both
/// are linked back decisively (1.3 to 1.1, 2.3 to 2.1). Track 3 walks in at frame 20 while
/// the requester is still there. Track 7 is seen on frames 10-12 only (while the requester
/// is in the meeting) and is confidently linked from track 8, in view on frames 14-20.
/// Track 4 is someone seen on frames 40-50, after everyone else has gone.
fn scene() -> Tracks {
    let meeting = |id, x, link| {
        person(
            id,
            x,
            0..=30,
            vec![
                tl(1, 0, 9, Cause::Start, None, None),
                tl(2, 10, 13, Cause::Event, Some(0), None),
                tl(3, 14, 30, Cause::Parting, Some(0), link),
            ],
        )
    };
    let single = |id, x, frames: std::ops::RangeInclusive<u64>, link| {
        let (a, b) = (*frames.start(), *frames.end());
        person(id, x, frames, vec![tl(1, a, b, Cause::Birth, None, link)])
    };
    Tracks::new_with_events(
        640,
        360,
        10.0,
        vec![
            meeting(1, 20.0, confident(1, 1)),
            meeting(2, 70.0, confident(2, 1)),
            single(3, 200.0, 20..=30, None),
            single(4, 300.0, 40..=50, None),
            single(7, 400.0, 10..=12, None),
            single(8, 450.0, 14..=20, confident(7, 1)),
        ],
        vec![IdentityEvent {
            frame: 10,
            kind: EventKind::Overlap,
            tracks: vec![1, 2],
        }],
    )
    .unwrap()
}

fn refused(e: &RedactError) -> (TrackletId, String) {
    match e {
        RedactError::TrackletRefused { tracklet, reason, .. } => (*tracklet, reason.clone()),
        other => panic!("expected a refused tracklet, got {other}"),
    }
}

#[test]
fn an_added_tracklet_in_view_with_the_requester_is_refused_with_the_reason() {
    let t = scene();
    let keep = Requester::Tracks { ids: vec![1] };
    // Before: kept silently. Track 3 is in view on frames 20-30, with the requester's 1.3.
    let e = resolve_identity(&t, &keep, &[TrackletId::new(3, 1)], Some(Path::new("t.json"))).unwrap_err();
    let (which, reason) = refused(&e);
    assert_eq!(which, TrackletId::new(3, 1));
    assert_eq!(
        reason,
        "it coexists in time with the requester's tracklet 1.3 (frames 20-30, 00:02.0-00:03.0: \
         both in view at once); two people tracked at the same time are two different people \
         (the tracker's own rule), so it is not the requester"
    );
    assert!(
        e.to_string()
            .starts_with("tracklet 3.1 of tracks file t.json cannot be added to the requester: "),
        "{e}"
    );
    // The other side of the meeting (2.3, with 1.3 from frame 14) is refused the same way.
    let (which, reason) = refused(&resolve_identity(&t, &keep, &[TrackletId::new(2, 3)], None).unwrap_err());
    assert_eq!(which, TrackletId::new(2, 3));
    assert!(
        reason.contains("the requester's tracklet 1.3 (frames 14-30"),
        "{reason}"
    );
    // Someone seen after everyone else left coexists with nobody kept: accepted.
    let k = resolve_identity(&t, &keep, &[TrackletId::new(4, 1)], None).unwrap();
    assert!(k.tracklets.contains(&TrackletId::new(4, 1)));
}

#[test]
fn a_tracklet_linked_to_an_addition_and_in_view_with_the_requester_is_refused() {
    let t = scene();
    // 7.1 (frames 10-12) is in view with nobody kept, but 8.1, confidently linked to it,
    // is in view with the requester's 1.3 on frames 14-20.
    let e = resolve_identity(
        &t,
        &Requester::Tracks { ids: vec![1] },
        &[TrackletId::new(7, 1)],
        None,
    )
    .unwrap_err();
    let (which, reason) = refused(&e);
    assert_eq!(which, TrackletId::new(7, 1), "the addition is named");
    assert!(
        reason.starts_with(
            "tracklet 8.1 (frames 14-20, 00:01.4-00:02.0), confidently linked to it, coexists in \
             time with the requester's tracklet 1.3 (frames 14-20"
        ),
        "{reason}"
    );
    // Two additions in view at the same time as each other are refused too.
    let e = resolve_identity(
        &t,
        &Requester::Tracks { ids: vec![4] },
        &[TrackletId::new(1, 1), TrackletId::new(2, 1)],
        None,
    )
    .unwrap_err();
    let (_, reason) = refused(&e);
    assert!(reason.contains("also added"), "{reason}");
}

#[test]
fn an_event_tracklet_is_refused() {
    let t = scene();
    let e = resolve_identity(
        &t,
        &Requester::Tracks { ids: vec![1] },
        &[TrackletId::new(1, 2)],
        None,
    )
    .unwrap_err();
    let (which, reason) = refused(&e);
    assert_eq!(which, TrackletId::new(1, 2));
    assert_eq!(
        reason,
        "it is an event tracklet (frames 10-13, 00:01.0-00:01.3): track 1 was meeting track 2, \
         and while people are together who is who cannot be told; add the tracklet after they \
         part instead"
    );
    // Also when it is the only thing kept.
    let e = resolve_identity(&t, &Requester::None, &[TrackletId::new(2, 2)], None).unwrap_err();
    assert_eq!(refused(&e).0, TrackletId::new(2, 2));
}

#[test]
fn an_ambiguous_keep_at_is_an_error_listing_the_candidates() {
    let b = |x, y, w, h| TrackBox {
        frame: 0,
        bbox: BoxF::new(x, y, w, h),
        score: 0.9,
        interpolated: false,
    };
    // Two people side by side, their bodies overlapping on x 150..180; the first one's face
    // (x 152..176) lies over both bodies.
    let a = Track::new(
        1,
        Class::Person,
        vec![b(100.0, 100.0, 80.0, 200.0)],
        vec![b(152.0, 105.0, 24.0, 30.0)],
    )
    .unwrap();
    let c = Track::new(2, Class::Person, vec![b(150.0, 100.0, 80.0, 200.0)], vec![]).unwrap();
    let t = Tracks::new(640, 360, 10.0, vec![a, c]).unwrap();
    let at = |x, y| Requester::At { time: 0.0, x, y };
    // On both bodies, on no face: no clear winner. Before: the nearest box centre, silently.
    let e = resolve_requester(&t, &at(165.0, 250.0), None).unwrap_err();
    let RedactError::AmbiguousPoint {
        frame, candidates, ..
    } = &e
    else {
        panic!("expected an ambiguous point, got {e}")
    };
    assert_eq!(*frame, 0);
    assert_eq!(candidates.iter().map(|c| c.track).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        e.to_string(),
        "the point (165, 250) at 0 s (frame 0) is inside the boxes of track 1 (person box 100,100 \
         80x200), track 2 (person box 150,100 80x200): no clear winner (pick a point on one \
         person only, or on their face, or give track ids with --keep-track)"
    );
    // The export's selection refuses it the same way.
    let e = resolve_identity(&t, &at(165.0, 250.0), &[], None).unwrap_err();
    assert!(matches!(e, RedactError::AmbiguousPoint { .. }), "{e}");
    // A clear winner: on one body only, or on the one face over both bodies.
    assert_eq!(resolve_requester(&t, &at(120.0, 250.0), None).unwrap(), [1]);
    assert_eq!(resolve_requester(&t, &at(200.0, 250.0), None).unwrap(), [2]);
    assert_eq!(resolve_requester(&t, &at(160.0, 115.0), None).unwrap(), [1]);
    assert!(matches!(
        resolve_requester(&t, &at(5.0, 5.0), None),
        Err(RedactError::NobodyAt { .. })
    ));
}

#[test]
fn added_tracklets_need_the_tracks_file_they_come_from() {
    let d = out_dir("no-tracks");
    let mut o = ExportOptions::new(fixture("vtest.mp4"), d.join("export.mp4"));
    o.to = Some(1.0);
    o.requester = Requester::At {
        time: 0.0,
        x: 660.0,
        y: 280.0,
    };
    o.keep_tracklets = vec![TrackletId::new(3, 2)];
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::InvalidOption { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("tracklet(s) 3.2 added to the requester need the tracks file their ids come from"),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
    // An operator who is not the audit entry's actor is refused too.
    let mut o = ExportOptions::new(fixture("vtest.mp4"), d.join("export.mp4"));
    o.actor = Some("a.de.vries".into());
    o.audit = Some(audit(&d.join("audit.jsonl")));
    let e = export(&o).unwrap_err();
    assert!(
        e.to_string()
            .contains("actor \"a.de.vries\" is not the audit entry's actor \"j.jansen\""),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

fn audit(log: &Path) -> ExportAudit {
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request")
        .basis("inzage:REQ-25".parse::<LegalBasis>().unwrap())
        .camera("courtyard");
    ExportAudit::new(
        log,
        entry,
        Vec::new(),
        Timestamp::parse("2026-03-01T09:00:00Z").unwrap(),
    )
}

/// The bundled CCTV clip, analysed; an addition that coexists with the requester is refused
/// before any frame is exported, and one that does not is kept and recorded: in the manifest,
/// apart from the automatic links and with the operator, and in the audit entry.
#[test]
fn operator_additions_are_checked_and_recorded_end_to_end() {
    let d = out_dir("e2e");
    let tracks_path = d.join("tracks.json");
    let mut a = AnalyzeOptions::new(fixture("vtest.mp4"), &tracks_path);
    a.to = Some(8.0);
    analyze(&a).unwrap();
    let tracks = Tracks::load(&tracks_path).unwrap();
    // A requester with a tracklet the operator may add (not an event tracklet, in view with
    // no other kept person), and one the operator may not (in view with the requester).
    let persons: Vec<u64> = tracks
        .tracks()
        .iter()
        .filter(|t| t.class() == Class::Person)
        .map(Track::id)
        .collect();
    let all: Vec<TrackletId> = tracks
        .tracks()
        .iter()
        .flat_map(|t| {
            t.tracklets()
                .iter()
                .map(move |x| TrackletId::new(t.id(), x.index))
        })
        .collect();
    let mut pick = None;
    for &r in &persons {
        let req = Requester::Tracks { ids: vec![r] };
        let kept = resolve_identity(&tracks, &req, &[], None).unwrap().tracklets;
        let ok = all.iter().copied().find(|&c| {
            !kept.contains(&c)
                && tracks.tracklet(c).unwrap().cause != Cause::Event
                && resolve_identity(&tracks, &req, &[c], None).is_ok()
        });
        let bad = all.iter().copied().find(|&c| {
            c.track != r
                && tracks.tracklet(c).unwrap().cause != Cause::Event
                && matches!(
                    resolve_identity(&tracks, &req, &[c], None),
                    Err(RedactError::TrackletRefused { .. })
                )
        });
        if let (Some(ok), Some(bad)) = (ok, bad) {
            pick = Some((r, ok, bad));
            break;
        }
    }
    let (r, ok, bad) = pick.expect("a requester with an addition allowed and one refused");
    eprintln!("requester track {r}: adding {ok} is allowed, {bad} is refused");

    let options = |name: &str, add: TrackletId| {
        let mut o = ExportOptions::new(fixture("vtest.mp4"), d.join(format!("{name}.mp4")));
        o.to = Some(8.0);
        o.tracks = Some(tracks_path.clone());
        o.requester = Requester::Tracks { ids: vec![r] };
        o.keep_tracklets = vec![add];
        o
    };
    // Refused, naming the reason, before anything is written.
    let before = listing(&d);
    let e = export(&options("refused", bad)).unwrap_err();
    let (which, reason) = refused(&e);
    assert_eq!(which, bad);
    assert!(reason.contains("coexists in time with"), "{reason}");
    assert!(e.to_string().contains(&tracks_path.display().to_string()), "{e}");
    assert_eq!(listing(&d), before, "nothing written");

    // Kept and recorded, with the operator from the audit entry.
    let log = d.join("audit.jsonl");
    let mut o = options("kept", ok);
    o.audit = Some(audit(&log));
    let rep = export(&o).unwrap();
    let m = &rep.manifest;
    assert!(m.requester_tracklets.contains(&ok), "{:?}", m.requester_tracklets);
    assert_eq!(m.operator_tracklets.len(), 1);
    assert_eq!(m.operator_tracklets[0].tracklet, ok);
    assert_eq!(m.operator_tracklets[0].added_by.as_deref(), Some("j.jansen"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rep.manifest_path).unwrap()).unwrap();
    assert_eq!(
        json["operator_tracklets"],
        serde_json::json!([{"tracklet": ok.to_string(), "added_by": "j.jansen"}])
    );
    let line = std::fs::read_to_string(&log).unwrap();
    assert!(
        line.contains(&format!(
            r#""manifest_sha256":"{}","operator_tracklets":["{ok}"],"prev":"#,
            veil_redact::sha256_file(&rep.manifest_path).unwrap()
        )),
        "the audit entry records the addition: {line}"
    );
    assert!(veil_audit::verify_file(&log).unwrap().is_intact());
    veil_redact::verify(&rep.output, &rep.manifest_path, None).unwrap();

    // Without an audit entry or an actor, the operator is recorded as unknown (null).
    let rep = export(&options("anonymous", ok)).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rep.manifest_path).unwrap()).unwrap();
    assert_eq!(
        json["operator_tracklets"],
        serde_json::json!([{"tracklet": ok.to_string(), "added_by": null}])
    );

    // A manifest of an older Veil (no operator_tracklets) still loads and verifies.
    let mut old = json.clone();
    old.as_object_mut().unwrap().remove("operator_tracklets");
    let old_path = d.join("old.manifest.json");
    std::fs::write(&old_path, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    assert!(Manifest::load(&old_path).unwrap().operator_tracklets.is_empty());
    veil_redact::verify(&rep.output, &old_path, None).unwrap();
}
