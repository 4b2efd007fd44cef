//! Verifying a log: the chain walk with one line of lookahead, and the classification of the
//! first problem ([`TamperKind`]).

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::entry::{Entry, ENTRY_VERSION, GENESIS_PREV};
use crate::AuditError;

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

/// Why a single line is not a valid entry on its own.
pub(crate) enum LineFault {
    Malformed(String),
    Altered { stored: String, computed: String },
    NotCanonical,
}

impl From<LineFault> for TamperKind {
    fn from(f: LineFault) -> Self {
        match f {
            LineFault::Malformed(reason) => TamperKind::Malformed { reason },
            LineFault::Altered { stored, computed } => TamperKind::Altered {
                stored_hash: stored,
                computed_hash: computed,
            },
            LineFault::NotCanonical => TamperKind::NotCanonical,
        }
    }
}

/// Checks one line (without its newline) on its own: parses, recomputes the hash, and
/// requires the exact canonical bytes.
pub(crate) fn check_line(line: &[u8]) -> Result<Entry, LineFault> {
    let entry: Entry = serde_json::from_slice(line).map_err(|e| LineFault::Malformed(e.to_string()))?;
    if entry.version != ENTRY_VERSION {
        return Err(LineFault::Malformed(format!(
            "unsupported version {}",
            entry.version
        )));
    }
    let computed = entry
        .compute_hash()
        .map_err(|e| LineFault::Malformed(e.to_string()))?;
    if computed != entry.hash {
        return Err(LineFault::Altered {
            stored: entry.hash,
            computed,
        });
    }
    let canonical = entry.to_line().map_err(|e| LineFault::Malformed(e.to_string()))?;
    if canonical != line {
        return Err(LineFault::NotCanonical);
    }
    Ok(entry)
}

pub(crate) struct RawLine {
    pub(crate) bytes: Vec<u8>,
    terminated: bool,
}

