//! Where the cut falls (see the [module documentation](super)): the start keyframe is found
//! first, then packets are written from it up to the last frame shown at or before `to`,
//! with the references and gap-filling pictures that frame needs.

use ff::ffi;
use ffmpeg_next as ff;

use super::copier::{enc_err, Copier};
use super::types::{CopyMethod, CopyReport};
use crate::probe::q;
use crate::timeline::TIME_EPS;
use crate::VideoError;

/// How far before `from` the copy seeks, in seconds: with B-frames a keyframe's decode time
/// (which demuxer indexes often use) precedes its presentation time by a few frames.
const SEEK_MARGIN: f64 = 1.0;

impl Copier<'_> {
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

    pub(super) fn run(mut self) -> Result<CopyReport, VideoError> {
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
        if pkt.duration() <= 0 {
            // The MP4 demuxer gives no duration for the samples of a fragmented file (the
            // recorder's segments). The muxer then ends the last sample, and the edit list
            // with it, at the last presentation time: the frame shown last would lie outside
            // the edit and players drop it (a packet more than the frames shown). One frame
            // at the stream's rate.
            pkt.set_duration((self.frame_s / q(self.tb)).round().max(1.0) as i64);
        }
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
