//! `redact keys generate [--encryption]` and `redact decrypt`: the keys of footage at rest,
//! and reading an encrypted segment of `redact record --encrypt-to`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use veil::audit::{Action, AuditLog, LegalBasis, NewEntry};

/// `redact keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new key pair: the secret key (mode 0600) and KEY.pub beside it. Ed25519 for
    /// signing manifests; with --encryption an age X25519 key for footage at rest.
    Generate(GenerateArgs),
}

/// `redact keys generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The secret key file to create (never overwritten).
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
    /// An encryption key for footage (age X25519, as `age-keygen` writes): the recorder
    /// and `--encrypt-to` take KEY.pub, `redact decrypt --key` (and `age -d -i`) take KEY.
    #[arg(long)]
    pub encryption: bool,
}

/// `redact keys generate`
pub fn cmd_keys(cmd: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Generate(a) = cmd;
    if !a.encryption {
        return crate::disclose::cmd_keys(crate::disclose::KeysCommand::Generate(
            crate::disclose::GenerateArgs { out: a.out },
        ));
    }
    let files = veil::crypt::generate_key_files(&a.out)?;
    println!(
        "secret key:  {} (mode 0600; it reads all footage encrypted to it: keep it offline, never share it)",
        files.secret.display()
    );
    println!(
        "public key:  {} (give it to the recorder: redact record --encrypt-to {})",
        files.public.display(),
        files.public.display()
    );
    println!("recipient:   {}", files.recipient);
    Ok(())
}

/// `redact decrypt`
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// An encrypted segment written by `redact record --encrypt-to` (DIR/<camera>/<start>.mp4.age).
    #[arg(value_name = "SEGMENT")]
    pub segment: PathBuf,
    /// The site's secret key (from `redact keys generate --encryption`; mode 0600).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The plain segment to write (a fragmented MP4).
    #[arg(short = 'o', long, value_name = "OUT.mp4")]
    pub output: PathBuf,
    /// Log the reading as a `view` entry (written before the output appears; no output
    /// without it).
    #[arg(long, value_name = "LOG", requires_all = ["actor", "reason"])]
    pub audit_log: Option<PathBuf>,
    /// Who reads the footage.
    #[arg(long, requires = "audit_log")]
    pub actor: Option<String>,
    /// Why.
    #[arg(long, requires = "audit_log")]
    pub reason: Option<String>,
    /// Purpose of use: one of the camera's purposes (from --zones) unless the basis overrides it.
    #[arg(long, requires = "audit_log")]
    pub purpose: Option<String>,
    /// Legal basis (e.g. inzage:REF, police-order:REF).
    #[arg(long, value_name = "KIND:REF", requires = "audit_log")]
    pub basis: Option<String>,
    /// The camera's zone file: its purposes are checked against --purpose.
    #[arg(long, value_name = "ZONES.toml", requires = "audit_log")]
    pub zones: Option<PathBuf>,
}

/// `redact decrypt`
pub fn cmd_decrypt(a: DecryptArgs) -> anyhow::Result<()> {
    crate::check_not_same(&a.segment, &a.output)?;
    if !a.segment.is_file() {
        bail!("{}: no such segment", a.segment.display());
    }
    let site = veil::crypt::load_identities(&a.key)?;
    // The entry is checked before anything is decrypted, and written before the output
    // appears.
    let entry = match (&a.audit_log, &a.actor, &a.reason) {
        (Some(_), Some(actor), Some(reason)) => {
            let mut e = NewEntry::new(actor, Action::View, reason);
            if let Some(b) = &a.basis {
                let basis: LegalBasis = b.parse().with_context(|| format!("--basis {b}"))?;
                e = e.basis(basis);
            }
            if let Some(p) = &a.purpose {
                e = e.purpose(p);
            }
            let (_, purposes) = crate::governance::camera_purposes(a.zones.as_deref())?;
            // The camera comes from the segment's directory; any name checks the rest.
            e.clone().camera("camera").validate(&purposes)?;
            Some((e, purposes))
        }
        _ => None,
    };
    let mut outputs = crate::output::Outputs::new();
    let staged = outputs.stage(&a.output)?;
    let done = veil::record::decrypt_segment(&a.segment, &site, &staged)?;
    if let (Some(log), Some((mut e, purposes))) = (&a.audit_log, entry) {
        e = e.camera(&done.camera);
        if let Some(x) = &done.entry {
            e = e.window(veil::audit::Window {
                from: x.start,
                to: x.end,
            });
        }
        e.reason = format!("{} (decrypted {})", e.reason, a.segment.display());
        AuditLog::new(log).append(&e, &purposes)?;
    }
    outputs.publish()?;
    if !crate::output::quiet() {
        println!(
            "decrypted {} ({} bytes, camera {}) -> {}",
            a.segment.display(),
            done.bytes,
            done.camera,
            a.output.display()
        );
    }
    Ok(())
}
