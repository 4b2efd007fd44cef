//! Pass 2: redact and encode the window (after pass 1 when no tracks file is given), then
//! the manifest, the one-shot tracks file and the audit entry. [`ExportPlan::prepare`] does
//! every check and opens everything before a frame is touched; [`ExportPlan::run`] is the
//! three-stage pipeline; [`export`] writes the rest. Every output is staged out of sight
//! (an existing destination refused before the work, unless `overwrite`), the export is
//! logged when asked, and only then are the outputs published, with a no-replace rename.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use veil_core::{CameraConfig, CaptureMasker, CpuLevel};
use veil_track::Tracks;
use veil_video::{AudioPacket, DecodedFrame, VideoInfo, VideoReader, VideoWriter};

use super::analysis::{run_analysis, AnalysisPlan};
use super::checks::{check_tracks_file, check_tracks_step, check_tracks_video, uncovered};
use super::deliver::{
    check_only_requester, check_operator, in_stretches, keeps_audio, map_segments, only_record,
    operator_tracklets, requester_stretches, Run1,
};
use super::stages::{fps_of, open_reader, three_stages, Busy, FrameClock, DEPTH};
use crate::footage::Sealer;
use crate::manifest::{file_hash, now_rfc3339, FileHash, MANIFEST_VERSION};
use crate::outputs::{check_distinct, fault, Staging};
use crate::sheet;
use crate::{
    apply_layers, frame_layers, resolve_identity, same_file, ExportOptions, ExportReport, KeepSet, LayerPlan,
    Manifest, ManifestCounts, ManifestSettings, ModelRecord, Pass, Progress, RedactError, StageTimes,
};

/// Everything an export needs, checked and opened before the first frame is decoded.
struct ExportPlan<'o> {
    opts: &'o ExportOptions,
    manifest_path: PathBuf,
    zones: Option<(CameraConfig, &'o Path)>,
    input_hash: FileHash,
    tracks: Tracks,
    tracks_file: Option<FileHash>,
    analysis_seconds: f64,
    stages: StageTimes,
    keep: KeepSet,
    reader: VideoReader,
    info: VideoInfo,
    masker: Option<CaptureMasker>,
    /// Where this export writes its files until they are published.
    staging: Staging,
    staged: Staged,
    /// Encrypts the video for its recipients before it is logged (`encrypt_to`).
    sealer: Sealer,
    /// `--only-requester`: the frame ranges delivered (inclusive, sorted, disjoint and not
    /// touching); `None`: the whole window.
    stretches: Option<Vec<(u64, u64)>>,
}

/// The staging paths of an export's outputs (see [`Staging`]).
struct Staged {
    video: PathBuf,
    manifest: PathBuf,
    review: Option<PathBuf>,
    tracks_out: Option<PathBuf>,
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
    /// Per review cell: left out of the copy (`--only-requester`).
    review_left_out: Vec<bool>,
    review_second: Option<i64>,
    /// `--only-requester`: the runs of delivered frames.
    runs: Vec<Run1>,
    /// Time of the first and last frame decoded, delivered or not.
    window: [Option<f64>; 2],
}

/// What [`ExportPlan::run`] did.
struct Run {
    stats: Stats,
    seconds: f64,
}

