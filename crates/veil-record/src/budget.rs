//! The storage budget: footage is kept within a number of bytes and a free-space floor by
//! deleting the site's oldest footage that nothing protects, early (retention is a maximum,
//! not a minimum); and the capacity it gives (bytes per hour, days that fit).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use veil_audit::{plan_with_retention, KeepReason, PlanInput, Recording, Timestamp};

use crate::index::{is_plain_name, sync_dir, Index, IndexEntry, KEYS_DIR};
use crate::retention::{camera_dirs, delete_entry, how_erased, AuditTarget, Requests, SegmentDeletion};
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

/// Find the oldest live segment under `dir` (every camera: the site's oldest footage goes
/// first) that no open hold or pending access request covers.
pub(crate) fn oldest_unprotected(
    dir: &Path,
    requests: &Requests,
    retention: Duration,
) -> Result<Oldest, RecordError> {
    let now = Timestamp::now();
    let mut best: Option<(i64, String, PathBuf, String)> = None;
    let mut protecting: Vec<String> = Vec::new();
    for (camera, cam_dir) in camera_dirs(dir)? {
        let live: Vec<IndexEntry> = Index::new(&cam_dir)
            .read()?
            .into_iter()
            .filter(|e| e.deleted.is_none() && is_plain_name(&e.file))
            .collect();
        let kept_by = protection(&camera, &live, requests, retention, now)?;
        for (e, reasons) in live.iter().zip(kept_by) {
            if reasons.is_empty() {
                let start = e.start.unix_millis();
                if best.as_ref().is_none_or(|b| start < b.0) {
                    best = Some((start, camera.clone(), cam_dir.clone(), e.file.clone()));
                }
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
    Ok(match best {
        Some((_, camera, cam_dir, file)) => Oldest::Unprotected {
            camera,
            cam_dir,
            file,
        },
        None => Oldest::AllProtected(protecting),
    })
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
        let how = how_erased(entry);
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
