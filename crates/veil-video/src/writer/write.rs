//! Writing to a [`VideoWriter`]: frames are converted if needed, encoded (uploaded to the
//! GPU first for VAAPI) and muxed with the audio packets kept.

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{FrameRef, PixelFormat};

use super::encoder::enc_err;
use super::VideoWriter;
use crate::convert::Scaler;
use crate::frame::{AudioPacket, DecodedFrame};
use crate::VideoError;

fn is_again_or_eof(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Eof)
        || matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

fn to_ff_pixel(f: PixelFormat) -> Option<ff::format::Pixel> {
    Some(match f {
        PixelFormat::I420 => ff::format::Pixel::YUV420P,
        PixelFormat::Nv12 => ff::format::Pixel::NV12,
        PixelFormat::Rgb24 => ff::format::Pixel::RGB24,
        PixelFormat::Bgr24 => ff::format::Pixel::BGR24,
        PixelFormat::Rgba => ff::format::Pixel::RGBA,
        PixelFormat::Gray8 => ff::format::Pixel::GRAY8,
    })
}

impl VideoWriter {
    /// Encode one frame (any veil-core format; I420 is copied, others converted).
    /// `pts` is in the time base of the [`VideoInfo`](crate::VideoInfo) given to
    /// [`VideoWriter::create`] and must increase from frame to frame.
    ///
    /// # Errors
    /// [`VideoError::Frame`] if the frame's size differs from the output's,
    /// [`VideoError::InvalidOption`] for a timestamp that does not increase,
    /// [`VideoError::Encode`] when the encoder or muxer fails.
    pub fn write(&mut self, frame: &FrameRef<'_>, pts: i64) -> Result<(), VideoError> {
        if frame.width() != self.width || frame.height() != self.height {
            return Err(VideoError::Frame {
                path: self.dest.clone(),
                source: veil_core::FrameError::GeometryMismatch {
                    expected_format: PixelFormat::I420,
                    expected_width: self.width,
                    expected_height: self.height,
                    format: frame.format(),
                    width: frame.width(),
                    height: frame.height(),
                },
            });
        }
        let rel = self.next_pts(pts)?;
        let mut picture =
            if frame.format() == PixelFormat::I420 && self.sw_format == ff::format::Pixel::YUV420P {
                // SAFETY: `scratch` is a valid allocated frame; make it ours alone before writing
                // (the encoder may still hold a reference to the previous picture).
                let rc = unsafe { ffi::av_frame_make_writable(self.scratch.as_mut_ptr()) };
                if rc < 0 {
                    return Err(enc_err(
                        &self.dest,
                        "cannot allocate a frame",
                        ff::Error::from(rc),
                    ));
                }
                for (i, plane) in frame.planes().iter().enumerate() {
                    let stride = self.scratch.stride(i);
                    let data = self.scratch.data_mut(i);
                    for (y, row) in plane.rows().enumerate() {
                        data[y * stride..y * stride + row.len()].copy_from_slice(row);
                    }
                }
                self.scratch.clone()
            } else {
                let src = to_ff_pixel(frame.format()).ok_or_else(|| {
                    enc_err(
                        &self.dest,
                        "unsupported pixel format",
                        format!("{:?}", frame.format()),
                    )
                })?;
                let scaler = match self.scaler.take() {
                    Some((f, s)) if f == frame.format() => s,
                    _ => Scaler::new(src, self.sw_format, self.width, self.height)
                        .map_err(|e| enc_err(&self.dest, "conversion", e))?,
                };
                let mut ptrs = [std::ptr::null::<u8>(); 4];
                let mut strides = [0i32; 4];
                for (i, p) in frame.planes().iter().enumerate() {
                    ptrs[i] = p.data().as_ptr();
                    strides[i] = i32::try_from(p.stride())
                        .map_err(|_| enc_err(&self.dest, "conversion", "stride too large"))?;
                }
                // SAFETY: the pointers and strides come from a validated veil-core frame of
                // this size and format, borrowed for the duration of the call.
                let converted = unsafe { scaler.convert_raw(&ptrs, &strides) }
                    .map_err(|e| enc_err(&self.dest, "conversion", e))?;
                self.scaler = Some((frame.format(), scaler));
                converted
            };
        picture.set_pts(Some(rel));
        self.send(&mut picture)
    }

    /// Encode a decoded frame directly (no copy for I420 frames: the encoder takes a
    /// reference to the decoder's planes, masked in place). Its timestamp is the frame's
    /// [`DecodedFrame::pts`].
    ///
    /// # Errors
    /// As [`VideoWriter::write`].
    pub fn write_decoded(&mut self, frame: &DecodedFrame) -> Result<(), VideoError> {
        if frame.format() != PixelFormat::I420
            || self.sw_format != ff::format::Pixel::YUV420P
            || frame.frame.width() != self.width
            || frame.frame.height() != self.height
        {
            return self.write(&frame.frame_ref()?, frame.pts());
        }
        let rel = self.next_pts(frame.pts())?;
        let mut picture = frame.frame.clone();
        picture.set_pts(Some(rel));
        self.send(&mut picture)
    }