impl<'o> ExportPlan<'o> {
    fn prepare(opts: &'o ExportOptions) -> Result<Self, RedactError> {
        opts.padding
            .check()
            .map_err(|reason| RedactError::InvalidOption { reason })?;
        check_operator(opts)?;
        check_only_requester(opts)?;
        let manifest_path = opts.manifest_path();
        for out in [&opts.output, &manifest_path] {
            if same_file(&opts.input, out) {
                return Err(RedactError::InvalidOption {
                    reason: format!("output {} is the input", out.display()),
                });
            }
        }
        if let Some(review) = &opts.review {
            let mut others: Vec<(&str, &Path)> = vec![
                ("input", &opts.input),
                ("output", &opts.output),
                ("manifest", &manifest_path),
            ];
            others.extend(opts.tracks_out.as_deref().map(|p| ("tracks output", p)));
            others.extend(opts.tracks.as_deref().map(|p| ("tracks file", p)));
            others.extend(opts.zones.as_deref().map(|p| ("zone file", p)));
            others.extend(opts.audit.as_ref().map(|a| ("audit log", a.log.as_path())));
            check_distinct("review strip", review, &others)?;
        }
        // An export that cannot be logged is refused before the work.
        if let Some(audit) = &opts.audit {
            audit.check()?;
        }
        // So is one whose destinations exist (unless `overwrite`): evidence is not replaced.
        let mut staging = Staging::new(opts.overwrite);
        let mut sealer = Sealer::new(crate::footage::load_recipients(&opts.encrypt_to)?);
        let staged = Staged {
            video: sealer.divert(staging.stage(&opts.output)?)?,
            manifest: staging.stage(&manifest_path)?,
            review: opts.review.as_deref().map(|p| staging.stage(p)).transpose()?,
            tracks_out: match (&opts.tracks, &opts.tracks_out) {
                (None, Some(p)) => Some(staging.stage(p)?),
                _ => None,
            },
        };
        let zones = opts
            .zones
            .as_ref()
            .map(|p| CameraConfig::from_file(p).map(|c| (c, p.as_path())))
            .transpose()?;
        // Hashed once, up front: the manifest records it and a tracks file is checked against it.
        let input_hash = file_hash(&opts.input)?;
        let (tracks, tracks_file, analysis_seconds, stages) = match &opts.tracks {
            Some(p) => {
                let t = Tracks::load(p)?;
                check_tracks_file(&t, p, &opts.input, &input_hash.sha256)?;
                check_tracks_step(&t, p, &opts.input, opts.padding.frames)?;
                (t, Some(file_hash(p)?), 0.0, StageTimes::default())
            }
            None => {
                let mut a = run_analysis(&AnalysisPlan {
                    input: &opts.input,
                    window: (opts.from, opts.to),
                    detect: &opts.detect,
                    tracker: &opts.tracker,
                    thumbs: false,
                    zones: None,
                    pad_frames: opts.padding.frames,
                    progress: &opts.progress,
                })?;
                a.tracks.set_source_sha256(Some(&input_hash.sha256))?;
                (a.tracks, None, a.seconds, a.stages)
            }
        };
        let keep = resolve_identity(
            &tracks,
            &opts.requester,
            &opts.keep_tracklets,
            opts.tracks.as_deref(),
        )?;
        let reader = open_reader(&opts.input, (opts.from, opts.to), keeps_audio(opts))?;
        let info = reader.info().clone();
        check_tracks_video(&tracks, opts.tracks.as_deref(), &opts.input, &info, fps_of(&info))?;
        let stretches = match opts.only_requester {
            Some(margin) => Some(requester_stretches(&tracks, &keep, margin, fps_of(&info))?),
            None => None,
        };
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
        Ok(ExportPlan {
            opts,
            manifest_path,
            zones,
            input_hash,
            tracks,
            tracks_file,
            analysis_seconds,
            stages,
            keep,
            reader,
            info,
            masker,
            staging,
            staged,
            sealer,
            stretches,
        })
    }

