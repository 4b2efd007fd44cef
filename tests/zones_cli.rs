//! `redact zones preview` and `redact cameras report`, on the real fixture clip (the zone
//! editor is in zones_editor_cli.rs).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{redact, redact_bin, root, scratch, vtest as fixture, vtest_zones as zones};
use veil::core::{CameraConfig, PixelFormat};
use veil::redact::image::RgbImage;
use veil::redact::preview::{frame_to_rgb, grab_still, masked_copy, render_preview, PreviewOptions, OUTLINE};

/// Even-odd test of a pixel centre, as the rasteriser does.
fn inside(poly: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a.1 > y) != (b.1 > y) && x < (b.0 - a.0) * (y - a.1) / (b.1 - a.1) + a.0 {
            c = !c;
        }
    }
    c
}

/// Distance from a point to the polygon's outline.
fn edge_distance(poly: &[(f64, f64)], x: f64, y: f64) -> f64 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let t = (((x - a.0) * dx + (y - a.1) * dy) / (dx * dx + dy * dy).max(1e-12)).clamp(0.0, 1.0);
            ((a.0 + t * dx - x).powi(2) + (a.1 + t * dy - y).powi(2)).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

fn read_png(path: &Path) -> RgbImage {
    veil::redact::image::open(path).unwrap().to_rgb8()
}

/// Check one panel of a preview: pixels inside each zone (away from its outline and tag)
/// equal `inside_ref`, pixels far from every zone and tag equal `outside_ref`. Returns the
/// number of inside and outside pixels checked.
fn check_panel(
    img: &RgbImage,
    origin: (u32, u32),
    config: &CameraConfig,
    tags: &[veil::core::Rect],
    inside_ref: &RgbImage,
    outside_ref: &RgbImage,
) -> (usize, usize) {
    let (w, h) = inside_ref.dimensions();
    let polys: Vec<Vec<(f64, f64)>> = config.zones.iter().map(|z| z.polygon.to_pixels(w, h)).collect();
    let margin = f64::from(OUTLINE) + 2.0;
    let boxes: Vec<(f64, f64, f64, f64)> = polys
        .iter()
        .map(|p| {
            p.iter()
                .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |b, &(x, y)| {
                    (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y))
                })
        })
        .collect();
    let (mut n_in, mut n_out) = (0, 0);
    for y in 0..h {
        for x in 0..w {
            let (cx, cy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            if tags
                .iter()
                .any(|t| t.grow(2, 2).contains(i64::from(x), i64::from(y)))
            {
                continue;
            }
            let got = img.get_pixel(origin.0 + x, origin.1 + y);
            // most pixels are far from every zone's bounding box: no distance to compute
            if boxes
                .iter()
                .all(|b| cx < b.0 - 13.0 || cx > b.2 + 13.0 || cy < b.1 - 13.0 || cy > b.3 + 13.0)
            {
                assert_eq!(
                    got,
                    outside_ref.get_pixel(x, y),
                    "far outside the zones at ({x}, {y})"
                );
                n_out += 1;
                continue;
            }
            let near = polys.iter().any(|p| edge_distance(p, cx, cy) <= margin);
            if near {
                continue;
            }
            if polys.iter().any(|p| inside(p, cx, cy)) {
                assert_eq!(got, inside_ref.get_pixel(x, y), "inside a zone at ({x}, {y})");
                n_in += 1;
            } else if polys.iter().all(|p| edge_distance(p, cx, cy) > 12.0) {
                assert_eq!(
                    got,
                    outside_ref.get_pixel(x, y),
                    "far outside the zones at ({x}, {y})"
                );
                n_out += 1;
            }
        }
    }
    (n_in, n_out)
}

