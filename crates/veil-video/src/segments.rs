//! Recorded segments as one stream: [`concat_segments`] copies the video packets of an
//! ordered list of files (a recorder's segments, each starting on a keyframe) into one MP4,
//! without decoding or re-encoding them, with timestamps made continuous: each segment
//! starts where the previous one's last frame ends, whatever time passed between them on
//! the wall clock (holes are the caller's to report). Every reader (analysis, export,
//! disclosure, detection) then reads that one file, so a person who walks across a segment
//! boundary stays one track, and a disclosure copies the recorded packets bit for bit.
//!
//! The segments must hold the same stream: same codec, frame size and codec parameters
//! (SPS/PPS), as one recorder writes them between size changes. A segment that differs is
//! refused, naming it ([`VideoError::CopyUnsupported`]), rather than decoded with the wrong
//! parameters.

use std::path::{Path, PathBuf};

use ff::ffi;
use ff::Rescale as _;
use ffmpeg_next as ff;

use crate::{display_path, init, VideoError};

/// One segment to read: the path FFmpeg opens (a file, or the `/proc/self/fd` path of its
/// plaintext in memory) and the name errors give (the segment as recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInput {
    /// What to read.
    pub path: PathBuf,
    /// How errors name it.
    pub name: PathBuf,
}

/// Which packets of the joined stream are marked as keyframes (where a reader may seek).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Keyframes {
    /// Only each segment's first packet. A recorder's encoder starts every segment with an
    /// IDR picture, but its keyframes inside a segment may be open-GOP recovery points whose
    /// neighbours refer to pictures before them: a decoder that starts there reports
    /// damage. Decoding readers seek to a segment start and decode forward.
    #[default]
    SegmentStarts,
    /// As recorded: a stream copy may start at any recorded keyframe (it leaves out the
    /// pictures before it that it could not decode).
    AsRecorded,
}

/// Where one segment lies in the joined stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSpan {
    /// Presentation time of its first frame, in seconds from the joined stream's start.
    pub first: f64,
    /// End of its last frame (presentation time plus duration), in seconds.
    pub end: f64,
    /// Video packets (frames) copied from it.
    pub frames: u64,
    /// Its timestamps jumped (frames the recorder lost: a camera's dropped packets), and its
    /// frames were given one frame duration each, in order, so that the joined stream has no
    /// gap a reader refuses as damage; the time lost is the recorder's to report (its index
    /// marks it). Its pictures and packets are unchanged.
    pub retimed: bool,
    /// Where its timestamps jumped: (seconds of the joined stream of the first frame after
    /// the jump, seconds the jump skipped). The pictures on either side of a jump do not
    /// follow each other: a reader must not take a person on one side for the one on the
    /// other.
    pub jumps: Vec<(f64, f64)>,
}

/// What [`concat_segments`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcatReport {
    /// One span per input, in order.
    pub spans: Vec<SegmentSpan>,
    /// The video codec (FFmpeg's name, e.g. `h264`).
    pub codec: String,
}

fn enc(dest: &Path, what: &str, e: impl std::fmt::Display) -> VideoError {
    VideoError::Encode {
        path: dest.to_path_buf(),
        reason: format!("{what}: {e}"),
    }
}

fn utf8(path: &Path, name: &Path) -> Result<(), VideoError> {
    if path.to_str().is_none_or(|s| s.contains('\0')) {
        return Err(VideoError::Open {
            path: name.to_path_buf(),
            reason: "the path is not valid UTF-8 or contains a NUL byte (FFmpeg is given UTF-8 paths only)"
                .into(),
        });
    }
    Ok(())
}

/// The parameters two segments must share to be one stream.
#[derive(PartialEq)]
struct StreamShape {
    codec: ff::codec::Id,
    width: i32,
    height: i32,
    format: i32,
    extradata: Vec<u8>,
}

fn shape(params: &ff::codec::Parameters) -> StreamShape {
    // SAFETY: `params` wraps a valid AVCodecParameters; extradata is `extradata_size` bytes
    // when not NULL.
    unsafe {
        let p = params.as_ptr();
        let extradata = if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        };
        StreamShape {
            codec: params.id(),
            width: (*p).width,
            height: (*p).height,
            format: (*p).format,
            extradata,
        }
    }
}

/// The median step between consecutive presentation times of `packets`, if any is positive.
fn median_step(packets: &[(i64, i64, ff::Packet)]) -> Option<i64> {
    let mut pts: Vec<i64> = packets.iter().map(|p| p.0).collect();
    pts.sort_unstable();
    let mut steps: Vec<i64> = pts.windows(2).map(|w| w[1] - w[0]).filter(|&d| d > 0).collect();
    steps.sort_unstable();
    steps.get(steps.len() / 2).copied()
}