    /// Decode -> redact -> encode, three threads. On success the output video is staged.
    fn run(&mut self) -> Result<Run, RedactError> {
        let t1 = Instant::now();
        let opts = self.opts;
        let info = &self.info;
        let fps = fps_of(info);
        let keep_audio = keeps_audio(opts);
        let plan = LayerPlan {
            style: opts.style,
            padding: opts.padding,
            spotlight: opts.spotlight,
        };
        let encode_opts = veil_video::EncodeOptions {
            keep_audio,
            ..opts.encode.clone()
        };
        let mut writer = VideoWriter::create(&self.staged.video, info, &encode_opts)?;
        let level = CpuLevel::detect();
        let (w, h) = (info.width, info.height);
        let input = opts.input.as_path();
        let (tracks, keep, masker) = (&self.tracks, &self.keep, &self.masker);
        let review_events = match &opts.review {
            Some(_) => sheet::review_events(tracks, keep),
            None => Vec::new(),
        };
        let want_review = opts.review.is_some();
        let tracks_path = opts.tracks.as_deref();
        let total = info.frame_count_estimate;
        let reader = &mut self.reader;
        let stretches = self.stretches.as_deref();

        // The frame, its audio, and with `--only-requester` its timestamp in the copy.
        type Item = (DecodedFrame, Vec<AudioPacket>, Option<i64>);
        let (tx_dec, rx_dec) = sync_channel::<Item>(DEPTH);
        let (tx_red, rx_red) = sync_channel::<Item>(DEPTH);
        let decode = move || -> Result<f64, RedactError> {
            let mut busy = Busy::default();
            while let Some(f) = busy.time(|| reader.next_frame())? {
                let audio = if keep_audio {
                    reader.take_audio()
                } else {
                    Vec::new()
                };
                if tx_dec.send((f, audio, None)).is_err() {
                    break;
                }
            }
            Ok(busy.0)
        };
        let redact = move || -> Result<Stats, RedactError> {
            let mut clock = FrameClock::new(fps);
            let mut st = Stats::default();
            // `--only-requester`: the copy's timestamps are continuous, every left-out frame's
            // duration (the step to the next frame) taken off the later ones.
            let mut shift = (0i64, 0.0f64);
            let mut prev: Option<(i64, f64, bool)> = None;
            for (mut f, audio, _) in rx_dec {
                let t = Instant::now();
                let n = clock.next(f.time());
                let deliver = stretches.is_none_or(|s| in_stretches(s, n));
                st.window[0].get_or_insert(f.time());
                st.window[1] = Some(f.time());
                if let Some((pts, time, delivered)) = prev {
                    if !delivered {
                        shift.0 += f.pts() - pts;
                        shift.1 += f.time() - time;
                    }
                }
                let after_gap = prev.is_none_or(|p| !p.2);
                prev = Some((f.pts(), f.time(), deliver));
                // Fail closed on a frame nobody analysed: it has no tracks, so nobody on it
                // would be redacted (and in spotlight mode the requester's box would be missing).
                if !tracks.covers(n, n) {
                    return Err(uncovered(tracks, tracks_path, input, n, f.time()));
                }
                let merr = |source| RedactError::Mask {
                    path: input.to_path_buf(),
                    frame: n,
                    source,
                };
                // Review strip: once a second and at events, whom the cell is about. The cell is
                // cut from the redacted frame; a withheld candidate's own pixels are taken with
                // the zones masked, before anyone is redacted (sheet::CandidateCrop).
                let mut review = None;
                if want_review {
                    let event = review_events.iter().find(|e| e.0 == n).map(|e| e.1.clone());
                    let second = f.time().floor() as i64;
                    if event.is_some() || st.review_second != Some(second) {
                        st.review_second = Some(second);
                        review = Some((sheet::review_pick(tracks, keep, n), event));
                    }
                }
                let mut candidate = None;
                let fl = frame_layers(tracks, n, keep, &plan, w, h);
                {
                    // Zones win: masked before the layers, so that no blur or pixelation
                    // spreads their content, and again after, so that a redaction across a
                    // zone's edge never lightens it (a solid or pixelated zone comes out the
                    // same the second time, a blurred one blurrier).
                    let mut view = f.frame_mut()?;
                    if let Some(m) = masker {
                        m.apply(&mut view).map_err(merr)?;
                    }
                    if let Some((Some(p), _)) = &review {
                        if p.uncertain {
                            candidate =
                                sheet::CandidateCrop::new(&view.as_ref(), tracks, n, p, &plan.padding);
                        }
                    }
                    apply_layers(&mut view, &fl.layers, level).map_err(merr)?;
                    if let Some(m) = masker {
                        m.apply(&mut view).map_err(merr)?;
                    }
                }
                if let Some((pick, event)) = review {
                    let cell = sheet::review_cell(
                        &f.frame_ref()?,
                        candidate.as_ref(),
                        pick.as_ref(),
                        n,
                        f.time(),
                        event,
                    );
                    st.review.push(cell);
                    st.review_left_out.push(!deliver);
                }
                st.busy += t.elapsed().as_secs_f64();
                if !deliver {
                    continue;
                }
                if stretches.is_some() {
                    match st.runs.last_mut() {
                        Some(r) if !after_gap => {
                            r.frames[1] = n;
                            r.count += 1;
                            r.stream[1] = f.time();
                        }
                        _ => st.runs.push(Run1 {
                            frames: [n, n],
                            count: 1,
                            stream: [f.time(), f.time()],
                            output: f.time() - shift.1,
                        }),
                    }
                }
                if st.frames == 0 {
                    st.span[0] = f.time();
                }
                st.span[1] = f.time();
                st.frames += 1;
                st.boxes_redacted += u64::from(fl.redacted_boxes);
                st.boxes_kept += u64::from(fl.kept_boxes);
                st.tracks.extend(fl.redacted_tracks);
                let out_pts = stretches.map(|_| f.pts() - shift.0);
                if tx_red.send((f, audio, out_pts)).is_err() {
                    break;
                }
            }
            Ok(st)
        };
        let mut encode_busy = Busy::default();
        let encode = || -> Result<u64, RedactError> {
            let mut n = 0u64;
            for (f, audio, out_pts) in rx_red {
                encode_busy.time(|| -> Result<(), RedactError> {
                    for p in audio {
                        writer.write_audio(p)?;
                    }
                    match out_pts {
                        Some(pts) => Ok(writer.write(&f.frame_ref()?, pts)?),
                        None => Ok(writer.write_decoded(&f)?),
                    }
                })?;
                n += 1;
                Progress::report(&opts.progress, Pass::Export, n, total);
            }
            Ok(n)
        };
        // On error the writer is dropped unfinished: no output.
        let (decode_busy, stats, written) =
            three_stages(("decoding", decode), ("redaction", redact), encode)?;
        if written != stats.frames {
            return Err(RedactError::Internal(format!(
                "{} frames redacted but {written} encoded",
                stats.frames
            )));
        }
        if stats.frames == 0 {
            return Err(RedactError::EmptyWindow {
                path: opts.input.clone(),
                from: opts.from,
                to: opts.to,
            });
        }
        encode_busy.time(|| writer.finish())?;
        self.stages.decode += decode_busy;
        self.stages.encode = encode_busy.0;
        self.stages.redact = stats.busy;
        Ok(Run {
            stats,
            seconds: t1.elapsed().as_secs_f64(),
        })
    }
}

