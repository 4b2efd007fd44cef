//! Shared helpers: fresh temp dirs, timestamps, sample entries.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use veil_audit::{Action, AuditLog, LegalBasis, NewEntry, Timestamp, Window};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory under cargo's per-target temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("veil-audit-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub fn purposes() -> Vec<String> {
    vec!["security".to_string(), "safety of visitors".to_string()]
}

/// The i-th sample entry: a mix of actions, all valid for `purposes()`.
pub fn sample_entry(i: usize) -> NewEntry {
    let window = Window::new(t("2026-03-01T09:00:00Z"), t("2026-03-01T09:10:00Z")).unwrap();
    match i % 4 {
        0 => NewEntry::new(format!("operator-{i}"), Action::View, "check reported break-in")
            .camera("cam-entrance")
            .window(window)
            .purpose("security"),
        1 => NewEntry::new("j.jansen", Action::Export, "inzage export, bystanders blurred")
            .camera("cam-entrance")
            .window(window)
            .purpose("inzage")
            .basis("inzage:AR-2026-12".parse::<LegalBasis>().unwrap())
            .manifest_sha256(veil_audit::sha256_hex(format!("manifest {i}").as_bytes())),
        2 => NewEntry::new(
            "j.jansen",
            Action::Disclose,
            "order for the break-in: \"urgent\"\nsee file",
        )
        .camera("cam-entrance")
        .window(window)
        .recipient("Politie eenheid Noord")
        .basis("police-order:PV-2026-0142".parse().unwrap()),
        _ => NewEntry::new("security-lead", Action::Hold, "incident opened — ruit ingeslagen")
            .camera("cam-entrance")
            .window(window)
            .basis("incident:INC-31".parse().unwrap()),
    }
}

/// A log of `n` sample entries at fixed times.
pub fn make_log(name: &str, n: usize) -> (PathBuf, AuditLog) {
    let dir = temp_dir(name);
    let path = dir.join("audit.jsonl");
    let log = AuditLog::new(&path);
    let base = t("2026-03-01T10:00:00Z");
    for i in 0..n {
        let time = base.checked_add_seconds(60 * i as i64).unwrap();
        log.append_at(&sample_entry(i), &purposes(), time).unwrap();
    }
    (path, log)
}

pub fn read_lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(str::to_owned).collect()
}

pub fn write_lines(path: &std::path::Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}