/// Give `packets` (pts, dts, packet; decode order; output ticks) one frame duration each
/// from `offset`, in presentation order, when their presentation times jump by more than one
/// and a half frames somewhere; then the jumps: (new presentation time of the first frame
/// after each, ticks skipped). Empty (untouched) without a jump.
fn retime(packets: &mut [(i64, i64, ff::Packet)], offset: i64, frame: i64) -> Vec<(i64, i64)> {
    let mut order: Vec<i64> = packets.iter().map(|p| p.0).collect();
    order.sort_unstable();
    order.dedup();
    if order.len() != packets.len() || order.windows(2).all(|w| 2 * (w[1] - w[0]) <= 3 * frame) {
        return Vec::new();
    }
    let jumps = order
        .windows(2)
        .enumerate()
        .filter(|(_, w)| 2 * (w[1] - w[0]) > 3 * frame)
        .map(|(i, w)| (offset + (i as i64 + 1) * frame, w[1] - w[0] - frame))
        .collect();
    for p in packets.iter_mut() {
        // Its rank among the presentation times: `order` holds each once.
        let rank = order.partition_point(|&t| t < p.0) as i64;
        p.0 = offset + rank * frame;
    }
    // Decode times one frame apart, as far before the presentation times as the encoder's
    // reordering needs (the same delay as before for a stream without jumps).
    let delay = packets
        .iter()
        .enumerate()
        .map(|(i, p)| i as i64 * frame - (p.0 - offset))
        .max()
        .unwrap_or(0)
        .max(0);
    for (i, p) in packets.iter_mut().enumerate() {
        p.1 = offset + i as i64 * frame - delay;
    }
    jumps
}

