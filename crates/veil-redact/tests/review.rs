//! The review strip and the contact sheet protect others (issue 25), end to end with the real
//! models on clips built from real photographs (as tests/identity.rs: two people cut out of
//! fixtures/images/group_t1.jpg, moving over the CCTV scene of fixtures/images/vtest_f000.jpg).
//!
//! - The strip's cells are cut from the redacted frame: in a meeting no bystander's face is
//!   recognisable in any cell (the correlation rule of tests/identity.rs, on the face as the
//!   cell shows it), while the requester's face is (the operator must be able to judge).
//! - Zones are masked in the cells, even inside the candidate's own box, and in the contact
//!   sheet's thumbnails.
//! - The strip is never written over the input or another output, and goes with a withdrawn
//!   export.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};
use veil_audit::{Action, LegalBasis, NewEntry, Timestamp};
use veil_redact::{
    analyze, export, AnalyzeOptions, ExportAudit, ExportOptions, ExportReport, RedactError, Requester,
};

#[path = "support/thumb.rs"]
mod thumb;
use thumb::{detail, down16, luma, pearson};

#[path = "support/dirs.rs"]
mod dirs;
use dirs::listing;

fn out_dir(name: &str) -> PathBuf {
    dirs::out_dir("veil-review-tests", name)
}

#[path = "support/photo_clips.rs"]
mod photo_clips;
use photo_clips::{face_at, face_in_view, fixture, photos, Encoder, Person, H, W};

fn person(i: usize) -> &'static Person {
    if i == 0 {
        &photos().requester
    } else {
        &photos().bystander
    }
}

/// A rendered clip: its path and, per frame, each person's face box if fully in view, and
/// the part of the bystander's face in view (a face half hidden can still be recognised).
struct Clip {
    path: PathBuf,
    faces: Vec<[Option<[f32; 4]>; 2]>,
    bystander_seen: Vec<Option<[f32; 4]>>,
}

/// Render `frames` frames, people drawn back to front at (person, left x), and encode them
/// with ffmpeg (x264, near lossless).
fn render(dir: &Path, frames: u64, layout: impl Fn(u64) -> Vec<(usize, f32)>) -> Clip {
    let path = dir.join("clip.mp4");
    let mut enc = Encoder::create(&path);
    let (mut faces, mut bystander_seen) = (Vec::new(), Vec::new());
    for n in 0..frames {
        let mut f = photos().background.clone();
        let mut rects: Vec<(usize, [f32; 4])> = Vec::new();
        for (who, x) in layout(n) {
            let p = person(who);
            let y = H as f32 - p.img.height() as f32;
            imageops::overlay(&mut f, &p.img, x as i64, y as i64);
            rects.push((who, [x, y, p.img.width() as f32, p.img.height() as f32]));
        }
        // A face counts as in view when it is inside the frame and no later patch covers it.
        let mut row = [None, None];
        for (k, &(who, r)) in rects.iter().enumerate() {
            let fb = face_at(person(who), r);
            if face_in_view(fb, rects[k + 1..].iter().map(|o| o.1)) {
                row[who] = Some(fb);
            }
        }
        faces.push(row);
        bystander_seen.push(
            rects
                .iter()
                .enumerate()
                .find(|(_, r)| r.0 == 1)
                .and_then(|(k, &(_, r))| {
                    seen_part(face_at(person(1), r), rects[k + 1..].iter().map(|o| o.1))
                }),
        );
        enc.frame(&f);
    }
    enc.finish();
    Clip {
        path,
        faces,
        bystander_seen,
    }
}

/// The part of face box `fb` inside the frame that the patches drawn after it leave in view
/// (they cover it from the side: people's patches are taller than a face), if at least a
/// third of its width.
fn seen_part(fb: [f32; 4], later: impl Iterator<Item = [f32; 4]>) -> Option<[f32; 4]> {
    let (mut x0, mut x1) = (fb[0].max(0.0), (fb[0] + fb[2]).min(W as f32));
    for o in later {
        if o[0] >= x1 || o[0] + o[2] <= x0 || o[1] >= fb[1] + fb[3] || o[1] + o[3] <= fb[1] {
            continue;
        }
        if o[1] > fb[1] || o[1] + o[3] < fb[1] + fb[3] {
            return None; // covered from above or below: not a case these clips draw
        }
        // Keep the wider side left in view.
        if o[0] - x0 >= x1 - (o[0] + o[2]) {
            x1 = x1.min(o[0]);
        } else {
            x0 = x0.max(o[0] + o[2]);
        }
    }
    (x1 - x0 >= fb[2] / 3.0 && fb[1] >= 0.0).then_some([x0, fb[1], x1 - x0, fb[3]])
}

