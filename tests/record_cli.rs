//! End-to-end tests of `redact record` and `redact retention apply` against live sources on
//! loopback: an HTTP MPEG-TS source (the FFmpeg tool in listen mode) and a real RTSP server
//! (GStreamer's, tests/support/rtsp_server.py), both playing fixtures/vtest.mp4 in real
//! time. Every segment written is decoded again and checked frame by frame: the zones are
//! black, the rest is the camera's picture.
//!
//! The servers start and stop inside the tests. The tests wait on what the recorder writes
//! (index lines), never assert on how long something took.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, http_source, redact_bin, root, scratch, Proc};

use veil::audit::{sha256_file, verify_file, Action, AuditLog, Timestamp};
use veil::core::{CameraConfig, CaptureMasker, PixelFormat};
use veil::record::{Index, IndexEntry};
use veil::video::{ReadOptions, VideoReader};

const CAMERA: &str = "vtest-courtyard";

fn fixture() -> PathBuf {
    root().join("fixtures/vtest.mp4")
}
fn zones() -> PathBuf {
    root().join("fixtures/vtest-zones.toml")
}

/// GStreamer's RTSP server playing the fixture at rtsp://127.0.0.1:PORT/cam.
fn rtsp_source(port: u16) -> Proc {
    let mut child = Command::new("/usr/bin/python3")
        .arg(root().join("tests/support/rtsp_server.py"))
        .arg(fixture())
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("python3 with GStreamer's RTSP server (installed by scripts/setup.sh)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let proc = Proc(child);
    assert_eq!(line.trim(), "ready", "the RTSP server did not start");
    proc
}

/// Where a recording's stdout/stderr go: beside `dir`, or in the scratch directory when
/// `dir` is on the small disk.
fn log_base(dir: &Path) -> PathBuf {
    let name = dir.to_string_lossy().replace('/', "_");
    std::env::temp_dir().join(format!("veil-record-log{name}"))
}

/// `redact record` in the background, its stdout/stderr in files named after `dir`.
fn record(input: &str, dir: &Path, extra: &[&str]) -> Proc {
    let log = log_base(dir);
    let child = Command::new(redact_bin())
        .args(["record", input, "--zones"])
        .arg(zones())
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .unwrap();
    Proc(child)
}

/// Wait for the recorder to exit; (status code, stdout + stderr).
fn finish(mut p: Proc, dir: &Path) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the recorder did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = log_base(dir);
    let out = std::fs::read_to_string(log.with_extension("out")).unwrap_or_default();
    let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
    let _ = std::fs::remove_file(log.with_extension("out"));
    let _ = std::fs::remove_file(log.with_extension("err"));
    (status.code(), format!("{out}{err}"))
}

fn sigterm(p: &Proc) {
    // SAFETY: sending a signal to our own child process by its id.
    let rc = unsafe { libc::kill(p.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
}

fn index(dir: &Path) -> Vec<IndexEntry> {
    Index::new(dir.join(CAMERA)).read().unwrap()
}

/// Wait until the index has at least `n` lines.
fn wait_for_segments(dir: &Path, n: usize) -> Vec<IndexEntry> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let entries = index(dir);
        if entries.len() >= n {
            return entries;
        }
        assert!(Instant::now() < deadline, "no {n} segments in {}", dir.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Pixels of the fixture's zones (768x576) well inside a zone (7x7 neighbourhood inside),
/// for luma and for chroma, and pixels far (> 8 px) from every zone.
struct ZoneMap {
    luma_core: Vec<usize>,
    chroma_core: Vec<usize>,
    luma_far: Vec<usize>,
}

fn zone_map() -> &'static ZoneMap {
    static MAP: std::sync::OnceLock<ZoneMap> = std::sync::OnceLock::new();
    MAP.get_or_init(compute_zone_map)
}

fn compute_zone_map() -> ZoneMap {
    let config = CameraConfig::from_file(&zones()).unwrap();
    let masker = CaptureMasker::new(&config, 768, 576, PixelFormat::I420).unwrap();
    let layers = masker.layers();
    // Pixels within `r` of (x, y) that are inside a zone, from a summed-area table.
    let area = |plane: usize, w: usize, h: usize, r: usize, all: bool| {
        let inside = |x: usize, y: usize| {
            layers
                .iter()
                .any(|(_, m)| m.plane(plane).is_some_and(|s| s.contains(x as u32, y as u32)))
        };
        let mut sat = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            for x in 0..w {
                sat[(y + 1) * (w + 1) + x + 1] =
                    u32::from(inside(x, y)) + sat[y * (w + 1) + x + 1] + sat[(y + 1) * (w + 1) + x]
                        - sat[y * (w + 1) + x];
            }
        }
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let (x0, y0, x1, y1) = (
                    x.saturating_sub(r),
                    y.saturating_sub(r),
                    (x + r + 1).min(w),
                    (y + r + 1).min(h),
                );
                let n = sat[y1 * (w + 1) + x1] + sat[y0 * (w + 1) + x0]
                    - sat[y0 * (w + 1) + x1]
                    - sat[y1 * (w + 1) + x0];
                let full = ((2 * r + 1) * (2 * r + 1)) as u32;
                if (all && n == full) || (!all && n == 0) {
                    v.push(y * w + x);
                }
            }
        }
        v
    };
    ZoneMap {
        luma_core: area(0, 768, 576, 3, true),
        chroma_core: area(1, 384, 288, 3, true),
        // Far from the zones: a coarse grid is enough to see the picture is there.
        luma_far: area(0, 768, 576, 8, false).into_iter().step_by(7).collect(),
    }
}

