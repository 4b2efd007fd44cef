//! Encoding: [`VideoWriter`] encodes frames to H.264 (libx264, or a hardware encoder: see
//! [`Encoder`](crate::Encoder)) in MP4, written atomically.
//!
//! The writer is set up here; the encoder it opens and its options are in `encoder`,
//! frames and audio are encoded and muxed in `write`, and the output is finished or
//! removed in `output`.

mod encoder;
mod output;
mod write;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ff::ffi;
use ffmpeg_next as ff;
use veil_core::PixelFormat;

use crate::convert::{check_size, Scaler};
use crate::frame::AudioPacket;
use crate::hwenc::{BufRef, EncoderUsed};
use crate::partial::{temp_path, TempGuard};
use crate::probe::VideoInfo;
use crate::{init, VideoError};

use encoder::{enc_err, open_chosen, Opened};
pub use encoder::{EncodeOptions, PRESETS};

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

    /// The encoder opened (with [`Encoder::Auto`](crate::Encoder::Auto), which one and why
    /// the hardware ones passed over were not used).
    pub fn encoder_used(&self) -> &EncoderUsed {
        &self.used
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
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
