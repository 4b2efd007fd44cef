//! Unit tests of the tracks document: its JSON form, versions, files and validation.
#![allow(clippy::unwrap_used)]

use veil_core::BoxF;

use crate::tests::{face_of, person, tracker};
use crate::*;

pub(crate) fn sample_tracks() -> Tracks {
    let b = |frame, x: f32, interpolated| TrackBox {
        frame,
        bbox: BoxF::new(x, 20.0, 40.0, 100.0),
        score: 0.5,
        interpolated,
    };
    let f = |frame, x: f32, score| TrackBox {
        frame,
        bbox: BoxF::new(x + 12.0, 25.0, 16.0, 20.0),
        score,
        interpolated: false,
    };
    let p = Track::new(
        1,
        Class::Person,
        vec![b(3, 10.0, false), b(4, 12.5, true)],
        vec![f(4, 12.5, 0.75)],
    )
    .unwrap();
    let fc = Track::new(7, Class::Face, vec![f(2, 200.0, 0.25)], vec![]).unwrap();
    Tracks::new(640, 480, 25.0, vec![fc, p]).unwrap()
}

const SAMPLE_JSON: &str = concat!(
    r#"{"version":2,"width":640,"height":480,"fps":25.0,"tracks":["#,
    r#"{"id":1,"class":"person","first_frame":3,"last_frame":4,"boxes":["#,
    r#"{"frame":3,"box":[10.0,20.0,40.0,100.0],"score":0.5,"interpolated":false},"#,
    r#"{"frame":4,"box":[12.5,20.0,40.0,100.0],"score":0.5,"interpolated":true}],"#,
    r#""faces":[{"frame":4,"box":[24.5,25.0,16.0,20.0],"score":0.75,"interpolated":false}],"#,
    r#""tracklets":[{"index":1,"start":3,"end":4,"cause":"start"}]},"#,
    r#"{"id":7,"class":"face","first_frame":2,"last_frame":2,"boxes":["#,
    r#"{"frame":2,"box":[212.0,25.0,16.0,20.0],"score":0.25,"interpolated":false}],"faces":[],"#,
    r#""tracklets":[{"index":1,"start":2,"end":2,"cause":"start"}]}],"events":[]}"#
);

/// The same document as written by Veil before identity events (version 1).
const SAMPLE_JSON_V1: &str = concat!(
    r#"{"version":1,"width":640,"height":480,"fps":25.0,"tracks":["#,
    r#"{"id":1,"class":"person","first_frame":3,"last_frame":4,"boxes":["#,
    r#"{"frame":3,"box":[10.0,20.0,40.0,100.0],"score":0.5,"interpolated":false},"#,
    r#"{"frame":4,"box":[12.5,20.0,40.0,100.0],"score":0.5,"interpolated":true}],"#,
    r#""faces":[{"frame":4,"box":[24.5,25.0,16.0,20.0],"score":0.75,"interpolated":false}]},"#,
    r#"{"id":7,"class":"face","first_frame":2,"last_frame":2,"boxes":["#,
    r#"{"frame":2,"box":[212.0,25.0,16.0,20.0],"score":0.25,"interpolated":false}],"faces":[]}]}"#
);

