//! `redact analyze` and `redact export`: the inzage (right of access) export.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{ArgGroup, Args, ValueEnum};
use veil::audit::{Action, Timestamp};
use veil::redact::sign::{signature_path, SecretKey};
use veil::redact::{
    analyze, export, AnalyzeOptions, DetectOptions, ExportAudit, ExportOptions, Requester, Style,
};

use crate::footage::{parse_when, SourceArgs, When};
use crate::governance::{camera_purposes, new_entry, EntryArgs};
use crate::models::ModelArgs;
use crate::output::Outputs;
use crate::progress::Reporter;
use crate::EncodeArgs;

/// Detection settings shared by `analyze` and `export`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Run the detectors on every n-th frame only (the tracker interpolates, temporal padding
    /// covers the rest; n - 1 must not exceed the padding of 5 frames). 1 = every frame.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=6))]
    pub every: u32,
    /// Smallest face height, in frame pixels, searched for in every frame. Faces smaller than
    /// the default detector input can see are searched at a finer scale where people can be
    /// (motion, recent faces, a sweep over the whole frame); lower values cost more.
    #[arg(long, value_name = "PX", default_value_t = veil::detect::DEFAULT_MIN_FACE,
          value_parser = clap::value_parser!(u32).range(i64::from(veil::detect::MIN_MIN_FACE)..=4096))]
    pub min_face: u32,
    /// Smallest person height, in frame pixels, searched for in every frame (people whose
    /// faces are too small to detect are covered by a body box), in the same way.
    #[arg(long, value_name = "PX", default_value_t = veil::detect::DEFAULT_MIN_PERSON,
          value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub min_person: u32,
    /// Activity gating: a frame is left unsearched only when it shows the same scene (within
    /// sensor noise and slow light changes) as the last full search that found nobody, with
    /// no track alive; the first frame, every frame that changed and every frame while a
    /// track lives are searched, and a full search runs every SECONDS whatever is skipped.
    /// `off`: search every frame.
    #[arg(long, value_name = "SECONDS|off", default_value = "1", value_parser = parse_interval)]
    pub full_search_every: Interval,
    /// Of the frames searched one after another, search the N after each full face search for
    /// faces only where the picture changed since the frame before, carrying the faces where
    /// it did not (a large face that appears there having changed only in part is found up
    /// to N frames later, and covered before by the temporal padding of 5 frames). 0: search
    /// every frame in full, at up to twice the cost of the face search. Persons are always
    /// searched in full.
    #[arg(long, value_name = "N", default_value_t = veil::detect::CHANGES_ONLY,
          value_parser = clap::value_parser!(u32).range(0..=5))]
    pub changes_only: u32,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `--full-search-every`: seconds, or off.
#[derive(Debug, Clone, Copy)]
pub struct Interval(Option<f64>);

fn parse_interval(s: &str) -> Result<Interval, String> {
    if s == "off" {
        return Ok(Interval(None));
    }
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(Interval(Some(v))),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 3600] or off")),
    }
}

impl DetectArgs {
    fn options(&self) -> DetectOptions {
        let mut o = DetectOptions {
            every: self.every,
            min_face: self.min_face,
            min_person: self.min_person,
            full_search_every: self.full_search_every.0,
            changes_only: self.changes_only,
            ..DetectOptions::default()
        };
        self.model.apply(&mut o);
        o
    }
}

/// `redact analyze`
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The camera whose recordings are read (with --recordings).
    #[arg(long, requires = "recordings")]
    pub camera: Option<String>,
    /// Where to write the tracks (JSON).
    #[arg(short, long, value_name = "TRACKS.json")]
    pub output: PathBuf,
    /// Contact sheet: one numbered thumbnail per track, to point at the requester.
    #[arg(long, value_name = "SHEET.png")]
    pub sheet: Option<PathBuf>,
    /// The camera's zone file: its zones are masked in the contact sheet as in every export.
    #[arg(long, value_name = "ZONES.toml")]
    pub zones: Option<PathBuf>,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// Redaction style of the bystanders.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StyleArg {
    /// Blur over noisy coarse cells, scaled with the box size (irreversible).
    Blur,
    /// Block means (irreversible).
    Pixelate,
    /// Black (irreversible).
    Solid,
    /// Plain blur (NOT irreversible: deconvolution can partly undo it).
    WeakBlur,
}

