//! Unit tests of the verify walk: the lookahead that names an inserted line, and what a torn
//! last line (repairable) looks like next to damage inside the file (not repairable).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::*;
use crate::tamper::{Anchor, Tamper, TamperKind, VerifySummary};
use crate::time::Timestamp;
use crate::vocab::Action;

/// A valid chain of `n` entries.
fn chain(n: u64) -> Vec<Entry> {
    let mut prev = GENESIS_PREV.to_owned();
    (1..=n)
        .map(|seq| {
            let mut e = Entry {
                version: ENTRY_VERSION,
                seq,
                time: Timestamp::parse("2026-03-01T09:00:00Z").unwrap(),
                actor: format!("operator-{seq}"),
                action: Action::Note,
                camera: Some("cam-entrance".into()),
                window: None,
                purpose: None,
                basis: None,
                recipient: None,
                reason: format!("entry {seq}"),
                manifest_sha256: None,
                operator_tracklets: Vec::new(),
                prev: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.compute_hash().unwrap();
            prev = e.hash.clone();
            e
        })
        .collect()
}

/// A well-formed entry that claims `e`'s place in the chain (same seq and prev, other text).
fn forged_in_place_of(e: &Entry) -> Entry {
    let mut f = e.clone();
    f.actor = "forger".into();
    f.hash = f.compute_hash().unwrap();
    f
}

fn line(e: &Entry) -> Vec<u8> {
    e.to_line().unwrap()
}

/// The lines joined, each ending in a newline.
fn file(lines: &[Vec<u8>]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect()
}

fn verify(bytes: &[u8], anchor: Option<&Anchor>) -> VerifySummary {
    verify_reader(bytes, Path::new("audit.jsonl"), anchor).unwrap()
}

fn anchor_of(e: &Entry) -> Option<Anchor> {
    Some(Anchor {
        seq: e.seq,
        hash: e.hash.clone(),
    })
}

#[test]
fn peek_shows_the_line_next_line_then_returns() {
    let entries = chain(2);
    let mut bytes = file(&[line(&entries[0])]);
    bytes.extend_from_slice(b"torn");
    let mut lines = Lines::new(&bytes[..], Path::new("audit.jsonl"));
    let peeked = lines.peek().unwrap().unwrap();
    assert_eq!((peeked.number, peeked.terminated), (1, true));
    // Peeking twice reads nothing more.
    assert_eq!(lines.peek().unwrap().unwrap().number, 1);
    let first = lines.next_line().unwrap().unwrap();
    assert_eq!(first.number, 1);
    assert_eq!(first.entry.ok(), Some(entries[0].clone()));
    let torn = lines.peek().unwrap().unwrap();
    assert_eq!((torn.number, torn.len, torn.terminated), (2, 4, false));
    assert!(torn.complete_entry().is_none());
    assert_eq!(lines.next_line().unwrap().unwrap().number, 2);
    assert!(lines.peek().unwrap().is_none());
    assert!(lines.next_line().unwrap().is_none());
    assert_eq!(lines.read, 2);
}

#[test]
fn intact_chain_and_empty_log() {
    let entries = chain(3);
    let s = verify(
        &file(&entries.iter().map(line).collect::<Vec<_>>()),
        anchor_of(&entries[2]).as_ref(),
    );
    assert_eq!((s.entries, s.problem), (3, None));
    assert_eq!(s.head, anchor_of(&entries[2]));
    let s = verify(b"", None);
    assert_eq!((s.entries, s.head, s.problem), (0, None, None));
}

/// A forged line before the real line 2 takes line 2's place; the lookahead sees the real one
/// chain to line 1 too, so the forged line is named and never counted as good.
#[test]
fn lookahead_names_a_line_whose_place_the_next_line_takes() {
    let entries = chain(4);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    lines.insert(1, line(&forged_in_place_of(&entries[1])));
    let s = verify(&file(&lines), None);
    assert_eq!(
        s.problem,
        Some(Tamper {
            line: 2,
            kind: TamperKind::Inserted
        })
    );
    assert_eq!(s.entries, 1);
    assert_eq!(s.head, anchor_of(&entries[0]));
}

#[test]
fn lookahead_on_the_first_line_leaves_no_head() {
    let entries = chain(2);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    lines.insert(0, line(&forged_in_place_of(&entries[0])));
    let s = verify(&file(&lines), None);
    assert_eq!(
        s.problem.map(|p| (p.line, p.kind)),
        Some((1, TamperKind::Inserted))
    );
    assert_eq!((s.entries, s.head), (0, None));
}

/// An exact copy has the same hash: the lookahead accepts the original, and the copy is named.
#[test]
fn exact_copy_is_named_at_the_copy_not_the_original() {
    let entries = chain(3);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    lines.insert(2, lines[1].clone());
    let s = verify(&file(&lines), None);
    assert_eq!(
        s.problem.map(|p| (p.line, p.kind)),
        Some((3, TamperKind::Inserted))
    );
    assert_eq!(s.entries, 2);
    assert_eq!(s.head, anchor_of(&entries[1]));
}

/// The anchor is checked before the lookahead: a forged entry at the anchored seq is a
/// rewrite of the anchored entry first.
#[test]
fn anchor_mismatch_is_found_before_the_lookahead() {
    let entries = chain(3);
    let forged = forged_in_place_of(&entries[1]);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    lines.insert(1, line(&forged));
    let s = verify(&file(&lines), anchor_of(&entries[1]).as_ref());
    let p = s.problem.unwrap();
    assert_eq!(p.line, 2);
    assert_eq!(
        p.kind,
        TamperKind::AnchorMismatch {
            anchor_hash: entries[1].hash.clone(),
            found_hash: forged.hash
        }
    );
    assert_eq!(s.entries, 1);
}

/// A torn last line is the one problem `repair_torn_tail` accepts: every line before it
/// still counts, however the torn bytes look.
#[test]
fn torn_last_line_is_truncated_and_the_lines_before_it_count() {
    let entries = chain(3);
    let mut bytes = file(&entries[..2].iter().map(line).collect::<Vec<_>>());
    let third = line(&entries[2]);
    bytes.extend_from_slice(&third[..third.len() / 2]);
    let s = verify(&bytes, None);
    assert_eq!(
        s.problem,
        Some(Tamper {
            line: 3,
            kind: TamperKind::TruncatedLastLine {
                bytes: (third.len() / 2) as u64
            }
        })
    );
    assert_eq!((s.entries, s.head), (2, anchor_of(&entries[1])));
}

/// Lost only its newline: the entry is complete but still not accepted (the write did not
/// finish), and it is not taken as evidence of an insertion either.
#[test]
fn complete_entry_without_newline_is_still_truncated() {
    let entries = chain(3);
    let mut bytes = file(&entries.iter().map(line).collect::<Vec<_>>());
    bytes.pop();
    let s = verify(&bytes, None);
    let torn_bytes = line(&entries[2]).len() as u64;
    assert_eq!(
        s.problem,
        Some(Tamper {
            line: 3,
            kind: TamperKind::TruncatedLastLine { bytes: torn_bytes }
        })
    );
    assert_eq!(s.entries, 2);
    // The torn line would take line 2's place, but only complete lines count as the chain
    // going on: line 2 stays good.
    let mut lines: Vec<_> = entries[..2].iter().map(line).collect();
    lines.push(line(&forged_in_place_of(&entries[1])));
    let mut bytes = file(&lines);
    bytes.pop();
    let s = verify(&bytes, None);
    let p = s.problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(matches!(p.kind, TamperKind::TruncatedLastLine { .. }), "{p}");
    assert_eq!(s.entries, 2);
}

/// A line cut short but followed by a newline is damage inside the file, not a torn tail:
/// it is named as what it is, never as [`TamperKind::TruncatedLastLine`].
#[test]
fn line_cut_inside_the_file_is_malformed_not_truncated() {
    let entries = chain(4);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    let half = lines[1].len() / 2;
    lines[1].truncate(half);
    let s = verify(&file(&lines), None);
    let p = s.problem.unwrap();
    assert_eq!(p.line, 2);
    assert!(matches!(p.kind, TamperKind::Malformed { .. }), "{p}");
    assert_eq!(s.entries, 1);
}

/// A faulty line followed by a torn one: the torn line does not count as the chain going on,
/// so the fault is named for itself rather than as an insertion.
#[test]
fn faulty_line_before_a_torn_one_is_not_an_insertion() {
    let entries = chain(3);
    let mut lines: Vec<_> = entries.iter().map(line).collect();
    lines.insert(1, b"{\"not\":\"an entry\"}".to_vec());
    let s = verify(&file(&lines), None);
    assert_eq!(
        s.problem.map(|p| (p.line, p.kind)),
        Some((2, TamperKind::Inserted))
    );
    let mut bytes = file(&lines[..3]);
    bytes.pop();
    let s = verify(&bytes, None);
    let p = s.problem.unwrap();
    assert_eq!(p.line, 2);
    assert!(matches!(p.kind, TamperKind::Malformed { .. }), "{p}");
}

#[test]
fn missing_end_is_reported_after_the_last_line() {
    let entries = chain(3);
    let bytes = file(&entries[..2].iter().map(line).collect::<Vec<_>>());
    let s = verify(&bytes, anchor_of(&entries[2]).as_ref());
    assert_eq!(
        s.problem,
        Some(Tamper {
            line: 3,
            kind: TamperKind::MissingAtEnd {
                anchor_seq: 3,
                last_seq: 2
            }
        })
    );
    assert_eq!(s.entries, 2);
}
