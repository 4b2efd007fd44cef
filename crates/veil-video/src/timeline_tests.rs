//! The integrity rules of the timeline, one by one, without FFmpeg: each test feeds the facts
//! a decoder or demuxer would report and checks the verdict.
#![allow(clippy::unwrap_used)]

use super::*;

/// 10 fps on a 1/1000 time base starting at pts 500 (0.5 s on the container's clock).
const START: i64 = 500;

fn clock() -> Clock {
    Clock {
        start_pts: START,
        tick: 0.001,
        frame_s: 0.1,
        live: false,
        stream_duration: None,
        container_duration: None,
    }
}

fn timeline(clock: Clock, from: Option<f64>, to: Option<f64>) -> Timeline {
    Timeline::new(Arc::from(Path::new("in.mp4")), clock, from, to)
}

/// The facts of a clean frame shown at `t` seconds.
fn at(t: f64) -> FrameFacts {
    FrameFacts {
        pts: Some(START + (t * 1000.0).round() as i64),
        damaged: false,
    }
}

fn damaged_at(t: f64) -> FrameFacts {
    FrameFacts {
        damaged: true,
        ..at(t)
    }
}

/// The time of an accepted frame; panics on any other verdict.
fn accepted(v: Result<Verdict, VideoError>) -> f64 {
    match v {
        Ok(Verdict::Accept { time, .. }) => time,
        other => panic!("expected Accept, got {other:?}"),
    }
}

