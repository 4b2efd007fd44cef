//! Pass 1: decode -> faces -> persons + tracker (+ thumbnails), three threads; and
//! [`analyze`], the pass on its own.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use veil_core::{CameraConfig, CaptureMasker, Class, Detection, Frame, FrameRef};
use veil_detect::{CenterFace, Detector, FaceSearch, NanoDet, PersonSearch};
use veil_track::{Appearance, DetectorModel, Provenance, Tracker, Tracks};
use veil_video::DecodedFrame;

use super::activity::{queue_depth, FaceStep, Feedback, Gate, Luma, Verdict};
use super::stages::{fps_of, open_reader, three_stages, Busy, FrameClock, DEPTH};
use crate::outputs::{check_distinct, Staging};
use crate::sheet::{self, Thumb};
use crate::{
    same_file, AnalyzeOptions, AnalyzeReport, DetectOptions, InjectedFault, ModelRecord, Pass, Progress,
    RedactError, StageTimes, TrackerConfig,
};

/// What pass 1 works on.
pub(super) struct AnalysisPlan<'a> {
    pub(super) input: &'a Path,
    /// The time window `[from, to)`.
    pub(super) window: (Option<f64>, Option<f64>),
    pub(super) detect: &'a DetectOptions,
    pub(super) tracker: &'a TrackerConfig,
    /// Collect thumbnails for the contact sheet.
    pub(super) thumbs: bool,
    /// The camera's zones, masked in the thumbnails.
    pub(super) zones: Option<&'a CameraConfig>,
    /// The temporal padding the tracks will be used with (bounds `detect.every`).
    pub(super) pad_frames: u64,
    pub(super) progress: &'a Option<Progress>,
}

/// The result of pass 1.
pub(super) struct Analysis {
    pub(super) tracks: Tracks,
    pub(super) thumbs: HashMap<u64, Thumb>,
    pub(super) frames: u64,
    /// Frames the activity gate left unsearched (they show the empty background).
    pub(super) skipped: u64,
    pub(super) range: [u64; 2],
    pub(super) span: [f64; 2],
    pub(super) models: Vec<ModelRecord>,
    pub(super) seconds: f64,
    pub(super) stages: StageTimes,
}

fn record(d: &dyn Detector) -> ModelRecord {
    let m = d.model();
    ModelRecord {
        name: m.name.clone(),
        file: m.file.clone(),
        sha256: m.sha256.clone(),
        device: Some(d.device().to_string()),
    }
}

/// The error of an [`InjectedFault`]: what a failing model returns.
fn injected(model: &str, frame: usize) -> RedactError {
    RedactError::Detect(veil_detect::DetectError::Inference {
        model: model.to_owned(),
        reason: format!("injected fault on frame {frame} of the window (test hook)"),
    })
}

fn check_detect(det: &DetectOptions, tcfg: &TrackerConfig, pad_frames: u64) -> Result<(), RedactError> {
    if det.every == 0 || u64::from(det.every) > pad_frames + 1 {
        return Err(RedactError::InvalidOption {
            reason: format!(
                "detecting every {} frames needs at least {} frames of temporal padding (have {pad_frames})",
                det.every,
                u64::from(det.every).saturating_sub(1)
            ),
        });
    }
    if u64::from(det.every) > tcfg.max_age + 1 {
        return Err(RedactError::InvalidOption {
            reason: format!(
                "detecting every {} frames needs a tracker max_age of at least {}",
                det.every,
                det.every - 1
            ),
        });
    }
    if u64::from(det.changes_only) > pad_frames {
        return Err(RedactError::InvalidOption {
            reason: format!(
                "searching {} frames for changes only after each full search needs at least {} frames of temporal padding (have {pad_frames})",
                det.changes_only, det.changes_only
            ),
        });
    }
    if det.full_search_every.is_some_and(|s| !(s > 0.0 && s <= 3600.0)) {
        return Err(RedactError::InvalidOption {
            reason: format!(
                "full search interval {:?} s outside (0, 3600]",
                det.full_search_every.unwrap_or_default()
            ),
        });
    }
    if det.person_every == 0 {
        return Err(RedactError::InvalidOption {
            reason: "person_every must be at least 1".into(),
        });
    }
    if det.threads == 0 || det.threads > 256 {
        return Err(RedactError::InvalidOption {
            reason: format!("detector threads {} outside 1..=256", det.threads),
        });
    }
    Ok(())
}

