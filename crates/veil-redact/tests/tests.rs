//! Inzage export on real footage: a slow pan over a group photo with six hand-annotated faces
//! (fixtures/inzage: group_pan.mp4, faces.json, and the scripts that made them), run through
//! the real detectors (ONNX Runtime, models/), the tracker, the redaction and the encoder.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use veil_redact::{analyze, export, AnalyzeOptions, ExportOptions, Manifest, RedactError, Requester, Tracks};

#[path = "support/thumb.rs"]
mod thumb;
use thumb::{detail, down16, luma, pearson};

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-redact-tests", name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/inzage")
        .join(name)
}

fn clip() -> PathBuf {
    fixture("group_pan.mp4")
}

/// Hand annotations: per frame, six face boxes `[x, y, w, h]`; index 3 is the requester.
struct Faces {
    frames: Vec<Vec<[f32; 4]>>,
    requester: usize,
}

fn faces() -> &'static Faces {
    static F: OnceLock<Faces> = OnceLock::new();
    F.get_or_init(|| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("faces.json")).unwrap()).unwrap();
        let frames = v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["faces"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| {
                        let b: Vec<f32> = b
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_f64().unwrap() as f32)
                            .collect();
                        [b[0], b[1], b[2], b[3]]
                    })
                    .collect()
            })
            .collect();
        Faces {
            frames,
            requester: v["requester_face"].as_u64().unwrap() as usize,
        }
    })
}

fn original() -> &'static (u32, u32, Vec<Vec<u8>>) {
    static O: OnceLock<(u32, u32, Vec<Vec<u8>>)> = OnceLock::new();
    O.get_or_init(|| luma(&clip()))
}

/// Correlations of the face region in two frames: (16x16 downscale, its detail band).
fn corr2(a: &[u8], b: &[u8], w: u32, bx: [f32; 4]) -> (f64, f64) {
    let (p, q) = (down16(a, w, bx), down16(b, w, bx));
    (pearson(&p, &q), pearson(&detail(&p), &detail(&q)))
}

/// Per frame and face, the correlation between the input and `output`.
fn correlations(output: &Path) -> Vec<Vec<(f64, f64)>> {
    let (w, _, orig) = original();
    let (w2, _, out) = luma(output);
    assert_eq!(*w, w2);
    assert_eq!(orig.len(), out.len(), "frame count");
    let f = faces();
    orig.iter()
        .zip(&out)
        .zip(&f.frames)
        .map(|((a, b), boxes)| boxes.iter().map(|&bx| corr2(a, b, *w, bx)).collect())
        .collect()
}

/// The requester: a point in the middle of face 3 on frame 0.
fn requester_at() -> Requester {
    let b = faces().frames[0][faces().requester];
    Requester::At {
        time: 0.0,
        x: b[0] + b[2] / 2.0,
        y: b[1] + b[3] / 2.0,
    }
}

/// Bystander faces must be unrecognisable on every frame, the requester's face untouched:
/// the requester's 16x16 thumbnail and its detail band correlate with the input above 0.97
/// (codec tolerance); a bystander's thumbnail stays below 0.9 and its detail band below 0.4.
fn assert_kept_and_redacted(c: &[Vec<(f64, f64)>]) {
    let req = faces().requester;
    for i in 0..6 {
        let hi = |f: fn(&(f64, f64)) -> f64| c.iter().map(|r| f(&r[i])).fold(f64::MIN, f64::max);
        let lo = |f: fn(&(f64, f64)) -> f64| c.iter().map(|r| f(&r[i])).fold(f64::MAX, f64::min);
        eprintln!(
            "face {i}: thumbnail correlation {:.3}..{:.3}, detail {:.3}..{:.3}",
            lo(|x| x.0),
            hi(|x| x.0),
            lo(|x| x.1),
            hi(|x| x.1)
        );
    }
    for (n, row) in c.iter().enumerate() {
        for (i, &(r, d)) in row.iter().enumerate() {
            if i == req {
                assert!(
                    r > 0.97 && d > 0.97,
                    "frame {n}: requester face correlation {r:.3}/{d:.3} (should be untouched)"
                );
            } else {
                assert!(
                    r < 0.9 && d < 0.4,
                    "frame {n}: bystander face {i} correlation {r:.3}/{d:.3} (still recognisable)"
                );
            }
        }
    }
}

