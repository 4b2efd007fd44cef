//! Fuzzing of the video input path: real MP4 and MKV files, mutated byte-wise (bit flips,
//! overwritten bytes, truncation, splices from the same or another file, inserted and deleted
//! ranges, and container header fields overwritten with hostile values), then read with
//! [`VideoReader`] frame by frame.
//!
//! The properties, for every mutated file:
//! - `open` and `next_frame` return frames or a typed [`VideoError`]; they never panic;
//! - a case ends (frames, error or end) within [`HANG_LIMIT`], or the run aborts and keeps
//!   the input; at most [`MAX_FRAMES`] frames are read per case;
//! - every frame handed out has exactly the announced width, height and pixel format, its
//!   planes can be read entirely (a dangling plane would crash the test) and written (masking
//!   in place makes shared buffers private first);
//! - an opened stream announces an even, non-zero size within Veil's limits;
//! - a file read whole that ends cleanly with fewer frames than its seed lost them in one of
//!   the ways no reader can detect (see [`undetectable_loss`]); any other loss must end with
//!   an error.
//!
//! `cargo test` runs a fixed, short set of cases. Longer runs are time-bounded:
//! `VEIL_FUZZ_SECONDS=1800 cargo test --release -p veil-video --test fuzz_video -- --nocapture`
//! (`VEIL_FUZZ_SEED` picks another sequence; see fuzz/README.md). A panic saves the input under
//! `<target>/tmp/fuzz_video/<seed>/findings/` and fails; a hang saves it and aborts the process; a
//! crash in FFmpeg kills the process, and the input is then the `case.*` file the run printed.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use veil_core::{MAX_DIMENSION, MAX_PIXELS};
use veil_video::{ReadOptions, VideoError, VideoReader};

#[path = "fuzz_video/mutate.rs"]
mod mutate;
use mutate::{mkv_fields, mp4_fields, mutate, Rng};

/// Frames read per case at most: more than any seed has, so a clean seed is read to its end,
/// and a mutated file that would yield frames forever still ends.
const MAX_FRAMES: u64 = 1000;

/// A case running longer than this counts as hung (the seeds decode in well under a second).
const HANG_LIMIT: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The scratch directory of one run (per seed, so that runs can go on at the same time).
fn scratch(seed: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz_video")
        .join(format!("{seed:x}"));
    std::fs::create_dir_all(dir.join("findings")).unwrap();
    dir
}

struct Seed {
    name: &'static str,
    ext: &'static str,
    bytes: Vec<u8>,
    /// Frames of the unmutated file.
    frames: u64,
    /// Their presentation times, in seconds, and the duration of one frame.
    times: Vec<f64>,
    frame_s: f64,
    /// Byte ranges of container header fields worth overwriting: (offset, width in bytes).
    fields: Vec<(usize, usize)>,
}

fn load_seeds() -> Vec<Seed> {
    let files = [
        ("vtest.mp4", "fixtures/vtest.mp4", "mp4", 150),
        ("group_pan.mp4", "fixtures/inzage/group_pan.mp4", "mp4", 49),
        ("vtest-small.mkv", "fixtures/hostile/vtest-small.mkv", "mkv", 30),
    ];
    files
        .iter()
        .map(|&(name, rel, ext, frames)| {
            let bytes = std::fs::read(root().join(rel)).unwrap();
            let fields = if ext == "mp4" {
                mp4_fields(&bytes)
            } else {
                mkv_fields(&bytes)
            };
            assert!(fields.len() > 8, "{name}: no header fields found");
            let mut r = VideoReader::open(root().join(rel), &ReadOptions::default()).unwrap();
            let (fps, fps_den) = r.info().fps;
            let mut times = Vec::new();
            while let Some(f) = r.next_frame().unwrap() {
                times.push(f.time());
            }
            Seed {
                name,
                ext,
                bytes,
                frames,
                times,
                frame_s: f64::from(fps_den) / f64::from(fps),
                fields,
            }
        })
        .collect()
}