fn reason(e: VideoError) -> String {
    match e {
        VideoError::Decode { reason, .. } | VideoError::Truncated { reason, .. } => reason,
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn frames_are_timed_from_the_stream_start_and_indexed_in_order() {
    let mut tl = timeline(clock(), None, None);
    for k in 0..5 {
        let t = accepted(tl.frame(at(f64::from(k) * 0.1)));
        assert!((t - f64::from(k) * 0.1).abs() < 1e-9);
        assert_eq!(tl.take_index(), k as u64);
    }
    assert_eq!(tl.frames(), 5);
    assert_eq!(tl.time_of(START + 250), 0.25);
}

#[test]
fn a_frame_without_timestamp_gets_one_frame_after_the_last() {
    let mut tl = timeline(clock(), None, None);
    let none = FrameFacts::default();
    // The first one sits at the stream's start.
    assert_eq!(
        tl.frame(none).unwrap(),
        Verdict::Accept {
            pts: START,
            time: 0.0
        }
    );
    assert_eq!(
        tl.frame(none).unwrap(),
        Verdict::Accept {
            pts: START + 100,
            time: 0.1
        }
    );
    // After a real timestamp, one frame after it.
    accepted(tl.frame(at(0.2)));
    assert_eq!(
        tl.frame(none).unwrap(),
        Verdict::Accept {
            pts: START + 300,
            time: 0.3
        }
    );
}

#[test]
fn a_synthesised_timestamp_moves_at_least_one_tick() {
    // A time base coarser than a frame (1/4 s ticks at 10 fps): frame_s / tick rounds to 0.
    let mut tl = timeline(
        Clock {
            tick: 0.25,
            start_pts: 0,
            ..clock()
        },
        None,
        None,
    );
    let none = FrameFacts::default();
    assert_eq!(tl.frame(none).unwrap(), Verdict::Accept { pts: 0, time: 0.0 });
    assert_eq!(tl.frame(none).unwrap(), Verdict::Accept { pts: 1, time: 0.25 });
}

#[test]
fn the_window_is_from_inclusive_to_exclusive() {
    let mut tl = timeline(clock(), Some(1.0), Some(1.3));
    assert_eq!(tl.frame(at(0.8)).unwrap(), Verdict::Skip);
    assert_eq!(tl.frame(at(0.9)).unwrap(), Verdict::Skip);
    // `from` itself, even a rounding error below it, is inside.
    assert_eq!(accepted(tl.frame(at(1.0))), 1.0);
    assert!(!tl.before_window(1.0 - 1e-7));
    assert!(tl.before_window(1.0 - 1e-5));
    accepted(tl.frame(at(1.1)));
    accepted(tl.frame(at(1.2)));
    // `to` itself ends the window.
    assert_eq!(tl.frame(at(1.3)).unwrap(), Verdict::End);
    assert!(tl.after_window(1.3 - 1e-7));
    assert!(!tl.after_window(1.3 - 1e-5));
}

#[test]
fn a_window_from_zero_is_the_whole_start() {
    let tl = timeline(clock(), Some(0.0), None);
    assert_eq!(tl.from(), None);
    assert_eq!(tl.seek_target(1.0), None, "no seek without a start");
    let tl = timeline(clock(), Some(2.0), Some(3.0));
    assert_eq!((tl.from(), tl.to()), (Some(2.0), Some(3.0)));
}

#[test]
fn a_seek_aims_backoff_seconds_before_from_never_before_the_start() {
    let tl = timeline(clock(), Some(5.0), None);
    assert_eq!(tl.seek_target(1.0), Some((4.0, START + 4000)));
    assert_eq!(tl.seek_target(8.0), Some((0.0, START)));
}

#[test]
fn a_seek_that_lands_after_from_is_retried_four_times_further_back() {
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(true, 4.0, 1.0);
    // The first frame after the seek lies after `from`: frames of the window were skipped.
    assert_eq!(tl.frame(at(5.2)).unwrap(), Verdict::Reseek { backoff: 4.0 });
    tl.seeked(true, 1.0, 4.0);
    // This time the landing spot is early enough; later frames are not verified again.
    assert_eq!(tl.frame(at(1.0)).unwrap(), Verdict::Skip);
    assert_eq!(tl.frame(at(1.1)).unwrap(), Verdict::Skip);
    // (a jump here would be a gap, not a seek to verify)
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(true, 4.0, 1.0);
    assert_eq!(accepted(tl.frame(at(5.0))), 5.0);
    assert!((accepted(tl.frame(at(5.1))) - 5.1).abs() < 1e-9);
}

#[test]
fn a_seek_to_the_start_or_a_failed_seek_is_not_verified() {
    for (ok, target) in [(true, 0.0), (false, 4.0)] {
        let mut tl = timeline(clock(), Some(5.0), None);
        tl.seeked(ok, target, 1.0);
        assert_eq!(accepted(tl.frame(at(5.3))), 5.3, "ok {ok}, target {target}");
    }
}

#[test]
fn a_decode_error_after_a_seek_retreats_until_the_window_begins() {
    // An error before the window's first frame, after a seek past the start: the keyframe
    // landed on cannot start decoding (an open GOP's I-frame). Four times further back.
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(true, 4.0, 1.0);
    assert_eq!(tl.decode_failed(), Some(4.0));
    // Once retreating, the next error needs a new landing: none until the next seek.
    assert_eq!(tl.decode_failed(), None);
    tl.seeked(true, 1.0, 4.0);
    // Frames before the window do not end the landing; a damaged one retreats too.
    assert_eq!(tl.frame(at(1.0)).unwrap(), Verdict::Skip);
    assert_eq!(
        tl.frame(damaged_at(1.1)).unwrap(),
        Verdict::Reseek { backoff: 16.0 }
    );
    // At the start, an error is the file's own.
    tl.seeked(true, 0.0, 16.0);
    assert_eq!(tl.decode_failed(), None);
    assert_eq!(tl.frame(damaged_at(4.9)).unwrap(), Verdict::Skip);
    assert!(tl.frame(damaged_at(5.0)).is_err());
    // After the window's first frame, an error is never blamed on the seek.
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(true, 4.0, 1.0);
    assert_eq!(tl.frame(at(4.9)).unwrap(), Verdict::Skip);
    assert_eq!(accepted(tl.frame(at(5.0))), 5.0);
    assert_eq!(tl.decode_failed(), None);
    assert!(tl.frame(damaged_at(5.1)).is_err());
    // A failed seek (a live stream) is no landing either.
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(false, 4.0, 1.0);
    assert_eq!(tl.decode_failed(), None);
}

#[test]
fn a_successful_seek_forgets_the_last_frame() {
    // Otherwise the jump back to the landing spot (or forward from it) would read as a gap.
    let mut tl = timeline(clock(), Some(5.0), None);
    tl.seeked(true, 4.0, 1.0);
    assert_eq!(tl.frame(at(5.5)).unwrap(), Verdict::Reseek { backoff: 4.0 });
    tl.seeked(true, 1.0, 4.0);
    assert_eq!(
        tl.frame(FrameFacts::default()).unwrap(),
        Verdict::Skip,
        "synthesised at the start"
    );
    // A frame decoded before the seek is no reference for the gap check after it.
    let mut tl = timeline(clock(), Some(5.0), None);
    assert_eq!(tl.frame(at(0.5)).unwrap(), Verdict::Skip);
    tl.seeked(true, 4.0, 1.0);
    assert_eq!(accepted(tl.frame(at(5.0))), 5.0);
    // A failed seek keeps it: decoding goes on where it was.
    let mut tl = timeline(clock(), None, None);
    accepted(tl.frame(at(0.0)));
    tl.seeked(false, 4.0, 1.0);
    assert_eq!(accepted(tl.frame(FrameFacts::default())), 0.1);
}

#[test]
fn a_jump_of_more_than_three_frames_in_a_file_is_an_error() {
    let mut tl = timeline(clock(), None, None);
    accepted(tl.frame(at(0.0)));
    // Three frame durations of slack: 0.3 s is jitter, more is a gap.
    accepted(tl.frame(at(0.3)));
    let e = tl.frame(at(0.69)).unwrap_err();
    assert!(matches!(e, VideoError::Decode { time: Some(t), .. } if (t - 0.69).abs() < 1e-9));
    let r = reason(e);
    assert!(r.contains("frames are missing"), "{r}");
    assert!(r.contains("from 0.300 s to 0.690 s"), "{r}");
    assert!(r.contains("about 3 frame(s)"), "{r}");
}

#[test]
fn the_gap_slack_is_at_least_a_tenth_of_a_second() {
    // At 100 fps three frames are 0.03 s; jitter up to 0.1 s passes.
    let fast = Clock {
        frame_s: 0.01,
        ..clock()
    };
    let mut tl = timeline(fast.clone(), None, None);
    accepted(tl.frame(at(0.0)));
    accepted(tl.frame(at(0.1)));
    assert!(tl.frame(at(0.21)).is_err());
}

#[test]
fn a_gap_counts_frames_before_the_window_too() {
    // The frame before `from` was decoded: a jump from it into the window is a gap as well.
    let mut tl = timeline(clock(), Some(1.0), None);
    assert_eq!(tl.frame(at(0.5)).unwrap(), Verdict::Skip);
    assert!(tl.frame(at(1.0)).is_err());
}

#[test]
fn a_live_stream_may_drop_frames() {
    let mut tl = timeline(
        Clock {
            live: true,
            ..clock()
        },
        None,
        None,
    );
    accepted(tl.frame(at(0.0)));
    assert_eq!(accepted(tl.frame(at(5.0))), 5.0);
}

#[test]
fn a_live_stream_skips_damaged_frames_until_the_first_clean_one() {
    let mut tl = timeline(
        Clock {
            live: true,
            ..clock()
        },
        None,
        None,
    );
    // Joined between keyframes: the frames referencing pictures never received.
    assert_eq!(tl.frame(damaged_at(0.0)).unwrap(), Verdict::Skip);
    assert_eq!(tl.frame(damaged_at(0.1)).unwrap(), Verdict::Skip);
    accepted(tl.frame(at(0.2)));
    // Once started, damage is an error as in a file.
    let r = reason(tl.frame(damaged_at(0.3)).unwrap_err());
    assert!(r.contains("damaged frame"), "{r}");
}

#[test]
fn a_damaged_frame_of_a_file_is_an_error_even_the_first() {
    let mut tl = timeline(clock(), None, None);
    let e = tl.frame(damaged_at(0.0)).unwrap_err();
    assert!(matches!(e, VideoError::Decode { time: Some(t), .. } if t == 0.0));
    let mut tl = timeline(clock(), None, None);
    accepted(tl.frame(at(0.0)));
    assert!(tl.frame(damaged_at(0.1)).is_err());
}

#[test]
fn damage_outside_the_window_does_not_matter() {
    let mut tl = timeline(clock(), Some(1.0), Some(2.0));
    assert_eq!(tl.frame(damaged_at(0.9)).unwrap(), Verdict::Skip);
    accepted(tl.frame(at(1.0)));
    assert_eq!(tl.frame(damaged_at(2.0)).unwrap(), Verdict::End);
}

#[test]
fn an_incomplete_packet_is_truncation_unless_before_the_window() {
    let mut tl = timeline(clock(), Some(1.0), None);
    assert!(tl.packet(Some(START + 500), true).unwrap(), "before: harmless");
    assert!(!tl.packet(Some(START + 1000), false).unwrap());
    let e = tl.packet(Some(START + 1200), true).unwrap_err();
    assert!(matches!(e, VideoError::Truncated { .. }));
    assert!(reason(e).contains("1.200 s is incomplete"));
    // Without a timestamp nobody can say it is before the window.
    assert!(tl.packet(None, true).is_err());
}

#[test]
fn an_input_without_video_packets_is_truncated() {
    let tl = timeline(clock(), None, None);
    assert_eq!(reason(tl.input_ended().unwrap_err()), "no video data");
    let mut tl = timeline(clock(), None, None);
    tl.packet(Some(START), false).unwrap();
    tl.input_ended().unwrap();
    // After a seek past the end, there may be no packet left: not an error.
    timeline(clock(), Some(100.0), None).input_ended().unwrap();
}

/// Decode `n` frames at 10 fps, then check completeness.
fn ended_after(clock: Clock, n: u32) -> Result<(), VideoError> {
    let mut tl = timeline(clock, None, None);
    for k in 0..n {
        tl.packet(Some(START + i64::from(k) * 100), false).unwrap();
        tl.packet_end(f64::from(k) * 0.1 + 0.1);
        accepted(tl.frame(at(f64::from(k) * 0.1)));
        tl.take_index();
    }
    tl.check_complete()
}

#[test]
fn the_last_frame_must_reach_the_index_duration() {
    let indexed = |d| Clock {
        stream_duration: Some(d),
        ..clock()
    };
    // 30 frames reach 3.0 s; the index may count up to a frame and a half more.
    ended_after(indexed(3.0), 30).unwrap();
    ended_after(indexed(3.12), 30).unwrap();
    let r = reason(ended_after(indexed(3.2), 30).unwrap_err());
    assert_eq!(r, "the video ends at 2.900 s but the file's index says 3.200 s");
    // The index wins over the header.
    ended_after(
        Clock {
            container_duration: Some(3.5),
            ..indexed(3.0)
        },
        30,
    )
    .unwrap();
}

#[test]
fn without_an_index_the_files_content_must_reach_the_header_end() {
    let header = |d| Clock {
        container_duration: Some(d),
        ..clock()
    };
    // 30 frames reach 3.0 s; a frame and a half of slack, as for the index.
    ended_after(header(3.12), 30).unwrap();
    assert!(ended_after(header(3.18), 30).is_err());
    let r = reason(ended_after(header(3.3), 30).unwrap_err());
    assert_eq!(r, "the video ends at 2.900 s but the file's header says 3.300 s");
    // The last 5 of 30 frames lost (the demuxer skipped the damaged last cluster, or the
    // file was cut at a cluster boundary): the header says 3.064 s, the content ends at 2.5 s.
    assert!(ended_after(header(3.064), 25).is_err());
    // Nothing to compare with: a clean end.
    ended_after(clock(), 25).unwrap();
}

#[test]
fn audio_running_on_after_the_video_explains_a_later_header_end() {
    let mut tl = timeline(
        Clock {
            container_duration: Some(3.5),
            ..clock()
        },
        None,
        None,
    );
    for k in 0..30 {
        tl.packet(Some(START + i64::from(k) * 100), false).unwrap();
        tl.packet_end(f64::from(k) * 0.1 + 0.1);
        accepted(tl.frame(at(f64::from(k) * 0.1)));
        tl.take_index();
    }
    assert!(tl.check_complete().is_err(), "the video alone ends at 3.0 s");
    // An audio packet ending at 3.4 s: the file's content reaches its stated end.
    tl.packet_end(3.4);
    // (garbage timestamps are ignored)
    tl.packet_end(f64::NAN);
    tl.check_complete().unwrap();
}

#[test]
fn a_file_read_whole_gives_a_frame_for_half_its_packets() {
    let mut tl = timeline(clock(), None, None);
    for k in 0..10 {
        tl.packet(Some(START + k * 100), false).unwrap();
    }
    for k in 0..3 {
        accepted(tl.frame(at(f64::from(k) * 0.1)));
        tl.take_index();
    }
    // 3 frames for 10 packets: 2*3 + 3 < 10.
    let r = reason(tl.check_complete().unwrap_err());
    assert_eq!(
        r,
        "only 3 frame(s) decoded from 10 video packets (damaged timing or index)"
    );
    accepted(tl.frame(at(0.3)));
    tl.take_index();
    tl.check_complete().unwrap();
    // Not for a window (the packets read include those before it) or a live stream.
    for (clock, from) in [
        (clock(), Some(0.5)),
        (
            Clock {
                live: true,
                ..clock()
            },
            None,
        ),
    ] {
        let mut tl = timeline(clock, from, None);
        for k in 0..10 {
            tl.packet(Some(START + k * 100), false).unwrap();
        }
        tl.check_complete().unwrap();
    }
}

#[test]
fn window_ends_are_finite_non_negative_and_ordered() {
    check_window(Some(1.0), Some(2.0)).unwrap();
    check_window(None, Some(0.0)).unwrap();
    for (from, to) in [
        (Some(-1.0), None),
        (None, Some(f64::NAN)),
        (Some(f64::INFINITY), None),
        (Some(2.0), Some(2.0)),
        (Some(3.0), Some(2.0)),
    ] {
        assert!(
            matches!(check_window(from, to), Err(VideoError::InvalidOption { .. })),
            "{from:?}..{to:?}"
        );
    }
    // The stream copy's own rule allows from == to; both share the time check.
    check_times(Some(2.0), Some(2.0)).unwrap();
}
