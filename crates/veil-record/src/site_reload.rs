//! Running a [`Site`]: the cameras directory read again every second and on
//! [`Site::reload_flag`], each camera started, stopped or restarted on its own thread as its
//! zone file comes, goes or changes (each change a `config-change` audit entry), and the
//! cameras' summaries collected when they stop.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use veil_audit::Action;

use crate::config::{Event, RecordSummary, RecorderConfig, MAX_BACKOFF};
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::site::{load_camera, Site, SiteCallback, SiteCamera, SiteEvent};
use crate::RecordError;

/// How often the cameras directory is read again (besides on [`Site::reload_flag`]).
const RESCAN: Duration = Duration::from_secs(1);

/// A camera being recorded.
struct Running {
    id: String,
    fingerprint: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<RecordSummary>>,
}

impl Site {
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