/// The two detectors of the analysis, built from the options.
fn detectors(det: &DetectOptions) -> Result<(FaceSearch, PersonSearch), RedactError> {
    let mut pb = NanoDet::builder().threads(det.threads).device(det.device);
    if let Some(t) = det.person_threshold {
        pb = pb.threshold(t);
    }
    if let Some(dir) = &det.models_dir {
        pb = pb.models_dir(dir);
    }
    // Persons are searched every frame in full: a changes-only search's motion regions cut
    // people, and a person seen in part would be a second person (persons are not merged
    // into one lying around them: a child in front of an adult is a person of its own); on
    // the bench's clips that gave short tracks of parts and cost the requester's identity.
    Ok((face_search(det)?, PersonSearch::new(pb.build()?, det.min_person)?))
}

/// The face search of the analysis, built from the options.
fn face_search(det: &DetectOptions) -> Result<FaceSearch, RedactError> {
    let mut fb = CenterFace::builder()
        .threads(det.threads)
        .device(det.device)
        .input_size(det.face_input);
    if let Some(t) = det.face_threshold {
        fb = fb.threshold(t);
    }
    if let Some(dir) = &det.models_dir {
        fb = fb.models_dir(dir);
    }
    let mut faces = FaceSearch::new(fb.build()?, det.min_face)?;
    faces.set_changes_only(det.changes_only);
    Ok(faces)
}

/// Where the analysis has got to, kept by its last stage.
#[derive(Default)]
struct Seen {
    frames: u64,
    /// Frames the face stage skipped that the tracking stage searched after all.
    rescued: u64,
    range: [u64; 2],
    span: [f64; 2],
}

