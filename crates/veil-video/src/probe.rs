//! Opening an input and learning what its video stream is: the options of
//! [`VideoReader::open`](crate::VideoReader::open), the [`VideoInfo`] it announces, and the
//! checks made before any frame is decoded (frame size, frame rate, the decoder's pixel
//! limit).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::{PixelFormat, MAX_PIXELS};

use crate::convert::{check_size, output_format};
use crate::hwdec::{
    attach, hw_setup, known_failure, remember_failure, Decoder, DecoderUsed, HARDWARE_DECODERS,
};
use crate::timeline::Clock;
use crate::VideoError;

/// Options for opening an input.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Start of the time window in seconds from the start of the input: frames before it
    /// are decoded (from the nearest earlier keyframe) but not handed out.
    pub from: Option<f64>,
    /// End of the time window in seconds (exclusive): the first frame at or after it ends
    /// the stream.
    pub to: Option<f64>,
    /// Collect the audio packets of the window (see
    /// [`VideoReader::take_audio`](crate::VideoReader::take_audio)). Off by default: audio
    /// can carry bystanders' voices.
    pub audio: bool,
    /// Extra options for FFmpeg's demuxer/protocol, e.g. `("rtsp_transport", "tcp")` or
    /// `("rw_timeout", "5000000")` for network inputs.
    pub input_options: Vec<(String, String)>,
    /// Largest frame accepted, in pixels (width x height); `None`: Veil's limit,
    /// [`veil_core::MAX_PIXELS`] (a lower value above it is ignored). A stream whose header
    /// announces larger frames is refused by [`VideoReader::open`](crate::VideoReader::open) with
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
    /// The decoder: [`Decoder::Software`] by default (exports and analysis stay the same
    /// bit for bit); [`Decoder::Auto`] (the recorder's) decodes on a GPU when one opens for
    /// the stream's codec, else in software
    /// ([`VideoReader::decoder_used`](crate::VideoReader::decoder_used) says which and why).
    /// A hardware decoder asked for by name that cannot be used is
    /// [`VideoError::HardwareDecoder`], never a software decode.
    pub decoder: Decoder,
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
    /// Time base of the timestamps ([`DecodedFrame::pts`](crate::DecodedFrame::pts)) as
    /// (numerator, denominator).
    pub time_base: (i32, i32),
    /// Duration of the whole input in seconds, when the container says.
    pub duration: Option<f64>,
    /// Frames expected in the requested window, when it can be estimated (for progress).
    pub frame_count_estimate: Option<u64>,
    /// Whether the input has an audio stream.
    pub has_audio: bool,
    /// Whether the video uses full-range ("JPEG") levels rather than limited range.
    pub full_range: bool,
    /// Degrees (0, 90, 180 or 270) the decoded pictures are turned clockwise to be upright,
    /// from the stream's display matrix (phones and some cameras store pictures sideways
    /// and say so there). Frames are handed out upright: `width` and `height` are the
    /// upright size, and an encoded copy plays upright without the matrix.
    pub rotation: u16,
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
            rotation: 0,
            audio: None,
        }
    }
}

/// What opening an input established: the demuxer and decoder, ready to read, and what is
/// known about the stream.
pub(crate) struct Probe {
    pub(crate) input: ff::format::context::Input,
    pub(crate) decoder: ff::decoder::Video,
    /// Which decoder that is, and why others were passed over.
    pub(crate) decoder_used: DecoderUsed,
    pub(crate) stream_index: usize,
    pub(crate) audio_index: Option<usize>,
    pub(crate) info: VideoInfo,
    pub(crate) clock: Clock,
    /// The video stream's start in seconds on the container's absolute clock (for audio).
    pub(crate) start_abs: f64,
    /// The stream has a start time: its timestamps form a timeline a seek can aim on.
    pub(crate) has_start: bool,
}

