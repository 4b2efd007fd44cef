//! Exact copies of a time window: [`copy_window`] copies the recorded packets of a window
//! into a new file without decoding or re-encoding them, so the copy holds the recorded
//! pixels bit for bit. For disclosures to police and justice, where the recipient must get
//! what the camera recorded, not a re-encoded approximation.
//!
//! # Where the cut falls
//!
//! A window `[from, to]` is delivered as every frame that is on screen at some instant of it:
//!
//! - **Start**: the last keyframe whose presentation time is at or before `from`. Frames after
//!   a keyframe are coded as differences to it, so a copy cannot start in between; the copy
//!   starts earlier instead, never later. Packets that follow that keyframe in decode order but
//!   are shown before it (the "leading" pictures of an open GOP, which refer to the previous
//!   GOP) are left out: they could not be decoded.
//! - **End**: the last frame whose presentation time is at or before `to`, plus every packet
//!   that precedes it in decode order (with B-frames, a later picture may be decoded first
//!   because an earlier one refers to it), plus the pictures shown between those reference
//!   pictures, so that the copy has no gap. The delivered window may therefore end a few
//!   frames after `to` (at most one group of B-frames).
//!
//! [`CopyReport`] states the window delivered (the first frame's time and the end of the last
//! frame), so a manifest can state both what was asked for and what was delivered.
//!
//! Times are seconds from the start of the video stream, as everywhere in veil-video.
//!
//! # When a copy is impossible
//!
//! A container cannot hold every codec (raw video in MP4, say), and a stream without
//! timestamps cannot be cut. [`copy_window`] then fails with
//! [`VideoError::CopyUnsupported`]; [`copy_or_reencode_lossless`] falls back to re-encoding
//! the window with lossless H.264 (libx264, QP 0: every decoded pixel is kept) and reports it
//! in [`CopyMethod::LosslessReencode`]. The fallback only runs for 8-bit 4:2:0 video, where
//! lossless H.264 in 4:2:0 keeps every decoded sample; other formats are refused rather than
//! delivered with a lossy conversion under a lossless label.

use std::fs;
use std::path::{Path, PathBuf};

use ff::ffi;
use ffmpeg_next as ff;

use crate::partial::{temp_path, TempGuard};
use crate::{display_path, init, EncodeOptions, ReadOptions, VideoError, VideoReader, VideoWriter};

/// Tolerance when comparing a packet's time with the window's ends, in seconds.
const TIME_EPS: f64 = 1e-6;

/// How far before `from` the copy seeks, in seconds: with B-frames a keyframe's decode time
/// (which demuxer indexes often use) precedes its presentation time by a few frames.
const SEEK_MARGIN: f64 = 1.0;

/// What [`copy_window`] copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyOptions {
    /// Start of the window in seconds (`None`: the start of the input).
    pub from: Option<f64>,
    /// End of the window in seconds, inclusive (`None`: the end of the input).
    pub to: Option<f64>,
    /// Copy the audio of the window too. Off by default: audio can carry bystanders' voices.
    pub keep_audio: bool,
}

/// How the window was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyMethod {
    /// The recorded packets, copied as they are.
    StreamCopy,
    /// Decoded and re-encoded losslessly (H.264, QP 0), because a copy was impossible.
    LosslessReencode {
        /// Why the copy was impossible.
        reason: String,
    },
}

/// What [`copy_window`] delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyReport {
    /// The output file.
    pub output: PathBuf,
    /// Stream copy or lossless re-encode.
    pub method: CopyMethod,
    /// The input's video codec (FFmpeg's name, e.g. `h264`).
    pub codec: String,
    /// The output's video codec (the input's for a copy; `h264` for a re-encode).
    pub output_codec: String,
    /// Video frames in the output.
    pub frames: u64,
    /// Presentation time of the first frame delivered, in seconds from the start of the input.
    pub first: f64,
    /// End of the last frame delivered (its presentation time plus its duration), in seconds.
    pub end: f64,
    /// Whether the output carries audio.
    pub audio: bool,
}

fn q(r: ff::Rational) -> f64 {
    if r.denominator() == 0 {
        0.0
    } else {
        f64::from(r.numerator()) / f64::from(r.denominator())
    }
}

