//! Size checks, the pixel format decoded frames are handed out in, and pixel-format
//! conversion (swscale), shared by the reader and the writer.

use std::path::Path;

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{PixelFormat, MAX_DIMENSION, MAX_PIXELS};

use crate::VideoError;

/// Refuse sizes veil-core cannot view as 4:2:0 frames and libx264 cannot encode as 4:2:0.
pub(crate) fn check_size(path: &Path, width: u32, height: u32) -> Result<(), VideoError> {
    let err = |reason: &str| {
        Err(VideoError::UnsupportedSize {
            path: path.to_path_buf(),
            width,
            height,
            reason: reason.to_string(),
        })
    };
    if width == 0 || height == 0 {
        return err("the stream does not declare a frame size");
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return err("larger than Veil's maximum frame size");
    }
    if (width | height) & 1 != 0 {
        return err("4:2:0 video needs an even width and height (crop or pad the input by one pixel first)");
    }
    Ok(())
}

/// The format frames of a decoder's `format` are handed out in, and whether its levels are
/// full range ("JPEG") given the decoder's colour range.
pub(crate) fn output_format(format: ff::format::Pixel, range: ff::color::Range) -> (PixelFormat, bool) {
    let out = match format {
        ff::format::Pixel::NV12 => PixelFormat::Nv12,
        _ => PixelFormat::I420,
    };
    let full_range = matches!(format, ff::format::Pixel::YUVJ420P) || range == ff::color::Range::JPEG;
    (out, full_range)
}

/// A swscale context converting frames of one size from one pixel format to another.
pub(crate) struct Scaler {
    ctx: *mut ffi::SwsContext,
    src: ff::format::Pixel,
    dst: ff::format::Pixel,
    width: u32,
    height: u32,
}

// SAFETY: an SwsContext has no affinity to the thread that created it; `Scaler` owns it
// exclusively and only uses it through `&self` methods that are never called concurrently
// (`Scaler` is not `Sync`).
unsafe impl Send for Scaler {}

impl Scaler {
    /// A converter for `width` x `height` frames from `src` to `dst` (same size, bicubic
    /// only matters for chroma).
    pub(crate) fn new(
        src: ff::format::Pixel,
        dst: ff::format::Pixel,
        width: u32,
        height: u32,
    ) -> Result<Self, String> {
        let (w, h) = (width as i32, height as i32);
        // SAFETY: plain constructor call; a null result is handled below.
        let ctx = unsafe {
            ffi::sws_getContext(
                w,
                h,
                src.into(),
                w,
                h,
                dst.into(),
                ffi::SWS_BICUBIC,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
            )
        };
        if ctx.is_null() {
            return Err(format!("cannot convert pixel format {src:?} to {dst:?}"));
        }
        Ok(Scaler {
            ctx,
            src,
            dst,
            width,
            height,
        })
    }

    pub(crate) fn matches(&self, src: ff::format::Pixel, dst: ff::format::Pixel) -> bool {
        self.src == src && self.dst == dst
    }

    /// Convert raw planes (`ptrs`/`strides` as sws_scale takes them) into a new frame.
    ///
    /// # Safety
    /// `ptrs`/`strides` must describe a readable `width` x `height` image in `src` format.
    pub(crate) unsafe fn convert_raw(
        &self,
        ptrs: &[*const u8; 4],
        strides: &[i32; 4],
    ) -> Result<ff::frame::Video, String> {
        let mut out = ff::frame::Video::new(self.dst, self.width, self.height);
        // SAFETY: the caller vouches for the source; `out` was just allocated for the
        // destination format and size; `self.ctx` was created for exactly these.
        let rc = unsafe {
            let o = out.as_mut_ptr();
            ffi::sws_scale(
                self.ctx,
                ptrs.as_ptr(),
                strides.as_ptr(),
                0,
                self.height as i32,
                (*o).data.as_ptr(),
                (*o).linesize.as_ptr(),
            )
        };
        if rc < 0 {
            return Err(format!("pixel format conversion failed: {}", ff::Error::from(rc)));
        }
        Ok(out)
    }

    /// Convert a decoded frame into a new frame of the destination format.
    pub(crate) fn convert(&self, frame: &ff::frame::Video) -> Result<ff::frame::Video, String> {
        if frame.format() != self.src || frame.width() != self.width || frame.height() != self.height {
            return Err("frame does not match the converter".into());
        }
        // SAFETY: reading the plane pointers and line sizes of a valid decoded frame.
        let (ptrs, strides) = unsafe {
            let p = frame.as_ptr();
            let d = (*p).data;
            let l = (*p).linesize;
            (
                [
                    d[0].cast_const(),
                    d[1].cast_const(),
                    d[2].cast_const(),
                    d[3].cast_const(),
                ],
                [l[0], l[1], l[2], l[3]],
            )
        };
        // SAFETY: a decoded frame of `src` format and this size (checked above).
        let mut out = unsafe { self.convert_raw(&ptrs, &strides)? };
        out.set_pts(frame.pts());
        out.set_color_range(frame.color_range());
        Ok(out)
    }
}

impl Drop for Scaler {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from sws_getContext and is freed once, here.
        unsafe { ffi::sws_freeContext(self.ctx) }
    }
}
