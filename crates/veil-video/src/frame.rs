//! The frames and audio packets a [`VideoReader`](crate::VideoReader) hands out: a
//! [`DecodedFrame`] lends veil-core frame views over the decoder's own planes.

use std::path::Path;
use std::sync::Arc;

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{FrameMut, FrameRef, PixelFormat};

use crate::VideoError;

/// One decoded video frame of the window, owning a reference to the decoder's frame.
///
/// It is `Send`, so a pipeline can hand it from a decode thread to a masking or encoding
/// thread.
pub struct DecodedFrame {
    index: u64,
    pts: i64,
    time: f64,
    format: PixelFormat,
    pub(crate) frame: ff::frame::Video,
    path: Arc<Path>,
}

impl std::fmt::Debug for DecodedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedFrame")
            .field("index", &self.index)
            .field("pts", &self.pts)
            .field("time", &self.time)
            .field("format", &self.format)
            .finish()
    }
}

impl DecodedFrame {
    pub(crate) fn new(
        index: u64,
        pts: i64,
        time: f64,
        format: PixelFormat,
        frame: ff::frame::Video,
        path: Arc<Path>,
    ) -> Self {
        DecodedFrame {
            index,
            pts,
            time,
            format,
            frame,
            path,
        }
    }

    /// Position of the frame in the window, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }
    /// Presentation timestamp, in [`VideoInfo::time_base`](crate::VideoInfo::time_base) units,
    /// as in the input.
    pub fn pts(&self) -> i64 {
        self.pts
    }
    /// Presentation time in seconds from the start of the input.
    pub fn time(&self) -> f64 {
        self.time
    }
    /// Pixel format of the views ([`VideoInfo::format`](crate::VideoInfo::format)).
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// A writable view over the frame's planes, for masking in place.
    ///
    /// Decoders keep references to the frames they output (as references for the next
    /// frames), so when the buffers are shared they are first copied into buffers of our
    /// own (`av_frame_make_writable`): masking must never alter a reference frame, or the
    /// mask would bleed into, or be predicted from, later frames. When nothing else holds
    /// the buffers (the usual case for non-reference frames and converted frames), there
    /// is no copy.
    ///
    /// # Errors
    /// [`VideoError::Frame`] if the planes do not form a valid frame (not expected after
    /// the checks at open), [`VideoError::Decode`] if the copy could not be allocated.
    pub fn frame_mut(&mut self) -> Result<FrameMut<'_>, VideoError> {
        // SAFETY: `self.frame` wraps a valid, allocated AVFrame (decoded or converted).
        let rc = unsafe {
            let p = self.frame.as_mut_ptr();
            if ffi::av_frame_is_writable(p) == 0 {
                ffi::av_frame_make_writable(p)
            } else {
                0
            }
        };
        if rc < 0 {
            return Err(VideoError::Decode {
                path: self.path.to_path_buf(),
                time: Some(self.time),
                reason: format!("cannot make frame writable: {}", ff::Error::from(rc)),
            });
        }
        let planes = self.plane_ptrs()?;
        let planes: Vec<(*mut u8, usize)> = planes.into_iter().map(|(p, s)| (p.cast_mut(), s)).collect();
        // SAFETY: the frame is writable (its buffers are referenced by this AVFrame only),
        // FFmpeg allocated each plane with at least `linesize * rows` bytes (plus padding),
        // the planes are distinct buffers or disjoint parts of one, and `&mut self` keeps
        // the AVFrame and its buffers alive and unaliased for the view's lifetime.
        unsafe { FrameMut::from_raw_parts(self.format, self.frame.width(), self.frame.height(), &planes) }
            .map_err(|source| VideoError::Frame {
                path: self.path.to_path_buf(),
                source,
            })
    }

    /// A read-only view over the frame's planes (no copy).
    ///
    /// # Errors
    /// [`VideoError::Frame`] if the planes do not form a valid frame.
    pub fn frame_ref(&self) -> Result<FrameRef<'_>, VideoError> {
        let planes = self.plane_ptrs()?;
        // SAFETY: FFmpeg allocated each plane with at least `linesize * rows` bytes, and
        // `&self` keeps the AVFrame's buffer references alive for the view's lifetime;
        // nobody writes to a frame's buffers while a reader holds a reference to them.
        unsafe { FrameRef::from_raw_parts(self.format, self.frame.width(), self.frame.height(), &planes) }
            .map_err(|source| VideoError::Frame {
                path: self.path.to_path_buf(),
                source,
            })
    }

    fn plane_ptrs(&self) -> Result<Vec<(*const u8, usize)>, VideoError> {
        let n = self.format.plane_count();
        // SAFETY: reading the data/linesize arrays of a valid AVFrame.
        let (data, linesize) = unsafe {
            let p = self.frame.as_ptr();
            ((*p).data, (*p).linesize)
        };
        (0..n)
            .map(|i| {
                // Negative line sizes (bottom-up images) cannot be expressed as a veil-core view.
                let stride = usize::try_from(linesize[i]).map_err(|_| VideoError::Decode {
                    path: self.path.to_path_buf(),
                    time: Some(self.time),
                    reason: format!("plane {i} has a negative line size {}", linesize[i]),
                })?;
                Ok((data[i].cast_const(), stride))
            })
            .collect()
    }
}

/// One audio packet of the window, copied as is (no re-encoding) into the output.
pub struct AudioPacket {
    pub(crate) packet: ff::Packet,
    pub(crate) time_base: ff::Rational,
    pub(crate) time: f64,
}

impl std::fmt::Debug for AudioPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioPacket")
            .field("time", &self.time)
            .field("size", &self.packet.size())
            .finish()
    }
}

impl AudioPacket {
    /// Presentation time in seconds from the start of the input (the video's timeline).
    pub fn time(&self) -> f64 {
        self.time
    }
}
