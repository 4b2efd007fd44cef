//! `redact cameras report`: the camera register the protocols ask for (one row per camera:
//! id, purposes, who is responsible, retention, zones; optionally a masked still), as one
//! self-contained HTML page to print or attach.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine as _;
use clap::{Args, Subcommand};
use veil::audit::{Policy, Timestamp};
use veil::core::CameraConfig;
use veil::redact::image::imageops::{resize, FilterType};
use veil::redact::preview::{grab_still, png_bytes, render_preview, PreviewOptions};

/// Width of a still in the register, in pixels.
const THUMB_W: u32 = 360;
/// Extensions tried for a camera's still, in this order.
const STILL_EXTS: [&str; 10] = [
    "png", "jpg", "jpeg", "mp4", "mkv", "mov", "avi", "ts", "webm", "m4v",
];

/// `redact cameras ...`.
#[derive(Debug, Subcommand)]
pub enum CamerasCommand {
    /// The camera register: every zone file of a directory, one row per camera, as HTML.
    Report(ReportArgs),
}

/// `redact cameras report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory of zone files (every *.toml in it is a camera).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Output (HTML, self-contained: stills are embedded).
    #[arg(short = 'o', long, value_name = "REGISTER.html")]
    output: PathBuf,
    /// Directory with one recent recording or still per camera, named after the camera id
    /// (`<id>.mp4`, `<id>.png`, ...); each is shown masked, with its zones outlined.
    #[arg(long, value_name = "DIR")]
    stills: Option<PathBuf>,
    /// Retention policy (JSON, as for `redact retention plan`); default 28 days everywhere.
    #[arg(long, value_name = "P.json")]
    policy: Option<PathBuf>,
    /// Time of the still in each recording: seconds or [HH:]MM:SS[.fff]; default the first frame.
    #[arg(long, value_name = "TIME", value_parser = crate::parse_time)]
    at: Option<f64>,
}

/// Run a `cameras` command.
pub fn cmd_cameras(cmd: CamerasCommand) -> anyhow::Result<()> {
    match cmd {
        CamerasCommand::Report(a) => cmd_report(a),
    }
}

/// Text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// The camera's still in `dir`, if there is one.
fn find_still(dir: &Path, id: &str) -> Option<PathBuf> {
    // an id is a file name here, never a path
    if id.contains(['/', '\\']) || id.starts_with('.') {
        return None;
    }
    STILL_EXTS
        .iter()
        .map(|e| dir.join(format!("{id}.{e}")))
        .find(|p| p.is_file())
}

/// The still of one camera, masked, zones outlined, scaled to the register's width, as a
/// `data:` URL.
fn still_url(path: &Path, config: &CameraConfig, at: Option<f64>) -> anyhow::Result<String> {
    let still = grab_still(path, at, &[])?;
    let opts = PreviewOptions {
        side_by_side: false,
        bare: true,
    };
    let img = render_preview(&still, config, &opts)?.image;
    let h = (u64::from(img.height()) * u64::from(THUMB_W) / u64::from(img.width().max(1))).max(1) as u32;
    let small = resize(&img, THUMB_W, h, FilterType::Triangle);
    let png = png_bytes(&small)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

fn cmd_report(a: ReportArgs) -> anyhow::Result<()> {
    let policy = match &a.policy {
        Some(p) => Policy::from_file(p)?,
        None => Policy::default(),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.dir)
        .with_context(|| format!("{}: cannot read the directory", a.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no zone files (*.toml) in the directory", a.dir.display());
    }
    let mut cameras: Vec<(PathBuf, CameraConfig)> = Vec::with_capacity(files.len());
    for f in files {
        // a register with a camera left out is wrong: every file must parse
        let c = CameraConfig::from_file(&f)?;
        if let Some((other, _)) = cameras.iter().find(|(_, o)| o.id == c.id) {
            bail!(
                "{}: camera id {:?} is also used by {}; every camera needs its own id",
                f.display(),
                c.id,
                other.display()
            );
        }
        cameras.push((f, c));
    }
    let mut html = String::new();
    let title = "Camera register";
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>\n\
         body {{ font: 11pt/1.35 sans-serif; margin: 16mm; color: #111; }}\n\
         table {{ border-collapse: collapse; width: 100%; }}\n\
         th, td {{ border: 1px solid #777; padding: 4px 6px; vertical-align: top; text-align: left; }}\n\
         th {{ background: #e8e8e8; }}\n tr {{ page-break-inside: avoid; }}\n\
         ul {{ margin: 0; padding-left: 1.1em; }}\n img {{ width: {THUMB_W}px; max-width: 100%; }}\n\
         .kind {{ font-family: monospace; }}\n .note {{ color: #444; font-size: 10pt; }}\n\
         @page {{ size: A4 landscape; margin: 12mm; }}\n</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"note\">{} camera(s), from the zone files in <code>{}</code>; \
         generated {} by Veil {}. Zones are masked at capture time: what lies inside them is never recorded. \
         Stills, where shown, are masked the same way.</p>\n<table>\n<thead><tr><th>Camera</th><th>Purposes</th>\
         <th>Responsible</th><th>Retention</th><th>Forbidden zones (kind: label, style)</th>{}</tr></thead>\n<tbody>\n",
        cameras.len(),
        esc(&a.dir.display().to_string()),
        Timestamp::now(),
        env!("CARGO_PKG_VERSION"),
        if a.stills.is_some() { "<th>Still</th>" } else { "" },
    );
    for (file, c) in &cameras {
        let days = policy.days_for(&c.id);
        let retention = if a.policy.is_some() && policy.cameras.contains_key(&c.id) {
            format!("{days} days")
        } else {
            format!("{days} days (default)")
        };
        let mut zones = String::from("<ul>");
        for z in &c.zones {
            let _ = write!(
                zones,
                "<li><span class=\"kind\">{}</span>: {} <span class=\"note\">({})</span></li>",
                z.kind.as_str(),
                esc(&z.label),
                z.style.as_str()
            );
        }
        zones.push_str("</ul>");
        if c.zones.is_empty() {
            zones = "none".into();
        }
        let still = match &a.stills {
            None => String::new(),
            Some(dir) => match find_still(dir, &c.id) {
                Some(p) => {
                    let url = still_url(&p, c, a.at).with_context(|| format!("still of camera {}", c.id))?;
                    format!(
                        "<td><img src=\"{url}\" alt=\"masked still of {}\"><br><span class=\"note\">{}</span></td>",
                        esc(&c.id),
                        esc(&p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
                    )
                }
                None => "<td class=\"note\">no still</td>".into(),
            },
        };
        let _ = writeln!(
            html,
            "<tr data-camera=\"{id}\"><td><b>{id}</b><br><span class=\"note\">{file}</span></td><td>{purposes}</td>\
             <td>{resp}</td><td>{retention}</td><td>{zones}</td>{still}</tr>",
            id = esc(&c.id),
            file = esc(&file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            purposes = esc(&c.purposes.join(", ")),
            resp = esc(&c.responsible),
        );
    }
    html.push_str("</tbody></table>\n</body></html>\n");
    let mut outputs = crate::output::Outputs::new();
    let staged = outputs.stage(&a.output)?;
    veil::core::fsutil::write_atomic(&staged, html.as_bytes())
        .with_context(|| format!("{}: cannot write", a.output.display()))?;
    outputs.publish()?;
    println!(
        "register of {} camera(s) -> {}",
        cameras.len(),
        a.output.display()
    );
    Ok(())
}
