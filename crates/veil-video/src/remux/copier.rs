//! Setting up a copy: the input, the output with the same streams (bitexact, index in
//! front), and packet reading and seeking on the input.

use std::path::{Path, PathBuf};

use ff::ffi;
use ffmpeg_next as ff;

use super::types::CopyOptions;
use crate::probe::q;
use crate::VideoError;

/// One copy in progress.
pub(super) struct Copier<'a> {
    pub(super) input: PathBuf,
    pub(super) path: PathBuf,
    pub(super) dest: &'a Path,
    pub(super) ictx: ff::format::context::Input,
    pub(super) out: ff::format::context::Output,
    pub(super) video_in: usize,
    pub(super) video_out: usize,
    pub(super) audio: Option<(usize, usize, ff::Rational)>,
    pub(super) tb: ff::Rational,
    pub(super) ost_tb: ff::Rational,
    pub(super) start_pts: i64,
    pub(super) start_abs: f64,
    pub(super) frame_s: f64,
    pub(super) codec: String,
    pub(super) opts: &'a CopyOptions,
}

pub(super) fn enc_err(dest: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Encode {
        path: dest.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

impl<'a> Copier<'a> {
    pub(super) fn open(
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

    pub(super) fn time_of(&self, pts: i64) -> f64 {
        (pts - self.start_pts) as f64 * q(self.tb)
    }

    /// Read the next packet; `None` at the end of the input.
    pub(super) fn read(&mut self) -> Result<Option<ff::Packet>, VideoError> {
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

    /// Seek to the keyframe at or before `t` seconds; `false` when `t` is not after the start
    /// or the input cannot seek (it is then read from where it is, the start).
    pub(super) fn seek_before(&mut self, t: f64) -> bool {
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
    pub(super) fn reopen(&mut self) -> Result<(), VideoError> {
        self.ictx = ff::format::input(&self.input).map_err(|e| VideoError::Open {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        Ok(())
    }
}
