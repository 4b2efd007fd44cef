//! `redact disclose`, `redact verify` and `redact keys generate`: disclosure to police and
//! justice with evidence integrity.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use veil::audit::{LegalBasis, Timestamp};
use veil::redact::disclose::DeliveryMethod;
use veil::redact::sign::generate_key_pair;
use veil::redact::{disclose, verify, verify_audit_link, DiscloseOptions};

use crate::footage::SourceArgs;

/// `redact disclose`
#[derive(Debug, Args)]
pub struct DiscloseArgs {
    /// Recording to copy from (or --recordings DIR with --camera, --from and --to: the
    /// copy is then the recorded packets of the camera's segments, bit for bit, joined).
    #[command(flatten)]
    pub source: SourceArgs,
    /// Deliver the copy encrypted (age) to this public key (age1..., a .pub file from `redact
    /// keys generate --encryption`); repeatable, any one key decrypts it (`age -d -i KEY`).
    /// The manifest stays plain and records the recipients; its output hash is the decrypted copy's.
    #[arg(long, value_name = "RECIPIENT.pub")]
    pub encrypt_to: Vec<PathBuf>,
    /// The copy to hand over (its extension chooses the container: .mp4, .mkv). Never overwritten.
    #[arg(short, long, value_name = "OUTPUT.mp4")]
    pub output: PathBuf,
    /// Legal basis: police-order:REF | own-report:REF (an inzage copy goes through `redact export`).
    #[arg(long, value_name = "KIND:REF")]
    pub basis: String,
    /// The audit log; the disclosure is logged there before the copy is released.
    #[arg(long, value_name = "LOG")]
    pub audit_log: PathBuf,
    /// Who discloses.
    #[arg(long)]
    pub actor: String,
    /// Why (e.g. the order's description).
    #[arg(long)]
    pub reason: String,
    /// Wall-clock time (RFC 3339) at which the recording starts (not with --recordings,
    /// whose index gives it).
    #[arg(long, value_name = "RFC3339", conflicts_with = "recordings")]
    pub recording_start: Option<String>,
    /// Camera id (for the audit entry and the manifest).
    #[arg(long)]
    pub camera: String,
    /// Who receives the copy (default: "police or justice").
    #[arg(long)]
    pub recipient: Option<String>,
    /// Copy the audio too. Off by default: audio can carry bystanders' voices.
    #[arg(long)]
    pub keep_audio: bool,
    /// Sign the manifest with this Ed25519 secret key (from `redact keys generate`).
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// Manifest path (default: OUTPUT.manifest.json). Never overwritten.
    #[arg(long, value_name = "MANIFEST.json")]
    pub manifest: Option<PathBuf>,
}

/// `redact verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The file received (a disclosure or an export).
    pub output: PathBuf,
    /// Its manifest.
    #[arg(long, value_name = "MANIFEST.json")]
    pub manifest: PathBuf,
    /// The organisation's public key: the manifest's signature (MANIFEST.sig) must verify with it.
    #[arg(long, value_name = "site.pub")]
    pub pubkey: Option<PathBuf>,
    /// For the organisation: also check that this audit log is intact and holds the
    /// disclosure's entry (sequence number and hash in the manifest) recording this manifest.
    #[arg(long, value_name = "LOG")]
    pub audit_log: Option<PathBuf>,
}

/// `redact keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new Ed25519 key pair: the secret key (mode 0600) and KEY's .pub beside it.
    Generate(GenerateArgs),
}

/// `redact keys generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The secret key file to create (e.g. site.key; the public key goes to site.pub).
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
}

