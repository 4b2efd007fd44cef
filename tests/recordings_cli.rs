//! A request names a camera and a wall-clock time, not a file (issue 31): the bundled clip is
//! recorded by `redact record` in 5 s segments, then read back with `--recordings DIR
//! --camera ID --from RFC3339 --to RFC3339` by export, analyze and disclose. Every assertion
//! is on what came out: frame counts against the index, the segments and hashes the manifest
//! names, pixels of the kept person, the holes, `ffmpeg -f framemd5` of a disclosure against
//! the recorded frames.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{redact, redact_bin, root, scratch, stderr, vtest, vtest_zones};
use serde_json::Value;
use veil::audit::Timestamp;
use veil::record::{Index, IndexEntry};
use veil::video::{ReadOptions, VideoReader};

const CAMERA: &str = "vtest-courtyard";

/// The bundled clip (15 s at 10 fps) recorded in 5 s segments under `base/rec`, as
/// `redact record` writes a camera: three segments of 50 frames and the index.
fn record_clip(base: &Path) -> (PathBuf, Vec<IndexEntry>) {
    record_clip_with(base, &[])
}

/// [`record_clip`] with more arguments for the recorder (`extra`).
fn record_clip_with(base: &Path, extra: &[&OsStr]) -> (PathBuf, Vec<IndexEntry>) {
    let dir = base.join("rec");
    let o = Command::new(redact_bin())
        .arg("record")
        .arg(vtest())
        .arg("--zones")
        .arg(vtest_zones())
        .arg("--dir")
        .arg(&dir)
        .args(["--segment", "5s", "--actor", "recorder", "--audit-log"])
        .arg(base.join("record-audit.jsonl"))
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let entries = Index::new(dir.join(CAMERA)).read().unwrap();
    assert_eq!(
        entries.iter().map(|e| e.frames).collect::<Vec<_>>(),
        [50, 50, 50],
        "{entries:#?}"
    );
    (dir, entries)
}

fn plus(t: Timestamp, ms: i64) -> String {
    Timestamp::from_unix_millis(t.unix_millis() + ms)
        .unwrap()
        .to_string()
}

fn os(s: &str) -> &OsStr {
    s.as_ref()
}

/// `redact <cmd> --recordings DIR --camera vtest-courtyard --from FROM --to TO <extra>`.
fn over_recordings(cmd: &str, dir: &Path, from: &str, to: &str, extra: &[&OsStr]) -> Output {
    let mut args: Vec<&OsStr> = vec![
        os(cmd),
        os("--recordings"),
        dir.as_os_str(),
        os("--camera"),
        os(CAMERA),
        os("--from"),
        os(from),
        os("--to"),
        os(to),
    ];
    args.extend_from_slice(extra);
    redact(&args)
}

fn manifest(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn frames_of(path: &Path) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while r.next_frame().unwrap().is_some() {
        n += 1;
    }
    n
}

/// The md5 of every decoded frame (`ffmpeg -f framemd5`), in order.
fn framemd5(path: &Path) -> Vec<String> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("the ffmpeg command-line tool (installed by scripts/setup.sh)");
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_owned())
        .collect()
}

