//! Unit tests of the contact sheet and the review strip.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use veil_core::Frame;
use veil_track::{Track, TrackBox};

use super::*;

fn tb(frame: u64, x: f32, h: f32) -> TrackBox {
    TrackBox {
        frame,
        bbox: BoxF::new(x, 10.0, h / 2.0, h),
        score: 0.9,
        interpolated: false,
    }
}

#[test]
fn contact_sheet_labels_cells_and_leaves_out_tiny_tracks() {
    let t1 = Track::new(
        1,
        Class::Person,
        vec![tb(0, 10.0, 100.0), tb(25, 10.0, 100.0)],
        vec![],
    )
    .unwrap();
    let t2 = Track::new(2, Class::Person, vec![tb(5, 120.0, 30.0)], vec![]).unwrap();
    let tracks = Tracks::new(200, 120, 25.0, vec![t1, t2]).unwrap();
    let mut frame = Frame::new(PixelFormat::Rgb24, 200, 120).unwrap();
    {
        let mut m = frame.as_mut();
        for y in 0..120 {
            for v in m.planes_mut()[0].row_mut(y).iter_mut() {
                *v = 200;
            }
        }
    }
    let mut thumbs = HashMap::new();
    let view = frame.as_ref();
    thumbs.insert(
        1,
        Thumb::crop(&view, BoxF::new(10.0, 10.0, 50.0, 100.0), false, true, 0.9).unwrap(),
    );
    thumbs.insert(
        2,
        Thumb::crop(&view, BoxF::new(120.0, 10.0, 15.0, 30.0), false, true, 0.9).unwrap(),
    );
    let img = render(&tracks, &thumbs).unwrap();
    // One cell (track 2 is too small) plus the footer line.
    assert_eq!(img.height(), GAP + LABEL_H + CELL + CAPTION_H + GAP + 28);
    // The label strip has dark text pixels (the id) on white.
    let dark = (GAP + 12..GAP + 40)
        .flat_map(|x| (GAP + 3..GAP + LABEL_H - 3).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 100)
        .count();
    assert!(dark > 10, "the id is drawn: {dark} dark pixels");
    // The caption under the cell has light text (the time range).
    let y0 = GAP + LABEL_H + CELL;
    let light = (GAP..GAP + CELL)
        .flat_map(|x| (y0..y0 + CAPTION_H).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] > 150)
        .count();
    assert!(light > 20, "the time range is drawn: {light}");
    // The thumbnail (grey 200) is in the cell.
    assert_eq!(
        img.get_pixel(GAP + CELL / 2, GAP + LABEL_H + CELL / 2).0,
        [200, 200, 200]
    );
}

