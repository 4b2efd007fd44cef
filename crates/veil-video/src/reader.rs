//! Demuxing and decoding: [`VideoReader`] hands out decoded frames of a time window as
//! [`DecodedFrame`]s, which lend veil-core frame views over the decoder's own planes.
//!
//! The reader only carries out decisions made elsewhere: [`crate::probe`] opens the input
//! and learns the stream, [`crate::timeline`] judges every frame and packet (window, seek,
//! gaps, damage, completeness), [`crate::pixels`] brings frames to the announced format.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use ff::ffi;
use ffmpeg_next as ff;

use crate::frame::{AudioPacket, DecodedFrame};
use crate::hwdec::{download, remember_failure, DecoderUsed};
use crate::pixels::Normaliser;
use crate::probe::{probe, q, ReadOptions, VideoInfo};
use crate::timeline::{check_window, FrameFacts, Timeline, Verdict, FIRST_BACKOFF};
use crate::{display_path, init, VideoError};

/// The demuxer and the decoder of the video stream.
struct Source {
    path: Arc<Path>,
    input: ff::format::context::Input,
    decoder: ff::decoder::Video,
    stream_index: usize,
    /// The decoder opened, and why others were passed over.
    used: DecoderUsed,
    /// With a hardware decoder, the key its failures are remembered under (the codec).
    hw_key: Option<String>,
    /// The decoder has been told the input ended.
    eof_sent: bool,
}

/// The audio of the window, collected when asked for.
struct AudioWindow {
    /// The caller asked for audio ([`ReadOptions::audio`]).
    wanted: bool,
    /// The input's audio stream: its index and time base.
    stream: Option<(usize, ff::Rational)>,
    /// The video stream's start in seconds on the container's absolute clock: audio times
    /// are measured from it, as video times are.
    start_abs: f64,
    queue: VecDeque<AudioPacket>,
}