/// How a case ended.
#[derive(Debug)]
enum Outcome {
    /// `open` failed with this error variant.
    OpenError(String),
    /// This many frames, then an error of this variant.
    MidError(#[allow(dead_code)] u64, String),
    /// This many frames, then a clean end.
    End(u64),
    /// [`MAX_FRAMES`] frames read; stopped.
    Capped,
}

fn variant(e: &VideoError) -> String {
    let s = format!("{e:?}");
    s.split([' ', '{', '(']).next().unwrap_or("").to_owned()
}

/// What a read saw besides its outcome.
#[derive(Default)]
struct Seen {
    /// The times of the frames handed out.
    times: Vec<f64>,
    /// The file states its length (its index or header gives a duration).
    states_length: bool,
}

/// Read `path` as the pipeline does and check every frame; an `Err` is a property violation.
fn read_checked(path: &Path, opts: &ReadOptions, seen: &mut Seen) -> Result<Outcome, String> {
    let mut r = match VideoReader::open(path, opts) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::OpenError(variant(&e))),
    };
    let info = r.info().clone();
    seen.states_length = info.duration.is_some();
    let (w, h) = (info.width, info.height);
    if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 || w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(format!("opened with an unusable size {w}x{h}"));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("opened with {w}x{h}, more than MAX_PIXELS"));
    }
    let mut n = 0u64;
    loop {
        if n == MAX_FRAMES {
            return Ok(Outcome::Capped);
        }
        let mut f = match r.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(Outcome::End(n)),
            Err(e) => {
                // asking again after an error must not panic either (its answer is not
                // specified: a caller stops at the first error)
                let _ = r.next_frame();
                return Ok(Outcome::MidError(n, variant(&e)));
            }
        };
        if f.index() != n {
            return Err(format!("frame {n} has index {}", f.index()));
        }
        if !f.time().is_finite() {
            return Err(format!("frame {n} has time {}", f.time()));
        }
        seen.times.push(f.time());
        if f.format() != info.format {
            return Err(format!(
                "frame {n} is {:?}, announced {:?}",
                f.format(),
                info.format
            ));
        }
        let sum = {
            let v = f.frame_ref().map_err(|e| format!("frame {n}: no view: {e}"))?;
            if (v.width(), v.height(), v.format()) != (w, h, info.format) {
                return Err(format!(
                    "frame {n} is {}x{} {:?}, announced {w}x{h} {:?}",
                    v.width(),
                    v.height(),
                    v.format(),
                    info.format
                ));
            }
            // touch every row's first and last byte and one byte per 256 between: a
            // dangling or short plane crashes here (reading every byte costs seconds per
            // case in a debug build)
            let mut sum = 0u64;
            for p in v.planes() {
                for row in p.rows() {
                    let last = row.len().saturating_sub(1);
                    sum = row
                        .iter()
                        .step_by(256)
                        .chain(row.get(last))
                        .fold(sum, |a, &b| a.wrapping_add(u64::from(b)));
                }
            }
            sum
        };
        std::hint::black_box(sum);
        if n.is_multiple_of(8) {
            let mut v = f
                .frame_mut()
                .map_err(|e| format!("frame {n}: no writable view: {e}"))?;
            if (v.width(), v.height()) != (w, h) {
                return Err(format!("frame {n}: writable view {}x{}", v.width(), v.height()));
            }
            v.fill_black();
        }
        n += 1;
    }
}

