//! Append, verify and the tamper cases.

use veil_audit::{
    sha256_hex, verify_file, verify_file_with_anchor, Anchor, AuditError, Entry, TamperKind, GENESIS_PREV,
};

use crate::common::{make_log, purposes, read_lines, sample_entry, t, temp_dir, write_lines};

#[test]
fn intact_log_verifies_and_chains() {
    let (path, log) = make_log("intact", 6);
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact(), "{:?}", s.problem);
    assert_eq!(s.entries, 6);
    let entries = log.read_entries().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0].prev, GENESIS_PREV);
    for (i, pair) in entries.windows(2).enumerate() {
        assert_eq!(pair[1].prev, pair[0].hash, "entry {}", i + 2);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    assert_eq!(
        s.head,
        Some(Anchor {
            seq: 6,
            hash: entries[5].hash.clone()
        })
    );
    assert_eq!(
        entries[1].manifest_sha256.as_deref(),
        Some(sha256_hex(b"manifest 1").as_str())
    );
}

#[test]
fn empty_log_is_intact() {
    let dir = temp_dir("empty");
    let path = dir.join("audit.jsonl");
    std::fs::write(&path, b"").unwrap();
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact());
    assert_eq!((s.entries, s.head), (0, None));
}

#[test]
fn missing_log_is_an_io_error_naming_the_file() {
    let dir = temp_dir("missing");
    let err = verify_file(dir.join("nope.jsonl")).unwrap_err();
    assert!(matches!(err, AuditError::Io { op: "open", .. }));
    assert!(err.to_string().contains("nope.jsonl"));
}

/// The documented algorithm, re-implemented from the crate docs without the crate's JSON
/// types: strip `,"hash":"<64 hex>"}`, append `}`, SHA-256; check `prev` and `seq`.
#[test]
fn auditor_reimplementation_agrees() {
    let (path, _log) = make_log("auditor", 8);
    let mut prev = "0".repeat(64);
    for (i, line) in read_lines(&path).iter().enumerate() {
        let suffix_at = line.len() - 75;
        let (body, suffix) = line.split_at(suffix_at);
        assert!(
            suffix.starts_with(",\"hash\":\"") && suffix.ends_with("\"}"),
            "line {i}: {suffix}"
        );
        let stored = &suffix[9..73];
        let canonical = format!("{body}}}");
        assert_eq!(sha256_hex(canonical.as_bytes()), stored, "line {}", i + 1);
        assert!(body.starts_with(&format!("{{\"version\":1,\"seq\":{},\"time\":\"", i + 1)));
        assert!(body.ends_with(&format!(",\"prev\":\"{prev}\"")), "line {}", i + 1);
        prev = stored.to_owned();
    }
}

#[test]
fn time_is_utc_rfc3339() {
    let (path, log) = make_log("time", 1);
    let e = &log.read_entries().unwrap()[0];
    assert_eq!(e.time.to_string(), "2026-03-01T10:00:00Z");
    assert!(read_lines(&path)[0].contains("\"time\":\"2026-03-01T10:00:00Z\""));
    // Offsets are converted to UTC.
    assert_eq!(t("2026-03-01T11:00:00+01:00"), t("2026-03-01T10:00:00Z"));
}

#[test]
fn flipped_byte_is_altered_entry() {
    let (path, _log) = make_log("flip", 5);
    let mut lines = read_lines(&path);
    lines[2] = lines[2].replacen("Politie", "Polihie", 1);
    let original_line3 = read_lines(&path)[2].clone();
    assert_ne!(lines[2], original_line3, "sample 2 must contain the text flipped");
    write_lines(&path, &lines);
    let s = verify_file(&path).unwrap();
    let p = s.problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(matches!(p.kind, TamperKind::Altered { .. }), "{p}");
    assert_eq!(s.entries, 2);
}

/// Flipping any single bit-0 of any byte of line 3 (including its newline) is detected at
/// line 3.
#[test]
fn every_single_byte_flip_is_detected_at_its_line() {
    let (path, _log) = make_log("flip-all", 5);
    let original = std::fs::read(&path).unwrap();
    let line3_start = original
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1;
    let line3_end = original
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(2)
        .unwrap()
        .0;
    for pos in line3_start..=line3_end {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let s = verify_file(&path).unwrap();
        let p = s
            .problem
            .unwrap_or_else(|| panic!("flip at byte {pos} not detected"));
        assert_eq!(p.line, 3, "flip at byte {pos}: {p}");
    }
}