/// Reads an input (file or URL) and hands out the decoded video frames of a time window.
pub struct VideoReader {
    source: Source,
    info: VideoInfo,
    timeline: Timeline,
    audio: AudioWindow,
    pixels: Normaliser,
    /// The window's last frame has been handed out (or the input ended).
    done: bool,
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
        check_window(opts.from, opts.to)?;
        // ffmpeg-next turns the path into a C string with `to_str().unwrap()`: a path that is
        // not UTF-8 (possible on Unix) or holds a NUL byte would panic inside it.
        if input.to_str().is_none_or(|s| s.contains('\0')) {
            return Err(VideoError::Open {
                path: path.to_path_buf(),
                reason:
                    "the path is not valid UTF-8 or contains a NUL byte (FFmpeg is given UTF-8 paths only)"
                        .into(),
            });
        }
        let probed = probe(input, &path, opts)?;
        let info = probed.info;
        let hw_key = probed
            .decoder_used
            .hardware()
            .then(|| format!("{:?}", probed.decoder.id()));
        let mut reader = VideoReader {
            source: Source {
                path: path.clone(),
                input: probed.input,
                decoder: probed.decoder,
                stream_index: probed.stream_index,
                hw_key,
                used: probed.decoder_used,
                eof_sent: false,
            },
            timeline: Timeline::new(path.clone(), probed.clock, opts.from, opts.to),
            audio: AudioWindow {
                wanted: opts.audio,
                stream: probed.audio_index.zip(info.audio.as_ref().map(|a| a.time_base)),
                start_abs: probed.start_abs,
                queue: VecDeque::new(),
            },
            pixels: Normaliser::new(path, &info),
            info,
            done: false,
        };
        // Without a start time the stream has no usable timeline (raw H.264, some pipes):
        // a seek would land at an unknown time, so decode from the start and count frames.
        if reader.timeline.from().is_some() && probed.has_start {
            let _ = reader.seek_before_from(FIRST_BACKOFF);
        }
        Ok(reader)
    }

    /// What is known about the video stream.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The decoder opened (with [`crate::Decoder::Auto`], which one and why the hardware
    /// ones were passed over).
    pub fn decoder_used(&self) -> &DecoderUsed {
        &self.source.used
    }

    /// The input's name as shown in errors (URLs without their password).
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// Audio packets of the window read so far (only with [`ReadOptions::audio`]), in
    /// stream order. Call it after each frame and pass them to
    /// [`crate::VideoWriter::write_audio`].
    pub fn take_audio(&mut self) -> Vec<AudioPacket> {
        self.audio.queue.drain(..).collect()
    }

    /// Seek to the keyframe at or before `from - backoff`. A failed seek (non-seekable
    /// input, e.g. a live stream) is not an error: decoding then simply starts where the
    /// input is and the frames before `from` are dropped. Returns whether it seeked.
    fn seek_before_from(&mut self, backoff: f64) -> bool {
        let Some((target_s, target)) = self.timeline.seek_target(backoff) else {
            return false;
        };
        let src = &mut self.source;
        // SAFETY: the input context is valid and open; avformat_seek_file only moves the
        // demuxer's position.
        let rc = unsafe {
            ffi::avformat_seek_file(
                src.input.as_mut_ptr(),
                src.stream_index as i32,
                i64::MIN,
                target,
                target,
                0,
            )
        };
        if rc >= 0 {
            src.decoder.flush();
            src.eof_sent = false;
            self.audio.queue.clear();
        }
        self.timeline.seeked(rc >= 0, target_s, backoff);
        rc >= 0
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
            match self.source.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let frame = self.download_if_on_device(frame)?;
                    if let Some(f) = self.accept(frame)? {
                        return Ok(Some(f));
                    }
                }
                Err(e) if is_eagain(&e) => self.feed()?,
                Err(ff::Error::Eof) => {
                    self.done = true;
                    self.timeline.check_complete()?;
                }
                Err(e) if self.source.hw_key.is_some() => {
                    return Err(self.hw_failed(None, &decode_reason(&e)))
                }
                Err(_) if self.retreat() => {}
                Err(e) => {
                    return Err(VideoError::Decode {
                        path: self.source.path.to_path_buf(),
                        time: None,
                        reason: decode_reason(&e),
                    })
                }
            }
        }
        Ok(None)
    }

    /// A hardware decoder's frame downloaded to system memory; a software decoder's as it
    /// is.
    fn download_if_on_device(&mut self, frame: ff::frame::Video) -> Result<ff::frame::Video, VideoError> {
        if self.source.hw_key.is_none() {
            return Ok(frame);
        }
        download(&frame).map_err(|why| {
            let t = frame
                .timestamp()
                .or(frame.pts())
                .map(|p| self.timeline.time_of(p));
            self.hw_failed(t, &why)
        })
    }

    /// The error for a hardware decoder that failed in the middle of the stream (at `time`,
    /// when known). It is not retried or concealed: no frame is skipped silently, and no
    /// frame decoded in software passes for one decoded on the device. [`crate::Decoder::Auto`]
    /// decodes this codec in software from the next open on.
    fn hw_failed(&self, time: Option<f64>, why: &str) -> VideoError {
        let decoder = self.source.used.decoder;
        let at = time.map_or_else(String::new, |t| format!(" at {t:.3} s"));
        let reason = format!("decoding failed{at}: {why}");
        if let Some(key) = &self.source.hw_key {
            remember_failure(decoder, key, &reason);
        }
        VideoError::HardwareDecoder {
            path: self.source.path.to_path_buf(),
            decoder: decoder.name(),
            reason,
        }
    }

    /// After a decoder error: when the timeline blames the keyframe the last seek landed on
    /// (see [`Timeline::decode_failed`]), seek further back and return `true`; decoding then
    /// starts again from an earlier keyframe, ultimately the start. `false` (the error is
    /// judged as usual) when the timeline does not blame the seek or the new seek fails:
    /// the error is then never dropped.
    fn retreat(&mut self) -> bool {
        match self.timeline.decode_failed() {
            Some(backoff) => self.seek_before_from(backoff),
            None => false,
        }
    }

    /// Carry out the timeline's verdict on a decoded frame.
    fn accept(&mut self, frame: ff::frame::Video) -> Result<Option<DecodedFrame>, VideoError> {
        let facts = FrameFacts {
            pts: frame.timestamp().or(frame.pts()),
            damaged: frame.is_corrupt() || frame.has_decode_errors(),
        };
        match self.timeline.frame(facts)? {
            Verdict::Skip => Ok(None),
            Verdict::Reseek { backoff } => {
                if self.seek_before_from(backoff) {
                    return Ok(None);
                }
                // The input seeked before but not now: the window's start cannot be reached
                // cleanly. Never hand out a window with frames skipped or undecodable.
                Err(VideoError::Decode {
                    path: self.source.path.to_path_buf(),
                    time: facts.pts.map(|p| self.timeline.time_of(p)),
                    reason: "the window's start could not be decoded, and seeking back to an \
                             earlier keyframe failed"
                        .into(),
                })
            }
            Verdict::End => {
                self.done = true;
                self.collect_trailing_audio()?;
                Ok(None)
            }
            Verdict::Accept { pts, time } => {
                let frame = self.pixels.normalise(frame, time)?;
                Ok(Some(DecodedFrame::new(
                    self.timeline.take_index(),
                    pts,
                    time,
                    self.info.format,
                    frame,
                    self.source.path.clone(),
                )))
            }
        }
    }

    /// Read packets until one video packet has been sent to the decoder (or the end).
    fn feed(&mut self) -> Result<(), VideoError> {
        if self.source.eof_sent {
            // The decoder has everything; receive_frame will report its end.
            return Ok(());
        }
        loop {
            let mut pkt = ff::Packet::empty();
            match pkt.read(&mut self.source.input) {
                Ok(()) => {
                    self.note_packet_end(&pkt);
                    if pkt.stream() == self.source.stream_index {
                        return self.send_video(&pkt);
                    }
                    self.queue_audio(pkt);
                }
                Err(ff::Error::Eof) => {
                    self.send_eof()?;
                    return Ok(());
                }
                Err(e) => {
                    return Err(VideoError::Read {
                        path: self.source.path.to_path_buf(),
                        reason: e.to_string(),
                    })
                }
            }
        }
    }

    /// Tell the timeline where a packet of any stream ends, on the video's timeline.
    fn note_packet_end(&mut self, pkt: &ff::Packet) {
        let Some(tb) = self.source.input.stream(pkt.stream()).map(|s| s.time_base()) else {
            return;
        };
        if let Some(p) = pkt.pts().or(pkt.dts()) {
            let end = p.saturating_add(pkt.duration().max(0));
            self.timeline
                .packet_end(end as f64 * q(tb) - self.audio.start_abs);
        }
    }

    fn send_eof(&mut self) -> Result<(), VideoError> {
        self.source.eof_sent = true;
        if let Err(e) = self.source.decoder.send_eof() {
            if self.source.hw_key.is_some() {
                return Err(self.hw_failed(None, &e.to_string()));
            }
            return Err(VideoError::Decode {
                path: self.source.path.to_path_buf(),
                time: None,
                reason: e.to_string(),
            });
        }
        self.timeline.input_ended()
    }

    fn send_video(&mut self, pkt: &ff::Packet) -> Result<(), VideoError> {
        let pts = pkt.pts().or(pkt.dts());
        let before = self.timeline.packet(pts, pkt.is_corrupt())?;
        match self.source.decoder.send_packet(pkt) {
            Ok(()) => Ok(()),
            Err(e) if self.source.hw_key.is_some() => {
                Err(self.hw_failed(pts.map(|p| self.timeline.time_of(p)), &decode_reason(&e)))
            }
            // With frame threading the error may belong to an earlier packet.
            Err(_) if self.retreat() => Ok(()),
            Err(_) if before => Ok(()),
            Err(e) => Err(VideoError::Decode {
                path: self.source.path.to_path_buf(),
                time: pts.map(|p| self.timeline.time_of(p)),
                reason: decode_reason(&e),
            }),
        }
    }

    /// The time of an audio packet of the wanted audio stream on the video's timeline;
    /// `None` for other packets or without a timestamp.
    fn audio_time(&self, pkt: &ff::Packet) -> Option<f64> {
        match self.audio.stream {
            Some((index, atb)) if self.audio.wanted && pkt.stream() == index => pkt
                .pts()
                .or(pkt.dts())
                .map(|p| p as f64 * q(atb) - self.audio.start_abs),
            _ => None,
        }
    }

    /// Keep an audio packet of the window (when audio is wanted).
    fn queue_audio(&mut self, pkt: ff::Packet) {
        let (Some(t), Some((_, atb))) = (self.audio_time(&pkt), self.audio.stream) else {
            return;
        };
        if self.timeline.before_window(t) || self.timeline.after_window(t) {
            return;
        }
        self.audio.queue.push_back(AudioPacket {
            packet: pkt,
            time_base: atb,
            time: t,
        });
    }

    /// After the window's last video frame, read on until the audio passes `to` too (the
    /// container interleaves audio behind or ahead of video by up to a second or so).
    fn collect_trailing_audio(&mut self) -> Result<(), VideoError> {
        let (Some((ai, _)), Some(_), true) = (self.audio.stream, self.timeline.to(), self.audio.wanted)
        else {
            return Ok(());
        };
        loop {
            let mut pkt = ff::Packet::empty();
            match pkt.read(&mut self.source.input) {
                Ok(()) if pkt.stream() == ai => {
                    if self
                        .audio_time(&pkt)
                        .is_some_and(|t| self.timeline.after_window(t))
                    {
                        return Ok(());
                    }
                    self.queue_audio(pkt);
                }
                Ok(()) => {}
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(VideoError::Read {
                        path: self.source.path.to_path_buf(),
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
            .field("path", &self.source.path)
            .field("info", &self.info)
            .field("next_index", &self.timeline.frames())
            .finish()
    }
}

/// What a decoder's error means for the operator: FFmpeg's "Invalid data" is damage in the
/// video data (a strict decoder reports it instead of concealing it).
fn decode_reason(e: &ff::Error) -> String {
    match e {
        ff::Error::InvalidData => format!("the video data is damaged ({e})"),
        _ => e.to_string(),
    }
}
