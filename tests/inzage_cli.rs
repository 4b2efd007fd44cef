//! `redact analyze` / `redact export` as a user runs them, on the annotated group clip
//! (fixtures/inzage/group_pan.mp4) with the real models.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::process::Output;

use common::{redact, root, scratch, stderr};

fn run(args: &[&OsStr]) -> Output {
    redact(args)
}

#[test]
fn analyze_then_export_with_audit_entry() {
    let dir = scratch("inzage");
    let clip = root().join("fixtures/inzage/group_pan.mp4");
    let tracks = dir.join("tracks.json");
    let sheet = dir.join("sheet.png");
    let o = run(&[
        "analyze".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        tracks.as_os_str(),
        "--sheet".as_ref(),
        sheet.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&tracks).unwrap()).unwrap();
    assert_eq!(
        doc["version"], 2,
        "tracks files record identity (tracklets, events) since version 2"
    );
    assert!(
        doc["tracks"].as_array().unwrap().len() >= 6,
        "six people in the group photo"
    );
    assert_eq!(&std::fs::read(&sheet).unwrap()[1..4], b"PNG");

    let out = dir.join("export.mp4");
    let log = dir.join("audit.jsonl");
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--tracks".as_ref(),
        tracks.as_os_str(),
        "--keep-track".as_ref(),
        "1".as_ref(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "j.jansen".as_ref(),
        "--reason".as_ref(),
        "inzage".as_ref(),
        "--basis".as_ref(),
        "inzage:REQ-1".as_ref(),
        "--camera".as_ref(),
        "lobby".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = dir.join("export.mp4.manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(m["requester_tracks"], serde_json::json!([1]));
    // the audit entry carries the manifest's hash and the real time window
    let line = std::fs::read_to_string(&log).unwrap();
    let entry: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(entry["action"], "export");
    assert_eq!(
        entry["manifest_sha256"].as_str().unwrap(),
        veil::audit::sha256_file(&manifest).unwrap()
    );
    assert_eq!(entry["window"]["from"], "2026-03-01T09:00:00Z");
    let o = run(&["audit".as_ref(), "verify".as_ref(), log.as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn export_refusals_leave_nothing() {
    let dir = scratch("inzage-refusals");
    let clip = root().join("fixtures/inzage/group_pan.mp4");
    let out = dir.join("export.mp4");
    // nobody at the point: an error, not a silent full redaction
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-at".as_ref(),
        "0.5@2,2".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nobody is tracked at pixel (2, 2) at 0.5 s"),
        "the refusal names the point: {}",
        stderr(&o)
    );
    assert!(!out.exists(), "no export after a refusal");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
    // an export that could not be logged is refused before any work (purpose not allowed)
    let zones = root().join("fixtures/vtest-zones.toml");
    let log = dir.join("audit.jsonl");
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-none".as_ref(),
        "--zones".as_ref(),
        zones.as_os_str(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "x".as_ref(),
        "--reason".as_ref(),
        "curious".as_ref(),
        "--basis".as_ref(),
        "own-report:R-1".as_ref(),
        "--purpose".as_ref(),
        "marketing".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("the export could not be logged") && e.contains("marketing"),
        "the refusal names the log rule and the purpose: {e}"
    );
    assert!(!log.exists(), "refused before anything was logged");
    assert!(!out.exists(), "refused before the work");
    // no requester choice at all is a usage error
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
    assert!(!log.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
}

/// Operator overrides on the command line (issue 25): `--add-tracklet` needs the tracks file
/// its ids come from (a one-shot export's own analysis is saved with `--tracks-out`); an
/// addition in view at the same time as the requester, or an event tracklet, is refused with
/// the reason; an allowed one is recorded with `--actor` in the manifest and the audit entry;
/// a `--keep-at` point on two people and no face is an error listing them. On the bundled
/// CCTV clip, with the real models.
#[test]
fn overrides_are_checked_and_recorded() {
    use veil::redact::{resolve_identity, Requester, TrackletId, Tracks};
    use veil::track::{Cause, Class};
    let dir = scratch("inzage-overrides");
    let clip = common::vtest();
    let s = |s: &str| std::ffi::OsString::from(s);
    let export = |extra: &[std::ffi::OsString]| {
        let mut a: Vec<std::ffi::OsString> = vec![s("export"), clip.clone().into(), s("--to"), s("8")];
        a.extend_from_slice(extra);
        let refs: Vec<&OsStr> = a.iter().map(|x| x.as_os_str()).collect();
        run(&refs)
    };
    let out = dir.join("export.mp4");
    // Tracklet ids without the tracks file they come from: a usage error, nothing written.
    let o = export(&[
        s("-o"),
        out.clone().into(),
        s("--keep-at"),
        s("0@660,280"),
        s("--add-tracklet"),
        s("1.2"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--tracks <TRACKS.json>"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");

    // The one-shot export saves its analysis; its ids are the ones to add next time.
    let tracks = dir.join("tracks.json");
    let o = export(&[
        s("-o"),
        out.clone().into(),
        s("--keep-none"),
        s("--tracks-out"),
        tracks.clone().into(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = Tracks::load(&tracks).unwrap();
    let o = export(&[
        s("-o"),
        dir.join("x.mp4").into(),
        s("--keep-none"),
        s("--tracks"),
        tracks.clone().into(),
        s("--tracks-out"),
        dir.join("t2.json").into(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--tracks-out is for the one-shot export: {}",
        stderr(&o)
    );

    // From the tracks: a requester, an addition in view with them, one that is not, and an
    // event tracklet.
    let all: Vec<TrackletId> = t
        .tracks()
        .iter()
        .filter(|x| x.class() == Class::Person)
        .flat_map(|x| {
            x.tracklets()
                .iter()
                .map(move |k| TrackletId::new(x.id(), k.index))
        })
        .collect();
    let cause = |k: TrackletId| t.tracklet(k).unwrap().cause;
    let mut pick = None;
    for r in t
        .tracks()
        .iter()
        .filter(|x| x.class() == Class::Person)
        .map(|x| x.id())
    {
        let req = Requester::Tracks { ids: vec![r] };
        let kept = resolve_identity(&t, &req, &[], None).unwrap().tracklets;
        let ok = all.iter().copied().find(|&c| {
            !kept.contains(&c) && cause(c) != Cause::Event && resolve_identity(&t, &req, &[c], None).is_ok()
        });
        let first = TrackletId::new(r, 1);
        let bad = all.iter().copied().find(|&c| {
            let (a, b) = (t.tracklet(c).unwrap(), t.tracklet(first).unwrap());
            c.track != r && cause(c) != Cause::Event && a.start <= b.end && b.start <= a.end
        });
        if let (Some(ok), Some(bad)) = (ok, bad) {
            pick = Some((r, ok, bad));
            break;
        }
    }
    let (r, ok, bad) = pick.expect("a requester with an addition allowed and one refused");
    let event = all
        .iter()
        .copied()
        .find(|&c| cause(c) == Cause::Event)
        .expect("people meet in the clip");
    let with_tracks = |add: TrackletId, more: &[std::ffi::OsString]| {
        let mut a = vec![
            s("-o"),
            out.clone().into(),
            s("--force"),
            s("--tracks"),
            tracks.clone().into(),
            s("--keep-track"),
            s(&r.to_string()),
            s("--add-tracklet"),
            s(&add.to_string()),
        ];
        a.extend_from_slice(more);
        export(&a)
    };
    std::fs::remove_file(&out).unwrap();
    std::fs::remove_file(dir.join("export.mp4.manifest.json")).unwrap();
    let o = with_tracks(bad, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("tracklet {bad} of tracks file {}", tracks.display()))
            && e.contains("coexists in time with the requester's tracklet")
            && e.contains("two people tracked at the same time are two different people"),
        "the refusal names the tracklets and the reason: {e}"
    );
    assert!(!out.exists(), "no export after a refusal");
    let o = with_tracks(event, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("tracklet {event} of tracks file"))
            && stderr(&o).contains("it is an event tracklet"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "no export after a refusal");

    // Allowed: kept, and recorded apart with the operator, in the manifest and the log.
    let log = dir.join("audit.jsonl");
    let o = with_tracks(
        ok,
        &[
            s("--audit-log"),
            log.clone().into(),
            s("--actor"),
            s("j.jansen"),
            s("--reason"),
            s("inzage"),
            s("--basis"),
            s("inzage:REQ-25"),
            s("--camera"),
            s("courtyard"),
            s("--recording-start"),
            s("2026-03-01T09:00:00Z"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("added by j.jansen after review: tracklet(s) {ok}")),
        "{}",
        stderr(&o)
    );
    let manifest = dir.join("export.mp4.manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(
        m["operator_tracklets"],
        serde_json::json!([{"tracklet": ok.to_string(), "added_by": "j.jansen"}])
    );
    assert!(m["requester_tracklets"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(ok.to_string())));
    let entry: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(entry["operator_tracklets"], serde_json::json!([ok.to_string()]));
    let o = run(&["audit".as_ref(), "verify".as_ref(), log.as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // A point on two people's bodies and on no face: no clear winner.
    let inside = |p: (f32, f32), b: &[f32; 4]| p.0 >= b[0] && p.1 >= b[1] && p.0 < b[2] && p.1 < b[3];
    let mut point = None;
    'search: for f in 0..80u64 {
        let boxes: Vec<(u64, [f32; 4], bool)> = t
            .boxes_at(f, 0)
            .map(|(id, _, b, face)| (id, [b.x, b.y, b.x + b.w, b.y + b.h], face))
            .collect();
        for (i, a) in boxes.iter().enumerate().filter(|x| !x.1 .2) {
            for b in boxes[i + 1..].iter().filter(|b| !b.2 && b.0 != a.0) {
                let (x0, y0) = (a.1[0].max(b.1[0]), a.1[1].max(b.1[1]));
                let (x1, y1) = (a.1[2].min(b.1[2]), a.1[3].min(b.1[3]));
                let p = (((x0 + x1) / 2.0).round(), ((y0 + y1) / 2.0).round());
                if x1 - x0 < 2.0 || y1 - y0 < 2.0 {
                    continue;
                }
                let hits = boxes.iter().filter(|c| inside(p, &c.1)).count();
                if hits == 2 && boxes.iter().all(|c| !(c.2 && inside(p, &c.1))) {
                    point = Some((f, p, a.0.min(b.0), a.0.max(b.0)));
                    break 'search;
                }
            }
        }
    }
    let (f, (x, y), a, b) = point.expect("two people overlap somewhere in the clip");
    let time = f as f64 / t.fps();
    let o = export(&[
        s("-o"),
        dir.join("ambiguous.mp4").into(),
        s("--tracks"),
        tracks.clone().into(),
        s("--keep-at"),
        s(&format!("{time}@{x},{y}")),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "the point ({x}, {y}) at {time} s (frame {f}) is inside the boxes of track {a} (person box"
        )) && e.contains(&format!("track {b} (person box"))
            && e.contains("no clear winner"),
        "the error lists the candidates: {e}"
    );
    assert!(!dir.join("ambiguous.mp4").exists());
}

/// One camera per export (issue 28): `--camera` naming another camera than the zone file
/// (whose purposes the entry is checked against) is refused before any work, as the C ABI
/// refuses it; nothing is logged or written.
#[test]
fn export_camera_other_than_the_zone_files_is_refused() {
    let dir = scratch("inzage-camera");
    let clip = root().join("fixtures/inzage/group_pan.mp4");
    let zones = root().join("fixtures/vtest-zones.toml");
    let out = dir.join("export.mp4");
    let log = dir.join("audit.jsonl");
    let o = run(&[
        "export".as_ref(),
        clip.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--keep-none".as_ref(),
        "--zones".as_ref(),
        zones.as_os_str(),
        "--audit-log".as_ref(),
        log.as_os_str(),
        "--actor".as_ref(),
        "x".as_ref(),
        "--reason".as_ref(),
        "inzage request".as_ref(),
        "--basis".as_ref(),
        "inzage:REQ-1".as_ref(),
        "--camera".as_ref(),
        "garage-south".as_ref(),
        "--recording-start".as_ref(),
        "2026-03-01T09:00:00Z".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("--camera \"garage-south\"") && e.contains("\"vtest-courtyard\""),
        "the refusal names both cameras: {e}"
    );
    assert!(!log.exists(), "refused before anything was logged");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left behind");
}
