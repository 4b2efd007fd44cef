//! Encoding: [`VideoWriter`] encodes frames to H.264 (libx264, or a hardware encoder: see
//! [`Encoder`]) in MP4, written atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{FrameRef, PixelFormat};

use crate::convert::{check_size, Scaler};
use crate::frame::{AudioPacket, DecodedFrame};
use crate::hwenc::{
    known_failure, missing_device, remember_failure, vaapi_frames, BufRef, Encoder, EncoderUsed,
    HARDWARE_ENCODERS,
};
use crate::partial::{temp_path, TempGuard};
use crate::probe::VideoInfo;
use crate::{init, VideoError};

/// The x264 presets, fastest first.
pub const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Encoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// x264 constant rate factor, 0 (lossless) to 51. Default 18: visually near-lossless,
    /// so that footage kept as evidence loses no detail a viewer could see (faces, plates).
    pub crf: u8,
    /// x264 preset (one of [`PRESETS`]). Default `"veryfast"`: at a given CRF the preset
    /// mostly trades file size and a little fidelity for speed. Measured on the 720p
    /// inzage clip at CRF 18 against its source: "fast" SSIM 0.9971 / PSNR 50.9 dB at 21 ms
    /// of CPU per frame, "veryfast" SSIM 0.9953 / PSNR 48.6 dB at 12 ms and a 16% smaller
    /// file; both well above the ~40 dB where a difference becomes hard to see. x264 was the largest CPU cost of an
    /// export after the two networks (its trellis quantisation alone 16% of all CPU time at
    /// "fast", which "veryfast" does not run). Choose "fast" or slower for archival copies.
    pub preset: String,
    /// Copy the input's audio packets (without re-encoding) into the output. Default off:
    /// audio can carry bystanders' voices, so it is only kept when asked.
    pub keep_audio: bool,
    /// Encoder threads; 0 (default) lets x264 choose from the core count, as the FFmpeg
    /// command-line tool does.
    pub threads: usize,
    /// Write a fragmented MP4 (for recording): `Some(d)` cuts a fragment at every keyframe
    /// and at least every `d`, and writes the file in place at its destination instead of
    /// through a temporary file, so that a crash or power cut loses at most the last
    /// fragment. The destination must not exist (it is created exclusively, never
    /// overwritten). What was written stays on disk when the writer is dropped without
    /// [`VideoWriter::finish`] (the fragments written are playable); a file without any
    /// frame is removed. Default `None`: a regular MP4 with the index in front, written
    /// atomically.
    pub fragment: Option<std::time::Duration>,
    /// Longest distance between keyframes, in frames; `None` (default): x264's own (250).
    /// A recorder sets it to a second or two, so that fragments stay short and any
    /// point of a recording can be reached quickly.
    pub keyframe_interval: Option<u32>,
    /// The H.264 encoder. Default [`Encoder::X264`]; the recorder uses [`Encoder::Auto`]
    /// (a hardware encoder when one opens, else libx264). A hardware encoder ignores
    /// `preset` and takes `crf` as its constant-quality target (VAAPI: `qp`, NVENC: `cq`,
    /// QSV: `global_quality`), so its files differ in size from x264's at the same value.
    pub encoder: Encoder,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            crf: 18,
            preset: "veryfast".into(),
            keep_audio: false,
            threads: 0,
            fragment: None,
            keyframe_interval: None,
            encoder: Encoder::X264,
        }
    }
}

/// Encodes frames to an H.264 MP4 (yuv420p, `+faststart`, no metadata).
///
/// The file is written to a hidden temporary file beside the destination and renamed
/// onto it by [`VideoWriter::finish`]; a failure, or dropping the writer without
/// finishing, removes the temporary file, so no partial output is ever left at the
/// destination.
///
/// Output timestamps are the input timestamps shifted so that the first frame is at 0;
/// frame spacing (and so the frame rate, variable or not) is kept.
///
/// With [`EncodeOptions::fragment`] the file is a fragmented MP4 written in place instead
/// (see there).
pub struct VideoWriter {
    dest: PathBuf,
    tmp: PathBuf,
    out: Option<ff::format::context::Output>,
    enc: ff::encoder::Video,
    enc_tb: ff::Rational,
    video_ost: usize,
    audio_ost: Option<usize>,
    width: u32,
    height: u32,
    full_range: bool,
    scratch: ff::frame::Video,
    /// The pixel format the encoder takes from the CPU (YUV420P; NV12 for VAAPI and QSV).
    sw_format: ff::format::Pixel,
    /// VAAPI: the GPU surfaces each (already masked) frame is uploaded to.
    hw_frames: Option<BufRef>,
    used: EncoderUsed,
    scaler: Option<(PixelFormat, Scaler)>,
    origin: Option<i64>,
    last_pts: Option<i64>,
    pending_audio: Vec<AudioPacket>,
    frames: u64,
    /// Fragmented output, written in place at `dest` (`tmp` is then `dest`).
    fragmented: bool,
    /// Written to a caller's stream ([`VideoWriter::create_stream`]), not to a file.
    streamed: bool,
}

