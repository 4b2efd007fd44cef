//! What a manifest records of recordings read as one stream: the window ([`WallWindow`]),
//! its holes ([`Hole`]), the index ([`IndexFile`]), one [`SegmentUsed`] per segment, and in
//! [`RecordingsRecord`] the mapping between the joined stream's seconds, the wall clock and
//! the segments.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use veil_audit::Timestamp;

/// What a hole in a window is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoleKind {
    /// The recorder had no footage (the camera dropped, the recorder was not running).
    Gap {
        /// Why, as the recorder wrote it.
        reason: String,
    },
    /// A segment that retention (or a storage budget) deleted.
    Deleted {
        /// Its file name.
        file: String,
        /// When it was deleted.
        deleted_at: Timestamp,
        /// Why.
        reason: String,
    },
    /// Frames the camera sent somewhere in this recorded stretch that were never recorded
    /// (timestamps that jumped), as the recorder marked them; the rest is recorded.
    LostFrames {
        /// How many.
        frames: u64,
        /// Why, as the recorder wrote it.
        reason: String,
    },
    /// Nothing recorded covers this time (before the first or after the last footage, or
    /// a segment not indexed yet).
    NotRecorded,
}

/// A stretch of the window without footage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hole {
    /// Start (inside the window).
    pub from: Timestamp,
    /// End (inside the window).
    pub to: Timestamp,
    /// What it is.
    #[serde(flatten)]
    pub kind: HoleKind,
}

impl std::fmt::Display for Hole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} .. {}: ", self.from, self.to)?;
        match &self.kind {
            HoleKind::Gap { reason } => write!(f, "recorder gap ({reason})"),
            HoleKind::Deleted {
                file,
                deleted_at,
                reason,
            } => write!(f, "segment {file} deleted at {deleted_at} ({reason})"),
            HoleKind::LostFrames { frames, reason } => {
                write!(f, "{frames} frame(s) lost in recorded footage ({reason})")
            }
            HoleKind::NotRecorded => write!(f, "not recorded"),
        }
    }
}

/// A wall-clock window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallWindow {
    /// Start.
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
}

/// The index a list was built from, as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    /// Its path.
    pub path: PathBuf,
    /// Its SHA-256 when read.
    pub sha256: String,
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    // Times here lie between two valid timestamps of the same window.
    Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now)
}

/// One segment as read, for manifests and audit entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentUsed {
    /// File name.
    pub file: String,
    /// Where it was read.
    pub path: PathBuf,
    /// SHA-256 recorded and checked.
    pub sha256: String,
    /// Its line in the camera's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_line: Option<usize>,
    /// Wall-clock start.
    pub start: Timestamp,
    /// Wall-clock end.
    pub end: Timestamp,
    /// Frames read from it.
    pub frames: u64,
    /// It was decrypted (in memory).
    pub encrypted: bool,
    /// Where it lies in the joined stream, in seconds (first frame, end of last).
    pub stream: [f64; 2],
    /// Its timestamps jumped where the recorder lost frames, and its frames were read one
    /// frame duration apart ([`veil_video::SegmentSpan::retimed`]): wall-clock times inside
    /// it after the jump are early by the time lost (the lost frames are a hole).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retimed: bool,
    /// Where its timestamps jumped (frames lost): seconds of the joined stream of the first
    /// frame after each jump, and the seconds skipped. Nobody is kept across one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jumps: Vec<[f64; 2]>,
    /// The part of the output that comes from it, in seconds of the output (set by the
    /// pipeline; `None`: nothing of it was delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<[f64; 2]>,
}

/// What a manifest records of recordings read as one stream: the camera, the index, the
/// window asked and delivered (wall clock), each segment used, every hole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingsRecord {
    /// The camera.
    pub camera: String,
    /// The index the segments were chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexFile>,
    /// The window asked for.
    pub asked: WallWindow,
    /// The window delivered (first frame to the end of the last), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<WallWindow>,
    /// The segments read, in order.
    pub segments: Vec<SegmentUsed>,
    /// The holes inside the window asked.
    pub holes: Vec<Hole>,
}

fn secs_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

impl RecordingsRecord {
    /// The time in the joined stream (seconds) of wall-clock `w`: inside a segment its
    /// frame's time; in a hole, the next footage; after the last, the stream's end.
    pub fn seconds_at(&self, w: Timestamp) -> f64 {
        for s in &self.segments {
            let len = s.stream[1] - s.stream[0];
            let wall = (ms(w) - ms(s.start)) as f64 / 1000.0;
            if wall < 0.0 {
                return s.stream[0];
            }
            // Wall-clock seconds into the segment to its own seconds: less the time its jumps
            // skipped before `w`; inside a skipped stretch, the next frame.
            let mut into = wall;
            for &[at, skipped] in &s.jumps {
                let jump = at - s.stream[0];
                if into >= jump + skipped {
                    into -= skipped;
                } else if into >= jump {
                    into = jump;
                }
            }
            if into < len {
                return s.stream[0] + into;
            }
        }
        self.segments.last().map_or(0.0, |s| s.stream[1])
    }

