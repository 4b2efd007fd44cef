//! The [`Recorder`]'s storage side: retention passes during recording, room for the next
//! segment (the storage budget and the free-space floor, deleting the site's oldest
//! unprotected footage early), waiting for room, capacity reports, and audit notes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use veil_audit::{Action, Timestamp, Window};

use crate::budget::{
    bytes_per_hour, delete_early, footage_bytes, format_size, oldest_unprotected, Oldest, EARLY_REASON,
};
use crate::config::{Capacity, Event, StopReason, RETENTION_EVERY};
use crate::index::Gap;
use crate::recorder::Recorder;
use crate::retention::{apply_retention_camera, Requests, RetentionOptions};
use crate::segment::free_space;
use crate::RecordError;

/// How often a recorder stopped for want of room checks for room again.
const ROOM_CHECK: Duration = Duration::from_secs(5);
/// The smallest free-space floor (before any segment size is known).
const MIN_FLOOR: u64 = 512 * 1024;
/// The stretch of recent footage the bytes per hour are measured over.
const RATE_WINDOW: Duration = Duration::from_secs(3 * 3600);

impl Recorder {
    /// A retention pass if the last one is [`RETENTION_EVERY`] (or half a segment) ago.
    pub(crate) fn maybe_retention(&mut self, on_event: &mut dyn FnMut(&Event)) {
        let every = RETENTION_EVERY.min(self.cfg.segment / 2);
        if self.last_retention.is_none_or(|t| t.elapsed() >= every) {
            self.retention_pass(on_event);
        }
    }

    pub(crate) fn retention_pass(&mut self, on_event: &mut dyn FnMut(&Event)) {
        self.last_retention = Some(Instant::now());
        let requests = match self.holds.current() {
            Ok(h) => h,
            Err(e) => {
                on_event(&Event::Warning(format!(
                    "retention skipped, nothing deleted: {e}"
                )));
                return;
            }
        };
        let mut unknown = requests.unknown_cameras(&self.cfg.dir, Some(&self.cfg.camera.id));
        unknown.retain(|u| !self.warned.contains(&u.warning));
        let mut warnings: Vec<String> = unknown.iter().map(|u| u.warning.clone()).collect();
        if let Some(a) = &self.cfg.audit {
            warnings.extend(requests.note_warnings(&unknown, a));
        }
        let opts = RetentionOptions {
            retention: self.cfg.retention,
            requests,
            now: Timestamp::now(),
            dry_run: false,
            audit: self.cfg.audit.clone(),
        };
        match apply_retention_camera(&self.segs.cam_dir, &self.cfg.camera.id, &opts) {
            Ok(out) => {
                for d in out.deleted {
                    self.summary_deleted += 1;
                    on_event(&Event::Deleted(d));
                }
                for p in out.pending {
                    warnings.push(format!(
                        "erasure request {} for {}/{} waits: {}",
                        p.reference, p.camera, p.file, p.reasons
                    ));
                }
            }
            Err(e) => on_event(&Event::Warning(format!(
                "retention failed, nothing more deleted: {e}"
            ))),
        }
        for w in warnings {
            if self.warned.insert(w.clone()) {
                on_event(&Event::Warning(w));
            }
        }
        self.report_capacity(on_event);
    }

    /// The free space kept on the file system: [`RecorderConfig::min_free`], or two
    /// segments of the largest seen.
    fn floor(&self) -> u64 {
        self.cfg
            .min_free
            .unwrap_or_else(|| (2 * self.segs.largest()).max(MIN_FLOOR))
    }

