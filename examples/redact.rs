//! `redact`: Veil's redaction command-line tool.
//!
//! ```text
//! cargo run --release --example redact -- mask INPUT --zones ZONES.toml -o OUTPUT.mp4 \
//!     [--from TIME] [--to TIME] [--crf N] [--preset P] [--keep-audio]
//! ```
//!
//! Conventions shared by every command: TIME is seconds (`12.5`) or `[HH:]MM:SS[.fff]`;
//! exit status 0 on success, 2 on a usage error, 1 on any other error with one line
//! `error: ...` on stderr naming the file and the reason; no output file is left behind on
//! failure (outputs are written to a temporary file and renamed when complete); an existing
//! output is never replaced unless `--force` (see `redact/output.rs`). Progress is drawn on
//! stderr only when it is a terminal, per stage (`redact/progress.rs`); `-q` silences it and
//! the summaries, `--progress-json` reports it as JSON lines.
//!
//! To add a command: a variant in [`Command`] with its `Args` struct, and one
//! `fn cmd_x(args) -> anyhow::Result<()>`, dispatched in [`run`].

#[path = "redact/cameras.rs"]
mod cameras;
#[path = "redact/detect_cmd.rs"]
mod detect_cmd;
#[path = "redact/disclose.rs"]
mod disclose;
#[path = "redact/docs.rs"]
mod docs;
#[path = "redact/footage.rs"]
mod footage;
#[path = "redact/governance.rs"]
mod governance;
#[path = "redact/inzage.rs"]
mod inzage;
#[path = "redact/models.rs"]
mod models;
#[path = "redact/output.rs"]
mod output;
#[path = "redact/progress.rs"]
mod progress;
#[path = "redact/record.rs"]
mod record;
#[path = "redact/record_site.rs"]
mod record_site;
#[path = "redact/zones.rs"]
mod zones;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use veil::core::{CameraConfig, CaptureMasker};
use veil::video::{EncodeOptions, ReadOptions, VideoReader, VideoWriter, PRESETS};

/// Privacy-preserving redaction of CCTV footage.
#[derive(Debug, Parser)]
#[command(name = "redact", version, about, after_help = docs::AFTER_HELP)]
struct Cli {
    /// Let FFmpeg print its own warnings and errors (for diagnosing a difficult input).
    #[arg(long, global = true)]
    verbose: bool,
    #[command(flatten)]
    global: output::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Mask a camera's forbidden zones (doors, windows, road) in every frame of a recording.
    Mask(MaskArgs),
    /// Detect faces and persons in every frame of a window; write them as JSON.
    Detect(detect_cmd::DetectArgs),
    /// Pass 1 of an inzage export: detect and track persons and faces; tracks file + contact sheet.
    Analyze(inzage::AnalyzeArgs),
    /// Inzage export: keep the requester, redact every bystander (and the zones), re-encode.
    Export(Box<inzage::ExportArgs>),
    /// The tamper-evident audit log: verify it, append to it.
    #[command(subcommand)]
    Audit(governance::AuditCommand),
    /// Retention: which recordings to delete now, which to keep and why.
    #[command(subcommand)]
    Retention(governance::RetentionCommand),
    /// Record a live camera: masked at capture, fragmented MP4 segments, retention applied.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Record(Box<record::RecordArgs>),
    /// Disclosure to police or justice: an exact copy of a window, logged, with a (signed) manifest.
    Disclose(Box<disclose::DiscloseArgs>),
    /// Check a received file against its manifest (and the manifest's signature with --pubkey).
    Verify(disclose::VerifyArgs),
    /// Keys: Ed25519 for signing manifests; age X25519 (--encryption) for footage at rest.
    #[command(subcommand)]
    Keys(footage::KeysCommand),
    /// Decrypt a segment of an encrypted recording (the site's secret key opens its data key).
    Decrypt(footage::DecryptArgs),
    /// Write the man pages into a directory (used by `make install`).
    #[command(hide = true)]
    GenerateMan(docs::ManArgs),
    /// Print a shell completion script (bash, zsh, fish, ...) on stdout.
    Completions(docs::CompletionsArgs),
    /// Zones people can see: a preview picture, and an editor in the browser.
    #[command(subcommand)]
    Zones(zones::ZonesCommand),
    /// The camera register: every camera of a directory of zone files.
    #[command(subcommand)]
    Cameras(cameras::CamerasCommand),
}

