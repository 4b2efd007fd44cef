//! `redact audit ...` and `redact retention ...`: thin clap layers over veil-audit.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use veil::audit::{
    plan_from_files, sha256_file, verify_file, verify_file_with_anchor, Action, Anchor, AuditLog, LegalBasis,
    NewEntry, Policy, Timestamp, Window,
};
use veil::core::CameraConfig;

/// `redact audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 0 with a one-line summary when intact, 1 naming the first bad entry.
    Verify(VerifyArgs),
    /// Append one entry (durable, locked against concurrent writers).
    Append(Box<AppendArgs>),
}

/// `redact audit verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The audit log (JSON lines).
    pub log: PathBuf,
    /// A head recorded elsewhere, as SEQ:HASH: also detects removed trailing entries.
    #[arg(long, value_name = "SEQ:HASH")]
    pub anchor: Option<String>,
}

/// Who did what, why, on which legal basis: the fields of an audit entry.
#[derive(Debug, Args)]
pub struct EntryArgs {
    /// Who (a person or system account).
    #[arg(long)]
    pub actor: String,
    /// Free-text reason.
    #[arg(long)]
    pub reason: String,
    /// Legal basis: inzage:REF | police-order:REF | own-report:REF | incident:REF | erasure-request:REF.
    #[arg(long, value_name = "KIND:REF")]
    pub basis: Option<String>,
    /// Purpose of use; must be one of the camera's purposes unless the basis overrides it.
    #[arg(long)]
    pub purpose: Option<String>,
}

/// `redact audit append`
#[derive(Debug, Args)]
pub struct AppendArgs {
    /// The audit log (created if missing).
    pub log: PathBuf,
    /// view | export | disclose | erase | delete | hold | release | request | config-change | note.
    #[arg(long)]
    pub action: String,
    #[command(flatten)]
    pub entry: EntryArgs,
    /// Camera id (defaults to the id in --zones).
    #[arg(long)]
    pub camera: Option<String>,
    /// The camera's zone file: its [camera] purposes are checked against --purpose.
    #[arg(long, value_name = "ZONES.toml")]
    pub zones: Option<PathBuf>,
    /// Start of the footage concerned (RFC 3339, e.g. 2026-03-01T09:00:00Z).
    #[arg(long, value_name = "RFC3339", requires = "window_to")]
    pub window_from: Option<String>,
    /// End of the footage concerned (RFC 3339).
    #[arg(long, value_name = "RFC3339", requires = "window_from")]
    pub window_to: Option<String>,
    /// Third party receiving footage (disclosures).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Export manifest whose SHA-256 the entry records.
    #[arg(long, value_name = "MANIFEST.json")]
    pub manifest: Option<PathBuf>,
}

/// `redact retention ...`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Which recordings must be deleted now, which are kept and why; printed as JSON.
    Plan(PlanArgs),
    /// Apply retention once to a directory written by `redact record`: delete what expired.
    Apply(crate::record::ApplyArgs),
}

/// `redact retention plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Recordings: {"version":1,"recordings":[...]}.
    #[arg(long, value_name = "R.json")]
    pub recordings: PathBuf,
    /// Incident holds: {"version":1,"holds":[...]}.
    #[arg(long, value_name = "H.json")]
    pub holds: Option<PathBuf>,
    /// Access (inzage) requests: {"version":1,"requests":[...]}.
    #[arg(long, value_name = "A.json")]
    pub access: Option<PathBuf>,
    /// Erasure requests: {"version":1,"erasures":[...]}.
    #[arg(long, value_name = "E.json")]
    pub erasures: Option<PathBuf>,
    /// Retention policy {"default_days":28,"cameras":{"cam":7}}; default 28 days everywhere.
    #[arg(long, value_name = "P.json")]
    pub policy: Option<PathBuf>,
    /// Plan as of this instant (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Print a readable report instead of JSON.
    #[arg(long)]
    pub text: bool,
    /// A storage budget (SIZE: 800G, 6M), as for `redact record --max-disk`: the oldest
    /// recordings no hold or pending request protects are deleted early until the rest fits
    /// (rule "early-storage-budget"). Every recording then needs its "bytes".
    #[arg(long, value_name = "SIZE", value_parser = |s: &str| veil::record::parse_size(s).map_err(|e| e.to_string()))]
    pub max_disk: Option<u64>,
}

