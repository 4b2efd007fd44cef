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
    };
    let img = render_review(&[mk(false), mk(true)]).unwrap();
    let y = 34 + LABEL_H + REVIEW_H / 2;
    // Cell 0: framed grey/green, no red frame; cell 1: red frame on its left edge.
    assert_ne!(img.get_pixel(GAP, y).0, RED.0);
    assert_eq!(img.get_pixel(GAP + REVIEW_W + GAP, y).0, RED.0);
    assert_eq!(img.get_pixel(GAP + REVIEW_W / 2, y).0, [10, 200, 10]);
}