/// Options shared by commands that read a time window of a recording.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start of the window: seconds (12.5) or [HH:]MM:SS[.fff]; frames before it are left out.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<f64>,
    /// End of the window (exclusive), same format as --from.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<f64>,
}

/// Options shared by commands that encode a video.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// x264 quality, 0 (lossless) to 51; 18 is visually near-lossless (evidence quality).
    #[arg(long, value_name = "N", default_value_t = 18, value_parser = clap::value_parser!(u8).range(0..=51))]
    crf: u8,
    /// x264 preset: speed against file size at the same quality (default: the library's,
    /// veryfast; slower presets give smaller files for archive copies).
    #[arg(long, value_name = "P", default_value_t = EncodeOptions::default().preset, value_parser = PRESETS)]
    preset: String,
    /// Keep the audio (copied as is). Off by default: audio can carry bystanders' voices.
    #[arg(long)]
    keep_audio: bool,
}

impl EncodeArgs {
    /// The encoder options these flags select.
    pub fn options(&self) -> EncodeOptions {
        EncodeOptions {
            crf: self.crf,
            preset: self.preset.clone(),
            keep_audio: self.keep_audio,
            ..EncodeOptions::default()
        }
    }
}

/// `redact mask`.
#[derive(Debug, Args)]
struct MaskArgs {
    /// Input recording: a file, or any URL FFmpeg reads (rtsp://, http://).
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// The secret key that opens an encrypted input (age: a recorder segment .mp4.age, through
    /// its data key sealed in the camera directory, or a file encrypted to this key). The
    /// footage is decrypted in memory, never to disk.
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// The camera's zone file (TOML).
    #[arg(long, value_name = "ZONES.toml")]
    zones: PathBuf,
    /// Output file (H.264 MP4).
    #[arg(short = 'o', long, value_name = "OUTPUT.mp4")]
    output: PathBuf,
    #[command(flatten)]
    window: WindowArgs,
    #[command(flatten)]
    encode: EncodeArgs,
}

/// Parse a TIME: seconds (`12.5`) or `[HH:]MM:SS[.fff]`.
pub fn parse_time(s: &str) -> Result<f64, String> {
    let bad = || format!("invalid time {s:?}: expected seconds (12.5) or [HH:]MM:SS[.fff]");
    let parts: Vec<&str> = s.trim().split(':').collect();
    let num = |p: &str, frac: bool| -> Result<f64, String> {
        let ok = !p.is_empty()
            && p.chars().all(|c| c.is_ascii_digit() || (frac && c == '.'))
            && p.chars().filter(|&c| c == '.').count() <= 1
            && !p.starts_with('.');
        if !ok {
            return Err(bad());
        }
        p.parse::<f64>().map_err(|_| bad())
    };
    let t = match parts.as_slice() {
        [sec] => num(sec, true)?,
        [m, sec] => {
            let sec = num(sec, true)?;
            if sec >= 60.0 {
                return Err(bad());
            }
            num(m, false)? * 60.0 + sec
        }
        [h, m, sec] => {
            let (m, sec) = (num(m, false)?, num(sec, true)?);
            if m >= 60.0 || sec >= 60.0 {
                return Err(bad());
            }
            num(h, false)? * 3600.0 + m * 60.0 + sec
        }
        _ => return Err(bad()),
    };
    if t.is_finite() {
        Ok(t)
    } else {
        Err(bad())
    }
}