pub(crate) fn q(r: ff::Rational) -> f64 {
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

/// Open `input` (`path` is its name for errors) and probe its best video stream.
///
/// # Errors
/// [`VideoError::Open`], [`VideoError::NoVideoStream`], [`VideoError::UnsupportedCodec`],
/// [`VideoError::UnsupportedSize`], [`VideoError::UnsupportedRate`].
pub(crate) fn probe(input: &Path, path: &Arc<Path>, opts: &ReadOptions) -> Result<Probe, VideoError> {
    let p = || path.to_path_buf();
    let max_pixels = opts.max_pixels.unwrap_or(MAX_PIXELS).min(MAX_PIXELS);
    let ictx = open_input(input, path, opts)?;
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

    let (decoder, decoder_used) = open_decoder(&stream, path, max_pixels, !is_live(&ictx), opts.decoder)?;
    let (width, height) = (decoder.width(), decoder.height());
    check_size(path, width, height)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(too_many_pixels(path, width, height, max_pixels));
    }
    let (format, full_range) = output_format(decoder.format(), decoder.color_range());
    let rotation = display_rotation(&stream, path)?;
    // Turned frames are handed out as I420 (the turn is done on its planes), at the upright
    // size.
    let (format, width, height) = match rotation {
        0 => (format, width, height),
        180 => (PixelFormat::I420, width, height),
        _ => (PixelFormat::I420, height, width),
    };
    let fps = frame_rate(&ictx, &stream, path)?;
    let (duration, stream_duration, container_duration, live) = durations(&ictx, &stream, start_abs);
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
        rotation,
        audio: audio.as_ref().map(|(_, a)| a.clone()),
    };
    let clock = Clock {
        start_pts,
        tick: q(tb),
        frame_s: f64::from(fps.1) / f64::from(fps.0),
        live,
        stream_duration,
        container_duration,
    };
    Ok(Probe {
        input: ictx,
        decoder,
        decoder_used,
        stream_index,
        audio_index: audio.map(|(i, _)| i),
        info,
        clock,
        start_abs,
        has_start: raw_start != ffi::AV_NOPTS_VALUE,
    })
}

