//! `redact record` (a live camera, masked at capture, recorded in segments, retention
//! applied continuously) and `redact retention apply` (the same retention rule, once).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use veil::audit::Timestamp;
use veil::core::CameraConfig;
use veil::record::{
    apply_budget, apply_retention, format_size, format_span, parse_duration, parse_size, AuditTarget,
    BudgetOutcome, Capacity, Event, HoldsWatch, Recorder, RecorderConfig, RetentionOptions, StopReason,
    StorageBudget,
};
use veil::video::{Decoder, EncodeOptions, Encoder, PRESETS};

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn parse_encoder(s: &str) -> Result<Encoder, String> {
    s.parse().map_err(|e: veil::video::VideoError| e.to_string())
}

fn parse_decoder(s: &str) -> Result<Decoder, String> {
    s.parse().map_err(|e: veil::video::VideoError| e.to_string())
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

/// `redact record`
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// `redact record status DIR`: which cameras recorded when, and where the gaps are.
    #[command(subcommand)]
    pub command: Option<crate::record_site::RecordCommand>,
    /// The camera: rtsp://..., http://... (MPEG-TS), or anything FFmpeg reads live.
    #[arg(
        value_name = "INPUT",
        required_unless_present = "cameras",
        conflicts_with = "cameras"
    )]
    input: Option<String>,
    /// The camera's zone file (TOML); its [camera] id names the directory.
    #[arg(
        long,
        value_name = "ZONES.toml",
        required_unless_present = "cameras",
        conflicts_with = "cameras"
    )]
    zones: Option<PathBuf>,
    /// Record every camera of a site: each zone file DIR/*.toml whose [camera] table has a
    /// url (and its own segment, retention, preset, crf, encoder, decoder, encrypt_to, credentials_file or
    /// credentials_env), each on its own thread; SIGHUP or a changed file reloads.
    #[arg(long, value_name = "DIR")]
    pub cameras: Option<PathBuf>,
    /// Serve per-camera counters at http://ADDR/metrics (Prometheus text format); a
    /// loopback address only (127.0.0.1:9464).
    #[arg(long, value_name = "127.0.0.1:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
    /// The recording directory: segments go to DIR/<camera id>/<UTC start>.mp4.
    #[arg(long, value_name = "DIR", required = true)]
    pub dir: Option<PathBuf>,
    /// Segment length: 90, 90s, 15m, 6h or 28d.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub segment: Duration,
    /// Segments whose end is older than this are deleted (unless a hold covers them).
    #[arg(long, value_name = "DURATION", default_value = "28d", value_parser = duration)]
    pub retention: Duration,
    /// Incident holds ({"version":1,"holds":[...]}, as for `retention plan`); read again at
    /// every retention pass.
    #[arg(long, value_name = "HOLDS.json")]
    pub holds: Option<PathBuf>,
    /// Access requests ({"version":1,"requests":[...]}, as for `retention plan`): footage a
    /// pending request covers is kept. Read again at every retention pass.
    #[arg(long, value_name = "A.json")]
    pub access: Option<PathBuf>,
    /// Erasure requests ({"version":1,"requests":[...]}): footage they cover is erased
    /// early, unless a hold or a pending access request keeps it.
    #[arg(long, value_name = "E.json")]
    pub erasures: Option<PathBuf>,
    /// The audit log (required): every deletion, every gap in the footage. Its own hold,
    /// request, erase and release entries are honoured too.
    #[arg(long, value_name = "LOG", required = true)]
    pub audit_log: Option<PathBuf>,
    /// Who the audit entries name (required; e.g. the recorder's system account).
    #[arg(long, value_name = "NAME", required = true)]
    pub actor: Option<String>,
    /// Encrypt every segment as it is written to this public key (KEY.pub from `redact keys
    /// generate --encryption`); repeat for more keys (any one reads the footage). The
    /// recorder then holds no secret: a stolen recorder or disk reveals nothing.
    #[arg(long, value_name = "KEY.pub")]
    pub encrypt_to: Vec<PathBuf>,
    /// x264 quality, 0 (lossless) to 51.
    #[arg(long, value_name = "N", default_value_t = 18, value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: u8,
    /// x264 preset.
    #[arg(long, value_name = "P", default_value_t = EncodeOptions::default().preset, value_parser = PRESETS)]
    pub preset: String,
    /// The H.264 encoder: auto (a hardware encoder, VAAPI, NVENC or QSV, when one opens at
    /// the camera's frame size, else x264 with --preset and --crf), x264, or vaapi, nvenc or
    /// qsv (refused with the reason when it cannot open; never replaced by another).
    #[arg(long, value_name = "auto|x264|vaapi|nvenc|qsv", default_value = "auto", value_parser = parse_encoder)]
    pub encoder: Encoder,
    /// The decoder of the camera's stream: auto (a hardware decoder, VAAPI, CUDA or QSV, when
    /// one opens for the stream's codec, else software), software, or vaapi, cuda or qsv
    /// (refused with the reason when it cannot be used; never replaced by software).
    #[arg(long, value_name = "auto|software|vaapi|cuda|qsv", default_value = "auto", value_parser = parse_decoder)]
    pub decoder: Decoder,
    /// The storage budget: the footage under --dir (every camera's segments and keys) is
    /// kept within SIZE (800G, 6M; powers of 1024). Before the next segment would break it,
    /// the oldest segments no hold or request protects are deleted early, each audited.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_disk: Option<u64>,
    /// Free space always left on the file system (SIZE), deleting early as for the budget.
    /// Default: two segments of the largest so far.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub min_free: Option<u64>,
    /// Stop after this long (for tests and scheduled jobs).
    #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
    pub run_for: Option<Duration>,
    /// RTSP transport (FFmpeg's default: UDP, then TCP).
    #[arg(long, value_name = "tcp|udp", value_parser = ["tcp", "udp"])]
    pub rtsp_transport: Option<String>,
}