fn main() -> ExitCode {
    // A bug must still end in one `error:` line and status 1, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: internal error: {msg}");
    }));
    // A file size limit (ulimit -f) must end in a write error, which removes the temporary
    // output, not in the kernel killing the process (SIGXFSZ) and leaving it behind.
    // SAFETY: setting a signal's disposition to SIG_IGN at startup, before any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // Frame buffers (3 MB at 1080p) are allocated on one thread and freed on another, and
    // glibc hands such memory back to the kernel as soon as it is freed: every frame then
    // faults its pages in again, zeroed (`clear_page` was 7% of `redact mask`'s CPU, sys time
    // 0.7-1.2 s of 12 s). Keeping freed memory in the heap makes the allocator a pool. This is
    // the application's choice, so the CLI makes it, not the library.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes glibc's allocator; called at startup, before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
    let cli = Cli::parse(); // usage errors: clap prints them and exits with status 2
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(1),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    veil::video::set_ffmpeg_log(cli.verbose);
    output::init(cli.global);
    match cli.command {
        Command::Mask(args) => cmd_mask(args),
        Command::Detect(args) => detect_cmd::cmd_detect(args),
        Command::Analyze(args) => inzage::cmd_analyze(args),
        Command::Export(args) => inzage::cmd_export(*args),
        Command::Audit(cmd) => governance::cmd_audit(cmd),
        Command::Retention(cmd) => governance::cmd_retention(cmd),
        Command::Record(args) => record::cmd_record(*args),
        Command::Disclose(args) => disclose::cmd_disclose(*args),
        Command::Verify(args) => disclose::cmd_verify(args),
        Command::Keys(cmd) => footage::cmd_keys(cmd),
        Command::Decrypt(args) => footage::cmd_decrypt(args),
        Command::GenerateMan(args) => docs::cmd_generate_man(args),
        Command::Completions(args) => docs::cmd_completions(args),
        Command::Zones(cmd) => zones::cmd_zones(cmd),
        Command::Cameras(cmd) => cameras::cmd_cameras(cmd),
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise (and with `-q` or
/// `--progress-json`). Commands label their stages with [`progress::Reporter`] instead.
#[allow(dead_code)]
pub fn progress(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() || output::quiet() || output::globals().progress_json {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) if n > 0 => ProgressBar::new(n),
        _ => ProgressBar::new_spinner(),
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} frames ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Refuse to overwrite the input: the original recording is the evidence.
pub fn check_not_same(input: &Path, output: &Path) -> anyhow::Result<()> {
    if veil::core::fsutil::same_file(input, output) {
        bail!("{}: the output would overwrite the input", output.display());
    }
    Ok(())
}

fn cmd_mask(args: MaskArgs) -> anyhow::Result<()> {
    check_not_same(&args.input, &args.output)?;
    let mut outputs = output::Outputs::new();
    let staged = outputs.stage(&args.output)?;
    let config = CameraConfig::from_file(&args.zones)?;
    let opts = ReadOptions {
        from: args.window.from,
        to: args.window.to,
        audio: args.encode.keep_audio,
        ..ReadOptions::default()
    };
    // Encrypted footage is decrypted in memory (--key) and read from there.
    let plain = veil::record::PlainInput::open(&args.input, args.key.as_deref())?;
    let mut reader = VideoReader::open(plain.path(), &opts)?;
    let info = reader.info().clone();
    if args.encode.keep_audio && !info.has_audio {
        eprintln!(
            "warning: {}: --keep-audio: the input has no audio",
            reader.path().display()
        );
    }
    let masker = CaptureMasker::new(&config, info.width, info.height, info.format).with_context(|| {
        format!(
            "{}: cannot rasterise the zones for {}x{} frames",
            args.zones.display(),
            info.width,
            info.height
        )
    })?;
    let mut writer = VideoWriter::create(&staged, &info, &args.encode.options())?;
    let bar = progress::Reporter::new(1);
    let mut done = 0;
    while let Some(mut frame) = reader.next_frame()? {
        let time = frame.time();
        let mut view = frame.frame_mut()?;
        masker.apply(&mut view).with_context(|| {
            format!(
                "{}: masking the frame at {time:.3} s failed",
                reader.path().display()
            )
        })?;
        writer.write_decoded(&frame)?;
        for packet in reader.take_audio() {
            writer.write_audio(packet)?;
        }
        done += 1;
        bar.update(1, "mask", done, info.frame_count_estimate);
    }
    let frames = writer.finish()?;
    bar.finish();
    outputs.publish()?;
    if !output::quiet() {
        println!(
            "masked {} zone(s) in {frames} frame(s) of {} -> {}",
            config.zones.len(),
            reader.path().display(),
            args.output.display()
        );
    }
    Ok(())
}