/// Meet and turn back (tests/identity.rs): the two walk towards each other, stand
/// overlapping for a second, then each goes back the way they came.
fn meet_layout(n: u64, requester_in_front: bool) -> Vec<(usize, f32)> {
    let (rx, bx) = match n {
        0..=13 => (20.0 + 10.0 * n as f32, 460.0 - 19.0 * n as f32),
        14..=25 => (150.0, 213.0),
        _ => (150.0 - 10.0 * (n - 25) as f32, 213.0 + 19.0 * (n - 25) as f32),
    };
    if requester_in_front {
        vec![(1, bx), (0, rx)]
    } else {
        vec![(0, rx), (1, bx)]
    }
}

/// The meeting with the bystander in front (their face in view while they overlap).
fn meeting(name: &str) -> Clip {
    render(&out_dir(name), 40, |n| meet_layout(n, false))
}

/// The export of `clip` keeping the requester (picked on their face on frame 0), with a
/// review strip beside it.
fn export_with_review(clip: &Clip, zones: Option<&Path>) -> (ExportReport, RgbImage) {
    let face = clip.faces[0][0].expect("requester in view at the pick");
    let review = clip.path.with_file_name("review.png");
    let mut o = ExportOptions::new(&clip.path, clip.path.with_file_name("export.mp4"));
    o.review = Some(review.clone());
    o.zones = zones.map(Path::to_path_buf);
    o.requester = Requester::At {
        time: 0.0,
        x: face[0] + face[2] / 2.0,
        y: face[1] + face[3] / 2.0,
    };
    let rep = export(&o).unwrap();
    let strip = image::open(&review).unwrap().to_rgb8();
    assert!(!rep.review_cells.is_empty());
    (rep, strip)
}

/// The luma (BT.601) of a strip pixel, on the video's limited range, so that a strip region
/// and the same region of a decoded frame compare directly.
fn strip_luma(strip: &RgbImage, x: u32, y: u32) -> u8 {
    let [r, g, b] = strip.get_pixel(x, y).0;
    let l = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    (16.0 + l * 219.0 / 255.0).round() as u8
}

/// How recognisable face box `fb` of frame `n` is in a review cell: the part of the face
/// inside the cell's frame region, as the cell shows it (the strip's pixels mapped back
/// through the cell's scale), against the same part of the original frame. `None` when less
/// than half of `fb` is in the cell. (pearson, detail correlation), as in tests/identity.rs.
fn face_in_cell(
    strip: &RgbImage,
    cell: &veil_redact::ReviewPlace,
    fb: [f32; 4],
    orig: &[u8],
) -> Option<(f64, f64)> {
    let [rx, ry, rw, rh] = cell.region.map(|v| v as f32);
    let (x0, y0) = (fb[0].max(rx), fb[1].max(ry));
    let (x1, y1) = ((fb[0] + fb[2]).min(rx + rw), (fb[1] + fb[3]).min(ry + rh));
    if (x1 - x0) * (y1 - y0) < 0.5 * fb[2] * fb[3] || x1 <= x0 || y1 <= y0 {
        return None;
    }
    let part = [x0, y0, x1 - x0, y1 - y0];
    // The cell's picture of the part, as a luma plane the size of the frame region (each
    // frame pixel takes the strip pixel it is shown in), so down16 reads both alike.
    let [px, py, pw, ph] = cell.png;
    let mut shown = vec![0u8; (W * H) as usize];
    for y in y0 as u32..y1.ceil() as u32 {
        for x in x0 as u32..x1.ceil() as u32 {
            let tx = (((x as f32 - rx) + 0.5) * cell.scale) as u32;
            let ty = (((y as f32 - ry) + 0.5) * cell.scale) as u32;
            shown[(y * W + x) as usize] = strip_luma(strip, px + tx.min(pw - 1), py + ty.min(ph - 1));
        }
    }
    let (p, q) = (down16(orig, W, part), down16(&shown, W, part));
    Some((pearson(&p, &q), pearson(&detail(&p), &detail(&q))))
}

