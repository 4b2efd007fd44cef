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
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{redact_bin, root, scratch};

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

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The fixture, looped, in real time, as MPEG-TS over HTTP (one client, then it exits).
fn http_source(port: u16) -> Proc {
    let child = Command::new("ffmpeg")
        .args(["-v", "quiet", "-re", "-stream_loop", "-1", "-i"])
        .arg(fixture())
        .args(["-c", "copy", "-f", "mpegts", "-listen", "1"])
        .arg(format!("http://127.0.0.1:{port}/cam.ts"))
        .stdin(Stdio::null())
        .spawn()
        .expect("the ffmpeg command-line tool (installed by scripts/setup.sh)");
    Proc(child)
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
            match e.gaps.first() {
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
    let gaps: Vec<_> = entries.iter().flat_map(|e| &e.gaps).collect();
    assert_eq!(gaps.len(), 1, "{entries:#?}");
    assert!(ms(gaps[0].to) - ms(gaps[0].from) >= 1000, "{:?}", gaps[0]);
    let notes: Vec<_> = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Note)
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
            record(
                &url,
                d,
                &["--segment", "2s", "--for", "6s", "--rtsp-transport", t],
            )
        })
        .collect();
    for (rec, dir) in recs.into_iter().zip(&dirs) {
        let (code, log) = finish(rec, dir);
        assert_eq!(code, Some(0), "{log}");
        assert!(log.contains("time up"), "{log}");
        let entries = check_recording(dir, map);
        assert!(entries.len() >= 2, "{}: {entries:#?}", dir.display());
        assert!(entries.iter().all(|e| e.gaps.is_empty()), "{entries:#?}");
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

    // `retention apply` on the directory: a dry run changes nothing, then the rest goes
    // except what the holds keep.
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
fn a_full_disk_stops_recording_cleanly_with_nothing_unmasked_written() {
    let base = scratch("record-full");
    let mnt = base.join("disk");
    std::fs::create_dir_all(&mnt).unwrap();
    if !common::mount_tmpfs(&mnt, "1536k", "a_full_disk_stops_recording_cleanly") {
        return;
    }
    let _mount = Mount(mnt.clone());
    let dir = mnt.join("rec");
    let audit = base.join("audit.jsonl");
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
        error.starts_with("error: ") && error.contains("disk is full"),
        "{log}"
    );
    assert!(error.contains("no footage was deleted"), "{log}");
    // Every file on the disk is an indexed, playable, masked segment (or the index).
    let entries = check_recording(&dir, zone_map());
    assert!(entries.len() >= 2, "{entries:#?}");
    assert!(entries.iter().all(|e| e.deleted.is_none()));
    let on_disk: Vec<_> = std::fs::read_dir(&mnt)
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(on_disk, ["rec"]);
    let notes: Vec<_> = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Note && e.reason.contains("disk is full"))
        .collect();
    assert_eq!(notes.len(), 1);
    drop(_mount);
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
    let mut rec = record(&url, &dir, &["--segment", "4s"]);
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
    let rec = record(&url, &dir, &["--segment", "2s", "--for", "5s"]);
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("unclean stop"), "{log}");
    let entries = check_recording(&dir, zone_map());
    assert!(entries[1].recovered.is_some(), "{entries:#?}");
    // The fragments complete before the kill (the frames still in the encoder's lookahead
    // and the last fragment are lost).
    assert!(entries[1].frames >= 1, "{entries:#?}");
    assert!(entries[2].recovered.is_none());
    assert_eq!(entries[2].gaps.len(), 1, "{entries:#?}");
    assert!(entries[2].gaps[0].reason.contains("not running"));
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_file_is_recorded_once_and_a_missing_one_is_an_error() {
    let base = scratch("record-file");
    let dir = base.join("rec");
    let input = fixture();
    let rec = record(input.to_str().unwrap(), &dir, &["--segment", "5s"]);
    let (code, log) = finish(rec, &dir);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("end of the input file"), "{log}");
    let entries = check_recording(&dir, zone_map());
    // 15 s at 10 fps, in 5 s segments, each frame once.
    assert_eq!(entries.iter().map(|e| e.frames).collect::<Vec<_>>(), [50, 50, 50]);
    let missing = base.join("missing.mp4");
    let rec = record(missing.to_str().unwrap(), &base.join("rec2"), &[]);
    let (code, log) = finish(rec, &base.join("rec2"));
    assert_eq!(code, Some(1), "{log}");
    assert!(log.lines().last().unwrap().contains("missing.mp4"), "{log}");
    std::fs::remove_dir_all(base).unwrap();
}
