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
    let d = r.delivered(5.0, 15.0);
    assert_eq!(d.delivered, Some(window("00:05", "00:25")));
    assert_eq!(d.segments[0].output, Some([0.0, 5.0]));
    assert_eq!(d.segments[1].output, Some([5.0, 10.0]));
}
