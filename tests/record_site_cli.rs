//! End-to-end tests of `redact record --cameras DIR` (issue 29): several loopback cameras
//! (the FFmpeg tool serving fixtures/vtest.mp4 in real time as MPEG-TS over HTTP), each
//! described by its zone file's `[camera]` table, recorded by one process.
//!
//! The tests wait on what the recorder writes (index lines, metrics), never assert on how
//! long something took. The overloaded run slows the recorder on purpose with the tests'
//! encoder delay (`VEIL_RECORD_TEST_DELAY_MS`, read by debug builds only): 250 ms before
//! each frame of a 10 fps camera puts recording at least 0.15 s behind per frame, whatever
//! the machine, so the lag is certain, not a timing guess.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, http_source, redact_bin, root, scratch, Proc};

use veil::audit::{verify_file, Action, AuditLog};
use veil::core::{CameraConfig, CaptureMasker, PixelFormat};
use veil::record::{Index, IndexEntry};
use veil::video::{ReadOptions, VideoReader};

/// A zone file for camera `id`: the fixture's zones, its `[camera]` table with the url and
/// recording settings given.
fn camera_file(cameras: &Path, id: &str, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("fixtures/vtest-zones.toml")).unwrap();
    let text = text.replacen("id = \"vtest-courtyard\"", &format!("id = \"{id}\"\n{extra}"), 1);
    let path = cameras.join(format!("{id}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `redact record --cameras ...` in the background; stdout+stderr in `log`.
fn record_site(
    cameras: &Path,
    dir: &Path,
    audit: &Path,
    log: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Proc {
    let out = std::fs::File::create(log).unwrap();
    let child = Command::new(redact_bin())
        .args(["record", "--cameras"])
        .arg(cameras)
        .arg("--dir")
        .arg(dir)
        .arg("--audit-log")
        .arg(audit)
        .args(["--actor", "recorder@site"])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Proc(child)
}

fn sigterm(p: &Proc) {
    // SAFETY: sending a signal to our own child process by its id.
    let rc = unsafe { libc::kill(p.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
}

fn finish(mut p: Proc) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = p.0.try_wait().unwrap() {
            return s.code();
        }
        assert!(Instant::now() < deadline, "the recorder did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn index(dir: &Path, cam: &str) -> Vec<IndexEntry> {
    Index::new(dir.join(cam)).read().unwrap()
}

/// Wait until `cond` holds on the cameras' indexes.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The luma pixels well inside the fixture's zones (768x576) and far from them.
fn zone_pixels() -> (Vec<usize>, Vec<usize>) {
    let config = CameraConfig::from_file(&root().join("fixtures/vtest-zones.toml")).unwrap();
    let masker = CaptureMasker::new(&config, 768, 576, PixelFormat::I420).unwrap();
    let layers = masker.layers();
    let inside = |x: u32, y: u32| {
        layers
            .iter()
            .any(|(_, m)| m.plane(0).is_some_and(|s| s.contains(x, y)))
    };
    let (mut core, mut far) = (Vec::new(), Vec::new());
    for y in (4..572).step_by(3) {
        for x in (4..764).step_by(3) {
            let near: Vec<bool> = [(-4i32, -4i32), (4, -4), (-4, 4), (4, 4), (0, 0)]
                .iter()
                .map(|(dx, dy)| inside((x as i32 + dx) as u32, (y as i32 + dy) as u32))
                .collect();
            if near.iter().all(|&b| b) {
                core.push(y * 768 + x);
            } else if near.iter().all(|&b| !b) && (x + y) % 7 == 0 {
                far.push(y * 768 + x);
            }
        }
    }
    (core, far)
}

/// Every frame of a segment: black in the zones, the picture elsewhere. Returns the frames.
fn check_masked(path: &Path, pixels: &(Vec<usize>, Vec<usize>)) -> u64 {
    let mut r = VideoReader::open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(f) = r.next_frame().unwrap() {
        let v = f.frame_ref().unwrap();
        let rows: Vec<&[u8]> = v.planes()[0].rows().collect();
        let luma = |i: usize| rows[i / 768][i % 768];
        for &i in &pixels.0 {
            assert!(
                luma(i) <= 16,
                "{}: frame {n}: luma {} inside a zone",
                path.display(),
                luma(i)
            );
        }
        let mean = pixels.1.iter().map(|&i| f64::from(luma(i))).sum::<f64>() / pixels.1.len() as f64;
        assert!(
            mean > 60.0,
            "{}: frame {n}: no picture (mean {mean})",
            path.display()
        );
        n += 1;
    }
    n
}

/// GET /metrics: value by (series, camera).
fn scrape(port: u16) -> BTreeMap<(String, String), f64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.0 200"), "{text}");
    let body = text.split_once("\r\n\r\n").unwrap().1;
    let mut out = BTreeMap::new();
    for line in body.lines().filter(|l| !l.starts_with('#') && l.contains('{')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = series.split_once('{').unwrap();
        let cam = labels
            .split("camera=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        out.insert((name.to_string(), cam.to_string()), value.parse().unwrap());
    }
    out
}

#[test]
fn four_cameras_from_a_directory_are_masked_independent_reloaded_and_counted() {
    let base = scratch("record-site");
    let (cameras, dir, audit, log) = (
        base.join("cameras"),
        base.join("rec"),
        base.join("audit.jsonl"),
        base.join("site.log"),
    );
    std::fs::create_dir_all(&cameras).unwrap();
    let ids = ["cam-1", "cam-2", "cam-3", "cam-4"];
    let ports: Vec<u16> = ids.iter().map(|_| free_port()).collect();
    let mut sources: Vec<Option<Proc>> = ports.iter().map(|&p| Some(http_source(p))).collect();
    std::thread::sleep(Duration::from_millis(300));
    // cam-4 logs in: its credentials come from a file, never shown.
    let secret = base.join("cam-4.secret");
    std::fs::write(&secret, "admin:s3cr3t-pw\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // cam-2 records encrypted to the site key (issue 27's encrypted recording).
    let key = base.join("site.key");
    let o = Command::new(redact_bin())
        .args(["keys", "generate", "--encryption", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (i, id) in ids.iter().enumerate() {
        let creds = match *id {
            "cam-4" => "credentials_file = \"../cam-4.secret\"\n",
            "cam-2" => "encrypt_to = [\"../site.key.pub\"]\n",
            _ => "",
        };
        camera_file(
            &cameras,
            id,
            &format!(
                "url = \"http://127.0.0.1:{}/cam.ts\"\n{creds}segment = \"2s\"\npreset = \"ultrafast\"\ncrf = 26",
                ports[i]
            ),
        );
    }
    // A zone file without a url is a camera this site does not record.
    std::fs::write(
        cameras.join("elsewhere.toml"),
        "[camera]\nid = \"elsewhere\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n",
    )
    .unwrap();
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let rec = record_site(&cameras, &dir, &audit, &log, &["--metrics", &metrics], &[]);
    wait_until("two segments of every camera", || {
        ids.iter()
            .all(|c| dir.join(c).join("index.jsonl").exists() && index(&dir, c).len() >= 2)
    });
    // Kill cam-4's source: the others go on.
    sources[3] = None;
    let at_kill: Vec<usize> = ids.iter().map(|c| index(&dir, c).len()).collect();
    wait_until("three more segments of the cameras still up", || {
        (0..3).all(|k| index(&dir, ids[k]).len() >= at_kill[k] + 3)
    });
    // Reload: a camera added while recording is recorded; the others are not touched.
    let port5 = free_port();
    let _source5 = http_source(port5);
    std::thread::sleep(Duration::from_millis(300));
    camera_file(
        &cameras,
        "cam-5",
        &format!("url = \"http://127.0.0.1:{port5}/cam.ts\"\nsegment = \"2s\"\npreset = \"ultrafast\""),
    );
    wait_until("a segment of the added camera", || {
        dir.join("cam-5/index.jsonl").exists() && !index(&dir, "cam-5").is_empty()
    });
    // SIGHUP reloads (it does not end the recorder: it exits 0 on SIGTERM below).
    // SAFETY: sending a signal to our own child process by its id.
    assert_eq!(unsafe { libc::kill(rec.0.id() as libc::pid_t, libc::SIGHUP) }, 0);
    // The metrics match the index: read the index between two scrapes that agree.
    let mut matched = false;
    for _ in 0..50 {
        let before = scrape(metrics_port);
        let idx: Vec<Vec<IndexEntry>> = ids.iter().map(|c| index(&dir, c)).collect();
        let after = scrape(metrics_port);
        // The counters the index holds (the lag gauge moves with every frame).
        let counted = |m: &BTreeMap<(String, String), f64>| -> Vec<f64> {
            m.iter()
                .filter(|((n, _), _)| {
                    [
                        "veil_record_segments_total",
                        "veil_record_frames_recorded_total",
                        "veil_record_bytes_total",
                        "veil_record_deletions_total",
                    ]
                    .contains(&n.as_str())
                })
                .map(|(_, v)| *v)
                .collect()
        };
        if counted(&before) != counted(&after) {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        for (c, entries) in ids.iter().zip(&idx) {
            let get = |n: &str| {
                after
                    .get(&(n.to_string(), c.to_string()))
                    .copied()
                    .unwrap_or(-1.0)
            };
            assert_eq!(get("veil_record_segments_total"), entries.len() as f64, "{c}");
            assert_eq!(
                get("veil_record_frames_recorded_total"),
                entries.iter().map(|e| e.frames).sum::<u64>() as f64,
                "{c}"
            );
            let bytes: u64 = entries
                .iter()
                .map(|e| std::fs::metadata(dir.join(c).join(&e.file)).unwrap().len())
                .sum();
            assert_eq!(get("veil_record_bytes_total"), bytes as f64, "{c}");
            assert_eq!(get("veil_record_deletions_total"), 0.0, "{c}");
            assert!(
                get("veil_record_frames_in_total") >= get("veil_record_frames_recorded_total"),
                "{c}"
            );
        }
        let get = |n: &str, c: &str| {
            after
                .get(&(n.to_string(), c.to_string()))
                .copied()
                .unwrap_or(-1.0)
        };
        assert!(get("veil_record_reconnects_total", "cam-4") >= 1.0);
        assert_eq!(get("veil_record_up", "cam-4"), 0.0);
        assert_eq!(get("veil_record_up", "cam-1"), 1.0);
        matched = true;
        break;
    }
    assert!(matched, "the metrics never held still between two scrapes");
    // Reload: a camera whose file goes is stopped (its footage stays); the others go on.
    std::fs::remove_file(cameras.join("cam-5.toml")).unwrap();
    wait_until("cam-5's removal in the audit log", || {
        AuditLog::new(&audit).read_entries().unwrap().iter().any(|e| {
            e.action == Action::ConfigChange
                && e.camera.as_deref() == Some("cam-5")
                && e.reason.contains("removed")
        })
    });
    let n1 = index(&dir, "cam-1").len();
    wait_until("cam-1 going on after the removal", || {
        index(&dir, "cam-1").len() > n1
    });
    // Reload: a camera whose file changes (a new source) is restarted with it, alone.
    let port3b = free_port();
    let _source3b = http_source(port3b);
    std::thread::sleep(Duration::from_millis(300));
    let n3 = index(&dir, "cam-3").len();
    camera_file(
        &cameras,
        "cam-3",
        &format!("url = \"http://127.0.0.1:{port3b}/cam.ts\"\nsegment = \"2s\"\npreset = \"ultrafast\""),
    );
    wait_until(
        "cam-3's change in the audit log and a segment from its new source",
        || {
            index(&dir, "cam-3").len() > n3 + 1
                && AuditLog::new(&audit).read_entries().unwrap().iter().any(|e| {
                    e.action == Action::ConfigChange
                        && e.camera.as_deref() == Some("cam-3")
                        && e.reason.contains("changed")
                })
        },
    );
    let n1 = index(&dir, "cam-1").len();
    wait_until("cam-1 going on after the change", || {
        index(&dir, "cam-1").len() > n1
    });
    sigterm(&rec);
    assert_eq!(finish(rec), Some(0));
    drop(sources);
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(!out.contains("s3cr3t"), "{out}");
    assert!(out.contains("elsewhere.toml: no url"), "{out}");

    let pixels = zone_pixels();
    for c in ids.iter().chain(&["cam-5"]) {
        let entries = index(&dir, c);
        assert!(!entries.is_empty(), "{c}");
        for e in &entries {
            let mut path = dir.join(c).join(&e.file);
            if *c == "cam-2" {
                assert!(e.file.ends_with(".mp4.age") && e.key.is_some(), "{c}: {e:?}");
                let plain = base.join(format!("{}.mp4", e.file));
                let o = Command::new(redact_bin())
                    .arg("decrypt")
                    .arg(&path)
                    .arg("--key")
                    .arg(&key)
                    .arg("-o")
                    .arg(&plain)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                path = plain;
            }
            let n = check_masked(&path, &pixels);
            assert_eq!(n, e.frames, "{c}/{}", e.file);
        }
        // cam-3 was restarted by its change (a gap), cam-4 lost its source.
        if ["cam-1", "cam-2"].contains(c) {
            // Not disturbed: back to back, nothing missing.
            for w in entries.windows(2) {
                assert_eq!(
                    w[1].start, w[0].end,
                    "{c}: {} does not follow {}",
                    w[1].file, w[0].file
                );
            }
            let holes: Vec<_> = entries
                .iter()
                .flat_map(|e| &e.gaps)
                .filter(|g| g.lag_ms.is_none())
                .collect();
            assert!(holes.is_empty(), "{c}: {holes:#?}");
        }
    }
    // The audit log: each camera's start and the addition are config-change entries; the
    // lost camera's outage is a note with its window; nothing names the password.
    let entries = AuditLog::new(&audit).read_entries().unwrap();
    for c in ids.iter().chain(&["cam-5"]) {
        assert!(
            entries
                .iter()
                .any(|e| e.action == Action::ConfigChange && e.camera.as_deref() == Some(*c)),
            "{c}: {entries:#?}"
        );
    }
    let cam5 = entries
        .iter()
        .find(|e| e.action == Action::ConfigChange && e.camera.as_deref() == Some("cam-5"))
        .unwrap();
    assert!(cam5.reason.contains("added"), "{}", cam5.reason);
    assert!(entries
        .iter()
        .any(|e| e.action == Action::Note && e.camera.as_deref() == Some("cam-4") && e.window.is_some()));
    for c in ["cam-1", "cam-2"] {
        assert!(
            !entries.iter().any(|e| e.action == Action::Note
                && e.camera.as_deref() == Some(c)
                && e.reason.starts_with("no footage")),
            "{c}: {entries:#?}"
        );
    }
    let raw = std::fs::read_to_string(&audit).unwrap();
    assert!(!raw.contains("s3cr3t"));
    assert!(verify_file(&audit).unwrap().is_intact());

    // `record status` tells which cameras recorded when and where cam-4's gap is.
    let o = Command::new(redact_bin())
        .args(["record", "status"])
        .arg(&dir)
        .arg("--audit-log")
        .arg(&audit)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let status = String::from_utf8_lossy(&o.stdout);
    for c in ids.iter().chain(&["cam-5"]) {
        assert!(status.contains(&format!("camera {c}: ")), "{status}");
    }
    assert!(status.contains("  recorded "), "{status}");
    assert!(status.contains("capacity: "), "{status}");
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn an_overloaded_camera_reports_its_lag_in_the_output_the_audit_log_and_the_index() {
    if !cfg!(debug_assertions) {
        eprintln!("skipped: the encoder delay hook exists in debug builds only (run without --release)");
        return;
    }
    let base = scratch("record-site-lag");
    let (cameras, dir, audit, log) = (
        base.join("cameras"),
        base.join("rec"),
        base.join("audit.jsonl"),
        base.join("site.log"),
    );
    std::fs::create_dir_all(&cameras).unwrap();
    let port = free_port();
    let _source = http_source(port);
    std::thread::sleep(Duration::from_millis(300));
    camera_file(
        &cameras,
        "slow",
        &format!("url = \"http://127.0.0.1:{port}/cam.ts\"\nsegment = \"2s\"\npreset = \"veryfast\""),
    );
    let rec = record_site(
        &cameras,
        &dir,
        &audit,
        &log,
        &[],
        &[("VEIL_RECORD_TEST_DELAY_MS", "250")],
    );
    // Marks reach the index when their segment closes.
    wait_until("a lag mark in the index", || {
        dir.join("slow/index.jsonl").exists()
            && index(&dir, "slow")
                .iter()
                .any(|e| e.gaps.iter().any(|g| g.lag_ms.is_some()))
    });
    sigterm(&rec);
    assert_eq!(finish(rec), Some(0));
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(out.contains("slow: warning: recording is"), "{out}");
    assert!(out.contains("behind the camera"), "{out}");
    let entries = index(&dir, "slow");
    let marks: Vec<_> = entries
        .iter()
        .flat_map(|e| &e.gaps)
        .filter(|g| g.lag_ms.is_some())
        .collect();
    let first = marks[0];
    assert!(first.lag_ms.unwrap() > 2000, "{first:?}");
    assert_eq!(first.from, first.to, "a lag mark is no hole");
    // Load shed in the documented order: the next faster preset first.
    assert!(
        first.reason.contains("preset veryfast -> superfast"),
        "{}",
        first.reason
    );
    let notes: Vec<_> = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Note && e.reason.contains("behind the camera's clock"))
        .collect();
    assert!(!notes.is_empty());
    let w = notes[0].window.unwrap();
    assert_eq!(w.from, first.from);
    assert!(w.to.unix_millis() - w.from.unix_millis() > 2000, "{w:?}");
    // Stopped while behind: the frames queued and never recorded are said to be lost.
    let stop_note = AuditLog::new(&audit)
        .read_entries()
        .unwrap()
        .into_iter()
        .find(|e| {
            e.action == Action::Note
                && e.reason.contains("recording stopped")
                && e.reason.contains("never recorded")
        });
    assert!(stop_note.is_some_and(|n| n.window.is_some()), "{out}");
    assert!(out.contains("were not recorded"), "{out}");
    // `record status` lists the lag marks with their size and what was shed.
    let o = Command::new(redact_bin())
        .args(["record", "status"])
        .arg(&dir)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{status}");
    assert!(
        status.contains(&format!("{} lag mark(s)", marks.len())),
        "{status}"
    );
    assert!(
        status.contains("  lag ") && status.contains("superfast"),
        "{status}"
    );
    assert!(verify_file(&audit).unwrap().is_intact());
    std::fs::remove_dir_all(base).unwrap();
}
