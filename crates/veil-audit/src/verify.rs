//! Verifying a log: the chain walk with one line of lookahead, and the classification of the
//! first problem ([`TamperKind`]).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::entry::{Entry, ENTRY_VERSION, GENESIS_PREV};
use crate::tamper::{Anchor, Tamper, TamperKind, VerifySummary};
use crate::AuditError;

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

/// One line of a log, checked on its own when it was read.
pub(crate) struct Line {
    /// 1-based line number.
    number: u64,
    /// Length in bytes, without the newline.
    len: u64,
    /// Whether the line ends in a newline (only the last line of a file can lack one).
    terminated: bool,
    /// The entry, or why the line is not a valid entry on its own ([`check_line`]).
    pub(crate) entry: Result<Entry, LineFault>,
}

impl Line {
    /// The entry, when the line is complete and valid on its own.
    fn complete_entry(&self) -> Option<&Entry> {
        self.entry.as_ref().ok().filter(|_| self.terminated)
    }
}

/// The lines of a log in order, each read and checked once, with one line of lookahead.
pub(crate) struct Lines<R> {
    reader: R,
    path: PathBuf,
    /// Lines read from `reader` so far (including the one held in `ahead`).
    read: u64,
    /// The line after the last one returned, once [`Lines::peek`] has read it; `Some(None)`
    /// when that is the end.
    ahead: Option<Option<Line>>,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`; `path` names it in errors.
    pub(crate) fn new(reader: R, path: &Path) -> Self {
        Lines {
            reader,
            path: path.to_owned(),
            read: 0,
            ahead: None,
        }
    }

    /// The next line, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line>, AuditError> {
        match self.ahead.take() {
            Some(line) => Ok(line),
            None => self.read_line(),
        }
    }

    /// The line [`Lines::next_line`] returns next, without taking it.
    fn peek(&mut self) -> Result<Option<&Line>, AuditError> {
        if self.ahead.is_none() {
            self.ahead = Some(self.read_line()?);
        }
        Ok(self.ahead.as_ref().and_then(Option::as_ref))
    }

    fn read_line(&mut self) -> Result<Option<Line>, AuditError> {
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
        self.read += 1;
        let terminated = bytes.last() == Some(&b'\n');
        if terminated {
            bytes.pop();
        }
        Ok(Some(Line {
            number: self.read,
            len: bytes.len() as u64,
            terminated,
            entry: check_line(&bytes),
        }))
    }
}

/// Where a walk along the chain stands: the last entry accepted.
struct Chain {
    /// Its sequence number (0 before the first entry).
    seq: u64,
    /// Its hash ([`GENESIS_PREV`] before the first entry).
    head: String,
}

impl Chain {
    fn start() -> Self {
        Chain {
            seq: 0,
            head: GENESIS_PREV.to_owned(),
        }
    }

    /// The sequence number the next entry must have.
    fn expected_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Whether `e` is the next entry: the expected seq, chained to the head.
    fn continues(&self, e: &Entry) -> bool {
        e.seq == self.expected_seq() && e.prev == self.head
    }

    fn accept(&mut self, e: Entry) {
        self.seq = e.seq;
        self.head = e.hash;
    }

    /// The last accepted entry, if any.
    fn anchor(&self) -> Option<Anchor> {
        (self.seq > 0).then(|| Anchor {
            seq: self.seq,
            hash: self.head.clone(),
        })
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
/// and its `prev` must be the hash of line `n - 1` (64 zeros for line 1). A line is accepted
/// only after a look at the next one: when the next line would take its place in the chain
/// (same `seq` and `prev`, another hash), this line is the insertion. The first line that
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
    let mut lines = Lines::new(reader, path);
    let mut chain = Chain::start();
    let problem = loop {
        let Some(line) = lines.next_line()? else {
            break None;
        };
        if !line.terminated {
            break Some(Tamper {
                line: line.number,
                kind: TamperKind::TruncatedLastLine { bytes: line.len },
            });
        }
        let e = match line.entry {
            Ok(e) if chain.continues(&e) => e,
            other => break Some(classify(line.number, other, &chain, &mut lines)?),
        };
        if let Some(a) = anchor.filter(|a| a.seq == e.seq && a.hash != e.hash) {
            break Some(Tamper {
                line: line.number,
                kind: TamperKind::AnchorMismatch {
                    anchor_hash: a.hash.clone(),
                    found_hash: e.hash,
                },
            });
        }
        // The lookahead: a next line that takes this entry's place (another entry with the
        // same seq and prev) chains to what came before, so this line is the insertion. An
        // exact copy of this line is the extra one itself, and is named at its own turn.
        let replaced = lines
            .peek()?
            .and_then(Line::complete_entry)
            .is_some_and(|n| n.seq == e.seq && n.prev == e.prev && n.hash != e.hash);
        if replaced {
            break Some(Tamper {
                line: line.number,
                kind: TamperKind::Inserted,
            });
        }
        chain.accept(e);
    };
    let problem = problem.or_else(|| {
        // Every line was accepted: the log is as long as the anchor says, or lost its end.
        anchor.filter(|a| a.seq > chain.seq).map(|a| Tamper {
            line: chain.seq + 1,
            kind: TamperKind::MissingAtEnd {
                anchor_seq: a.seq,
                last_seq: chain.seq,
            },
        })
    });
    Ok(VerifySummary {
        path: path.to_owned(),
        entries: chain.seq,
        head: chain.anchor(),
        problem,
    })
}

/// Names the problem at line `line`, the first that does not continue `chain`, from the line
/// itself and the lines after it (`rest`).
fn classify<R: BufRead>(
    line: u64,
    checked: Result<Entry, LineFault>,
    chain: &Chain,
    rest: &mut Lines<R>,
) -> Result<Tamper, AuditError> {
    let expected_seq = chain.expected_seq();
    // Whether the next line continues the chain as if this one were not there.
    let next_continues = |rest: &mut Lines<R>| -> Result<bool, AuditError> {
        Ok(rest
            .peek()?
            .and_then(Line::complete_entry)
            .is_some_and(|n| chain.continues(n)))
    };
    let kind = match checked {
        Err(fault) => {
            if next_continues(rest)? {
                TamperKind::Inserted
            } else {
                fault.into()
            }
        }
        Ok(e) if e.seq < expected_seq => {
            if e.hash == chain.head {
                // An exact copy of the previous line: this line is the extra one.
                TamperKind::Inserted
            } else {
                TamperKind::Reordered {
                    expected_seq,
                    found_seq: e.seq,
                }
            }
        }
        Ok(e) if e.seq > expected_seq => {
            let mut appears_later = false;
            while let Some(next) = rest.next_line()? {
                if next.entry.is_ok_and(|n| n.seq == expected_seq) {
                    appears_later = true;
                    break;
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
            if next_continues(rest)? {
                TamperKind::Inserted
            } else {
                TamperKind::ChainBroken {
                    expected_prev: chain.head.clone(),
                    found_prev: e.prev,
                }
            }
        }
    };
    Ok(Tamper { line, kind })
}

#[cfg(test)]
mod tests;
