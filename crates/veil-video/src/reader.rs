//! Demuxing and decoding: [`VideoReader`] hands out decoded frames of a time window as
//! [`DecodedFrame`]s, which lend veil-core frame views over the decoder's own planes.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{FrameMut, FrameRef, PixelFormat, MAX_PIXELS};

use crate::convert::{check_size, Scaler};
use crate::{display_path, init, VideoError};

/// Tolerance when comparing a frame's time with the window's ends, in seconds: far below
/// one frame at any real frame rate, but above the rounding of `pts * time_base`.
const TIME_EPS: f64 = 1e-6;

/// Options for opening an input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Start of the time window in seconds from the start of the input: frames before it
    /// are decoded (from the nearest earlier keyframe) but not handed out.
    pub from: Option<f64>,
    /// End of the time window in seconds (exclusive): the first frame at or after it ends
    /// the stream.
    pub to: Option<f64>,
    /// Collect the audio packets of the window (see [`VideoReader::take_audio`]). Off by
    /// default: audio can carry bystanders' voices.
    pub audio: bool,
    /// Extra options for FFmpeg's demuxer/protocol, e.g. `("rtsp_transport", "tcp")` or
    /// `("rw_timeout", "5000000")` for network inputs.
    pub input_options: Vec<(String, String)>,
    /// Largest frame accepted, in pixels (width x height); `None`: Veil's limit,
    /// [`veil_core::MAX_PIXELS`] (a lower value above it is ignored). A stream whose header
    /// announces larger frames is refused by [`VideoReader::open`] with
    /// [`VideoError::UnsupportedSize`] before any frame is decoded, and the decoder is told
    /// the same limit, so a stream that grows mid-stream fails before a larger frame is
    /// allocated. Memory grows with the frame area (decoder threads and the encoder's
    /// lookahead hold dozens of frames), so this bounds it for untrusted inputs: see
    /// SECURITY.md for measured figures.
    pub max_pixels: Option<u64>,
    /// A flag that, once set, makes any blocking read on the input (opening a network
    /// stream, waiting for its next packet) return at once with an error. A recorder sets
    /// it on SIGTERM so that a silent camera cannot hold up a clean stop.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Codec parameters and time base of the audio stream, for copying its packets.
#[derive(Clone)]
pub(crate) struct AudioStream {
    pub(crate) params: ff::codec::Parameters,
    pub(crate) time_base: ff::Rational,
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("codec", &self.params.id())
            .field("time_base", &self.time_base)
            .finish()
    }
}

/// What is known about an input's video stream after opening it.
#[derive(Debug, Clone)]
pub struct VideoInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The format frames are handed out in: [`PixelFormat::Nv12`] when the decoder outputs
    /// NV12, otherwise [`PixelFormat::I420`] (other decoder formats are converted once).
    pub format: PixelFormat,
    /// Frame rate as (numerator, denominator), e.g. (30000, 1001).
    pub fps: (i32, i32),
    /// Time base of the timestamps ([`DecodedFrame::pts`]) as (numerator, denominator).
    pub time_base: (i32, i32),
    /// Duration of the whole input in seconds, when the container says.
    pub duration: Option<f64>,
    /// Frames expected in the requested window, when it can be estimated (for progress).
    pub frame_count_estimate: Option<u64>,
    /// Whether the input has an audio stream.
    pub has_audio: bool,
    /// Whether the video uses full-range ("JPEG") levels rather than limited range.
    pub full_range: bool,
    pub(crate) audio: Option<AudioStream>,
}

impl VideoInfo {
    /// The description of a video made by the caller (no input file), e.g. for encoding
    /// frames rendered or captured elsewhere. The time base is `1/fps`, so timestamps are
    /// frame numbers.
    pub fn new(width: u32, height: u32, fps: (i32, i32)) -> Self {
        VideoInfo {
            width,
            height,
            format: PixelFormat::I420,
            fps,
            time_base: (fps.1, fps.0),
            duration: None,
            frame_count_estimate: None,
            has_audio: false,
            full_range: false,
            audio: None,
        }
    }
}

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
    /// Position of the frame in the window, from 0.
    pub fn index(&self) -> u64 {
        self.index
    }
    /// Presentation timestamp, in [`VideoInfo::time_base`] units, as in the input.
    pub fn pts(&self) -> i64 {
        self.pts
    }
    /// Presentation time in seconds from the start of the input.
    pub fn time(&self) -> f64 {
        self.time
    }
    /// Pixel format of the views ([`VideoInfo::format`]).
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
    time: f64,
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

