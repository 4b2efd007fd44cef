//! Unit tests of the site configuration ([`crate::load_camera`]) and the metrics
//! ([`crate::Metrics`], [`crate::serve_metrics`]).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::{load_camera, AuditTarget, Event, IndexEntry, Metrics, RecordError, SiteConfig};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("veil-site-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn site(dir: &Path) -> SiteConfig {
    SiteConfig::new(
        dir.join("cameras"),
        dir.join("rec"),
        AuditTarget {
            log: dir.join("audit.jsonl"),
            actor: "t".into(),
        },
    )
}

const CAMERA: &str = "[camera]\nid = \"c1\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n";

#[test]
fn a_zone_file_with_a_url_is_a_camera_with_its_own_settings() {
    let d = scratch("load");
    let f = d.join("c1.toml");
    std::fs::write(&f, format!("{CAMERA}url = \"rtsp://10.0.0.5/s1\"\nsegment = \"10s\"\nretention = \"7d\"\npreset = \"ultrafast\"\ncrf = 23\nrtsp_transport = \"tcp\"\n")).unwrap();
    let mut s = site(&d);
    s.max_disk = Some(1 << 30);
    let cam = load_camera(&f, &s).unwrap().unwrap();
    let c = &cam.config;
    assert_eq!(c.input, "rtsp://10.0.0.5/s1");
    assert_eq!(c.segment.as_secs(), 10);
    assert_eq!(c.retention.as_secs(), 7 * 86_400);
    assert_eq!((c.encode.preset.as_str(), c.encode.crf), ("ultrafast", 23));
    assert_eq!(
        c.input_options,
        vec![("rtsp_transport".to_string(), "tcp".to_string())]
    );
    assert_eq!(c.max_disk, Some(1 << 30), "the site's budget");
    assert_eq!(c.dir, d.join("rec"));
    assert!(c.credentials.is_none());
    // Without a url it is a camera this site does not record.
    std::fs::write(&f, CAMERA).unwrap();
    assert!(load_camera(&f, &s).unwrap().is_none());
    // A bad setting names the file.
    std::fs::write(&f, format!("{CAMERA}url = \"rtsp://x/\"\npreset = \"quick\"\n")).unwrap();
    let e = load_camera(&f, &s).unwrap_err().to_string();
    assert!(e.contains("c1.toml") && e.contains("quick"), "{e}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn credentials_come_from_a_private_file_or_the_environment_and_never_show() {
    let d = scratch("creds");
    let f = d.join("c1.toml");
    let secret = d.join("c1.secret");
    std::fs::write(&secret, "admin:hunter2\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        &f,
        format!("{CAMERA}url = \"rtsp://x/\"\ncredentials_file = \"c1.secret\"\n"),
    )
    .unwrap();
    let e = load_camera(&f, &site(&d)).unwrap_err();
    assert!(matches!(e, RecordError::InvalidOption { .. }));
    assert!(e.to_string().contains("chmod 600"), "{e}");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cam = load_camera(&f, &site(&d)).unwrap().unwrap();
    assert!(cam.config.credentials.is_some());
    assert!(!format!("{:?}", cam.config).contains("hunter2"));
    // A changed password is a changed camera (restarted by a reload).
    std::fs::write(&secret, "admin:hunter3\n").unwrap();
    let again = load_camera(&f, &site(&d)).unwrap().unwrap();
    assert_ne!(
        format!("{:?}", cam.fingerprint()),
        format!("{:?}", again.fingerprint())
    );
    std::fs::write(
        &f,
        format!("{CAMERA}url = \"rtsp://x/\"\ncredentials_env = \"VEIL_TEST_NO_SUCH_VAR\"\n"),
    )
    .unwrap();
    let e = load_camera(&f, &site(&d)).unwrap_err().to_string();
    assert!(e.contains("VEIL_TEST_NO_SUCH_VAR"), "{e}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn metrics_count_events_per_camera_and_are_served_on_loopback_only() {
    let m = Metrics::new();
    let d = scratch("metrics");
    std::fs::write(d.join("a.mp4"), vec![0u8; 1234]).unwrap();
    let entry: IndexEntry = serde_json::from_str(
        r#"{"version":1,"file":"a.mp4","start":"2026-03-01T09:00:00Z","end":"2026-03-01T09:00:02Z","frames":20,"sha256":"00","gaps":[]}"#,
    )
    .unwrap();
    m.observe("c1", &d, &Event::SegmentClosed(entry));
    m.observe(
        "c1",
        &d,
        &Event::Lagging {
            lag: std::time::Duration::from_millis(2500),
            at: veil_audit::Timestamp::now(),
            preset: Some("superfast".into()),
            shed: "load shed".into(),
        },
    );
    m.observe(
        "c1",
        &d,
        &Event::Capacity(crate::Capacity {
            bytes_per_hour: 3600.0,
            room: 86_400,
            days_fit: 1.0,
            retention: std::time::Duration::from_secs(28 * 86_400),
        }),
    );
    let text = m.render();
    assert!(text.contains("\nveil_record_site_days_fit 1.00\n"), "{text}");
    assert!(
        text.contains("\nveil_record_site_retention_days 28.00\n"),
        "{text}"
    );
    assert!(
        text.contains("veil_record_segments_total{camera=\"c1\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("veil_record_frames_recorded_total{camera=\"c1\"} 20\n"),
        "{text}"
    );
    assert!(
        text.contains("veil_record_bytes_total{camera=\"c1\"} 1234\n"),
        "{text}"
    );
    assert!(
        text.contains("veil_record_lag_seconds{camera=\"c1\"} 2.500\n"),
        "{text}"
    );
    assert!(
        text.contains("veil_record_preset_info{camera=\"c1\",preset=\"superfast\"} 1\n"),
        "{text}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let e =
        crate::serve_metrics("0.0.0.0:0".parse().unwrap(), Arc::clone(&m), Arc::clone(&stop)).unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let h = crate::serve_metrics(addr, Arc::clone(&m), Arc::clone(&stop)).unwrap();
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let ok = get("/metrics");
    assert!(ok.starts_with("HTTP/1.0 200 OK\r\n"), "{ok}");
    assert!(ok.ends_with(&text), "{ok}");
    assert!(get("/other").starts_with("HTTP/1.0 404"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    h.join().unwrap();
    std::fs::remove_dir_all(d).unwrap();
}