/// Pass 1 over the plan's window.
pub(super) fn run_analysis(plan: &AnalysisPlan<'_>) -> Result<Analysis, RedactError> {
    let det = plan.detect;
    check_detect(det, plan.tracker, plan.pad_frames)?;
    plan.tracker.validate()?;
    let t0 = Instant::now();
    // The input first: a file that cannot be opened fails before the models are loaded.
    let reader = open_reader(plan.input, plan.window, false)?;
    let (mut faces, mut persons) = detectors(det)?;
    let (faces_min, persons_min) = (faces.min_size(), persons.min_size());
    let models = vec![record(&faces), record(&persons)];
    let provenance = Provenance {
        veil_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        models: models
            .iter()
            .map(|m| DetectorModel {
                name: m.name.clone(),
                file: m.file.clone(),
                sha256: m.sha256.clone(),
                device: m.device.clone(),
            })
            .collect(),
        face_threshold: Some(faces.detector().threshold()),
        person_threshold: Some(persons.detector().threshold()),
        every: Some(det.every),
        person_every: Some(det.person_every),
        full_search_every: det.full_search_every,
        changes_only: Some(det.changes_only),
    };
    let info = reader.info().clone();
    let fps = fps_of(&info);
    let total = info.frame_count_estimate;
    let mut tracker = Tracker::new(plan.tracker.clone())?;
    // The thumbnails are cut from frames with the zones masked, as an export shows them.
    let masker = match plan.zones.filter(|_| plan.thumbs) {
        Some(cfg) => Some(
            CaptureMasker::new(cfg, info.width, info.height, info.format).map_err(|source| {
                RedactError::Mask {
                    path: plan.input.to_path_buf(),
                    frame: 0,
                    source,
                }
            })?,
        ),
        None => None,
    };
    let person_every = u64::from(det.person_every);
    let every = u64::from(det.every);
    let (face_fault, person_fault) = match det.fault {
        Some(InjectedFault::FaceStage(k)) => (Some(k), None),
        Some(InjectedFault::PersonStage(k)) => (None, Some(k)),
        _ => (None, None),
    };

    let mut thumbs: HashMap<u64, Thumb> = HashMap::new();
    let mut stages = StageTimes::default();
    let mut seen = Seen::default();
    // The activity gate (see `activity`): the face stage decides, the tracking stage tells it
    // what it found. Its queues hold an interval of frames (`queue_depth`).
    let depth = queue_depth(
        DEPTH,
        det.full_search_every,
        fps,
        (info.format, info.width, info.height),
    );
    let (tx_dec, rx_dec) = sync_channel::<(u64, DecodedFrame, bool)>(depth);
    let (tx_face, rx_face) = sync_channel::<(u64, DecodedFrame, FaceStep)>(depth);
    let feedback = Feedback::new(plan.tracker.max_age);
    let fb = &feedback;
    let mut gate = det.full_search_every.map(Gate::new);
    let decode = move || -> Result<f64, RedactError> {
        let mut reader = reader;
        let mut clock = FrameClock::new(fps);
        let mut busy = Busy::default();
        // Frames until the next detection (a countdown: MSRV 1.85 has no
        // `is_multiple_of`). The last frame of the window is always detected, so the
        // track ends are observed, not only held by padding; hence one frame of lookahead.
        let mut countdown = 0u64;
        let mut pending: Option<(u64, DecodedFrame, bool)> = None;
        loop {
            let Some(f) = busy.time(|| reader.next_frame())? else {
                if let Some((n, f, _)) = pending.take() {
                    let _ = tx_dec.send((n, f, true));
                }
                break;
            };
            let n = clock.next(f.time());
            let detect = countdown == 0;
            countdown = if detect { every - 1 } else { countdown - 1 };
            if let Some(p) = pending.replace((n, f, detect)) {
                if tx_dec.send(p).is_err() {
                    break; // downstream stopped; it reports why
                }
            }
        }
        Ok(busy.0)
    };
    let face_stage = move || -> Result<(f64, u64), RedactError> {
        let mut busy = Busy::default();
        // The search's sweep and recent faces count frames, not searches: it is told how
        // many frames passed since the last one it saw.
        let mut last: Option<u64> = None;
        for (i, (n, f, detect)) in rx_dec.into_iter().enumerate() {
            if face_fault == Some(i as u64) {
                return Err(injected("CenterFace", i));
            }
            let step = if detect {
                let view = f.frame_ref()?;
                let (verdict, luma) = match gate.as_mut() {
                    None => (
                        Verdict::Search {
                            full: false,
                            renew: false,
                        },
                        None,
                    ),
                    Some(g) => {
                        let luma = busy.time(|| Luma::of(&view));
                        (g.decide(fb, (n, f.time()), &luma), Some(luma))
                    }
                };
                match (verdict, luma) {
                    (Verdict::Skip, Some(luma)) => FaceStep::Skipped(luma),
                    (v, luma) => {
                        // Only the gate skips, and it has the block means: anything else is
                        // searched.
                        let (full, renew) = match v {
                            Verdict::Search { full, renew } => (full, renew),
                            Verdict::Skip => (true, false),
                        };
                        let passed = last.map_or(1, |l| n.saturating_sub(l));
                        last = Some(n);
                        FaceStep::Searched {
                            faces: busy.time(|| faces.detect_after(&view, passed))?,
                            full,
                            renew: luma.filter(|_| renew),
                        }
                    }
                }
            } else {
                FaceStep::Between
            };
            if tx_face.send((n, f, step)).is_err() {
                break;
            }
        }
        Ok((busy.0, gate.as_ref().map_or(0, Gate::skipped)))
    };
    let track_stage = || -> Result<(), RedactError> {
        let mut dets: Vec<Detection> = Vec::new();
        let mut looks: Vec<Option<Appearance>> = Vec::new();
        let mut ids: Vec<Option<u64>> = Vec::new();
        let mut person_countdown = 0u64;
        let mut person_last: Option<u64> = None;
        // A face search of this stage's own, for frames the face stage skipped that must be
        // searched after all (loaded when first needed: it rarely is).
        let mut rescue: Option<(FaceSearch, u64)> = None;
        for (n, f, step) in rx_face {
            if person_fault == Some(seen.frames) {
                return Err(injected("NanoDet", seen.frames as usize));
            }
            if seen.frames == 0 {
                seen.range[0] = n;
                seen.span[0] = f.time();
            }
            seen.range[1] = n;
            seen.span[1] = f.time();
            seen.frames += 1;
            Progress::report(plan.progress, Pass::Analysis, seen.frames, total);
            // Frames between detections are left to the tracker's interpolation and
            // temporal padding; frames the gate skipped show the empty background, as checked
            // here with every earlier frame's detections known.
            let view = f.frame_ref()?;
            let (face_dets, full, renew) = match step {
                FaceStep::Between => continue,
                FaceStep::Skipped(luma) if !fb.must_search(n, &luma) => continue,
                FaceStep::Skipped(_) => {
                    seen.rescued += 1;
                    let t = Instant::now();
                    let (search, last) = match rescue.as_mut() {
                        Some(r) => r,
                        None => rescue.insert((face_search(det)?, n)),
                    };
                    let passed = n.saturating_sub(*last).max(1);
                    *last = n;
                    let found = search.detect_after(&view, passed)?;
                    stages.faces += t.elapsed().as_secs_f64();
                    (found, true, None)
                }
                FaceStep::Searched { faces, full, renew } => (faces, full, renew),
            };
            dets.clear();
            dets.extend(face_dets);
            if person_countdown == 0 || full {
                let t = Instant::now();
                let passed = person_last.map_or(1, |l| n.saturating_sub(l));
                person_last = Some(n);
                dets.extend(persons.detect_after(&view, passed)?);
                stages.persons += t.elapsed().as_secs_f64();
                person_countdown = person_every;
            }
            person_countdown -= 1;
            // Both detectors ran on a renewing search (`full`).
            fb.searched(n, !dets.is_empty(), renew.filter(|_| dets.is_empty()));
            let t = Instant::now();
            // Clothing descriptors of the persons (never of faces), for identity links.
            looks.clear();
            looks.extend(dets.iter().map(|d| match d.class {
                Class::Person => Appearance::from_frame(&view, d.bbox),
                Class::Face => None,
            }));
            ids.clear();
            ids.extend_from_slice(tracker.update_with_appearance(n, &dets, &looks)?);
            if plan.thumbs {
                collect_thumbs(&mut thumbs, &tracker, &view, masker.as_ref(), &dets, &ids).map_err(
                    |source| RedactError::Mask {
                        path: plan.input.to_path_buf(),
                        frame: n,
                        source,
                    },
                )?;
            }
            stages.track += t.elapsed().as_secs_f64();
        }
        Ok(())
    };
    let (decode_busy, (faces_busy, skipped), ()) =
        three_stages(("decoding", decode), ("face detection", face_stage), track_stage)?;
    stages.decode = decode_busy;
    stages.faces += faces_busy;
    if seen.frames == 0 {
        return Err(RedactError::EmptyWindow {
            path: plan.input.to_path_buf(),
            from: plan.window.0,
            to: plan.window.1,
        });
    }
    let mut tracks = tracker.finish();
    tracks.set_video(info.width, info.height, fps)?;
    tracks.set_min_face(Some(faces_min));
    tracks.set_min_person(Some(persons_min));
    tracks.set_provenance(provenance)?;
    // Recorded even when nobody was seen: an export may only use these tracks on these
    // frames (empty tracks there mean "nobody", elsewhere "not looked at").
    tracks.set_analyzed(Some(seen.range))?;
    thumbs.retain(|id, _| tracks.get(*id).is_some());
    Ok(Analysis {
        tracks,
        thumbs,
        frames: seen.frames,
        skipped: skipped - seen.rescued,
        range: seen.range,
        span: seen.span,
        models,
        seconds: t0.elapsed().as_secs_f64(),
        stages,
    })
}

