//! Pictures for the operator, drawn with imageproc and the bundled DejaVu Sans font
//! (assets/DejaVuSans.ttf, from Debian's fonts-dejavu-core, licence beside it):
//!
//! - the contact sheet of `analyze`: one numbered thumbnail per track (its largest clear view
//!   in its first tracklet, the person that `--keep-track N` selects), with the time range of
//!   the track under it (first seen first); tracks too small to show are listed instead of
//!   drawn; in pages of [`PAGE_ROWS`] rows, in the order the tracks were first seen;
//! - the review strip of `export --review`: the kept identity as time-stamped thumbnails along
//!   the window, one a second plus one at every identity event, uncertain stretches marked.
//!   Its cells are cut from the redacted frame (zones and bystanders as in the export); a cell
//!   about a withheld candidate shows that candidate clear within its own boxes only (see
//!   [`CandidateCrop`]), never anyone else.

use std::path::Path;

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut};
use imageproc::rect::Rect;
use veil_core::{BoxF, FrameRef, PixelFormat};
use veil_track::{Class, TrackletId, Tracks};

use crate::manifest::write_atomic;

pub(crate) mod review;
use crate::select::KeepSet;
use crate::withheld::clock;
use crate::{Keeps, RedactError};
pub(crate) use review::*;

/// Edge of a thumbnail cell in pixels.
const CELL: u32 = 160;
/// Height of the label strip above a thumbnail.
const LABEL_H: u32 = 30;
/// Height of the caption strip below a thumbnail.
const CAPTION_H: u32 = 22;
/// Gap between cells.
const GAP: u32 = 8;
/// Cells per row of the contact sheet.
const COLUMNS: u32 = 6;
/// Rows of cells per page of the contact sheet: a long window's tracks go on several pages,
/// each a picture of a size that opens and prints (48 tracks a page).
pub(crate) const PAGE_ROWS: u32 = 8;
/// Review strip cells: width and thumbnail height (people are tall).
const REVIEW_W: u32 = 110;
const REVIEW_H: u32 = 190;
/// Review strip cells per row.
const REVIEW_COLUMNS: u32 = 10;
/// Tracks whose best view is smaller than this (box height, pixels) are left off the sheet:
/// upscaled, they are unreadable blocks that mislead more than they help.
const MIN_FACE_H: f32 = 20.0;
const MIN_BODY_H: f32 = 48.0;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The bundled DejaVu Sans, for every label Veil draws (sheets, review strips, previews).
pub(crate) fn font() -> Result<FontRef<'static>, RedactError> {
    FontRef::try_from_slice(FONT).map_err(|e| RedactError::Internal(format!("bundled font: {e}")))
}

/// One track's thumbnail candidate, kept while the analysis runs.
#[derive(Debug, Clone)]
pub(crate) struct Thumb {
    /// Whether the crop shows a face (preferred over a body).
    pub is_face: bool,
    /// Whether no other person box overlapped it (a view of one person, not two).
    pub clear: bool,
    /// Detector score of the box.
    pub score: f32,
    /// Box height in frame pixels.
    pub box_h: f32,
    /// Box area.
    pub area: f32,
    /// The pixels, scaled to fit the cell.
    pub img: RgbImage,
}

impl Thumb {
    /// Whether a candidate with these properties beats `self`: a face big enough to show
    /// beats a body (a face too small to show does not), a clear view beats an overlapped
    /// one, then the larger box, then the higher score.
    pub fn beaten_by(&self, is_face: bool, clear: bool, score: f32, b: &BoxF) -> bool {
        let area = b.area();
        let (mine, theirs) = (self.is_face && self.big_enough(), is_face && b.h >= MIN_FACE_H);
        if mine != theirs {
            return theirs;
        }
        if clear != self.clear {
            return clear;
        }
        area > self.area || (area == self.area && score > self.score)
    }

    /// Crop `b` (padded by `pad` of its size) from `frame`, scaled to fit `cw` x `ch`.
    pub fn crop_into(frame: &FrameRef<'_>, b: BoxF, pad: f32, cw: u32, ch: u32) -> Option<RgbImage> {
        let size = (frame.width(), frame.height());
        Some(Crop::new(size, b, pad, (cw, ch), |x, y| rgb_at(frame, x, y))?.img)
    }

    /// A contact-sheet thumbnail of `b`.
    pub fn crop(frame: &FrameRef<'_>, b: BoxF, is_face: bool, clear: bool, score: f32) -> Option<Thumb> {
        Some(Thumb {
            is_face,
            clear,
            score,
            box_h: b.h,
            area: b.area(),
            img: Thumb::crop_into(frame, b, 0.25, CELL, CELL)?,
        })
    }

    /// Whether the view is big enough to show.
    fn big_enough(&self) -> bool {
        self.box_h >= if self.is_face { MIN_FACE_H } else { MIN_BODY_H }
    }
}

/// A region of a frame scaled to fit a cell: the pixels, and where they come from.
#[derive(Debug, Clone)]
pub(crate) struct Crop {
    pub img: RgbImage,
    /// The frame region (frame pixels) the picture was scaled from.
    pub region: veil_core::Rect,
    /// Picture pixels per frame pixel.
    pub scale: f32,
}