#[test]
fn a_window_over_three_segments_is_exported_whole_and_its_manifest_names_each_segment() {
    let base = scratch("recordings-export");
    let (dir, entries) = record_clip(&base);
    let out = base.join("all.mp4");
    let log = base.join("audit.jsonl");
    // One second before the first frame to one after the last: both ends are holes.
    let (from, to) = (plus(entries[0].start, -1000), plus(entries[2].end, 1000));
    let o = over_recordings(
        "export",
        &dir,
        &from,
        &to,
        &[
            os("--keep-none"),
            os("-o"),
            out.as_os_str(),
            os("--audit-log"),
            log.as_os_str(),
            os("--actor"),
            os("j.jansen"),
            os("--reason"),
            os("inzage request"),
            os("--basis"),
            os("inzage:R-31"),
        ],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    // Every frame the index counts, once.
    let indexed: u64 = entries.iter().map(|e| e.frames).sum();
    assert_eq!(frames_of(&out), indexed);
    let m = manifest(&base.join("all.mp4.manifest.json"));
    assert_eq!(m["counts"]["frames"], indexed);
    let r = &m["recordings"];
    assert_eq!(r["camera"], CAMERA);
    assert_eq!(r["asked"]["from"], from.as_str());
    assert_eq!(r["asked"]["to"], to.as_str());
    assert_eq!(r["delivered"]["from"], entries[0].start.to_string());
    assert_eq!(r["delivered"]["to"], entries[2].end.to_string());
    let segs = r["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    for (i, (s, e)) in segs.iter().zip(&entries).enumerate() {
        assert_eq!(s["file"], e.file.as_str());
        assert_eq!(s["sha256"], e.sha256.as_str());
        assert_eq!(s["index_line"], i as u64 + 1);
        assert_eq!(s["frames"], e.frames);
        // Each 5 s segment gave 5 s of the export, back to back.
        let part: Vec<f64> = s["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(
            (part[0] - 5.0 * i as f64).abs() < 1e-3 && (part[1] - 5.0 * (i + 1) as f64).abs() < 1e-3,
            "{s}"
        );
    }
    let holes = r["holes"].as_array().unwrap();
    assert_eq!(holes.len(), 2, "{holes:?}");
    assert!(holes.iter().all(|h| h["kind"] == "not_recorded"));
    assert_eq!(holes[0]["from"], from.as_str());
    assert_eq!(holes[1]["to"], to.as_str());
    assert_eq!(
        err.matches("hole: ").count(),
        4,
        "listed when read and when delivered: {err}"
    );
    // The audit entry: the wall-clock window delivered, the segments and holes named.
    let entry: Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(entry["window"]["from"], entries[0].start.to_string());
    assert_eq!(entry["window"]["to"], entries[2].end.to_string());
    assert_eq!(entry["camera"], CAMERA);
    let reason = entry["reason"].as_str().unwrap();
    for e in &entries {
        assert!(
            reason.contains(&format!("{} sha256:{}", e.file, e.sha256)),
            "{reason}"
        );
    }
    assert!(reason.contains("not recorded"), "{reason}");
    std::fs::remove_dir_all(base).unwrap();
}

/// Mean absolute difference of the luma inside `b` between frame `index` of two videos.
fn luma_mad(a: &Path, b_path: &Path, index: u64, b: [f64; 4]) -> f64 {
    let plane = |p: &Path| -> (Vec<u8>, usize) {
        let mut r = VideoReader::open(p, &ReadOptions::default()).unwrap();
        loop {
            let f = r.next_frame().unwrap().unwrap();
            if f.index() == index {
                let v = f.frame_ref().unwrap();
                let y = v.plane(0).unwrap();
                let w = y.rows().next().unwrap().len();
                return (y.rows().flat_map(|row| row.iter().copied()).collect(), w);
            }
        }
    };
    let ((pa, w), (pb, _)) = (plane(a), plane(b_path));
    let [x, y, bw, bh] = b.map(|v| v.max(0.0) as usize);
    let (mut sum, mut n) = (0u64, 0u64);
    for row in y..(y + bh) {
        for col in x..(x + bw).min(w) {
            let i = row * w + col;
            if i < pa.len() {
                sum += u64::from(pa[i].abs_diff(pb[i]));
                n += 1;
            }
        }
    }
    sum as f64 / n.max(1) as f64
}

#[test]
fn keep_at_a_wall_clock_time_keeps_the_person_on_both_sides_of_a_segment_boundary() {
    let base = scratch("recordings-keep-at");
    let (dir, entries) = record_clip(&base);
    let (from, to) = (entries[0].start.to_string(), entries[2].end.to_string());
    let tracks = base.join("tracks.json");
    let o = over_recordings("analyze", &dir, &from, &to, &[os("-o"), tracks.as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = manifest(&tracks);
    // A person seen on both sides of the first boundary (frame 50 is the second segment's
    // first frame), detected at frames 45 and 55.
    let boxed = |track: &Value, f: u64| {
        track["boxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["frame"] == f && b["interpolated"] == false)
            .map(|b| {
                let v: Vec<f64> = b["box"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect();
                [v[0], v[1], v[2], v[3]]
            })
    };
    let person = t["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|tr| tr["class"] == "person")
        .filter(|tr| boxed(tr, 45).is_some_and(|b| b[3] > 60.0) && boxed(tr, 55).is_some())
        .max_by(|a, b| boxed(a, 55).unwrap()[3].total_cmp(&boxed(b, 55).unwrap()[3]))
        .expect("a person crossing the segment boundary");
    let id = person["id"].as_u64().unwrap();
    let b55 = boxed(person, 55).unwrap();
    let (x, y) = (b55[0] + b55[2] / 2.0, b55[1] + b55[3] / 2.0);
    // Frame 55 is 0.5 s into the second segment, on the wall clock.
    let at = format!("{}@{x:.0},{y:.0}", plus(entries[1].start, 500));
    let out = base.join("kept.mp4");
    let o = over_recordings(
        "export",
        &dir,
        &from,
        &to,
        &[
            os("--tracks"),
            tracks.as_os_str(),
            os("--keep-at"),
            os(&at),
            os("-o"),
            out.as_os_str(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&base.join("kept.mp4.manifest.json"));
    assert_eq!(m["requester_tracks"], serde_json::json!([id]));
    assert_eq!(m["counts"]["frames"], 150);
    // The person is visible on both sides of the boundary: their box matches the recording
    // (the export re-encodes at CRF 18), where a blurred bystander would not.
    let joined = base.join("joined.mp4");
    let cat = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "concat", "-safe", "0", "-i"])
        .arg({
            let list = base.join("list.txt");
            let text: String = entries
                .iter()
                .map(|e| format!("file '{}'\n", dir.join(CAMERA).join(&e.file).display()))
                .collect();
            std::fs::write(&list, text).unwrap();
            list
        })
        .args(["-c", "copy"])
        .arg(&joined)
        .output()
        .unwrap();
    assert!(cat.status.success(), "{}", stderr(&cat));
    for f in [45u64, 55] {
        let b = boxed(person, f).unwrap();
        let mad = luma_mad(&out, &joined, f, b);
        assert!(
            mad < 6.0,
            "frame {f}: the kept person differs from the recording by {mad:.1}"
        );
    }
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_person_crossing_a_segment_boundary_keeps_one_track() {
    let base = scratch("recordings-track");
    let (dir, entries) = record_clip(&base);
    let window = veil::record::WallWindow {
        from: entries[0].start,
        to: entries[2].end,
    };
    let opened = veil::record::Recordings::from_index(&dir, CAMERA, window)
        .unwrap()
        .open(None)
        .unwrap();
    let (from, to) = opened.window();
    let mut opts = veil::redact::AnalyzeOptions::new(opened.path(), base.join("tracks.json"));
    opts.from = Some(from);
    opts.to = Some(to);
    let report = veil::redact::analyze(&opts).unwrap();
    assert_eq!(report.frames, 150);
    let tracks = report.tracks.tracks();
    let persons: Vec<_> = tracks
        .iter()
        .filter(|t| t.class() == veil::core::Class::Person)
        .collect();
    for boundary in [50u64, 100] {
        // Someone is tracked through it, under one id...
        let through = persons
            .iter()
            .filter(|t| t.first_frame() < boundary - 5 && t.last_frame() > boundary + 5)
            .count();
        assert!(
            through >= 2,
            "boundary at frame {boundary}: {through} track(s) through it"
        );
        // ...and no track ends on the last frame of a segment where another begins on the
        // first frame of the next at the same place (one person cut in two).
        for a in persons.iter().filter(|t| t.last_frame() == boundary - 1) {
            let ab = a.boxes().last().unwrap().bbox;
            for b in persons.iter().filter(|t| t.first_frame() == boundary) {
                let bb = b.boxes()[0].bbox;
                let ix = (ab.x + ab.w).min(bb.x + bb.w) - ab.x.max(bb.x);
                let iy = (ab.y + ab.h).min(bb.y + bb.h) - ab.y.max(bb.y);
                let inter = ix.max(0.0) * iy.max(0.0);
                let iou = inter / (ab.w * ab.h + bb.w * bb.h - inter);
                assert!(
                    iou < 0.3,
                    "track {} ends at frame {} and track {} starts at {boundary} in the same place (IoU {iou:.2})",
                    a.id(),
                    boundary - 1,
                    b.id()
                );
            }
        }
    }
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn an_altered_segment_is_refused_naming_it_and_a_window_without_footage_names_the_nearest() {
    let base = scratch("recordings-altered");
    let (dir, entries) = record_clip(&base);
    let (from, to) = (entries[0].start.to_string(), entries[2].end.to_string());
    // One byte of the middle segment changed.
    let victim = dir.join(CAMERA).join(&entries[1].file);
    let mut bytes = std::fs::read(&victim).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&victim, bytes).unwrap();
    let out = base.join("x.mp4");
    let o = over_recordings(
        "export",
        &dir,
        &from,
        &to,
        &[os("--keep-none"), os("-o"), out.as_os_str()],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&entries[1].file) && err.contains("altered") && err.contains("index line 2"),
        "{err}"
    );
    assert!(!out.exists() && !base.join("x.mp4.manifest.json").exists());
    // Disclosure refuses it too, and logs nothing.
    let log = base.join("audit.jsonl");
    let o = over_recordings(
        "disclose",
        &dir,
        &from,
        &to,
        &[
            os("-o"),
            out.as_os_str(),
            os("--basis"),
            os("police-order:PV-1"),
            os("--audit-log"),
            log.as_os_str(),
            os("--actor"),
            os("j.jansen"),
            os("--reason"),
            os("order"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&entries[1].file), "{}", stderr(&o));
    assert!(!out.exists() && !log.exists());
    // A window an hour before the recording: the error names where footage is.
    let o = over_recordings(
        "export",
        &dir,
        &plus(entries[0].start, -3_600_000),
        &plus(entries[0].start, -3_000_000),
        &[os("--keep-none"), os("-o"), out.as_os_str()],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no recording") && err.contains(&format!("footage from {}", entries[0].start)),
        "{err}"
    );
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_window_over_a_deleted_segment_lists_the_hole_delivers_the_rest_and_keeps_nobody_across_it() {
    let base = scratch("recordings-deleted");
    let (dir, entries) = record_clip(&base);
    // An erasure request for the middle segment, carried out by `redact retention apply`.
    let erasures = base.join("erasures.json");
    std::fs::write(
        &erasures,
        serde_json::json!({"version": 1, "requests": [{
            "reference": "E-31", "requester": "a resident", "camera": CAMERA,
            "window": {"from": plus(entries[1].start, 1000), "to": plus(entries[1].start, 2000)},
            "received": entries[2].end.to_string()}]})
        .to_string(),
    )
    .unwrap();
    let log = base.join("audit.jsonl");
    let o = redact(&[
        os("retention"),
        os("apply"),
        os("--dir"),
        dir.as_os_str(),
        os("--erasures"),
        erasures.as_os_str(),
        os("--audit-log"),
        log.as_os_str(),
        os("--actor"),
        os("retention"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.join(CAMERA).join(&entries[1].file).exists());
    let (from, to) = (entries[0].start.to_string(), entries[2].end.to_string());
    let out = base.join("rest.mp4");
    let o = over_recordings(
        "export",
        &dir,
        &from,
        &to,
        &[os("--keep-none"), os("-o"), out.as_os_str()],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!("segment {} deleted at", entries[1].file)),
        "{err}"
    );
    assert_eq!(frames_of(&out), entries[0].frames + entries[2].frames);
    let m = manifest(&base.join("rest.mp4.manifest.json"));
    let r = &m["recordings"];
    let files: Vec<&str> = r["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, [entries[0].file.as_str(), entries[2].file.as_str()]);
    let holes = r["holes"].as_array().unwrap();
    assert_eq!(holes.len(), 1, "{holes:?}");
    let h = &holes[0];
    assert_eq!(h["kind"], "deleted");
    assert_eq!(h["file"], entries[1].file.as_str());
    assert_eq!(h["from"], entries[1].start.to_string());
    assert_eq!(h["to"], entries[1].end.to_string());
    assert!(h["reason"].as_str().unwrap().contains("E-31"), "{h}");
    assert!(h["deleted_at"].is_string());
    // A requester is kept on one side of the hole, never on both: the pictures on either
    // side do not continue, so a person after it may be someone else.
    let tracks = base.join("tracks.json");
    let o = over_recordings("analyze", &dir, &from, &to, &[os("-o"), tracks.as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = manifest(&tracks);
    let persons: Vec<&Value> = t["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|tr| tr["class"] == "person")
        .collect();
    // Frame 50 of the joined stream is the third segment's first frame.
    let before = persons
        .iter()
        .find(|tr| tr["last_frame"].as_u64().unwrap() < 40)
        .expect("a person seen only before the hole")["id"]
        .as_u64()
        .unwrap();
    let after = persons
        .iter()
        .find(|tr| tr["first_frame"].as_u64().unwrap() >= 50)
        .expect("a person seen only after the hole")["id"]
        .as_u64()
        .unwrap();
    let keep = |ids: &str, out: &Path| {
        over_recordings(
            "export",
            &dir,
            &from,
            &to,
            &[
                os("--tracks"),
                tracks.as_os_str(),
                os("--keep-track"),
                os(ids),
                os("-o"),
                out.as_os_str(),
            ],
        )
    };
    let both = base.join("both.mp4");
    let o = keep(&format!("{before},{after}"), &both);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("both sides of a hole") && err.contains(&entries[1].end.to_string()),
        "{err}"
    );
    assert!(!both.exists());
    let one = base.join("one.mp4");
    let o = keep(&before.to_string(), &one);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&base.join("one.mp4.manifest.json"));
    assert_eq!(m["requester_tracks"], serde_json::json!([before]));
    assert_eq!(m["counts"]["frames"], 100);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_disclosure_across_segments_is_the_recorded_frames_bit_for_bit() {
    let base = scratch("recordings-disclose");
    let (dir, entries) = record_clip(&base);
    // From 2.5 s into the first segment to 2.5 s into the third: both boundaries inside.
    let (from, to) = (plus(entries[0].start, 2500), plus(entries[2].start, 2500));
    let out = base.join("copy.mp4");
    let log = base.join("audit.jsonl");
    let o = over_recordings(
        "disclose",
        &dir,
        &from,
        &to,
        &[
            os("-o"),
            out.as_os_str(),
            os("--basis"),
            os("police-order:PV-2026-31"),
            os("--audit-log"),
            log.as_os_str(),
            os("--actor"),
            os("j.jansen"),
            os("--reason"),
            os("order PV-2026-31"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let recorded: Vec<String> = entries
        .iter()
        .flat_map(|e| framemd5(&dir.join(CAMERA).join(&e.file)))
        .collect();
    assert_eq!(recorded.len(), 150);
    let copy = framemd5(&out);
    // The copy is a run of the recorded frames: it starts at the keyframe at or before
    // `from` (at most a second before: one fragment), crosses both boundaries and ends at `to`.
    let start = recorded.iter().position(|m| *m == copy[0]).unwrap();
    assert!((15..=25).contains(&start), "starts at recorded frame {start}");
    assert_eq!(
        copy,
        recorded[start..start + copy.len()],
        "not the recorded frames"
    );
    assert!(
        start + copy.len() >= 124,
        "ends at recorded frame {}",
        start + copy.len()
    );
    let m = manifest(&base.join("copy.mp4.manifest.json"));
    assert_eq!(m["method"]["kind"], "stream-copy", "{}", m["method"]);
    let segs = m["recordings"]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    // Each part of the copy maps to its segment: the second segment is seconds 5..10 of the
    // joined stream.
    let part: Vec<f64> = segs[1]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let first = m["delivered"]["from"].as_f64().unwrap();
    assert!(
        (part[0] - (5.0 - first)).abs() < 1e-3 && (part[1] - (10.0 - first)).abs() < 1e-3,
        "{part:?}"
    );
    for (s, e) in segs.iter().zip(&entries) {
        assert_eq!(s["sha256"], e.sha256.as_str());
    }
    // The audit entry's window is the wall clock delivered.
    let entry: Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(entry["window"], m["delivered"]["wall_clock"]);
    assert_eq!(entry["window"]["from"], m["recordings"]["delivered"]["from"]);
    let _ = root();
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn encrypted_segments_are_read_with_the_key_from_inside_a_segment() {
    let base = scratch("recordings-encrypted");
    let key = base.join("site.key");
    let o = redact(&[
        os("keys"),
        os("generate"),
        os("--encryption"),
        os("--out"),
        key.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = base.join("site.key.pub");
    let (dir, entries) = record_clip_with(&base, &[os("--encrypt-to"), public.as_os_str()]);
    assert!(entries.iter().all(|e| e.file.ends_with(".mp4.age")));
    // From 3.5 s into the first segment (past its keyframes inside it) to 1.5 s into the
    // second: 30 frames at 10 fps, across the boundary.
    let (from, to) = (plus(entries[0].start, 3500), plus(entries[1].start, 1500));
    let out = base.join("det.json");
    let o = over_recordings("detect", &dir, &from, &to, &[os("-o"), out.as_os_str()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&entries[0].file) && err.contains("--key"), "{err}");
    assert!(!out.exists());
    let o = over_recordings(
        "detect",
        &dir,
        &from,
        &to,
        &[os("--key"), key.as_os_str(), os("-o"), out.as_os_str()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let d = manifest(&out);
    let frames = d["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 30);
    assert_eq!(frames[0]["wall_clock"], from.as_str());
    assert_eq!(frames[29]["wall_clock"], plus(entries[1].start, 1400).as_str());
    let segs = d["recordings"]["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    for (s, e) in segs.iter().zip(&entries) {
        assert_eq!(s["encrypted"], true);
        assert_eq!(s["sha256"], e.sha256.as_str());
    }
    // Persons are found on both sides of the boundary.
    for f in [&frames[0], &frames[29]] {
        assert!(
            f["detections"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["class"] == "person"),
            "{f}"
        );
    }
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_segment_with_lost_frames_is_read_whole_one_frame_after_another() {
    // A segment whose timestamps jump where frames were lost (frames 20-29 of the clip left
    // out, timestamps kept), indexed as the recorder indexes a segment.
    let base = scratch("recordings-lost");
    let cam = base.join("rec").join("cam");
    std::fs::create_dir_all(&cam).unwrap();
    let seg = cam.join("20260301T100000Z.mp4");
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(vtest())
        .args([
            "-t",
            "5",
            "-vf",
            "select='not(between(n,20,29))'",
            "-fps_mode",
            "passthrough",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-movflags",
            "+frag_keyframe+empty_moov",
        ])
        .arg(&seg)
        .output()
        .expect("the ffmpeg command-line tool (installed by scripts/setup.sh)");
    assert!(o.status.success(), "{}", stderr(&o));
    let (sha, _) = veil::core::hash::sha256_file(&seg).unwrap();
    let line = serde_json::json!({"version": 1, "file": "20260301T100000Z.mp4",
        "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T10:00:05Z", "frames": 40,
        "sha256": sha, "gaps": []});
    std::fs::write(cam.join("index.jsonl"), format!("{line}\n")).unwrap();
    // The file on its own is refused as damaged (frames missing)...
    let alone = base.join("alone.json");
    let o = redact(&[os("detect"), seg.as_os_str(), os("-o"), alone.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("frames are missing"), "{}", stderr(&o));
    // ...and read whole as recordings, its frames one after another, marked as retimed.
    let out = base.join("det.json");
    let o = redact(&[
        os("detect"),
        os("--recordings"),
        base.join("rec").as_os_str(),
        os("--camera"),
        os("cam"),
        os("--from"),
        os("2026-03-01T10:00:00Z"),
        os("--to"),
        os("2026-03-01T10:00:05Z"),
        os("-o"),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = manifest(&out);
    assert_eq!(d["frames"].as_array().unwrap().len(), 40);
    let seg = &d["recordings"]["segments"][0];
    assert_eq!(seg["retimed"], true);
    // The jump: after the 20th frame (2.0 s), 1 s of frames lost.
    let jump: Vec<f64> = seg["jumps"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (jump[0] - 2.0).abs() < 1e-6 && (jump[1] - 1.0).abs() < 1e-6,
        "{jump:?}"
    );
    // Wall-clock times count the lost second: the frame after the jump was recorded at 3.0 s.
    let frames = d["frames"].as_array().unwrap();
    assert_eq!(frames[19]["wall_clock"], "2026-03-01T10:00:01.9Z");
    assert_eq!(frames[20]["wall_clock"], "2026-03-01T10:00:03Z");
    std::fs::remove_dir_all(base).unwrap();
}