/// Meet and turn back with the bystander in front: they stand overlapping, and part; the
/// cells of the meeting are withheld, and the bystander's face is inside their regions. In
/// every cell of the review strip the bystander's face is unrecognisable (the rule of
/// tests/identity.rs: correlation below 0.9 and detail correlation below 0.4), and the
/// requester's face is recognisable in some cells (the operator can judge the candidate, and
/// this test can see a face where one is shown).
#[test]
fn a_meeting_review_strip_shows_no_bystander_face() {
    let name = "meeting";
    let clip = meeting(name);
    let (rep, strip) = export_with_review(&clip, None);
    let (w, _, orig) = luma(&clip.path);
    assert_eq!(w, W);
    let (mut bystander_checked, mut requester_shown, mut withheld) = (0, 0, 0);
    let mut worst = (f64::MIN, f64::MIN);
    for cell in &rep.review_cells {
        let n = cell.frame as usize;
        withheld += usize::from(cell.uncertain);
        if let Some(fb) = clip.bystander_seen[n] {
            if let Some((r, d)) = face_in_cell(&strip, cell, fb, &orig[n]) {
                bystander_checked += 1;
                worst = (worst.0.max(r), worst.1.max(d));
                assert!(
                    r < 0.9 && d < 0.4,
                    "{name}: review cell of frame {n} ({:?}, withheld: {}): bystander face \
                     correlation {r:.3}/{d:.3} (still recognisable)",
                    cell.tracklet,
                    cell.uncertain
                );
            }
        }
        if let Some(fb) = clip.faces[n][0] {
            if let Some((r, d)) = face_in_cell(&strip, cell, fb, &orig[n]) {
                eprintln!(
                    "{name}: frame {n} ({:?}, withheld: {}): requester face {r:.3}/{d:.3}",
                    cell.tracklet, cell.uncertain
                );
                requester_shown += usize::from(r > 0.9 && d > 0.6);
            }
        }
    }
    eprintln!(
        "{name}: {} cells, {withheld} withheld; bystander face checked in {bystander_checked} \
         (highest correlation {:.3}/{:.3}), requester recognisable in {requester_shown}",
        rep.review_cells.len(),
        worst.0,
        worst.1
    );
    assert!(
        bystander_checked > 0,
        "{name}: no cell shows where the bystander's face is"
    );
    assert!(
        requester_shown > 0,
        "{name}: the requester is recognisable in no cell"
    );
}

/// Catching up (tests/identity.rs): the requester catches up with the bystander, they walk
/// on together, then the bystander stops and the requester walks on, passing in front of
/// the bystander's face. After they part, the requester's body is withheld (never seen apart
/// clearly enough for a decisive link). Those cells show the candidate clear (face and body:
/// the operator can judge), apart from everyone else; the bystander stays unrecognisable in
/// every cell.
#[test]
fn a_withheld_candidate_apart_from_others_is_shown_clear_and_no_one_else() {
    let clip = render(&out_dir("catch-up"), 48, |n| {
        let rx = 10.0 + 10.0 * n as f32;
        let bx = match n {
            0..=11 => 200.0 + 2.0 * n as f32,
            12..=29 => rx + 90.0,
            _ => 390.0,
        };
        vec![(1, bx), (0, rx)]
    });
    let (rep, strip) = export_with_review(&clip, None);
    let (_, _, orig) = luma(&clip.path);
    let mut candidate_clear = 0;
    for cell in &rep.review_cells {
        let n = cell.frame as usize;
        if let Some(fb) = clip.bystander_seen[n] {
            if let Some((r, d)) = face_in_cell(&strip, cell, fb, &orig[n]) {
                assert!(r < 0.9 && d < 0.4, "frame {n}: bystander face {r:.3}/{d:.3}");
            }
        }
        if let (true, Some(fb)) = (cell.uncertain, clip.faces[n][0]) {
            if let Some((r, d)) = face_in_cell(&strip, cell, fb, &orig[n]) {
                eprintln!("frame {n}: withheld candidate's face {r:.3}/{d:.3}");
                candidate_clear += usize::from(r > 0.9 && d > 0.6);
            }
        }
    }
    eprintln!(
        "withheld: {:?}",
        rep.manifest
            .withheld
            .iter()
            .map(|w| &w.reason)
            .collect::<Vec<_>>()
    );
    assert!(
        candidate_clear > 0,
        "the withheld candidate is shown clear in no cell"
    );
}