#[test]
fn deleted_line_is_reported_removed() {
    let (path, _log) = make_log("delete", 5);
    let mut lines = read_lines(&path);
    lines.remove(2);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert_eq!(
        p.kind,
        TamperKind::Removed {
            expected_seq: 3,
            found_seq: 4
        }
    );
}

#[test]
fn deleted_first_line_is_reported_removed() {
    let (path, _log) = make_log("delete-first", 3);
    let mut lines = read_lines(&path);
    lines.remove(0);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(
        (p.line, p.kind),
        (
            1,
            TamperKind::Removed {
                expected_seq: 1,
                found_seq: 2
            }
        )
    );
}

#[test]
fn swapped_lines_are_reported_reordered() {
    let (path, _log) = make_log("swap", 5);
    let mut lines = read_lines(&path);
    lines.swap(2, 3);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert_eq!(
        p.kind,
        TamperKind::Reordered {
            expected_seq: 3,
            found_seq: 4
        }
    );
}

/// A forger who knows the format inserts a well-formed entry with a correct seq, prev and
/// hash after line 2: the original line 3 (now line 4) no longer chains, and verify names
/// line 3 as the insertion.
#[test]
fn forged_inserted_line_is_reported_inserted() {
    let (path, log) = make_log("insert", 5);
    let entries = log.read_entries().unwrap();
    let mut forged: Entry = entries[2].clone();
    forged.actor = "nobody".into();
    forged.reason = "this never happened".into();
    forged.prev = entries[1].hash.clone();
    forged.hash = forged.compute_hash().unwrap();
    let forged_line = String::from_utf8(forged.to_line().unwrap()).unwrap();
    let mut lines = read_lines(&path);
    lines.insert(2, forged_line);
    write_lines(&path, &lines);
    let s = verify_file(&path).unwrap();
    let p = s.problem.unwrap();
    assert_eq!((p.line, p.kind), (3, TamperKind::Inserted));
    assert_eq!(s.entries, 2);
    assert_eq!(
        s.head,
        Some(Anchor {
            seq: 2,
            hash: entries[1].hash.clone()
        })
    );
}

/// A crude forgery (a copied line with an edited field, hash not recomputed) is also named
/// as an insertion, because the next line chains to the one before it.
#[test]
fn crude_inserted_line_is_reported_inserted() {
    let (path, _log) = make_log("insert-crude", 4);
    let mut lines = read_lines(&path);
    let crude = lines[1].replacen("j.jansen", "x.forger", 1);
    lines.insert(2, crude);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!((p.line, p.kind), (3, TamperKind::Inserted));
}

/// Rewriting an entry and recomputing its own hash leaves it self-consistent, but the next
/// entry's `prev` no longer matches.
#[test]
fn rewritten_entry_with_recomputed_hash_breaks_the_chain() {
    let (path, log) = make_log("rewrite", 5);
    let entries = log.read_entries().unwrap();
    let mut e = entries[1].clone();
    e.reason = "nothing to see".into();
    e.hash = e.compute_hash().unwrap();
    let mut lines = read_lines(&path);
    lines[1] = String::from_utf8(e.to_line().unwrap()).unwrap();
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(matches!(p.kind, TamperKind::ChainBroken { .. }), "{p}");
}

#[test]
fn reformatted_line_is_not_canonical() {
    let (path, _log) = make_log("reformat", 3);
    let mut lines = read_lines(&path);
    lines[1] = lines[1].replacen("{\"version\":1,", "{\"version\": 1,", 1);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!((p.line, p.kind), (2, TamperKind::NotCanonical));
}

#[test]
fn truncated_last_line_is_detected_and_append_refuses() {
    let (path, log) = make_log("truncate", 5);
    let bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() - 40;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let s = verify_file(&path).unwrap();
    let p = s.problem.unwrap();
    assert_eq!(p.line, 5);
    assert!(matches!(p.kind, TamperKind::TruncatedLastLine { .. }), "{p}");
    assert_eq!(s.entries, 4);

    let err = log.append(&sample_entry(0), &purposes()).unwrap_err();
    assert!(matches!(err, AuditError::TruncatedLog { .. }), "{err}");
    assert!(err.to_string().contains("incomplete line"), "{err}");
    // Nothing was written.
    assert_eq!(std::fs::read(&path).unwrap().len(), cut);
}

