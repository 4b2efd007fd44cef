//! Many cameras, one recorder ([`Site`]): every camera described in a directory of zone
//! files (`DIR/*.toml`, the `[camera]` table's `url` and recording keys, see
//! [`veil_core::zonefile::CameraRecording`]) recorded by its own [`Recorder`](crate::Recorder) on
//! its own thread, with its own reconnection. Running it (the cameras' threads, reloading the
//! directory) is in `site_reload.rs`.
//!
//! - **Independence.** A camera that drops reconnects by itself (the recorder's backoff); a
//!   camera whose recorder fails (its zones do not fit, its key cannot be read, the disk
//!   refuses a write) is reported and started again after a backoff (1, 2, 4 ... 30 s).
//!   Neither stops another camera.
//! - **Reload.** The directory is read again every second and when [`Site::reload_flag`] is
//!   set (SIGHUP in the CLI): a camera whose file appears is started, one whose file goes
//!   (or loses its `url`) is stopped, one whose file, credentials or keys changed is
//!   restarted with them; the others are not touched. Each change is a `config-change`
//!   entry in the audit log. A file that no longer parses leaves its camera recording with
//!   the settings it had (a warning says so) rather than stopping it for a typo.
//! - **One storage budget** ([`SiteConfig::max_disk`]) for the whole directory: every
//!   camera's recorder keeps the footage of all of them within it, the site's oldest
//!   unprotected footage going first.
//! - **Credentials** come from `credentials_file` (first line `user:password`, readable by
//!   its owner only) or `credentials_env`, never from the URL, and never appear in a
//!   message, the audit log or the metrics.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use veil_core::zonefile::camera_recording;
use veil_core::CameraConfig;
use veil_crypt::PublicKey;
use veil_video::{Decoder, EncodeOptions, Encoder, PRESETS};

use crate::config::{Credentials, Event, RecordSummary, RecorderConfig, DEFAULT_RETENTION, DEFAULT_SEGMENT};
use crate::erase::AuditTarget;
use crate::metrics::Metrics;
use crate::{parse_duration, RecordError};

/// What to record for a site, and the defaults of settings a camera's file leaves out.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The directory of zone files, one camera each (`*.toml`).
    pub cameras: PathBuf,
    /// The recording directory; each camera's segments go to `dir/<camera id>/`.
    pub dir: PathBuf,
    /// The audit log (required): deletions, gaps, lag, configuration changes.
    pub audit: AuditTarget,
    /// Incident holds, as for [`RecorderConfig::holds`].
    pub holds: Option<PathBuf>,
    /// Access requests, as for [`RecorderConfig::access`].
    pub access: Option<PathBuf>,
    /// Erasure requests, as for [`RecorderConfig::erasures`].
    pub erasures: Option<PathBuf>,
    /// The storage budget of the whole site ([`RecorderConfig::max_disk`]).
    pub max_disk: Option<u64>,
    /// The free-space floor ([`RecorderConfig::min_free`]).
    pub min_free: Option<u64>,
    /// Stop after this long; `None`: until stopped.
    pub run_for: Option<Duration>,
    /// Segment length of a camera whose file sets none.
    pub segment: Duration,
    /// Retention of a camera whose file sets none.
    pub retention: Duration,
    /// Encoder settings of a camera whose file sets no `preset`/`crf`/`encoder`.
    pub encode: EncodeOptions,
    /// The decoder of a camera whose file sets no `decoder`.
    pub decoder: Decoder,
    /// The site's public keys for a camera whose file sets no `encrypt_to`.
    pub encrypt_to: Vec<PublicKey>,
}

impl SiteConfig {
    /// The recorder's defaults ([`RecorderConfig::new`]) for every camera.
    pub fn new(cameras: impl Into<PathBuf>, dir: impl Into<PathBuf>, audit: AuditTarget) -> Self {
        SiteConfig {
            cameras: cameras.into(),
            dir: dir.into(),
            audit,
            holds: None,
            access: None,
            erasures: None,
            max_disk: None,
            min_free: None,
            run_for: None,
            segment: DEFAULT_SEGMENT,
            retention: DEFAULT_RETENTION,
            encode: EncodeOptions {
                encoder: Encoder::Auto,
                ..EncodeOptions::default()
            },
            decoder: Decoder::Auto,
            encrypt_to: Vec::new(),
        }
    }
}