    /// The wall-clock time of `t` seconds of the joined stream.
    pub fn wall_at(&self, t: f64) -> Timestamp {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| t >= s.stream[0])
            .or(self.segments.first());
        match seg {
            Some(s) => ts(ms(s.start) + secs_ms(t - s.stream[0] + skipped_before(s, t))),
            None => Timestamp::now(),
        }
    }

    /// This record for an output that holds the joined stream's `[first, end)` seconds,
    /// starting at the output's second 0: the delivered window and each segment's part of
    /// the output.
    pub fn delivered(&self, first: f64, end: f64) -> RecordingsRecord {
        let mut r = self.clone();
        r.delivered = Some(WallWindow {
            from: self.wall_at(first),
            to: self.wall_at_end(end),
        });
        for s in &mut r.segments {
            let (a, b) = (s.stream[0].max(first), s.stream[1].min(end));
            s.output = (b > a).then(|| [round_us(a - first), round_us(b - first)]);
        }
        r
    }

    /// [`RecordingsRecord::delivered`] for an output whose first frame is at `first` and
    /// last frame at `last` seconds of the joined stream (the last frame's duration is its
    /// segment's frame duration).
    pub fn delivered_frames(&self, first: f64, last: f64) -> RecordingsRecord {
        let frame = self
            .segments
            .iter()
            .find(|s| last >= s.stream[0] - 1e-6 && last < s.stream[1])
            .filter(|s| s.frames > 0)
            .map_or(0.0, |s| (s.stream[1] - s.stream[0]) / s.frames as f64);
        self.delivered(first, last + frame)
    }

    /// How manifests name the joined stream: `<camera> <from>..<to>` (the window asked).
    pub fn source_name(&self) -> PathBuf {
        PathBuf::from(format!("{} {}..{}", self.camera, self.asked.from, self.asked.to))
    }

    /// The wall clock of an end time (the end of a segment's last frame stays in it).
    fn wall_at_end(&self, t: f64) -> Timestamp {
        match self
            .segments
            .iter()
            .find(|s| t > s.stream[0] && t <= s.stream[1] + 1e-6)
        {
            Some(s) => ts(ms(s.start) + secs_ms(t - s.stream[0] + skipped_before(s, t))),
            None => self.wall_at(t),
        }
    }

    /// Where the joined stream jumps in wall-clock time: the stream seconds at which a
    /// segment begins that does not follow the previous one without a break (a gap or a
    /// deleted segment lies between them), or a segment's frames go on after frames the
    /// recorder lost, with the wall-clock stretch skipped. Pictures
    /// on either side are not continuous: a track that seems to go on across such a point
    /// may be two people.
    pub fn discontinuities(&self) -> Vec<(f64, WallWindow)> {
        // Inside segments: where the recorder lost frames (the wall clock as the segment's
        // own timestamps had it).
        let inside = self.segments.iter().flat_map(|s| {
            s.jumps.iter().map(move |&[at, skipped]| {
                let before = ms(s.start) + secs_ms(at - s.stream[0] + skipped_before(s, at) - skipped);
                (
                    at,
                    WallWindow {
                        from: ts(before),
                        to: ts(before + secs_ms(skipped)),
                    },
                )
            })
        });
        let mut out: Vec<(f64, WallWindow)> = self
            .segments
            .windows(2)
            .filter_map(|p| {
                let frame_ms = if p[0].frames > 0 {
                    (p[0].stream[1] - p[0].stream[0]) * 1000.0 / p[0].frames as f64
                } else {
                    0.0
                };
                let skipped = (ms(p[1].start) - ms(p[0].end)) as f64;
                (skipped > (1.5 * frame_ms).max(1.0)).then_some((
                    p[1].stream[0],
                    WallWindow {
                        from: p[0].end,
                        to: p[1].start,
                    },
                ))
            })
            .collect();
        out.extend(inside);
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// One line per hole, for a command's output.
    pub fn hole_lines(&self) -> Vec<String> {
        self.holes.iter().map(|h| h.to_string()).collect()
    }
}

/// The seconds `s`'s jumps skipped before `t` seconds of the joined stream.
fn skipped_before(s: &SegmentUsed, t: f64) -> f64 {
    s.jumps.iter().filter(|j| j[0] <= t + 1e-9).map(|j| j[1]).sum()
}

fn round_us(s: f64) -> f64 {
    (s * 1e6).round() / 1e6
}