/// `redact disclose`
pub fn cmd_disclose(a: DiscloseArgs) -> anyhow::Result<()> {
    let basis: LegalBasis = a.basis.parse().with_context(|| format!("--basis {}", a.basis))?;
    let source = a.source.open_for_copy(Some(&a.camera))?;
    let start = match (&source.recordings, a.recording_start.as_deref()) {
        (Some(r), _) => r.record().wall_at(0.0),
        (None, Some(s)) => Timestamp::parse(s).context("--recording-start")?,
        (None, None) => anyhow::bail!("--recording-start RFC3339 is required (or read --recordings)"),
    };
    let mut opts = DiscloseOptions::new(
        &source.input,
        &a.output,
        basis,
        &a.audit_log,
        &a.actor,
        &a.reason,
        start,
        &a.camera,
    );
    opts.key = source.key.clone();
    opts.encrypt_to = a.encrypt_to.clone();
    opts.from = source.from;
    // A wall-clock window ends before `to`; a copy's `to` is inclusive.
    opts.to = match &source.recordings {
        Some(_) => source.to.map(|t| (t - 0.001).max(source.from.unwrap_or(0.0))),
        None => source.to,
    };
    opts.recordings = source.record();
    opts.recipient = a.recipient;
    opts.keep_audio = a.keep_audio;
    opts.sign_key = a.sign_key;
    opts.manifest = a.manifest;
    let report = disclose(&opts)?;
    let m = &report.manifest;
    let fmt = |v: Option<f64>, none: &str| v.map_or_else(|| none.to_owned(), |t| format!("{t:.3} s"));
    eprintln!(
        "disclosed {} frame(s): asked {} .. {}, delivered {:.3} s .. {:.3} s ({} .. {})",
        m.frames,
        fmt(m.requested.from, "start"),
        fmt(m.requested.to, "end"),
        m.delivered.from,
        m.delivered.to,
        m.delivered.wall_clock.from,
        m.delivered.wall_clock.to
    );
    if let Some(r) = &m.recordings {
        for s in &r.segments {
            if let Some([a, b]) = s.output {
                eprintln!(
                    "  {a:.3} .. {b:.3} s of the copy: segment {} (SHA-256 {})",
                    s.file, s.sha256
                );
            }
        }
        for h in &r.holes {
            eprintln!("  hole: {h}");
        }
    }
    match &m.method {
        DeliveryMethod::StreamCopy => eprintln!(
            "method:   stream copy ({}), the recorded packets bit for bit",
            m.codec
        ),
        DeliveryMethod::LosslessReencode { reason } => {
            eprintln!(
                "method:   lossless re-encode ({} -> {}): {reason}",
                m.codec, m.output_codec
            )
        }
    }
    eprintln!(
        "audit:    entry {} in {} ({})",
        report.audit_entry.seq,
        a.audit_log.display(),
        report.audit_entry.hash
    );
    eprintln!("output:   {}", report.output.display());
    eprintln!("manifest: {}", report.manifest_path.display());
    if let (Some(sig), Some(s)) = (&report.signature_path, &m.signer) {
        eprintln!("signed:   {} by {}", sig.display(), s.public_key_sha256);
    }
    Ok(())
}

/// `redact verify`: exit 0 on a match, 1 with one line naming the failure.
pub fn cmd_verify(a: VerifyArgs) -> anyhow::Result<()> {
    let ok = verify(&a.output, &a.manifest, a.pubkey.as_deref())?;
    let logged = match &a.audit_log {
        Some(log) => Some((log, verify_audit_link(&a.manifest, log)?)),
        None => None,
    };
    match (&ok.signed_by, ok.has_signature) {
        (Some(fp), _) => println!(
            "OK: {} matches its {} manifest (SHA-256 {}); signature verified with key {fp}",
            a.output.display(),
            ok.kind,
            ok.sha256
        ),
        (None, true) => println!(
            "OK: {} matches its {} manifest (SHA-256 {}); signature NOT checked (give --pubkey)",
            a.output.display(),
            ok.kind,
            ok.sha256
        ),
        (None, false) => println!(
            "OK: {} matches its {} manifest (SHA-256 {}); the manifest is unsigned",
            a.output.display(),
            ok.kind,
            ok.sha256
        ),
    }
    if let Some((log, seq)) = logged {
        println!(
            "OK: audit entry {seq} in {} records this disclosure",
            log.display()
        );
    }
    Ok(())
}

/// `redact keys generate`
pub fn cmd_keys(cmd: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Generate(a) = cmd;
    let files = generate_key_pair(&a.out)?;
    println!(
        "secret key:  {} (mode 0600; keep it offline, never share it)",
        files.secret.display()
    );
    println!("public key:  {}", files.public.display());
    println!("fingerprint: {}", files.fingerprint);
    Ok(())
}
