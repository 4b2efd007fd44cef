//! The crate's error type.

use std::path::PathBuf;

use crate::vocab::Action;

/// Everything that can go wrong in veil-audit. Tampering found by `verify` is *not* an error
/// (it is a finding, see [`crate::VerifySummary`]); these are failures to do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// An I/O operation on a file failed.
    #[error("{path}: {op} failed: {source}", path = path.display())]
    Io {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What was being done (`open`, `lock`, `read`, `write`, `fsync`, ...).
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON input file could not be parsed into its schema.
    #[error("{file}: invalid JSON: {source}")]
    Json {
        /// The file (or `<memory>` for in-memory input).
        file: String,
        /// The parser's error (it names the line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A record in an input file parsed but is not valid (e.g. a window that ends before it
    /// starts).
    #[error("{file}: {what} #{index}: {reason}")]
    InvalidInput {
        /// The file (or a description of in-memory input).
        file: String,
        /// The kind of record (`recording`, `hold`, `access request`, `erasure request`).
        what: &'static str,
        /// Zero-based position of the record in its list.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The input file's `version` is not one this crate reads.
    #[error("{file}: unsupported version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The file.
        file: String,
        /// The version found.
        found: u32,
        /// The version supported.
        supported: u32,
    },
    /// The audit log ends with an incomplete line (a write was interrupted). Appending is
    /// refused: chaining onto a torn entry would bury the evidence of the crash, and only an
    /// operator can decide whether the torn bytes are a crash or tampering.
    #[error(
        "{path}: audit log ends with an incomplete line ({bytes} bytes after the last newline): \
         a write was interrupted; appending is refused. Run `verify`, then move the incomplete \
         line aside (keep a copy) before appending again",
        path = path.display()
    )]
    TruncatedLog {
        /// The log file.
        path: PathBuf,
        /// Number of bytes after the last newline.
        bytes: u64,
    },
    /// The last entry of the audit log is not a valid entry, so there is nothing trustworthy
    /// to chain a new entry to. Appending is refused.
    #[error("{path}: last audit entry is invalid ({reason}); appending is refused, run `verify`",
        path = path.display())]
    CorruptTail {
        /// The log file.
        path: PathBuf,
        /// What is wrong with the last entry.
        reason: String,
    },
    /// A disclosure to a third party was attempted without a legal basis that allows it (a
    /// police or justice order, or the operator's own report of a crime).
    #[error("disclosure refused: {reason}")]
    DisclosureWithoutLegalBasis {
        /// Why the basis given (if any) does not allow the disclosure.
        reason: String,
    },
    /// A view or export states a purpose that is not among the camera's purposes, and the
    /// legal basis does not override purpose limitation.
    #[error("purpose `{purpose}` is not among the camera's purposes [{allowed}] and the legal basis \
             does not override purpose limitation", allowed = allowed.join(", "))]
    PurposeNotAllowed {
        /// The purpose stated.
        purpose: String,
        /// The camera's purposes.
        allowed: Vec<String>,
    },
    /// An audit entry lacks a field its action requires.
    #[error("a `{action}` entry needs {field}")]
    MissingField {
        /// The action of the entry.
        action: Action,
        /// The missing field (e.g. `a camera`, `a legal basis`).
        field: &'static str,
    },
    /// An audit entry has an invalid field value.
    #[error("invalid audit entry: {reason}")]
    InvalidEntry {
        /// What is wrong.
        reason: String,
    },
    /// A legal basis string (`kind:reference`) could not be parsed.
    #[error("invalid legal basis `{input}`: {reason}")]
    InvalidBasis {
        /// The text given.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// An action name could not be parsed.
    #[error("unknown audit action `{input}` (expected one of: {expected})")]
    InvalidAction {
        /// The text given.
        input: String,
        /// The valid names.
        expected: &'static str,
    },
    /// A timestamp could not be parsed or is out of the supported range (years 0001-9999 UTC).
    #[error("invalid timestamp `{input}`: {reason}")]
    InvalidTimestamp {
        /// The text given.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// A retention policy is invalid.
    #[error("invalid retention policy: {reason}")]
    InvalidPolicy {
        /// What is wrong.
        reason: String,
    },
    /// The audit log has reached the largest sequence number.
    #[error("{path}: sequence number overflow", path = path.display())]
    SeqOverflow {
        /// The log file.
        path: PathBuf,
    },
    /// Exclusive file locking is not available on this platform, so appends cannot be made
    /// safe against concurrent writers; appending is refused.
    #[error("{path}: exclusive file locking is not supported on this platform", path = path.display())]
    LockUnsupported {
        /// The log file.
        path: PathBuf,
    },
}