    /// Copy one audio packet (from [`crate::VideoReader::take_audio`]) into the output.
    /// Ignored when the output has no audio stream
    /// ([`EncodeOptions::keep_audio`](crate::EncodeOptions::keep_audio) off or no audio in
    /// the input). Packets before the first video frame are dropped.
    ///
    /// # Errors
    /// [`VideoError::Encode`] when the muxer fails.
    pub fn write_audio(&mut self, packet: AudioPacket) -> Result<(), VideoError> {
        if self.audio_ost.is_none() {
            return Ok(());
        }
        if self.origin.is_none() {
            self.pending_audio.push(packet);
            return Ok(());
        }
        self.mux_audio(packet)
    }

    fn mux_audio(&mut self, packet: AudioPacket) -> Result<(), VideoError> {
        let (Some(ost), Some(origin), Some(out)) = (self.audio_ost, self.origin, self.out.as_mut()) else {
            return Ok(());
        };
        let atb = packet.time_base;
        // The first video frame's time, on the audio stream's clock.
        // SAFETY: pure arithmetic helper.
        let a_origin = unsafe { ffi::av_rescale_q(origin, self.enc_tb.into(), atb.into()) };
        let mut pkt = packet.packet;
        let Some(pts) = pkt.pts() else { return Ok(()) };
        if pts < a_origin {
            return Ok(());
        }
        pkt.set_pts(Some(pts - a_origin));
        pkt.set_dts(pkt.dts().map(|d| d - a_origin));
        pkt.set_position(-1);
        pkt.set_stream(ost);
        let ost_tb = out.stream(ost).map(|s| s.time_base()).unwrap_or(atb);
        pkt.rescale_ts(atb, ost_tb);
        pkt.write_interleaved(out)
            .map_err(|e| enc_err(&self.dest, "cannot write an audio packet", e))
    }

    fn next_pts(&mut self, pts: i64) -> Result<i64, VideoError> {
        if let Some(last) = self.last_pts {
            if pts <= last {
                return Err(VideoError::InvalidOption {
                    reason: format!("{}: timestamp {pts} does not follow {last}", self.dest.display()),
                });
            }
        }
        self.last_pts = Some(pts);
        let origin = *self.origin.get_or_insert(pts);
        Ok(pts - origin)
    }

    fn send(&mut self, picture: &mut ff::frame::Video) -> Result<(), VideoError> {
        // Decoders label pictures I/P/B; libx264 would obey those labels as forced frame
        // types. Let the encoder choose, as the FFmpeg tool does.
        picture.set_kind(ff::picture::Type::None);
        picture.set_color_range(if self.full_range {
            ff::color::Range::JPEG
        } else {
            ff::color::Range::MPEG
        });
        match &self.hw_frames {
            Some(frames) => {
                // Upload the masked frame to a GPU surface: only now, after masking, does
                // any pixel leave the CPU frame.
                let mut hw = ff::frame::Video::empty();
                // SAFETY: `frames` is an initialised frames context; `hw` an empty frame
                // that receives a surface from its pool; `picture` a valid CPU frame of the
                // context's sw_format and size (converted in `write`).
                let rc = unsafe {
                    let rc = ffi::av_hwframe_get_buffer(frames.as_ptr(), hw.as_mut_ptr(), 0);
                    if rc < 0 {
                        rc
                    } else {
                        let rc = ffi::av_hwframe_transfer_data(hw.as_mut_ptr(), picture.as_ptr(), 0);
                        if rc < 0 {
                            rc
                        } else {
                            ffi::av_frame_copy_props(hw.as_mut_ptr(), picture.as_ptr())
                        }
                    }
                };
                if rc < 0 {
                    return Err(enc_err(
                        &self.dest,
                        "cannot upload a frame to the GPU",
                        ff::Error::from(rc),
                    ));
                }
                self.enc
                    .send_frame(&hw)
                    .map_err(|e| enc_err(&self.dest, "encoder rejected a frame", e))?;
            }
            None => self
                .enc
                .send_frame(picture)
                .map_err(|e| enc_err(&self.dest, "encoder rejected a frame", e))?,
        }
        self.frames += 1;
        if self.frames == 1 && !self.pending_audio.is_empty() {
            for p in std::mem::take(&mut self.pending_audio) {
                self.mux_audio(p)?;
            }
        }
        self.drain()
    }

    pub(super) fn drain(&mut self) -> Result<(), VideoError> {
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let ost_tb = out
            .stream(self.video_ost)
            .map(|s| s.time_base())
            .unwrap_or(self.enc_tb);
        loop {
            let mut pkt = ff::Packet::empty();
            match self.enc.receive_packet(&mut pkt) {
                Ok(()) => {
                    pkt.set_stream(self.video_ost);
                    pkt.rescale_ts(self.enc_tb, ost_tb);
                    pkt.write_interleaved(out)
                        .map_err(|e| enc_err(&self.dest, "cannot write a video packet", e))?;
                }
                Err(e) if is_again_or_eof(&e) => return Ok(()),
                Err(e) => return Err(enc_err(&self.dest, "encoder error", e)),
            }
        }
    }
}