/// Keep, per track, the best thumbnail seen so far on this frame's detections, cut from the
/// frame with `masker`'s zones masked (a copy, made once on a frame that gives a thumbnail).
fn collect_thumbs(
    thumbs: &mut HashMap<u64, Thumb>,
    tracker: &Tracker,
    view: &FrameRef<'_>,
    masker: Option<&CaptureMasker>,
    dets: &[Detection],
    ids: &[Option<u64>],
) -> Result<(), veil_core::RedactError> {
    let mut masked: Option<Frame> = None;
    for (i, (d, id)) in dets.iter().zip(ids).enumerate() {
        let Some(id) = id else { continue };
        // The contact sheet shows a track as it was before it met anyone: that person is
        // what `--keep-track N` selects.
        if !tracker.in_first_tracklet(*id) {
            continue;
        }
        let is_face = d.class == Class::Face;
        let clear = is_face || sheet::is_clear(dets, i);
        let better = thumbs
            .get(id)
            .is_none_or(|t| t.beaten_by(is_face, clear, d.score, &d.bbox));
        if !better {
            continue;
        }
        let thumb = match masker {
            None => Thumb::crop(view, d.bbox, is_face, clear, d.score),
            Some(m) => {
                if masked.is_none() {
                    let mut f = Frame::from_ref(view);
                    m.apply(&mut f.as_mut())?;
                    masked = Some(f);
                }
                let src = masked.as_ref().map(Frame::as_ref);
                src.and_then(|v| Thumb::crop(&v, d.bbox, is_face, clear, d.score))
            }
        };
        if let Some(t) = thumb {
            thumbs.insert(*id, t);
        }
    }
    Ok(())
}