/// `redact export`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("requester").required(true).args(["keep_track", "keep_at", "keep_none"])))]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Deliver the copy encrypted (age) to this public key (age1..., a .pub file from `redact
    /// keys generate --encryption`); repeatable, any one key decrypts it (`age -d -i KEY`).
    /// The manifest stays plain and records the recipients; its output hash is the decrypted copy's.
    #[arg(long, value_name = "RECIPIENT.pub")]
    pub encrypt_to: Vec<PathBuf>,
    /// Where to write the export (H.264 MP4).
    #[arg(short, long, value_name = "OUTPUT.mp4")]
    pub output: PathBuf,
    /// The camera's zone file: its zones are masked on every frame too.
    #[arg(long, value_name = "ZONES.toml")]
    pub zones: Option<PathBuf>,
    /// Keep these tracks of --tracks visible (the requester): a track id N (as numbered on the
    /// contact sheet) keeps the person of its first tracklet N.1 and every tracklet confidently
    /// linked to it; N.K adds tracklet K of track N after review (e.g. 3,3.2).
    #[arg(long, value_name = "ID[,ID.K...]", value_delimiter = ',', requires = "tracks")]
    pub keep_track: Vec<String>,
    /// Add tracklets of --tracks to the requester after review (e.g. 3.2,7.3), also with
    /// --keep-at. Needs --tracks: the ids are that file's (an export without one analyses
    /// again, and its numbering can differ). An event tracklet (people together) or one seen
    /// at the same time as a kept tracklet of another person is refused. The manifest and the
    /// audit entry record the additions with --actor.
    #[arg(
        long,
        value_name = "ID.K[,ID.K...]",
        value_delimiter = ',',
        requires = "tracks"
    )]
    pub add_tracklet: Vec<veil::redact::TrackletId>,
    /// Keep the person whose box contains pixel X,Y at TIME: TIME@X,Y (e.g. 12.5@640,360).
    #[arg(long, value_name = "TIME@X,Y", value_parser = parse_keep_at)]
    pub keep_at: Option<(When, f32, f32)>,
    /// Keep nobody: redact every person.
    #[arg(long)]
    pub keep_none: bool,
    /// Deliver only the stretches in which the kept person is in view, each padded by
    /// --margin, overlapping stretches merged; the rest of the window is left out of the copy
    /// (timestamps continuous, audio dropped) but shown in the review strip. Refused with
    /// --keep-none: there is nothing to deliver.
    #[arg(long)]
    pub only_requester: bool,
    /// Seconds added before and after each stretch of --only-requester.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2.0,
        requires = "only_requester"
    )]
    pub margin: f64,
    /// Write a review strip: the kept person as time-stamped thumbnails along the window (one
    /// a second and one at every identity event, withheld stretches framed in red). Check it
    /// before release: the kept person must never switch. Cut from the redacted frames: only
    /// the person a cell is about is clear (a withheld one only where nobody else is).
    #[arg(long, value_name = "REVIEW.png")]
    pub review: Option<PathBuf>,
    /// Tracks from `redact analyze` (without it, export runs the analysis itself).
    #[arg(long, value_name = "TRACKS.json")]
    pub tracks: Option<PathBuf>,
    /// Without --tracks: also save the tracks of the export's own analysis, so that the
    /// tracklet ids of its manifest and review strip can be given with --tracks (and
    /// --add-tracklet) next time.
    #[arg(long, value_name = "TRACKS.json", conflicts_with = "tracks")]
    pub tracks_out: Option<PathBuf>,
    /// How bystanders are redacted.
    #[arg(long, value_enum, default_value_t = StyleArg::Blur)]
    pub style: StyleArg,
    /// Redact everything except the requester's box, so that nobody the detector missed can leak.
    #[arg(long)]
    pub spotlight: bool,
    /// Manifest path (default: OUTPUT.manifest.json).
    #[arg(long, value_name = "MANIFEST.json")]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub encode: EncodeArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    /// Append an `export` entry (with the manifest's SHA-256) to this audit log.
    #[arg(long, value_name = "LOG", requires_all = ["actor", "reason", "basis"])]
    pub audit_log: Option<PathBuf>,
    #[command(flatten)]
    pub audit: AuditEntryArgs,
    /// Sign the manifest with this Ed25519 secret key (from `redact keys generate`): writes MANIFEST.sig.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
}

/// The audit entry of an export (all optional unless --audit-log is given).
#[derive(Debug, Args)]
pub struct AuditEntryArgs {
    /// Who makes the export.
    #[arg(long)]
    pub actor: Option<String>,
    /// Why.
    #[arg(long)]
    pub reason: Option<String>,
    /// Legal basis: inzage:REF | police-order:REF | own-report:REF.
    #[arg(long, value_name = "KIND:REF")]
    pub basis: Option<String>,
    /// Purpose of use (must be one of the camera's purposes unless the basis overrides it).
    #[arg(long)]
    pub purpose: Option<String>,
    /// Wall-clock time (RFC 3339) at which the recording starts: the audit entry names the
    /// footage concerned by its real time window.
    #[arg(long, value_name = "RFC3339")]
    pub recording_start: Option<String>,
    /// Camera id for the audit entry (default: the id in --zones; with --zones it must be
    /// that id).
    #[arg(long)]
    pub camera: Option<String>,
}