/// Run cases for `budget` (a count or a time) from `base_seed`; returns a summary.
fn run(base_seed: u64, cases: Option<u64>, time: Option<Duration>) -> String {
    let seeds = Arc::new(load_seeds());
    let dir = scratch(base_seed);
    // watchdog: the case number and its start, in ms since `t0`; 0 = between cases
    let t0 = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    let current = Arc::new(AtomicU64::new(0));
    {
        let (started, current, dir) = (started.clone(), current.clone(), dir.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let s = started.load(Ordering::SeqCst);
            if s != 0 && t0.elapsed().as_millis() as u64 > s + HANG_LIMIT.as_millis() as u64 {
                let case = current.load(Ordering::SeqCst);
                let keep = dir.join("findings").join(format!("hang-{base_seed:x}-{case}"));
                for e in std::fs::read_dir(&dir).unwrap().flatten() {
                    if e.file_name().to_string_lossy().starts_with("case.") {
                        let _ = std::fs::copy(e.path(), &keep);
                    }
                }
                eprintln!(
                    "fuzz_video: case {case} of seed {base_seed:#x} still running after {HANG_LIMIT:?}; input kept as {}",
                    keep.display()
                );
                std::process::abort();
            }
        });
    }
    eprintln!(
        "fuzz_video: seed {base_seed:#x}; on a crash the input is the case.* file in {}",
        dir.display()
    );
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    // VEIL_FUZZ_FIRST replays from that case on (case `i` of a seed is always the same file)
    let mut case = std::env::var("VEIL_FUZZ_FIRST")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let first = case;
    // clean ends with fewer frames than the seed (whole file read), per kind of loss
    let mut fewer_clean: BTreeMap<&str, u64> = BTreeMap::new();
    loop {
        if cases.is_some_and(|c| case - first >= c) || time.is_some_and(|t| t0.elapsed() >= t) {
            break;
        }
        let mut rng = Rng(base_seed ^ case.wrapping_mul(0xA076_1D64_78BD_642F));
        let seed = &seeds[rng.below(seeds.len())];
        let others: Vec<&[u8]> = seeds.iter().map(|s| s.bytes.as_slice()).collect();
        let (bytes, log) = mutate(&mut rng, &seed.bytes, &seed.fields, &others);
        // sometimes a misleading extension, to exercise probing by content
        let ext = if rng.chance(8) { "mov" } else { seed.ext };
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("case.") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let path = dir.join(format!("case.{ext}"));
        std::fs::write(&path, &bytes).unwrap();
        let opts = ReadOptions {
            from: rng.chance(4).then(|| rng.below(40) as f64 / 10.0),
            to: rng.chance(4).then(|| 4.0 + rng.below(40) as f64 / 10.0),
            audio: rng.chance(3),
            ..Default::default()
        };
        current.store(case, Ordering::SeqCst);
        started.store((t0.elapsed().as_millis() as u64).max(1), Ordering::SeqCst);
        let mut seen = Seen::default();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_checked(&path, &opts, &mut seen)
        }));
        started.store(0, Ordering::SeqCst);
        let what = format!(
            "case {case} (seed {base_seed:#x}): {} mutated by {log:?}, window {:?}..{:?}",
            seed.name, opts.from, opts.to
        );
        let whole = opts.from.is_none() && opts.to.is_none();
        let res = match res {
            // A clean end of a file read whole with frames missing: only the undetectable kinds.
            Ok(Ok(Outcome::End(n))) if whole && n < seed.frames => {
                match undetectable_loss(&seed.times, &seen, seed.frame_s) {
                    Ok(kind) => {
                        *fewer_clean.entry(kind).or_default() += 1;
                        Ok(Ok(Outcome::End(n)))
                    }
                    Err(why) => Ok(Err(format!(
                        "{n} of {} frames and a clean end, a loss the reader should detect: {why}",
                        seed.frames
                    ))),
                }
            }
            other => other,
        };
        let outcome = match res {
            Ok(Ok(o)) => o,
            Ok(Err(violation)) => {
                let keep = dir
                    .join("findings")
                    .join(format!("bad-{base_seed:x}-{case}.{ext}"));
                std::fs::write(&keep, &bytes).unwrap();
                failures.push(format!("{what}: {violation}; input kept as {}", keep.display()));
                case += 1;
                continue;
            }
            Err(_) => {
                let keep = dir
                    .join("findings")
                    .join(format!("panic-{base_seed:x}-{case}.{ext}"));
                std::fs::write(&keep, &bytes).unwrap();
                failures.push(format!("{what}: panicked; input kept as {}", keep.display()));
                case += 1;
                continue;
            }
        };
        let key = match &outcome {
            Outcome::OpenError(v) => format!("open error {v}"),
            Outcome::MidError(_, v) => format!("error after frames: {v}"),
            Outcome::End(_) => "clean end".to_owned(),
            Outcome::Capped => "frame cap reached".to_owned(),
        };
        *outcomes.entry(key).or_default() += 1;
        if std::env::var_os("VEIL_FUZZ_VERBOSE").is_some() {
            eprintln!("{what}: {outcome:?}");
        }
        case += 1;
    }
    let mut summary = format!(
        "{} cases in {:.1} s; clean ends with fewer frames than the seed (whole file), all of an undetectable kind: {fewer_clean:?}\n",
        case - first,
        t0.elapsed().as_secs_f64()
    );
    for (k, v) in &outcomes {
        summary.push_str(&format!("  {v:6}  {k}\n"));
    }
    assert!(failures.is_empty(), "{summary}\n{}", failures.join("\n"));
    summary
}