/// Open the input with the caller's demuxer options and interrupt flag.
fn open_input(
    input: &Path,
    path: &Path,
    opts: &ReadOptions,
) -> Result<ff::format::context::Input, VideoError> {
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
    opened.map_err(|e| VideoError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A decoder for the stream: the one `choice` names; with [`Decoder::Auto`] the first
/// hardware decoder that opens, else the software decoder.
///
/// # Errors
/// [`VideoError::HardwareDecoder`] for a hardware decoder named that cannot be used, and
/// those of [`context`] and [`open_software`].
fn open_decoder(
    stream: &ff::Stream<'_>,
    path: &Path,
    max_pixels: u64,
    strict: bool,
    choice: Decoder,
) -> Result<(ff::decoder::Video, DecoderUsed), VideoError> {
    let used = |decoder: Decoder, codec: String, passed_over| DecoderUsed {
        decoder,
        codec,
        passed_over,
    };
    match choice {
        Decoder::Software => {
            let (dec, codec) = open_software(stream, path, max_pixels, strict)?;
            Ok((dec, used(Decoder::Software, codec, Vec::new())))
        }
        Decoder::Auto => {
            let key = format!("{:?}", stream.parameters().id());
            let mut passed_over = Vec::new();
            for d in HARDWARE_DECODERS {
                if let Some(why) = known_failure(d, &key) {
                    passed_over.push((d, why));
                    continue;
                }
                match open_hardware(d, stream, path, max_pixels, strict)? {
                    Ok((dec, codec)) => return Ok((dec, used(d, codec, passed_over))),
                    Err(why) => {
                        remember_failure(d, &key, &why);
                        passed_over.push((d, why));
                    }
                }
            }
            let (dec, codec) = open_software(stream, path, max_pixels, strict)?;
            Ok((dec, used(Decoder::Software, codec, passed_over)))
        }
        d => match open_hardware(d, stream, path, max_pixels, strict)? {
            Ok((dec, codec)) => Ok((dec, used(d, codec, Vec::new()))),
            // Asked for by name: refused, never silently decoded in software.
            Err(reason) => Err(VideoError::HardwareDecoder {
                path: path.to_path_buf(),
                decoder: d.name(),
                reason,
            }),
        },
    }
}

/// The software decoder of the stream's codec, and its name.
fn open_software(
    stream: &ff::Stream<'_>,
    path: &Path,
    max_pixels: u64,
    strict: bool,
) -> Result<(ff::decoder::Video, String), VideoError> {
    let ctx = context(stream, path, max_pixels, strict, true)?;
    let codec_id = ctx.id();
    let dec = ctx.decoder().video().map_err(|e| VideoError::UnsupportedCodec {
        path: path.to_path_buf(),
        reason: format!("{codec_id:?}: {e}"),
    })?;
    let name = dec.codec().map_or_else(
        || format!("{codec_id:?}").to_lowercase(),
        |c| c.name().to_string(),
    );
    Ok((dec, name))
}

/// Hardware decoder `d` opened for the stream with its name, or (the inner error) why it
/// cannot be used here.
///
/// # Errors
/// Those of [`context`] (they do not depend on the decoder).
fn open_hardware(
    d: Decoder,
    stream: &ff::Stream<'_>,
    path: &Path,
    max_pixels: u64,
    strict: bool,
) -> Result<Result<(ff::decoder::Video, String), String>, VideoError> {
    // One decoding thread: the device decodes, and FFmpeg's frame threads would only hold
    // more surfaces.
    let mut ctx = context(stream, path, max_pixels, strict, false)?;
    let Some(codec) = ff::decoder::find(ctx.id()) else {
        return Ok(Err(format!("this FFmpeg build has no {:?} decoder", ctx.id())));
    };
    let setup = match hw_setup(d, codec) {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    if let Err(why) = attach(&mut ctx, &setup) {
        return Ok(Err(why));
    }
    let name = setup.codec.name().to_string();
    Ok(ctx
        .decoder()
        .open_as(setup.codec)
        .and_then(|o| o.video())
        .map(|dec| (dec, name.clone()))
        .map_err(|e| format!("{name} does not open with {d}: {e}")))
}

/// A codec context for the stream, told the pixel cap before it is opened. A `strict`
/// context (for files) reports every bitstream error as an error instead of concealing it.
/// `threads`: as many frame threads as cores, else one.
fn context(
    stream: &ff::Stream<'_>,
    path: &Path,
    max_pixels: u64,
    strict: bool,
    threads: bool,
) -> Result<ff::codec::context::Context, VideoError> {
    let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| {
        VideoError::UnsupportedCodec {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    if threads {
        // Same as the FFmpeg command-line tool: as many decoding threads as cores.
        ctx.set_threading(ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Frame,
            count: 0,
            ..Default::default()
        });
    }
    // The size the container announces, checked against the cap before the decoder is
    // opened (FFmpeg would refuse it too, as an unspecific "Invalid argument").
    // SAFETY: reading two plain fields of the valid codec context.
    let (pw, ph) = unsafe { ((*ctx.as_ptr()).width, (*ctx.as_ptr()).height) };
    let (pw, ph) = (u32::try_from(pw).unwrap_or(0), u32::try_from(ph).unwrap_or(0));
    if u64::from(pw) * u64::from(ph) > max_pixels {
        return Err(too_many_pixels(path, pw, ph, max_pixels));
    }
    // The decoder refuses to allocate a frame larger than this (a stream that grows
    // mid-stream then fails before the frame exists, not after).
    // SAFETY: `ctx` is a valid, not yet opened codec context; max_pixels is a plain field
    // read when the decoder is opened and when frames are allocated.
    unsafe { (*ctx.as_mut_ptr()).max_pixels = i64::try_from(max_pixels).unwrap_or(i64::MAX) };
    if strict {
        // A concealed frame is flagged (`decode_error_flags`) by the decoder's error
        // resilience, but with frame threading (FFmpeg 5.1) the flag races with the hand-out
        // of the frame and is often missing: a damaged frame would pass as clean. Explode
        // makes the decoder return the error itself, on every run (hardware decoders too).
        // Live streams keep concealment: a stream joined between keyframes starts with
        // frames that reference pictures never received, which the timeline skips rather
        // than refuses.
        // SAFETY: `ctx` is a valid, not yet opened codec context; err_recognition is a
        // plain flags field read by the decoder.
        unsafe { (*ctx.as_mut_ptr()).err_recognition |= ffi::AV_EF_EXPLODE };
    }
    Ok(ctx)
}

/// The stream's frame rate as (numerator, denominator): FFmpeg's guess, 25 fps without one.
///
/// # Errors
/// [`VideoError::UnsupportedRate`] above [`crate::MAX_FPS`].
fn frame_rate(
    ictx: &ff::format::context::Input,
    stream: &ff::Stream<'_>,
    path: &Path,
) -> Result<(i32, i32), VideoError> {
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
    Ok(fps)
}

/// Whether the input is live: no I/O context, or one that cannot seek.
fn is_live(ictx: &ff::format::context::Input) -> bool {
    // SAFETY: reading fields of the valid, open input context and its I/O context.
    unsafe {
        let pb = (*ictx.as_ptr()).pb;
        pb.is_null() || (*pb).seekable == 0
    }
}

/// The input's durations, in seconds: (for [`VideoInfo::duration`], the video stream's per
/// the index, the file's end per its header measured from the video's start `start_abs` on
/// the container's clock, whether the input is live). The last three are what the
/// completeness check trusts.
fn durations(
    ictx: &ff::format::context::Input,
    stream: &ff::Stream<'_>,
    start_abs: f64,
) -> (Option<f64>, Option<f64>, Option<f64>, bool) {
    let tb = stream.time_base();
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
    let live = is_live(ictx);
    let stream_duration = (stream.duration() > 0
        && method != ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE)
        .then(|| stream.duration() as f64 * q(tb));
    let container_duration = (!live
        && ictx.duration() > 0
        && method != ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_BITRATE)
        .then(|| {
            // The header's duration counts from the earliest stream's start (audio may start
            // before the video).
            // SAFETY: reading a field of the valid, open input context.
            let first = unsafe { (*ictx.as_ptr()).start_time };
            let offset = if first == ffi::AV_NOPTS_VALUE {
                0.0
            } else {
                (start_abs - first as f64 / f64::from(ffi::AV_TIME_BASE)).max(0.0)
            };
            ictx.duration() as f64 / f64::from(ffi::AV_TIME_BASE) - offset
        });
    (duration, stream_duration, container_duration, live)
}

/// Degrees (0, 90, 180, 270) to turn the stream's decoded pictures clockwise so that they
/// are upright, from its display matrix (as FFmpeg's own players do).
///
/// # Errors
/// [`VideoError::Open`] for a matrix that mirrors the picture or turns it by other than a
/// quarter turn: Veil would otherwise detect people in a picture shown differently from the
/// one it analysed.
fn display_rotation(stream: &ff::format::stream::Stream<'_>, path: &Path) -> Result<u16, VideoError> {
    let bad = |reason: String| VideoError::Open {
        path: path.to_path_buf(),
        reason,
    };
    for sd in stream.side_data() {
        if sd.kind() != ff::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let d = sd.data();
        if d.len() < 36 {
            return Err(bad(format!(
                "display matrix of {} bytes (9 values of 4 bytes expected)",
                d.len()
            )));
        }
        let mut m = [0i32; 9];
        for (v, b) in m.iter_mut().zip(d.chunks_exact(4)) {
            *v = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        }
        let det = f64::from(m[0]) * f64::from(m[4]) - f64::from(m[1]) * f64::from(m[3]);
        if det < 0.0 {
            return Err(bad(
                "the display matrix mirrors the picture (not supported: re-encode it upright)".into(),
            ));
        }
        // SAFETY: `m` holds the 9 values av_display_rotation_get reads.
        let ccw = unsafe { ffi::av_display_rotation_get(m.as_ptr()) };
        if !ccw.is_finite() {
            return Err(bad("the display matrix is degenerate".into()));
        }
        let cw = (-ccw).rem_euclid(360.0);
        let quarters = (cw / 90.0).round();
        if (cw - 90.0 * quarters).abs() > 1.0 {
            return Err(bad(format!(
                "the display matrix turns the picture by {cw:.1} degrees (only quarter turns are supported)"
            )));
        }
        return Ok((quarters as u16 % 4) * 90);
    }
    Ok(0)
}
