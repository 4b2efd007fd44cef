//! `redact zones preview` and `redact zones edit`: zones people can see.
//!
//! The editor is a small HTTP server (tiny_http) on 127.0.0.1 only, serving one embedded
//! page (no external assets) and a JSON API; every request must carry the random token of
//! the URL printed at start, and name this server in its `Host` header (so another local
//! user's requests, and pages of other sites through DNS rebinding, are refused).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use veil::core::zonefile::{edit_zone_file, read_drafts, CameraDraft, ZoneDraft};
use veil::core::CameraConfig;
use veil::redact::preview::{
    frame_to_rgb, grab_still, masked_copy, png_bytes, render_preview, write_png, PreviewOptions, Still,
};

/// The editor page: HTML, CSS and JS in one file, embedded in the binary.
const PAGE: &str = include_str!("zone_editor.html");
/// Largest request body accepted by the editor.
const MAX_BODY: u64 = 1 << 20;

/// `redact zones ...`.
#[derive(Debug, Subcommand)]
pub enum ZonesCommand {
    /// Render a frame with the zones masked as `redact mask` masks them, outlines and labels on top.
    Preview(PreviewArgs),
    /// Draw and edit a camera's zones in the browser (a local page on 127.0.0.1).
    Edit(EditArgs),
}

/// `redact zones preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Input: a recording, a still image, or any URL FFmpeg reads (rtsp://, http://).
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
    /// Time of the frame: seconds (12.5) or [HH:]MM:SS[.fff]; default the first frame.
    #[arg(long, value_name = "TIME", value_parser = crate::parse_time)]
    at: Option<f64>,
    /// Output picture (PNG).
    #[arg(short = 'o', long, value_name = "PREVIEW.png")]
    output: PathBuf,
    /// The original frame next to the masked frame.
    #[arg(long)]
    side_by_side: bool,
}

/// `redact zones edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Input: a recording, a still image, or any URL FFmpeg reads; one frame is shown.
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// The zone file to edit (created on the first save if it does not exist).
    #[arg(long, value_name = "ZONES.toml")]
    zones: PathBuf,
    /// Time of the frame: seconds (12.5) or [HH:]MM:SS[.fff]; default the first frame.
    #[arg(long, value_name = "TIME", value_parser = crate::parse_time)]
    at: Option<f64>,
    /// Port on 127.0.0.1 (default: any free port).
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
}

/// Run a `zones` command.
pub fn cmd_zones(cmd: ZonesCommand) -> anyhow::Result<()> {
    match cmd {
        ZonesCommand::Preview(a) => cmd_preview(a),
        ZonesCommand::Edit(a) => cmd_edit(a),
    }
}

fn cmd_preview(a: PreviewArgs) -> anyhow::Result<()> {
    crate::check_not_same(&a.input, &a.output)?;
    let config = CameraConfig::from_file(&a.zones)?;
    let plain = veil::record::PlainInput::open(&a.input, a.key.as_deref())?;
    let mut still = grab_still(plain.path(), a.at, &[])?;
    still.source = a.input.clone();
    let opts = PreviewOptions {
        side_by_side: a.side_by_side,
        bare: false,
    };
    let preview = render_preview(&still, &config, &opts)?;
    // Never replaces an existing file unless --force (like every command's outputs).
    let mut outputs = crate::output::Outputs::new();
    let staged = outputs.stage(&a.output)?;
    write_png(&staged, &preview.image)?;
    outputs.publish()?;
    println!(
        "preview of {} zone(s) on the frame at {:.3} s of {} -> {}",
        config.zones.len(),
        still.time,
        still.source.display(),
        a.output.display()
    );
    Ok(())
}

/// A zone as the page sends and receives it.
#[derive(Debug, Serialize, Deserialize)]
struct ZoneJson {
    kind: String,
    label: String,
    polygon: Vec<[f64; 2]>,
    style: Option<String>,
    block: Option<i64>,
    radius: Option<i64>,
    source: Option<usize>,
}

/// The `[camera]` table as the page sends and receives it.
#[derive(Debug, Serialize, Deserialize)]
struct CameraJson {
    id: String,
    purposes: Vec<String>,
    responsible: String,
}

/// A preview or save request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditJson {
    camera: Option<CameraJson>,
    zones: Vec<ZoneJson>,
}