fn enc_err(path: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Encode {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

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
    /// Prepare to write `dest` for frames described by `info` (size, frame rate, time base,
    /// colour range and, with `opts.keep_audio`, the audio stream to copy).
    ///
    /// # Errors
    /// [`VideoError::InvalidOption`] for a CRF above 51 or an unknown preset,
    /// [`VideoError::UnsupportedSize`] for odd sizes, [`VideoError::Io`] when the
    /// destination's directory is missing or not writable or the destination is a
    /// directory, [`VideoError::Encode`] when libx264 is missing or the MP4 header cannot
    /// be written (e.g. an audio codec MP4 cannot hold).
    pub fn create(
        dest: impl AsRef<Path>,
        info: &VideoInfo,
        opts: &EncodeOptions,
    ) -> Result<VideoWriter, VideoError> {
        Self::create_with(dest.as_ref(), None, info, opts)
    }

    /// Prepare to write a fragmented MP4 into `sink` instead of a file: every byte the
    /// muxer produces goes to `sink` (e.g. an encrypting writer), nothing is written to
    /// disk by the writer itself. `label` names the output in errors. The MP4 is
    /// written front to back without seeking, which only a fragmented MP4 allows, so
    /// [`EncodeOptions::fragment`] must be set. [`VideoWriter::finish`] writes the last
    /// fragment and flushes `sink`; closing what `sink` writes to is the caller's.
    ///
    /// # Errors
    /// As [`VideoWriter::create`], and [`VideoError::InvalidOption`] without
    /// [`EncodeOptions::fragment`].
    pub fn create_stream(
        label: impl AsRef<Path>,
        sink: impl Write + Send + 'static,
        info: &VideoInfo,
        opts: &EncodeOptions,
    ) -> Result<VideoWriter, VideoError> {
        let label = label.as_ref();
        if opts.fragment.is_none() {
            return Err(VideoError::InvalidOption {
                reason: format!(
                    "{}: an MP4 written to a stream must be fragmented (EncodeOptions::fragment)",
                    label.display()
                ),
            });
        }
        init();
        let io = ff::format::context::StreamIo::from_write(sink).map_err(|e| VideoError::Io {
            path: label.to_path_buf(),
            reason: format!("cannot set up the output stream: {e}"),
        })?;
        Self::create_with(label, Some(io), info, opts)
    }

    fn create_with(
        dest: &Path,
        stream: Option<ff::format::context::StreamIo>,
        info: &VideoInfo,
        opts: &EncodeOptions,
    ) -> Result<VideoWriter, VideoError> {
        init();
        let dest = dest.to_path_buf();
        let streamed = stream.is_some();
        if opts.crf > 51 {
            return Err(VideoError::InvalidOption {
                reason: format!("crf {} is out of range 0..=51", opts.crf),
            });
        }
        if !PRESETS.contains(&opts.preset.as_str()) {
            return Err(VideoError::InvalidOption {
                reason: format!(
                    "unknown preset {:?} (one of: {})",
                    opts.preset,
                    PRESETS.join(", ")
                ),
            });
        }
        check_size(&dest, info.width, info.height)?;
        let (tb, fps) = (ff::Rational::new(info.time_base.0, info.time_base.1), info.fps);
        if tb.numerator() <= 0 || tb.denominator() <= 0 || fps.0 <= 0 || fps.1 <= 0 {
            return Err(VideoError::InvalidOption {
                reason: format!(
                    "invalid time base {:?} or frame rate {:?}",
                    info.time_base, info.fps
                ),
            });
        }
        let tmp = if streamed {
            PathBuf::new()
        } else {
            temp_path(&dest, false)?
        };
        let tmp = if streamed {
            tmp
        } else if opts.fragment.is_some() {
            // In place: create the file exclusively, so that an existing recording is never
            // overwritten; FFmpeg then opens (and truncates) this empty file.
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dest)
                .map_err(|e| VideoError::Io {
                    path: dest.clone(),
                    reason: format!("cannot create the file: {e}"),
                })?;
            dest.clone()
        } else {
            tmp
        };

        let mut out = match stream {
            Some(io) => ff::format::output_to_stream(io, None, Some("mp4")).map_err(|e| VideoError::Io {
                path: dest.clone(),
                reason: format!("cannot set up the MP4 muxer on the stream: {e}"),
            })?,
            None => ff::format::output_as(&tmp, "mp4").map_err(|e| VideoError::Io {
                path: dest.clone(),
                reason: format!("cannot create {}: {e}", tmp.display()),
            })?,
        };
        // From here on, dropping `guard` removes the temporary file.
        let guard = TempGuard::new(tmp.clone());
        // SAFETY: setting a flag on a valid output context before the header is written.
        // Bitexact: the muxer writes no "encoder" tag naming the software and no creation
        // time, so the file says nothing beyond the pictures.
        unsafe { (*out.as_mut_ptr()).flags |= ffi::AVFMT_FLAG_BITEXACT };
        if opts.fragment.is_some() {
            // SAFETY: as above. Every packet goes to the file at once rather than sitting in
            // FFmpeg's I/O buffer, so a fragment that is complete is on disk.
            unsafe { (*out.as_mut_ptr()).flags |= ffi::AVFMT_FLAG_FLUSH_PACKETS };
        }
        let global_header = out.format().flags().contains(ff::format::Flags::GLOBAL_HEADER);

        let (opened, used) = open_chosen(&dest, info, opts, global_header)?;
        let Opened {
            enc,
            codec,
            sw_format,
            hw_frames,
        } = opened;

        let video_ost = {
            let mut ost = out
                .add_stream(codec)
                .map_err(|e| enc_err(&dest, "cannot add the video stream", e))?;
            ost.set_parameters(&enc);
            ost.set_time_base(tb);
            ost.set_avg_frame_rate(ff::Rational::new(fps.0, fps.1));
            // SAFETY: clearing the codec tag of a stream we created, so the muxer picks its own.
            unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
            ost.index()
        };
        let audio_ost = match (&info.audio, opts.keep_audio) {
            (Some(a), true) => {
                let mut ost = out
                    .add_stream(ff::encoder::find(ff::codec::Id::None))
                    .map_err(|e| enc_err(&dest, "cannot add the audio stream", e))?;
                ost.set_parameters(a.params.clone());
                ost.set_time_base(a.time_base);
                // SAFETY: as above, for the copied audio stream.
                unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
                Some(ost.index())
            }
            _ => None,
        };
        let mut hdr = ff::Dictionary::new();
        match opts.fragment {
            Some(d) => {
                // An empty index up front, then self-contained fragments (moof + mdat), each
                // starting on a keyframe or after `d`.
                hdr.set("movflags", "+frag_keyframe+empty_moov+default_base_moof");
                hdr.set("frag_duration", &d.as_micros().max(1).to_string());
            }
            // The index (moov) goes in front, so players and browsers can start at once.
            None => hdr.set("movflags", "+faststart"),
        }
        out.write_header_with(hdr).map_err(|e| {
            enc_err(
                &dest,
                if audio_ost.is_some() {
                    "cannot write the MP4 header (the audio codec may not fit in MP4)"
                } else {
                    "cannot write the MP4 header"
                },
                e,
            )
        })?;

        let scratch = ff::frame::Video::new(ff::format::Pixel::YUV420P, info.width, info.height);
        let _ = guard.disarm(); // from now on the writer's own Drop cleans up
        Ok(VideoWriter {
            dest,
            tmp,
            out: Some(out),
            enc,
            enc_tb: tb,
            video_ost,
            audio_ost,
            width: info.width,
            height: info.height,
            full_range: info.full_range,
            scratch,
            sw_format,
            hw_frames,
            used,
            scaler: None,
            origin: None,
            last_pts: None,
            pending_audio: Vec::new(),
            frames: 0,
            fragmented: opts.fragment.is_some(),
            streamed,
        })
    }

    /// The destination path.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// The encoder opened (with [`Encoder::Auto`], which one and why the hardware ones
    /// passed over were not used).
    pub fn encoder_used(&self) -> &EncoderUsed {
        &self.used
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Encode one frame (any veil-core format; I420 is copied, others converted).
    /// `pts` is in the time base of the [`VideoInfo`] given to [`VideoWriter::create`]
    /// and must increase from frame to frame.
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
    /// Ignored when the output has no audio stream ([`EncodeOptions::keep_audio`] off or
    /// no audio in the input). Packets before the first video frame are dropped.
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

    fn drain(&mut self) -> Result<(), VideoError> {
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

    /// Flush the encoder, write the MP4 index, sync the file to disk and rename it onto
    /// the destination. Returns the number of frames written.
    ///
    /// # Errors
    /// [`VideoError::Encode`] if no frame was written or the encoder/muxer fails,
    /// [`VideoError::Io`] if syncing or renaming fails. The temporary file is removed.
    pub fn finish(mut self) -> Result<u64, VideoError> {
        if self.frames == 0 {
            return Err(enc_err(
                &self.dest,
                "nothing to write",
                "no frames (is the time window empty?)",
            ));
        }
        self.enc
            .send_eof()
            .map_err(|e| enc_err(&self.dest, "cannot flush the encoder", e))?;
        self.drain()?;
        let Some(mut out) = self.out.take() else {
            return Err(enc_err(&self.dest, "internal", "output already closed"));
        };
        out.write_trailer()
            .map_err(|e| enc_err(&self.dest, "cannot write the MP4 index", e))?;
        if self.streamed {
            // SAFETY: `pb` is the stream's valid I/O context, owned by `out`, which is alive.
            let err = unsafe {
                let pb = (*out.as_mut_ptr()).pb;
                ffi::avio_flush(pb);
                (*pb).error
            };
            drop(out); // hands the last bytes to the sink and flushes it
            if err < 0 {
                return Err(enc_err(
                    &self.dest,
                    "cannot write to the stream",
                    ff::Error::from(err),
                ));
            }
            let frames = self.frames;
            self.frames = 0;
            return Ok(frames);
        }
        drop(out); // closes the file
        let io = |what: &str, e: std::io::Error| VideoError::Io {
            path: self.dest.clone(),
            reason: format!("{what}: {e}"),
        };
        fs::File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot sync the output to disk", e))?;
        if self.fragmented {
            // Written in place: nothing to rename.
            let frames = self.frames;
            self.tmp = PathBuf::new();
            return Ok(frames);
        }
        fs::rename(&self.tmp, &self.dest).map_err(|e| io("cannot move the finished output into place", e))?;
        // Make the rename itself durable (best effort: not every file system allows it).
        if let Some(dir) = self.dest.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let frames = self.frames;
        self.frames = 0;
        self.tmp = PathBuf::new();
        Ok(frames)
    }
}

/// An opened encoder and what its frames need.
struct Opened {
    enc: ff::encoder::Video,
    codec: ff::Codec,
    sw_format: ff::format::Pixel,
    hw_frames: Option<BufRef>,
}

/// Open the encoder `opts.encoder` names; with [`Encoder::Auto`] the first hardware
/// encoder that opens, else libx264.
fn open_chosen(
    dest: &Path,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<(Opened, EncoderUsed), VideoError> {
    let used = |encoder: Encoder, passed_over| EncoderUsed {
        encoder,
        codec: encoder.codec_name().unwrap_or("libx264"),
        passed_over,
    };
    match opts.encoder {
        Encoder::X264 => Ok((
            open_x264(dest, info, opts, global_header)?,
            used(Encoder::X264, Vec::new()),
        )),
        Encoder::Auto => {
            let mut passed_over = Vec::new();
            for e in HARDWARE_ENCODERS {
                if let Some(why) = known_failure(e, info.width, info.height) {
                    passed_over.push((e, why));
                    continue;
                }
                match open_hardware(e, info, opts, global_header) {
                    Ok(o) => return Ok((o, used(e, passed_over))),
                    Err(why) => {
                        remember_failure(e, info.width, info.height, &why);
                        passed_over.push((e, why));
                    }
                }
            }
            Ok((
                open_x264(dest, info, opts, global_header)?,
                used(Encoder::X264, passed_over),
            ))
        }
        e => match open_hardware(e, info, opts, global_header) {
            Ok(o) => Ok((o, used(e, Vec::new()))),
            // Asked for by name: refused, never silently another encoder.
            Err(reason) => Err(VideoError::HardwareEncoder {
                path: dest.to_path_buf(),
                encoder: e.codec_name().unwrap_or("?"),
                reason,
            }),
        },
    }
}

/// A codec context for `codec` with the settings every encoder shares.
fn base_context(
    codec: ff::Codec,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<ff::encoder::video::Video, ff::Error> {
    let mut enc = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()?;
    enc.set_width(info.width);
    enc.set_height(info.height);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base(ff::Rational::new(info.time_base.0, info.time_base.1));
    enc.set_frame_rate(Some(ff::Rational::new(info.fps.0, info.fps.1)));
    if let Some(k) = opts.keyframe_interval {
        enc.set_gop(k.max(1));
    }
    enc.set_color_range(if info.full_range {
        ff::color::Range::JPEG
    } else {
        ff::color::Range::MPEG
    });
    if global_header {
        // Added to the codec's own default flags, not in their place: libx264's defaults
        // carry +cgop (closed GOPs), and replacing them made every keyframe after a file's
        // first an open-GOP I picture that decoding cannot start from (seeks into recorder
        // segments failed; see crates/veil-video/tests/seek_fragmented.rs).
        // SAFETY: reading and setting the flags of a valid, not yet opened codec context.
        unsafe { (*enc.as_mut_ptr()).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32 };
    }
    // SAFETY: setting the thread count on a valid, not yet opened codec context.
    unsafe { (*enc.as_mut_ptr()).thread_count = i32::try_from(opts.threads).unwrap_or(0) };
    Ok(enc)
}

fn open_x264(
    dest: &Path,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<Opened, VideoError> {
    let codec = ff::encoder::find_by_name("libx264").ok_or_else(|| VideoError::Encode {
        path: dest.to_path_buf(),
        reason: "the FFmpeg libraries were built without libx264".into(),
    })?;
    let enc = base_context(codec, info, opts, global_header)
        .map_err(|e| enc_err(dest, "cannot set up libx264", e))?;
    let mut dict = ff::Dictionary::new();
    dict.set("preset", &opts.preset);
    dict.set("crf", &opts.crf.to_string());
    let enc = enc
        .open_as_with(codec, dict)
        .map_err(|e| enc_err(dest, "cannot open libx264", e))?;
    Ok(Opened {
        enc,
        codec,
        sw_format: ff::format::Pixel::YUV420P,
        hw_frames: None,
    })
}

/// Open hardware encoder `e` at the frame size, or say why it cannot be used here.
fn open_hardware(
    e: Encoder,
    info: &VideoInfo,
    opts: &EncodeOptions,
    global_header: bool,
) -> Result<Opened, String> {
    let name = e.codec_name().unwrap_or("?");
    let codec = ff::encoder::find_by_name(name)
        .ok_or_else(|| format!("not in this FFmpeg build (libavcodec has no {name})"))?;
    let hw_frames = match e {
        Encoder::Vaapi => Some(vaapi_frames(info.width, info.height)?),
        _ => None,
    };
    let mut enc =
        base_context(codec, info, opts, global_header).map_err(|err| format!("cannot set up: {err}"))?;
    let crf = opts.crf.to_string();
    let mut dict = ff::Dictionary::new();
    let sw_format = match e {
        Encoder::Vaapi => {
            if let Some(f) = &hw_frames {
                // SAFETY: a valid, not yet opened codec context; it takes its own reference
                // to the frames context (released when the context is freed).
                let r = unsafe {
                    (*enc.as_mut_ptr()).pix_fmt = ffi::AVPixelFormat::AV_PIX_FMT_VAAPI;
                    let r = ffi::av_buffer_ref(f.as_ptr());
                    (*enc.as_mut_ptr()).hw_frames_ctx = r;
                    r
                };
                if r.is_null() {
                    return Err("cannot reference the VAAPI frames context".into());
                }
            }
            dict.set("rc_mode", "CQP");
            dict.set("qp", &crf);
            ff::format::Pixel::NV12
        }
        Encoder::Nvenc => {
            dict.set("rc", "vbr");
            dict.set("cq", &crf);
            dict.set("b", "0");
            ff::format::Pixel::YUV420P
        }
        _ => {
            enc.set_format(ff::format::Pixel::NV12);
            dict.set("global_quality", &crf);
            ff::format::Pixel::NV12
        }
    };
    let enc = enc.open_as_with(codec, dict).map_err(|err| {
        let mut why = format!("does not open at {}x{}: {err}", info.width, info.height);
        if let Some(hint) = missing_device(e) {
            why.push_str(&format!(" ({hint})"));
        }
        why
    })?;
    Ok(Opened {
        enc,
        codec,
        sw_format,
        hw_frames,
    })
}

impl Drop for VideoWriter {
    fn drop(&mut self) {
        // Close the file before removing it; `finish` leaves `tmp` empty once renamed.
        drop(self.out.take());
        // A fragmented recording keeps what it wrote (its complete fragments are playable),
        // unless it holds no frame at all.
        if !self.tmp.as_os_str().is_empty() && (!self.fragmented || self.frames == 0) {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl std::fmt::Debug for VideoWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoWriter")
            .field("dest", &self.dest)
            .field("frames", &self.frames)
            .finish()
    }
}
