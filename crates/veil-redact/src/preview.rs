//! Zone previews: a camera's frame masked exactly as [`CaptureMasker`] masks it at capture
//! time, with each zone's outline and number drawn on top and a legend below (kind, style,
//! label), for the operator who sets a camera up and for the people who must approve it.
//!
//! ```no_run
//! use veil_core::CameraConfig;
//! use veil_redact::preview::{grab_still, render_preview, PreviewOptions};
//! # fn main() -> Result<(), veil_redact::RedactError> {
//! let config = CameraConfig::from_file("zones.toml".as_ref())?;
//! let still = grab_still("recording.mp4".as_ref(), Some(2.0), &[])?;
//! let preview = render_preview(&still, &config, &PreviewOptions::default())?;
//! veil_redact::preview::write_png("preview.png".as_ref(), &preview.image)?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use ab_glyph::{FontRef, PxScale};
use image::{ImageEncoder as _, Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_line_segment_mut, draw_text_mut, text_size};
use imageproc::rect::Rect as DrawRect;
use veil_core::{CameraConfig, CaptureMasker, Frame, FrameRef, Rect, ZoneKind};
use veil_video::{ReadOptions, VideoReader};

use crate::manifest::write_atomic;
use crate::sheet::font;
use crate::RedactError;

/// Width of a zone outline in pixels.
pub const OUTLINE: u32 = 3;
/// Height of the caption strip above each panel.
const CAPTION_H: u32 = 26;
/// Height of one legend line.
const LEGEND_LINE: u32 = 22;
/// Font size of the tags, captions and legend.
const TEXT_PX: f32 = 16.0;

/// One decoded frame of a camera, kept in the decoder's pixel format (so masking it is
/// exactly what capture-time masking does to that camera's frames).
#[derive(Debug, Clone)]
pub struct Still {
    /// The frame.
    pub frame: Frame,
    /// Its presentation time in seconds.
    pub time: f64,
    /// The input it came from (URLs without their credentials).
    pub source: PathBuf,
}

/// Decode the first frame at or after `at` seconds (`None`: the first frame) of anything
/// [`VideoReader`] opens: a recording, a still image, a live URL. Encrypted footage: open it
/// with [`veil_record::PlainInput`] (decrypted in memory) and pass its path, as `redact zones
/// preview --key` does.
///
/// # Errors
/// [`RedactError::Video`] when the input cannot be opened or decoded,
/// [`RedactError::EmptyWindow`] when it has no frame at or after `at`.
pub fn grab_still(
    input: &Path,
    at: Option<f64>,
    input_options: &[(String, String)],
) -> Result<Still, RedactError> {
    let opts = ReadOptions {
        from: at,
        input_options: input_options.to_vec(),
        ..ReadOptions::default()
    };
    let mut reader = VideoReader::open(input, &opts)?;
    let Some(decoded) = reader.next_frame()? else {
        return Err(RedactError::EmptyWindow {
            path: reader.path().to_path_buf(),
            from: at,
            to: None,
        });
    };
    let frame = Frame::from_ref(&decoded.frame_ref()?);
    Ok(Still {
        frame,
        time: decoded.time(),
        source: reader.path().to_path_buf(),
    })
}

/// A copy of `frame` masked by `config`'s zones with the real [`CaptureMasker`].
///
/// # Errors
/// [`RedactError::Mask`] if the masker refuses the frame geometry.
pub fn masked_copy(frame: &Frame, config: &CameraConfig) -> Result<Frame, RedactError> {
    let mask_err = |source| RedactError::Mask {
        path: PathBuf::from(format!("zones of camera {}", config.id)),
        frame: 0,
        source,
    };
    let masker =
        CaptureMasker::new(config, frame.width(), frame.height(), frame.format()).map_err(mask_err)?;
    let mut out = frame.clone();
    masker.apply(&mut out.as_mut()).map_err(mask_err)?;
    Ok(out)
}

/// A frame as RGB (BT.601 limited range for YUV, as on the contact sheet).
pub fn frame_to_rgb(frame: &FrameRef<'_>) -> RgbImage {
    let (w, h) = (frame.width(), frame.height());
    let mut img = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            img.put_pixel(x, y, Rgb(crate::sheet::rgb_at(frame, x, y)));
        }
    }
    img
}