/// The camera's purposes from a zone file (empty without one: then only an overriding basis passes).
pub fn camera_purposes(zones: Option<&Path>) -> anyhow::Result<(Option<String>, Vec<String>)> {
    match zones {
        Some(z) => {
            let c = CameraConfig::from_file(z)?;
            Ok((Some(c.id), c.purposes))
        }
        None => Ok((None, Vec::new())),
    }
}

/// Build an entry from the shared fields.
pub fn new_entry(action: Action, e: &EntryArgs) -> anyhow::Result<NewEntry> {
    let mut entry = NewEntry::new(&e.actor, action, &e.reason);
    if let Some(b) = &e.basis {
        let basis: LegalBasis = b.parse().with_context(|| format!("--basis {b}"))?;
        entry = entry.basis(basis);
    }
    if let Some(p) = &e.purpose {
        entry = entry.purpose(p);
    }
    Ok(entry)
}

/// `redact audit verify` / `append`
pub fn cmd_audit(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify(a) => {
            let summary = match &a.anchor {
                Some(s) => {
                    let (seq, hash) = s.split_once(':').context("--anchor must be SEQ:HASH")?;
                    let anchor = Anchor {
                        seq: seq
                            .parse()
                            .with_context(|| format!("--anchor: bad sequence number {seq:?}"))?,
                        hash: hash.to_string(),
                    };
                    verify_file_with_anchor(&a.log, &anchor)?
                }
                None => verify_file(&a.log)?,
            };
            if !summary.is_intact() {
                bail!("{summary}");
            }
            println!("{summary}");
            Ok(())
        }
        AuditCommand::Append(a) => {
            let a = *a;
            let action: Action = a
                .action
                .parse()
                .with_context(|| format!("--action {}", a.action))?;
            let (zone_camera, purposes) = camera_purposes(a.zones.as_deref())?;
            let mut entry = new_entry(action, &a.entry)?;
            if let Some(c) = a.camera.or(zone_camera) {
                entry = entry.camera(c);
            }
            if let (Some(f), Some(t)) = (&a.window_from, &a.window_to) {
                entry = entry.window(Window::new(Timestamp::parse(f)?, Timestamp::parse(t)?)?);
            }
            if let Some(r) = &a.recipient {
                entry = entry.recipient(r);
            }
            if let Some(m) = &a.manifest {
                entry = entry.manifest_sha256(sha256_file(m)?);
            }
            let stored = AuditLog::new(&a.log).append(&entry, &purposes)?;
            println!(
                "{}: appended entry {} ({})",
                a.log.display(),
                stored.seq,
                stored.hash
            );
            Ok(())
        }
    }
}

/// `redact retention plan`
pub fn cmd_retention(cmd: RetentionCommand) -> anyhow::Result<()> {
    let a = match cmd {
        RetentionCommand::Plan(a) => a,
        RetentionCommand::Apply(a) => return crate::record::cmd_apply(a),
    };
    let policy = match &a.policy {
        Some(p) => Policy::from_file(p)?,
        None => Policy::default(),
    };
    let now = match &a.now {
        Some(t) => Timestamp::parse(t)?,
        None => Timestamp::now(),
    };
    let mut plan = plan_from_files(
        &a.recordings,
        a.holds.as_deref(),
        a.access.as_deref(),
        a.erasures.as_deref(),
        &policy,
        now,
    )?;
    if let Some(max_disk) = a.max_disk {
        let b = veil::audit::apply_storage_budget(&mut plan, max_disk)?;
        if b.over_budget {
            eprintln!(
                "warning: {} of footage is left, over the budget of {}: what is left is protected (open holds, pending access requests)",
                veil::record::format_size(b.footage),
                veil::record::format_size(max_disk)
            );
        }
    }
    if a.text {
        println!("{plan}");
    } else {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    }
    Ok(())
}
