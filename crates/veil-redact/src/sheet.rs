//! The contact sheet: one numbered thumbnail per track, so an operator can point at the
//! requester by number.

use std::path::Path;

use veil_core::{BoxF, FrameRef, PixelFormat};

use crate::manifest::write_atomic;
use crate::RedactError;

/// Edge of a thumbnail cell in pixels.
const CELL: u32 = 160;
/// Height of the label strip above a thumbnail.
const LABEL_H: u32 = 28;
/// Gap between cells.
const GAP: u32 = 8;
/// Cells per row.
const COLUMNS: u32 = 6;
/// Pixel scale of the 3x5 digit font.
const FONT_SCALE: u32 = 4;

/// 3x5 bitmap digits, one row per byte (bits 2..0 are the columns, left to right).
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b001, 0b001, 0b001],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// One track's thumbnail candidate, kept while the analysis runs.
#[derive(Debug, Clone)]
pub(crate) struct Thumb {
    /// Whether the crop shows a face (preferred over a body).
    pub is_face: bool,
    /// Detector score of the box.
    pub score: f32,
    /// Box area.
    pub area: f32,
    /// RGB pixels, `w * h * 3`.
    pub rgb: Vec<u8>,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Thumb {
    /// Whether a candidate with these properties beats `self` (same rule as
    /// [`veil_track::Track::best_thumbnail_box`]: a face beats a body, then the higher score,
    /// then the larger area).
    pub fn beaten_by(&self, is_face: bool, score: f32, area: f32) -> bool {
        if is_face != self.is_face {
            return is_face;
        }
        score > self.score || (score == self.score && area > self.area)
    }

    /// Crop `b` (padded by a quarter of its size) from `frame`, scaled to fit a cell.
    pub fn crop(frame: &FrameRef<'_>, b: BoxF, is_face: bool, score: f32) -> Option<Thumb> {
        let r = b.pad(0.25).to_rect().clamp_to(frame.width(), frame.height())?;
        let scale = (CELL as f32 / r.w as f32).min(CELL as f32 / r.h as f32);
        let w = ((r.w as f32 * scale).round() as u32).clamp(1, CELL);
        let h = ((r.h as f32 * scale).round() as u32).clamp(1, CELL);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for ty in 0..h {
            let y = r.y as u32 + ((ty as f32 + 0.5) / scale) as u32;
            let y = y.min(frame.height() - 1);
            for tx in 0..w {
                let x = r.x as u32 + ((tx as f32 + 0.5) / scale) as u32;
                rgb.extend_from_slice(&rgb_at(frame, x.min(frame.width() - 1), y));
            }
        }
        Some(Thumb {
            is_face,
            score,
            area: b.area(),
            rgb,
            w,
            h,
        })
    }
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

/// An RGB canvas.
struct Canvas {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32, bg: [u8; 3]) -> Canvas {
        Canvas {
            w,
            h,
            px: bg.repeat((w * h) as usize),
        }
    }
    fn rect(&mut self, x: u32, y: u32, w: u32, h: u32, c: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                let i = ((yy * self.w + xx) * 3) as usize;
                self.px[i..i + 3].copy_from_slice(&c);
            }
        }
    }
    fn text(&mut self, x: u32, y: u32, n: u64, c: [u8; 3]) {
        for (k, ch) in n.to_string().bytes().enumerate() {
            let glyph = DIGITS[usize::from(ch - b'0')];
            let gx = x + k as u32 * 4 * FONT_SCALE;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..3u32 {
                    if bits & (0b100 >> col) != 0 {
                        self.rect(
                            gx + col * FONT_SCALE,
                            y + row as u32 * FONT_SCALE,
                            FONT_SCALE,
                            FONT_SCALE,
                            c,
                        );
                    }
                }
            }
        }
    }
    fn blit(&mut self, x: u32, y: u32, t: &Thumb) {
        for ty in 0..t.h {
            for tx in 0..t.w {
                let (cx, cy) = (x + tx, y + ty);
                if cx < self.w && cy < self.h {
                    let s = ((ty * t.w + tx) * 3) as usize;
                    let d = ((cy * self.w + cx) * 3) as usize;
                    self.px[d..d + 3].copy_from_slice(&t.rgb[s..s + 3]);
                }
            }
        }
    }
}

/// Render the sheet: cells in track id order, each with the id in large digits on a white
/// strip (blue edge for person tracks, orange for face-only tracks) above the thumbnail.
pub(crate) fn render(cells: &[(u64, bool, Option<&Thumb>)]) -> (u32, u32, Vec<u8>) {
    let n = cells.len().max(1) as u32;
    let cols = n.min(COLUMNS);
    let rows = n.div_ceil(COLUMNS);
    let w = GAP + cols * (CELL + GAP);
    let h = GAP + rows * (CELL + LABEL_H + GAP);
    let mut c = Canvas::new(w, h, [48, 48, 48]);
    for (i, &(id, is_person, thumb)) in cells.iter().enumerate() {
        let (col, row) = (i as u32 % COLUMNS, i as u32 / COLUMNS);
        let x = GAP + col * (CELL + GAP);
        let y = GAP + row * (CELL + LABEL_H + GAP);
        c.rect(x, y, CELL, LABEL_H, [255, 255, 255]);
        let edge = if is_person { [40, 90, 220] } else { [240, 140, 20] };
        c.rect(x, y, 6, LABEL_H, edge);
        c.text(x + 12, y + (LABEL_H - 5 * FONT_SCALE) / 2, id, [0, 0, 0]);
        c.rect(x, y + LABEL_H, CELL, CELL, [96, 96, 96]);
        if let Some(t) = thumb {
            c.blit(x + (CELL - t.w) / 2, y + LABEL_H + (CELL - t.h) / 2, t);
        }
    }
    (w, h, c.px)
}

/// Encode RGB pixels as PNG and write them atomically.
pub(crate) fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), RedactError> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let io = |e: png::EncodingError| {
            RedactError::io(path, "cannot encode PNG", std::io::Error::other(e.to_string()))
        };
        let mut wr = enc.write_header().map_err(io)?;
        wr.write_image_data(rgb).map_err(io)?;
    }
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_drawn() {
        let (w, h, px) = render(&[(7, true, None), (12, false, None)]);
        assert_eq!(w, GAP + 2 * (CELL + GAP));
        assert_eq!(h, GAP + CELL + LABEL_H + GAP);
        // The top row of a "7" is three font pixels wide: black inside the label strip.
        let x = GAP + 12 + FONT_SCALE;
        let y = GAP + (LABEL_H - 5 * FONT_SCALE) / 2;
        let i = ((y * w + x) * 3) as usize;
        assert_eq!(&px[i..i + 3], &[0, 0, 0]);
        // Below it, the 7's middle column is empty: white.
        let i = (((y + FONT_SCALE) * w + x) * 3) as usize;
        assert_eq!(&px[i..i + 3], &[255, 255, 255]);
    }
}