#[test]
fn preview_shows_the_masked_zones_and_the_untouched_rest() {
    let dir = scratch("zones-preview");
    let config = CameraConfig::from_file(&zones()).unwrap();
    let still = grab_still(&fixture(), Some(2.0), &[]).unwrap();
    assert_eq!(still.frame.format(), PixelFormat::I420);
    let original = frame_to_rgb(&still.frame.as_ref());
    let masked = frame_to_rgb(&masked_copy(&still.frame, &config).unwrap().as_ref());

    // the CLI writes what the library renders
    let out = dir.join("preview.png");
    let o = redact(&[
        OsStr::new("zones"),
        OsStr::new("preview"),
        fixture().as_os_str(),
        OsStr::new("--zones"),
        zones().as_os_str(),
        OsStr::new("--at"),
        OsStr::new("2"),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = read_png(&out);
    let lib = render_preview(&still, &config, &PreviewOptions::default()).unwrap();
    assert_eq!(png.dimensions(), lib.image.dimensions());
    assert!(
        png == lib.image,
        "the CLI's PNG differs from the library's rendering"
    );

    let (n_in, n_out) = check_panel(&png, lib.panels[0], &config, &lib.tags, &masked, &original);
    assert!(
        n_in > 5_000 && n_out > 300_000,
        "checked {n_in} inside, {n_out} outside"
    );
    // and the zones really are masked: solid zones are black where the input is not
    let (w, h) = original.dimensions();
    let door = config.zones[0].polygon.to_pixels(w, h);
    let (cx, cy) = (
        door.iter().map(|p| p.0).sum::<f64>() / door.len() as f64,
        door.iter().map(|p| p.1).sum::<f64>() / door.len() as f64,
    );
    let p = png.get_pixel(lib.panels[0].0 + cx as u32, lib.panels[0].1 + cy as u32);
    assert!(p.0.iter().all(|&c| c <= 2), "solid zone not black: {p:?}");
    assert_ne!(original.get_pixel(cx as u32, cy as u32), p);

    // side by side: the original left, the masked frame right
    let sbs = dir.join("sbs.png");
    let o = redact(&[
        OsStr::new("zones"),
        OsStr::new("preview"),
        fixture().as_os_str(),
        OsStr::new("--zones"),
        zones().as_os_str(),
        OsStr::new("--at"),
        OsStr::new("00:02"),
        OsStr::new("--side-by-side"),
        OsStr::new("-o"),
        sbs.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = read_png(&sbs);
    let lib = render_preview(
        &still,
        &config,
        &PreviewOptions {
            side_by_side: true,
            bare: false,
        },
    )
    .unwrap();
    assert!(png == lib.image);
    assert_eq!(lib.panels.len(), 2);
    assert_eq!(png.width(), 2 * w + 8);
    let (l_in, l_out) = check_panel(&png, lib.panels[0], &config, &lib.tags, &original, &original);
    let (r_in, r_out) = check_panel(&png, lib.panels[1], &config, &lib.tags, &masked, &original);
    assert!(l_in > 5_000 && l_out > 300_000 && r_in == l_in && r_out == l_out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn preview_errors_name_the_file_and_leave_nothing() {
    let dir = scratch("zones-preview-bad");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[camera]\nid = \"x\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n[[zones]]\nkind = \"custom\"\nlabel = \"L\"\npolygon = [[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]]\n").unwrap();
    let out = dir.join("p.png");
    let o = redact(&[
        OsStr::new("zones"),
        OsStr::new("preview"),
        fixture().as_os_str(),
        OsStr::new("--zones"),
        bad.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml: zone 0 (\"L\"): point 1 (1.2, 0.1) lies outside 0..1"),
        "{err}"
    );
    let o = redact(&[
        OsStr::new("zones"),
        OsStr::new("preview"),
        dir.join("missing.mp4").as_os_str(),
        OsStr::new("--zones"),
        zones().as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.mp4"));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "only bad.toml is left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn register_lists_every_camera_of_the_directory() {
    let dir = scratch("cameras-report");
    let cams = root().join("fixtures/cameras");
    let stills = dir.join("stills");
    std::fs::create_dir_all(&stills).unwrap();
    std::fs::copy(fixture(), stills.join("vtest-courtyard.mp4")).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(&policy, r#"{"default_days": 28, "cameras": {"garage-b": 7}}"#).unwrap();
    let out = dir.join("register.html");
    let o = redact(&[
        OsStr::new("cameras"),
        OsStr::new("report"),
        cams.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--stills"),
        stills.as_os_str(),
        OsStr::new("--policy"),
        policy.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cams)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3);
    let rows: Vec<&str> = html.split("<tr data-camera=").skip(1).collect();
    assert_eq!(rows.len(), files.len(), "one row per camera");
    for (f, row) in files.iter().zip(&rows) {
        let c = CameraConfig::from_file(f).unwrap();
        assert!(
            row.starts_with(&format!("\"{}\"", c.id)),
            "rows in file order: {row}"
        );
        assert!(row.contains(&c.purposes.join(", ")));
        assert!(row.contains(&c.responsible.replace('\'', "&#39;")), "{row}");
        for z in &c.zones {
            assert!(
                row.contains(&format!(
                    "{}</span>: {}",
                    z.kind.as_str(),
                    z.label.replace('\'', "&#39;")
                )),
                "{row}"
            );
        }
        let days = if c.id == "garage-b" {
            "<td>7 days</td>"
        } else {
            "<td>28 days (default)</td>"
        };
        assert!(row.contains(days), "{row}");
        assert_eq!(
            row.contains("data:image/png;base64,"),
            c.id == "vtest-courtyard",
            "{}",
            c.id
        );
        if let Some((_, rest)) = row.split_once("data:image/png;base64,") {
            // the still is masked like the recording: the window band's centre is black
            use base64::Engine as _;
            let b64 = &rest[..rest.find('"').unwrap()];
            let png = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
            let img = veil::redact::image::load_from_memory(&png).unwrap().to_rgb8();
            let (w, h) = (f64::from(img.width()), f64::from(img.height()));
            let at = |x: f64, y: f64| img.get_pixel((x * w) as u32, (y * h) as u32).0;
            assert!(at(0.585, 0.10).iter().all(|&v| v <= 4), "{:?}", at(0.585, 0.10));
            assert!(at(0.3, 0.8).iter().any(|&v| v > 40), "{:?}", at(0.3, 0.8));
        }
    }
    // a broken zone file in the directory: no register rather than one with a camera missing
    std::fs::create_dir_all(dir.join("cams")).unwrap();
    for f in &files {
        std::fs::copy(f, dir.join("cams").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("cams/broken.toml"), "[camera]\nid = \"b\"\n").unwrap();
    let out2 = dir.join("register2.html");
    let o = redact(&[
        OsStr::new("cameras"),
        OsStr::new("report"),
        dir.join("cams").as_os_str(),
        OsStr::new("-o"),
        out2.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.toml"));
    assert!(!out2.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn preview_of_a_live_stream() {
    let dir = scratch("zones-live");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/live.ts");
    // FFmpeg serves the clip as a live MPEG-TS stream over HTTP, at its real rate, once
    let mut ff = Command::new("ffmpeg")
        .args(["-v", "quiet", "-re", "-i"])
        .arg(fixture())
        .args(["-c", "copy", "-f", "mpegts", "-listen", "1", &url])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let out = dir.join("live.png");
    // the server needs a moment to listen: bounded retries
    let mut last = None;
    for _ in 0..100 {
        let o = redact(&[
            OsStr::new("zones"),
            OsStr::new("preview"),
            OsStr::new(&url),
            OsStr::new("--zones"),
            zones().as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ]);
        if o.status.success() {
            last = None;
            break;
        }
        last = Some(String::from_utf8_lossy(&o.stderr).into_owned());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = ff.kill();
    let _ = ff.wait();
    assert!(last.is_none(), "{last:?}");
    // the same H.264 frames as the file: the same preview as the file's first frame
    let live = read_png(&out);
    let config = CameraConfig::from_file(&zones()).unwrap();
    let still = grab_still(&fixture(), None, &[]).unwrap();
    let file = render_preview(&still, &config, &PreviewOptions::default()).unwrap();
    assert_eq!(live.dimensions(), file.image.dimensions());
    let (x0, y0) = file.panels[0];
    for y in 0..576 {
        for x in 0..768 {
            assert_eq!(
                live.get_pixel(x0 + x, y0 + y),
                file.image.get_pixel(x0 + x, y0 + y),
                "({x}, {y})"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's picture is what the command it shows makes (`VEIL_REGENERATE=1` redraws it).
#[test]
fn readme_zone_preview_is_current() {
    let doc = root().join("docs/zones-preview.png");
    if std::env::var_os("VEIL_REGENERATE").is_some() {
        let o = Command::new(redact_bin())
            .current_dir(root())
            .args([
                "zones",
                "preview",
                "fixtures/vtest.mp4",
                "--zones",
                "fixtures/vtest-zones.toml",
                "--at",
                "2",
                "-o",
                "docs/zones-preview.png",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let config = CameraConfig::from_file(&zones()).unwrap();
    let still = grab_still(&fixture(), Some(2.0), &[]).unwrap();
    let lib = render_preview(&still, &config, &PreviewOptions::default()).unwrap();
    assert!(
        read_png(&doc) == lib.image,
        "docs/zones-preview.png is out of date: VEIL_REGENERATE=1 cargo test --test zones_cli readme"
    );
}
