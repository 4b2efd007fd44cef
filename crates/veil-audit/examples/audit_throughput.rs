//! Measures append (fsync-bound) and verify throughput of the audit log.
//!
//! `cargo run --release -p veil-audit --example audit_throughput -- [APPENDS] [VERIFY_ENTRIES]`
//! (defaults 200 and 100000). Writes into a temp directory and removes it afterwards.

use std::io::Write;
use std::time::Instant;

use veil_audit::{
    verify_file, Action, AuditError, AuditLog, Entry, NewEntry, Timestamp, Window, ENTRY_VERSION,
    GENESIS_PREV,
};

fn main() -> Result<(), AuditError> {
    let mut args = std::env::args().skip(1);
    let appends: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let verify_entries: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("veil-audit-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| AuditError::Io {
        path: dir.clone(),
        op: "mkdir",
        source,
    })?;
    let window = Window::new(
        Timestamp::parse("2026-03-01T09:00:00Z")?,
        Timestamp::parse("2026-03-01T09:10:00Z")?,
    )?;
    let purposes = vec!["security".to_string()];

    // Appends through the real path: lock, read tail, write, fsync.
    let log = AuditLog::new(dir.join("append.jsonl"));
    let entry = NewEntry::new("operator", Action::View, "check reported break-in")
        .camera("cam-entrance")
        .window(window)
        .purpose("security");
    let start = Instant::now();
    for _ in 0..appends {
        log.append(&entry, &purposes)?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "append: {appends} entries in {secs:.3} s = {:.0} appends/s (each fsynced)",
        appends as f64 / secs
    );

    // A large log written directly (no fsync per line), then verified.
    let path = dir.join("verify.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|source| AuditError::Io {
        path: path.clone(),
        op: "create",
        source,
    })?);
    let mut prev = GENESIS_PREV.to_owned();
    let t0 = Timestamp::parse("2026-03-01T10:00:00Z")?;
    for seq in 1..=verify_entries {
        let mut e = Entry {
            version: ENTRY_VERSION,
            seq,
            time: t0.checked_add_seconds(seq as i64).unwrap_or(t0),
            actor: "operator".into(),
            action: Action::View,
            camera: Some("cam-entrance".into()),
            window: Some(window),
            purpose: Some("security".into()),
            basis: None,
            recipient: None,
            reason: "check reported break-in".into(),
            manifest_sha256: None,
            operator_tracklets: Vec::new(),
            prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash()?;
        let mut line = e.to_line()?;
        line.push(b'\n');
        out.write_all(&line).map_err(|source| AuditError::Io {
            path: path.clone(),
            op: "write",
            source,
        })?;
        prev = e.hash;
    }
    out.flush().map_err(|source| AuditError::Io {
        path: path.clone(),
        op: "write",
        source,
    })?;
    drop(out);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let start = Instant::now();
    let summary = verify_file(&path)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "verify: {} entries ({:.1} MB) in {secs:.3} s = {:.0} entries/s; intact: {}",
        summary.entries,
        size as f64 / 1e6,
        summary.entries as f64 / secs,
        summary.is_intact()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