/// `redact retention apply`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A directory written by `redact record`.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Retention period: 90, 90s, 15m, 6h or 28d.
    #[arg(long, value_name = "DURATION", default_value = "28d", value_parser = duration)]
    retention: Duration,
    /// Incident holds ({"version":1,"holds":[...]}).
    #[arg(long, value_name = "HOLDS.json")]
    holds: Option<PathBuf>,
    /// Access requests ({"version":1,"requests":[...]}): pending ones keep footage.
    #[arg(long, value_name = "A.json")]
    access: Option<PathBuf>,
    /// Erasure requests ({"version":1,"requests":[...]}): erased early unless held.
    #[arg(long, value_name = "E.json")]
    erasures: Option<PathBuf>,
    /// Plan as of this instant (RFC 3339; default now). Only with --dry-run: a pass ahead of
    /// time would delete footage before its time.
    #[arg(long, value_name = "RFC3339", requires = "dry_run")]
    now: Option<String>,
    /// Only print what would be deleted.
    #[arg(long)]
    dry_run: bool,
    /// The storage budget (SIZE: 800G, 6M), as for `redact record`: after retention, the
    /// oldest segments no hold or request protects are deleted early until the footage under
    /// --dir fits.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    max_disk: Option<u64>,
    /// Free space to keep on the file system (SIZE), deleting early as for the budget.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    min_free: Option<u64>,
    /// The audit log (required unless --dry-run): every deletion. Its own hold, request,
    /// erase and release entries are honoured too (give it to a dry run as well, or the
    /// dry run does not see them).
    #[arg(
        long,
        value_name = "LOG",
        required_unless_present = "dry_run",
        requires = "actor"
    )]
    audit_log: Option<PathBuf>,
    /// Who the audit entries name (required with --audit-log).
    #[arg(long, value_name = "NAME", requires = "audit_log")]
    actor: Option<String>,
}

fn audit_target(log: Option<PathBuf>, actor: Option<String>) -> Option<AuditTarget> {
    match (log, actor) {
        (Some(log), Some(actor)) => Some(AuditTarget { log, actor }),
        _ => None,
    }
}

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static RELOAD: OnceLock<Arc<AtomicBool>> = OnceLock::new();

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    if let Some(flag) = STOP.get() {
        flag.store(true, Ordering::Relaxed);
    }
}

extern "C" fn on_hangup(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    if let Some(flag) = RELOAD.get() {
        flag.store(true, Ordering::Relaxed);
    }
}

/// Stop cleanly on SIGINT/SIGTERM (`stop`), reload on SIGHUP (`reload`, when given).
pub fn install_signals(stop: Arc<AtomicBool>, reload: Option<Arc<AtomicBool>>) {
    let _ = STOP.set(stop);
    let hup = reload.is_some_and(|r| RELOAD.set(r).is_ok());
    // SAFETY: installing handlers that only perform an atomic store; done before the
    // recorder starts any thread of its own.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        if hup {
            libc::signal(libc::SIGHUP, on_hangup as *const () as libc::sighandler_t);
        }
    }
}