/// Pass 1 on its own: detect, track, write the tracks file and, if asked, the contact sheet.
/// Both are written out of sight beside their destinations and published together at the
/// end with a no-replace rename, as an export's outputs are.
///
/// # Errors
/// [`RedactError::OutputExists`] when the tracks file or the contact sheet exists (without
/// [`AnalyzeOptions::overwrite`]; checked before the work and again, atomically, when
/// publishing); [`RedactError::EmptyWindow`] when the window holds no frame; video,
/// detector, tracker and I/O errors as they happen. Nothing is written on error, and no file
/// the analysis did not create is removed.
pub fn analyze(opts: &AnalyzeOptions) -> Result<AnalyzeReport, RedactError> {
    // Encrypted footage is read from memory (`key`); the checks below use the input's name.
    let plain = crate::footage::open_input(&opts.input, opts.key.as_deref())?;
    let decrypted;
    let read = match plain.encrypted() {
        Some(_) => {
            decrypted = AnalyzeOptions {
                input: plain.path().to_path_buf(),
                ..opts.clone()
            };
            &decrypted
        }
        None => opts,
    };
    for out in std::iter::once(&opts.tracks_out).chain(opts.contact_sheet.as_ref()) {
        if same_file(&opts.input, out) {
            return Err(RedactError::InvalidOption {
                reason: format!("output {} is the input", out.display()),
            });
        }
    }
    if let Some(sheet) = &opts.contact_sheet {
        let mut others: Vec<(&str, &Path)> = vec![("input", &opts.input), ("tracks file", &opts.tracks_out)];
        others.extend(opts.zones.as_deref().map(|z| ("zone file", z)));
        check_distinct("contact sheet", sheet, &others)?;
    }
    // An existing tracks file or contact sheet (evidence of an earlier analysis) is refused
    // before the work, unless `overwrite`.
    let mut staging = Staging::new(opts.overwrite);
    let staged_tracks = staging.stage(&opts.tracks_out)?;
    let staged_sheet = opts
        .contact_sheet
        .as_deref()
        .map(|p| staging.stage(p))
        .transpose()?;
    let zones = opts.zones.as_deref().map(CameraConfig::from_file).transpose()?;
    // Hashed first, so that the tracks are tied to the file as it was when analysed.
    // Errors name the input as given, not its plaintext in memory.
    let named = |e| crate::footage::named(e, &plain);
    let source = crate::manifest::input_sha256(&read.input).map_err(named)?;
    let mut a = run_analysis(&AnalysisPlan {
        input: &read.input,
        window: (opts.from, opts.to),
        detect: &opts.detect,
        tracker: &opts.tracker,
        thumbs: opts.contact_sheet.is_some(),
        zones: zones.as_ref(),
        pad_frames: opts.tracker.pad_frames,
        progress: &opts.progress,
    })
    .map_err(named)?;
    a.tracks.set_source_sha256(source.as_deref())?;
    // The contact sheet in pages: the first at its destination, the others beside it
    // (`sheet-2.png`, ...), each refused if it exists, as the first.
    let mut sheet_pages = Vec::new();
    if let (Some(staged), Some(first)) = (&staged_sheet, &opts.contact_sheet) {
        for (i, img) in sheet::render_pages(&a.tracks, &a.thumbs)?.iter().enumerate() {
            let dest = sheet::page_path(first, i + 1);
            let path = if i == 0 {
                staged.clone()
            } else {
                let others = [("input", opts.input.as_path()), ("tracks file", &opts.tracks_out)];
                check_distinct("contact sheet page", &dest, &others)?;
                staging.stage(&dest)?
            };
            sheet::write_png(&path, img)?;
            sheet_pages.push(dest);
        }
    }
    a.tracks.save(&staged_tracks)?;
    staging.publish()?;
    let count = |c: Class| a.tracks.tracks().iter().filter(|t| t.class() == c).count();
    Ok(AnalyzeReport {
        person_tracks: count(Class::Person),
        face_tracks: count(Class::Face),
        tracks: a.tracks,
        tracks_path: opts.tracks_out.clone(),
        contact_sheet: opts.contact_sheet.clone(),
        contact_sheet_pages: sheet_pages,
        frames: a.frames,
        frames_skipped: a.skipped,
        frame_range: a.range,
        time_span: a.span,
        models: a.models,
        seconds: a.seconds,
        stages: a.stages,
    })
}