/// The analysis of the whole clip, shared by the tests that export from a tracks file.
fn analysed() -> &'static (PathBuf, PathBuf) {
    static A: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    A.get_or_init(|| {
        let d = out_dir("analysis");
        let mut o = AnalyzeOptions::new(clip(), d.join("tracks.json"));
        o.contact_sheet = Some(d.join("sheet.png"));
        let rep = analyze(&o).unwrap();
        assert_eq!(rep.frames, 49);
        (d.join("tracks.json"), d.join("sheet.png"))
    })
}

#[test]
fn analysis_writes_tracks_and_a_numbered_contact_sheet() {
    let (tracks_path, sheet) = analysed();
    let tracks = Tracks::load(tracks_path).unwrap();
    assert_eq!((tracks.width(), tracks.height()), (1280, 720));
    assert!((tracks.fps() - 12.0).abs() < 1e-9);
    // Every annotated face lies in some track's face box on frame 0 and frame 48.
    for n in [0u64, 24, 48] {
        for b in &faces().frames[n as usize] {
            let (cx, cy) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
            let hit = tracks
                .boxes_at(n, 0)
                .any(|(_, _, bb, is_face)| is_face && bb.contains(cx, cy));
            assert!(hit, "frame {n}: no face box at ({cx}, {cy})");
        }
    }
    let img = image::open(sheet).unwrap().to_rgb8();
    // Six columns at most: 8 + k * 168 wide.
    assert_eq!((img.width() - 8) % 168, 0, "sheet width {}", img.width());
    assert!(img.height() >= 8 + 196);
    // The first cell shows a real crop of the footage (not an empty cell: many distinct
    // colours), under a white label strip with the id drawn in dark pixels. Which number
    // goes with which crop is checked in sheet.rs's unit tests.
    let (x0, y0) = (8u32, 8u32 + 30);
    let mut colours = std::collections::HashSet::new();
    for y in y0 + 20..y0 + 140 {
        for x in x0 + 20..x0 + 140 {
            colours.insert(img.get_pixel(x, y).0);
        }
    }
    assert!(
        colours.len() > 200,
        "first cell holds a crop: {} colours",
        colours.len()
    );
    assert_eq!(
        img.get_pixel(x0 + 150, 10).0,
        [255, 255, 255],
        "white label strip"
    );
    let dark = (x0 + 12..x0 + 60)
        .flat_map(|x| (11..8 + 27).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 100)
        .count();
    assert!(dark > 10, "the first cell's id is drawn: {dark} dark pixels");
}

#[test]
fn one_shot_export_keeps_the_requester_and_redacts_every_bystander_face() {
    let d = out_dir("oneshot");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.requester = requester_at();
    let rep = export(&o).unwrap();
    assert_kept_and_redacted(&correlations(&rep.output));

    // The manifest on disk matches the files and the run.
    let m = Manifest::load(&rep.manifest_path).unwrap();
    assert_eq!(m, rep.manifest);
    assert_eq!(m.input.sha256, veil_redact::sha256_file(&clip()).unwrap());
    assert_eq!(m.output.sha256, veil_redact::sha256_file(&rep.output).unwrap());
    assert_eq!(m.counts.frames, 49);
    assert_eq!(m.requester_tracks.len(), 1);
    assert!(!m.redacted_tracks.contains(&m.requester_tracks[0]));
    assert!(m.redacted_tracks.len() >= 5, "{:?}", m.redacted_tracks);
    assert!(m.counts.boxes_redacted >= 49 * 5);
    assert_eq!(m.models.len(), 2);
    assert!(m.models.iter().all(|x| x.sha256.len() == 64));
    assert!(
        m.exported_at.ends_with('Z') && m.exported_at.len() == 20,
        "{}",
        m.exported_at
    );
}