fn zones_json(drafts: Vec<ZoneDraft>) -> Vec<ZoneJson> {
    drafts
        .into_iter()
        .map(|z| ZoneJson {
            kind: z.kind,
            label: z.label,
            polygon: z.polygon,
            style: z.style,
            block: z.block,
            radius: z.radius,
            source: z.source,
        })
        .collect()
}

struct Editor {
    token: String,
    host: String,
    zones_path: PathBuf,
    input: String,
    still: Still,
    frame_png: Vec<u8>,
    /// The zone file's text as last loaded or saved: the drafts' `source` indices refer to it.
    base: String,
}

/// An HTTP answer.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Answer {
    fn json(status: u16, v: &serde_json::Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
        }
    }
    fn error(status: u16, msg: impl std::fmt::Display) -> Answer {
        Answer::json(status, &serde_json::json!({ "error": msg.to_string() }))
    }
}

/// Read the zone file's text; a missing file is an empty (new) one.
fn read_text(path: &Path) -> anyhow::Result<(String, bool)> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok((t, true)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((String::new(), false)),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
    }
}

impl Editor {
    fn load(&mut self) -> Answer {
        let (text, exists) = match read_text(&self.zones_path) {
            Ok(t) => t,
            Err(e) => return Answer::error(500, format!("{e:#}")),
        };
        let drafts = match read_drafts(&text, &self.zones_path) {
            Ok(d) => d,
            Err(e) => return Answer::error(422, e),
        };
        let mut camera = drafts.camera;
        if !exists && camera.id.is_empty() {
            camera.id = self
                .zones_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        let error = if exists {
            CameraConfig::from_toml_str(&text, &self.zones_path)
                .err()
                .map(|e| e.to_string())
        } else {
            None
        };
        self.base = text;
        Answer::json(
            200,
            &serde_json::json!({
                "zones_file": self.zones_path.display().to_string(),
                "exists": exists,
                "input": self.input,
                "time": self.still.time,
                "width": self.still.frame.width(),
                "height": self.still.frame.height(),
                "camera": CameraJson { id: camera.id, purposes: camera.purposes, responsible: camera.responsible },
                "zones": zones_json(drafts.zones),
                "error": error,
            }),
        )
    }

    /// The new text and configuration for a request, validated by the zone-file parser.
    fn edited(&self, body: &[u8]) -> Result<(String, CameraConfig), Answer> {
        let req: EditJson =
            serde_json::from_slice(body).map_err(|e| Answer::error(400, format!("bad request: {e}")))?;
        let camera = req.camera.map(|c| CameraDraft {
            id: c.id,
            purposes: c.purposes,
            responsible: c.responsible,
        });
        let zones: Vec<ZoneDraft> = req
            .zones
            .into_iter()
            .map(|z| ZoneDraft {
                kind: z.kind,
                label: z.label,
                polygon: z.polygon,
                style: z.style,
                block: z.block,
                radius: z.radius,
                source: z.source,
            })
            .collect();
        edit_zone_file(&self.base, camera.as_ref(), &zones, &self.zones_path)
            .map_err(|e| Answer::error(422, e))
    }

    fn preview(&self, body: &[u8]) -> Answer {
        let (_, config) = match self.edited(body) {
            Ok(x) => x,
            Err(a) => return a,
        };
        let png = masked_copy(&self.still.frame, &config).and_then(|m| png_bytes(&frame_to_rgb(&m.as_ref())));
        match png {
            Ok(body) => Answer {
                status: 200,
                content_type: "image/png",
                body,
            },
            Err(e) => Answer::error(422, e),
        }
    }

    fn save(&mut self, body: &[u8]) -> Answer {
        let (text, config) = match self.edited(body) {
            Ok(x) => x,
            Err(a) => return a,
        };
        match read_text(&self.zones_path) {
            Ok((now, _)) if now != self.base => {
                return Answer::error(
                    409,
                    format!(
                        "{}: changed on disk since it was loaded; reload the page (your changes here are not saved)",
                        self.zones_path.display()
                    ),
                )
            }
            Ok(_) => {}
            Err(e) => return Answer::error(500, format!("{e:#}")),
        }
        if let Err(e) = veil::core::fsutil::write_atomic(&self.zones_path, text.as_bytes()) {
            return Answer::error(500, format!("{}: cannot write: {e}", self.zones_path.display()));
        }
        let zones = read_drafts(&text, &self.zones_path)
            .map(|d| zones_json(d.zones))
            .unwrap_or_default();
        self.base = text;
        eprintln!(
            "saved {} zone(s) to {}",
            config.zones.len(),
            self.zones_path.display()
        );
        Answer::json(
            200,
            &serde_json::json!({
                "ok": true,
                "message": format!("Saved {} zone(s) of camera {} to {}.", config.zones.len(), config.id, self.zones_path.display()),
                "zones": zones,
            }),
        )
    }

    /// Route one request. `token_ok` and `host_ok` were checked by the caller.
    fn handle(&mut self, method: &tiny_http::Method, path: &str, body: &[u8]) -> Answer {
        use tiny_http::Method::{Get, Post};
        match (method, path) {
            (Get, "/") => Answer {
                status: 200,
                content_type: "text/html; charset=utf-8",
                body: PAGE.as_bytes().to_vec(),
            },
            (Get, "/frame.png") => Answer {
                status: 200,
                content_type: "image/png",
                body: self.frame_png.clone(),
            },
            (Get, "/api/zones") => self.load(),
            (Post, "/api/preview") => self.preview(body),
            (Post, "/api/save") => self.save(body),
            (_, "/" | "/frame.png" | "/api/zones" | "/api/preview" | "/api/save") => {
                Answer::error(405, "method not allowed")
            }
            _ => Answer::error(404, "not found"),
        }
    }
}

/// A random token of 128 bits, hex.
fn random_token() -> anyhow::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for the editor's token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Compare without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn header(name: &str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn cmd_edit(a: EditArgs) -> anyhow::Result<()> {
    let still = grab_still(&a.input, a.at, &[])?;
    let frame_png = png_bytes(&frame_to_rgb(&still.frame.as_ref()))?;
    let server = tiny_http::Server::http(("127.0.0.1", a.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", a.port))?;
    let Some(addr) = server.server_addr().to_ip() else {
        bail!("the editor's server has no IP address");
    };
    let token = random_token()?;
    let mut ed = Editor {
        host: format!("127.0.0.1:{}", addr.port()),
        token,
        zones_path: a.zones.clone(),
        input: still.source.display().to_string(),
        still,
        frame_png,
        base: String::new(),
    };
    let url = format!("http://{}/?token={}", ed.host, ed.token);
    println!(
        "zone editor for {} (frame at {:.3} s of {})",
        ed.zones_path.display(),
        ed.still.time,
        ed.input
    );
    println!("open {url}");
    println!("(serving on 127.0.0.1 only; Ctrl-C to stop)");
    std::io::stdout().flush().ok();
    let localhost = format!("localhost:{}", addr.port());
    for mut req in server.incoming_requests() {
        let url = req.url().to_owned();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let token = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v)
            .unwrap_or("");
        let host = req
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str().to_owned())
            .unwrap_or_default();
        let answer = if host != ed.host && host != localhost {
            Answer::error(403, "wrong Host header: use the URL printed by redact zones edit")
        } else if !same_secret(token, &ed.token) {
            Answer::error(
                403,
                "missing or wrong token: use the URL printed by redact zones edit",
            )
        } else if req.body_length().is_some_and(|n| n as u64 > MAX_BODY) {
            // read (a bounded amount of) what the client sends, so that it gets the answer
            // instead of a reset connection
            let _ = std::io::copy(&mut req.as_reader().take(8 * MAX_BODY), &mut std::io::sink());
            Answer::error(413, "request too large")
        } else {
            let mut body = Vec::new();
            match req.as_reader().take(MAX_BODY + 1).read_to_end(&mut body) {
                Ok(_) if body.len() as u64 > MAX_BODY => Answer::error(413, "request too large"),
                Ok(_) => ed.handle(req.method(), path, &body),
                Err(e) => Answer::error(400, format!("cannot read the request: {e}")),
            }
        };
        let mut resp = tiny_http::Response::from_data(answer.body).with_status_code(answer.status);
        for (k, v) in [
            ("Content-Type", answer.content_type),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            (
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'",
            ),
        ] {
            if let Some(h) = header(k, v) {
                resp.add_header(h);
            }
        }
        // a client that went away is not the editor's failure
        let _ = req.respond(resp);
    }
    Ok(())
}