impl Crop {
    /// `b` padded by `pad` of its size, inside a `size` frame, scaled to fit `cell`; each
    /// picture pixel is `px` of the frame pixel it samples (called in row-major order).
    fn new(
        size: (u32, u32),
        b: BoxF,
        pad: f32,
        cell: (u32, u32),
        mut px: impl FnMut(u32, u32) -> [u8; 3],
    ) -> Option<Crop> {
        let r = b.pad(pad).to_rect().clamp_to(size.0, size.1)?;
        let scale = (cell.0 as f32 / r.w as f32).min(cell.1 as f32 / r.h as f32);
        let w = ((r.w as f32 * scale).round() as u32).clamp(1, cell.0);
        let h = ((r.h as f32 * scale).round() as u32).clamp(1, cell.1);
        let mut img = RgbImage::new(w, h);
        for ty in 0..h {
            let y = (r.y as u32 + ((ty as f32 + 0.5) / scale) as u32).min(size.1 - 1);
            for tx in 0..w {
                let x = (r.x as u32 + ((tx as f32 + 0.5) / scale) as u32).min(size.0 - 1);
                img.put_pixel(tx, ty, Rgb(px(x, y)));
            }
        }
        Some(Crop {
            img,
            region: r,
            scale,
        })
    }
}

/// Whether person detection `i` of `dets` is clear of every other person box (overlap at
/// most 5 % of its area).
pub(crate) fn is_clear(dets: &[veil_track::Detection], i: usize) -> bool {
    let b = &dets[i].bbox;
    let limit = 0.05 * b.area();
    dets.iter().enumerate().all(|(j, o)| {
        if j == i || o.class != Class::Person {
            return true;
        }
        b.intersection_area(&o.bbox) <= limit
    })
}

/// The RGB value of one pixel (BT.601 limited range for YUV).
pub(crate) fn rgb_at(frame: &FrameRef<'_>, x: u32, y: u32) -> [u8; 3] {
    let p = frame.planes();
    let px = |i: usize, xx: u32, yy: u32, bpp: u32, c: u32| -> u8 {
        p.get(i)
            .and_then(|pl| pl.row(yy).get((xx * bpp + c) as usize).copied())
            .unwrap_or(0)
    };
    let yuv = |yv: u8, u: u8, v: u8| -> [u8; 3] {
        let c = (f32::from(yv) - 16.0) * 1.164;
        let (d, e) = (f32::from(u) - 128.0, f32::from(v) - 128.0);
        let cl = |f: f32| f.round().clamp(0.0, 255.0) as u8;
        [
            cl(c + 1.596 * e),
            cl(c - 0.392 * d - 0.813 * e),
            cl(c + 2.017 * d),
        ]
    };
    match frame.format() {
        PixelFormat::I420 => yuv(
            px(0, x, y, 1, 0),
            px(1, x / 2, y / 2, 1, 0),
            px(2, x / 2, y / 2, 1, 0),
        ),
        PixelFormat::Nv12 => yuv(
            px(0, x, y, 1, 0),
            px(1, x / 2, y / 2, 2, 0),
            px(1, x / 2, y / 2, 2, 1),
        ),
        PixelFormat::Rgb24 => [px(0, x, y, 3, 0), px(0, x, y, 3, 1), px(0, x, y, 3, 2)],
        PixelFormat::Bgr24 => [px(0, x, y, 3, 2), px(0, x, y, 3, 1), px(0, x, y, 3, 0)],
        PixelFormat::Rgba => [px(0, x, y, 4, 0), px(0, x, y, 4, 1), px(0, x, y, 4, 2)],
        PixelFormat::Gray8 => {
            let g = px(0, x, y, 1, 0);
            [g, g, g]
        }
    }
}

const BG: Rgb<u8> = Rgb([48, 48, 48]);
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const LIGHT: Rgb<u8> = Rgb([220, 220, 220]);
const RED: Rgb<u8> = Rgb([220, 40, 40]);

fn rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: Rgb<u8>) {
    draw_filled_rect_mut(img, Rect::at(x as i32, y as i32).of_size(w.max(1), h.max(1)), c);
}

fn text(img: &mut RgbImage, f: &FontRef<'_>, x: u32, y: u32, size: f32, c: Rgb<u8>, s: &str) {
    draw_text_mut(img, c, x as i32, y as i32, PxScale::from(size), f, s);
}

/// Render the contact sheet on one page (see [`render_pages`]).
#[cfg(test)]
pub(crate) fn render(
    tracks: &Tracks,
    thumbs: &std::collections::HashMap<u64, Thumb>,
) -> Result<RgbImage, RedactError> {
    let mut pages = render_paged(tracks, thumbs, u32::MAX)?;
    Ok(pages.swap_remove(0))
}