#[test]
fn spotlight_redacts_everything_but_the_requester() {
    let d = out_dir("spotlight");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.tracks = Some(analysed().0.clone());
    o.requester = requester_at();
    o.spotlight = true;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let d2 = done.clone();
    o.progress = Some(veil_redact::Progress::new(move |pass, n, _| {
        assert_eq!(pass, veil_redact::Pass::Export);
        d2.store(n, std::sync::atomic::Ordering::SeqCst);
    }));
    let rep = export(&o).unwrap();
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 49);
    let c = correlations(&rep.output);
    assert_kept_and_redacted(&c);
    // A background region nobody stands in (the lamp, top centre of the photo) is redacted too.
    let (w, _, orig) = original();
    let (_, _, out) = luma(&rep.output);
    for n in [0usize, 24, 48] {
        let lamp = [600.0, 10.0, 120.0, 120.0];
        let (r, d) = corr2(&orig[n], &out[n], *w, lamp);
        assert!(
            r < 0.9 && d < 0.4,
            "frame {n}: background correlation {r:.3}/{d:.3}"
        );
    }
    assert!(rep.manifest.settings.spotlight);
}

#[test]
fn pixelate_and_solid_styles_also_hide_bystanders() {
    for style in [veil_redact::Style::Pixelate, veil_redact::Style::Solid] {
        let d = out_dir(&format!("{style:?}"));
        let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
        o.tracks = Some(analysed().0.clone());
        o.requester = requester_at();
        o.style = style;
        let rep = export(&o).unwrap();
        assert_kept_and_redacted(&correlations(&rep.output));
        assert!(rep.manifest.settings.irreversible);
    }
}

#[test]
fn keep_at_a_point_where_nobody_is_fails_and_writes_nothing() {
    let d = out_dir("nobody");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.tracks = Some(analysed().0.clone());
    // The black padding at the left edge of frame 0.
    o.requester = Requester::At {
        time: 0.0,
        x: 10.0,
        y: 700.0,
    };
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::NobodyAt { frame: 0, .. }), "{e}");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "files left behind");
}

#[test]
fn unknown_track_id_is_an_error() {
    let d = out_dir("unknown");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.tracks = Some(analysed().0.clone());
    o.requester = Requester::Tracks { ids: vec![9999] };
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::UnknownTrack { id: 9999, .. }), "{e}");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
}

#[test]
fn a_window_outside_the_video_fails_and_writes_nothing() {
    let d = out_dir("outside");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.from = Some(100.0);
    o.to = Some(110.0);
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::EmptyWindow { .. }), "{e}");
    // Also with a tracks file (no analysis in front).
    o.tracks = Some(analysed().0.clone());
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::EmptyWindow { .. }), "{e}");
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "files left behind");
}

#[test]
fn a_tracks_file_of_another_video_is_refused() {
    let d = out_dir("mismatch");
    let (tracks_path, _) = analysed();
    let mut t = Tracks::load(tracks_path).unwrap();
    t.set_video(640, 360, 12.0).unwrap();
    let other = d.join("other-tracks.json");
    t.save(&other).unwrap();
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.tracks = Some(other.clone());
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::TracksMismatch { .. }), "{e}");
    assert!(!d.join("export.mp4").exists());
}

#[test]
fn a_recording_cut_off_mid_stream_aborts_the_export_and_writes_nothing() {
    let d = out_dir("truncated");
    // The index is at the front (faststart), so the file opens and decoding fails part-way.
    let bytes = std::fs::read(clip()).unwrap();
    let cut = d.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    // The tracks of the whole clip, recorded as made from the cut file (whose own hash the
    // check then passes), so that the export reaches the decoder; kept outside `d`.
    let mut t = Tracks::load(&analysed().0).unwrap();
    t.set_source_sha256(Some(&veil_redact::sha256_file(&cut).unwrap()))
        .unwrap();
    let unhashed = out_dir("truncated-tracks").join("tracks.json");
    t.save(&unhashed).unwrap();
    let mut o = ExportOptions::new(&cut, d.join("export.mp4"));
    o.tracks = Some(unhashed);
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Video(_)), "{e}");
    // One-shot: the analysis fails first.
    o.tracks = None;
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Video(_)), "{e}");
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("cut.mp4")],
        "files left behind"
    );
}