#[test]
fn complete_last_line_without_newline_is_still_truncated() {
    let (path, log) = make_log("no-newline", 3);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(matches!(p.kind, TamperKind::TruncatedLastLine { .. }));
    assert!(matches!(
        log.append(&sample_entry(0), &purposes()),
        Err(AuditError::TruncatedLog { .. })
    ));
}

#[test]
fn append_refuses_a_corrupt_last_entry() {
    let (path, log) = make_log("corrupt-tail", 3);
    let mut lines = read_lines(&path);
    lines[2] = lines[2].replacen("j.jansen", "j.janzen", 1);
    write_lines(&path, &lines);
    let err = log.append(&sample_entry(0), &purposes()).unwrap_err();
    assert!(matches!(err, AuditError::CorruptTail { .. }), "{err}");
}

#[test]
fn removing_the_last_entry_needs_an_anchor_to_detect() {
    let (path, _log) = make_log("anchor", 5);
    let anchor = verify_file(&path).unwrap().head.unwrap();
    assert_eq!(anchor.seq, 5);
    let mut lines = read_lines(&path);
    lines.pop();
    write_lines(&path, &lines);
    // The chain alone cannot tell a shorter log from an older one...
    assert!(verify_file(&path).unwrap().is_intact());
    // ...the anchor can.
    let p = verify_file_with_anchor(&path, &anchor).unwrap().problem.unwrap();
    assert_eq!(
        p.kind,
        TamperKind::MissingAtEnd {
            anchor_seq: 5,
            last_seq: 4
        }
    );
}

#[test]
fn rewritten_chain_is_detected_by_anchor() {
    let (path, log) = make_log("anchor-rewrite", 3);
    let anchor = verify_file(&path).unwrap().head.unwrap();
    // Rebuild the whole chain with one altered entry and all hashes recomputed.
    let mut entries = log.read_entries().unwrap();
    entries[0].reason = "rewritten".into();
    let mut prev = GENESIS_PREV.to_owned();
    let mut lines = Vec::new();
    for e in &mut entries {
        e.prev = prev;
        e.hash = e.compute_hash().unwrap();
        prev = e.hash.clone();
        lines.push(String::from_utf8(e.to_line().unwrap()).unwrap());
    }
    write_lines(&path, &lines);
    assert!(verify_file(&path).unwrap().is_intact());
    let p = verify_file_with_anchor(&path, &anchor).unwrap().problem.unwrap();
    assert_eq!(p.line, 3);
    assert!(matches!(p.kind, TamperKind::AnchorMismatch { .. }));
}

#[test]
fn append_continues_the_chain_after_reopen() {
    let (path, _log) = make_log("reopen", 2);
    let log2 = veil_audit::AuditLog::new(&path);
    let e = log2.append(&sample_entry(0), &purposes()).unwrap();
    assert_eq!(e.seq, 3);
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact());
    assert_eq!(s.head.unwrap().hash, e.hash);
}

#[test]
fn long_entries_are_found_by_the_backward_tail_scan() {
    // Entries longer than the 8 KiB read block.
    let dir = temp_dir("long");
    let path = dir.join("audit.jsonl");
    let log = veil_audit::AuditLog::new(&path);
    for i in 0..3 {
        let mut e = sample_entry(0);
        e.reason = format!("{i}: {}", "x".repeat(20_000));
        log.append(&e, &purposes()).unwrap();
    }
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact());
    assert_eq!(s.entries, 3);
}

#[test]
fn torn_tail_repair_saves_the_bytes_and_records_itself() {
    let (path, log) = make_log("repair", 5);
    let bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() - 40;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let line5_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let torn = &bytes[line5_start..cut];

    let repair = log.repair_torn_tail("dpo").unwrap().unwrap();
    assert_eq!(repair.bytes, torn.len() as u64);
    assert_eq!(std::fs::read(&repair.saved_to).unwrap(), torn);
    assert_eq!(repair.sha256, sha256_hex(torn));
    assert!(repair
        .saved_to
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .ends_with("audit.jsonl.torn-5"));
    assert_eq!(
        (repair.entry.seq, repair.entry.action),
        (5, veil_audit::Action::ConfigChange)
    );
    assert!(repair.entry.reason.contains(&repair.sha256));

    let s = verify_file(&path).unwrap();
    assert!(s.is_intact(), "{s}");
    assert_eq!(s.entries, 5);
    // Appending works again, and a second repair has nothing to do.
    assert_eq!(log.append(&sample_entry(0), &purposes()).unwrap().seq, 6);
    assert_eq!(log.repair_torn_tail("dpo").unwrap(), None);
}