/// Decode a segment: every frame masked, the picture present elsewhere, the first frame
/// a keyframe. Returns the frame count.
fn check_segment(path: &Path, map: &ZoneMap) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: not playable: {e}", path.display()));
    let info = r.info().clone();
    assert_eq!((info.width, info.height), (768, 576));
    let mut n = 0u64;
    while let Some(f) = r
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: frame {n}: {e}", path.display()))
    {
        let v = f.frame_ref().unwrap();
        let y: Vec<&[u8]> = v.planes()[0].rows().collect();
        let u: Vec<&[u8]> = v.planes()[1].rows().collect();
        let luma = |i: usize| y[i / 768][i % 768];
        for &i in &map.luma_core {
            // Black, up to coding noise; a leak of the scene would be far brighter.
            assert!(
                luma(i) <= 16,
                "{}: frame {n}: luma {} inside a zone",
                path.display(),
                luma(i)
            );
        }
        for &i in &map.chroma_core {
            let c = u[i / 384][i % 384];
            assert!(
                c.abs_diff(128) <= 10,
                "{}: frame {n}: chroma {c} inside a zone",
                path.display()
            );
        }
        let mean = map.luma_far.iter().map(|&i| f64::from(luma(i))).sum::<f64>() / map.luma_far.len() as f64;
        assert!(
            mean > 60.0,
            "{}: frame {n}: the picture is missing (mean luma {mean})",
            path.display()
        );
        n += 1;
    }
    let first = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=key_frame",
        ])
        .args(["-of", "csv=p=0", "-read_intervals", "%+#1"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&first.stdout)
            .trim()
            .trim_end_matches(','),
        "1",
        "{}: does not start on a keyframe",
        path.display()
    );
    n
}

/// Every indexed (not deleted) segment: file present with its SHA-256 and frame count,
/// masked in every frame; segments back to back, or a gap recorded between them; nothing
/// else in the camera directory. Returns the entries.
fn check_recording(dir: &Path, map: &ZoneMap) -> Vec<IndexEntry> {
    let cam = dir.join(CAMERA);
    let entries = index(dir);
    assert!(!entries.is_empty(), "nothing recorded in {}", cam.display());
    let mut expected: BTreeSet<String> = ["index.jsonl".to_string(), ".index.lock".to_string()].into();
    for (k, e) in entries.iter().enumerate() {
        assert!(e.start < e.end, "{}: empty span", e.file);
        if k > 0 {
            let prev = &entries[k - 1];
            // Lag and lost-frame marks are inside the footage: the hole is the other kind.
            match e.gaps.iter().find(|g| !g.is_mark()) {
                // A segment indexed after a crash knows its start from its name only.
                None if e.recovered.is_some() => {
                    assert!(
                        (ms(e.start) - ms(prev.end)).abs() < 1000,
                        "{} does not follow {}",
                        e.file,
                        prev.file
                    )
                }
                None => assert_eq!(e.start, prev.end, "{} does not follow {}", e.file, prev.file),
                Some(g) => {
                    assert_eq!(
                        g.from, prev.end,
                        "{}: gap does not start at {}'s end",
                        e.file, prev.file
                    );
                    assert_eq!(g.to, e.start, "{}: gap does not end at its start", e.file);
                }
            }
        }
        if e.deleted.is_some() {
            assert!(
                !cam.join(&e.file).exists(),
                "{} marked deleted but present",
                e.file
            );
            continue;
        }
        let path = cam.join(&e.file);
        assert_eq!(sha256_file(&path).unwrap(), e.sha256, "{}: SHA-256", e.file);
        assert_eq!(check_segment(&path, map), e.frames, "{}: frame count", e.file);
        expected.insert(e.file.clone());
    }
    let present: BTreeSet<String> = std::fs::read_dir(&cam)
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(present, expected, "files in {}", cam.display());
    entries
}

fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