fn parse_keep_at(s: &str) -> Result<(When, f32, f32), String> {
    let bad = || {
        format!(
            "{s:?}: expected TIME@X,Y, e.g. 12.5@640,360 (with --recordings 2026-03-01T14:05:07Z@640,360)"
        )
    };
    let (t, xy) = s.split_once('@').ok_or_else(bad)?;
    let (x, y) = xy.split_once(',').ok_or_else(bad)?;
    let t = parse_when(t)?;
    let x: f32 = x.trim().parse().map_err(|_| bad())?;
    let y: f32 = y.trim().parse().map_err(|_| bad())?;
    if !(x.is_finite() && y.is_finite() && x >= 0.0 && y >= 0.0) {
        return Err(bad());
    }
    Ok((t, x, y))
}

/// Refuse `path`, where this command writes its `what`, when it names the file of one of
/// `others` (an input or another output of the command; `None`: not given).
fn check_distinct(what: &str, path: &Path, others: &[(&str, Option<&Path>)]) -> anyhow::Result<()> {
    for (name, other) in others {
        if other.is_some_and(|o| veil::redact::same_destination(path, o)) {
            bail!("{}: the {what} would overwrite the {name}", path.display());
        }
    }
    Ok(())
}

/// `redact analyze`
pub fn cmd_analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    let source = args.source.open(args.camera.as_deref())?;
    source.check_not_same(&args.output)?;
    let mut outputs = Outputs::new();
    let mut opts = AnalyzeOptions::new(&source.input, outputs.stage(&args.output)?);
    opts.key = source.key.clone();
    opts.from = source.from;
    opts.to = source.to;
    opts.contact_sheet = match &args.sheet {
        Some(sheet) => {
            source.check_not_same(sheet)?;
            check_distinct(
                "contact sheet",
                sheet,
                &[
                    ("tracks file", Some(args.output.as_path())),
                    ("zone file", args.zones.as_deref()),
                ],
            )?;
            Some(outputs.stage(sheet)?)
        }
        None => None,
    };
    opts.zones = args.zones.clone();
    opts.detect = args.detect.options();
    let bar = Reporter::new(1);
    opts.progress = Some(bar.callback());
    let report = analyze(&opts)?;
    bar.finish();
    outputs.publish()?;
    crate::note!(
        "analysed {} frame(s) of {} ({} unchanged empty scene, not searched): {} person track(s), {} face-only track(s) -> {}",
        report.frames,
        source.name().display(),
        report.frames_skipped,
        report.person_tracks,
        report.face_tracks,
        args.output.display()
    );
    args.detect
        .model
        .note_devices(ModelArgs::recorded(&report.models));
    if let Some(sheet) = &args.sheet {
        match report.contact_sheet_pages.len() {
            0 | 1 => crate::note!("contact sheet: {}", sheet.display()),
            n => crate::note!(
                "contact sheet: {} pages, {} to {}",
                n,
                sheet.display(),
                report.contact_sheet_pages[n - 1].display()
            ),
        }
    }
    Ok(())
}

