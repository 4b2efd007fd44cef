//! Many cameras, one recorder ([`Site`]): every camera described in a directory of zone
//! files (`DIR/*.toml`, the `[camera]` table's `url` and recording keys, see
//! [`veil_core::zonefile::CameraRecording`]) recorded by its own [`Recorder`] on its own
//! thread, with its own reconnection.
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

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use veil_audit::Action;
use veil_core::zonefile::camera_recording;
use veil_core::CameraConfig;
use veil_crypt::PublicKey;
use veil_video::{Decoder, EncodeOptions, Encoder, PRESETS};

use crate::config::{
    Credentials, Event, RecordSummary, RecorderConfig, DEFAULT_RETENTION, DEFAULT_SEGMENT, MAX_BACKOFF,
};
use crate::metrics::Metrics;
use crate::retention::AuditTarget;
use crate::{parse_duration, RecordError, Recorder};

/// How often the cameras directory is read again (besides on [`Site::reload_flag`]).
const RESCAN: Duration = Duration::from_secs(1);

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
    fingerprint: String,
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

/// A camera being recorded.
struct Running {
    id: String,
    fingerprint: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<RecordSummary>>,
}

/// Records every camera of a directory of zone files. See the module documentation.
pub struct Site {
    cfg: SiteConfig,
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
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