/// Copy the video packets of `inputs`, in order, into the MP4 file `dest` (which may exist,
/// e.g. an empty in-memory file; it is overwritten), with continuous timestamps, keyframes
/// marked as `keyframes` says.
///
/// # Errors
/// [`VideoError::InvalidOption`] for an empty list, [`VideoError::Open`] /
/// [`VideoError::NoVideoStream`] naming the segment, [`VideoError::CopyUnsupported`] for a
/// segment whose stream differs from the first one's or has no timestamps,
/// [`VideoError::Read`] / [`VideoError::Truncated`] for a damaged segment,
/// [`VideoError::Encode`] when the muxer fails.
pub fn concat_segments(
    inputs: &[SegmentInput],
    dest: &Path,
    keyframes: Keyframes,
) -> Result<ConcatReport, VideoError> {
    init();
    let Some(first) = inputs.first() else {
        return Err(VideoError::InvalidOption {
            reason: "no segment to read".into(),
        });
    };
    utf8(dest, dest)?;
    let open = |s: &SegmentInput| -> Result<(ff::format::context::Input, usize), VideoError> {
        utf8(&s.path, &s.name)?;
        let ictx = ff::format::input(&s.path).map_err(|e| VideoError::Open {
            path: display_path(&s.name),
            reason: e.to_string(),
        })?;
        let index = ictx
            .streams()
            .best(ff::media::Type::Video)
            .map(|s| s.index())
            .ok_or_else(|| VideoError::NoVideoStream {
                path: display_path(&s.name),
            })?;
        Ok((ictx, index))
    };
    let (ictx, vi) = open(first)?;
    let (params, reference, codec) = {
        let stream = ictx.stream(vi).ok_or_else(|| VideoError::NoVideoStream {
            path: first.name.clone(),
        })?;
        let params = stream.parameters();
        let codec = params.id().name().to_owned();
        (params.clone(), shape(&params), codec)
    };
    let mut out =
        ff::format::output_as(&dest, "mp4").map_err(|e| enc(dest, "cannot create the joined stream", e))?;
    // SAFETY: setting a flag on a valid output context before the header is written.
    // Bitexact: the same segments always give the same bytes (an analysis and a later export
    // of the same window read the same stream).
    unsafe { (*out.as_mut_ptr()).flags |= ffi::AVFMT_FLAG_BITEXACT };
    {
        let mut ost = out
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(|e| enc(dest, "cannot add the video stream", e))?;
        ost.set_parameters(params);
        // SAFETY: clearing the codec tag of a stream we created, so the muxer picks its own.
        unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
    }
    out.write_header().map_err(|e| VideoError::CopyUnsupported {
        path: first.name.clone(),
        reason: format!("the {codec} video cannot be joined into an MP4: {e}"),
    })?;
    let ost_tb = out
        .stream(0)
        .map(|s| s.time_base())
        .ok_or_else(|| enc(dest, "the output lost its stream", "no stream 0"))?;

    let mut spans = Vec::with_capacity(inputs.len());
    // Where the next segment starts, and the last decode time written, in output ticks.
    let mut offset: i64 = 0;
    let mut last_dts: Option<i64> = None;
    let mut first_ctx = Some((ictx, vi));
    for s in inputs {
        let (mut ictx, vi) = match first_ctx.take() {
            Some(c) => c,
            None => open(s)?,
        };
        let name = display_path(&s.name);
        let (tb, start, frame) = {
            let stream = ictx
                .stream(vi)
                .ok_or_else(|| VideoError::NoVideoStream { path: name.clone() })?;
            if shape(&stream.parameters()) != reference {
                return Err(VideoError::CopyUnsupported {
                    path: name,
                    reason: format!(
                        "its video stream differs from the first segment's ({}): another codec, frame size or encoder setting; read it on its own",
                        first.name.display()
                    ),
                });
            }
            // One frame's duration, for packets that carry none (fragmented MP4 often
            // leaves it out): the last frame of a segment must end where the next begins.
            let rate = match stream.avg_frame_rate() {
                r if r.numerator() > 0 && r.denominator() > 0 => r,
                _ => stream.rate(),
            };
            let frame = if rate.numerator() > 0 && rate.denominator() > 0 {
                1i64.rescale(ff::Rational::new(rate.denominator(), rate.numerator()), ost_tb)
            } else {
                0
            };
            (stream.time_base(), stream.start_time(), frame)
        };
        if start == ffi::AV_NOPTS_VALUE || tb.numerator() <= 0 || tb.denominator() <= 0 {
            return Err(VideoError::CopyUnsupported {
                path: name,
                reason: "the video stream has no timeline (no start time) to join by".into(),
            });
        }
        let shift = |t: i64| offset + (t - start).rescale(tb, ost_tb);
        // The segment's packets, read whole: their timestamps are judged before any is written.
        let mut packets = Vec::new();
        loop {
            let mut pkt = ff::Packet::empty();
            match pkt.read(&mut ictx) {
                Ok(()) => {}
                Err(ff::Error::Eof) => break,
                Err(e) => {
                    return Err(VideoError::Read {
                        path: name,
                        reason: e.to_string(),
                    })
                }
            }
            if pkt.stream() != vi {
                continue;
            }
            if pkt.is_corrupt() {
                return Err(VideoError::Truncated {
                    path: name,
                    reason: "a packet is incomplete (the file ends or was cut inside it)".into(),
                });
            }
            let (Some(pts), Some(dts)) = (pkt.pts(), pkt.dts().or(pkt.pts())) else {
                return Err(VideoError::CopyUnsupported {
                    path: name,
                    reason: "a video packet has no timestamp to join by".into(),
                });
            };
            packets.push((shift(pts), shift(dts), pkt));
        }
        if packets.is_empty() {
            return Err(VideoError::Truncated {
                path: name,
                reason: "no video data".into(),
            });
        }
        // One frame's duration as the segment's own timestamps step (the median step): the
        // header's average rate counts lost frames as slower frames.
        let frame = median_step(&packets).unwrap_or(frame);
        let jumps = if frame > 0 {
            retime(&mut packets, offset, frame)
        } else {
            Vec::new()
        };
        let retimed = !jumps.is_empty();
        let mut end = offset;
        let mut frames = 0u64;
        let mut first_pts: Option<i64> = None;
        for (pts, dts, mut pkt) in packets {
            if last_dts.is_some_and(|l| dts <= l) {
                return Err(VideoError::CopyUnsupported {
                    path: name,
                    reason: "its decode times overlap the previous segment's (another encoder delay); read it on its own"
                        .into(),
                });
            }
            let duration = match pkt.duration().max(0).rescale(tb, ost_tb) {
                _ if retimed => frame,
                0 => frame,
                d => d,
            };
            end = end.max(pts + duration.max(1));
            first_pts = Some(first_pts.map_or(pts, |f| f.min(pts)));
            last_dts = Some(dts);
            frames += 1;
            if keyframes == Keyframes::SegmentStarts && frames > 1 {
                pkt.set_flags(pkt.flags() - ff::codec::packet::Flags::KEY);
            }
            pkt.set_stream(0);
            pkt.set_pts(Some(pts));
            pkt.set_dts(Some(dts));
            pkt.set_duration(duration);
            pkt.set_position(-1);
            pkt.write_interleaved(&mut out)
                .map_err(|e| enc(dest, &format!("cannot write a packet of {}", name.display()), e))?;
        }
        let secs = |t: i64| t as f64 * f64::from(ost_tb.numerator()) / f64::from(ost_tb.denominator());
        spans.push(SegmentSpan {
            first: secs(first_pts.unwrap_or(offset)),
            end: secs(end),
            frames,
            retimed,
            jumps: jumps
                .iter()
                .map(|&(at, skipped)| (secs(at), secs(skipped)))
                .collect(),
        });
        offset = end;
    }
    out.write_trailer()
        .map_err(|e| enc(dest, "cannot finish the joined stream", e))?;
    Ok(ConcatReport { spans, codec })
}

#[cfg(test)]
#[path = "segments_tests.rs"]
mod tests;
