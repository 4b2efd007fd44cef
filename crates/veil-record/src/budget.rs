//! The storage budget: footage is kept within a number of bytes and a free-space floor by
//! deleting the site's oldest footage that nothing protects, early (retention is a maximum,
//! not a minimum); and the capacity it gives (bytes per hour, days that fit).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{plan_with_retention, KeepReason, PlanInput, Recording, Timestamp};
use veil_core::fsutil::sync_dir;

use crate::erase::{delete_entry, how_erased, AuditTarget, SegmentDeletion};
use crate::index::{is_plain_name, Index, IndexEntry, KEYS_DIR};
use crate::retention::{camera_dirs, Requests};
use crate::segment::ENCRYPTED_EXT;
use crate::RecordError;

/// The first words of the reason of every early deletion.
pub const EARLY_REASON: &str = "early: storage budget";

/// Parse a SIZE: `800G`, `6M`, `512K`, `2T` (powers of 1024; a trailing `B` or `iB` is
/// allowed) or a number of bytes.
///
/// ```
/// assert_eq!(veil_record::parse_size("6M").unwrap(), 6 << 20);
/// assert_eq!(veil_record::parse_size("800G").unwrap(), 800 << 30);
/// assert_eq!(veil_record::parse_size("1GiB").unwrap(), 1 << 30);
/// assert_eq!(veil_record::parse_size("4096").unwrap(), 4096);
/// assert!(veil_record::parse_size("1.5G").is_err());
/// assert!(veil_record::parse_size("0").is_err());
/// ```
///
/// # Errors
/// [`RecordError::InvalidSize`] for anything else, zero, or more than 2^63 bytes.
pub fn parse_size(text: &str) -> Result<u64, RecordError> {
    let bad = |reason: &str| RecordError::InvalidSize {
        input: text.to_string(),
        reason: reason.to_string(),
    };
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let unit = unit.to_ascii_uppercase();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => {
            return Err(bad(
                "expected a whole number with K, M, G or T (512K, 6M, 800G, 2T)",
            ))
        }
    };
    if digits.is_empty() {
        return Err(bad("no number"));
    }
    let n: u64 = digits.parse().map_err(|_| bad("the number is too large"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .filter(|&b| b <= 1 << 63)
        .ok_or_else(|| bad("the number is too large"))?;
    if bytes == 0 {
        return Err(bad("must be more than zero"));
    }
    Ok(bytes)
}

/// A size for people: `1.3 GiB`, `640 KiB`, `12 B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

/// A span for people: `9.5 d`, `28 d`, `5 h`, `3 min`, `40 s`.
pub fn format_span(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 86_400.0 {
        let days = s / 86_400.0;
        if days < 10.0 && (days - days.round()).abs() > 0.05 {
            format!("{days:.1} d")
        } else {
            format!("{days:.0} d")
        }
    } else if s >= 3600.0 {
        format!("{:.0} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// The bytes of footage under a recording directory: every camera directory's segments
/// (plain and encrypted, the ones being written included) and sealed data keys.
pub(crate) fn footage_bytes(dir: &Path) -> u64 {
    let Ok(cams) = camera_dirs(dir) else {
        return 0;
    };
    let size_of = |d: &Path, keep: &dyn Fn(&str) -> bool| -> u64 {
        let Ok(list) = fs::read_dir(d) else { return 0 };
        list.filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            keep(&name).then(|| e.metadata().ok().map_or(0, |m| m.len()))
        })
        .sum()
    };
    cams.iter()
        .map(|(_, p)| {
            size_of(p, &|n| n.ends_with(".mp4") || n.ends_with(ENCRYPTED_EXT))
                + size_of(&p.join(KEYS_DIR), &|n| n.ends_with(".key.age"))
        })
        .sum()
}

/// What keeps one camera's live segments: for each, the open holds and pending access
/// requests covering it (empty: nothing protects it), by the retention planner's rules.
fn protection(
    camera: &str,
    entries: &[IndexEntry],
    requests: &Requests,
    retention: Duration,
    now: Timestamp,
) -> Result<Vec<Vec<String>>, RecordError> {
    let input = PlanInput {
        recordings: entries
            .iter()
            .map(|e| Recording {
                camera: camera.to_string(),
                start: e.start,
                end: e.end,
                path: e.file.clone(),
                bytes: None,
            })
            .collect(),
        holds: requests.holds.clone(),
        access: requests.access.clone(),
        // Erasure requests protect nothing.
        erasures: Vec::new(),
    };
    let plan = plan_with_retention(&input, retention, now)?;
    Ok(entries
        .iter()
        .map(|e| {
            plan.keep
                .iter()
                .find(|k| k.recording.path == e.file)
                .map(|k| {
                    k.reasons
                        .iter()
                        .filter(|r| {
                            matches!(r, KeepReason::OpenHold { .. } | KeepReason::PendingAccess { .. })
                        })
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect())
}

/// The site's oldest live segment that nothing protects, or what protects all of them.
pub(crate) enum Oldest {
    /// A segment that may go: its camera, directory and file.
    Unprotected {
        /// Camera id.
        camera: String,
        /// The camera's directory.
        cam_dir: PathBuf,
        /// The segment's file name.
        file: String,
    },
    /// Every live segment is protected (or there is none): the holds and requests that
    /// keep them, each once.
    AllProtected(Vec<String>),
}

/// A live segment nothing protects.
struct Candidate {
    start_ms: i64,
    camera: String,
    cam_dir: PathBuf,
    file: String,
    /// Its sealed data key's file in `keys/`, when encrypted.
    key: Option<String>,
}

impl Candidate {
    /// Its bytes on disk: the segment and its sealed data key.
    fn bytes(&self) -> u64 {
        let len = |p: PathBuf| fs::metadata(p).map_or(0, |m| m.len());
        len(self.cam_dir.join(&self.file))
            + self
                .key
                .as_ref()
                .map_or(0, |k| len(self.cam_dir.join(KEYS_DIR).join(k)))
    }
}

/// Every live segment under `dir` (every camera) that no open hold or pending access
/// request covers at `now`, oldest first, with its data key; and the holds and requests
/// that keep the others, each once.
fn unprotected(
    dir: &Path,
    requests: &Requests,
    retention: Duration,
    now: Timestamp,
) -> Result<(Vec<Candidate>, Vec<String>), RecordError> {
    let mut out = Vec::new();
    let mut protecting: Vec<String> = Vec::new();
    for (camera, cam_dir) in camera_dirs(dir)? {
        let live: Vec<IndexEntry> = Index::new(&cam_dir)
            .read()?
            .into_iter()
            .filter(|e| e.deleted.is_none() && is_plain_name(&e.file))
            .collect();
        let kept_by = protection(&camera, &live, requests, retention, now)?;
        for (e, reasons) in live.into_iter().zip(kept_by) {
            if reasons.is_empty() {
                out.push(Candidate {
                    start_ms: e.start.unix_millis(),
                    camera: camera.clone(),
                    cam_dir: cam_dir.clone(),
                    file: e.file,
                    key: e.key,
                });
            } else {
                for r in reasons {
                    let r = format!("{r} ({camera})");
                    if !protecting.contains(&r) {
                        protecting.push(r);
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| (a.start_ms, &a.camera).cmp(&(b.start_ms, &b.camera)));
    Ok((out, protecting))
}

/// Find the oldest live segment under `dir` (every camera: the site's oldest footage goes
/// first) that no open hold or pending access request covers.
pub(crate) fn oldest_unprotected(
    dir: &Path,
    requests: &Requests,
    retention: Duration,
) -> Result<Oldest, RecordError> {
    let (candidates, protecting) = unprotected(dir, requests, retention, Timestamp::now())?;
    Ok(match candidates.into_iter().next() {
        Some(c) => Oldest::Unprotected {
            camera: c.camera,
            cam_dir: c.cam_dir,
            file: c.file,
        },
        None => Oldest::AllProtected(protecting),
    })
}

/// A storage budget applied once, as `redact retention apply --max-disk` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageBudget {
    /// The bytes footage may take under the directory.
    pub max_disk: Option<u64>,
    /// The free space to keep on the file system.
    pub min_free: Option<u64>,
}

/// What [`apply_budget`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetOutcome {
    /// Segments deleted early (in a dry run: to be deleted), oldest first.
    pub deleted: Vec<SegmentDeletion>,
    /// Set when the budget or the floor is still broken once nothing unprotected is left:
    /// the limit and the holds and requests that fill it.
    pub full: Option<String>,
}

/// Keep the footage under `dir` within a storage budget once, as the recorder does before
/// each segment: the site's oldest segments that no open hold or pending access request
/// covers (at `opts.now`) are deleted early, audited with the reason "early: storage
/// budget", erased and marked as retention's are. `already`: segments a retention pass
/// just deleted (in a dry run still on disk), not counted.
///
/// # Errors
/// As [`crate::apply_retention_camera`].
pub fn apply_budget(
    dir: &Path,
    budget: StorageBudget,
    opts: &crate::RetentionOptions,
    already: &[SegmentDeletion],
) -> Result<BudgetOutcome, RecordError> {
    opts.check()?;
    let (candidates, protecting) = unprotected(dir, &opts.requests, opts.retention, opts.now)?;
    let gone = |c: &Candidate| already.iter().any(|d| d.camera == c.camera && d.file == c.file);
    let mut used = footage_bytes(dir);
    let mut free = crate::segment::free_space(dir);
    if opts.dry_run {
        for c in candidates.iter().filter(|c| gone(c)) {
            let b = c.bytes();
            used = used.saturating_sub(b);
            free = free.map(|f| f + b);
        }
    }
    let over = |used: u64, free: Option<u64>| {
        budget.max_disk.is_some_and(|b| used > b)
            || matches!((budget.min_free, free), (Some(m), Some(f)) if f < m)
    };
    let limit = |used: u64, free: Option<u64>| {
        let mut l = match budget.max_disk {
            Some(b) => format!("storage budget {}, footage {}", format_size(b), format_size(used)),
            None => format!("no storage budget, footage {}", format_size(used)),
        };
        match (free, budget.min_free) {
            (Some(f), Some(m)) => l.push_str(&format!(
                ", {} free with a floor of {}",
                format_size(f),
                format_size(m)
            )),
            (Some(f), None) => l.push_str(&format!(", {} free", format_size(f))),
            (None, _) => {}
        }
        l
    };
    let mut out = BudgetOutcome::default();
    for c in candidates.iter().filter(|c| !gone(c)) {
        if !over(used, free) {
            break;
        }
        let reason = format!(
            "{EARLY_REASON} ({}): the site's oldest footage that no hold or request protects",
            limit(used, free)
        );
        let bytes = c.bytes();
        if opts.dry_run {
            out.deleted.push(SegmentDeletion {
                camera: c.camera.clone(),
                file: c.file.clone(),
                reason,
                how: how_erased(c.key.as_deref()),
                early: true,
            });
        } else {
            let Some(audit) = &opts.audit else {
                return Err(RecordError::InvalidOption {
                    reason: "every deletion is audited: an audit log (and an actor) is required unless it is a dry run".into(),
                });
            };
            match delete_early(&c.cam_dir, &c.camera, &c.file, &reason, audit)? {
                Some(d) => out.deleted.push(d),
                None => continue,
            }
        }
        used = used.saturating_sub(bytes);
        free = free.map(|f| f + bytes);
    }
    if over(used, free) {
        out.full = Some(format!(
            "{}; protected footage alone fills it: {}",
            limit(used, free),
            if protecting.is_empty() {
                "there is no footage left to delete".to_string()
            } else {
                protecting.join(", ")
            }
        ));
    }
    Ok(out)
}

/// Delete `file` of `camera` early, for `reason` (which starts with [`EARLY_REASON`]),
/// under the camera's index lock, as retention deletes: audited first, erased, marked in
/// the index. `None` when the segment went meanwhile (another process's retention).
pub(crate) fn delete_early(
    cam_dir: &Path,
    camera: &str,
    file: &str,
    reason: &str,
    audit: &AuditTarget,
) -> Result<Option<SegmentDeletion>, RecordError> {
    let index = Index::new(cam_dir);
    index.locked(|index| {
        let mut entries = index.read()?;
        let Some(entry) = entries.iter_mut().find(|e| e.deleted.is_none() && e.file == file) else {
            return Ok(None);
        };
        let how = how_erased(entry.key.as_deref());
        let result = delete_entry(cam_dir, camera, entry, reason, None, audit);
        if entry.deleted.is_some() {
            sync_dir(cam_dir);
            index.rewrite(&entries)?;
        }
        result.map(|()| {
            Some(SegmentDeletion {
                camera: camera.to_string(),
                file: file.to_string(),
                reason: reason.to_string(),
                how,
                early: true,
            })
        })
    })
}

/// Bytes per hour of footage, measured over the live segments of every camera under `dir`
/// that ended in the last `window` (the site's rate: each camera's bytes over its seconds,
/// summed), or `None` before there is any.
pub(crate) fn bytes_per_hour(dir: &Path, window: Duration) -> Option<f64> {
    let now = Timestamp::now().unix_millis();
    let since = now - window.as_millis() as i64;
    let mut total = 0.0;
    let mut any = false;
    for (_, cam_dir) in camera_dirs(dir).ok()? {
        let Ok(entries) = Index::new(&cam_dir).read() else {
            continue;
        };
        let (mut bytes, mut ms) = (0u64, 0i64);
        for e in entries
            .iter()
            .filter(|e| e.deleted.is_none() && e.end.unix_millis() >= since && is_plain_name(&e.file))
        {
            let Ok(m) = fs::metadata(cam_dir.join(&e.file)) else {
                continue;
            };
            bytes += m.len();
            ms += (e.end.unix_millis() - e.start.unix_millis()).max(0);
        }
        if ms >= 1000 {
            total += bytes as f64 * 3_600_000.0 / ms as f64;
            any = true;
        }
    }
    any.then_some(total)
}

/// The start of the oldest live footage of one camera.
pub(crate) fn oldest_kept(cam_dir: &Path) -> Option<Timestamp> {
    Index::new(cam_dir)
        .read()
        .ok()?
        .into_iter()
        .filter(|e| e.deleted.is_none())
        .map(|e| e.start)
        .min_by_key(|t| t.unix_millis())
}