    /// Record until stopped or the time is up. Returns each camera's summaries (one per
    /// run of its recorder).
    ///
    /// # Errors
    /// [`RecordError::Io`] when the cameras directory cannot be listed at start; later, a
    /// directory that cannot be read leaves the cameras running as they are.
    pub fn run(&mut self, on_event: SiteCallback) -> Result<Vec<(String, RecordSummary)>, RecordError> {
        let deadline = self.cfg.run_for.map(|d| Instant::now() + d);
        list_zone_files(&self.cfg.cameras)?;
        let mut running: BTreeMap<PathBuf, Running> = BTreeMap::new();
        let mut reported: BTreeMap<PathBuf, String> = BTreeMap::new();
        let mut summaries = Vec::new();
        loop {
            if self.stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            self.reconcile(&mut running, &mut reported, deadline, &on_event, &mut summaries);
            let next = Instant::now() + RESCAN;
            while Instant::now() < next
                && !self.stop.load(Ordering::Relaxed)
                && !self.reload.swap(false, Ordering::Relaxed)
                && deadline.is_none_or(|d| Instant::now() < d)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // Stopped: every camera stops now. Time up: each recorder ends by itself (its own
        // `run_for` is the time that was left), and says so.
        if self.stop.load(Ordering::Relaxed) {
            for r in running.values() {
                r.stop.store(true, Ordering::Relaxed);
            }
        }
        for (_, r) in std::mem::take(&mut running) {
            collect(r, &mut summaries, &on_event);
        }
        Ok(summaries)
    }

    /// Bring the running cameras in line with the directory.
    fn reconcile(
        &self,
        running: &mut BTreeMap<PathBuf, Running>,
        reported: &mut BTreeMap<PathBuf, String>,
        deadline: Option<Instant>,
        on_event: &SiteCallback,
        summaries: &mut Vec<(String, RecordSummary)>,
    ) {
        let Ok(files) = list_zone_files(&self.cfg.cameras) else {
            return;
        };
        let mut wanted: BTreeMap<PathBuf, SiteCamera> = BTreeMap::new();
        let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
        // The files of running cameras first: a new file naming a camera id already
        // recorded is the one refused, not the running camera.
        let mut order: Vec<&PathBuf> = files.iter().collect();
        order.sort_by_key(|f| !running.contains_key(*f));
        for file in order {
            let once = |reported: &mut BTreeMap<PathBuf, String>, reason: String| {
                if reported.get(file) != Some(&reason) {
                    reported.insert(file.clone(), reason.clone());
                    on_event(&SiteEvent::Skipped {
                        file: file.clone(),
                        reason,
                    });
                }
            };
            match load_camera(file, &self.cfg) {
                Ok(Some(cam)) => {
                    let id = cam.config.camera.id.clone();
                    if let Some(other) = ids.get(&id) {
                        once(
                            reported,
                            format!(
                                "camera id {id:?} is already recorded from {}: not recorded twice",
                                other.display()
                            ),
                        );
                        continue;
                    }
                    reported.remove(file);
                    ids.insert(id, file.clone());
                    wanted.insert(file.clone(), cam);
                }
                Ok(None) => {
                    once(
                        reported,
                        "no url in its [camera] table: not recorded by this site".into(),
                    );
                }
                Err(e) => {
                    let keep = running.contains_key(file);
                    once(
                        reported,
                        if keep {
                            format!("{e}; the camera goes on recording with its previous settings")
                        } else {
                            e.to_string()
                        },
                    );
                    if let Some(r) = running.get(file) {
                        // Keep it: a typo must not stop a camera.
                        ids.insert(r.id.clone(), file.clone());
                    }
                }
            }
        }
        // Removed, or changed (stopped here and started again below).
        let gone: Vec<PathBuf> = running
            .iter()
            .filter(|(f, r)| match wanted.get(*f) {
                Some(c) => c.fingerprint != r.fingerprint,
                None => {
                    !files.contains(f)
                        || !reported
                            .get(*f)
                            .is_some_and(|why| why.contains("previous settings"))
                }
            })
            .map(|(f, _)| f.clone())
            .collect();
        let mut restarted = Vec::new();
        for file in gone {
            let Some(r) = running.remove(&file) else { continue };
            let changed = wanted.contains_key(&file);
            if changed {
                restarted.push(file.clone());
            }
            let id = r.id.clone();
            r.stop.store(true, Ordering::Relaxed);
            collect(r, summaries, on_event);
            if !changed {
                self.config_change(
                    &id,
                    &format!(
                        "camera {id} removed: {} no longer records it; its footage is kept",
                        file.display()
                    ),
                    on_event,
                );
            }
        }
        for (file, cam) in wanted {
            if running.contains_key(&file) {
                continue;
            }
            let id = cam.config.camera.id.clone();
            if running.values().any(|r| r.id == id) {
                continue;
            }
            let input = cam.config.input.clone();
            let text = format!(
                "camera {id} {} {} ({input}, segment {}, retention {}, preset {}, crf {}, encoder {}, decoder {}{})",
                if restarted.contains(&file) {
                    "changed: restarted with the settings of"
                } else {
                    "added: recorded from"
                },
                file.display(),
                crate::format_span(cam.config.segment),
                crate::format_span(cam.config.retention),
                cam.config.encode.preset,
                cam.config.encode.crf,
                cam.config.encode.encoder,
                cam.config.decoder,
                if cam.config.encrypt_to.is_empty() {
                    String::new()
                } else {
                    format!(", encrypted to {} key(s)", cam.config.encrypt_to.len())
                }
            );
            self.config_change(&id, &text, on_event);
            on_event(&SiteEvent::Started {
                camera: id.clone(),
                file: file.clone(),
                input,
            });
            let stop = Arc::new(AtomicBool::new(false));
            let handle = spawn_camera(
                cam.config,
                Arc::clone(&stop),
                Arc::clone(&self.metrics),
                deadline,
                Arc::clone(on_event),
            );
            running.insert(
                file,
                Running {
                    id,
                    fingerprint: cam.fingerprint,
                    stop,
                    handle,
                },
            );
        }
    }

    fn config_change(&self, camera: &str, text: &str, on_event: &SiteCallback) {
        if let Err(e) = self.cfg.audit.append(Action::ConfigChange, camera, None, text) {
            on_event(&SiteEvent::Camera {
                camera: camera.to_string(),
                event: Event::Warning(format!("cannot log the configuration change: {e}")),
            });
        }
        on_event(&SiteEvent::ConfigChange(text.to_string()));
    }
}

/// Join a stopped camera's thread and report what it recorded.
fn collect(r: Running, summaries: &mut Vec<(String, RecordSummary)>, on_event: &SiteCallback) {
    if let Ok(list) = r.handle.join() {
        for s in list {
            on_event(&SiteEvent::Stopped {
                camera: r.id.clone(),
                summary: s.clone(),
            });
            summaries.push((r.id.clone(), s));
        }
    }
}

/// The zone files of a cameras directory, sorted.
fn list_zone_files(dir: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            op: "list",
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// One camera's thread: its recorder, started again after a failure.
fn spawn_camera(
    cfg: RecorderConfig,
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    deadline: Option<Instant>,
    on_event: SiteCallback,
) -> JoinHandle<Vec<RecordSummary>> {
    std::thread::spawn(move || {
        let id = cfg.camera.id.clone();
        let mut backoff = Duration::from_secs(1);
        let mut out = Vec::new();
        loop {
            let mut c = cfg.clone();
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return out;
                }
                c.run_for = Some(left);
            }
            let result = Recorder::new(c).and_then(|mut r| {
                r.set_stop_flag(Arc::clone(&stop));
                r.set_metrics(Arc::clone(&metrics));
                r.run(&mut |e| {
                    on_event(&SiteEvent::Camera {
                        camera: id.clone(),
                        event: e.clone(),
                    })
                })
            });
            match result {
                Ok(s) => {
                    out.push(s);
                    return out;
                }
                Err(e) => {
                    let error = e.to_string();
                    metrics.camera(&id).set_error(&error);
                    if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                        on_event(&SiteEvent::Failed {
                            camera: id.clone(),
                            error,
                            retry_in: Duration::ZERO,
                        });
                        return out;
                    }
                    on_event(&SiteEvent::Failed {
                        camera: id.clone(),
                        error,
                        retry_in: backoff,
                    });
                    let until = Instant::now() + backoff;
                    while Instant::now() < until {
                        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                            return out;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    })
}