/// Reads an input (file or URL) and hands out the decoded video frames of a time window.
pub struct VideoReader {
    path: Arc<Path>,
    input: ff::format::context::Input,
    decoder: ff::decoder::Video,
    stream_index: usize,
    audio_index: Option<usize>,
    info: VideoInfo,
    tb: ff::Rational,
    /// Video stream start in its time base; frame times are measured from it.
    start_pts: i64,
    /// Same origin, in seconds on the container's absolute clock (for audio).
    start_abs: f64,
    from: Option<f64>,
    to: Option<f64>,
    want_audio: bool,
    /// The input cannot seek (a live network stream).
    live: bool,
    /// A clean frame has been handed out (or, for a file, any frame reached the window).
    started: bool,
    /// Duration of the video stream per the container's index, in seconds.
    stream_duration: Option<f64>,
    /// Duration of the whole file per its header (Matroska gives no per-stream duration),
    /// in seconds; `None` for live streams and durations guessed from the bit rate.
    container_duration: Option<f64>,
    /// How far before `from` the current seek aimed, in seconds (`None`: no seek done or
    /// verified already).
    seek_backoff: Option<f64>,
    next_index: u64,
    last_pts: Option<i64>,
    eof_sent: bool,
    done: bool,
    video_packets: u64,
    audio_queue: VecDeque<AudioPacket>,
    scaler: Option<Scaler>,
}

fn q(r: ff::Rational) -> f64 {
    if r.denominator() == 0 {
        0.0
    } else {
        f64::from(r.numerator()) / f64::from(r.denominator())
    }
}

/// The error for a stream whose frames exceed [`ReadOptions::max_pixels`].
fn too_many_pixels(path: &Path, width: u32, height: u32, max_pixels: u64) -> VideoError {
    VideoError::UnsupportedSize {
        path: path.to_path_buf(),
        width,
        height,
        reason: format!("more than the {max_pixels} pixels per frame allowed (ReadOptions::max_pixels)"),
    }
}