/// The audit log and actor, both required to record.
pub fn required_audit(a: &RecordArgs) -> anyhow::Result<AuditTarget> {
    match (&a.audit_log, &a.actor) {
        (Some(log), Some(actor)) => Ok(AuditTarget {
            log: log.clone(),
            actor: actor.clone(),
        }),
        _ => bail!("record: --audit-log LOG and --actor NAME are required (every deletion is audited)"),
    }
}

/// `redact record`
pub fn cmd_record(a: RecordArgs) -> anyhow::Result<()> {
    if let Some(cmd) = a.command {
        return crate::record_site::cmd_record_command(cmd);
    }
    if a.cameras.is_some() {
        return crate::record_site::cmd_record_site(a);
    }
    let (Some(input), Some(zones), Some(dir)) = (a.input.clone(), a.zones.clone(), a.dir.clone()) else {
        bail!("record: INPUT, --zones and --dir are required (or --cameras DIR with --dir)");
    };
    let audit = required_audit(&a)?;
    let camera = CameraConfig::from_file(&zones)?;
    let mut cfg = RecorderConfig::new(input.clone(), camera, &dir);
    cfg.segment = a.segment;
    cfg.retention = a.retention;
    cfg.holds = a.holds;
    cfg.access = a.access;
    cfg.erasures = a.erasures;
    cfg.audit = Some(audit);
    for p in &a.encrypt_to {
        cfg.encrypt_to.extend(veil::crypt::load_recipients(p)?);
    }
    let encrypted = !cfg.encrypt_to.is_empty();
    cfg.encode = EncodeOptions {
        crf: a.crf,
        preset: a.preset,
        encoder: a.encoder,
        ..EncodeOptions::default()
    };
    cfg.decoder = a.decoder;
    cfg.run_for = a.run_for;
    cfg.max_disk = a.max_disk;
    cfg.min_free = a.min_free;
    if let Some(t) = a.rtsp_transport {
        cfg.input_options.push(("rtsp_transport".into(), t));
    }
    let mut recorder = Recorder::new(cfg)?;
    install_signals(recorder.stop_flag(), None);
    let metrics_server = match a.metrics {
        Some(addr) => {
            let m = veil::record::Metrics::new();
            recorder.set_metrics(Arc::clone(&m));
            let h = veil::record::serve_metrics(addr, m, recorder.stop_flag())?;
            eprintln!("metrics at http://{addr}/metrics");
            Some(h)
        }
        None => None,
    };
    eprintln!(
        "recording {} into {}{} (Ctrl-C or SIGTERM stops cleanly)",
        veil_display(&input),
        recorder.camera_dir().display(),
        if encrypted {
            format!(", encrypted to {} key(s)", a.encrypt_to.len())
        } else {
            String::new()
        }
    );
    eprintln!(
        "{}; retention {}",
        match a.max_disk {
            Some(b) => format!(
                "storage budget {} (the oldest unprotected footage is deleted early to keep within it)",
                format_size(b)
            ),
            None => "no storage budget (the free-space floor alone)".to_string(),
        },
        format_span(a.retention)
    );
    let summary = recorder.run(&mut |event| print_event("", event));
    if let Some(h) = metrics_server {
        recorder.stop_flag().store(true, Ordering::Relaxed);
        let _ = h.join();
    }
    let summary = summary?;
    println!("{}", summary_line(&summary));
    Ok(())
}

/// One recorder event on stderr, prefixed by the camera (`"cam-1: "`) on a site.
pub fn print_event(prefix: &str, event: &Event) {
    match event {
        Event::Connected { width, height, fps } => {
            eprintln!("{prefix}connected: {width}x{height} at {}/{} fps", fps.0, fps.1)
        }
        Event::SegmentClosed(e) => eprintln!(
            "{prefix}segment {} {} .. {} ({} frames){}",
            e.file,
            e.start,
            e.end,
            e.frames,
            if e.gaps.is_empty() {
                String::new()
            } else {
                format!(", {} gap(s)", e.gaps.len())
            }
        ),
        Event::Disconnected { reason, retry_in } => {
            eprintln!(
                "{prefix}warning: camera lost ({reason}); retrying in {} s",
                retry_in.as_secs()
            )
        }
        Event::Deleted(d) => eprintln!("{prefix}deleted {}/{}: {}; {}", d.camera, d.file, d.reason, d.how),
        Event::Warning(w) => eprintln!("{prefix}warning: {w}"),
        Event::Capacity(c) => eprintln!("{prefix}capacity: {}", capacity_line(c)),
        Event::Stalled(e) => {
            eprintln!("{prefix}ALARM: recording stopped: {e}; waiting for room (checked every few seconds)")
        }
        Event::Resumed => eprintln!("{prefix}recording resumes: there is room for footage again"),
        Event::Lagging { lag, at, shed, .. } => eprintln!(
            "{prefix}warning: recording is {:.1} s behind the camera (its frame of {at}); {shed}",
            lag.as_secs_f64()
        ),
        Event::CaughtUp => eprintln!("{prefix}recording caught up with the camera"),
        Event::Encoder(used) => eprintln!("{prefix}encoder: {}", used.describe()),
        Event::Decoder(used) => eprintln!("{prefix}decoder: {}", used.describe()),
        Event::FramesLost { frames, from, to } => eprintln!(
            "{prefix}warning: {frames} frame(s) the camera sent between {from} and {to} were not recorded"
        ),
        _ => {}
    }
}

