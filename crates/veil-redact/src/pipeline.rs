//! The two passes as bounded pipelines of threads: decoding, inference (faces and persons in
//! separate stages, so both networks run at once), redaction and encoding overlap, and frames
//! move between stages without being copied (they are the decoder's own buffers, redacted in
//! place and handed to the encoder by reference).
//!
//! Fail closed: a stage that fails returns its error and drops its channel ends; the stages
//! around it then stop, and the encoder only finishes (renames its temporary file onto the
//! destination) after every upstream stage has ended without error.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::thread::{self, ScopedJoinHandle};
use std::time::Instant;

use veil_core::{CameraConfig, CaptureMasker, CpuLevel};
use veil_detect::{CenterFace, Detector, FaceSearch, NanoDet, PersonSearch};
use veil_track::{Class, Tracker, Tracks};
use veil_video::{AudioPacket, DecodedFrame, ReadOptions, VideoInfo, VideoReader, VideoWriter};

use crate::manifest::{file_hash, input_sha256, now_rfc3339, FileHash, MANIFEST_VERSION};
use crate::sheet::{self, Thumb};
use crate::{
    apply_layers, frame_layers, frame_number, resolve_identity, same_file, AnalyzeOptions, AnalyzeReport,
    DetectOptions, ExportOptions, ExportReport, InjectedFault, LayerPlan, Manifest, ManifestCounts,
    ManifestSettings, ModelRecord, RedactError, TrackerConfig,
};
use crate::{Pass, Progress, StageTimes};

/// Frames in flight between two stages: enough to absorb jitter between stages, few enough
/// to bound memory (a 1080p frame is 3 MB).
const DEPTH: usize = 4;

/// Maps frame times to frame numbers ([`frame_number`]), strictly increasing even when
/// rounding of a variable frame rate would repeat one.
struct FrameClock {
    fps: f64,
    prev: Option<u64>,
}

impl FrameClock {
    fn new(fps: f64) -> Self {
        FrameClock { fps, prev: None }
    }
    fn next(&mut self, time: f64) -> u64 {
        let f = frame_number(time, self.fps);
        let f = match self.prev {
            Some(p) if f <= p => p + 1,
            _ => f,
        };
        self.prev = Some(f);
        f
    }
}

fn fps_of(info: &VideoInfo) -> f64 {
    f64::from(info.fps.0) / f64::from(info.fps.1.max(1))
}

/// Join a stage; a panic becomes an error (never a silent success).
fn join<T>(h: ScopedJoinHandle<'_, Result<T, RedactError>>, stage: &str) -> Result<T, RedactError> {
    h.join()
        .unwrap_or_else(|_| Err(RedactError::Internal(format!("the {stage} stage panicked"))))
}