/// `redact export`
pub fn cmd_export(args: ExportArgs) -> anyhow::Result<()> {
    let source = args.source.open(args.audit.camera.as_deref())?;
    source.check_not_same(&args.output)?;
    // The export and its manifest are written to staging files and published together at
    // the end, never replacing existing files (unless --force).
    let manifest_path = args
        .manifest
        .clone()
        .unwrap_or_else(|| ExportOptions::new(&source.input, &args.output).manifest_path());
    source.check_not_same(&manifest_path)?;
    let mut outputs = Outputs::new();
    let staged_output = outputs.stage(&args.output)?;
    let staged_manifest = outputs.stage(&manifest_path)?;
    // Check the audit entry before doing the work: an export that cannot be logged is refused.
    let audit = match &args.audit_log {
        Some(log) => {
            let entry_args = EntryArgs {
                actor: args.audit.actor.clone().unwrap_or_default(),
                reason: args.audit.reason.clone().unwrap_or_default(),
                basis: args.audit.basis.clone(),
                purpose: args.audit.purpose.clone(),
            };
            let (camera, purposes) = camera_purposes(args.zones.as_deref())?;
            // One camera per export: the purposes checked are those of the zone file's
            // camera, so the entry may not name another (the C ABI refuses this too).
            if let (Some(named), Some(zones_id), Some(zones)) = (&args.audit.camera, &camera, &args.zones) {
                if named != zones_id {
                    bail!(
                        "--camera {named:?} but the zone file {} describes camera {zones_id:?}: \
                         one export is of one camera (leave out --camera, or give that camera's zone file)",
                        zones.display()
                    );
                }
            }
            let mut entry = new_entry(Action::Export, &entry_args)?;
            if let Some(c) = args.audit.camera.clone().or(camera) {
                entry = entry.camera(c);
            }
            // Recordings name their own wall clock; a file needs --recording-start.
            let start = match (&source.recordings, args.audit.recording_start.as_deref()) {
                (Some(r), _) => r.record().asked.from,
                (None, Some(s)) => Timestamp::parse(s).context("--recording-start")?,
                (None, None) => bail!("--audit-log needs --recording-start RFC3339 (or read --recordings)"),
            };
            let audit = ExportAudit::new(log, entry, purposes, start);
            audit
                .check()
                .with_context(|| format!("{}: the export could not be logged", log.display()))?;
            Some(audit)
        }
        None => None,
    };
    // A key that cannot sign is found before the work, not after it.
    let sign_key = args.sign_key.as_deref().map(SecretKey::load).transpose()?;
    let signature = sign_key.as_ref().map(|_| signature_path(&manifest_path));
    let staged_signature = match &signature {
        Some(sig) => Some(outputs.stage(sig)?),
        None => None,
    };
    let mut opts = ExportOptions::new(&source.input, &staged_output);
    opts.key = source.key.clone();
    opts.encrypt_to = args.encrypt_to.clone();
    opts.manifest = Some(staged_manifest.clone());
    opts.from = source.from;
    opts.to = source.to;
    opts.recordings = source.record();
    opts.zones = args.zones.clone();
    opts.tracks = args.tracks.clone();
    opts.tracks_out = match &args.tracks_out {
        Some(p) => {
            source.check_not_same(p)?;
            Some(outputs.stage(p)?)
        }
        None => None,
    };
    opts.actor = args.audit.actor.clone();
    opts.requester = if args.keep_none {
        Requester::None
    } else if let Some((when, x, y)) = args.keep_at {
        Requester::At {
            time: source.seconds(when, "--keep-at")?,
            x,
            y,
        }
    } else if !args.keep_track.is_empty() {
        let mut ids = Vec::new();
        for k in &args.keep_track {
            if k.contains('.') {
                opts.keep_tracklets.push(
                    k.parse()
                        .map_err(|e: String| anyhow::anyhow!("--keep-track: {e}"))?,
                );
            } else {
                ids.push(
                    k.trim()
                        .parse::<u64>()
                        .with_context(|| format!("--keep-track: {k:?} is not a track id"))?,
                );
            }
        }
        Requester::Tracks { ids }
    } else {
        bail!("one of --keep-track, --keep-at, --keep-none is required");
    };
    opts.keep_tracklets.extend(args.add_tracklet.iter().copied());
    // The review strip is an output like the others: staged, never over the input or
    // another output, an existing file refused without --force, withdrawn with the export.
    opts.review = match &args.review {
        Some(review) => {
            source.check_not_same(review)?;
            check_distinct(
                "review strip",
                review,
                &[
                    ("export", Some(args.output.as_path())),
                    ("manifest", Some(manifest_path.as_path())),
                    ("signature", signature.as_deref()),
                    ("tracks file", args.tracks.as_deref()),
                    ("tracks output", args.tracks_out.as_deref()),
                    ("zone file", args.zones.as_deref()),
                    ("audit log", args.audit_log.as_deref()),
                ],
            )?;
            Some(outputs.stage(review)?)
        }
        None => None,
    };
    opts.style = match args.style {
        StyleArg::Blur => Style::Blur,
        StyleArg::Pixelate => Style::Pixelate,
        StyleArg::Solid => Style::Solid,
        StyleArg::WeakBlur => Style::WeakBlur,
    };
    opts.spotlight = args.spotlight;
    opts.only_requester = args.only_requester.then_some(args.margin);
    opts.encode = args.encode.options();
    opts.detect = args.detect.options();
    // Without a tracks file the export runs the analysis itself: two stages.
    let bar = Reporter::new(if opts.tracks.is_some() { 1 } else { 2 });
    opts.progress = Some(bar.callback());
    let mut report = export(&opts)?;
    bar.finish();
    // The manifest names the published file, not the staging file it was written as (same
    // bytes, same SHA-256).
    report.manifest.output.path = args.output.clone();
    report.manifest.save(&staged_manifest)?;
    // The signature covers the manifest as published; it is staged and published with it.
    if let (Some(key), Some(staged)) = (&sign_key, &staged_signature) {
        let bytes = std::fs::read(&staged_manifest)
            .with_context(|| format!("{}: cannot read the manifest to sign it", manifest_path.display()))?;
        std::fs::write(staged, key.sign(&bytes)).with_context(|| {
            format!(
                "{}: export withdrawn because its manifest could not be signed",
                args.output.display()
            )
        })?;
    }
    // Logged before anything is published (the library's order): an export the log
    // refuses is never visible; its staged files go when `outputs` is dropped.
    if let Some(audit) = &audit {
        audit
            .log(&staged_manifest, report.manifest.frames_span)
            .map_err(|e| veil::redact::RedactError::ExportWithdrawn {
                output: args.output.clone(),
                source: Box::new(e),
            })?;
        crate::note!("audit: export logged in {}", audit.log.display());
    }
    outputs.publish()?;
    let m = &report.manifest;
    crate::note!(
        "exported {} frame(s): {} track(s) redacted, requester track(s) {:?} kept",
        m.counts.frames,
        m.redacted_tracks.len(),
        m.requester_tracks
    );
    args.detect.model.note_devices(ModelArgs::recorded(&m.models));
    crate::progress::note_times(&report);
    if let Some(o) = &m.only_requester {
        let total: f64 = o.stretches.iter().map(|s| s.stream[1] - s.stream[0]).sum();
        crate::note!(
            "only the requester: {} stretch(es), {total:.1} s in total ({:.1} s of the window left \
             out; margin {} s; timestamps continuous{})",
            o.stretches.len(),
            o.withheld_seconds,
            o.margin,
            if args.encode.options().keep_audio {
                "; audio dropped"
            } else {
                ""
            }
        );
        for s in &o.stretches {
            let wall = s
                .wall
                .map(|w| format!(" ({} .. {})", w.from, w.to))
                .unwrap_or_default();
            crate::note!(
                "  {:.3} .. {:.3} s{wall}: {} frame(s), {:.3} .. {:.3} s of the export",
                s.stream[0],
                s.stream[1],
                s.frame_count,
                s.output[0],
                s.output[1]
            );
        }
    }
    if let Some(r) = &m.recordings {
        if let Some(d) = &r.delivered {
            crate::note!(
                "delivered {} .. {} (wall clock, camera {})",
                d.from,
                d.to,
                r.camera
            );
        }
        for s in r.segments.iter().filter(|s| s.output.is_some()) {
            if let Some([a, b]) = s.output {
                crate::note!("  {a:.3} .. {b:.3} s of the export: segment {}", s.file);
            }
        }
        for h in &r.holes {
            crate::note!("  hole: {h}");
        }
    }
    if !m.requester_tracklets.is_empty() {
        let names: Vec<String> = m.requester_tracklets.iter().map(|t| t.to_string()).collect();
        crate::note!("requester kept on tracklet(s) {}", names.join(", "));
    }
    if !m.operator_tracklets.is_empty() {
        let names: Vec<String> = m
            .operator_tracklets
            .iter()
            .map(|o| o.tracklet.to_string())
            .collect();
        let by = m.operator_tracklets[0]
            .added_by
            .as_deref()
            .unwrap_or("an operator not named (no --actor)");
        crate::note!("added by {by} after review: tracklet(s) {}", names.join(", "));
    }
    for w in &m.withheld {
        let names: Vec<String> = w.tracklets.iter().map(|t| t.to_string()).collect();
        crate::note!(
            "withheld {:.1}-{:.1} s (tracklet(s) {}): {}",
            w.from,
            w.to,
            names.join(", "),
            w.reason
        );
    }
    crate::note!("export:   {}", args.output.display());
    crate::note!("manifest: {}", manifest_path.display());
    if let Some(sig) = &signature {
        crate::note!("signed:   {}", sig.display());
    }
    if !m.withheld.is_empty() {
        crate::note!(
            "withheld stretches stay redacted; only after checking the footage, add a tracklet \
             that is the requester with --add-tracklet ID.K and export again"
        );
    }
    if let Some(t) = &args.tracks_out {
        crate::note!(
            "tracks:   {} (give it with --tracks to reuse its tracklet ids)",
            t.display()
        );
    }
    if let Some(r) = &args.review {
        crate::note!(
            "review:   {} (check that the kept person never switches)",
            r.display()
        );
    }
    Ok(())
}