#[test]
fn http_source_is_recorded_masked_back_to_back_through_a_drop_and_sigterm() {
    let base = scratch("record-http");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    // Two closed segments, then the camera goes away mid-stream.
    wait_for_segments(&dir, 2);
    drop(source);
    let before = index(&dir).len();
    // The recorder closes the segment it was writing and keeps retrying; the camera comes back.
    wait_for_segments(&dir, before + 1);
    std::thread::sleep(Duration::from_millis(1500));
    let _source = http_source(port);
    // Two more segments after the reconnection, then SIGTERM in the middle of the next one.
    let n = index(&dir).len();
    wait_for_segments(&dir, n + 2);
    sigterm(&rec);
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("stopped by signal"), "{log}");

    let entries = check_recording(&dir, zone_map());
    assert!(entries.len() >= 5, "{entries:#?}");
    // The drop is one gap in the index, in the segment after it, and a note in the audit log.
    let gaps: Vec<_> = entries
        .iter()
        .flat_map(|e| &e.gaps)
        .filter(|g| !g.is_mark())
        .collect();
    assert_eq!(gaps.len(), 1, "{entries:#?}");
    assert!(ms(gaps[0].to) - ms(gaps[0].from) >= 1000, "{:?}", gaps[0]);
    let notes: Vec<_> = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        // (A capacity note, when this disk holds fewer days than 28, has no window.)
        .filter(|e| e.action == Action::Note && !e.reason.starts_with("retention 28 d asked"))
        // (Frames lost as the source was killed, or lag on a loaded machine, are marks of their own.)
        .filter(|e| {
            !e.reason.contains("were not recorded")
                && !e.reason.contains("were never recorded")
                && !e.reason.contains("behind the camera's clock")
        })
        .filter(|e| !e.reason.starts_with("recording caught up"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let w = notes[0].window.unwrap();
    assert_eq!((w.from, w.to), (gaps[0].from, gaps[0].to));
    assert!(verify_file(&audit).unwrap().is_intact());
    // The last segment was cut by SIGTERM and is complete.
    let last = entries.last().unwrap();
    assert!(last.frames >= 1);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn rtsp_source_over_tcp_and_udp_is_recorded_masked() {
    let base = scratch("record-rtsp");
    let port = free_port();
    let _server = rtsp_source(port);
    let url = format!("rtsp://127.0.0.1:{port}/cam");
    let map = zone_map();
    let dirs: Vec<PathBuf> = ["tcp", "udp"].iter().map(|t| base.join(t)).collect();
    let recs: Vec<Proc> = ["tcp", "udp"]
        .iter()
        .zip(&dirs)
        .map(|(t, d)| {
            let audit = d.with_extension("audit.jsonl");
            record(
                &url,
                d,
                &[
                    "--segment",
                    "2s",
                    "--for",
                    "6s",
                    "--rtsp-transport",
                    t,
                    "--audit-log",
                    audit.to_str().unwrap(),
                    "--actor",
                    "recorder@test",
                ],
            )
        })
        .collect();
    for (rec, dir) in recs.into_iter().zip(&dirs) {
        let (code, log) = finish(rec, dir);
        assert_eq!(code, Some(0), "{log}");
        assert!(log.contains("time up"), "{log}");
        let entries = check_recording(dir, map);
        assert!(entries.len() >= 2, "{}: {entries:#?}", dir.display());
        assert!(
            entries.iter().all(|e| e.gaps.iter().all(|g| g.is_mark())),
            "{entries:#?}"
        );
        // At least a full segment's worth (10 fps): the stream kept flowing.
        assert!(
            entries.iter().map(|e| e.frames).sum::<u64>() >= 20,
            "{entries:#?}"
        );
    }
    std::fs::remove_dir_all(base).unwrap();
}

fn write_holds(path: &Path, holds: &[(&str, Timestamp, Timestamp)]) {
    let list: Vec<String> = holds
        .iter()
        .map(|(inc, from, to)| {
            format!(
                r#"{{"incident":"{inc}","camera":"{CAMERA}","window":{{"from":"{from}","to":"{to}"}},"opened":"{from}","resolved":null}}"#
            )
        })
        .collect();
    // Written whole and renamed, as an operator's tool would.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!(r#"{{"version":1,"holds":[{}]}}"#, list.join(","))).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn redact(args: &[&str]) -> Output {
    Command::new(redact_bin()).args(args).output().unwrap()
}

#[test]
fn retention_deletes_while_recording_keeps_held_segments_and_audits_every_deletion() {
    let base = scratch("record-retention");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let holds = base.join("holds.json");
    let plus = |t: Timestamp, ms: i64| Timestamp::from_unix_millis(t.unix_millis() + ms).unwrap();
    write_holds(&holds, &[]);
    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--retention",
            "6s",
            "--for",
            "18s",
            "--holds",
            holds.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    // While recording, incidents are opened on the first and on the third segment (each
    // long before it expires): the recorder reads the changed holds file.
    let first = wait_for_segments(&dir, 1)[0].clone();
    let hold1 = ("INC-1", plus(first.start, 100), plus(first.start, 200));
    write_holds(&holds, &[hold1]);
    let third = wait_for_segments(&dir, 3)[2].clone();
    write_holds(
        &holds,
        &[hold1, ("INC-2", plus(third.start, 100), plus(third.start, 200))],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");

    let entries = check_recording(&dir, zone_map());
    assert_eq!((&entries[0].file, &entries[2].file), (&first.file, &third.file));
    assert!(
        entries[0].deleted.is_none() && entries[2].deleted.is_none(),
        "held: {entries:#?}"
    );
    let deleted: Vec<&IndexEntry> = entries.iter().filter(|e| e.deleted.is_some()).collect();
    assert!(deleted.len() >= 2, "{entries:#?}");
    let last = entries.last().unwrap();
    let last_end = last.end;
    // Deleted while recording went on: before the last segment began.
    assert!(
        deleted
            .iter()
            .any(|e| e.deleted.as_ref().unwrap().time < last.start),
        "{entries:#?}"
    );
    for e in &deleted {
        let d = e.deleted.as_ref().unwrap();
        // Never before its time.
        assert!(
            ms(d.time) >= ms(e.end) + 6000,
            "{}: deleted early at {}",
            e.file,
            d.time
        );
        assert!(d.reason.contains("retention of 6 s"), "{}", d.reason);
    }
    // Every deletion is in the audit log, which verifies.
    let log_entries = AuditLog::new(&audit).read_entries().unwrap();
    let deletions: Vec<_> = log_entries
        .iter()
        .filter(|e| e.action == Action::Delete)
        .collect();
    assert_eq!(deletions.len(), deleted.len(), "{log_entries:#?}");
    for e in &deleted {
        assert!(
            deletions
                .iter()
                .any(|a| a.reason.contains(&e.file) && a.reason.contains(&e.sha256)),
            "no audit entry for {}",
            e.file
        );
    }
    assert!(verify_file(&audit).unwrap().is_intact());

    // `retention apply` on the directory: a dry run an hour ahead changes nothing, then the
    // rest goes except what the holds keep (now, with a retention of one second: a pass
    // ahead of time is for dry runs only).
    let later = plus(last_end, 3_600_000).to_string();
    let d = dir.to_str().unwrap();
    let h = holds.to_str().unwrap();
    let a = audit.to_str().unwrap();
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "6s",
        "--holds",
        h,
        "--now",
        &later,
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let live: Vec<&IndexEntry> = entries.iter().filter(|e| e.deleted.is_none()).collect();
    assert_eq!(out.matches("WOULD DELETE").count(), live.len() - 2, "{out}");
    assert_eq!(index(&dir), entries, "a dry run changed the index");
    // (A live stream's first frames can come in a burst, which puts the last end a little
    // ahead of the clock.)
    std::thread::sleep(Duration::from_millis(3000));
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "1s",
        "--holds",
        h,
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = check_recording(&dir, zone_map());
    let kept: Vec<&str> = after
        .iter()
        .filter(|e| e.deleted.is_none())
        .map(|e| e.file.as_str())
        .collect();
    assert_eq!(kept, [first.file.as_str(), third.file.as_str()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("INC-1") && out.contains("INC-2"), "{out}");
    let summary = verify_file(&audit).unwrap();
    assert!(summary.is_intact());
    let deletions = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Delete)
        .count();
    assert_eq!(deletions, after.iter().filter(|e| e.deleted.is_some()).count());
    std::fs::remove_dir_all(base).unwrap();
}

/// Unmounts (lazily) when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_of_held_footage_stops_recording_naming_the_hold_with_nothing_unmasked_written() {
    let base = scratch("record-full");
    let mnt = base.join("disk");
    std::fs::create_dir_all(&mnt).unwrap();
    if !common::mount_tmpfs(&mnt, "1536k", "a_full_disk_of_held_footage_stops_recording") {
        return;
    }
    let _mount = Mount(mnt.clone());
    let dir = mnt.join("rec");
    let audit = base.join("audit.jsonl");
    // An incident hold over all of the camera's footage (an audit-log hold without a
    // window): nothing may be deleted early, so the full disk stops recording.
    let o = redact(&[
        "audit",
        "append",
        audit.to_str().unwrap(),
        "--action",
        "hold",
        "--basis",
        "incident:INC-9",
        "--camera",
        CAMERA,
        "--actor",
        "dpo",
        "--reason",
        "break-in, all footage",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    // The recorder waits for room once stopped; --for ends the wait.
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "16s",
            "--min-free",
            "64K",
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(1), "{log}");
    let error = log.lines().last().unwrap();
    assert!(
        error.starts_with("error: ")
            && error.contains("protected footage alone fills it: open incident INC-9 (vtest-courtyard)"),
        "{log}"
    );
    assert!(log.contains("ALARM: recording stopped"), "{log}");
    // Every file on the disk is an indexed, playable, masked segment (or the index), and
    // nothing was deleted.
    let entries = check_recording(&dir, zone_map());
    assert!(entries.len() >= 2, "{entries:#?}");
    assert!(entries.iter().all(|e| e.deleted.is_none()));
    let on_disk: Vec<_> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(on_disk, ["rec"]);
    let log_entries = AuditLog::new(&audit).read_entries().unwrap();
    assert!(!log_entries.iter().any(|e| e.action == Action::Delete));
    let notes: Vec<_> = log_entries
        .iter()
        .filter(|e| e.action == Action::Note && e.reason.starts_with("recording stopped: "))
        .collect();
    assert_eq!(notes.len(), 1, "{log_entries:#?}");
    assert!(notes[0].reason.contains("INC-9"), "{}", notes[0].reason);
    drop(_mount);
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_full_disk_deletes_the_oldest_footage_early_and_recording_goes_on() {
    let base = scratch("record-full-early");
    let mnt = base.join("disk");
    std::fs::create_dir_all(&mnt).unwrap();
    if !common::mount_tmpfs(&mnt, "3m", "a_full_disk_deletes_the_oldest_footage_early") {
        return;
    }
    let _mount = Mount(mnt.clone());
    let dir = mnt.join("rec");
    let audit = base.join("audit.jsonl");
    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    // No budget: the free-space floor alone (two segments of the largest, by default).
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "16s",
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    let entries = check_recording(&dir, zone_map());
    let deleted: Vec<&IndexEntry> = entries.iter().filter(|e| e.deleted.is_some()).collect();
    assert!(!deleted.is_empty(), "{log}\n{entries:#?}");
    for e in &deleted {
        let reason = &e.deleted.as_ref().unwrap().reason;
        assert!(
            reason.starts_with("early: storage budget (no storage budget, next segment about ")
                && reason.contains(" free with a floor of "),
            "{reason}"
        );
    }
    // Oldest first, and no footage lost to the full disk: back to back, no gap.
    let live: Vec<&IndexEntry> = entries.iter().filter(|e| e.deleted.is_none()).collect();
    assert!(deleted.iter().all(|d| live.iter().all(|l| d.start < l.start)));
    assert!(
        entries.iter().all(|e| e.gaps.iter().all(|g| g.is_mark())),
        "{entries:#?}"
    );
    let deletions = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Delete && e.reason.contains("early: storage budget"))
        .count();
    assert_eq!(deletions, deleted.len());
    drop(_mount);
    std::fs::remove_dir_all(base).unwrap();
}

/// The bytes of footage in a recording directory's camera directory, and the largest file.
fn footage_on_disk(dir: &Path) -> (u64, u64) {
    let Ok(list) = std::fs::read_dir(dir.join(CAMERA)) else {
        return (0, 0);
    };
    let sizes: Vec<u64> = list
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            name.ends_with(".mp4")
                .then(|| e.metadata().map_or(0, |m| m.len()))
        })
        .collect();
    (sizes.iter().sum(), sizes.iter().copied().max().unwrap_or(0))
}

/// Sample the footage on disk every 20 ms until the flag is set: (largest total, largest
/// file).
fn sample_footage(
    dir: &Path,
    done: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(u64, u64)> {
    let (dir, done) = (dir.to_path_buf(), std::sync::Arc::clone(done));
    std::thread::spawn(move || {
        let mut most = (0, 0);
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let (total, file) = footage_on_disk(&dir);
            most = (most.0.max(total), most.1.max(file));
            std::thread::sleep(Duration::from_millis(20));
        }
        most
    })
}

#[test]
fn a_storage_budget_deletes_the_oldest_unprotected_segments_early_and_keeps_the_held_one() {
    let base = scratch("record-budget");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let holds = base.join("holds.json");
    let plus = |t: Timestamp, ms: i64| Timestamp::from_unix_millis(t.unix_millis() + ms).unwrap();
    write_holds(&holds, &[]);
    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    // About three 2 s segments of the fixture (300-400 KB each).
    let budget: u64 = 1200 << 10;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_footage(&dir, &done);
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "20s",
            "--max-disk",
            "1200K",
            "--holds",
            holds.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    // An incident is opened on the first segment as soon as it is indexed.
    let first = wait_for_segments(&dir, 1)[0].clone();
    write_holds(
        &holds,
        &[("INC-1", plus(first.start, 100), plus(first.start, 200))],
    );
    let (code, log) = finish(rec, &dir);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (most, largest) = sampler.join().unwrap();
    assert_eq!(code, Some(0), "{log}");

    let entries = check_recording(&dir, zone_map());
    // The held segment is kept; the oldest others went early, in order.
    assert_eq!(entries[0].file, first.file);
    assert!(entries[0].deleted.is_none(), "held: {entries:#?}");
    let deleted: Vec<&IndexEntry> = entries.iter().filter(|e| e.deleted.is_some()).collect();
    assert!(deleted.len() >= 3, "{log}\n{entries:#?}");
    let live: Vec<&IndexEntry> = entries[1..].iter().filter(|e| e.deleted.is_none()).collect();
    assert!(
        deleted.iter().all(|d| live.iter().all(|l| d.start < l.start)),
        "not the oldest first: {entries:#?}"
    );
    for e in &deleted {
        let reason = &e.deleted.as_ref().unwrap().reason;
        assert!(
            reason.starts_with("early: storage budget (storage budget 1.2 MiB, footage ")
                && reason.contains(" free with a floor of ")
                && reason.ends_with("overwritten with zeros and removed"),
            "{}: {reason}",
            e.file
        );
    }
    // Each early deletion is audited with its reason; the log verifies.
    let log_entries = AuditLog::new(&audit).read_entries().unwrap();
    let deletions: Vec<_> = log_entries
        .iter()
        .filter(|e| e.action == Action::Delete)
        .collect();
    assert_eq!(deletions.len(), deleted.len(), "{log_entries:#?}");
    for e in &deleted {
        assert!(
            deletions.iter().any(|a| a.reason.contains(&e.file)
                && a.reason.contains(&e.sha256)
                && a.reason.contains("early: storage budget (storage budget 1.2 MiB")),
            "no audit entry for {}",
            e.file
        );
    }
    assert!(verify_file(&audit).unwrap().is_intact());
    // Never more than the budget and one segment on disk.
    assert!(
        most <= budget + largest,
        "{most} bytes on disk, budget {budget} + largest segment {largest}"
    );
    // No frame was lost to the deletions: the segments follow each other without a gap
    // (check_recording) and hold at least 95% of the fixture's 10 frames a second.
    assert!(
        entries.iter().all(|e| e.gaps.iter().all(|g| g.is_mark())),
        "{entries:#?}"
    );
    let frames: u64 = entries.iter().map(|e| e.frames).sum();
    let span_ms = ms(entries.last().unwrap().end) - ms(entries[0].start);
    assert!(
        frames * 1000 * 100 >= span_ms as u64 * 10 * 95,
        "{frames} frames in {span_ms} ms"
    );
    // The output counts early deletions, the oldest footage kept and what fits.
    assert!(log.contains("capacity: "), "{log}");
    assert!(log.contains("warning: retention 28 d asked, "), "{log}");
    let summary = log.lines().find(|l| l.starts_with("recorded ")).unwrap();
    assert!(
        summary.contains(&format!(
            "deleted {0} segment(s), {0} early for storage",
            deleted.len()
        )) && summary.contains("oldest footage kept ")
            && summary.contains(" fit in 1.2 MiB"),
        "{summary}"
    );
    // The capacity warning is noted in the audit log (once a day).
    let notes = log_entries
        .iter()
        .filter(|e| e.action == Action::Note && e.reason.starts_with("retention 28 d asked, "))
        .count();
    assert_eq!(notes, 1, "{log_entries:#?}");
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn held_footage_filling_the_budget_stops_recording_until_the_hold_is_released() {
    let base = scratch("record-budget-held");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let holds = base.join("holds.json");
    let all = (
        Timestamp::parse("2000-01-01T00:00:00Z").unwrap(),
        Timestamp::parse("2100-01-01T00:00:00Z").unwrap(),
    );
    write_holds(&holds, &[("INC-4", all.0, all.1)]);
    let port = free_port();
    let source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "30s",
            "--max-disk",
            "900K",
            "--holds",
            holds.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
            "--actor",
            "recorder@test",
        ],
    );
    let note = |start: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let entries = if audit.exists() {
                AuditLog::new(&audit).read_entries().unwrap()
            } else {
                Vec::new()
            };
            if let Some(e) = entries
                .iter()
                .find(|e| e.action == Action::Note && e.reason.starts_with(start))
            {
                return (e.reason.clone(), entries);
            }
            assert!(Instant::now() < deadline, "no note {start:?}: {entries:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // The held footage fills the budget: recording stops, naming the hold, deleting nothing.
    let (stopped, entries) = note("recording stopped: ");
    assert!(
        stopped.contains("protected footage alone fills it: open incident INC-4 (vtest-courtyard)")
            && stopped.contains("storage budget 900 KiB"),
        "{stopped}"
    );
    assert!(!entries.iter().any(|e| e.action == Action::Delete));
    let held = index(&dir);
    assert!(held.iter().all(|e| e.deleted.is_none()));
    // The hold is released: recording resumes without a restart (it connects again: the
    // source serves one client, so a new one takes its place) and the oldest footage goes
    // early.
    drop(source);
    let _source = http_source(port);
    write_holds(&holds, &[]);
    note("recording resumes");
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("ALARM: recording stopped") && log.contains("recording resumes"),
        "{log}"
    );
    let entries = check_recording(&dir, zone_map());
    assert!(entries.len() > held.len(), "{entries:#?}");
    assert!(
        entries[0]
            .deleted
            .as_ref()
            .is_some_and(|d| d.reason.starts_with("early: storage budget")),
        "{entries:#?}"
    );
    // The time without room is a gap in the index, noted in the audit log.
    assert!(
        entries[held.len()..]
            .iter()
            .any(|e| e.gaps.iter().any(|g| g.reason.contains("no room for footage"))),
        "{entries:#?}"
    );
    assert!(verify_file(&audit).unwrap().is_intact());
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_killed_recorder_leaves_playable_fragments_that_the_next_run_indexes() {
    let base = scratch("record-crash");
    let dir = base.join("rec");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let audit = base.join("audit.jsonl");
    let a = audit.to_str().unwrap();
    let mut rec = record(
        &url,
        &dir,
        &["--segment", "4s", "--audit-log", a, "--actor", "rec"],
    );
    // A power cut in the middle of the second segment: SIGKILL, nothing closed.
    wait_for_segments(&dir, 1);
    std::thread::sleep(Duration::from_millis(3000));
    rec.0.kill().unwrap();
    rec.0.wait().unwrap();
    drop(source);
    assert_eq!(index(&dir).len(), 1);
    // The next run finds the orphan, indexes it (its complete fragments), and records the
    // time it was not running as a gap.
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "5s",
            "--audit-log",
            a,
            "--actor",
            "rec",
        ],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("unclean stop"), "{log}");
    let entries = check_recording(&dir, zone_map());
    assert!(entries[1].recovered.is_some(), "{entries:#?}");
    // The fragments complete before the kill (the frames still in the encoder's lookahead
    // and the last fragment are lost).
    assert!(entries[1].frames >= 1, "{entries:#?}");
    assert!(entries[2].recovered.is_none());
    let holes: Vec<_> = entries[2].gaps.iter().filter(|g| !g.is_mark()).collect();
    assert_eq!(holes.len(), 1, "{entries:#?}");
    assert!(holes[0].reason.contains("not running"));
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_file_is_recorded_once_and_a_missing_one_is_an_error() {
    let base = scratch("record-file");
    let dir = base.join("rec");
    let input = fixture();
    let audit = base.join("audit.jsonl");
    let a = audit.to_str().unwrap();
    let rec = record(
        input.to_str().unwrap(),
        &dir,
        &["--segment", "5s", "--audit-log", a, "--actor", "rec"],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("end of the input file"), "{log}");
    let entries = check_recording(&dir, zone_map());
    // 15 s at 10 fps, in 5 s segments, each frame once.
    assert_eq!(entries.iter().map(|e| e.frames).collect::<Vec<_>>(), [50, 50, 50]);
    let missing = base.join("missing.mp4");
    let rec = record(
        missing.to_str().unwrap(),
        &base.join("rec2"),
        &["--audit-log", a, "--actor", "rec"],
    );
    let (code, log) = finish(rec, &base.join("rec2"));
    assert_eq!(code, Some(1), "{log}");
    assert!(log.lines().last().unwrap().contains("missing.mp4"), "{log}");
    std::fs::remove_dir_all(base).unwrap();
}