/// What [`render_preview`] draws.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PreviewOptions {
    /// The original frame on the left, the masked frame on the right.
    pub side_by_side: bool,
    /// Leave out the captions and the legend: just the frame(s) with outlines and tags.
    pub bare: bool,
}

/// A rendered preview and where things are in it.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The picture.
    pub image: RgbImage,
    /// Top-left corner of each frame panel in the picture: the masked panel, or the
    /// original then the masked panel with [`PreviewOptions::side_by_side`].
    pub panels: Vec<(u32, u32)>,
    /// The zone-number tags, in frame coordinates (the same in every panel), clipped to it.
    pub tags: Vec<Rect>,
}

/// Outline colour of a zone kind.
pub fn kind_color(kind: ZoneKind) -> [u8; 3] {
    match kind {
        ZoneKind::DwellingDoor => [255, 64, 32],
        ZoneKind::DwellingWindow => [255, 200, 0],
        ZoneKind::Workplace => [230, 60, 230],
        ZoneKind::PublicRoad => [0, 200, 255],
        ZoneKind::Custom => [60, 230, 90],
    }
}

/// Draw zone outlines and number tags on a frame-sized panel at `origin` of `img`; returns
/// the tag rectangles in frame coordinates.
fn draw_zones(
    img: &mut RgbImage,
    origin: (u32, u32),
    config: &CameraConfig,
    w: u32,
    h: u32,
    font: &FontRef<'_>,
) -> Vec<Rect> {
    let (ox, oy) = (origin.0 as f32, origin.1 as f32);
    let scale = PxScale::from(TEXT_PX);
    let mut tags = Vec::with_capacity(config.zones.len());
    for (i, z) in config.zones.iter().enumerate() {
        let color = Rgb(kind_color(z.kind));
        let pts = z.polygon.to_pixels(w, h);
        let half = (OUTLINE / 2) as i32;
        for k in 0..pts.len() {
            let (a, b) = (pts[k], pts[(k + 1) % pts.len()]);
            // clamp to the last pixel so edges on the frame's border stay visible
            let cl = |(x, y): (f64, f64)| {
                (
                    (x as f32).clamp(0.0, w as f32 - 1.0),
                    (y as f32).clamp(0.0, h as f32 - 1.0),
                )
            };
            let (a, b) = (cl(a), cl(b));
            for dy in -half..=half {
                for dx in -half..=half {
                    let (fx, fy) = (dx as f32, dy as f32);
                    draw_line_segment_mut(
                        img,
                        (ox + a.0 + fx, oy + a.1 + fy),
                        (ox + b.0 + fx, oy + b.1 + fy),
                        color,
                    );
                }
            }
        }
        // the tag: the zone's number, at the top-left of its bounding box, inside the frame
        let text = format!("{}", i + 1);
        let (tw, th) = text_size(scale, font, &text);
        let (tag_w, tag_h) = (tw + 8, th.max(12) + 6);
        let min_x = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min).max(0.0) as u32;
        let min_y = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min).max(0.0) as u32;
        let tx = min_x.min(w.saturating_sub(tag_w));
        let ty = min_y.min(h.saturating_sub(tag_h));
        let tag = Rect::new(tx as i32, ty as i32, tag_w.min(w), tag_h.min(h));
        draw_filled_rect_mut(
            img,
            DrawRect::at((origin.0 + tx) as i32, (origin.1 + ty) as i32).of_size(tag.w.max(1), tag.h.max(1)),
            color,
        );
        draw_text_mut(
            img,
            Rgb([0, 0, 0]),
            (origin.0 + tx + 4) as i32,
            (origin.1 + ty + 2) as i32,
            scale,
            font,
            &text,
        );
        tags.push(tag);
    }
    tags
}

/// Shorten `text` with an ellipsis until it fits `max_w` pixels.
fn fit(text: &str, max_w: u32, scale: PxScale, font: &FontRef<'_>) -> String {
    if text_size(scale, font, text).0 <= max_w {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if text_size(scale, font, &s).0 <= max_w {
            return s;
        }
    }
    String::new()
}