#[test]
fn torn_tail_repair_refuses_a_tampered_log() {
    let (path, log) = make_log("repair-tampered", 4);
    let mut lines = read_lines(&path);
    lines.remove(1);
    let mut text = lines.join("\n");
    text.push_str("\n{\"version\":1,\"seq\"");
    std::fs::write(&path, &text).unwrap();
    let err = log.repair_torn_tail("dpo").unwrap_err();
    assert!(matches!(err, AuditError::CorruptTail { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "nothing may change"
    );
}

/// A repair that cannot be recorded (blank actor) must not happen at all: before the fix the
/// torn bytes were cut off and saved, and only then was the `config-change` note refused,
/// leaving an unrecorded cut.
#[test]
fn torn_tail_repair_with_a_blank_actor_changes_nothing() {
    let (path, log) = make_log("repair-blank-actor", 3);
    let bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() - 25;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let err = log.repair_torn_tail("  ").unwrap_err();
    assert!(matches!(err, AuditError::MissingField { .. }), "{err}");
    assert!(
        std::fs::read(&path).unwrap() == bytes[..cut],
        "the log must not be cut"
    );
    let saved = path.with_file_name("audit.jsonl.torn-3");
    assert!(!saved.exists(), "nothing may be saved aside");
    // With an actor the repair then goes through as usual.
    let repair = log.repair_torn_tail("dpo").unwrap().unwrap();
    assert_eq!(repair.saved_to, saved);
    assert!(verify_file(&path).unwrap().is_intact());
}

#[test]
fn summary_display_names_the_problem() {
    let (path, _log) = make_log("display", 4);
    let mut lines = read_lines(&path);
    lines.swap(1, 2);
    write_lines(&path, &lines);
    let text = verify_file(&path).unwrap().to_string();
    assert!(
        text.contains("NOT INTACT: line 2: entries reordered (expected seq 2, found seq 3)"),
        "{text}"
    );
}

#[test]
fn now_is_millisecond_utc_and_manifest_hash_of_a_file() {
    let dir = temp_dir("now");
    let path = dir.join("audit.jsonl");
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, b"{\"version\":1}").unwrap();
    let hash = veil_audit::sha256_file(&manifest).unwrap();
    assert_eq!(hash, sha256_hex(b"{\"version\":1}"));
    let e =
        veil_audit::append_entry(&path, &sample_entry(1).manifest_sha256(hash.clone()), &purposes()).unwrap();
    assert_eq!(e.manifest_sha256, Some(hash));
    let time = e.time.to_string();
    assert!(time.ends_with('Z'), "{time}");
    let fraction = time.split_once('.').map_or("", |(_, f)| f.trim_end_matches('Z'));
    assert!(fraction.len() <= 3, "{time}");
}

#[test]
fn duplicated_line_is_reported_at_the_copy() {
    let (path, _log) = make_log("duplicate", 4);
    let mut lines = read_lines(&path);
    let copy = lines[1].clone();
    lines.insert(2, copy);
    write_lines(&path, &lines);
    let s = verify_file(&path).unwrap();
    let p = s.problem.unwrap();
    assert_eq!((p.line, p.kind), (3, TamperKind::Inserted));
    assert_eq!(s.entries, 2);
}

mod props {
    use proptest::prelude::*;
    use veil_audit::{verify_file, AuditLog};

    use crate::common::{make_log, read_lines, write_lines};

    #[derive(Clone, Debug)]
    enum Op {
        Delete(usize),
        Swap(usize, usize),
        InsertForged(usize),
        Alter(usize),
    }

    fn op(n: usize) -> impl Strategy<Value = Op> {
        prop_oneof![
            // Removing the last line is only detectable with an anchor (tested separately).
            (0..n - 1).prop_map(Op::Delete),
            (0..n - 1)
                .prop_flat_map(move |i| (Just(i), i + 1..n))
                .prop_map(|(i, j)| Op::Swap(i, j)),
            (0..n).prop_map(Op::InsertForged),
            (0..n).prop_map(Op::Alter),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any single edit is reported, at the first line it touched.
        #[test]
        fn every_edit_is_found_at_its_first_line((n, op) in (2usize..10).prop_flat_map(|n| (Just(n), op(n)))) {
            let (path, log) = make_log("prop", n);
            let entries = AuditLog::new(&path).read_entries().unwrap();
            let _ = log;
            let mut lines = read_lines(&path);
            let first = match op {
                Op::Delete(i) => { lines.remove(i); i }
                Op::Swap(i, j) => { lines.swap(i, j); i }
                Op::InsertForged(i) => {
                    let mut e = entries[i].clone();
                    e.actor = "forger".into();
                    e.hash = e.compute_hash().unwrap();
                    lines.insert(i, String::from_utf8(e.to_line().unwrap()).unwrap());
                    i
                }
                Op::Alter(i) => { lines[i] = lines[i].replacen("\"reason\":\"", "\"reason\":\"not ", 1); i }
            };
            write_lines(&path, &lines);
            let s = verify_file(&path).unwrap();
            let p = s.problem.clone();
            prop_assert!(p.is_some(), "{:?} not detected", op);
            prop_assert_eq!(p.unwrap().line, first as u64 + 1, "{:?}: {}", op, s);
            prop_assert_eq!(s.entries, first as u64);
        }
    }
}

/// `operator_tracklets` (the tracklets an operator added to an export's requester) is written
/// only when not empty: a line of the format before it existed still verifies, byte for byte,
/// and an export entry with it chains and verifies like any other.
#[test]
fn operator_tracklets_are_an_optional_member() {
    let dir = temp_dir("operator-tracklets");
    let path = dir.join("audit.jsonl");
    // A line as written before the member existed, hashed by hand.
    let body = format!(
        concat!(
            r#"{{"version":1,"seq":1,"time":"2026-03-01T10:00:00Z","actor":"j.jansen","action":"note","#,
            r#""camera":"cam-entrance","window":null,"purpose":null,"basis":null,"recipient":null,"#,
            r#""reason":"before operator tracklets","manifest_sha256":null,"prev":"{}"}}"#
        ),
        GENESIS_PREV
    );
    let hash = sha256_hex(body.as_bytes());
    let old_line = format!("{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1]);
    write_lines(&path, std::slice::from_ref(&old_line));
    let s = verify_file(&path).unwrap();
    assert!(
        s.is_intact(),
        "an entry of the earlier format verifies: {:?}",
        s.problem
    );
    let log = veil_audit::AuditLog::new(&path);
    let old: Entry = log.read_entries().unwrap().remove(0);
    assert!(old.operator_tracklets.is_empty());
    assert_eq!(String::from_utf8(old.to_line().unwrap()).unwrap(), old_line);
    // An export with two tracklets added by its actor.
    let e = sample_entry(1).operator_tracklets(["3.2", "7.3"]);
    let stored = log.append_at(&e, &purposes(), t("2026-03-01T10:01:00Z")).unwrap();
    assert_eq!(stored.operator_tracklets, ["3.2", "7.3"]);
    let lines = read_lines(&path);
    assert!(
        lines[1].contains(r#","operator_tracklets":["3.2","7.3"],"prev":""#),
        "between manifest_sha256 and prev: {}",
        lines[1]
    );
    let s = verify_file(&path).unwrap();
    assert!(s.is_intact(), "{:?}", s.problem);
    assert_eq!(log.read_entries().unwrap()[1], stored);
    // An empty list has one spelling: absent.
    let mut lines = read_lines(&path);
    lines.truncate(1);
    let mut empty = stored.clone();
    empty.operator_tracklets.clear();
    empty.hash = empty.compute_hash().unwrap();
    let spelled = String::from_utf8(empty.to_line().unwrap())
        .unwrap()
        .replace(r#","prev":"#, r#","operator_tracklets":[],"prev":"#);
    lines.push(spelled);
    write_lines(&path, &lines);
    let p = verify_file(&path).unwrap().problem.unwrap();
    assert_eq!(p.line, 2);
    assert!(
        matches!(p.kind, TamperKind::NotCanonical | TamperKind::Altered { .. }),
        "{:?}",
        p.kind
    );
    // Only an export names them, and each is TRACK.INDEX.
    let view = sample_entry(0).operator_tracklets(["3.2"]);
    assert!(matches!(
        view.validate(&purposes()),
        Err(AuditError::InvalidEntry { .. })
    ));
    for bad in ["3", "3.0", "x.2", "3.2 ", ""] {
        let e = sample_entry(1).operator_tracklets([bad]);
        assert!(
            matches!(e.validate(&purposes()), Err(AuditError::InvalidEntry { .. })),
            "{bad:?}"
        );
    }
    assert!(sample_entry(1)
        .operator_tracklets(["12.10"])
        .validate(&purposes())
        .is_ok());
}