    /// Make room for the rest of the current segment (`current`: the bytes it holds) and
    /// keep the free-space floor, deleting the site's oldest unprotected segments early.
    ///
    /// # Errors
    /// [`RecordError::StorageFull`] when what is left is protected (or the holds and
    /// requests cannot be read, so nothing may be deleted), naming what protects it; the
    /// audit log's and the index's errors.
    pub(crate) fn make_room(
        &mut self,
        current: u64,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), RecordError> {
        let mut requests: Option<Requests> = None;
        let mut tried: HashSet<(String, String)> = HashSet::new();
        loop {
            let need = self.segs.next_need(current);
            let free = free_space(&self.segs.cam_dir);
            let floor = self.floor();
            let used = self.cfg.max_disk.map(|_| footage_bytes(&self.cfg.dir));
            let over_budget = matches!((self.cfg.max_disk, used), (Some(b), Some(u)) if u + need > b);
            let under_floor = free.is_some_and(|f| f < need.saturating_add(floor));
            if !over_budget && !under_floor {
                return Ok(());
            }
            let mut limit = match (self.cfg.max_disk, used) {
                (Some(b), Some(u)) => {
                    format!("storage budget {}, footage {}", format_size(b), format_size(u))
                }
                _ => "no storage budget".to_string(),
            };
            limit.push_str(&format!(", next segment about {}", format_size(need)));
            if let Some(f) = free {
                limit.push_str(&format!(
                    ", {} free with a floor of {}",
                    format_size(f),
                    format_size(floor)
                ));
            }
            let full = |protecting: String| RecordError::StorageFull {
                path: self.segs.cam_dir.clone(),
                limit: limit.clone(),
                protecting,
            };
            let reqs = match &mut requests {
                Some(r) => &*r,
                None => match self.holds.current() {
                    Ok(r) => &*requests.insert(r),
                    Err(e) => {
                        return Err(full(format!(
                            "the holds and requests cannot be read, so nothing may be deleted ({e})"
                        )))
                    }
                },
            };
            match oldest_unprotected(&self.cfg.dir, reqs, self.cfg.retention)? {
                Oldest::Unprotected {
                    camera,
                    cam_dir,
                    file,
                } => {
                    if !tried.insert((camera.clone(), file.clone())) {
                        return Err(full(format!("{camera}/{file} could not be deleted")));
                    }
                    let Some(audit) = &self.cfg.audit else {
                        return Err(full("no audit log to record a deletion in".into()));
                    };
                    let reason = format!(
                        "{EARLY_REASON} ({limit}): the site's oldest footage that no hold or request protects"
                    );
                    if let Some(d) = delete_early(&cam_dir, &camera, &file, &reason, audit)? {
                        self.summary_deleted += 1;
                        self.summary_early += 1;
                        on_event(&Event::Deleted(d));
                    }
                }
                Oldest::AllProtected(p) => {
                    return Err(full(if p.is_empty() {
                        "there is no footage left to delete (is the budget smaller than a segment?)".into()
                    } else {
                        p.join(", ")
                    }))
                }
            }
        }
    }

    /// After [`RecordError::StorageFull`]: report it, then check every few seconds (holds
    /// and requests read again) until there is room (`None`: record again) or the run is to
    /// stop (then the error, since the recorder stopped for want of room).
    pub(crate) fn wait_for_room(
        &mut self,
        e: RecordError,
        deadline: Option<Instant>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Option<StopReason>, RecordError> {
        on_event(&Event::Stalled(e.to_string()));
        loop {
            if self.wait(ROOM_CHECK, deadline, on_event).is_some() {
                return Err(e);
            }
            self.retention_pass(on_event);
            match self.make_room(0, on_event) {
                Ok(()) => {
                    self.note("recording resumes: there is room for footage again", on_event);
                    on_event(&Event::Resumed);
                    return Ok(None);
                }
                Err(RecordError::StorageFull { .. }) => {}
                Err(other) => return Err(other),
            }
        }
    }

    /// The storage's capacity at the current rate, once measured.
    pub(crate) fn capacity(&self) -> Option<Capacity> {
        let bytes_per_hour = bytes_per_hour(&self.cfg.dir, RATE_WINDOW)?;
        let room = match self.cfg.max_disk {
            Some(b) => b,
            None => {
                let free = free_space(&self.segs.cam_dir)?;
                (footage_bytes(&self.cfg.dir) + free).saturating_sub(self.floor())
            }
        };
        Some(Capacity {
            bytes_per_hour,
            room,
            days_fit: room as f64 / bytes_per_hour.max(1.0) / 24.0,
            retention: self.cfg.retention,
        })
    }

    /// Report the capacity once measured, and again once a day; when fewer days fit than
    /// the retention period, warn and note it in the audit log.
    fn report_capacity(&mut self, on_event: &mut dyn FnMut(&Event)) {
        if self
            .capacity_reported
            .is_some_and(|t| t.elapsed() < Duration::from_secs(86_400))
        {
            return;
        }
        let Some(c) = self.capacity() else { return };
        self.capacity_reported = Some(Instant::now());
        on_event(&Event::Capacity(c.clone()));
        if c.short() {
            let w = c.warning();
            self.note(&w, on_event);
            on_event(&Event::Warning(w));
        }
    }

    pub(crate) fn note_gap(&self, gap: &Gap, on_event: &mut dyn FnMut(&Event)) {
        let Some(a) = &self.cfg.audit else { return };
        let text = format!(
            "no footage from {} to {}: {}",
            gap.from,
            gap.to,
            if gap.reason.is_empty() {
                "the camera dropped"
            } else {
                &gap.reason
            }
        );
        let window = Window {
            from: gap.from,
            to: gap.to.max(gap.from),
        };
        if let Err(e) = a.append(Action::Note, &self.cfg.camera.id, Some(window), &text) {
            on_event(&Event::Warning(format!("cannot log the gap: {e}")));
        }
    }

    pub(crate) fn note(&self, text: &str, on_event: &mut dyn FnMut(&Event)) {
        let Some(a) = &self.cfg.audit else { return };
        if let Err(e) = a.append(Action::Note, &self.cfg.camera.id, None, text) {
            on_event(&Event::Warning(format!("cannot log the note: {e}")));
        }
    }
}