/// `redact keys generate --encryption`: KEY (0600) and KEY.pub in `dir`.
fn encryption_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let o = redact(&["keys", "generate", "--encryption", "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    (key.clone(), dir.join(format!("{name}.pub")))
}

/// Whether the bytes hold an MP4 box name.
fn has_mp4_box(bytes: &[u8]) -> Option<&'static str> {
    ["ftyp", "moov", "moof", "mdat"]
        .into_iter()
        .find(|b| bytes.windows(4).any(|w| w == b.as_bytes()))
}

#[test]
fn an_encrypted_recording_decrypts_to_masked_playable_segments_with_the_site_key_only() {
    let base = scratch("record-encrypted");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let a = audit.to_str().unwrap();
    let (key, public) = encryption_key(&base, "footage.key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A key is never overwritten.
    let before = std::fs::read(&key).unwrap();
    let o = redact(&["keys", "generate", "--encryption", "--out", key.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::stderr(&o).contains("refusing to overwrite"),
        "{}",
        common::stderr(&o)
    );
    assert_eq!(std::fs::read(&key).unwrap(), before);
    let (other, _) = encryption_key(&base, "other.key");

    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "7s",
            "--encrypt-to",
            public.to_str().unwrap(),
            "--audit-log",
            a,
            "--actor",
            "recorder@test",
        ],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("encrypted to 1 key"), "{log}");
    let cam = dir.join(CAMERA);
    let entries = index(&dir);
    assert!(entries.len() >= 2, "{entries:#?}");
    let map = zone_map();
    for e in &entries {
        assert!(e.file.ends_with(".mp4.age"), "{e:?}");
        let path = cam.join(&e.file);
        let bytes = std::fs::read(&path).unwrap();
        // Nothing of the MP4 in the clear, and no player can open it.
        assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
        assert_eq!(has_mp4_box(&bytes), None, "{}", e.file);
        // (FFmpeg's format probe now and then takes random bytes for some stream, once for a
        // video stream in a full run: it must never find the recorded one, H.264 768x576.)
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v",
                "-show_entries",
                "stream=codec_name,width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let found = String::from_utf8_lossy(&probe.stdout);
        assert!(
            !probe.status.success() || !found.lines().any(|l| l.trim() == "h264,768,576"),
            "ffprobe read {}: {found}",
            e.file
        );
        assert_eq!(sha256_file(&path).unwrap(), e.sha256);
        let key_file = e.key.as_ref().expect("an encrypted segment names its data key");
        assert!(cam.join("keys").join(key_file).is_file());
        // The site key decrypts it to a masked, playable segment.
        let out = base.join(format!("{}.mp4", e.file));
        let o = redact(&[
            "decrypt",
            path.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        assert_eq!(check_segment(&out, map), e.frames, "{}", e.file);
    }
    // Any other key: exit 1, a clear reason, no output.
    let first = cam.join(&entries[0].file);
    let out = base.join("other.mp4");
    let o = redact(&[
        "decrypt",
        first.to_str().unwrap(),
        "--key",
        other.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = common::stderr(&o);
    assert!(
        err.starts_with("error: ") && err.contains("not encrypted to this key"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(
        !common::listing(&base).iter().any(|f| f.contains("partial")),
        "{:?}",
        common::listing(&base)
    );
    // A secret key others can read is refused, naming the file and its mode.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = redact(&[
            "decrypt",
            first.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        let err = common::stderr(&o);
        assert!(
            err.contains("footage.key") && err.contains("0644") && err.contains("group or others"),
            "{err}"
        );
        assert!(!out.exists());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // A reading with --audit-log is a view entry.
    let o = redact(&[
        "decrypt",
        first.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--audit-log",
        a,
        "--actor",
        "dpo",
        "--reason",
        "access request AR-3",
        "--basis",
        "inzage:AR-3",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let views: Vec<_> = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::View)
        .collect();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].camera.as_deref(), Some(CAMERA));
    assert_eq!(views[0].window.unwrap().from, entries[0].start);

    // The standard age tool reads it in two steps: the site key opens the data key, the
    // data key opens the segment.
    let data_key = base.join("data.key");
    let sealed = cam.join("keys").join(entries[0].key.as_ref().unwrap());
    let age = |args: &[&std::ffi::OsStr]| {
        Command::new("age")
            .args(args)
            .output()
            .expect("the age tool (Debian's age package, installed by scripts/setup.sh)")
    };
    let o = age(&[
        "-d".as_ref(),
        "-i".as_ref(),
        key.as_os_str(),
        "-o".as_ref(),
        data_key.as_os_str(),
        sealed.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let by_age = base.join("by-age.mp4");
    let o = age(&[
        "-d".as_ref(),
        "-i".as_ref(),
        data_key.as_os_str(),
        "-o".as_ref(),
        by_age.as_os_str(),
        first.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(std::fs::read(&by_age).unwrap(), std::fs::read(&out).unwrap());

    // Retention erases: the data keys are destroyed, and bytes left behind (a backup, a
    // snapshot, an SSD's old blocks) no longer decrypt, with the site key or any other.
    let leftover = std::fs::read(&first).unwrap();
    // (A live stream's first frames can come in a burst, which puts the last end a little
    // ahead of the clock.)
    std::thread::sleep(Duration::from_millis(3000));
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        dir.to_str().unwrap(),
        "--retention",
        "1s",
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.matches("crypto-erased").count(), entries.len(), "{stdout}");
    assert_eq!(common::listing(&cam.join("keys")), Vec::<String>::new());
    std::fs::write(&first, &leftover).unwrap();
    let again = base.join("again.mp4");
    let o = redact(&[
        "decrypt",
        first.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::stderr(&o).contains("crypto-erased"),
        "{}",
        common::stderr(&o)
    );
    let o = age(&["-d".as_ref(), "-i".as_ref(), key.as_os_str(), first.as_os_str()]);
    assert!(!o.status.success());
    assert!(!again.exists());
    let deletions = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Delete && e.reason.contains("crypto-erased"))
        .count();
    assert_eq!(deletions, entries.len());
    assert!(verify_file(&audit).unwrap().is_intact());
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_pending_inzage_request_in_the_audit_log_keeps_footage_and_nothing_runs_unaudited_or_ahead_of_time() {
    let base = scratch("record-requests");
    let dir = base.join("rec");
    let audit = base.join("audit.jsonl");
    let (a, d) = (audit.to_str().unwrap(), dir.to_str().unwrap());
    // Without an audit log (or an actor) neither command starts; the error names the flag.
    let z = zones();
    for args in [
        vec!["record", "in.ts", "--zones", z.to_str().unwrap(), "--dir", d],
        vec![
            "record",
            "in.ts",
            "--zones",
            z.to_str().unwrap(),
            "--dir",
            d,
            "--audit-log",
            a,
        ],
        vec!["retention", "apply", "--dir", d],
    ] {
        let o = redact(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = common::stderr(&o);
        assert!(
            err.contains("--audit-log") || err.contains("--actor"),
            "{args:?}: {err}"
        );
    }
    assert!(!dir.exists() && !audit.exists());

    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/cam.ts");
    let rec = record(
        &url,
        &dir,
        &[
            "--segment",
            "2s",
            "--for",
            "5s",
            "--audit-log",
            a,
            "--actor",
            "recorder@test",
        ],
    );
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    let entries = index(&dir);
    assert!(entries.len() >= 2, "{entries:#?}");
    let first = &entries[0];
    // An inzage request for the first segment's footage, and a hold for a camera id that
    // does not exist under the directory.
    // (Windows are closed intervals: one ending where the next segment starts covers both.)
    let inside = |t: Timestamp, ms: i64| Timestamp::from_unix_millis(t.unix_millis() + ms).unwrap();
    let (from, to) = (
        inside(first.start, 100).to_string(),
        inside(first.end, -100).to_string(),
    );
    let o = redact(&[
        "audit",
        "append",
        a,
        "--action",
        "request",
        "--basis",
        "inzage:AR-7",
        "--camera",
        CAMERA,
        "--window-from",
        &from,
        "--window-to",
        &to,
        "--actor",
        "dpo",
        "--reason",
        "resident's access request",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let o = redact(&[
        "audit",
        "append",
        a,
        "--action",
        "hold",
        "--basis",
        "incident:INC-5",
        "--camera",
        "vtest-courtyrad",
        "--actor",
        "dpo",
        "--reason",
        "break-in",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    // A future --now is for dry runs only; the dry run deletes nothing.
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "1s",
        "--now",
        "2099-01-01T00:00:00Z",
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("--dry-run"), "{}", common::stderr(&o));
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "1s",
        "--now",
        "2099-01-01T00:00:00Z",
        "--dry-run",
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(index(&dir), entries, "a dry run changed the index");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.matches("WOULD DELETE").count(),
        entries.len() - 1,
        "{stdout}"
    );
    // A retention pass: everything has expired, the requested footage stays.
    // (A live stream's first frames can come in a burst, which puts the last end a little
    // ahead of the clock.)
    std::thread::sleep(Duration::from_millis(3000));
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "1s",
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("HELD {CAMERA}/{}", first.file)) && stdout.contains("AR-7"),
        "{stdout}"
    );
    let err = common::stderr(&o);
    assert!(
        err.contains("warning: hold INC-5") && err.contains("vtest-courtyrad"),
        "{err}"
    );
    let after = check_recording(&dir, zone_map());
    let live: Vec<&str> = after
        .iter()
        .filter(|e| e.deleted.is_none())
        .map(|e| e.file.as_str())
        .collect();
    assert_eq!(live, [first.file.as_str()], "{stdout}\n{err}");
    let log_entries = AuditLog::new(&audit).read_entries().unwrap();
    assert!(log_entries
        .iter()
        .any(|e| e.action == Action::Note && e.camera.as_deref() == Some("vtest-courtyrad")));
    // Released: the next pass erases it.
    let o = redact(&[
        "audit",
        "append",
        a,
        "--action",
        "release",
        "--basis",
        "inzage:AR-7",
        "--camera",
        CAMERA,
        "--actor",
        "dpo",
        "--reason",
        "footage handed over",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let o = redact(&[
        "retention",
        "apply",
        "--dir",
        d,
        "--retention",
        "1s",
        "--audit-log",
        a,
        "--actor",
        "dpo",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert!(index(&dir).iter().all(|e| e.deleted.is_some()));
    assert!(verify_file(&audit).unwrap().is_intact());
    std::fs::remove_dir_all(base).unwrap();
}