#[test]
fn zones_win_over_the_requester_and_the_one_shot_tracks_are_saved() {
    let d = out_dir("zones");
    // A solid zone over the requester's face for the whole pan (it moves 96 px left and 64 up).
    let zones = d.join("zones.toml");
    std::fs::write(
        &zones,
        r#"
[camera]
id = "group-pan"
purposes = ["test"]
responsible = "Veil tests"
[[zones]]
kind = "custom"
label = "over the requester"
polygon = [[0.52, 0.33], [0.75, 0.33], [0.75, 0.72], [0.52, 0.72]]
"#,
    )
    .unwrap();
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.requester = requester_at();
    o.zones = Some(zones.clone());
    o.tracks_out = Some(d.join("tracks.json"));
    let rep = export(&o).unwrap();
    let (w, _, out) = luma(&rep.output);
    let req = faces().requester;
    for (n, y) in out.iter().enumerate() {
        let b = faces().frames[n][req];
        let v = down16(y, w, b);
        let mean = v.iter().sum::<f64>() / 256.0;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 256.0;
        assert!(
            var.sqrt() < 2.0 && mean < 24.0,
            "frame {n}: zone over the requester not blank (mean {mean:.1}, sd {:.1})",
            var.sqrt()
        );
    }
    let z = rep.manifest.settings.zones.as_ref().unwrap();
    assert_eq!(z.sha256, veil_redact::sha256_file(&zones).unwrap());
    let t = Tracks::load(d.join("tracks.json")).unwrap();
    assert!(t.len() >= 6);
}

#[test]
fn the_tracks_file_records_the_analysed_frames_and_the_input_hash() {
    let t = Tracks::load(&analysed().0).unwrap();
    assert_eq!(t.analyzed(), Some([0, 48]));
    assert_eq!(
        t.source_sha256(),
        Some(veil_redact::sha256_file(&clip()).unwrap().as_str())
    );
}

#[test]
fn an_export_window_past_the_analysed_frames_is_refused_and_writes_nothing() {
    let a = out_dir("partial-analysis");
    let tracks_path = a.join("tracks.json");
    // The first two seconds only: frames 0..=23 of 49.
    let mut ao = AnalyzeOptions::new(clip(), &tracks_path);
    ao.to = Some(2.0);
    let rep = analyze(&ao).unwrap();
    assert_eq!(rep.frame_range, [0, 23]);
    let t = Tracks::load(&tracks_path).unwrap();
    assert_eq!(t.analyzed(), Some([0, 23]));
    assert!(t.len() >= 6, "{} tracks", t.len());

    let d = out_dir("past-range");
    let run = |from: Option<f64>, to: Option<f64>, spotlight: bool| {
        let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
        o.tracks = Some(tracks_path.clone());
        o.requester = requester_at();
        o.from = from;
        o.to = to;
        o.spotlight = spotlight;
        export(&o)
    };
    // The whole clip, a window straddling the end of the analysis, and spotlight mode: the
    // frames after frame 23 were never analysed, so nobody there would be redacted.
    for (from, to, spotlight) in [
        (None, None, false),
        (Some(1.0), Some(3.0), false),
        (None, None, true),
    ] {
        let e = run(from, to, spotlight).unwrap_err();
        match &e {
            RedactError::TracksCoverage {
                tracks: Some(p),
                reason,
                ..
            } => {
                assert_eq!(p, &tracks_path);
                assert!(reason.contains("frame 24 ") && reason.contains("0 to 23"), "{e}");
            }
            _ => panic!("expected TracksCoverage, got {e}"),
        }
        assert!(e.to_string().contains("tracks.json"), "{e}");
        assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));
    }

    // A window inside the analysis exports, the requester kept and the bystanders hidden.
    let rep = run(Some(0.5), Some(2.0), false).unwrap();
    assert_eq!(rep.manifest.counts.frames, 18);
    let span = rep.manifest.frames_span;
    assert!(
        (span[0] - 0.5).abs() < 1e-6 && (span[1] - 23.0 / 12.0).abs() < 1e-6,
        "{span:?}"
    );
    let (w, _, orig) = original();
    let (_, _, out) = luma(&rep.output);
    assert_eq!(out.len(), 18);
    let c: Vec<Vec<(f64, f64)>> = out
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let n = i + 6;
            faces().frames[n]
                .iter()
                .map(|&b| corr2(&orig[n], y, *w, b))
                .collect()
        })
        .collect();
    assert_kept_and_redacted(&c);
}