pub(crate) struct Lines<R> {
    pub(crate) reader: R,
    pub(crate) path: PathBuf,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn next_line(&mut self) -> Result<Option<RawLine>, AuditError> {
        let mut bytes = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut bytes)
            .map_err(|source| AuditError::Io {
                path: self.path.clone(),
                op: "read",
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        let terminated = bytes.last() == Some(&b'\n');
        if terminated {
            bytes.pop();
        }
        Ok(Some(RawLine { bytes, terminated }))
    }
}

/// Verifies the chain of the log at `path`. See [`verify_reader`].
///
/// # Errors
/// [`AuditError::Io`] when the file cannot be opened or read. Tampering is reported in
/// [`VerifySummary::problem`], not as an error.
pub fn verify_file(path: impl AsRef<Path>) -> Result<VerifySummary, AuditError> {
    verify_inner(path.as_ref(), None)
}

/// Verifies the chain and also that it contains the anchored entry unchanged (detects removal
/// of trailing entries and a rewritten chain, which the chain alone cannot).
///
/// # Errors
/// As [`verify_file`].
pub fn verify_file_with_anchor(path: impl AsRef<Path>, anchor: &Anchor) -> Result<VerifySummary, AuditError> {
    verify_inner(path.as_ref(), Some(anchor))
}

fn verify_inner(path: &Path, anchor: Option<&Anchor>) -> Result<VerifySummary, AuditError> {
    let file = File::open(path).map_err(|source| AuditError::Io {
        path: path.to_owned(),
        op: "open",
        source,
    })?;
    verify_reader(BufReader::new(file), path, anchor)
}

/// Verifies a log read from `reader` (`path` only names it in the summary and errors).
///
/// Walks the lines in order. Line `n` must be a valid entry on its own (parses, its `hash` is
/// the SHA-256 of its canonical bytes, the line is exactly canonical), must have `seq == n`,
/// and its `prev` must be the hash of line `n - 1` (64 zeros for line 1). The first line that
/// fails is classified by looking at its neighbours (see [`TamperKind`]). A last line without
/// a newline is reported as [`TamperKind::TruncatedLastLine`].
///
/// # Errors
/// [`AuditError::Io`] when reading fails.
pub fn verify_reader<R: BufRead>(
    reader: R,
    path: &Path,
    anchor: Option<&Anchor>,
) -> Result<VerifySummary, AuditError> {
    let mut lines = Lines {
        reader,
        path: path.to_owned(),
    };
    let mut expected_seq: u64 = 1;
    let mut head = GENESIS_PREV.to_owned();
    // The chain state before the last accepted line: lets us recognise, at a later line that
    // chains to it, that the last accepted line was an insertion.
    let mut before_last: Option<(u64, String)> = None;
    let mut line_no: u64 = 0;
    let mut problem = None;
    while let Some(raw) = lines.next_line()? {
        line_no += 1;
        if !raw.terminated {
            problem = Some(Tamper {
                line: line_no,
                kind: TamperKind::TruncatedLastLine {
                    bytes: raw.bytes.len() as u64,
                },
            });
            break;
        }
        let checked = check_line(&raw.bytes);
        if let Ok(e) = &checked {
            if e.seq == expected_seq && e.prev == head {
                if let Some(a) = anchor {
                    if a.seq == e.seq && a.hash != e.hash {
                        problem = Some(Tamper {
                            line: line_no,
                            kind: TamperKind::AnchorMismatch {
                                anchor_hash: a.hash.clone(),
                                found_hash: e.hash.clone(),
                            },
                        });
                        break;
                    }
                }
                before_last = Some((expected_seq, std::mem::replace(&mut head, e.hash.clone())));
                expected_seq += 1;
                continue;
            }
        }
        problem = Some(classify(
            checked,
            line_no,
            expected_seq,
            &head,
            before_last.as_ref(),
            &mut lines,
        )?);
        break;
    }
    let mut entries = expected_seq - 1;
    let mut head_anchor = (entries > 0).then(|| Anchor {
        seq: entries,
        hash: head.clone(),
    });
    if let Some(p) = &problem {
        if p.kind == TamperKind::Inserted && p.line < line_no {
            // The accepted line before the failing one was the insertion: un-accept it.
            entries -= 1;
            head_anchor = before_last.as_ref().and_then(|(seq, prev_head)| {
                (*seq > 1).then(|| Anchor {
                    seq: seq - 1,
                    hash: prev_head.clone(),
                })
            });
        }
    } else if let Some(a) = anchor {
        if a.seq > entries {
            problem = Some(Tamper {
                line: line_no + 1,
                kind: TamperKind::MissingAtEnd {
                    anchor_seq: a.seq,
                    last_seq: entries,
                },
            });
        }
    }
    Ok(VerifySummary {
        path: path.to_owned(),
        entries,
        head: head_anchor,
        problem,
    })
}

fn classify<R: BufRead>(
    checked: Result<Entry, LineFault>,
    line: u64,
    expected_seq: u64,
    head: &str,
    before_last: Option<&(u64, String)>,
    rest: &mut Lines<R>,
) -> Result<Tamper, AuditError> {
    let chains_to = |e: &Entry, seq: u64, prev: &str| e.seq == seq && e.prev == prev;
    let next_chains_here = |rest: &mut Lines<R>| -> Result<bool, AuditError> {
        Ok(match rest.next_line()? {
            Some(next) if next.terminated => {
                check_line(&next.bytes).is_ok_and(|n| chains_to(&n, expected_seq, head))
            }
            _ => false,
        })
    };
    let kind = match checked {
        Err(fault) => {
            if next_chains_here(rest)? {
                TamperKind::Inserted
            } else {
                fault.into()
            }
        }
        Ok(e) if e.seq < expected_seq => {
            if e.hash == head {
                // An exact copy of the previous line: this line is the extra one.
                return Ok(Tamper {
                    line,
                    kind: TamperKind::Inserted,
                });
            }
            if let Some((seq, prev)) = before_last {
                if chains_to(&e, *seq, prev) {
                    return Ok(Tamper {
                        line: line - 1,
                        kind: TamperKind::Inserted,
                    });
                }
            }
            TamperKind::Reordered {
                expected_seq,
                found_seq: e.seq,
            }
        }
        Ok(e) if e.seq > expected_seq => {
            let mut appears_later = false;
            while let Some(next) = rest.next_line()? {
                if let Ok(n) = check_line(&next.bytes) {
                    if n.seq == expected_seq {
                        appears_later = true;
                        break;
                    }
                }
            }
            if appears_later {
                TamperKind::Reordered {
                    expected_seq,
                    found_seq: e.seq,
                }
            } else {
                TamperKind::Removed {
                    expected_seq,
                    found_seq: e.seq,
                }
            }
        }
        Ok(e) => {
            if next_chains_here(rest)? {
                TamperKind::Inserted
            } else {
                TamperKind::ChainBroken {
                    expected_prev: head.to_owned(),
                    found_prev: e.prev,
                }
            }
        }
    };
    Ok(Tamper { line, kind })
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