/// A zone over the top of the picture (where the heads are): every strip pixel taken from
/// inside it is black, in kept and withheld cells alike (zones win over the candidate's own
/// box), and the strip still shows the rest.
#[test]
fn review_cells_mask_the_zones() {
    let clip = meeting("zones");
    let zones = clip.path.with_file_name("zones.toml");
    // y up to 0.4 of the frame (144 px): over every face of the clip.
    std::fs::write(
        &zones,
        "[camera]\nid = \"test\"\npurposes = [\"safety\"]\nresponsible = \"test\"\n\n[[zones]]\nkind = \"custom\"\nlabel = \"top\"\n\
         polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.4], [0.0, 0.4]]\nstyle = \"solid\"\n",
    )
    .unwrap();
    let (rep, strip) = export_with_review(&clip, Some(&zones));
    let zone_bottom = 0.4 * H as f32;
    let (mut inside, mut outside_lit, mut withheld) = (0, 0, 0);
    for cell in &rep.review_cells {
        withheld += usize::from(cell.uncertain);
        let [px, py, pw, ph] = cell.png;
        for ty in 0..ph {
            let y = cell.region[1] as f32 + (ty as f32 + 0.5) / cell.scale;
            for tx in 0..pw {
                let rgb = strip.get_pixel(px + tx, py + ty).0;
                if cell.uncertain && rgb == [220, 40, 40] {
                    continue; // the red frame of a withheld cell, drawn over the picture's edge
                }
                if y < zone_bottom - 2.0 {
                    inside += 1;
                    assert!(
                        rgb.iter().all(|&c| c <= 8),
                        "frame {} ({:?}, withheld: {}): pixel of the zone shown as {rgb:?}",
                        cell.frame,
                        cell.tracklet,
                        cell.uncertain
                    );
                } else if y > zone_bottom + 2.0 && rgb.iter().any(|&c| c > 40) {
                    outside_lit += 1;
                }
            }
        }
    }
    eprintln!("zones: {inside} strip pixels in the zone, {withheld} withheld cells");
    assert!(inside > 1000, "the cells reach into the zone");
    assert!(outside_lit > 1000, "the cells show the picture below the zone");
}

/// A copy of a small clip in a fresh directory (its hash checked after each refusal).
fn small_input(name: &str) -> (PathBuf, PathBuf, String) {
    let d = out_dir(name);
    let input = d.join("recording.mp4");
    std::fs::copy(fixture("hostile/small.mp4"), &input).unwrap();
    let hash = veil_redact::sha256_file(&input).unwrap();
    (d, input, hash)
}

#[test]
fn a_review_strip_over_the_input_or_another_output_is_refused() {
    let (d, input, hash) = small_input("refused");
    let link = d.join("also-the-recording.mp4");
    std::fs::hard_link(&input, &link).unwrap();
    let out = d.join("export.mp4");
    let cases: Vec<(PathBuf, &str)> = vec![
        (input.clone(), "input"),
        (d.join(".").join("recording.mp4"), "input"),
        (link.clone(), "input"),
        (out.clone(), "output"),
        (d.join("export.mp4.manifest.json"), "manifest"),
        (d.join("tracks.json"), "tracks output"),
    ];
    for (review, what) in cases {
        let mut o = ExportOptions::new(&input, &out);
        o.tracks_out = Some(d.join("tracks.json"));
        o.review = Some(review.clone());
        let e = export(&o).unwrap_err();
        assert!(matches!(e, RedactError::InvalidOption { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("review strip {}", review.display()))
                && msg.contains(&format!("would overwrite the {what}")),
            "{msg}"
        );
        assert_eq!(
            veil_redact::sha256_file(&input).unwrap(),
            hash,
            "the input changed"
        );
        assert_eq!(listing(&d), ["also-the-recording.mp4", "recording.mp4"]);
    }
}

/// An export whose audit entry cannot be appended (the log is a directory) is withdrawn: its
/// review strip goes with the video and the manifest. So does a strip written before a step
/// that fails (a manifest in a directory that does not exist).
#[test]
fn a_withdrawn_export_leaves_no_review_strip() {
    let (d, input, hash) = small_input("withdrawn");
    let log = d.join("audit-log-dir");
    std::fs::create_dir(&log).unwrap();
    let entry = NewEntry::new("j.jansen", Action::Export, "inzage request")
        .basis("inzage:REQ-7".parse::<LegalBasis>().unwrap())
        .camera("lobby");
    let start = Timestamp::parse("2026-03-01T09:00:00Z").unwrap();
    let mut o = ExportOptions::new(&input, d.join("export.mp4"));
    o.review = Some(d.join("review.png"));
    o.audit = Some(ExportAudit::new(&log, entry, Vec::new(), start));
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::ExportWithdrawn { .. }), "{e}");
    assert_eq!(listing(&d), ["audit-log-dir", "recording.mp4"]);

    o.audit = None;
    o.manifest = Some(d.join("no-such-dir/export.json"));
    let e = export(&o).unwrap_err();
    assert!(matches!(e, RedactError::Io { .. }), "{e}");
    assert_eq!(listing(&d), ["audit-log-dir", "recording.mp4"]);

    // The control: nothing broken, every file stays.
    o.manifest = None;
    export(&o).unwrap();
    assert_eq!(
        listing(&d),
        [
            "audit-log-dir",
            "export.mp4",
            "export.mp4.manifest.json",
            "recording.mp4",
            "review.png"
        ]
    );
    assert_eq!(veil_redact::sha256_file(&input).unwrap(), hash);
}