#[test]
fn a_tracks_file_made_from_another_recording_is_refused_and_writes_nothing() {
    let a = out_dir("other-recording");
    // Another recording of the same size and frame rate: the clip from 1 s on, re-encoded
    // (mirrored, so that its people stand elsewhere).
    let other = a.join("other.mp4");
    let st = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-ss", "1", "-i"])
        .arg(clip())
        .args([
            "-t",
            "2",
            "-vf",
            "hflip",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&other)
        .status()
        .expect("the ffmpeg command line tool is needed by this test");
    assert!(st.success());
    let other_tracks = a.join("other-tracks.json");
    let rep = analyze(&AnalyzeOptions::new(&other, &other_tracks)).unwrap();
    assert_eq!(rep.tracks.analyzed(), Some([0, 23]));
    assert_eq!(
        rep.tracks.source_sha256(),
        Some(veil_redact::sha256_file(&other).unwrap().as_str())
    );
    assert_eq!((rep.tracks.width(), rep.tracks.height()), (1280, 720));

    let d = out_dir("other-recording-export");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.to = Some(2.0);
    o.tracks = Some(other_tracks.clone());
    for spotlight in [false, true] {
        o.spotlight = spotlight;
        let e = export(&o).unwrap_err();
        match &e {
            RedactError::TracksMismatch { tracks, reason, .. } => {
                assert_eq!(tracks, &other_tracks);
                assert!(reason.contains("SHA-256"), "{e}");
            }
            _ => panic!("expected TracksMismatch, got {e}"),
        }
        assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));
    }

    // The other recording's tracks with the `source_sha256` field removed (same size and
    // length as the clip's window): refused, naming the missing field, nothing written.
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&other_tracks).unwrap()).unwrap();
    assert!(doc.as_object_mut().unwrap().remove("source_sha256").is_some());
    let stripped = a.join("stripped.json");
    std::fs::write(&stripped, serde_json::to_vec(&doc).unwrap()).unwrap();
    o.tracks = Some(stripped.clone());
    for spotlight in [false, true] {
        o.spotlight = spotlight;
        let e = export(&o).unwrap_err();
        assert!(
            matches!(&e, RedactError::TracksMismatch { tracks, reason, .. }
                if tracks == &stripped && reason.contains("source_sha256")),
            "{e}"
        );
        assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));
    }

    // The tracks of this very clip with the recorded hash edited: refused too.
    let mut t = Tracks::load(&analysed().0).unwrap();
    t.set_source_sha256(Some(&"0".repeat(64))).unwrap();
    let edited = a.join("edited.json");
    t.save(&edited).unwrap();
    o.tracks = Some(edited);
    o.spotlight = false;
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::TracksMismatch { .. }), "{e}");
    // Without any analysed range (a file of an older Veil): refused.
    let mut t = Tracks::load(&analysed().0).unwrap();
    t.set_analyzed(None).unwrap();
    let old = a.join("old.json");
    t.save(&old).unwrap();
    o.tracks = Some(old);
    let e = export(&o).unwrap_err();
    assert!(
        matches!(e, RedactError::TracksCoverage { .. }) && e.to_string().contains("old.json"),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));

    // The matching tracks file exports.
    o.tracks = Some(analysed().0.clone());
    let rep = export(&o).unwrap();
    assert_eq!(rep.manifest.counts.frames, 24);
    assert_eq!(
        rep.manifest.tracks_file.as_ref().unwrap().sha256,
        veil_redact::sha256_file(&analysed().0).unwrap()
    );
}

#[test]
fn a_solid_zone_stays_black_where_a_redacted_bystander_crosses_its_edge() {
    let d = out_dir("zone-edge");
    // A solid zone over the left half of a bystander's face (face 4 of the photo): the
    // bystander's pixelated face and body boxes cross the zone's edge on every frame.
    let zones = d.join("zones.toml");
    std::fs::write(
        &zones,
        r#"
[camera]
id = "group-pan"
purposes = ["test"]
responsible = "Veil tests"
[[zones]]
kind = "custom"
label = "half a bystander"
polygon = [[0.68, 0.02], [0.74, 0.02], [0.74, 0.30], [0.68, 0.30]]
"#,
    )
    .unwrap();
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.requester = Requester::None;
    o.style = veil_redact::Style::Pixelate;
    o.zones = Some(zones);
    let rep = export(&o).unwrap();
    let (w, h, out) = luma(&rep.output);
    // The zone's interior, 6 px in from its edges (codec ringing at the edge).
    let (x0, x1) = ((0.68 * w as f64) as usize + 6, (0.74 * w as f64) as usize - 6);
    let (y0, y1) = ((0.02 * h as f64) as usize + 6, (0.30 * h as f64) as usize - 6);
    for (n, y) in out.iter().enumerate() {
        let brightest = (y0..y1)
            .flat_map(|yy| (x0..x1).map(move |xx| (xx, yy)))
            .map(|(xx, yy)| y[yy * w as usize + xx])
            .max()
            .unwrap_or(0);
        assert!(
            brightest <= 24,
            "frame {n}: luma {brightest} inside the solid zone (a redaction across its edge lightened it)"
        );
    }
}

