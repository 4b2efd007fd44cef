//! `redact record status`: which cameras recorded when, and where the gaps, lag marks and
//! deletions are, read from each camera's index and the audit log.

use std::path::Path;

use veil_audit::{Action, AuditLog, Entry, Timestamp};

use crate::index::{Deleted, Gap, Index};
use crate::RecordError;

/// One camera's recording, as its index tells it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CameraStatus {
    /// Camera id (its directory's name).
    pub camera: String,
    /// The stretches with footage indexed, back-to-back segments merged, split at holes
    /// (gaps and deleted segments).
    pub recorded: Vec<(Timestamp, Timestamp)>,
    /// Segments indexed and still present.
    pub segments: u64,
    /// Frames in them.
    pub frames: u64,
    /// Bytes of them on disk.
    pub bytes: u64,
    /// Time without footage (outages, frames lost), lag marks excluded.
    pub gaps: Vec<Gap>,
    /// Lag marks: where recording fell behind the camera's clock.
    pub lag_marks: Vec<Gap>,
    /// Frames the camera sent that were never recorded, summed over the marks.
    pub lost_frames: u64,
    /// Deleted segments: file, start, end, how.
    pub deleted: Vec<(String, Timestamp, Timestamp, Deleted)>,
    /// The audit log's entries about this camera that are not deletions (configuration
    /// changes, notes on gaps, lag, storage), oldest first.
    pub notes: Vec<Entry>,
}

/// The bytes per hour of the whole site, measured over the segments of the last three hours
/// (`None` without any), and the days they fit in `max_disk` (or, without a budget, in the
/// footage plus the free space left).
pub fn site_rate(dir: &Path, max_disk: Option<u64>) -> Option<(f64, f64)> {
    let rate = crate::budget::bytes_per_hour(dir, std::time::Duration::from_secs(3 * 3600))?;
    let room = match max_disk {
        Some(b) => b,
        None => crate::budget::footage_bytes(dir) + crate::segment::free_space(dir)?,
    };
    Some((rate, room as f64 / rate.max(1.0) / 24.0))
}

/// Every camera directory's status under a recording directory, by camera id.
///
/// # Errors
/// [`RecordError::Io`] when `dir` cannot be listed, [`RecordError::BadIndex`] for an index
/// that cannot be read, [`RecordError::Audit`] for an audit log that cannot be read.
pub fn site_status(dir: &Path, audit_log: Option<&Path>) -> Result<Vec<CameraStatus>, RecordError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| RecordError::Io {
            path: dir.to_path_buf(),
            op: "list",
            source,
        })?
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().into_string().ok()?;
            (e.path().join(crate::INDEX_FILE).is_file()).then_some(n)
        })
        .collect();
    names.sort();
    let entries = match audit_log {
        Some(p) => AuditLog::new(p).read_entries()?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for name in names {
        let cam_dir = dir.join(&name);
        let index = Index::new(&cam_dir).read()?;
        let mut st = CameraStatus {
            camera: name.clone(),
            ..CameraStatus::default()
        };
        let mut span: Option<(Timestamp, Timestamp)> = None;
        for e in &index {
            let holes: Vec<&Gap> = e.gaps.iter().filter(|g| !g.is_mark()).collect();
            for g in &e.gaps {
                st.lost_frames += g.lost_frames.unwrap_or(0);
                if g.lag_ms.is_some() {
                    st.lag_marks.push(g.clone());
                } else {
                    st.gaps.push(g.clone());
                }
            }
            if let Some(d) = &e.deleted {
                st.deleted.push((e.file.clone(), e.start, e.end, d.clone()));
                if let Some(s) = span.take() {
                    st.recorded.push(s);
                }
                continue;
            }
            st.segments += 1;
            st.frames += e.frames;
            st.bytes += std::fs::metadata(cam_dir.join(&e.file)).map_or(0, |m| m.len());
            span = match span {
                Some((from, to)) if holes.is_empty() && e.start <= to => Some((from, to.max(e.end))),
                Some(s) => {
                    st.recorded.push(s);
                    Some((e.start, e.end))
                }
                None => Some((e.start, e.end)),
            };
        }
        if let Some(s) = span {
            st.recorded.push(s);
        }
        st.notes = entries
            .iter()
            .filter(|a| a.camera.as_deref() == Some(name.as_str()) && a.action != Action::Delete)
            .cloned()
            .collect();
        out.push(st);
    }
    Ok(out)
}