/// The last line of a run: what it recorded, deleted, keeps, and why it ended.
pub fn summary_line(summary: &veil::record::RecordSummary) -> String {
    let oldest = match summary.oldest_kept {
        Some(t) => format!(
            "oldest footage kept {} old",
            format_span(Duration::from_millis(
                (Timestamp::now().unix_millis() - t.unix_millis()).max(0) as u64
            ))
        ),
        None => "no footage kept".to_string(),
    };
    format!(
        "recorded {} segment(s), {} frame(s); deleted {} segment(s), {} early for storage; {oldest}; {}; {}",
        summary.segments,
        summary.frames,
        summary.deleted,
        summary.early_deleted,
        summary
            .capacity
            .as_ref()
            .map_or_else(|| "capacity not measured".to_string(), capacity_line),
        match summary.reason {
            StopReason::Stopped => "stopped by signal",
            StopReason::TimeUp => "time up",
            StopReason::EndOfInput => "end of the input file",
            _ => "stopped",
        }
    )
}

/// "1.3 GiB an hour, 9.5 d fit in 300 GiB".
fn capacity_line(c: &Capacity) -> String {
    format!(
        "{} an hour, {} fit in {}",
        format_size(c.bytes_per_hour as u64),
        format_span(Duration::from_secs_f64((c.days_fit * 86_400.0).min(1e12))),
        format_size(c.room)
    )
}

/// An input URL without its `user:password@` part.
fn veil_display(input: &str) -> String {
    match input.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            match rest[..host_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => input.to_string(),
            }
        }
        None => input.to_string(),
    }
}

/// `redact retention apply`
pub fn cmd_apply(a: ApplyArgs) -> anyhow::Result<()> {
    if !a.dir.is_dir() {
        bail!("{}: not a directory", a.dir.display());
    }
    let now = match &a.now {
        Some(t) => Timestamp::parse(t).with_context(|| format!("--now {t}"))?,
        None => Timestamp::now(),
    };
    let requests = HoldsWatch::new(a.holds)
        .access(a.access)
        .erasures(a.erasures)
        .audit_log(a.audit_log.clone())
        .current()?;
    let opts = RetentionOptions {
        retention: a.retention,
        requests,
        now,
        dry_run: a.dry_run,
        audit: audit_target(a.audit_log, a.actor),
    };
    let out = apply_retention(&a.dir, &opts)?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    let budget = StorageBudget {
        max_disk: a.max_disk,
        min_free: a.min_free,
    };
    let early = if budget == StorageBudget::default() {
        BudgetOutcome::default()
    } else {
        apply_budget(&a.dir, budget, &opts, &out.deleted)?
    };
    if let Some(full) = &early.full {
        eprintln!("warning: {full}");
    }
    let verb = if a.dry_run { "WOULD DELETE" } else { "DELETED" };
    for d in out.deleted.iter().chain(&early.deleted) {
        println!("{verb} {}/{}: {}; {}", d.camera, d.file, d.reason, d.how);
    }
    for h in &out.held {
        println!("HELD {}/{}: {}", h.camera, h.file, h.reasons);
    }
    for p in &out.pending {
        println!(
            "PENDING erasure {} of {}/{}: waits while {}",
            p.reference, p.camera, p.file, p.reasons
        );
    }
    println!(
        "retention at {now}: {} {}{}, {} held past the period, {} within it",
        out.deleted.len() + early.deleted.len(),
        if a.dry_run { "to delete" } else { "deleted" },
        if budget == StorageBudget::default() {
            String::new()
        } else {
            format!(" ({} early for the storage budget)", early.deleted.len())
        },
        out.held.len(),
        out.kept
    );
    Ok(())
}