/// The first two seconds analysed on every other frame, with a raised face threshold: the
/// tracks file and its directory (a file of its own, so that the tests may edit copies).
fn analysed_every_2() -> &'static PathBuf {
    static A: OnceLock<PathBuf> = OnceLock::new();
    A.get_or_init(|| {
        let d = out_dir("analysis-every-2");
        let mut o = AnalyzeOptions::new(clip(), d.join("tracks.json"));
        o.to = Some(2.0);
        o.detect.every = 2;
        o.detect.face_threshold = Some(0.25);
        analyze(&o).unwrap();
        d.join("tracks.json")
    })
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The models as the models directory lists them, run on the CPU (the default device):
/// `[{name, file, sha256, device}]`.
fn models_listed() -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let model = |name: &str, file: &str| {
        let sha256 = veil_redact::sha256_file(&dir.join(file)).unwrap();
        serde_json::json!({"name": name, "file": file, "sha256": sha256, "device": "cpu"})
    };
    serde_json::json!([
        model("centerface", "centerface.onnx"),
        model("nanodet", "nanodet-m-416.onnx")
    ])
}

#[test]
fn tracks_files_and_every_manifest_record_how_the_boxes_were_made() {
    // Read as JSON: what an auditor sees in the files, whatever this build's types say.
    let t = json(analysed_every_2());
    let version = env!("CARGO_PKG_VERSION");
    let members: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert_eq!(t["veil_version"], version, "members: {members:?}");
    assert_eq!(t["models"], models_listed());
    assert_eq!(t["face_threshold"], 0.25);
    assert_eq!(t["person_threshold"], 0.3, "the person detector's default");
    assert_eq!(
        (t["every"].clone(), t["person_every"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(
        (t["min_face"].clone(), t["min_person"].clone()),
        (24.into(), 80.into())
    );

    // An export from that tracks file carries them, as does a one-shot export (from its own
    // analysis, run here with the same settings).
    let d = out_dir("provenance");
    let mut o = ExportOptions::new(clip(), d.join("from-tracks.mp4"));
    o.to = Some(2.0);
    o.tracks = Some(analysed_every_2().clone());
    let from_tracks = export(&o).unwrap();
    o.tracks = None;
    o.to = Some(1.0);
    o.output = d.join("one-shot.mp4");
    o.detect.every = 2;
    o.detect.face_threshold = Some(0.25);
    let one_shot = export(&o).unwrap();
    for rep in [&from_tracks, &one_shot] {
        let m = json(&rep.manifest_path);
        let name = rep.manifest_path.display();
        assert_eq!(m["models"], models_listed(), "{name}");
        assert_eq!(m["analysis_veil_version"], version, "{name}");
        let s = &m["settings"];
        assert_eq!(s["face_threshold"], 0.25, "{name}: {s}");
        assert_eq!(s["person_threshold"], 0.3, "{name}: {s}");
        assert_eq!(
            (s["every"].clone(), s["person_every"].clone()),
            (2.into(), 1.into()),
            "{name}"
        );
        assert_eq!(
            s["changes_only"], 2,
            "{name}: the default changes-only face search"
        );
        assert_eq!(
            (s["min_face"].clone(), s["min_person"].clone()),
            (24.into(), 80.into()),
            "{name}"
        );
        // and the library reads them back
        let back = Manifest::load(&rep.manifest_path).unwrap();
        assert_eq!(
            (&back.settings, &back.models),
            (&rep.manifest.settings, &rep.manifest.models)
        );
    }
}

#[test]
fn a_tracks_file_whose_every_the_padding_does_not_cover_is_refused_and_writes_nothing() {
    let d = out_dir("every-padding");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.to = Some(2.0);
    o.tracks = Some(analysed_every_2().clone());
    // Detected on every other frame: the frame between needs one frame of padding.
    o.padding.frames = 0;
    let e = export(&o).unwrap_err();
    assert!(
        matches!(&e, RedactError::TracksCoverage { tracks: Some(t), reason, .. }
            if t == analysed_every_2() && reason.contains("every") && reason.contains("0 frames")),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));

    // A tracks file that does not say how often it detected (an older Veil's) is refused
    // whatever the padding.
    let a = out_dir("every-padding-tracks");
    let mut doc = json(analysed_every_2());
    assert!(doc.as_object_mut().unwrap().remove("every").is_some());
    let old = a.join("no-every.json");
    std::fs::write(&old, serde_json::to_vec(&doc).unwrap()).unwrap();
    o.tracks = Some(old.clone());
    o.padding.frames = 5;
    let e = export(&o).unwrap_err();
    assert!(
        matches!(&e, RedactError::TracksCoverage { tracks: Some(t), reason, .. }
            if t == &old && reason.contains("every")),
        "{e}"
    );
    assert!(listing(&d).is_empty(), "files left behind: {:?}", listing(&d));

    // One frame of padding covers it.
    o.tracks = Some(analysed_every_2().clone());
    o.padding.frames = 1;
    let rep = export(&o).unwrap();
    assert_eq!(rep.manifest.counts.frames, 24);
}

#[test]
fn analysis_never_replaces_an_existing_tracks_file_or_contact_sheet_unless_asked() {
    let d = out_dir("analysis-exists");
    let (tracks, sheet) = (d.join("tracks.json"), d.join("sheet.png"));
    let mut o = AnalyzeOptions::new(clip(), &tracks);
    o.to = Some(0.5);
    o.contact_sheet = Some(sheet.clone());
    // An earlier tracks file: refused, untouched, and no contact sheet written either.
    std::fs::write(&tracks, b"earlier analysis").unwrap();
    let e = analyze(&o).unwrap_err();
    assert!(
        matches!(&e, RedactError::OutputExists { path } if path == &tracks),
        "{e}"
    );
    assert_eq!(std::fs::read(&tracks).unwrap(), b"earlier analysis");
    assert_eq!(listing(&d), ["tracks.json"]);
    // An earlier contact sheet: the same, and no tracks file written.
    std::fs::remove_file(&tracks).unwrap();
    std::fs::write(&sheet, b"earlier sheet").unwrap();
    let e = analyze(&o).unwrap_err();
    assert!(
        matches!(&e, RedactError::OutputExists { path } if path == &sheet),
        "{e}"
    );
    assert_eq!(std::fs::read(&sheet).unwrap(), b"earlier sheet");
    assert_eq!(listing(&d), ["sheet.png"]);
    // Asked to: both replaced.
    o.overwrite = true;
    std::fs::write(&tracks, b"earlier analysis").unwrap();
    analyze(&o).unwrap();
    assert!(Tracks::load(&tracks).unwrap().covers(0, 5));
    assert!(image::open(&sheet).is_ok());
    assert_eq!(listing(&d), ["sheet.png", "tracks.json"]);
}

#[test]
fn a_changes_only_search_longer_than_the_padding_is_refused_before_any_output() {
    // An object a changes-only search sees cut is found up to N frames later; the temporal
    // padding (5 frames by default) must cover those frames, or the export is refused.
    let d = out_dir("changes-only-too-long");
    let mut o = ExportOptions::new(clip(), d.join("export.mp4"));
    o.requester = Requester::None;
    o.detect.changes_only = 6;
    let e = export(&o).unwrap_err();
    match &e {
        RedactError::InvalidOption { reason } => {
            assert!(
                reason.contains("6 frames for changes only") && reason.contains("have 5"),
                "{e}"
            )
        }
        other => panic!("{other}"),
    }
    assert!(!d.join("export.mp4").exists(), "nothing written");
    assert!(!d.join("export.mp4.manifest.json").exists(), "no manifest");
}