/// What happens on a site, for a caller's log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SiteEvent {
    /// A camera's recorder reported something.
    Camera {
        /// Camera id.
        camera: String,
        /// What.
        event: Event,
    },
    /// A camera's recording started (at start, or added or changed by a reload).
    Started {
        /// Camera id.
        camera: String,
        /// Its zone file.
        file: PathBuf,
        /// Its source (the URL as configured: no credentials).
        input: String,
    },
    /// A camera's recorder ended (stopped, removed, time up).
    Stopped {
        /// Camera id.
        camera: String,
        /// What it recorded.
        summary: RecordSummary,
    },
    /// A camera's recorder failed; it is started again after `retry_in`. The other
    /// cameras go on.
    Failed {
        /// Camera id.
        camera: String,
        /// Why (credentials scrubbed).
        error: String,
        /// The wait before it is started again.
        retry_in: Duration,
    },
    /// The configuration changed (a camera added, removed or changed): also a
    /// `config-change` audit entry.
    ConfigChange(String),
    /// A zone file that cannot be recorded (reported once per content).
    Skipped {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A site's event callback, shared by the camera threads.
pub type SiteCallback = Arc<dyn Fn(&SiteEvent) + Send + Sync>;

/// A camera of the site as its file describes it.
#[derive(Debug, Clone)]
pub struct SiteCamera {
    /// The recorder's settings.
    pub config: RecorderConfig,
    /// A digest of everything it was built from (file, credentials, keys): a change
    /// restarts the camera.
    pub(crate) fingerprint: String,
}

impl SiteCamera {
    /// A digest of what the camera was built from: its zone file, credentials and keys.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Read one camera's zone file: `Ok(None)` for a zone file without `url` (a camera this
/// site does not record).
///
/// # Errors
/// [`RecordError::Config`] for a zone file that does not parse, [`RecordError::InvalidOption`]
/// for a bad setting or unreadable credentials, [`RecordError::Crypt`] for a key.
pub fn load_camera(file: &Path, site: &SiteConfig) -> Result<Option<SiteCamera>, RecordError> {
    let text = fs::read_to_string(file).map_err(|source| RecordError::Io {
        path: file.to_path_buf(),
        op: "read",
        source,
    })?;
    let camera = CameraConfig::from_toml_str(&text, file)?;
    let rec = camera_recording(&text, file)?;
    let Some(url) = rec.url.clone() else {
        return Ok(None);
    };
    let bad = |reason: String| RecordError::InvalidOption {
        reason: format!("{}: {reason}", file.display()),
    };
    let mut digest = text.clone();
    let mut cfg = RecorderConfig::new(url, camera, &site.dir);
    cfg.segment = site.segment;
    cfg.retention = site.retention;
    if let Some(s) = &rec.segment {
        cfg.segment = parse_duration(s).map_err(|e| bad(format!("segment: {e}")))?;
    }
    if let Some(r) = &rec.retention {
        cfg.retention = parse_duration(r).map_err(|e| bad(format!("retention: {e}")))?;
    }
    cfg.encode = site.encode.clone();
    if let Some(p) = &rec.preset {
        if !PRESETS.contains(&p.as_str()) {
            return Err(bad(format!("preset {p:?}: one of {}", PRESETS.join(", "))));
        }
        cfg.encode.preset = p.clone();
    }
    if let Some(c) = rec.crf {
        cfg.encode.crf = c;
    }
    if let Some(e) = &rec.encoder {
        cfg.encode.encoder = e.parse().map_err(|e| bad(format!("encoder: {e}")))?;
    }
    cfg.decoder = site.decoder;
    if let Some(d) = &rec.decoder {
        cfg.decoder = d.parse().map_err(|e| bad(format!("decoder: {e}")))?;
    }
    cfg.encrypt_to = site.encrypt_to.clone();
    if !rec.encrypt_to.is_empty() {
        cfg.encrypt_to.clear();
        for k in &rec.encrypt_to {
            cfg.encrypt_to.extend(veil_crypt::load_recipients(k)?);
            digest.push_str(&fs::read_to_string(k).unwrap_or_default());
        }
    }
    if let Some(t) = &rec.rtsp_transport {
        cfg.input_options.push(("rtsp_transport".into(), t.clone()));
    }
    let creds = match (&rec.credentials_file, &rec.credentials_env) {
        (Some(f), _) => Some(read_credentials(f).map_err(bad)?),
        (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
            bad(format!(
                "credentials_env: the environment variable {var} is not set (or not UTF-8)"
            ))
        })?),
        (None, None) => None,
    };
    if let Some(c) = creds {
        digest.push('\0');
        digest.push_str(&c);
        cfg.credentials = Some(Credentials::new(c));
    }
    cfg.holds = site.holds.clone();
    cfg.access = site.access.clone();
    cfg.erasures = site.erasures.clone();
    cfg.audit = Some(site.audit.clone());
    cfg.max_disk = site.max_disk;
    cfg.min_free = site.min_free;
    Ok(Some(SiteCamera {
        config: cfg,
        fingerprint: veil_audit::sha256_hex(digest.as_bytes()),
    }))
}

/// The first line of a credentials file (`user:password`), refused when others than its
/// owner can read it.
fn read_credentials(path: &Path) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("credentials_file {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "credentials_file {}: mode {mode:o} lets others read it; chmod 600",
                path.display()
            ));
        }
    }
    let _ = meta;
    let text = fs::read_to_string(path).map_err(|e| format!("credentials_file {}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(format!("credentials_file {}: empty", path.display()));
    }
    Ok(line)
}

/// Records every camera of a directory of zone files. See the module documentation.
pub struct Site {
    pub(crate) cfg: SiteConfig,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) reload: Arc<AtomicBool>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Site {
    /// A site recorder; nothing starts before [`Site::run`].
    ///
    /// # Errors
    /// [`RecordError::InvalidOption`] when the cameras directory is not a directory.
    pub fn new(cfg: SiteConfig) -> Result<Site, RecordError> {
        if !cfg.cameras.is_dir() {
            return Err(RecordError::InvalidOption {
                reason: format!("--cameras {}: not a directory", cfg.cameras.display()),
            });
        }
        Ok(Site {
            cfg,
            stop: Arc::new(AtomicBool::new(false)),
            reload: Arc::new(AtomicBool::new(false)),
            metrics: Metrics::new(),
        })
    }

    /// Set it and every camera stops cleanly and [`Site::run`] returns.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Set it (SIGHUP) and the cameras directory is read again at once.
    pub fn reload_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.reload)
    }

    /// Every camera's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }
}
