//! `redact generate-man DIR` and `redact completions SHELL` (hidden: `make install` uses
//! them), and the help text shared by `--help` and the man page: examples, environment
//! variables, exit codes.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};

use crate::output::Outputs;

/// Shown after `redact --help` and in the man page.
pub const AFTER_HELP: &str = "\
Examples:
  # mask a camera's forbidden zones in a recording
  redact mask cam1.mp4 --zones cam1.toml -o cam1-masked.mp4
  # inzage in one go: keep the person at pixel (640,360) 12.5 s in, blur everyone else
  redact export cam1.mp4 --from 10 --to 40 --keep-at 12.5@640,360 -o inzage.mp4
  # or in two passes: analyse, look at the contact sheet, keep track 3
  redact analyze cam1.mp4 --from 10 --to 40 -o tracks.json --sheet sheet.png
  redact export cam1.mp4 --from 10 --to 40 --tracks tracks.json --keep-track 3 -o inzage.mp4
  # check the audit log
  redact audit verify audit.log

Output files are never replaced: a command whose output exists stops with an error and
leaves the old file untouched, unless --force is given.

Environment:
  VEIL_MODELS_DIR   models directory (manifest.tsv + ONNX files), as --models-dir; default:
                    <exe dir>/../share/veil/models, the source checkout's models/ when
                    running from it, $XDG_DATA_HOME/veil/models, /usr/local/share/veil/models,
                    /usr/share/veil/models
  ORT_DYLIB_PATH    the ONNX Runtime library (libonnxruntime.so) to load
  VEIL_ORT_DIR      directory holding libonnxruntime.so (default /usr/local/lib/veil, then
                    ~/.local/lib/veil)
  VEIL_CPU_LEVEL    `scalar`: use the scalar reference kernels instead of SIMD (diagnosis)
  VEIL_DEVICE       where detect, analyze and export run the detectors, as --device: cpu
                    (default), cuda, tensorrt or auto (needs a GPU build of ONNX Runtime)

Exit status:
  0  success
  1  error (one line `error: ...` on stderr naming the file and the reason; no output left)
  2  usage error (bad or missing option)";

/// `redact generate-man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write redact.1 and redact-<command>.1 into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// `redact completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to print the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Write the man pages: `redact.1` and one `redact-<command>.1` per visible command.
pub fn cmd_generate_man(args: ManArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("{}: cannot create", args.dir.display()))?;
    let cmd = crate::Cli::command();
    let mut pages = vec![("redact".to_string(), root_page(cmd.clone()))];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let page = sub.clone().bin_name(format!("redact {}", sub.get_name()));
        let name = format!("redact-{}", sub.get_name());
        let mut buf = Vec::new();
        let res = clap_mangen::Man::new(page).title(name.clone()).render(&mut buf);
        pages.push((name, res.map(|()| buf)));
    }
    let mut outputs = Outputs::new();
    for (name, page) in pages {
        let dest = args.dir.join(format!("{name}.1"));
        let staging = outputs.stage(&dest)?;
        let buf = page.with_context(|| format!("{}: cannot render", dest.display()))?;
        veil::core::fsutil::write_atomic(&staging, &buf)
            .with_context(|| format!("{}: cannot write", dest.display()))?;
    }
    outputs.publish()?;
    crate::note!("man pages written to {}", args.dir.display());
    Ok(())
}

/// `redact.1`: clap's sections, then the help's trailer as EXAMPLES, NOTES, ENVIRONMENT and
/// EXIT STATUS sections (clap_mangen would put it all under one "EXTRA").
fn root_page(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let man = clap_mangen::Man::new(cmd);
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    man.render_subcommands_section(&mut buf)?;
    for para in AFTER_HELP.split("\n\n") {
        let (title, body) = match para.split_once('\n') {
            Some((head, body)) if head.ends_with(':') => (head.trim_end_matches(':').to_uppercase(), body),
            _ => ("NOTES".to_string(), para),
        };
        writeln!(buf, ".SH \"{title}\"\n.nf")?;
        for line in body.lines() {
            // roff: a backslash is \e, a minus \-, and a line must not start with . or '
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            writeln!(buf, "\\&{line}")?;
        }
        writeln!(buf, ".fi")?;
    }
    man.render_version_section(&mut buf)?;
    Ok(buf)
}

/// Print the completion script for a shell on stdout.
pub fn cmd_completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "redact", &mut std::io::stdout());
    Ok(())
}
