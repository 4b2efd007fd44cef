#![allow(clippy::unwrap_used)]

use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-03-01T10:{s}Z")).unwrap()
}

fn seg(name: &str, a: &str, b: &str) -> Segment {
    Segment {
        path: PathBuf::from(name),
        start: t(a),
        end: t(b),
        sha256: "a".repeat(64),
        frames: Some(100),
        index_line: None,
    }
}

fn window(a: &str, b: &str) -> WallWindow {
    WallWindow { from: t(a), to: t(b) }
}

#[test]
fn holes_are_the_gaps_the_deletions_and_the_time_nothing_covers() {
    let segments = vec![seg("a", "00:00", "00:10"), seg("c", "00:20", "00:30")];
    let holes = vec![Hole {
        from: t("00:10"),
        to: t("00:15"),
        kind: HoleKind::Deleted {
            file: "b".into(),
            deleted_at: t("30:00"),
            reason: "retention".into(),
        },
    }];
    let r = Recordings::new("cam", window("00:05", "00:40"), segments, holes).unwrap();
    assert_eq!(r.segments().len(), 2);
    let kinds: Vec<(Timestamp, Timestamp, bool)> = r
        .holes()
        .iter()
        .map(|h| (h.from, h.to, matches!(h.kind, HoleKind::NotRecorded)))
        .collect();
    assert_eq!(
        kinds,
        [
            (t("00:10"), t("00:15"), false),
            (t("00:15"), t("00:20"), true),
            (t("00:30"), t("00:40"), true)
        ]
    );
}

#[test]
fn a_window_without_footage_names_the_nearest_recorded_times() {
    let segments = vec![seg("a", "00:00", "00:10"), seg("c", "01:00", "01:10")];
    let e = Recordings::new("cam", window("00:20", "00:30"), segments, Vec::new()).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RecordingsError::NoRecording { .. }), "{text}");
    assert!(
        text.contains("2026-03-01T10:00:10Z") && text.contains("2026-03-01T10:01:00Z"),
        "{text}"
    );
}

#[test]
fn overlapping_or_unordered_segments_are_refused() {
    let segments = vec![seg("a", "00:00", "00:10"), seg("b", "00:05", "00:20")];
    let e = Recordings::new("cam", window("00:00", "00:30"), segments, Vec::new()).unwrap_err();
    assert!(matches!(e, RecordingsError::Invalid { .. }), "{e}");
}

#[test]
fn wall_clock_and_stream_seconds_map_across_a_hole() {
    let used = |file: &str, a: &str, b: &str, stream: [f64; 2]| SegmentUsed {
        file: file.into(),
        path: PathBuf::from(file),
        sha256: "a".repeat(64),
        index_line: None,
        start: t(a),
        end: t(b),
        frames: 100,
        encrypted: false,
        stream,
        retimed: false,
        jumps: Vec::new(),
        output: None,
    };
    let r = RecordingsRecord {
        camera: "cam".into(),
        index: None,
        asked: window("00:00", "00:40"),
        delivered: None,
        segments: vec![
            used("a", "00:00", "00:10", [0.0, 10.0]),
            used("c", "00:20", "00:30", [10.0, 20.0]),
        ],
        holes: Vec::new(),
    };
    assert_eq!(r.seconds_at(t("00:05")), 5.0);
    // In the hole: the next footage.
    assert_eq!(r.seconds_at(t("00:15")), 10.0);
    assert_eq!(r.seconds_at(t("00:25")), 15.0);
    assert_eq!(r.seconds_at(t("00:35")), 20.0);
    assert_eq!(r.wall_at(15.0), t("00:25"));
    // Between the segments (the hole), and inside one where frames were lost.
    let mut jumpy = r.clone();
    jumpy.segments[1].jumps = vec![[12.0, 3.0]];
    let breaks: Vec<(f64, WallWindow)> = jumpy.discontinuities();
    assert_eq!(
        breaks,
        [(10.0, window("00:10", "00:20")), (12.0, window("00:22", "00:25"))]
    );
    // Inside the jumpy segment, the wall clock counts the 3 s lost at stream second 12.
    assert_eq!(jumpy.wall_at(11.0), t("00:21"));
    assert_eq!(jumpy.wall_at(13.0), t("00:26"));
    assert_eq!(jumpy.seconds_at(t("00:26")), 13.0);
    assert_eq!(jumpy.seconds_at(t("00:23")), 12.0);
    let d = r.delivered(5.0, 15.0);
    assert_eq!(d.delivered, Some(window("00:05", "00:25")));
    assert_eq!(d.segments[0].output, Some([0.0, 5.0]));
    assert_eq!(d.segments[1].output, Some([5.0, 10.0]));
}

fn entry(file: &str, a: &str, b: &str, bytes: &[u8], dir: &Path) -> crate::IndexEntry {
    std::fs::write(dir.join(file), bytes).unwrap();
    let (sha256, _) = veil_core::hash::sha256_file(&dir.join(file)).unwrap();
    crate::IndexEntry {
        version: crate::INDEX_VERSION,
        file: file.into(),
        start: t(a),
        end: t(b),
        frames: 100,
        sha256,
        gaps: Vec::new(),
        deleted: None,
        recovered: None,
        key: None,
    }
}