fn check_window(opts: &CopyOptions) -> Result<(), VideoError> {
    crate::timeline::check_times(opts.from, opts.to)?;
    if let (Some(f), Some(t)) = (opts.from, opts.to) {
        if t < f {
            return Err(VideoError::InvalidOption {
                reason: format!("empty time window: to ({t}) is before from ({f})"),
            });
        }
    }
    Ok(())
}

/// Copy the packets of the window `[opts.from, opts.to]` of `input` into `dest` (the
/// container is chosen by `dest`'s extension, e.g. `.mp4`, `.mkv`), without re-encoding.
/// See the [module documentation](self) for where the cut falls.
///
/// The file is written to a hidden temporary file beside `dest` and renamed onto it when
/// complete; on any error nothing is left at `dest`.
///
/// # Errors
/// [`VideoError::InvalidOption`] for a bad window, [`VideoError::Open`],
/// [`VideoError::NoVideoStream`], [`VideoError::CopyUnsupported`] when the codec does not fit
/// the container or the stream has no timestamps to cut by, [`VideoError::Read`] /
/// [`VideoError::Truncated`] for a damaged input, [`VideoError::Encode`] when the window holds
/// no frame or the muxer fails, [`VideoError::Io`] for the output file.
pub fn copy_window(input: &Path, dest: &Path, opts: &CopyOptions) -> Result<CopyReport, VideoError> {
    init();
    check_window(opts)?;
    let path = display_path(input);
    if input.to_str().is_none_or(|s| s.contains('\0')) {
        return Err(VideoError::Open {
            path,
            reason: "the path is not valid UTF-8 or contains a NUL byte (FFmpeg is given UTF-8 paths only)"
                .into(),
        });
    }
    let tmp = temp_path(dest, true)?;
    let guard = TempGuard(Some(tmp.clone()));
    let report = Copier::open(input, &path, dest, &tmp, opts)?.run()?;
    finish_file(&tmp, dest)?;
    drop(guard.disarm());
    Ok(report)
}

/// [`copy_window`], or when the copy is impossible ([`VideoError::CopyUnsupported`]) a
/// lossless re-encode of the same window into H.264 in `dest` (which should then be an
/// `.mp4`), reported as [`CopyMethod::LosslessReencode`]. A re-encode has no keyframe
/// constraint: it starts at the first frame at or after `from`.
///
/// # Errors
/// As [`copy_window`]; for the fallback, as [`VideoReader::open`] and [`VideoWriter`], and
/// [`VideoError::CopyUnsupported`] when the input is not 8-bit 4:2:0 video (a re-encode
/// could not be lossless).
pub fn copy_or_reencode_lossless(
    input: &Path,
    dest: &Path,
    opts: &CopyOptions,
) -> Result<CopyReport, VideoError> {
    match copy_window(input, dest, opts) {
        Err(VideoError::CopyUnsupported { reason, .. }) => reencode_lossless(input, dest, opts, reason),
        other => other,
    }
}

fn reencode_lossless(
    input: &Path,
    dest: &Path,
    opts: &CopyOptions,
    why: String,
) -> Result<CopyReport, VideoError> {
    let path = display_path(input);
    let (codec, pix) = probe_video(input, &path)?;
    let lossless_ok = [
        ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
        ffi::AVPixelFormat::AV_PIX_FMT_YUVJ420P,
        ffi::AVPixelFormat::AV_PIX_FMT_NV12,
    ]
    .into_iter()
    .any(|f| f as i32 == pix);
    if !lossless_ok {
        return Err(VideoError::CopyUnsupported {
            path,
            reason: format!(
                "{why}; and a lossless re-encode is impossible for this pixel format (FFmpeg \
                 #{pix}): only 8-bit 4:2:0 video is re-encoded losslessly"
            ),
        });
    }
    let read = ReadOptions {
        from: opts.from,
        // The reader's end is exclusive; a frame shown exactly at `to` belongs to the window.
        to: opts.to.map(|t| t + 1e-3),
        audio: opts.keep_audio,
        ..ReadOptions::default()
    };
    let mut reader = VideoReader::open(input, &read)?;
    let info = reader.info().clone();
    let enc = EncodeOptions {
        // CRF 0 makes libx264 encode losslessly (QP 0) for 8-bit video.
        crf: 0,
        keep_audio: opts.keep_audio,
        ..EncodeOptions::default()
    };
    let mut writer = VideoWriter::create(dest, &info, &enc)?;
    let frame_s = f64::from(info.fps.1) / f64::from(info.fps.0);
    let (mut first, mut last) = (None, 0.0f64);
    while let Some(frame) = reader.next_frame()? {
        first.get_or_insert(frame.time());
        last = last.max(frame.time());
        writer.write_decoded(&frame)?;
        for p in reader.take_audio() {
            writer.write_audio(p)?;
        }
    }
    let frames = writer.finish()?;
    Ok(CopyReport {
        output: dest.to_path_buf(),
        method: CopyMethod::LosslessReencode { reason: why },
        codec,
        output_codec: "h264".into(),
        frames,
        first: first.unwrap_or(0.0),
        end: last + frame_s,
        audio: opts.keep_audio && info.has_audio,
    })
}

