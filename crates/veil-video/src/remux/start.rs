//! Which keyframes a copy can start at. A container's keyframe flag is not always a point
//! where decoding can start: libx264 as FFmpeg drives it (and many cameras) writes open GOPs,
//! whose keyframes after the first are I-frames that are not IDR pictures. Their reference
//! marking and the B-frames that follow them refer to the GOP before, so a copy starting at
//! one is not a valid H.264 stream (it must start with an IDR picture): a strict decoder
//! refuses it ("mmco: unref short failure") and a lenient one conceals. For H.264 a copy
//! starts at an IDR picture; other codecs are trusted to flag only points a decoder can start
//! at (HEVC's CRA pictures are such points once their leading pictures are left out, which
//! the cut does).

use ffmpeg_next as ff;

/// H.264's NAL unit type of a slice of an IDR picture.
const H264_IDR: u8 = 5;

/// How to tell a keyframe a copy can start at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StartRule {
    /// Every keyframe the demuxer flags.
    AnyKeyframe,
    /// H.264: a keyframe holding an IDR slice. `nal_length`: the size of the length prefix
    /// of each NAL unit (MP4, Matroska: from the `avcC` record); `None` for start codes
    /// (Annex B: MPEG-TS, raw streams).
    H264 {
        /// Bytes of each NAL unit's length prefix, 1 to 4.
        nal_length: Option<usize>,
    },
}

impl StartRule {
    /// The rule for a stream of codec `id` with codec private data `extradata`.
    pub(super) fn for_stream(id: ff::codec::Id, extradata: &[u8]) -> StartRule {
        if id != ff::codec::Id::H264 {
            return StartRule::AnyKeyframe;
        }
        // An avcC record starts with version 1; its fifth byte's low bits are the length
        // prefix size minus one. Anything else is Annex B.
        let nal_length = match extradata {
            [1, _, _, _, b, ..] => Some(usize::from(b & 3) + 1),
            _ => None,
        };
        StartRule::H264 { nal_length }
    }

    /// Whether a keyframe packet with this payload is a point a copy can start at.
    pub(super) fn can_start(&self, data: &[u8]) -> bool {
        match self {
            StartRule::AnyKeyframe => true,
            StartRule::H264 { nal_length } => nal_types(data, *nal_length).any(|t| t == H264_IDR),
        }
    }
}

/// The H.264 NAL unit types in a packet (length-prefixed or with start codes). A damaged
/// prefix ends the walk: the packet then counts as no start point.
fn nal_types(data: &[u8], nal_length: Option<usize>) -> Box<dyn Iterator<Item = u8> + '_> {
    match nal_length {
        Some(n) => {
            let mut rest = data;
            Box::new(std::iter::from_fn(move || {
                let (len, body) = (rest.get(..n)?, rest.get(n..)?);
                let len = len.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b));
                let nal = body.get(..len)?;
                rest = &body[len..];
                Some(nal.first()? & 0x1f)
            }))
        }
        None => Box::new(
            data.windows(4)
                .filter(|w| w[..3] == [0, 0, 1])
                .map(|w| w[3] & 0x1f),
        ),
    }
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
