//! Logging an export in the audit log. Both camera protocols require every export to be
//! logged (who, when, why, which window): an export that cannot be logged is refused before
//! the work when that can be known, and never published when the log refuses afterwards.
//! The entry is appended while the outputs are still staged, before any becomes visible: a
//! crash in between leaves a logged export that was not released, never a released export
//! nobody logged. [`crate::export`] applies this rule itself when
//! [`crate::ExportOptions::audit`] is set; a caller that publishes the files itself (the CLI
//! stages them first) calls [`ExportAudit::check`] before the work and [`ExportAudit::log`]
//! on the staged manifest before publishing.

use std::path::{Path, PathBuf};

use veil_audit::{AuditLog, Entry, NewEntry, Timestamp, Window};

use crate::RedactError;

/// The audit entry an export must be logged with.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportAudit {
    /// The audit log (JSON lines, created if missing).
    pub log: PathBuf,
    /// The entry (action `export`, actor, reason, basis, purpose, camera), without the
    /// manifest's SHA-256 and the window: the export fills those in.
    pub entry: NewEntry,
    /// The camera's declared purposes (from its zone file); an entry's purpose must be one.
    pub purposes: Vec<String>,
    /// Wall-clock time at which the recording starts: the entry's window is the exported
    /// span of the recording after it.
    pub recording_start: Timestamp,
}

impl ExportAudit {
    /// An entry for `log`.
    pub fn new(
        log: impl Into<PathBuf>,
        entry: NewEntry,
        purposes: Vec<String>,
        recording_start: Timestamp,
    ) -> Self {
        ExportAudit {
            log: log.into(),
            entry,
            purposes,
            recording_start,
        }
    }

    /// Whether the entry could be logged, checked before the work: every rule of the
    /// protocol except the manifest's hash and the window, which are not known yet.
    ///
    /// # Errors
    /// [`RedactError::Audit`] naming the rule the entry breaks.
    pub fn check(&self) -> Result<(), RedactError> {
        let start = self.recording_start;
        self.entry
            .clone()
            .manifest_sha256("0".repeat(64))
            .window(Window::new(start, start)?)
            .validate(&self.purposes)?;
        Ok(())
    }

    /// Append the entry for the manifest at `manifest` (its SHA-256 as written) of an export
    /// spanning `frames_span` seconds of the recording. The tracklets the operator added to
    /// the requester, as the manifest lists them (`operator_tracklets`), are recorded in the
    /// entry too.
    ///
    /// # Errors
    /// [`RedactError::Audit`] if the manifest cannot be hashed, the window lies outside the
    /// representable years, or the log refuses the entry; [`RedactError::Io`] if the
    /// manifest cannot be read as one.
    pub fn log(&self, manifest: &Path, frames_span: [f64; 2]) -> Result<Entry, RedactError> {
        let hash = veil_audit::sha256_file(manifest)?;
        let loaded = crate::Manifest::load(manifest)?;
        let operator: Vec<String> = loaded
            .operator_tracklets
            .iter()
            .map(|o| o.tracklet.to_string())
            .collect();
        let at = |secs: f64| {
            if !secs.is_finite() {
                return None;
            }
            Timestamp::from_unix_seconds(self.recording_start.unix_seconds().saturating_add(secs as i64))
        };
        let [a, b] = frames_span;
        let delivered = loaded.recordings.as_ref().and_then(|r| r.delivered);
        let window = match (delivered, at(a.floor()), at(b.ceil())) {
            // Recordings: the wall-clock window delivered, as the manifest records it.
            (Some(d), _, _) => Window::new(d.from, d.to)?,
            (None, Some(f), Some(t)) => Window::new(f, t)?,
            _ => {
                return Err(RedactError::InvalidOption {
                    reason: "recording start: the export window lies outside the representable years".into(),
                })
            }
        };
        let mut entry = self.entry.clone().manifest_sha256(hash).window(window);
        if let Some(r) = &loaded.recordings {
            entry.reason = format!("{} [{}]", entry.reason, recordings_summary(r));
        }
        if !operator.is_empty() {
            entry = entry.operator_tracklets(operator);
        }
        Ok(AuditLog::new(&self.log).append(&entry, &self.purposes)?)
    }
}

/// What an audit entry states of recordings read as one stream: each segment used (file and
/// SHA-256) and every hole. The manifest, whose hash the entry holds, has the rest.
pub(crate) fn recordings_summary(r: &veil_record::RecordingsRecord) -> String {
    let segs: Vec<String> = r
        .segments
        .iter()
        .filter(|s| s.output.is_some())
        .map(|s| format!("{} sha256:{}", s.file, s.sha256))
        .collect();
    let mut out = format!("camera {}: segment(s) {}", r.camera, segs.join(", "));
    if r.holes.is_empty() {
        out.push_str("; no hole");
    } else {
        let holes: Vec<String> = r.holes.iter().map(ToString::to_string).collect();
        out.push_str(&format!("; hole(s): {}", holes.join("; ")));
    }
    out
}