fn is_eagain(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

impl VideoReader {
    /// Open `input` (a file path, or any URL FFmpeg reads such as `rtsp://...`) and prepare
    /// to decode its best video stream from `opts.from` to `opts.to`.
    ///
    /// # Errors
    /// [`VideoError::InvalidOption`] for a bad window, [`VideoError::Open`] when the input
    /// cannot be opened or probed, [`VideoError::NoVideoStream`],
    /// [`VideoError::UnsupportedCodec`], [`VideoError::UnsupportedSize`] for odd, zero or
    /// too large frame sizes (4:2:0 frames need even sizes).
    pub fn open(input: impl AsRef<Path>, opts: &ReadOptions) -> Result<VideoReader, VideoError> {
        init();
        let input = input.as_ref();
        let path: Arc<Path> = Arc::from(display_path(input).as_path());
        let p = || path.to_path_buf();
        check_times(opts.from, opts.to)?;
        if let (Some(f), Some(t)) = (opts.from, opts.to) {
            if t <= f {
                return Err(VideoError::InvalidOption {
                    reason: format!("empty time window: to ({t}) must be after from ({f})"),
                });
            }
        }
        // ffmpeg-next turns the path into a C string with `to_str().unwrap()`: a path that is
        // not UTF-8 (possible on Unix) or holds a NUL byte would panic inside it.
        if input.to_str().is_none_or(|s| s.contains('\0')) {
            return Err(VideoError::Open {
                path: p(),
                reason:
                    "the path is not valid UTF-8 or contains a NUL byte (FFmpeg is given UTF-8 paths only)"
                        .into(),
            });
        }
        let max_pixels = opts.max_pixels.unwrap_or(MAX_PIXELS).min(MAX_PIXELS);
        let mut dict = ff::Dictionary::new();
        for (k, v) in &opts.input_options {
            dict.set(k, v);
        }
        let opened = match &opts.interrupt {
            Some(flag) => {
                let flag = Arc::clone(flag);
                ff::format::input_with_interrupt_and_dictionary(
                    &input,
                    move || flag.load(Ordering::Relaxed),
                    dict,
                )
            }
            None => ff::format::input_with_dictionary(&input, dict),
        };
        let ictx = opened.map_err(|e| VideoError::Open {
            path: p(),
            reason: e.to_string(),
        })?;
        let stream = ictx
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| VideoError::NoVideoStream { path: p() })?;
        let stream_index = stream.index();
        let tb = stream.time_base();
        let raw_start = stream.start_time();
        let start_pts = if raw_start == ffi::AV_NOPTS_VALUE {
            0
        } else {
            raw_start
        };
        let start_abs = start_pts as f64 * q(tb);

        let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| {
            VideoError::UnsupportedCodec {
                path: p(),
                reason: e.to_string(),
            }
        })?;
        // Same as the FFmpeg command-line tool: as many decoding threads as cores.
        ctx.set_threading(ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Frame,
            count: 0,
            ..Default::default()
        });
        // The size the container announces, checked against the cap before the decoder is
        // opened (FFmpeg would refuse it too, as an unspecific "Invalid argument").
        // SAFETY: reading two plain fields of the valid codec context.
        let (pw, ph) = unsafe { ((*ctx.as_ptr()).width, (*ctx.as_ptr()).height) };
        let (pw, ph) = (u32::try_from(pw).unwrap_or(0), u32::try_from(ph).unwrap_or(0));
        if u64::from(pw) * u64::from(ph) > max_pixels {
            return Err(too_many_pixels(&path, pw, ph, max_pixels));
        }
        // The decoder refuses to allocate a frame larger than this (a stream that grows
        // mid-stream then fails before the frame exists, not after).
        // SAFETY: `ctx` is a valid, not yet opened codec context; max_pixels is a plain field
        // read when the decoder is opened and when frames are allocated.
        unsafe { (*ctx.as_mut_ptr()).max_pixels = i64::try_from(max_pixels).unwrap_or(i64::MAX) };
        let codec_id = ctx.id();
        let decoder = ctx.decoder().video().map_err(|e| VideoError::UnsupportedCodec {
            path: p(),
            reason: format!("{codec_id:?}: {e}"),
        })?;
        let (width, height) = (decoder.width(), decoder.height());
        check_size(&path, width, height)?;
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(too_many_pixels(&path, width, height, max_pixels));
        }
        let format = match decoder.format() {
            ff::format::Pixel::NV12 => PixelFormat::Nv12,
            _ => PixelFormat::I420,
        };
        let full_range = matches!(decoder.format(), ff::format::Pixel::YUVJ420P)
            || decoder.color_range() == ff::color::Range::JPEG;

        // SAFETY: `ictx` and `stream` are valid; av_guess_frame_rate only reads them.
        let fps = unsafe {
            ffi::av_guess_frame_rate(
                ictx.as_ptr().cast_mut(),
                stream.as_ptr().cast_mut(),
                std::ptr::null_mut(),
            )
        };
        let fps = if fps.num > 0 && fps.den > 0 {
            (fps.num, fps.den)
        } else {
            (25, 1)
        };
        let rate = f64::from(fps.0) / f64::from(fps.1);
        if rate > crate::MAX_FPS {
            return Err(VideoError::UnsupportedRate {
                path: path.to_path_buf(),
                fps: rate,
                reason: format!("more than {} frames per second", crate::MAX_FPS),
            });
        }
        let duration = if ictx.duration() > 0 {
            Some(ictx.duration() as f64 / f64::from(ffi::AV_TIME_BASE))
        } else if stream.duration() > 0 {
            Some(stream.duration() as f64 * q(tb))
        } else {
            None
        };
        // A duration guessed from the bit rate (some MPEG-TS, raw streams) is no evidence of
        // truncation; one from the container's index or from the last timestamps is.
        // SAFETY: reading a field of the valid, open input context.
        let method = unsafe { (*ictx.as_ptr()).duration_estimation_method };
        // SAFETY: reading fields of the valid, open input context and its I/O context.
        let live = unsafe {
            let pb = (*ictx.as_ptr()).pb;
            pb.is_null() || (*pb).seekable == 0
        };
        let stream_duration = (stream.duration() > 0
            && method != ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE)
            .then(|| stream.duration() as f64 * q(tb));
        let container_duration = (!live
            && ictx.duration() > 0
            && method != ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE)
            .then(|| ictx.duration() as f64 / f64::from(ffi::AV_TIME_BASE));
        let fps_f = f64::from(fps.0) / f64::from(fps.1);
        let frame_count_estimate = duration.map(|d| {
            let end = opts.to.map_or(d, |t| t.min(d));
            let start = opts.from.unwrap_or(0.0).min(end);
            ((end - start) * fps_f).round().max(0.0) as u64
        });
        let audio = ictx.streams().best(ff::media::Type::Audio).map(|s| {
            (
                s.index(),
                AudioStream {
                    params: s.parameters().clone(),
                    time_base: s.time_base(),
                },
            )
        });
        let info = VideoInfo {
            width,
            height,
            format,
            fps,
            time_base: (tb.numerator(), tb.denominator()),
            duration,
            frame_count_estimate,
            has_audio: audio.is_some(),
            full_range,
            audio: audio.as_ref().map(|(_, a)| a.clone()),
        };
        let mut reader = VideoReader {
            path,
            input: ictx,
            decoder,
            stream_index,
            audio_index: audio.map(|(i, _)| i),
            info,
            tb,
            start_pts,
            start_abs,
            from: opts.from.filter(|&f| f > 0.0),
            to: opts.to,
            want_audio: opts.audio,
            live,
            started: false,
            stream_duration,
            container_duration,
            seek_backoff: None,
            next_index: 0,
            last_pts: None,
            eof_sent: false,
            done: false,
            video_packets: 0,
            audio_queue: VecDeque::new(),
            scaler: None,
        };
        // Without a start time the stream has no usable timeline (raw H.264, some pipes):
        // a seek would land at an unknown time, so decode from the start and count frames.
        if reader.from.is_some() && raw_start != ffi::AV_NOPTS_VALUE {
            // Aim one second early: with B-frames a keyframe's decode time precedes its
            // presentation time, so a keyframe found for `from` itself can lie after frames
            // that belong to the window. The first decoded frame verifies the landing spot.
            reader.seek_before_from(1.0);
        }
        Ok(reader)
    }

    /// What is known about the video stream.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The input's name as shown in errors (URLs without their password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Audio packets of the window read so far (only with [`ReadOptions::audio`]), in
    /// stream order. Call it after each frame and pass them to
    /// [`crate::VideoWriter::write_audio`].
    pub fn take_audio(&mut self) -> Vec<AudioPacket> {
        self.audio_queue.drain(..).collect()
    }

    /// Seek to the keyframe at or before `from - backoff`. A failed seek (non-seekable
    /// input, e.g. a live stream) is not an error: decoding then simply starts where the
    /// input is and the frames before `from` are dropped.
    fn seek_before_from(&mut self, backoff: f64) {
        let Some(from) = self.from else { return };
        let target_s = (from - backoff).max(0.0);
        let target = self.start_pts + (target_s / q(self.tb)).floor() as i64;
        // SAFETY: the input context is valid and open; avformat_seek_file only moves the
        // demuxer's position.
        let rc = unsafe {
            ffi::avformat_seek_file(
                self.input.as_mut_ptr(),
                self.stream_index as i32,
                i64::MIN,
                target,
                target,
                0,
            )
        };
        if rc >= 0 {
            self.decoder.flush();
            self.eof_sent = false;
            self.audio_queue.clear();
            self.last_pts = None;
            self.seek_backoff = (target_s > 0.0).then_some(backoff);
        } else {
            self.seek_backoff = None;
        }
    }

    /// The duration of one frame at the stream's frame rate, in seconds.
    fn frame_seconds(&self) -> f64 {
        f64::from(self.info.fps.1) / f64::from(self.info.fps.0)
    }

    fn time_of(&self, pts: i64) -> f64 {
        (pts - self.start_pts) as f64 * q(self.tb)
    }

    /// The next frame of the window, `Ok(None)` after its last frame.
    ///
    /// A live (non-seekable) stream joined between keyframes starts at its first frame
    /// that decodes cleanly; in files, every damaged frame of the window is an error.
    ///
    /// # Errors
    /// [`VideoError::Decode`] for a damaged frame or packet inside the window (never
    /// skipped silently), [`VideoError::Truncated`] when the input ends inside a packet
    /// (a cut-off file: the stream ends with this error rather than with a clean end, so
    /// that an export never passes for complete when it is not), [`VideoError::Read`] for
    /// other demuxer errors, [`VideoError::GeometryChanged`] if the frame size changes.
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame>, VideoError> {
        while !self.done {
            let mut frame = ff::frame::Video::empty();
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    if let Some(f) = self.accept(frame)? {
                        return Ok(Some(f));
                    }
                }
                Err(e) if is_eagain(&e) => self.feed()?,
                Err(ff::Error::Eof) => {
                    self.done = true;
                    self.check_complete()?;
                }
                Err(e) => {
                    return Err(VideoError::Decode {
                        path: self.path.to_path_buf(),
                        time: None,
                        reason: e.to_string(),
                    })
                }
            }
        }
        Ok(None)
    }

    /// At the end of the input: when the container's index gives the video stream's
    /// duration, the last frame must reach it. A file cut at a packet boundary reads like
    /// a clean end otherwise.
    ///
    /// Without a stream duration (Matroska), the file's duration is used with half a second
    /// more slack (it also covers audio, which may run on a little). And a file read whole
    /// must have given a frame for at least half its video packets: a damaged header can
    /// make the demuxer drop most of a stream while its own timing agrees with the loss.
    fn check_complete(&self) -> Result<(), VideoError> {
        let frame_s = self.frame_seconds();
        let last = self.last_pts.map(|p| self.time_of(p));
        let reached = last.map_or(0.0, |l| l + frame_s);
        // One and a half frames of slack: the index's duration may count the last frame's
        // own duration, and variable frame rates make "one frame" approximate.
        let expected = match (self.stream_duration, self.container_duration) {
            (Some(d), _) => Some((d, 1.5 * frame_s, "the file's index")),
            (None, Some(d)) => Some((d, 1.5 * frame_s + 0.5, "the file's header")),
            (None, None) => None,
        };
        if let Some((expected, slack, source)) = expected {
            if reached + slack < expected {
                return Err(VideoError::Truncated {
                    path: self.path.to_path_buf(),
                    reason: format!(
                        "the video ends at {:.3} s but {source} says {expected:.3} s",
                        last.unwrap_or(0.0)
                    ),
                });
            }
        }
        let whole = self.from.is_none() && self.to.is_none();
        if whole && !self.live && self.next_index.saturating_mul(2) + 3 < self.video_packets {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: format!(
                    "only {} frame(s) decoded from {} video packets (damaged timing or index)",
                    self.next_index, self.video_packets
                ),
            });
        }
        Ok(())
    }

    /// Whether time `t` (seconds) lies before the window.
    fn before_window(&self, t: f64) -> bool {
        self.from.is_some_and(|f| t < f - TIME_EPS)
    }

    fn accept(&mut self, mut frame: ff::frame::Video) -> Result<Option<DecodedFrame>, VideoError> {
        let pts = match frame.timestamp().or(frame.pts()) {
            Some(p) => p,
            // No timestamp at all (some raw streams): one frame duration after the last.
            None => match self.last_pts {
                Some(l) => l + (self.frame_seconds() / q(self.tb)).round().max(1.0) as i64,
                None => self.start_pts,
            },
        };
        let t = self.time_of(pts);
        let previous = self.last_pts.map(|p| self.time_of(p));
        if let Some(backoff) = self.seek_backoff.take() {
            // First frame after a seek: it must not lie after `from`, or frames of the window
            // were skipped. Seek further back (or to the start) and decode again.
            if self.from.is_some_and(|f| t > f + TIME_EPS) {
                self.seek_before_from(backoff * 4.0);
                return Ok(None);
            }
        }
        self.last_pts = Some(pts);
        if self.before_window(t) {
            return Ok(None);
        }
        if self.to.is_some_and(|to| t >= to - TIME_EPS) {
            self.done = true;
            self.collect_trailing_audio()?;
            return Ok(None);
        }
        let damaged = frame.is_corrupt() || frame.has_decode_errors();
        if damaged && self.live && !self.started {
            // A live stream joined between keyframes: the frames before the first clean one
            // reference pictures we never received. They are not recorded footage; skip them.
            return Ok(None);
        }
        self.started = true;
        // Frames that vanish in the middle of a file (a damaged Matroska cluster is skipped
        // by the demuxer without an error) show as a jump in time. Three frame durations (at
        // least 0.1 s) of slack allow for timestamp jitter; a live stream may drop frames.
        if let (Some(prev), false) = (previous, self.live) {
            let frame_s = self.frame_seconds();
            if t - prev > (3.0 * frame_s).max(0.1) {
                return Err(VideoError::Decode {
                    path: self.path.to_path_buf(),
                    time: Some(t),
                    reason: format!(
                        "frames are missing: the video jumps from {prev:.3} s to {t:.3} s \
                         (about {} frame(s) at {:.3} fps); the file is damaged or has a gap",
                        ((t - prev) / frame_s).round() as i64 - 1,
                        1.0 / frame_s
                    ),
                });
            }
        }
        if damaged {
            return Err(VideoError::Decode {
                path: self.path.to_path_buf(),
                time: Some(t),
                reason: "the decoder reported a damaged frame (concealed errors)".into(),
            });
        }
        if frame.width() != self.info.width || frame.height() != self.info.height {
            return Err(VideoError::GeometryChanged {
                path: self.path.to_path_buf(),
                time: t,
                reason: format!(
                    "{}x{} became {}x{}",
                    self.info.width,
                    self.info.height,
                    frame.width(),
                    frame.height()
                ),
            });
        }
        let frame = match (frame.format(), self.info.format) {
            (ff::format::Pixel::YUV420P, PixelFormat::I420)
            | (ff::format::Pixel::NV12, PixelFormat::Nv12) => frame,
            (ff::format::Pixel::YUVJ420P, PixelFormat::I420) => {
                // Same layout, full-range levels: relabel, remembered in `info.full_range`.
                frame.set_format(ff::format::Pixel::YUV420P);
                frame.set_color_range(ff::color::Range::JPEG);
                frame
            }
            (src, _) => {
                let dst = if self.info.format == PixelFormat::Nv12 {
                    ff::format::Pixel::NV12
                } else {
                    ff::format::Pixel::YUV420P
                };
                let scaler = match self.scaler.take() {
                    Some(s) if s.matches(src, dst) => s,
                    _ => Scaler::new(src, dst, self.info.width, self.info.height).map_err(|reason| {
                        VideoError::Decode {
                            path: self.path.to_path_buf(),
                            time: Some(t),
                            reason,
                        }
                    })?,
                };
                let out = scaler.convert(&frame).map_err(|reason| VideoError::Decode {
                    path: self.path.to_path_buf(),
                    time: Some(t),
                    reason,
                })?;
                self.scaler = Some(scaler);
                out
            }
        };
        let index = self.next_index;
        self.next_index += 1;
        Ok(Some(DecodedFrame {
            index,
            pts,
            time: t,
            format: self.info.format,
            frame,
            path: self.path.clone(),
        }))
    }

    /// Read packets until one video packet has been sent to the decoder (or the end).
    fn feed(&mut self) -> Result<(), VideoError> {
        if self.eof_sent {
            // The decoder has everything; receive_frame will report its end.
            return Ok(());
        }
        loop {
            let mut pkt = ff::Packet::empty();
            match pkt.read(&mut self.input) {
                Ok(()) => {
                    if pkt.stream() == self.stream_index {
                        return self.send_video(&pkt);
                    }
                    if self.want_audio && Some(pkt.stream()) == self.audio_index {
                        self.queue_audio(pkt);
                    }
                }
                Err(ff::Error::Eof) => {
                    self.send_eof()?;
                    return Ok(());
                }
                Err(e) => {
                    return Err(VideoError::Read {
                        path: self.path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }

    fn send_eof(&mut self) -> Result<(), VideoError> {
        self.eof_sent = true;
        self.decoder.send_eof().map_err(|e| VideoError::Decode {
            path: self.path.to_path_buf(),
            time: None,
            reason: e.to_string(),
        })?;
        if self.video_packets == 0 && self.from.is_none() {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: "no video data".into(),
            });
        }
        Ok(())
    }

    fn send_video(&mut self, pkt: &ff::Packet) -> Result<(), VideoError> {
        self.video_packets += 1;
        let t = pkt.pts().or(pkt.dts()).map(|p| self.time_of(p));
        // Packets wholly before the window (after a seek, possibly open-GOP leftovers) may
        // be damaged without consequence: their frames are dropped anyway.
        let before = t.is_some_and(|t| self.before_window(t));
        if pkt.is_corrupt() && !before {
            return Err(VideoError::Truncated {
                path: self.path.to_path_buf(),
                reason: format!(
                    "the video packet at {:.3} s is incomplete (the file ends or was cut inside it)",
                    t.unwrap_or(f64::NAN)
                ),
            });
        }
        match self.decoder.send_packet(pkt) {
            Ok(()) => Ok(()),
            Err(_) if before => Ok(()),
            Err(e) => Err(VideoError::Decode {
                path: self.path.to_path_buf(),
                time: t,
                reason: e.to_string(),
            }),
        }
    }

    fn queue_audio(&mut self, pkt: ff::Packet) {
        let atb = match &self.info.audio {
            Some(a) => a.time_base,
            None => return,
        };
        let Some(pts) = pkt.pts().or(pkt.dts()) else {
            return;
        };
        let t = pts as f64 * q(atb) - self.start_abs;
        if self.before_window(t) || self.to.is_some_and(|to| t >= to - TIME_EPS) {
            return;
        }
        self.audio_queue.push_back(AudioPacket {
            packet: pkt,
            time_base: atb,
            time: t,
        });
    }

    /// After the window's last video frame, read on until the audio passes `to` too (the
    /// container interleaves audio behind or ahead of video by up to a second or so).
    fn collect_trailing_audio(&mut self) -> Result<(), VideoError> {
        let (Some(ai), Some(to), true) = (self.audio_index, self.to, self.want_audio) else {
            return Ok(());
        };
        let atb = match &self.info.audio {
            Some(a) => a.time_base,
            None => return Ok(()),
        };
        loop {
            let mut pkt = ff::Packet::empty();
            match pkt.read(&mut self.input) {
                Ok(()) if pkt.stream() == ai => {
                    let t = pkt
                        .pts()
                        .or(pkt.dts())
                        .map(|p| p as f64 * q(atb) - self.start_abs);
                    if t.is_some_and(|t| t >= to - TIME_EPS) {
                        return Ok(());
                    }
                    self.queue_audio(pkt);
                }
                Ok(()) => {}
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(VideoError::Read {
                        path: self.path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }
}

impl std::fmt::Debug for VideoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReader")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("next_index", &self.next_index)
            .finish()
    }
}

/// Both ends of a time window, when given, are finite numbers of seconds >= 0.
pub(crate) fn check_times(from: Option<f64>, to: Option<f64>) -> Result<(), VideoError> {
    for (name, v) in [("from", from), ("to", to)] {
        if let Some(v) = v {
            if !v.is_finite() || v < 0.0 {
                return Err(VideoError::InvalidOption {
                    reason: format!("{name} = {v}: a time must be a finite number of seconds >= 0"),
                });
            }
        }
    }
    Ok(())
}
