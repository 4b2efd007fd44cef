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

/// A TIME on the command line: seconds from the start of an input file (`12.5`,
/// `[HH:]MM:SS[.fff]`), or a wall-clock instant in RFC 3339 with its zone
/// (`2026-03-01T14:05:00+01:00`), as a request names it, for `--recordings`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// Seconds from the start of the input.
    Seconds(f64),
    /// A wall-clock instant.
    Wall(veil::audit::Timestamp),
}

/// Parse a [`When`].
pub fn parse_when(s: &str) -> Result<When, String> {
    if s.contains('T') || s.contains('-') {
        return veil::audit::Timestamp::parse(s.trim())
            .map(When::Wall)
            .map_err(|e| {
                format!("{e} (a wall-clock time is RFC 3339 with its zone, e.g. 2026-03-01T14:05:00+01:00)")
            });
    }
    crate::parse_time(s).map(When::Seconds)
}

/// Where the footage is read from: a file (INPUT), or a camera's recordings for a
/// wall-clock window (`--recordings DIR --camera ID --from RFC3339 --to RFC3339`).
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Recording to read (file path or URL); or --recordings with --camera, --from and --to.
    #[arg(required_unless_present = "recordings")]
    pub input: Option<PathBuf>,
    /// The secret key that opens encrypted footage (a recorder segment .mp4.age, or a file
    /// encrypted to this key); decrypted in memory, never to disk.
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Read a camera's recordings instead of INPUT: the recorder's directory (`redact record
    /// --dir`). The segments covering --from .. --to (wall-clock, RFC 3339) of --camera are
    /// chosen from DIR/<camera>/index.jsonl, each checked against its recorded SHA-256 (an
    /// altered, missing or unindexed segment is refused), decrypted in memory with --key,
    /// and read as one stream; holes (gaps, deleted segments, time not recorded) are
    /// listed in the output and the manifest.
    #[arg(long, value_name = "DIR", conflicts_with = "input", requires_all = ["from", "to"])]
    pub recordings: Option<PathBuf>,
    /// Start of the window: seconds (12.5) or [HH:]MM:SS[.fff] into INPUT; with
    /// --recordings a wall-clock time, RFC 3339 (2026-03-01T14:05:00+01:00).
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub from: Option<When>,
    /// End of the window (exclusive), same format as --from.
    #[arg(long, value_name = "TIME", value_parser = parse_when)]
    pub to: Option<When>,
}

/// The footage opened: what the pipelines read, and the window in its seconds.
#[derive(Debug)]
pub struct Source {
    /// The path to read (INPUT, or the recordings joined in memory).
    pub input: PathBuf,
    /// The key for INPUT (`None` for recordings: they are decrypted already).
    pub key: Option<PathBuf>,
    /// Window start, seconds of `input`.
    pub from: Option<f64>,
    /// Window end, seconds of `input`.
    pub to: Option<f64>,
    /// The recordings, when read from them.
    pub recordings: Option<veil::record::OpenedRecordings>,
}

impl SourceArgs {
    /// Open the footage: INPUT as it is, or `camera`'s recordings for the window (checked,
    /// decrypted, joined), their segments and holes noted on stderr.
    pub fn open(&self, camera: Option<&str>) -> anyhow::Result<Source> {
        self.open_as(camera, false)
    }

    /// [`SourceArgs::open`] for a stream copy: recordings keep every recorded keyframe
    /// (see `Recordings::open_for_copy`).
    pub fn open_for_copy(&self, camera: Option<&str>) -> anyhow::Result<Source> {
        self.open_as(camera, true)
    }

    fn open_as(&self, camera: Option<&str>, copy: bool) -> anyhow::Result<Source> {
        let Some(dir) = &self.recordings else {
            let secs = |w: Option<When>, name: &str| -> anyhow::Result<Option<f64>> {
                match w {
                    None => Ok(None),
                    Some(When::Seconds(s)) => Ok(Some(s)),
                    Some(When::Wall(t)) => bail!(
                        "--{name} {t}: a wall-clock time needs --recordings DIR --camera ID (for a file, give seconds)"
                    ),
                }
            };
            let Some(input) = self.input.clone() else {
                bail!("give INPUT, or --recordings DIR --camera ID --from TIME --to TIME");
            };
            return Ok(Source {
                input,
                key: self.key.clone(),
                from: secs(self.from, "from")?,
                to: secs(self.to, "to")?,
                recordings: None,
            });
        };
        let Some(camera) = camera else {
            bail!(
                "--recordings needs --camera ID (the camera's directory under {})",
                dir.display()
            );
        };
        let wall = |w: Option<When>, name: &str| -> anyhow::Result<veil::audit::Timestamp> {
            match w {
                Some(When::Wall(t)) => Ok(t),
                Some(When::Seconds(s)) => bail!(
                    "--{name} {s}: with --recordings the window is wall-clock time, RFC 3339 (2026-03-01T14:05:00+01:00)"
                ),
                None => bail!("--recordings needs --{name} (RFC 3339)"),
            }
        };
        let window = veil::record::WallWindow {
            from: wall(self.from, "from")?,
            to: wall(self.to, "to")?,
        };
        let list = veil::record::Recordings::from_index(dir, camera, window)?;
        let opened = if copy {
            list.open_for_copy(self.key.as_deref())?
        } else {
            list.open(self.key.as_deref())?
        };
        let (from, to) = opened.window();
        let r = opened.record();
        crate::note!(
            "camera {}: {} .. {} from {} segment(s):",
            r.camera,
            r.asked.from,
            r.asked.to,
            r.segments.len()
        );
        for s in &r.segments {
            crate::note!(
                "  {} ({} .. {}, {} frame(s), SHA-256 checked{})",
                s.file,
                s.start,
                s.end,
                s.frames,
                if s.encrypted { ", decrypted in memory" } else { "" }
            );
        }
        for h in &r.holes {
            crate::note!("  hole: {h}");
        }
        Ok(Source {
            input: opened.path().to_path_buf(),
            key: None,
            from: Some(from),
            to: Some(to),
            recordings: Some(opened),
        })
    }
}

impl Source {
    /// Seconds of the input for a TIME given with the window (`--keep-at`): a wall-clock time
    /// inside the window for recordings, seconds for a file.
    pub fn seconds(&self, w: When, name: &str) -> anyhow::Result<f64> {
        match (w, &self.recordings) {
            (When::Seconds(s), None) => Ok(s),
            (When::Wall(t), Some(r)) => r.seconds_at(t).ok_or_else(|| {
                anyhow::anyhow!(
                    "{name} {t}: outside the window {} .. {}",
                    r.record().asked.from,
                    r.record().asked.to
                )
            }),
            (When::Seconds(s), Some(_)) => {
                bail!("{name} {s}: with --recordings, times are wall-clock, RFC 3339")
            }
            (When::Wall(t), None) => bail!("{name} {t}: a wall-clock time needs --recordings"),
        }
    }

    /// What the recordings record holds, for the library's options.
    pub fn record(&self) -> Option<veil::record::RecordingsRecord> {
        self.recordings.as_ref().map(|r| r.record().clone())
    }

    /// How messages name the footage.
    pub fn name(&self) -> PathBuf {
        match &self.recordings {
            Some(r) => r.display_name(),
            None => self.input.clone(),
        }
    }

    /// Refuse an output over the input file.
    pub fn check_not_same(&self, output: &std::path::Path) -> anyhow::Result<()> {
        if self.recordings.is_none() {
            crate::check_not_same(&self.input, output)?;
        }
        Ok(())
    }
}