impl Manifest {
    /// The manifest of a finished run: what was exported from what, how, and what came out.
    fn from_run(plan: &ExportPlan<'_>, run: &Run) -> Result<Manifest, RedactError> {
        let opts = plan.opts;
        let stats = &run.stats;
        let tracks = &plan.tracks;
        // How the boxes were made, as the tracks record it: the one-shot analysis's own
        // settings, or those of the analysis that wrote the tracks file.
        let made = tracks.provenance();
        let only = only_record(plan.opts, fps_of(&plan.info), &stats.runs, stats.window);
        Ok(Manifest {
            version: MANIFEST_VERSION,
            veil_version: env!("CARGO_PKG_VERSION").to_owned(),
            exported_at: now_rfc3339(),
            input: plan.input_hash.clone(),
            // the staged video, under the name it is published as (same bytes)
            output: FileHash {
                path: opts.output.clone(),
                sha256: crate::manifest::sha256_file(&plan.staged.video)?,
                decrypted_from: None,
                encrypted_to: plan.sealer.recipients(),
            },
            from: opts.from,
            to: opts.to,
            frames_span: stats.span,
            requester: opts.requester.clone(),
            requester_tracks: plan.keep.tracks(),
            requester_tracklets: plan.keep.tracklets.clone(),
            operator_tracklets: operator_tracklets(opts),
            withheld: plan.keep.withheld.clone(),
            redacted_tracks: stats.tracks.iter().copied().collect(),
            tracks_file: plan.tracks_file.clone(),
            models: made
                .models
                .iter()
                .map(|m| ModelRecord {
                    name: m.name.clone(),
                    file: m.file.clone(),
                    sha256: m.sha256.clone(),
                    device: m.device.clone(),
                })
                .collect(),
            analysis_veil_version: made.veil_version.clone(),
            settings: ManifestSettings {
                policy: crate::manifest::LAYER_POLICY.to_owned(),
                style: opts.style,
                irreversible: opts.style.is_irreversible(),
                spotlight: opts.spotlight,
                padding: opts.padding,
                zones: match &plan.zones {
                    Some((_, p)) => Some(file_hash(p)?),
                    None => None,
                },
                crf: opts.encode.crf,
                preset: opts.encode.preset.clone(),
                audio: keeps_audio(opts),
                min_face: tracks.min_face(),
                min_person: tracks.min_person(),
                face_threshold: made.face_threshold,
                person_threshold: made.person_threshold,
                every: made.every,
                person_every: made.person_every,
                full_search_every: made.full_search_every,
                changes_only: made.changes_only,
            },
            counts: ManifestCounts {
                frames: stats.frames,
                tracks: tracks.len() as u64,
                tracks_redacted: stats.tracks.len() as u64,
                boxes_redacted: stats.boxes_redacted,
                boxes_kept: stats.boxes_kept,
            },
            recordings: (opts.recordings.as_ref()).map(|r| {
                let mut d = r.delivered_frames(stats.span[0], stats.span[1]);
                if let Some(o) = &only {
                    map_segments(&mut d, o);
                }
                d
            }),
            only_requester: only,
        })
    }
}