/// The video codec name and pixel format (FFmpeg's `AVPixelFormat` value, compared as an
/// integer: an unknown value must not become a Rust enum) of `input`'s best video stream.
fn probe_video(input: &Path, path: &Path) -> Result<(String, i32), VideoError> {
    let ictx = ff::format::input(&input).map_err(|e| VideoError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream {
            path: path.to_path_buf(),
        })?;
    let params = stream.parameters();
    // SAFETY: reading a plain field of the stream's valid codec parameters.
    let raw = unsafe { (*params.as_ptr()).format };
    Ok((params.id().name().to_owned(), raw))
}

/// One copy in progress.
struct Copier<'a> {
    input: PathBuf,
    path: PathBuf,
    dest: &'a Path,
    ictx: ff::format::context::Input,
    out: ff::format::context::Output,
    video_in: usize,
    video_out: usize,
    audio: Option<(usize, usize, ff::Rational)>,
    tb: ff::Rational,
    ost_tb: ff::Rational,
    start_pts: i64,
    start_abs: f64,
    frame_s: f64,
    codec: String,
    opts: &'a CopyOptions,
}

fn enc_err(dest: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Encode {
        path: dest.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

impl<'a> Copier<'a> {
    fn open(
        input: &Path,
        path: &Path,
        dest: &'a Path,
        tmp: &Path,
        opts: &'a CopyOptions,
    ) -> Result<Copier<'a>, VideoError> {
        let p = || path.to_path_buf();
        let ictx = ff::format::input(&input).map_err(|e| VideoError::Open {
            path: p(),
            reason: e.to_string(),
        })?;
        let stream = ictx
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| VideoError::NoVideoStream { path: p() })?;
        let video_in = stream.index();
        let tb = stream.time_base();
        let raw_start = stream.start_time();
        if raw_start == ffi::AV_NOPTS_VALUE || tb.numerator() <= 0 || tb.denominator() <= 0 {
            return Err(VideoError::CopyUnsupported {
                path: p(),
                reason: "the video stream has no timeline (no start time) to cut by".into(),
            });
        }
        let start_pts = raw_start;
        let start_abs = start_pts as f64 * q(tb);
        // SAFETY: `ictx` and `stream` are valid; av_guess_frame_rate only reads them.
        let fps = unsafe {
            ffi::av_guess_frame_rate(
                ictx.as_ptr().cast_mut(),
                stream.as_ptr().cast_mut(),
                std::ptr::null_mut(),
            )
        };
        let frame_s = if fps.num > 0 && fps.den > 0 {
            f64::from(fps.den) / f64::from(fps.num)
        } else {
            1.0 / 25.0
        };
        let vparams = stream.parameters();
        let codec = vparams.id().name().to_owned();
        let audio_in = if opts.keep_audio {
            ictx.streams()
                .best(ff::media::Type::Audio)
                .map(|s| (s.index(), s.parameters(), s.time_base()))
        } else {
            None
        };

        let mut out = ff::format::output(&tmp).map_err(|e| VideoError::Io {
            path: dest.to_path_buf(),
            reason: format!(
                "cannot create {} (is the extension a known container?): {e}",
                tmp.display()
            ),
        })?;
        // SAFETY: setting a flag on a valid output context before the header is written.
        // Bitexact: no "encoder" tag naming the software and no creation time.
        unsafe { (*out.as_mut_ptr()).flags |= ffi::AVFMT_FLAG_BITEXACT };
        let video_out = {
            let mut ost = out
                .add_stream(ff::encoder::find(ff::codec::Id::None))
                .map_err(|e| enc_err(dest, "cannot add the video stream", e))?;
            ost.set_parameters(vparams);
            ost.set_time_base(tb);
            // SAFETY: clearing the codec tag of a stream we created, so the muxer picks the
            // tag of its own container for this codec.
            unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
            ost.index()
        };
        let audio = match audio_in {
            Some((ai, aparams, atb)) => {
                let mut ost = out
                    .add_stream(ff::encoder::find(ff::codec::Id::None))
                    .map_err(|e| enc_err(dest, "cannot add the audio stream", e))?;
                ost.set_parameters(aparams);
                ost.set_time_base(atb);
                // SAFETY: as above, for the copied audio stream.
                unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
                Some((ai, ost.index(), atb))
            }
            None => None,
        };
        let mut hdr = ff::Dictionary::new();
        hdr.set("movflags", "+faststart");
        if let Err(e) = out.write_header_with(hdr) {
            // The usual cause: the container has no tag for this codec (raw video in MP4).
            return Err(VideoError::CopyUnsupported {
                path: p(),
                reason: format!(
                    "the {codec} video{} cannot be copied into {}: {e}",
                    if audio.is_some() { " (or its audio)" } else { "" },
                    dest.display()
                ),
            });
        }
        let ost_tb = out.stream(video_out).map_or(tb, |s| s.time_base());
        Ok(Copier {
            input: input.to_path_buf(),
            path: p(),
            dest,
            ictx,
            out,
            video_in,
            video_out,
            audio,
            tb,
            ost_tb,
            start_pts,
            start_abs,
            frame_s,
            codec,
            opts,
        })
    }

    fn time_of(&self, pts: i64) -> f64 {
        (pts - self.start_pts) as f64 * q(self.tb)
    }

    /// Read the next packet; `None` at the end of the input.
    fn read(&mut self) -> Result<Option<ff::Packet>, VideoError> {
        let mut pkt = ff::Packet::empty();
        match pkt.read(&mut self.ictx) {
            Ok(()) => {
                if pkt.is_corrupt() {
                    return Err(VideoError::Truncated {
                        path: self.path.clone(),
                        reason: "a packet is incomplete (the file ends or was cut inside it)".into(),
                    });
                }
                Ok(Some(pkt))
            }
            Err(ff::Error::Eof) => Ok(None),
            Err(e) => Err(VideoError::Read {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Read from the current position to the last keyframe at or before `from`, holding the
    /// packets since the latest keyframe (one GOP) until a later keyframe or a frame decoded
    /// after `from` shows that the held keyframe is the start. Returns the held packets, the
    /// keyframe's (pts, dts), the packet read past it, and whether the first keyframe found
    /// already lay after `from`.
    #[allow(clippy::type_complexity)]
    fn find_start(
        &mut self,
        from: f64,
    ) -> Result<(Vec<ff::Packet>, Option<(i64, i64)>, Option<ff::Packet>, bool), VideoError> {
        let mut held: Vec<ff::Packet> = Vec::new();
        let mut key: Option<(i64, i64)> = None; // (pts, dts) of the held keyframe
        let mut rest: Option<ff::Packet> = None;
        let mut late = false;
        while let Some(pkt) = self.read()? {
            if pkt.stream() == self.video_in {
                let Some(pts) = pkt.pts().or(pkt.dts()) else {
                    return Err(VideoError::CopyUnsupported {
                        path: self.path.clone(),
                        reason: "a video packet has no timestamp to cut by".into(),
                    });
                };
                let t = self.time_of(pts);
                if pkt.is_key() && t <= from + TIME_EPS {
                    held.clear();
                    key = Some((pts, pkt.dts().unwrap_or(pts)));
                } else if key.is_some()
                    && (pkt.is_key() || self.time_of(pkt.dts().unwrap_or(pts)) > from + TIME_EPS)
                {
                    // A later keyframe, or a packet decoded after `from` (so no keyframe at or
                    // before `from` can follow): the held keyframe starts the copy.
                    rest = Some(pkt);
                    break;
                } else if key.is_none() {
                    if pkt.is_key() {
                        // The input starts after `from`: its first keyframe starts the copy.
                        key = Some((pts, pkt.dts().unwrap_or(pts)));
                        late = true;
                    } else {
                        // Before the first keyframe: cannot be decoded on its own.
                        continue;
                    }
                }
            } else if key.is_none() {
                continue;
            }
            held.push(pkt);
        }
        Ok((held, key, rest, late))
    }

    /// Seek to the keyframe at or before `t` seconds; `false` when `t` is not after the start
    /// or the input cannot seek (it is then read from where it is, the start).
    fn seek_before(&mut self, t: f64) -> bool {
        if t <= 0.0 {
            return false;
        }
        let target = self.start_pts + (t / q(self.tb)).floor() as i64;
        // SAFETY: the input context is valid and open; avformat_seek_file only moves the
        // demuxer's position.
        let rc = unsafe {
            ffi::avformat_seek_file(
                self.ictx.as_mut_ptr(),
                self.video_in as i32,
                i64::MIN,
                target,
                target,
                0,
            )
        };
        rc >= 0
    }

    /// Open the input again, positioned at its start.
    fn reopen(&mut self) -> Result<(), VideoError> {
        self.ictx = ff::format::input(&self.input).map_err(|e| VideoError::Open {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        Ok(())
    }

    fn run(mut self) -> Result<CopyReport, VideoError> {
        let from = self.opts.from.unwrap_or(0.0);
        let to = self.opts.to;
        // Phase 1: find the last keyframe at or before `from`. A seek to a little before
        // `from` skips the recording before it; if the demuxer lands after a keyframe that
        // belongs to the window (an index that counts decode times, a byte-position seek), the
        // input is read from its start instead.
        let mut seeked = self.seek_before(from - SEEK_MARGIN);
        let (held, key, rest) = loop {
            let (held, key, rest, late) = self.find_start(from)?;
            if seeked && (late || key.is_none()) {
                self.reopen()?;
                seeked = false;
                continue;
            }
            break (held, key, rest);
        };
        let Some((key_pts, key_dts)) = key else {
            return Err(enc_err(self.dest, "nothing to copy", "the input has no keyframe"));
        };
        // Phase 2: write from the keyframe on, up to the last frame shown at or before `to`.
        let mut w = Writer {
            key_pts,
            origin_dts: key_dts,
            pending: Vec::new(),
            frames: 0,
            first: None,
            last: None,
            video_done: false,
            audio_past_to: false,
            video_far_past: false,
        };
        for pkt in held.into_iter().chain(rest) {
            self.feed(&mut w, pkt, to)?;
        }
        // After the video's last packet, audio is read on until it passes `to` too (the
        // container interleaves it within a second or so of the video), at most one second
        // of video further.
        while !(w.video_done && (self.audio.is_none() || w.audio_past_to || w.video_far_past)) {
            let Some(pkt) = self.read()? else { break };
            self.feed(&mut w, pkt, to)?;
        }
        let shown_after_from = w
            .last
            .is_some_and(|l| self.time_of(l) + self.frame_s > from + TIME_EPS);
        if w.frames == 0 || !shown_after_from {
            return Err(enc_err(
                self.dest,
                "nothing to write",
                "no frame in the time window (does it lie after the end of the input?)",
            ));
        }
        self.out
            .write_trailer()
            .map_err(|e| enc_err(self.dest, "cannot write the index", e))?;
        let first = w.first.map_or(0.0, |p| self.time_of(p));
        let end = w.last.map_or(first, |p| self.time_of(p)) + self.frame_s;
        Ok(CopyReport {
            output: self.dest.to_path_buf(),
            method: CopyMethod::StreamCopy,
            codec: self.codec.clone(),
            output_codec: self.codec.clone(),
            frames: w.frames,
            first,
            end,
            audio: self.audio.is_some(),
        })
    }

    /// Route one packet read after the start keyframe was found.
    fn feed(&mut self, w: &mut Writer, pkt: ff::Packet, to: Option<f64>) -> Result<(), VideoError> {
        if pkt.stream() == self.video_in {
            if w.video_done {
                let dts = pkt.dts().or(pkt.pts());
                if let (Some(d), Some(to)) = (dts, to) {
                    w.video_far_past |= self.time_of(d) > to + 1.0;
                }
                return Ok(());
            }
            let Some(pts) = pkt.pts().or(pkt.dts()) else {
                return Err(VideoError::CopyUnsupported {
                    path: self.path.clone(),
                    reason: "a video packet has no timestamp to cut by".into(),
                });
            };
            let dts = pkt.dts().unwrap_or(pts);
            if let Some(to) = to {
                // Decoded after `to` and after every frame written so far: so shown after
                // them too, and no later packet can fill a gap among them. The copy is
                // complete; held pictures shown after `to` are not needed.
                let past_written = w.last.is_none_or(|l| dts > l);
                if self.time_of(dts) > to + TIME_EPS && past_written {
                    w.video_done = true;
                    w.pending.clear();
                    return Ok(());
                }
            }
            if pts < w.key_pts {
                // A leading picture of an open GOP: refers to the GOP before the cut.
                return Ok(());
            }
            let shown_in_window = to.is_none_or(|to| self.time_of(pts) <= to + TIME_EPS);
            // A picture shown before one already written fills the gap before it: without
            // it, the copy would skip a recorded frame.
            let fills_gap = w.last.is_some_and(|l| pts < l);
            if shown_in_window || fills_gap {
                for p in std::mem::take(&mut w.pending) {
                    self.write_video(w, p)?;
                }
                self.write_video(w, pkt)?;
            } else {
                w.pending.push(pkt);
            }
            return Ok(());
        }
        let Some((ai, ao, atb)) = self.audio else {
            return Ok(());
        };
        if pkt.stream() != ai {
            return Ok(());
        }
        let Some(apts) = pkt.pts().or(pkt.dts()) else {
            return Ok(());
        };
        let t = apts as f64 * q(atb) - self.start_abs;
        let start = self.time_of(w.key_pts);
        if to.is_some_and(|to| t > to + TIME_EPS) {
            w.audio_past_to = true;
            return Ok(());
        }
        if t < start - TIME_EPS {
            return Ok(());
        }
        let mut pkt = pkt;
        // SAFETY: pure arithmetic helper (rescales the cut's origin to the audio clock).
        let a_origin = unsafe { ffi::av_rescale_q(w.origin_dts, self.tb.into(), atb.into()) };
        pkt.set_pts(pkt.pts().map(|p| p - a_origin));
        pkt.set_dts(pkt.dts().map(|d| d - a_origin));
        pkt.set_position(-1);
        pkt.set_stream(ao);
        let aost_tb = self.out.stream(ao).map_or(atb, |s| s.time_base());
        pkt.rescale_ts(atb, aost_tb);
        pkt.write_interleaved(&mut self.out)
            .map_err(|e| enc_err(self.dest, "cannot write an audio packet", e))?;
        Ok(())
    }

    fn write_video(&mut self, w: &mut Writer, mut pkt: ff::Packet) -> Result<(), VideoError> {
        let pts = pkt.pts().or(pkt.dts()).unwrap_or(w.key_pts);
        w.first = Some(w.first.map_or(pts, |f: i64| f.min(pts)));
        w.last = Some(w.last.map_or(pts, |l: i64| l.max(pts)));
        // Timestamps start at 0 on the decode clock; the muxer keeps the presentation offset.
        pkt.set_pts(pkt.pts().map(|p| p - w.origin_dts));
        pkt.set_dts(pkt.dts().map(|d| d - w.origin_dts));
        pkt.set_position(-1);
        pkt.set_stream(self.video_out);
        pkt.rescale_ts(self.tb, self.ost_tb);
        pkt.write_interleaved(&mut self.out)
            .map_err(|e| enc_err(self.dest, "cannot write a video packet", e))?;
        w.frames += 1;
        Ok(())
    }
}

/// The state of the writing phase.
struct Writer {
    key_pts: i64,
    origin_dts: i64,
    /// Video packets decoded before a frame of the window but shown after `to`: written only
    /// if a later packet is shown inside the window (they are its references).
    pending: Vec<ff::Packet>,
    frames: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// The last frame of the window is written; later video packets are dropped.
    video_done: bool,
    /// An audio packet after `to` was read.
    audio_past_to: bool,
    /// A video packet decoded more than a second after `to` was read.
    video_far_past: bool,
}

/// Sync the finished temporary file and rename it onto `dest`.
fn finish_file(tmp: &Path, dest: &Path) -> Result<(), VideoError> {
    let io = |what: &str, e: std::io::Error| VideoError::Io {
        path: dest.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot sync the output to disk", e))?;
    fs::rename(tmp, dest).map_err(|e| io("cannot move the finished output into place", e))?;
    if let Some(dir) = dest.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