#[test]
fn the_index_gives_segments_with_their_lines_gaps_deletions_and_lost_frames_but_no_lag_marks() {
    let base = std::env::temp_dir().join(format!("veil-recordings-index-{}", std::process::id()));
    let cam = base.join("cam");
    std::fs::create_dir_all(&cam).unwrap();
    let a = entry("20260301T100000Z.mp4", "00:00", "00:10", b"a", &cam);
    let mut b = entry("20260301T100010Z.mp4", "00:10", "00:20", b"b", &cam);
    std::fs::remove_file(cam.join(&b.file)).unwrap();
    b.deleted = Some(crate::Deleted {
        time: t("50:00"),
        reason: "retention of 28 days ended".into(),
    });
    let mut c = entry("20260301T100030Z.mp4", "00:30", "00:40", b"c", &cam);
    let mut lag = crate::Gap::new(t("00:32"), t("00:32"), "recording ran late");
    lag.lag_ms = Some(2500);
    let mut lost = crate::Gap::new(t("00:33"), t("00:35"), "timestamps jumped");
    lost.lost_frames = Some(7);
    c.gaps = vec![
        crate::Gap::new(t("00:20"), t("00:30"), "the camera's stream ended"),
        lag,
        lost,
    ];
    Index::new(&cam).rewrite(&[a, b, c]).unwrap();
    let r = Recordings::from_index(&base, "cam", window("00:05", "00:45")).unwrap();
    let lines: Vec<Option<usize>> = r.segments().iter().map(|s| s.index_line).collect();
    assert_eq!(lines, [Some(1), Some(3)]);
    let holes: Vec<String> = r.holes().iter().map(|h| h.to_string()).collect();
    assert_eq!(holes.len(), 4, "{holes:#?}");
    assert!(holes[0].contains("20260301T100010Z.mp4 deleted at") && holes[0].contains("retention"));
    assert!(
        holes[1].contains("recorder gap (the camera's stream ended)"),
        "{holes:#?}"
    );
    assert!(holes[2].contains("7 frame(s) lost"), "{holes:#?}");
    assert!(
        holes[3].ends_with("not recorded") && holes[3].starts_with("2026-03-01T10:00:40Z"),
        "{holes:#?}"
    );
    // A segment file inside the recorded time that the index does not name is refused.
    std::fs::write(cam.join("20260301T100020Z.mp4"), b"x").unwrap();
    let e = Recordings::from_index(&base, "cam", window("00:05", "00:45")).unwrap_err();
    assert!(matches!(e, RecordingsError::Unindexed { .. }), "{e}");
    assert!(e.to_string().contains("20260301T100020Z.mp4"), "{e}");
    // One after the last indexed segment is the one being recorded: its time is a hole.
    std::fs::remove_file(cam.join("20260301T100020Z.mp4")).unwrap();
    std::fs::write(cam.join("20260301T100040Z.mp4"), b"x").unwrap();
    Recordings::from_index(&base, "cam", window("00:05", "00:45")).unwrap();
    // A segment changed after indexing is refused before anything is read, naming it.
    std::fs::write(cam.join("20260301T100030Z.mp4"), b"C").unwrap();
    let e = Recordings::from_index(&base, "cam", window("00:05", "00:45"))
        .unwrap()
        .open(None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            RecordingsError::Altered {
                index_line: Some(3),
                ..
            }
        ),
        "{e}"
    );
    std::fs::remove_file(cam.join("20260301T100030Z.mp4")).unwrap();
    let e = Recordings::from_index(&base, "cam", window("00:05", "00:45"))
        .unwrap()
        .open(None)
        .unwrap_err();
    assert!(matches!(e, RecordingsError::Missing { .. }), "{e}");
    assert!(e.to_string().contains("20260301T100030Z.mp4"), "{e}");
    std::fs::remove_dir_all(base).unwrap();
}

/// A window of plain footage is joined into an anonymous file in the temporary directory
/// (O_TMPFILE: on disk, never visible, gone with the descriptor), not held in memory; the
/// joined stream has every recorded frame of the segments it spans.
#[cfg(target_os = "linux")]
#[test]
fn plain_footage_is_joined_on_disk_out_of_sight_not_in_memory() {
    let root = std::env::temp_dir().join(format!("veil-recordings-join-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let camera = veil_core::CameraConfig::from_file(&repo.join("fixtures/vtest-zones.toml")).unwrap();
    let id = camera.id.clone();
    let clip = repo.join("fixtures/vtest.mp4");
    let mut cfg = crate::RecorderConfig::new(clip.to_str().unwrap(), camera, &root);
    cfg.segment = std::time::Duration::from_secs(5);
    cfg.audit = Some(crate::AuditTarget {
        log: root.join("audit.jsonl"),
        actor: "recorder".into(),
    });
    crate::Recorder::new(cfg).unwrap().run(&mut |_| {}).unwrap();
    let entries = Index::new(root.join(&id)).read().unwrap();
    assert!(entries.len() >= 2, "{entries:#?}");
    let w = WallWindow {
        from: entries[0].start,
        to: entries[1].end,
    };
    let opened = Recordings::from_index(&root, &id, w).unwrap().open(None).unwrap();
    let target = std::fs::read_link(opened.path()).unwrap();
    let shown = target.display().to_string();
    assert!(
        target.starts_with(std::env::temp_dir()) && shown.ends_with("(deleted)"),
        "the joined stream is an unlinked file in the temporary directory: {shown}"
    );
    assert!(!shown.contains("memfd:"), "{shown}");
    let frames: u64 = opened.record().segments.iter().map(|s| s.frames).sum();
    assert_eq!(frames, entries[0].frames + entries[1].frames);
    let len = std::fs::metadata(opened.path()).unwrap().len();
    assert!(len > 10_000, "{len} bytes joined");
    drop(opened);
    std::fs::remove_dir_all(&root).unwrap();
}
