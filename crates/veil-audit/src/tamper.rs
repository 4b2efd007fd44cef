//! What verifying a log finds: the first problem ([`Tamper`], [`TamperKind`]) and the summary
//! ([`VerifySummary`]), with the [`Anchor`] to record elsewhere. The walk that finds them is
//! in `verify.rs`.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A point of the chain recorded elsewhere (printed in a report, kept by the data protection
/// officer): verifying against it detects removal of trailing entries and wholesale rewrites.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Anchor {
    /// Sequence number of the anchored entry.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

/// What `verify` found wrong, at which line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tamper {
    /// 1-based line number of the first entry that is wrong.
    pub line: u64,
    /// What is wrong.
    pub kind: TamperKind,
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

/// The kinds of damage `verify` tells apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TamperKind {
    /// The entry's content does not match its own hash: it was altered.
    Altered {
        /// The hash stored in the line.
        stored_hash: String,
        /// The hash of the line's canonical bytes.
        computed_hash: String,
    },
    /// The entry's hash matches but the line is not in canonical form (reformatted, members
    /// reordered): it was rewritten.
    NotCanonical,
    /// The line is not a valid entry (not JSON, wrong members, bad values).
    Malformed {
        /// The parser's complaint.
        reason: String,
    },
    /// Entries `expected_seq ..= found_seq - 1` are missing before this line.
    Removed {
        /// The sequence number this line should have had.
        expected_seq: u64,
        /// The sequence number it has.
        found_seq: u64,
    },
    /// The entry is out of order (the expected entry appears later, or this one came earlier).
    Reordered {
        /// The sequence number this line should have had.
        expected_seq: u64,
        /// The sequence number it has.
        found_seq: u64,
    },
    /// This line does not belong in the chain: the next line chains directly to the one
    /// before it.
    Inserted,
    /// The entry is intact and in sequence but its `prev` is not the previous line's hash:
    /// the previous entry (or this one) was rewritten with a recomputed hash.
    ChainBroken {
        /// The previous line's hash.
        expected_prev: String,
        /// The `prev` stored in this line.
        found_prev: String,
    },
    /// The last line has no terminating newline: a write was interrupted (or the file was cut).
    TruncatedLastLine {
        /// Bytes in the incomplete line.
        bytes: u64,
    },
    /// The log ends before the anchor's sequence number: trailing entries were removed.
    MissingAtEnd {
        /// The anchor's sequence number.
        anchor_seq: u64,
        /// The last sequence number in the log (0 if empty).
        last_seq: u64,
    },
    /// The entry at the anchor's sequence number has another hash: the log was rewritten.
    AnchorMismatch {
        /// The anchored hash.
        anchor_hash: String,
        /// The hash in the log.
        found_hash: String,
    },
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TamperKind::Altered {
                stored_hash,
                computed_hash,
            } => write!(
                f,
                "entry altered (stored hash {stored_hash}, content hashes to {computed_hash})"
            ),
            TamperKind::NotCanonical => f.write_str("entry rewritten (not in canonical form)"),
            TamperKind::Malformed { reason } => write!(f, "not a valid entry ({reason})"),
            TamperKind::Removed {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entries removed (expected seq {expected_seq}, found seq {found_seq})"
            ),
            TamperKind::Reordered {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entries reordered (expected seq {expected_seq}, found seq {found_seq})"
            ),
            TamperKind::Inserted => f.write_str("entry inserted (the next line chains to the previous one)"),
            TamperKind::ChainBroken {
                expected_prev,
                found_prev,
            } => write!(
                f,
                "chain broken (prev is {found_prev}, previous line hashes to {expected_prev}): the \
                 previous entry or this one was rewritten"
            ),
            TamperKind::TruncatedLastLine { bytes } => {
                write!(
                    f,
                    "incomplete last line ({bytes} bytes, no newline): interrupted write or cut file"
                )
            }
            TamperKind::MissingAtEnd { anchor_seq, last_seq } => write!(
                f,
                "log ends at seq {last_seq} but the anchor is at seq {anchor_seq}: trailing entries removed"
            ),
            TamperKind::AnchorMismatch {
                anchor_hash,
                found_hash,
            } => write!(
                f,
                "hash {found_hash} differs from the anchor's {anchor_hash}: log rewritten"
            ),
        }
    }
}

/// The result of verifying a log file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifySummary {
    /// The file verified.
    pub path: PathBuf,
    /// Number of entries verified good, from the start, before the first problem (all of
    /// them when the log is intact).
    pub entries: u64,
    /// The last good entry (record it elsewhere as an [`Anchor`]); `None` if there is none.
    pub head: Option<Anchor>,
    /// The first problem found, or `None` when the log is intact.
    pub problem: Option<Tamper>,
}

impl VerifySummary {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(f, "{}: intact, {} entries", self.path.display(), self.entries)?,
            Some(p) => write!(
                f,
                "{}: NOT INTACT: {p} ({} entries verified before it)",
                self.path.display(),
                self.entries
            )?,
        }
        if let Some(h) = &self.head {
            write!(f, "; head seq {} hash {}", h.seq, h.hash)?;
        }
        Ok(())
    }
}