fn open_reader(
    input: &Path,
    from: Option<f64>,
    to: Option<f64>,
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

fn record(d: &dyn Detector) -> ModelRecord {
    let m = d.model();
    ModelRecord {
        name: m.name.clone(),
        file: m.file.clone(),
        sha256: m.sha256.clone(),
    }
}

fn to_track(d: &veil_detect::Detection) -> Option<veil_track::Detection> {
    let class = match d.class {
        veil_detect::Class::Face => Class::Face,
        veil_detect::Class::Person => Class::Person,
        _ => return None,
    };
    Some(veil_track::Detection::new(class, d.score, d.bbox))
}

/// The error of an [`InjectedFault`]: what a failing model returns.
fn injected(model: &str, frame: usize) -> RedactError {
    RedactError::Detect(veil_detect::DetectError::Inference {
        model: model.to_owned(),
        reason: format!("injected fault on frame {frame} of the window (test hook)"),
    })
}

/// The result of pass 1.
struct Analysis {
    tracks: Tracks,
    thumbs: HashMap<u64, Thumb>,
    frames: u64,
    range: [u64; 2],
    span: [f64; 2],
    models: Vec<ModelRecord>,
    seconds: f64,
    stages: StageTimes,
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

/// Pass 1: decode -> faces -> persons + tracker (+ thumbnails), three threads.
fn run_analysis(
    input: &Path,
    (from, to): (Option<f64>, Option<f64>),
    det: &DetectOptions,
    tcfg: &TrackerConfig,
    want_thumbs: bool,
    pad_frames: u64,
    progress: &Option<Progress>,
) -> Result<Analysis, RedactError> {
    check_detect(det, tcfg, pad_frames)?;
    tcfg.validate()?;
    let t0 = Instant::now();
    // The input first: a file that cannot be opened fails before the models are loaded.
    let reader = open_reader(input, from, to, false)?;
    let mut fb = CenterFace::builder()
        .threads(det.threads)
        .input_size(det.face_input);
    let mut pb = NanoDet::builder().threads(det.threads);
    if let Some(t) = det.face_threshold {
        fb = fb.threshold(t);
    }
    if let Some(t) = det.person_threshold {
        pb = pb.threshold(t);
    }
    if let Some(dir) = &det.models_dir {
        fb = fb.models_dir(dir);
        pb = pb.models_dir(dir);
    }
    let mut faces = FaceSearch::new(fb.build()?, det.min_face)?;
    let faces_min = faces.min_size();
    let mut persons = PersonSearch::new(pb.build()?, det.min_person)?;
    let persons_min = persons.min_size();
    let models = vec![record(&faces), record(&persons)];
    let info = reader.info().clone();
    let fps = fps_of(&info);
    let total = info.frame_count_estimate;
    let mut tracker = Tracker::new(tcfg.clone())?;
    let person_every = u64::from(det.person_every);
    let every = u64::from(det.every);
    let (face_fault, person_fault) = match det.fault {
        Some(InjectedFault::FaceStage(k)) => (Some(k), None),
        Some(InjectedFault::PersonStage(k)) => (None, Some(k)),
        _ => (None, None),
    };

    let mut thumbs: HashMap<u64, Thumb> = HashMap::new();
    let mut stages = StageTimes::default();
    let mut frames = 0u64;
    let mut range = [0u64; 2];
    let mut span = [0f64; 2];
    thread::scope(|s| -> Result<(), RedactError> {
        let (tx_dec, rx_dec) = sync_channel::<(u64, DecodedFrame, bool)>(DEPTH);
        let (tx_face, rx_face) =
            sync_channel::<(u64, DecodedFrame, Option<Vec<veil_detect::Detection>>)>(DEPTH);
        let dec = s.spawn(move || -> Result<f64, RedactError> {
            let mut reader = reader;
            let mut clock = FrameClock::new(fps);
            let mut busy = 0.0;
            // Frames until the next detection (a countdown: MSRV 1.85 has no
            // `is_multiple_of`). The last frame of the window is always detected, so the
            // track ends are observed, not only held by padding; hence one frame of lookahead.
            let mut countdown = 0u64;
            let mut pending: Option<(u64, DecodedFrame, bool)> = None;
            loop {
                let t = Instant::now();
                let next = reader.next_frame()?;
                busy += t.elapsed().as_secs_f64();
                let Some(f) = next else {
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
            Ok(busy)
        });
        let face_stage = s.spawn(move || -> Result<f64, RedactError> {
            let mut busy = 0.0;
            for (i, (n, f, detect)) in rx_dec.into_iter().enumerate() {
                if face_fault == Some(i as u64) {
                    return Err(injected("CenterFace", i));
                }
                let d = if detect {
                    let t = Instant::now();
                    let d = faces.detect(&f.frame_ref()?)?;
                    busy += t.elapsed().as_secs_f64();
                    Some(d)
                } else {
                    None
                };
                if tx_face.send((n, f, d)).is_err() {
                    break;
                }
            }
            Ok(busy)
        });
        let res = (|| -> Result<(), RedactError> {
            let mut dets: Vec<veil_track::Detection> = Vec::new();
            let mut looks: Vec<Option<veil_track::Appearance>> = Vec::new();
            let mut ids: Vec<Option<u64>> = Vec::new();
            let mut person_countdown = 0u64;
            for (n, f, face_dets) in rx_face.iter() {
                if person_fault == Some(frames) {
                    return Err(injected("NanoDet", frames as usize));
                }
                if frames == 0 {
                    range[0] = n;
                    span[0] = f.time();
                }
                range[1] = n;
                span[1] = f.time();
                frames += 1;
                Progress::report(progress, Pass::Analysis, frames, total);
                // Frames between detections are left to the tracker's interpolation and
                // temporal padding.
                let Some(face_dets) = face_dets else { continue };
                let view = f.frame_ref()?;
                dets.clear();
                dets.extend(face_dets.iter().filter_map(to_track));
                if person_countdown == 0 {
                    let t = Instant::now();
                    dets.extend(persons.detect(&view)?.iter().filter_map(to_track));
                    stages.persons += t.elapsed().as_secs_f64();
                    person_countdown = person_every;
                }
                person_countdown -= 1;
                let t = Instant::now();
                // Clothing descriptors of the persons (never of faces), for identity links.
                looks.clear();
                looks.extend(dets.iter().map(|d| {
                    (d.class == Class::Person)
                        .then(|| veil_track::Appearance::from_frame(&view, d.bbox))
                        .flatten()
                }));
                ids.clear();
                ids.extend_from_slice(tracker.update_with_appearance(n, &dets, &looks)?);
                if want_thumbs {
                    for (i, (d, id)) in dets.iter().zip(&ids).enumerate() {
                        let Some(id) = id else { continue };
                        // The contact sheet shows a track as it was before it met anyone:
                        // that person is what `--keep-track N` selects.
                        if !tracker.in_first_tracklet(*id) {
                            continue;
                        }
                        let is_face = d.class == Class::Face;
                        let clear = is_face || sheet::is_clear(&dets, i);
                        let better = thumbs
                            .get(id)
                            .is_none_or(|t| t.beaten_by(is_face, clear, d.score, &d.bbox));
                        if better {
                            if let Some(t) = Thumb::crop(&view, d.bbox, is_face, clear, d.score) {
                                thumbs.insert(*id, t);
                            }
                        }
                    }
                }
                stages.track += t.elapsed().as_secs_f64();
            }
            Ok(())
        })();
        drop(rx_face);
        let face_res = join(face_stage, "face detection");
        let dec_res = join(dec, "decoding");
        res?;
        stages.faces = face_res?;
        stages.decode = dec_res?;
        Ok(())
    })?;
    if frames == 0 {
        return Err(RedactError::EmptyWindow {
            path: input.to_path_buf(),
            from,
            to,
        });
    }
    let mut tracks = tracker.finish();
    tracks.set_video(info.width, info.height, fps)?;
    tracks.set_min_face(Some(faces_min));
    tracks.set_min_person(Some(persons_min));
    // Recorded even when nobody was seen: an export may only use these tracks on these
    // frames (empty tracks there mean "nobody", elsewhere "not looked at").
    tracks.set_analyzed(Some(range))?;
    thumbs.retain(|id, _| tracks.get(*id).is_some());
    Ok(Analysis {
        tracks,
        thumbs,
        frames,
        range,
        span,
        models,
        seconds: t0.elapsed().as_secs_f64(),
        stages,
    })
}

/// Pass 1 on its own: detect, track, write the tracks file and, if asked, the contact sheet.
///
/// # Errors
/// [`RedactError::EmptyWindow`] when the window holds no frame; video, detector, tracker and
/// I/O errors as they happen. Nothing is written on error.
pub fn analyze(opts: &AnalyzeOptions) -> Result<AnalyzeReport, RedactError> {
    for out in std::iter::once(&opts.tracks_out).chain(opts.contact_sheet.as_ref()) {
        if same_file(&opts.input, out) {
            return Err(RedactError::InvalidOption {
                reason: format!("output {} is the input", out.display()),
            });
        }
    }
    // Hashed first, so that the tracks are tied to the file as it was when analysed.
    let source = input_sha256(&opts.input)?;
    let mut a = run_analysis(
        &opts.input,
        (opts.from, opts.to),
        &opts.detect,
        &opts.tracker,
        opts.contact_sheet.is_some(),
        opts.tracker.pad_frames,
        &opts.progress,
    )?;
    a.tracks.set_source_sha256(source.as_deref())?;
    if let Some(path) = &opts.contact_sheet {
        sheet::write_png(path, &sheet::render(&a.tracks, &a.thumbs)?)?;
    }
    if let Err(e) = a.tracks.save(&opts.tracks_out) {
        if let Some(p) = &opts.contact_sheet {
            let _ = std::fs::remove_file(p);
        }
        return Err(e.into());
    }
    let count = |c: Class| a.tracks.tracks().iter().filter(|t| t.class() == c).count();
    Ok(AnalyzeReport {
        person_tracks: count(Class::Person),
        face_tracks: count(Class::Face),
        tracks: a.tracks,
        tracks_path: opts.tracks_out.clone(),
        contact_sheet: opts.contact_sheet.clone(),
        frames: a.frames,
        frame_range: a.range,
        time_span: a.span,
        models: a.models,
        seconds: a.seconds,
        stages: a.stages,
    })
}

/// Per-frame statistics of the redaction stage.
#[derive(Default)]
struct Stats {
    frames: u64,
    boxes_redacted: u64,
    boxes_kept: u64,
    tracks: BTreeSet<u64>,
    span: [f64; 2],
    busy: f64,
    review: Vec<sheet::ReviewCell>,
    review_second: Option<i64>,
}

/// Pass 2 (after pass 1 when no tracks file is given): redact and encode the window, then
/// write the manifest.
///
/// # Errors
/// [`RedactError::EmptyWindow`] when the window holds no frame; [`RedactError::NobodyAt`] or
/// [`RedactError::UnknownTrack`] when the requester cannot be found;
/// [`RedactError::TracksMismatch`] for a tracks file of another video (size, frame rate, or
/// the input's SHA-256, or a tracks file that records none); [`RedactError::TracksCoverage`]
/// when the tracks file records no analysed frame range or a frame of the window lies outside
/// it (checked on every frame, for the one-shot analysis too); video, detector, tracker, zone
/// and I/O errors as they happen. On any error no output file and no manifest
/// is left at their destinations.
pub fn export(opts: &ExportOptions) -> Result<ExportReport, RedactError> {
    opts.padding
        .check()
        .map_err(|reason| RedactError::InvalidOption { reason })?;
    let manifest_path = opts.manifest_path();
    for out in [&opts.output, &manifest_path] {
        if same_file(&opts.input, out) {
            return Err(RedactError::InvalidOption {
                reason: format!("output {} is the input", out.display()),
            });
        }
    }
    let zones = opts
        .zones
        .as_ref()
        .map(|p| CameraConfig::from_file(p).map(|c| (c, p)))
        .transpose()?;
    // Hashed once, up front: the manifest records it and a tracks file is checked against it.
    let input_hash = file_hash(&opts.input)?;
    let (tracks, models, tracks_file, analysis_seconds, mut stages) = match &opts.tracks {
        Some(p) => {
            let t = Tracks::load(p)?;
            check_tracks_file(&t, p, &opts.input, &input_hash.sha256)?;
            (t, Vec::new(), Some(file_hash(p)?), 0.0, StageTimes::default())
        }
        None => {
            let mut a = run_analysis(
                &opts.input,
                (opts.from, opts.to),
                &opts.detect,
                &opts.tracker,
                false,
                opts.padding.frames,
                &opts.progress,
            )?;
            a.tracks.set_source_sha256(Some(&input_hash.sha256))?;
            (a.tracks, a.models, None, a.seconds, a.stages)
        }
    };
    let keep = resolve_identity(
        &tracks,
        &opts.requester,
        &opts.keep_tracklets,
        opts.tracks.as_deref(),
    )?;

    let t1 = Instant::now();
    let keep_audio = opts.encode.keep_audio;
    let reader = open_reader(&opts.input, opts.from, opts.to, keep_audio)?;
    let info = reader.info().clone();
    let fps = fps_of(&info);
    let mismatch = |reason: String| RedactError::TracksMismatch {
        tracks: opts.tracks.clone().unwrap_or_default(),
        input: opts.input.clone(),
        reason,
    };
    if (tracks.width(), tracks.height()) != (info.width, info.height) {
        return Err(mismatch(format!(
            "tracks are for {}x{} frames, the video has {}x{}",
            tracks.width(),
            tracks.height(),
            info.width,
            info.height
        )));
    }
    if (tracks.fps() - fps).abs() > 1e-3 * fps.max(1.0) {
        return Err(mismatch(format!(
            "tracks are at {} fps, the video at {fps} fps",
            tracks.fps()
        )));
    }
    let masker = match &zones {
        Some((cfg, _)) => Some(
            CaptureMasker::new(cfg, info.width, info.height, info.format).map_err(|source| {
                RedactError::Mask {
                    path: opts.input.clone(),
                    frame: 0,
                    source,
                }
            })?,
        ),
        None => None,
    };
    let plan = LayerPlan {
        style: opts.style,
        padding: opts.padding,
        spotlight: opts.spotlight,
    };
    let mut writer = VideoWriter::create(&opts.output, &info, &opts.encode)?;
    let level = CpuLevel::detect();
    let (w, h) = (info.width, info.height);
    let input = opts.input.as_path();
    let tracks_ref = &tracks;
    let requester_ref = &keep;
    let review_events = match &opts.review {
        Some(_) => sheet::review_events(&tracks, &keep),
        None => Vec::new(),
    };
    let want_review = opts.review.is_some();
    let tracks_path = opts.tracks.as_deref();

    let mut encode_busy = 0.0;
    let total = info.frame_count_estimate;
    let stats = thread::scope(|s| -> Result<Stats, RedactError> {
        type Item = (DecodedFrame, Vec<AudioPacket>);
        let (tx_dec, rx_dec) = sync_channel::<Item>(DEPTH);
        let (tx_red, rx_red) = sync_channel::<Item>(DEPTH);
        let dec = s.spawn(move || -> Result<f64, RedactError> {
            let mut reader = reader;
            let mut busy = 0.0;
            loop {
                let t = Instant::now();
                let Some(f) = reader.next_frame()? else { break };
                busy += t.elapsed().as_secs_f64();
                let audio = if keep_audio {
                    reader.take_audio()
                } else {
                    Vec::new()
                };
                if tx_dec.send((f, audio)).is_err() {
                    break;
                }
            }
            Ok(busy)
        });
        let red = s.spawn(move || -> Result<Stats, RedactError> {
            let mut clock = FrameClock::new(fps);
            let mut st = Stats::default();
            for (mut f, audio) in rx_dec {
                let t = Instant::now();
                let n = clock.next(f.time());
                // Fail closed on a frame nobody analysed: it has no tracks, so nobody on it
                // would be redacted (and in spotlight mode the requester's box would be missing).
                if !tracks_ref.covers(n, n) {
                    return Err(uncovered(tracks_ref, tracks_path, input, n, f.time()));
                }
                // Review strip: the requester before redaction, once a second and at events.
                if want_review {
                    let event = review_events.iter().find(|e| e.0 == n).map(|e| e.1.clone());
                    let second = f.time().floor() as i64;
                    if event.is_some() || st.review_second != Some(second) {
                        st.review_second = Some(second);
                        let cell = sheet::review_cell(
                            &f.frame_ref()?,
                            tracks_ref,
                            requester_ref,
                            n,
                            f.time(),
                            event,
                        );
                        st.review.push(cell);
                    }
                }
                let fl = frame_layers(tracks_ref, n, requester_ref, &plan, w, h);
                let merr = |source| RedactError::Mask {
                    path: input.to_path_buf(),
                    frame: n,
                    source,
                };
                {
                    let mut view = f.frame_mut()?;
                    if let Some(m) = &masker {
                        m.apply(&mut view).map_err(merr)?;
                    }
                    apply_layers(&mut view, &fl.layers, level).map_err(merr)?;
                }
                if st.frames == 0 {
                    st.span[0] = f.time();
                }
                st.span[1] = f.time();
                st.frames += 1;
                st.boxes_redacted += u64::from(fl.redacted_boxes);
                st.boxes_kept += u64::from(fl.kept_boxes);
                st.tracks.extend(fl.redacted_tracks);
                st.busy += t.elapsed().as_secs_f64();
                if tx_red.send((f, audio)).is_err() {
                    break;
                }
            }
            Ok(st)
        });
        let res = (|| -> Result<u64, RedactError> {
            let mut n = 0u64;
            for (f, audio) in rx_red.iter() {
                let t = Instant::now();
                for p in audio {
                    writer.write_audio(p)?;
                }
                writer.write_decoded(&f)?;
                n += 1;
                Progress::report(&opts.progress, Pass::Export, n, total);
                encode_busy += t.elapsed().as_secs_f64();
            }
            Ok(n)
        })();
        drop(rx_red);
        let red_res = join(red, "redaction");
        let dec_res = join(dec, "decoding");
        let written = res?;
        let st = red_res?;
        stages.decode += dec_res?;
        if written != st.frames {
            return Err(RedactError::Internal(format!(
                "{} frames redacted but {written} encoded",
                st.frames
            )));
        }
        Ok(st)
    });
    let stats = match stats {
        Ok(st) if st.frames == 0 => {
            return Err(RedactError::EmptyWindow {
                path: opts.input.clone(),
                from: opts.from,
                to: opts.to,
            })
        }
        Ok(st) => st,
        Err(e) => return Err(e), // the writer is dropped unfinished: no output
    };
    let t = Instant::now();
    writer.finish()?;
    stages.encode = encode_busy + t.elapsed().as_secs_f64();
    stages.redact = stats.busy;
    let export_seconds = t1.elapsed().as_secs_f64();

    let finish = || -> Result<Manifest, RedactError> {
        if let Some(p) = &opts.review {
            sheet::write_png(p, &sheet::render_review(&stats.review)?)?;
        }
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            veil_version: env!("CARGO_PKG_VERSION").to_owned(),
            exported_at: now_rfc3339(),
            input: input_hash.clone(),
            output: file_hash(&opts.output)?,
            from: opts.from,
            to: opts.to,
            frames_span: stats.span,
            requester: opts.requester.clone(),
            requester_tracks: keep.tracks(),
            requester_tracklets: keep.tracklets.clone(),
            withheld: keep.withheld.clone(),
            redacted_tracks: stats.tracks.iter().copied().collect(),
            tracks_file: tracks_file.clone(),
            models: models.clone(),
            settings: ManifestSettings {
                policy: crate::manifest::LAYER_POLICY.to_owned(),
                style: opts.style,
                irreversible: opts.style.is_irreversible(),
                spotlight: opts.spotlight,
                padding: opts.padding,
                zones: match &zones {
                    Some((_, p)) => Some(file_hash(p)?),
                    None => None::<FileHash>,
                },
                crf: opts.encode.crf,
                preset: opts.encode.preset.clone(),
                audio: keep_audio,
                min_face: tracks.min_face(),
                min_person: tracks.min_person(),
            },
            counts: ManifestCounts {
                frames: stats.frames,
                tracks: tracks.len() as u64,
                tracks_redacted: stats.tracks.len() as u64,
                boxes_redacted: stats.boxes_redacted,
                boxes_kept: stats.boxes_kept,
            },
        };
        manifest.save(&manifest_path)?;
        Ok(manifest)
    };
    // The one-shot analysis is saved last, so that a failed export leaves nothing behind.
    let finish = || -> Result<Manifest, RedactError> {
        let m = finish()?;
        if let (None, Some(out)) = (&opts.tracks, &opts.tracks_out) {
            if let Err(e) = tracks.save(out) {
                let _ = std::fs::remove_file(&manifest_path);
                return Err(e.into());
            }
        }
        Ok(m)
    };
    match finish() {
        Ok(manifest) => Ok(ExportReport {
            output: opts.output.clone(),
            manifest_path,
            manifest,
            analysis_seconds,
            export_seconds,
            stages,
        }),
        Err(e) => {
            // An export without its manifest is unaccounted for: take it back.
            let _ = std::fs::remove_file(&opts.output);
            Err(e)
        }
    }
}

/// Refuse a tracks file that cannot be trusted for this input before anything is exported:
/// one made from another file (when it records the SHA-256 of its input), and one that does
/// not record which frames were analysed (its frames without tracks may never have been
/// looked at).
fn check_tracks_file(
    tracks: &Tracks,
    path: &Path,
    input: &Path,
    input_sha256: &str,
) -> Result<(), RedactError> {
    // Fail closed: a file that does not say which recording it was made from could carry
    // the boxes of another recording of the same size and length.
    let Some(made_from) = tracks.source_sha256() else {
        return Err(RedactError::TracksMismatch {
            tracks: path.to_path_buf(),
            input: input.to_path_buf(),
            reason: "it has no `source_sha256` field, so it cannot be tied to this recording \
                     (made by an older Veil, or edited); run the analysis again"
                .to_owned(),
        });
    };
    if made_from != input_sha256 {
        return Err(RedactError::TracksMismatch {
            tracks: path.to_path_buf(),
            input: input.to_path_buf(),
            reason: format!(
                "the tracks were made from a file with SHA-256 {made_from}, the input's SHA-256 is {input_sha256}"
            ),
        });
    }
    if tracks.analyzed().is_none() {
        return Err(RedactError::TracksCoverage {
            tracks: Some(path.to_path_buf()),
            input: input.to_path_buf(),
            reason: "it does not record which frames were analysed (made by an older Veil, or \
                     edited); run the analysis again"
                .to_owned(),
        });
    }
    Ok(())
}

/// The error for frame `frame` (at `time` seconds) of the export lying outside the analysis.
fn uncovered(tracks: &Tracks, path: Option<&Path>, input: &Path, frame: u64, time: f64) -> RedactError {
    let reason = match tracks.analyzed() {
        Some([a, b]) => {
            let fps = tracks.fps();
            let span = if fps > 0.0 {
                format!(" ({:.3} s to {:.3} s)", a as f64 / fps, b as f64 / fps)
            } else {
                String::new()
            };
            format!(
                "frame {frame} ({time:.3} s) of the export window lies outside the analysed frames \
                 {a} to {b}{span}; analyse a window that includes the whole export window"
            )
        }
        None => format!("frame {frame} ({time:.3} s): no analysed frame range is recorded"),
    };
    RedactError::TracksCoverage {
        tracks: path.map(Path::to_path_buf),
        input: input.to_path_buf(),
        reason,
    }
}