/// Pass 2 (after pass 1 when no tracks file is given): redact and encode the window, then
/// write the manifest (and the review strip, the one-shot tracks file and the audit entry
/// when asked).
///
/// # Errors
/// [`RedactError::EmptyWindow`] when the window holds no frame; [`RedactError::NobodyAt`] or
/// [`RedactError::UnknownTrack`] when the requester cannot be found;
/// [`RedactError::TracksMismatch`] for a tracks file of another video (size, frame rate, or
/// the input's SHA-256, or a tracks file that records none); [`RedactError::TracksCoverage`]
/// when the tracks file records no analysed frame range or a frame of the window lies outside
/// it (checked on every frame, for the one-shot analysis too);
/// [`RedactError::ExportWithdrawn`] when the export was made but could not be logged in
/// [`ExportOptions::audit`]; [`RedactError::OutputExists`] when a destination exists
/// (without [`ExportOptions::overwrite`]; checked before the work and again, atomically, when
/// publishing); video, detector, tracker, zone, audit and I/O errors as they happen. On any
/// error no output file, manifest, review strip or tracks file of this export is left at
/// their destinations, and no file this export did not create is removed.
pub fn export(opts: &ExportOptions) -> Result<ExportReport, RedactError> {
    // Encrypted footage is read from memory (`key`); the manifest names the input as given.
    let plain = crate::footage::open_input(&opts.input, opts.key.as_deref())?;
    let decrypted;
    let opts = match plain.encrypted() {
        Some(_) => {
            for out in [&opts.output, &opts.manifest_path()] {
                if same_file(&opts.input, out) {
                    return Err(RedactError::InvalidOption {
                        reason: format!("output {} is the input", out.display()),
                    });
                }
            }
            decrypted = ExportOptions {
                input: plain.path().to_path_buf(),
                ..opts.clone()
            };
            &decrypted
        }
        None => opts,
    };
    // Errors name the input as given, not its plaintext in memory.
    export_from(opts, &plain).map_err(|e| crate::footage::named_as(e, &plain, opts.recordings.as_ref()))
}

/// [`export`] of an opened input.
fn export_from(opts: &ExportOptions, plain: &veil_record::PlainInput) -> Result<ExportReport, RedactError> {
    let mut plan = ExportPlan::prepare(opts)?;
    crate::footage::check_keep_continuous(opts.recordings.as_ref(), &plan.keep, &plan.tracks)?;
    plan.input_hash = crate::footage::record_input(plain, plan.input_hash, opts.recordings.as_ref());
    let run = plan.run()?;
    if let Some(p) = &plan.staged.review {
        let strip = match opts.only_requester {
            // What was left out of the copy is marked, and still shown.
            Some(_) => sheet::render_review_marked(&run.stats.review, &run.stats.review_left_out)?,
            None => sheet::render_review(&run.stats.review)?,
        };
        sheet::write_png(p, &strip)?;
    }
    let manifest = Manifest::from_run(&plan, &run)?;
    manifest.save(&plan.staged.manifest)?;
    if let Some(p) = &plan.staged.tracks_out {
        plan.tracks.save(p)?;
    }
    // Encrypted for its recipients before it is logged: a copy that cannot be encrypted is
    // never logged as delivered.
    plan.sealer.seal()?;
    // Logged before anything is visible: an export the log refuses is never published (the
    // staged files go when `plan` is dropped).
    if let Some(audit) = &opts.audit {
        audit
            .log(&plan.staged.manifest, manifest.frames_span)
            .map_err(|e| RedactError::ExportWithdrawn {
                output: opts.output.clone(),
                source: Box::new(e),
            })?;
    }
    fault::point(fault::LOGGED_NOT_PUBLISHED);
    let ExportPlan {
        staging,
        manifest_path,
        analysis_seconds,
        stages,
        ..
    } = plan;
    staging.publish()?;
    Ok(ExportReport {
        output: opts.output.clone(),
        manifest_path,
        manifest,
        analysis_seconds,
        export_seconds: run.seconds,
        stages,
        review_cells: sheet::review_places(&run.stats.review),
    })
}
