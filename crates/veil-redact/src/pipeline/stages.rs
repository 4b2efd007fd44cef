//! The pieces both passes are built from: three pipeline stages over bounded channels, busy
//! timers, and the frame clock.

use std::path::Path;
use std::thread::{self, ScopedJoinHandle};
use std::time::Instant;

use veil_video::{ReadOptions, VideoInfo, VideoReader};

use crate::{frame_number, RedactError};

/// Frames in flight between two stages: enough to absorb jitter between stages, few enough
/// to bound memory (a 1080p frame is 3 MB).
pub(super) const DEPTH: usize = 4;

/// Maps frame times to frame numbers ([`frame_number`]), strictly increasing even when
/// rounding of a variable frame rate would repeat one.
pub(super) struct FrameClock {
    fps: f64,
    prev: Option<u64>,
}

impl FrameClock {
    pub(super) fn new(fps: f64) -> Self {
        FrameClock { fps, prev: None }
    }

    pub(super) fn next(&mut self, time: f64) -> u64 {
        let f = frame_number(time, self.fps);
        let f = match self.prev {
            Some(p) if f <= p => p + 1,
            _ => f,
        };
        self.prev = Some(f);
        f
    }
}

/// Seconds a stage spent working (not waiting on its channels).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Busy(pub(super) f64);

impl Busy {
    /// Run `f`, adding its wall-clock time.
    pub(super) fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.0 += t.elapsed().as_secs_f64();
        r
    }
}

pub(super) fn fps_of(info: &VideoInfo) -> f64 {
    f64::from(info.fps.0) / f64::from(info.fps.1.max(1))
}

pub(super) fn open_reader(
    input: &Path,
    (from, to): (Option<f64>, Option<f64>),
    audio: bool,
) -> Result<VideoReader, RedactError> {
    let opts = ReadOptions {
        from,
        to,
        audio,
        ..Default::default()
    };
    Ok(VideoReader::open(input, &opts)?)
}

/// Join a stage; a panic becomes an error (never a silent success).
fn join<T>(h: ScopedJoinHandle<'_, Result<T, RedactError>>, stage: &str) -> Result<T, RedactError> {
    h.join()
        .unwrap_or_else(|_| Err(RedactError::Internal(format!("the {stage} stage panicked"))))
}

/// Run three pipeline stages: `first` and `second` on their own threads, `last` on this one.
/// The stages talk over channels the caller moved into them; a stage that fails returns its
/// error and drops its channel ends, so the stages around it stop too (`last` must own its
/// receiver, so that returning drops it). Errors are reported downstream first: a stage
/// that stopped because its neighbour did has no error of its own, and the first real error
/// is the one returned.
pub(super) fn three_stages<A: Send, B: Send, C>(
    (first_name, first): (&str, impl FnOnce() -> Result<A, RedactError> + Send),
    (second_name, second): (&str, impl FnOnce() -> Result<B, RedactError> + Send),
    last: impl FnOnce() -> Result<C, RedactError>,
) -> Result<(A, B, C), RedactError> {
    thread::scope(|s| {
        let h1 = s.spawn(first);
        let h2 = s.spawn(second);
        let c = last();
        let b = join(h2, second_name);
        let a = join(h1, first_name);
        let c = c?;
        let b = b?;
        Ok((a?, b, c))
    })
}