/// The operator picks the requester by the number on a cell: every cell's number must be
/// the id of the track whose thumbnail it shows. Tracks with scattered ids get thumbnails
/// of distinct colours; each cell's label strip must equal, pixel for pixel, a strip
/// with the id of the track its thumbnail's colour belongs to.
#[test]
fn contact_sheet_cell_numbers_are_the_track_ids() {
    let ids = [17u64, 3, 42, 5, 9, 110, 28, 2];
    let colour = |id: u64| [(id * 2) as u8, (250 - id * 2) as u8, (id * 7 % 256) as u8];
    let tracks = Tracks::new(
        200,
        120,
        25.0,
        ids.iter()
            .map(|&id| Track::new(id, Class::Person, vec![tb(id, 10.0, 100.0)], vec![]).unwrap())
            .collect(),
    )
    .unwrap();
    let mut thumbs = HashMap::new();
    for &id in &ids {
        let mut frame = Frame::new(PixelFormat::Rgb24, 200, 120).unwrap();
        {
            let mut m = frame.as_mut();
            for y in 0..120 {
                for px in m.planes_mut()[0].row_mut(y).chunks_exact_mut(3) {
                    px.copy_from_slice(&colour(id));
                }
            }
        }
        let th = Thumb::crop(
            &frame.as_ref(),
            BoxF::new(10.0, 10.0, 50.0, 100.0),
            false,
            true,
            0.9,
        )
        .unwrap();
        thumbs.insert(id, th);
    }
    let img = render(&tracks, &thumbs).unwrap();
    let f = font().unwrap();
    let cell_h = LABEL_H + CELL + CAPTION_H;
    let mut seen = Vec::new();
    for i in 0..ids.len() as u32 {
        let (x, y) = (
            GAP + (i % COLUMNS) * (CELL + GAP),
            GAP + (i / COLUMNS) * (cell_h + GAP),
        );
        let centre = img.get_pixel(x + CELL / 2, y + LABEL_H + CELL / 2).0;
        let id = *ids
            .iter()
            .find(|&&id| colour(id) == centre)
            .unwrap_or_else(|| panic!("cell {i}: thumbnail colour {centre:?} is no track's"));
        let mut want = RgbImage::from_pixel(CELL, LABEL_H, WHITE);
        text(&mut want, &f, 12, 3, 24.0, BLACK, &id.to_string());
        for ly in 0..LABEL_H {
            for lx in 6..CELL {
                assert_eq!(
                    img.get_pixel(x + lx, y + ly),
                    want.get_pixel(lx, ly),
                    "cell {i} shows track {id} but its label differs at ({lx}, {ly})"
                );
            }
        }
        seen.push(id);
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    assert_eq!(seen, sorted, "cells in id order, each track once");
}

#[test]
fn review_strip_marks_uncertain_cells() {
    let mk = |uncertain| ReviewCell {
        frame: 0,
        time: 1.0,
        tracklet: Some(TrackletId::new(3, 2)),
        uncertain,
        event: None,
        img: Some(RgbImage::from_pixel(50, 100, Rgb([10, 200, 10]))),
        source: None,
    };
    let img = render_review(&[mk(false), mk(true)]).unwrap();
    let y = 34 + LABEL_H + REVIEW_H / 2;
    // Cell 0: framed grey/green, no red frame; cell 1: red frame on its left edge.
    assert_ne!(img.get_pixel(GAP, y).0, RED.0);
    assert_eq!(img.get_pixel(GAP + REVIEW_W + GAP, y).0, RED.0);
    assert_eq!(img.get_pixel(GAP + REVIEW_W / 2, y).0, [10, 200, 10]);
}

/// A 200x120 RGB frame of one colour.
fn plain_frame(c: [u8; 3]) -> Frame {
    let mut frame = Frame::new(PixelFormat::Rgb24, 200, 120).unwrap();
    {
        let mut m = frame.as_mut();
        for y in 0..120 {
            for px in m.planes_mut()[0].row_mut(y).chunks_exact_mut(3) {
                px.copy_from_slice(&c);
            }
        }
    }
    frame
}

fn one_box(frame: u64, b: BoxF) -> TrackBox {
    TrackBox {
        frame,
        bbox: b,
        score: 0.9,
        interpolated: false,
    }
}

/// The frame pixel a review cell's picture pixel `(tx, ty)` samples.
fn sampled(cell: &ReviewCell, tx: u32, ty: u32) -> (f32, f32) {
    let (r, scale) = cell.source.unwrap();
    let x = r.x as u32 + ((tx as f32 + 0.5) / scale) as u32;
    let y = r.y as u32 + ((ty as f32 + 0.5) / scale) as u32;
    (x as f32 + 0.5, y as f32 + 0.5)
}

const GREY: [u8; 3] = [200, 200, 200];

/// A withheld candidate's cell: clear (the zone-masked frame, grey here) exactly inside the
/// candidate's own box padded as a kept box and outside everyone else's padded box (another
/// person beside it, a face track over it, a small person far behind it); everything else is
/// the export's pixels (black here).
#[test]
fn a_candidate_cell_shows_the_candidate_alone_clear() {
    let cand = BoxF::new(20.0, 10.0, 40.0, 100.0);
    let beside = BoxF::new(62.0, 10.0, 40.0, 100.0);
    let face = BoxF::new(30.0, 20.0, 10.0, 10.0);
    let far = BoxF::new(45.0, 60.0, 8.0, 20.0);
    let tracks = Tracks::new(
        200,
        120,
        25.0,
        vec![
            Track::new(1, Class::Person, vec![one_box(0, cand)], vec![]).unwrap(),
            Track::new(2, Class::Person, vec![one_box(0, beside)], vec![]).unwrap(),
            Track::new(3, Class::Face, vec![one_box(0, face)], vec![]).unwrap(),
            Track::new(4, Class::Person, vec![one_box(0, far)], vec![]).unwrap(),
        ],
    )
    .unwrap();
    let pick = ReviewPick {
        id: 1,
        tracklet: Some(TrackletId::new(1, 1)),
        bbox: cand,
        is_face: false,
        uncertain: true,
    };
    let (masked, redacted) = (plain_frame(GREY), plain_frame([0, 0, 0]));
    let pad = crate::Padding::default();
    let crop = CandidateCrop::new(&masked.as_ref(), &tracks, 0, &pick, &pad).unwrap();
    let cell = review_cell(&redacted.as_ref(), Some(&crop), Some(&pick), 0, 0.0, None);
    assert!(cell.uncertain);
    let img = cell.img.as_ref().unwrap();
    let (mut clear, mut dark) = (0, 0);
    for (tx, ty, px) in img.enumerate_pixels() {
        let (x, y) = sampled(&cell, tx, ty);
        let want = cand.pad(pad.requester).contains(x, y)
            && !beside.pad(pad.body).contains(x, y)
            && !face.pad(pad.face).contains(x, y)
            && !far.pad(pad.body).contains(x, y);
        assert_eq!(px.0, if want { GREY } else { [0, 0, 0] }, "({x}, {y})");
        if want {
            clear += 1;
        } else {
            dark += 1;
        }
    }
    assert!(clear > 1000 && dark > 100, "{clear} clear, {dark} redacted");

    // The same cell about a kept person, or with nothing of the candidate clear: the export's
    // pixels only.
    for (candidate, uncertain) in [(None, false), (None, true)] {
        let p = ReviewPick { uncertain, ..pick };
        let cell = review_cell(&redacted.as_ref(), candidate, Some(&p), 0, 0.0, None);
        assert!(cell.img.unwrap().pixels().all(|px| px.0 == [0, 0, 0]));
    }
}

/// While the candidate is together with another person of about its size (their boxes
/// overlapping as at an identity event), either may be in its box: nothing is shown clear.
#[test]
fn a_candidate_together_with_someone_is_not_shown_clear() {
    let cand = BoxF::new(20.0, 10.0, 40.0, 100.0);
    let pick = ReviewPick {
        id: 1,
        tracklet: None,
        bbox: cand,
        is_face: false,
        uncertain: true,
    };
    let masked = plain_frame(GREY);
    for (other, together) in [
        (BoxF::new(40.0, 12.0, 40.0, 96.0), true),   // half over it
        (BoxF::new(54.0, 10.0, 40.0, 100.0), false), // 15 % of it: beside it
        (BoxF::new(30.0, 40.0, 20.0, 45.0), false),  // far behind (less than half its height)
    ] {
        let tracks = Tracks::new(
            200,
            120,
            25.0,
            vec![
                Track::new(1, Class::Person, vec![one_box(0, cand)], vec![]).unwrap(),
                Track::new(2, Class::Person, vec![one_box(0, other)], vec![]).unwrap(),
            ],
        )
        .unwrap();
        let crop = CandidateCrop::new(&masked.as_ref(), &tracks, 0, &pick, &crate::Padding::default());
        assert_eq!(crop.is_none(), together, "{other:?}");
    }
}

/// The places the strip reports are where it draws each picture, and the frame regions the
/// pictures were scaled from.
#[test]
fn review_places_are_where_the_pictures_are_drawn() {
    let frame = plain_frame(GREY);
    let pick = |x: f32, h: f32| ReviewPick {
        id: 1,
        tracklet: Some(TrackletId::new(1, 1)),
        bbox: BoxF::new(x, 5.0, 30.0, h),
        is_face: false,
        uncertain: false,
    };
    let mut cells: Vec<ReviewCell> = (0..13)
        .map(|i| {
            let p = pick(5.0 * i as f32, 40.0 + 5.0 * i as f32);
            review_cell(&frame.as_ref(), None, Some(&p), i, i as f64, None)
        })
        .collect();
    // One cell with nobody in view: no picture, no place.
    cells.insert(4, review_cell(&frame.as_ref(), None, None, 99, 4.5, None));
    for (i, c) in cells.iter_mut().enumerate() {
        if let Some(img) = &mut c.img {
            for px in img.pixels_mut() {
                *px = Rgb([i as u8, 7, 9]);
            }
        }
    }
    let strip = render_review(&cells).unwrap();
    let places = review_places(&cells);
    assert_eq!(places.len(), 13);
    for p in &places {
        let i = cells.iter().position(|c| c.frame == p.frame).unwrap();
        let [x, y, w, h] = p.png;
        assert_eq!((w, h), cells[i].img.as_ref().unwrap().dimensions());
        for (px, py) in [(x, y), (x + w - 1, y + h - 1), (x + w / 2, y + h / 2)] {
            assert_eq!(
                strip.get_pixel(px, py).0,
                [i as u8, 7, 9],
                "cell {i} at ({px}, {py})"
            );
        }
        let (r, scale) = cells[i].source.unwrap();
        assert_eq!(p.region, [r.x as u32, r.y as u32, r.w, r.h]);
        assert_eq!(p.scale, scale);
    }
}

#[test]
fn a_long_window_s_contact_sheet_shows_each_track_once_in_pages_by_first_seen() {
    // 50 person tracks, numbered against the order they were first seen (track 50 first),
    // each big enough to show, and one too small: 48 a page.
    let n = 50u64;
    let mut all: Vec<Track> = (1..=n)
        .map(|id| Track::new(id, Class::Person, vec![tb((n - id) * 10, 10.0, 100.0)], vec![]).unwrap())
        .collect();
    all.push(Track::new(n + 1, Class::Person, vec![tb(0, 120.0, 30.0)], vec![]).unwrap());
    let tracks = Tracks::new(200, 120, 10.0, all).unwrap();
    let frame = Frame::new(PixelFormat::Rgb24, 200, 120).unwrap();
    let view = frame.as_ref();
    let mut thumbs = HashMap::new();
    for id in 1..=n {
        thumbs.insert(
            id,
            Thumb::crop(&view, BoxF::new(10.0, 10.0, 50.0, 100.0), false, true, 0.9).unwrap(),
        );
    }
    thumbs.insert(
        n + 1,
        Thumb::crop(&view, BoxF::new(120.0, 10.0, 15.0, 30.0), false, true, 0.9).unwrap(),
    );
    let pages = render_pages(&tracks, &thumbs).unwrap();
    assert_eq!(pages.len(), 2, "48 tracks a page");
    let cell_h = LABEL_H + CELL + CAPTION_H;
    // A full page of 8 rows, and a last page with the 2 tracks left in one row; both say
    // which page they are (the footer), the last also lists the track too small to show.
    assert_eq!(pages[0].height(), GAP + PAGE_ROWS * (cell_h + GAP) + 28);
    assert_eq!(pages[1].height(), GAP + (cell_h + GAP) + 28);
    let single = render(&tracks, &thumbs).unwrap();
    assert_eq!(
        single.height(),
        GAP + 9 * (cell_h + GAP) + 28,
        "one page holds all 50 once"
    );
    // The names of the pages.
    let first = std::path::Path::new("/x/sheet.png");
    assert_eq!(page_path(first, 1), first);
    assert_eq!(page_path(first, 2), std::path::Path::new("/x/sheet-2.png"));
    assert_eq!(
        page_path(std::path::Path::new("s"), 3),
        std::path::Path::new("s-3")
    );
}
