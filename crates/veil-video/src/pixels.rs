//! Pixel normalisation: every frame the reader hands out has the size announced at open and
//! one of the two layouts veil-core views without copying (I420 or NV12). Full-range
//! YUVJ420P is relabelled; any other decoder format is converted once with swscale.

use std::path::Path;
use std::sync::Arc;

use ffmpeg_next as ff;
use veil_core::PixelFormat;

use crate::convert::Scaler;
use crate::probe::VideoInfo;
use crate::VideoError;

/// Brings decoded frames to the announced geometry and format, upright.
pub(crate) struct Normaliser {
    path: Arc<Path>,
    /// The decoded (coded) size, before any turn.
    width: u32,
    height: u32,
    format: PixelFormat,
    /// Degrees to turn clockwise (see [`VideoInfo::rotation`]); frames are then I420.
    rotation: u16,
    /// The converter of the last frame that needed one, kept while the source format stays.
    scaler: Option<Scaler>,
}

impl Normaliser {
    pub(crate) fn new(path: Arc<Path>, info: &VideoInfo) -> Self {
        let (width, height) = match info.rotation {
            90 | 270 => (info.height, info.width),
            _ => (info.width, info.height),
        };
        Normaliser {
            path,
            width,
            height,
            format: info.format,
            rotation: info.rotation,
            scaler: None,
        }
    }

    /// The frame at time `t` (seconds, for errors) in the announced format.
    ///
    /// # Errors
    /// [`VideoError::GeometryChanged`] when its size differs from the one announced (zones
    /// are rasterised for one geometry), [`VideoError::Decode`] when it cannot be converted.
    pub(crate) fn normalise(
        &mut self,
        frame: ff::frame::Video,
        t: f64,
    ) -> Result<ff::frame::Video, VideoError> {
        let frame = self.convert(frame, t)?;
        Ok(match self.rotation {
            0 => frame,
            r => turn_i420(&frame, r),
        })
    }

    /// The frame in the announced format, at the coded size.
    fn convert(&mut self, mut frame: ff::frame::Video, t: f64) -> Result<ff::frame::Video, VideoError> {
        if frame.width() != self.width || frame.height() != self.height {
            return Err(VideoError::GeometryChanged {
                path: self.path.to_path_buf(),
                time: t,
                reason: format!(
                    "{}x{} became {}x{}",
                    self.width,
                    self.height,
                    frame.width(),
                    frame.height()
                ),
            });
        }
        Ok(match (frame.format(), self.format) {
            (ff::format::Pixel::YUV420P, PixelFormat::I420)
            | (ff::format::Pixel::NV12, PixelFormat::Nv12) => frame,
            (ff::format::Pixel::YUVJ420P, PixelFormat::I420) => {
                // Same layout, full-range levels: relabel, remembered in `info.full_range`.
                frame.set_format(ff::format::Pixel::YUV420P);
                frame.set_color_range(ff::color::Range::JPEG);
                frame
            }
            (src, _) => {
                let dst = if self.format == PixelFormat::Nv12 {
                    ff::format::Pixel::NV12
                } else {
                    ff::format::Pixel::YUV420P
                };
                let err = |reason| VideoError::Decode {
                    path: self.path.to_path_buf(),
                    time: Some(t),
                    reason,
                };
                let scaler = match self.scaler.take() {
                    Some(s) if s.matches(src, dst) => s,
                    _ => Scaler::new(src, dst, self.width, self.height).map_err(err)?,
                };
                let out = scaler.convert(&frame).map_err(err)?;
                self.scaler = Some(scaler);
                out
            }
        })
    }
}

/// I420 frame `src` turned clockwise by `degrees` (90, 180 or 270), plane by plane; the
/// colour range and timestamps are kept.
pub(crate) fn turn_i420(src: &ff::frame::Video, degrees: u16) -> ff::frame::Video {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let (dw, dh) = if degrees == 180 { (w, h) } else { (h, w) };
    let mut dst = ff::frame::Video::new(ff::format::Pixel::YUV420P, dw as u32, dh as u32);
    dst.set_color_range(src.color_range());
    dst.set_pts(src.pts());
    for plane in 0..3 {
        let (pw, ph) = if plane == 0 {
            (w, h)
        } else {
            (w.div_ceil(2), h.div_ceil(2))
        };
        let (ss, ds) = (src.stride(plane), dst.stride(plane));
        let s = src.data(plane);
        let d = dst.data_mut(plane);
        let (dpw, dph) = if degrees == 180 { (pw, ph) } else { (ph, pw) };
        for y in 0..dph {
            let row = &mut d[y * ds..y * ds + dpw];
            for (x, out) in row.iter_mut().enumerate() {
                // Where the pixel at (x, y) of the turned picture comes from.
                let (sx, sy) = match degrees {
                    90 => (y, ph - 1 - x),
                    180 => (pw - 1 - x, ph - 1 - y),
                    _ => (pw - 1 - y, x),
                };
                *out = s[sy * ss + sx];
            }
        }
    }
    dst
}