/// Render the preview of `still` with `config`'s zones: the frame masked by the real
/// [`CaptureMasker`], each zone's outline (coloured by kind) and number on top; above each
/// panel a caption, below a legend with the camera, the time of the frame and one line per
/// zone (number, kind, style, label).
///
/// # Errors
/// [`RedactError::Mask`] if the zones cannot be applied to this frame geometry.
pub fn render_preview(
    still: &Still,
    config: &CameraConfig,
    opts: &PreviewOptions,
) -> Result<Preview, RedactError> {
    let font = font()?;
    let scale = PxScale::from(TEXT_PX);
    let (w, h) = (still.frame.width(), still.frame.height());
    let masked = frame_to_rgb(&masked_copy(&still.frame, config)?.as_ref());
    let original = opts.side_by_side.then(|| frame_to_rgb(&still.frame.as_ref()));
    let gap = if opts.side_by_side { 8 } else { 0 };
    let n_panels = if opts.side_by_side { 2 } else { 1 };
    let total_w = n_panels * w + gap * (n_panels - 1);
    let top = if opts.bare { 0 } else { CAPTION_H };
    let legend_h = if opts.bare {
        0
    } else {
        10 + LEGEND_LINE * (config.zones.len() as u32 + 1)
    };
    let mut img = RgbImage::from_pixel(total_w, top + h + legend_h, Rgb([255, 255, 255]));
    let mut panels = Vec::new();
    let mut captions = Vec::new();
    if let Some(orig) = &original {
        image::imageops::replace(&mut img, orig, 0, i64::from(top));
        panels.push((0, top));
        captions.push("Camera view (not recorded like this)");
    }
    let mx = if opts.side_by_side { w + gap } else { 0 };
    image::imageops::replace(&mut img, &masked, i64::from(mx), i64::from(top));
    panels.push((mx, top));
    captions.push("As recorded: zones masked at capture time");
    let mut tags = Vec::new();
    for (k, &origin) in panels.iter().enumerate() {
        tags = draw_zones(&mut img, origin, config, w, h, &font);
        if !opts.bare {
            let cap = fit(captions[k], w.saturating_sub(8), scale, &font);
            draw_text_mut(
                &mut img,
                Rgb([0, 0, 0]),
                (origin.0 + 4) as i32,
                4,
                scale,
                &font,
                &cap,
            );
        }
    }
    if !opts.bare {
        let y0 = top + h + 6;
        let head = format!(
            "Camera {} · purposes: {} · responsible: {} · frame at {:.2} s",
            config.id,
            config.purposes.join(", "),
            config.responsible,
            still.time
        );
        let head = fit(&head, total_w.saturating_sub(8), scale, &font);
        draw_text_mut(&mut img, Rgb([0, 0, 0]), 4, y0 as i32, scale, &font, &head);
        for (i, z) in config.zones.iter().enumerate() {
            let y = y0 + LEGEND_LINE * (i as u32 + 1);
            draw_filled_rect_mut(
                &mut img,
                DrawRect::at(4, y as i32).of_size(24, 18),
                Rgb(kind_color(z.kind)),
            );
            draw_text_mut(
                &mut img,
                Rgb([0, 0, 0]),
                8,
                y as i32,
                scale,
                &font,
                &format!("{}", i + 1),
            );
            let line = format!("{} · {} · {}", z.kind.as_str(), z.style.as_str(), z.label);
            let line = fit(&line, total_w.saturating_sub(40), scale, &font);
            draw_text_mut(&mut img, Rgb([0, 0, 0]), 34, y as i32, scale, &font, &line);
        }
    }
    Ok(Preview {
        image: img,
        panels,
        tags,
    })
}

/// Encode an RGB picture as PNG.
///
/// # Errors
/// [`RedactError::Internal`] if the encoder fails (not expected for an in-memory picture).
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, RedactError> {
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| RedactError::Internal(format!("PNG encoding: {e}")))?;
    Ok(bytes)
}

/// Write an RGB picture as PNG, atomically.
///
/// # Errors
/// [`RedactError::Io`] naming `path`.
pub fn write_png(path: &Path, img: &RgbImage) -> Result<(), RedactError> {
    // files are kept (in documents, registers): smallest encoding; `png_bytes` stays fast
    // for the editor's live preview
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| RedactError::Internal(format!("PNG encoding: {e}")))?;
    write_atomic(path, &bytes)
}