/// The unmutated seeds decode completely, with the expected frame counts: the harness starts
/// from valid files.
#[test]
fn seeds_decode_cleanly() {
    for s in load_seeds() {
        let path = root().join(match s.name {
            "vtest.mp4" => "fixtures/vtest.mp4",
            "group_pan.mp4" => "fixtures/inzage/group_pan.mp4",
            _ => "fixtures/hostile/vtest-small.mkv",
        });
        match read_checked(&path, &ReadOptions::default(), &mut Seen::default()) {
            Ok(Outcome::End(n)) => assert_eq!(n, s.frames, "{}", s.name),
            other => panic!("{}: {other:?}", s.name),
        }
    }
}

/// The short run of `cargo test`: a fixed set of mutated files (the same every run).
/// `VEIL_FUZZ_SECONDS` turns it into a run of that many seconds, `VEIL_FUZZ_SEED` changes
/// the sequence, `VEIL_FUZZ_CASES` the count of the short run.
#[test]
fn mutated_files_give_frames_or_typed_errors() {
    let seed = std::env::var("VEIL_FUZZ_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0x005E_ED0F_7E57);
    let secs = std::env::var("VEIL_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let cases = std::env::var("VEIL_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(16);
    let summary = match secs {
        Some(s) => run(seed, None, Some(Duration::from_secs(s))),
        None => run(seed, Some(cases), None),
    };
    eprintln!("fuzz_video: {summary}");
}

/// Frames lost by a file that still ends cleanly, when the reader cannot tell: `Ok` names the
/// kind, `Err` says why the loss is detectable (the reader should have ended with an error).
/// `expected` are the seed's frame times, `seen` what the read saw, `frame_s` one frame.
///
/// Three kinds cannot be detected from what the demuxer hands out:
/// - **Frames missing inside the stream, within the reader's jitter allowance**: one or two
///   consecutive frames, so that the next frame follows the last one by at most three frame
///   durations (0.1 s at least). It happens when FFmpeg's Matroska demuxer meets damage
///   inside a cluster: it logs an error, resyncs to the next element it can parse and returns
///   no error, so a B-frame's packet simply never arrives; or when a file is cut a few packets
///   early, since B-frames are stored after the frame they precede on screen (a cut losing
///   the last packet loses the second-to-last frame shown). What remains is a valid stream
///   whose only trace is a step of two or three frame durations, which the reader must allow:
///   a variable-frame-rate recording makes such steps itself (a camera halving its rate in
///   the dark). Telling the two apart would take the demuxer's log, a process-global hook.
/// - **The last frame**: the container's duration may or may not count the last frame's own
///   duration, and variable frame rates make "one frame" approximate, so the completeness
///   check allows a frame and a half; a file that loses only its last frame on screen is
///   inside it.
/// - **The end of a file that states no length**: when damage to its header has taken the
///   only statement of length a file has (Matroska's segment duration; FFmpeg does not expose
///   the segment's byte size), a file cut short has nothing to be compared with. The
///   demuxer's "File ended prematurely" reaches FFmpeg's process-global log only.
///
/// Everything else is detectable and must be an error: a frame at a time the seed does not
/// have (it came from nowhere), frames missing at the start, more than two consecutive
/// frames missing inside (the gap check), more than the last frame missing at the end of a
/// file that states its length (the completeness checks against the index, the header and
/// the content).
fn undetectable_loss(expected: &[f64], seen: &Seen, frame_s: f64) -> Result<&'static str, String> {
    const INSIDE: &str = "frames missing inside the stream, within the jitter allowance";
    const LAST: &str = "the last frame";
    const UNSTATED: &str = "the end of a file that states no length";
    let got = &seen.times;
    let same = |a: f64, b: f64| (a - b).abs() < 1e-6;
    // The runs of missing seed frames, as (first missing index, count).
    let mut runs = Vec::new();
    let mut k = 0;
    for &t in got.iter() {
        let Some(skip) = expected[k..].iter().position(|&e| same(e, t)) else {
            return Err(format!(
                "a frame at {t:.3} s, a time the seed has no frame at (or out of order)"
            ));
        };
        if skip > 0 {
            runs.push((k, skip));
        }
        k += skip + 1;
    }
    if k < expected.len() {
        runs.push((k, expected.len() - k));
    }
    let mut kind = None;
    for (start, len) in runs {
        if start == 0 {
            return Err(format!("the first {len} frame(s) are missing"));
        }
        if start + len == expected.len() {
            if !seen.states_length {
                kind = Some(UNSTATED);
            } else if len > 1 {
                return Err(format!("the last {len} frames are missing"));
            } else {
                kind = kind.or(Some(LAST));
            }
            continue;
        }
        let step = expected[start + len] - expected[start - 1];
        if step > (3.0 * frame_s).max(0.1) + 1e-6 {
            return Err(format!(
                "{len} frame(s) missing from {:.3} s: a step of {step:.3} s, more than the jitter allowance",
                expected[start]
            ));
        }
        kind = Some(INSIDE);
    }
    kind.ok_or_else(|| "no frame is missing".to_owned())
}

/// The classification itself, on the losses the harness has met and on those it must refuse.
#[test]
fn only_undetectable_losses_pass_for_clean_ends() {
    let seed: Vec<f64> = (0..30).map(|k| f64::from(k) * 0.1).collect();
    let without = |gone: &[usize]| Seen {
        times: seed
            .iter()
            .enumerate()
            .filter(|(k, _)| !gone.contains(k))
            .map(|(_, &t)| t)
            .collect(),
        states_length: true,
    };
    // Seed 0x5eed0f7e57 case 4 (cut 1.4 KB early: the B-frame at 2.8 s is the last packet)
    // and case 596 (185 bytes randomised inside a cluster: the frames at 2.1 and 2.3 s).
    assert!(undetectable_loss(&seed, &without(&[28]), 0.1).is_ok());
    assert!(undetectable_loss(&seed, &without(&[21, 23]), 0.1).is_ok());
    assert!(undetectable_loss(&seed, &without(&[10, 11]), 0.1).is_ok());
    assert!(undetectable_loss(&seed, &without(&[29]), 0.1).is_ok());
    // Seed 3 case 268: a damaged header lost the duration, then the file ends early.
    let unstated = Seen {
        states_length: false,
        ..without(&[14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
    };
    assert!(undetectable_loss(&seed, &unstated, 0.1).is_ok());
    // Detectable: the reader must end these with an error.
    for gone in [&[10, 11, 12][..], &[28, 29], &[25, 26, 27, 28, 29], &[0], &[]] {
        assert!(undetectable_loss(&seed, &without(gone), 0.1).is_err(), "{gone:?}");
    }
    let mut shifted = without(&[5]);
    shifted.times[7] += 0.05;
    assert!(undetectable_loss(&seed, &shifted, 0.1).is_err());
}

/// Every cut of the Matroska seed, at steps of 211 bytes through its clusters, ends with an
/// error or with a loss of an undetectable kind (seed 3 case 219 found a cut losing the last
/// two frames silently: the header check then allowed a tenth of a second more).
#[test]
fn every_cut_of_the_mkv_seed_is_reported_or_undetectable() {
    let seed = load_seeds().into_iter().find(|s| s.ext == "mkv").unwrap();
    let dir = scratch(0xC07);
    let path = dir.join("cut.mkv");
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for len in (4000..seed.bytes.len()).step_by(211) {
        std::fs::write(&path, &seed.bytes[..len]).unwrap();
        let mut seen = Seen::default();
        let outcome = read_checked(&path, &ReadOptions::default(), &mut seen).unwrap();
        let kind = match outcome {
            Outcome::End(n) if n < seed.frames => undetectable_loss(&seed.times, &seen, seed.frame_s)
                .unwrap_or_else(|why| panic!("cut at {len}: {n} frames and a clean end: {why}")),
            Outcome::End(_) => "complete",
            _ => "error",
        };
        *kinds.entry(kind).or_default() += 1;
    }
    eprintln!("cuts of {}: {kinds:?}", seed.name);
    assert!(kinds.get("error").copied().unwrap_or(0) > 200, "{kinds:?}");
}