#[test]
fn version_1_files_load_without_identity() {
    let old = Tracks::from_json(SAMPLE_JSON_V1).unwrap();
    assert!(!old.has_identity());
    assert!(sample_tracks().has_identity());
    assert_eq!(
        old.tracks(),
        sample_tracks().tracks(),
        "same tracks, one tracklet each"
    );
    assert!(old.events().is_empty());
    // Re-saved, it becomes version 2 (it then claims identity: only the tracker writes it).
    assert!(old.to_json().unwrap().starts_with(r#"{"version":2,"#));
    // A version 1 file with version 2 members is refused.
    let mixed = SAMPLE_JSON_V1.replace(r#""faces":[]}]}"#, r#""faces":[]}],"events":[]}"#);
    let e = Tracks::from_json(&mixed).unwrap_err();
    assert!(e.to_string().contains("version 1 has no"), "{e}");
    // A version 2 file without tracklets is refused.
    let e = Tracks::from_json(&SAMPLE_JSON_V1.replace(r#""version":1"#, r#""version":2"#)).unwrap_err();
    assert!(e.to_string().contains("requires"), "{e}");
}

#[test]
fn json_has_the_exact_schema_and_round_trips() {
    let t = sample_tracks();
    assert_eq!(t.to_json().unwrap(), SAMPLE_JSON);
    assert_eq!(Tracks::from_json(SAMPLE_JSON).unwrap(), t);
    // serde integration (e.g. embedding in a manifest) validates too.
    let v: Tracks = serde_json::from_str(SAMPLE_JSON).unwrap();
    assert_eq!(v, t);
    // Tracker output round-trips.
    let mut tr = tracker();
    for f in 0..10u64 {
        let p = person(0.9, 3.3 * f as f32, 7.1);
        let dets = if f % 4 == 2 {
            vec![]
        } else {
            vec![p, face_of(&p, 0.61)]
        };
        tr.update(f, &dets).unwrap();
    }
    let mut out = tr.finish();
    out.set_video(1920, 1080, 29.97).unwrap();
    assert_eq!(Tracks::from_json(&out.to_json().unwrap()).unwrap(), out);
}

#[test]
fn save_and_load_file() {
    let dir = std::env::temp_dir().join(format!("veil-track-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tracks.json");
    let t = sample_tracks();
    t.save(&path).unwrap();
    assert_eq!(Tracks::load(&path).unwrap(), t);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    std::fs::write(&path, "{").unwrap();
    let e = Tracks::load(&path).unwrap_err();
    assert!(matches!(e, TrackError::Parse { .. }));
    assert!(e.to_string().contains("tracks.json"), "{e}");
    let e = Tracks::load(dir.join("missing.json")).unwrap_err();
    assert!(matches!(e, TrackError::Read { .. }) && e.to_string().contains("missing.json"));
    // Saving into a missing directory fails without creating anything.
    assert!(matches!(
        t.save(dir.join("no/such/dir.json")),
        Err(TrackError::Write { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn analysed_range_and_source_hash_round_trip_and_are_optional() {
    let mut t = sample_tracks();
    assert_eq!((t.analyzed(), t.source_sha256()), (None, None));
    assert!(!t.covers(2, 4), "no recorded range covers nothing");
    t.set_analyzed(Some([2, 30])).unwrap();
    t.set_source_sha256(Some(&HASH.to_ascii_uppercase())).unwrap();
    assert_eq!(t.analyzed(), Some([2, 30]));
    assert_eq!(t.source_sha256(), Some(HASH), "stored in lowercase");
    assert!(t.covers(2, 30) && t.covers(5, 5));
    assert!(!t.covers(1, 30) && !t.covers(2, 31) && !t.covers(6, 5));
    // Serialised after fps, the rest of the schema unchanged.
    let json = t.to_json().unwrap();
    let with = SAMPLE_JSON.replace(
        r#""fps":25.0,"#,
        &format!(r#""fps":25.0,"analyzed":[2,30],"source_sha256":"{HASH}","#),
    );
    assert_eq!(json, with);
    assert_eq!(Tracks::from_json(&json).unwrap(), t);
    // Either member alone.
    let mut only = sample_tracks();
    only.set_analyzed(Some([0, 0])).unwrap();
    assert!(only
        .to_json()
        .unwrap()
        .contains(r#""fps":25.0,"analyzed":[0,0],"tracks""#));
    assert_eq!(Tracks::from_json(&only.to_json().unwrap()).unwrap(), only);
    let mut only = sample_tracks();
    only.set_source_sha256(Some(HASH)).unwrap();
    assert_eq!(Tracks::from_json(&only.to_json().unwrap()).unwrap(), only);
    // Through a file.
    let dir = std::env::temp_dir().join(format!("veil-track-test-range-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    t.save(dir.join("t.json")).unwrap();
    assert_eq!(Tracks::load(dir.join("t.json")).unwrap(), t);
    std::fs::remove_dir_all(&dir).unwrap();
    // Files written before the members existed still load, without them; so does null.
    let old = Tracks::from_json(SAMPLE_JSON).unwrap();
    assert_eq!((old.analyzed(), old.source_sha256()), (None, None));
    let nulls = SAMPLE_JSON.replace(
        r#""fps":25.0,"#,
        r#""fps":25.0,"analyzed":null,"source_sha256":null,"#,
    );
    assert_eq!(Tracks::from_json(&nulls).unwrap(), old);
    // Clearing works.
    t.set_analyzed(None).unwrap();
    t.set_source_sha256(None).unwrap();
    assert_eq!(t.to_json().unwrap(), SAMPLE_JSON);
}

#[test]
fn bad_analysed_range_or_source_hash_is_refused() {
    let parse = |extra: &str| {
        Tracks::from_json(&SAMPLE_JSON.replace(r#""fps":25.0,"#, &format!(r#""fps":25.0,{extra},"#)))
    };
    let invalid = |e: TrackError, needle: &str| {
        assert!(
            matches!(e, TrackError::Invalid { .. }) && e.to_string().contains(needle),
            "{e}"
        );
    };
    invalid(parse(r#""analyzed":[5,4]"#).unwrap_err(), "analyzed range [5, 4]");
    for bad in ["[5]", "[1,2,3]", "[-1,4]", "\"0-4\"", "[1.5,4]"] {
        let e = parse(&format!(r#""analyzed":{bad}"#)).unwrap_err();
        assert!(matches!(e, TrackError::Parse { .. }), "{bad}: {e}");
    }
    let short = &HASH[..63];
    let nonhex = HASH.replace('9', "g");
    for bad in [short, nonhex.as_str(), "", &format!("{HASH}0")] {
        invalid(
            parse(&format!(r#""source_sha256":"{bad}""#)).unwrap_err(),
            "source_sha256",
        );
    }
    let e = parse(r#""source_sha256":7"#).unwrap_err();
    assert!(matches!(e, TrackError::Parse { .. }), "{e}");
    // The setters check the same and leave the document unchanged.
    let mut t = sample_tracks();
    assert!(matches!(
        t.set_analyzed(Some([9, 8])),
        Err(TrackError::InvalidTrack { .. })
    ));
    assert!(matches!(
        t.set_source_sha256(Some("abc")),
        Err(TrackError::InvalidTrack { .. })
    ));
    assert_eq!(t, sample_tracks());
}

#[test]
fn broken_json_gives_typed_errors() {
    let parse = |s: &str| Tracks::from_json(s).unwrap_err();
    let is_parse = |e: &TrackError| matches!(e, TrackError::Parse { .. });
    let is_invalid = |e: &TrackError, needle: &str| {
        matches!(e, TrackError::Invalid { .. }) && e.to_string().contains(needle)
    };
    let e = parse("not json");
    assert!(is_parse(&e) && e.to_string().contains("<string>"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""width":640"#, r#""width":-640"#));
    assert!(is_parse(&e), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""version":2"#, r#""version":3"#));
    assert!(is_invalid(&e, "unsupported version 3"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""version":2,"width":640"#, r#""version":3,"wide":1"#));
    assert!(is_invalid(&e, "unsupported version 3"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""fps":25.0"#, r#""fps":-1.0"#));
    assert!(is_invalid(&e, "fps"), "{e}");
    let e = parse(&SAMPLE_JSON.replace("[10.0,20.0,40.0,100.0]", "[1e39,20.0,40.0,100.0]"));
    assert!(is_invalid(&e, "not finite"), "{e}");
    let e = parse(&SAMPLE_JSON.replace("[10.0,20.0,40.0,100.0]", "[10.0,20.0,-40.0,100.0]"));
    assert!(is_invalid(&e, "negative box size"), "{e}");
    let e = parse(&SAMPLE_JSON.replace("[10.0,20.0,40.0,100.0]", "[10.0,20.0,40.0]"));
    assert!(is_parse(&e), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#"{"frame":3,"#, r#"{"frame":5,"#));
    assert!(is_invalid(&e, "does not come after"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""first_frame":3"#, r#""first_frame":0"#));
    assert!(is_invalid(&e, "first_frame"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""id":7"#, r#""id":1"#));
    assert!(is_invalid(&e, "id 1"), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""class":"face""#, r#""class":"car""#));
    assert!(is_parse(&e), "{e}");
    let e = parse(&SAMPLE_JSON.replace(r#""interpolated":true"#, r#""interpolated":true,"x":1"#));
    assert!(is_parse(&e), "{e}");
    let e = parse(&SAMPLE_JSON.replace(
        r#""faces":[]"#,
        r#""faces":[{"frame":2,"box":[0,0,1,1],"score":1,"interpolated":false}]"#,
    ));
    assert!(is_invalid(&e, "face track"), "{e}");
    let empty = r#"{"version":1,"width":1,"height":1,"fps":0,"tracks":[{"id":1,"class":"person","first_frame":0,"last_frame":0,"boxes":[],"faces":[]}]}"#;
    assert!(is_invalid(&parse(empty), "no box"));
    // Building in code checks the same invariants.
    let b = TrackBox {
        frame: 1,
        bbox: BoxF::new(0.0, 0.0, 1.0, 1.0),
        score: 0.5,
        interpolated: false,
    };
    assert!(matches!(
        Track::new(1, Class::Person, vec![b, b], vec![]),
        Err(TrackError::InvalidTrack { .. })
    ));
    let t = Track::new(1, Class::Person, vec![b], vec![]).unwrap();
    assert!(Tracks::new(0, 0, f64::NAN, vec![t.clone()]).is_err());
    assert!(Tracks::new(0, 0, 0.0, vec![t.clone(), t]).is_err());
}

fn provenance() -> Provenance {
    Provenance {
        veil_version: Some("0.1.0".into()),
        models: vec![DetectorModel {
            name: "centerface".into(),
            file: "centerface.onnx".into(),
            sha256: HASH.to_ascii_uppercase(),
            device: Some("cpu".into()),
        }],
        face_threshold: Some(0.25),
        person_threshold: Some(0.5),
        every: Some(6),
        person_every: Some(2),
        full_search_every: Some(1.0),
        changes_only: Some(2),
    }
}

#[test]
fn provenance_round_trips_and_older_files_load_without_it() {
    let mut t = sample_tracks();
    assert_eq!(t.provenance(), &Provenance::default());
    t.set_provenance(provenance()).unwrap();
    assert_eq!(t.provenance().models[0].sha256, HASH, "stored in lowercase");
    assert_eq!(t.provenance().every, Some(6));
    // Written after fps (and the minimum sizes), each member by its name.
    let json = t.to_json().unwrap();
    let with = SAMPLE_JSON.replace(
        r#""fps":25.0,"#,
        &format!(
            r#""fps":25.0,"veil_version":"0.1.0","models":[{{"name":"centerface","file":"centerface.onnx","sha256":"{HASH}","device":"cpu"}}],"face_threshold":0.25,"person_threshold":0.5,"every":6,"person_every":2,"full_search_every":1.0,"changes_only":2,"#
        ),
    );
    assert_eq!(json, with);
    assert_eq!(Tracks::from_json(&json).unwrap(), t);
    // Through a file.
    let dir = std::env::temp_dir().join(format!("veil-track-test-prov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    t.save(dir.join("t.json")).unwrap();
    assert_eq!(
        Tracks::load(dir.join("t.json")).unwrap().provenance(),
        t.provenance()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // Files written before the members existed (versions 2 and 1) load, without them.
    for old in [SAMPLE_JSON, SAMPLE_JSON_V1] {
        assert_eq!(
            Tracks::from_json(old).unwrap().provenance(),
            &Provenance::default()
        );
    }
    // A model recorded before the device was (it ran on the CPU) loads without it.
    let no_device = json.replace(r#","device":"cpu""#, "");
    assert_eq!(
        Tracks::from_json(&no_device).unwrap().provenance().models[0].device,
        None
    );
    assert!(Tracks::from_json(&json.replace(r#""device":"cpu""#, r#""device":"""#)).is_err());
    // Any one member alone.
    let only = SAMPLE_JSON.replace(r#""fps":25.0,"#, r#""fps":25.0,"every":3,"#);
    let t = Tracks::from_json(&only).unwrap();
    assert_eq!(t.provenance().every, Some(3));
    assert_eq!(t.to_json().unwrap(), only);
}

#[test]
fn bad_provenance_is_refused() {
    let parse = |extra: &str| {
        Tracks::from_json(&SAMPLE_JSON.replace(r#""fps":25.0,"#, &format!(r#""fps":25.0,{extra},"#)))
    };
    for (extra, needle) in [
        (r#""every":0"#, "every is 0"),
        (r#""person_every":0"#, "person_every is 0"),
        (r#""full_search_every":-1.0"#, "full_search_every -1"),
        (r#""face_threshold":1.5"#, "face_threshold 1.5"),
        (r#""person_threshold":-0.1"#, "person_threshold -0.1"),
        (r#""veil_version":"""#, "veil_version"),
        (
            r#""models":[{"name":"nanodet","file":"nanodet.onnx","sha256":"abc"}]"#,
            "nanodet.onnx",
        ),
    ] {
        let e = parse(extra).unwrap_err();
        assert!(
            matches!(e, TrackError::Invalid { .. }) && e.to_string().contains(needle),
            "{extra}: {e}"
        );
    }
    for extra in [
        r#""every":-1"#,
        r#""every":"6""#,
        r#""models":[{"name":"n","file":"n.onnx","sha256":"ab","size":3}]"#,
    ] {
        let e = parse(extra).unwrap_err();
        assert!(matches!(e, TrackError::Parse { .. }), "{extra}: {e}");
    }
    // The setter checks the same and leaves the document unchanged.
    let mut t = sample_tracks();
    for bad in [
        Provenance {
            every: Some(0),
            ..provenance()
        },
        Provenance {
            full_search_every: Some(0.0),
            ..provenance()
        },
        Provenance {
            full_search_every: Some(f64::NAN),
            ..provenance()
        },
    ] {
        assert!(matches!(
            t.set_provenance(bad),
            Err(TrackError::InvalidTrack { .. })
        ));
    }
    assert_eq!(t, sample_tracks());
}
