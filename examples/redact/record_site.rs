//! `redact record --cameras DIR` (every camera of a site, one recorder) and `redact record
//! status DIR` (which cameras recorded when, where the gaps are).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::bail;
use clap::{Args, Subcommand};
use veil::record::{format_size, format_span, site_status, Site, SiteConfig, SiteEvent};
use veil::video::EncodeOptions;

use crate::record::{install_signals, print_event, required_audit, summary_line, RecordArgs};

/// `redact record <subcommand>`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Which cameras recorded when, and where the gaps, lag marks and deletions are.
    Status(StatusArgs),
}

/// `redact record status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A directory written by `redact record`.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The site's audit log: configuration changes and notes per camera.
    #[arg(long, value_name = "LOG")]
    audit_log: Option<PathBuf>,
    /// The storage budget (SIZE), for the days of footage that fit.
    #[arg(long, value_name = "SIZE", value_parser = |s: &str| veil::record::parse_size(s).map_err(|e| e.to_string()))]
    max_disk: Option<u64>,
}

/// `redact record <subcommand>`
pub fn cmd_record_command(cmd: RecordCommand) -> anyhow::Result<()> {
    match cmd {
        RecordCommand::Status(a) => cmd_status(a),
    }
}

/// `redact record --cameras DIR --dir OUT ...`
pub fn cmd_record_site(a: RecordArgs) -> anyhow::Result<()> {
    let (Some(cameras), Some(dir)) = (a.cameras.clone(), a.dir.clone()) else {
        bail!("record --cameras DIR: --dir OUT is required");
    };
    let audit = required_audit(&a)?;
    let mut cfg = SiteConfig::new(&cameras, &dir, audit);
    cfg.holds = a.holds.clone();
    cfg.access = a.access.clone();
    cfg.erasures = a.erasures.clone();
    cfg.max_disk = a.max_disk;
    cfg.min_free = a.min_free;
    cfg.run_for = a.run_for;
    cfg.segment = a.segment;
    cfg.retention = a.retention;
    cfg.encode = EncodeOptions {
        crf: a.crf,
        preset: a.preset.clone(),
        encoder: a.encoder,
        ..EncodeOptions::default()
    };
    cfg.decoder = a.decoder;
    for p in &a.encrypt_to {
        cfg.encrypt_to.extend(veil::crypt::load_recipients(p)?);
    }
    let mut site = Site::new(cfg)?;
    install_signals(site.stop_flag(), Some(site.reload_flag()));
    let server = match a.metrics {
        Some(addr) => {
            let h = veil::record::serve_metrics(addr, site.metrics(), site.stop_flag())?;
            eprintln!("metrics at http://{addr}/metrics");
            Some(h)
        }
        None => None,
    };
    eprintln!(
        "recording every camera of {} into {} (SIGHUP or a changed file reloads; Ctrl-C or SIGTERM stops cleanly); {}; retention {} unless a camera sets its own",
        cameras.display(),
        dir.display(),
        match a.max_disk {
            Some(b) => format!("site storage budget {}", format_size(b)),
            None => "no storage budget (the free-space floor alone)".to_string(),
        },
        format_span(a.retention)
    );
    // Lines from several threads: one at a time.
    let lock = Arc::new(Mutex::new(()));
    let summaries = site.run(Arc::new(move |e: &SiteEvent| {
        let _g = lock.lock();
        match e {
            SiteEvent::Camera { camera, event } => print_event(&format!("{camera}: "), event),
            SiteEvent::Started { camera, file, input } => {
                eprintln!("{camera}: recording {input} ({})", file.display())
            }
            SiteEvent::Stopped { camera, summary } => eprintln!("{camera}: {}", summary_line(summary)),
            SiteEvent::Failed {
                camera,
                error,
                retry_in,
            } => eprintln!(
                "{camera}: error: {error}; the other cameras go on{}",
                if retry_in.is_zero() {
                    String::new()
                } else {
                    format!(", this one starts again in {} s", retry_in.as_secs())
                }
            ),
            SiteEvent::ConfigChange(text) => eprintln!("config-change: {text}"),
            SiteEvent::Skipped { file, reason } => {
                eprintln!("warning: {}: {reason}", file.display())
            }
            _ => {}
        }
    }));
    site.stop_flag().store(true, Ordering::Relaxed);
    if let Some(h) = server {
        let _ = h.join();
    }
    let summaries = summaries?;
    let cams: std::collections::BTreeSet<&str> = summaries.iter().map(|(c, _)| c.as_str()).collect();
    println!(
        "site: {} camera(s), {} segment(s), {} frame(s) recorded",
        cams.len(),
        summaries.iter().map(|(_, s)| s.segments).sum::<u64>(),
        summaries.iter().map(|(_, s)| s.frames).sum::<u64>()
    );
    Ok(())
}

/// `redact record status DIR`
fn cmd_status(a: StatusArgs) -> anyhow::Result<()> {
    let cams = site_status(&a.dir, a.audit_log.as_deref())?;
    if cams.is_empty() {
        bail!("{}: no camera directory with an index", a.dir.display());
    }
    match veil::record::site_rate(&a.dir, a.max_disk) {
        Some((rate, days)) => println!(
            "capacity: {} an hour (every camera, last 3 h), {:.1} d fit in {}",
            format_size(rate as u64),
            days,
            match a.max_disk {
                Some(b) => format!("the budget of {}", format_size(b)),
                None => "the footage plus the free space".to_string(),
            }
        ),
        None => println!("capacity: not measured (no segment ended in the last 3 h)"),
    }
    for c in &cams {
        println!(
            "camera {}: {} segment(s), {} frame(s), {} kept; {} deleted ({} early); {} gap(s), {} lag mark(s), {} frame(s) lost",
            c.camera,
            c.segments,
            c.frames,
            format_size(c.bytes),
            c.deleted.len(),
            c.deleted
                .iter()
                .filter(|d| d.3.reason.starts_with(veil::record::EARLY_REASON))
                .count(),
            c.gaps.len(),
            c.lag_marks.len(),
            c.lost_frames
        );
        for (from, to) in &c.recorded {
            println!("  recorded {from} .. {to}");
        }
        for g in &c.gaps {
            println!("  gap {} .. {}: {}", g.from, g.to, g.reason);
        }
        for g in &c.lag_marks {
            println!(
                "  lag {:.1} s at {}: {}",
                g.lag_ms.unwrap_or(0) as f64 / 1000.0,
                g.from,
                g.reason
            );
        }
        for (file, start, end, d) in &c.deleted {
            println!("  deleted {file} ({start} .. {end}) at {}: {}", d.time, d.reason);
        }
        for n in &c.notes {
            println!("  {} {}: {}", n.time, n.action, n.reason);
        }
    }
    Ok(())
}