/// Render the contact sheet: tracks in the order they were first seen (ids follow it), each
/// once, with its id on a white strip (blue edge for person tracks, orange for face-only
/// tracks), its thumbnail, and the time range of the track under it; [`PAGE_ROWS`] rows a
/// page, each page saying which it is. Tracks without a view big enough are listed at the
/// bottom of the last page instead. At least one page.
pub(crate) fn render_pages(
    tracks: &Tracks,
    thumbs: &std::collections::HashMap<u64, Thumb>,
) -> Result<Vec<RgbImage>, RedactError> {
    render_paged(tracks, thumbs, PAGE_ROWS)
}

fn render_paged(
    tracks: &Tracks,
    thumbs: &std::collections::HashMap<u64, Thumb>,
    page_rows: u32,
) -> Result<Vec<RgbImage>, RedactError> {
    let f = font()?;
    let fps = tracks.fps();
    let mut shown: Vec<(u64, bool, &Thumb, String)> = Vec::new();
    let mut small: Vec<u64> = Vec::new();
    let mut order: Vec<_> = tracks.tracks().iter().collect();
    order.sort_by_key(|t| (t.first_frame(), t.id()));
    for t in order {
        match thumbs.get(&t.id()).filter(|th| th.big_enough()) {
            Some(th) => shown.push((
                t.id(),
                t.class() == Class::Person,
                th,
                format!("{}-{}", clock(t.first_frame(), fps), clock(t.last_frame(), fps)),
            )),
            None => small.push(t.id()),
        }
    }
    let per_page = (COLUMNS.saturating_mul(page_rows.max(1))) as usize;
    let chunks: Vec<_> = if shown.is_empty() {
        vec![&shown[..]]
    } else {
        shown.chunks(per_page).collect()
    };
    let pages = chunks.len();
    let mut out = Vec::with_capacity(pages);
    for (p, cells) in chunks.into_iter().enumerate() {
        let last = p + 1 == pages;
        let small = if last { &small[..] } else { &[][..] };
        out.push(page(&f, cells, small, (p + 1, pages))?);
    }
    Ok(out)
}

/// One page of the contact sheet: `cells`, the too-small tracks `small` listed under them,
/// and "page k of n" when there are several.
fn page(
    f: &FontRef<'_>,
    cells: &[(u64, bool, &Thumb, String)],
    small: &[u64],
    (k, pages): (usize, usize),
) -> Result<RgbImage, RedactError> {
    let n = cells.len().max(1) as u32;
    let cols = n.min(COLUMNS);
    let rows = n.div_ceil(COLUMNS);
    let footer = if small.is_empty() && pages == 1 { 0 } else { 28 };
    let cell_h = LABEL_H + CELL + CAPTION_H;
    let w = (GAP + cols * (CELL + GAP)).max(420);
    let h = GAP + rows * (cell_h + GAP) + footer;
    let mut img = RgbImage::from_pixel(w, h, BG);
    for (i, (id, is_person, th, span)) in cells.iter().enumerate() {
        let (col, row) = (i as u32 % COLUMNS, i as u32 / COLUMNS);
        let x = GAP + col * (CELL + GAP);
        let y = GAP + row * (cell_h + GAP);
        rect(&mut img, x, y, CELL, LABEL_H, WHITE);
        let edge = if *is_person {
            Rgb([40, 90, 220])
        } else {
            Rgb([240, 140, 20])
        };
        rect(&mut img, x, y, 6, LABEL_H, edge);
        text(&mut img, f, x + 12, y + 3, 24.0, BLACK, &id.to_string());
        rect(&mut img, x, y + LABEL_H, CELL, CELL, Rgb([96, 96, 96]));
        let (tw, thh) = th.img.dimensions();
        image::imageops::overlay(
            &mut img,
            &th.img,
            i64::from(x + (CELL - tw) / 2),
            i64::from(y + LABEL_H + (CELL - thh) / 2),
        );
        text(&mut img, f, x + 4, y + LABEL_H + CELL + 3, 15.0, LIGHT, span);
    }
    if footer > 0 {
        let mut line = if pages > 1 {
            format!("page {k} of {pages}")
        } else {
            String::new()
        };
        if !small.is_empty() {
            let ids: Vec<String> = small.iter().map(u64::to_string).collect();
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!("too small to show (still redacted): {}", ids.join(", ")));
        }
        text(&mut img, f, GAP, h - footer + 4, 15.0, LIGHT, &line);
    }
    Ok(img)
}

/// Where page `k` (from 1) of a contact sheet written to `first` goes: `first` itself for
/// page 1, else `first` with `-k` before its extension (`sheet.png`, `sheet-2.png`, ...).
pub(crate) fn page_path(first: &Path, k: usize) -> std::path::PathBuf {
    if k <= 1 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(e) => format!("{stem}-{k}.{}", e.to_string_lossy()),
        None => format!("{stem}-{k}"),
    };
    first.with_file_name(name)
}

/// Encode an image as PNG and write it atomically.
pub(crate) fn write_png(path: &Path, img: &RgbImage) -> Result<(), RedactError> {
    let (w, h) = img.dimensions();
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let io = |e: png::EncodingError| {
            RedactError::io(path, "cannot encode PNG", std::io::Error::other(e.to_string()))
        };
        let mut wr = enc.write_header().map_err(io)?;
        wr.write_image_data(img.as_raw()).map_err(io)?;
    }
    write_atomic(path, &bytes)
}

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