/// The pixels of contact sheet cell `i`'s thumbnail area that are neither black nor the
/// cell's grey background (the sheet's layout: 6 columns of 160 px cells with a 30 px label
/// strip, 8 px apart).
fn sheet_cell_lit(sheet: &RgbImage, i: u32) -> usize {
    let (col, row) = (i % 6, i / 6);
    let (x0, y0) = (8 + col * 168, 8 + row * (30 + 160 + 22 + 8) + 30);
    (y0..y0 + 160)
        .flat_map(|y| (x0..x0 + 160).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = sheet.get_pixel(x, y).0;
            p != [96, 96, 96] && p.iter().any(|&c| c > 8)
        })
        .count()
}

/// `analyze --zones`: the contact sheet's thumbnails are cut from frames with the zones
/// masked (a zone over the whole picture: every thumbnail is black), while the detectors
/// still see the people (the same tracks as without zones). The sheet is refused over the
/// input, the tracks file or the zone file.
#[test]
fn the_contact_sheet_masks_the_zones() {
    let clip = render(&out_dir("sheet"), 12, |n| meet_layout(n, false));
    let d = clip.path.parent().unwrap().to_path_buf();
    let zones = d.join("zones.toml");
    std::fs::write(
        &zones,
        "[camera]\nid = \"test\"\npurposes = [\"safety\"]\nresponsible = \"test\"\n\n[[zones]]\nkind = \"custom\"\nlabel = \"all\"\n\
         polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]\nstyle = \"solid\"\n",
    )
    .unwrap();
    let sheet_of = |zones: Option<&Path>, name: &str| {
        let mut o = AnalyzeOptions::new(&clip.path, d.join(format!("{name}.json")));
        o.contact_sheet = Some(d.join(format!("{name}.png")));
        o.zones = zones.map(Path::to_path_buf);
        let rep = analyze(&o).unwrap();
        let sheet = image::open(d.join(format!("{name}.png"))).unwrap().to_rgb8();
        (rep.tracks.len(), sheet)
    };
    let (n_plain, plain) = sheet_of(None, "plain");
    let (n_masked, masked) = sheet_of(Some(&zones), "masked");
    assert_eq!(n_plain, n_masked, "the zones do not change what is detected");
    assert!(n_plain >= 2, "both people are tracks: {n_plain}");
    let cells = (plain.width() - 8) / 168 * ((plain.height() - 8) / 220).max(1);
    let lit: Vec<usize> = (0..cells.min(n_plain as u32))
        .map(|i| sheet_cell_lit(&plain, i))
        .collect();
    assert!(
        lit.iter().filter(|&&l| l > 1000).count() >= 2,
        "thumbnails without zones: {lit:?}"
    );
    for i in 0..cells.min(n_masked as u32) {
        assert_eq!(sheet_cell_lit(&masked, i), 0, "cell {i}: the zone is not masked");
    }
    for (sheet, what) in [
        (clip.path.clone(), "input"),
        (d.join("t.json"), "tracks file"),
        (zones.clone(), "zone file"),
    ] {
        let mut o = AnalyzeOptions::new(&clip.path, d.join("t.json"));
        o.contact_sheet = Some(sheet);
        o.zones = Some(zones.clone());
        let e = analyze(&o).unwrap_err();
        assert!(
            e.to_string().contains(&format!("would overwrite the {what}"))
                || what == "input" && e.to_string().contains("is the input"),
            "{e}"
        );
    }
}
