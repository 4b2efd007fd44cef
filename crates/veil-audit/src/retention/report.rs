//! The human-readable plan report (`Display`): one line per recording and per erasure
//! request.

use std::fmt;

use super::plan::{DeleteReason, ErasureOutcome, KeepReason, Plan};

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::WithinRetention { until } => write!(f, "within retention until {until}"),
            KeepReason::OpenHold { incident } => write!(f, "open incident {incident}"),
            KeepReason::PendingAccess { reference } => write!(f, "pending access request {reference}"),
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::RetentionExpired {
                limit_days,
                expired_at,
            } => {
                write!(f, "retention of {limit_days} days ended {expired_at}")
            }
            DeleteReason::RetentionExpiredSeconds {
                limit_seconds,
                expired_at,
            } => {
                write!(f, "retention of {limit_seconds} s ended {expired_at}")
            }
            DeleteReason::ErasureGranted { reference } => write!(f, "erasure request {reference} granted"),
            DeleteReason::EarlyStorageBudget { max_disk, footage } => write!(
                f,
                "early: storage budget ({max_disk} bytes, footage {footage} bytes): the oldest footage no hold or request protects"
            ),
        }
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A human-readable report: one line per recording (DELETE / KEEP / KEEP OVER LIMIT) and
/// one per erasure request.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "retention plan at {}: delete {}, keep {} ({} over the limit)",
            self.now,
            self.delete.len(),
            self.keep.len(),
            self.over_limit().count()
        )?;
        for d in &self.delete {
            writeln!(
                f,
                "DELETE {} [{}]: {}",
                d.recording.path,
                d.recording.camera,
                join(&d.reasons)
            )?;
        }
        for k in &self.keep {
            let tag = if k.over_limit { "KEEP OVER LIMIT" } else { "KEEP" };
            writeln!(
                f,
                "{tag} {} [{}]: {}",
                k.recording.path,
                k.recording.camera,
                join(&k.reasons)
            )?;
        }
        for e in &self.erasures {
            let outcome = match e.outcome {
                ErasureOutcome::Granted => "granted",
                ErasureOutcome::PartlyGranted => "partly granted",
                ErasureOutcome::Refused => "refused",
                ErasureOutcome::NoFootage => "no footage stored",
            };
            write!(f, "ERASURE {}: {outcome}", e.reference)?;
            if !e.erased.is_empty() {
                write!(f, "; erased {}", e.erased.join(", "))?;
            }
            for r in &e.refused {
                write!(f, "; kept {} ({})", r.path, join(&r.reasons))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
