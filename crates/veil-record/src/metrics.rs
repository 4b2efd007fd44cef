//! The recorder's health as counters per camera ([`Metrics`]), and a loopback-only HTTP
//! endpoint serving them in the Prometheus text format ([`serve_metrics`]).
//!
//! The counters are kept from what the recorders report ([`crate::Event`]) and from each
//! frame they read, so that they agree with the index: `veil_record_segments_total` counts
//! the index lines written since start, `veil_record_frames_recorded_total` the frames of
//! those segments, `veil_record_deletions_total` the segments marked deleted.
//!
//! The responder is a few lines of `std::net`: one request at a time, `GET /metrics` (or
//! `/`), HTTP/1.0, the connection closed after the answer. It binds loopback addresses only:
//! camera names and error texts are for the site's own monitoring, not the network.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::{Capacity, Event};
use crate::RecordError;

/// One camera's counters.
#[derive(Debug, Default)]
pub struct CameraStats {
    /// Frames the source sent: decoded, plus those its timestamps show were never received
    /// or never decoded.
    pub frames_in: AtomicU64,
    /// Frames in the segments closed (the index's `frames`, summed).
    pub frames_recorded: AtomicU64,
    /// Frames the source sent that were never recorded (timestamp jumps, gaps inside a
    /// connection).
    pub frames_lost: AtomicU64,
    /// How far recording is behind the source's clock now, in milliseconds.
    pub lag_ms: AtomicU64,
    /// The largest lag seen, in milliseconds.
    pub max_lag_ms: AtomicU64,
    /// Times the camera fell behind by more than the limit (each a mark in the index).
    pub lag_events: AtomicU64,
    /// Times the input was lost or restarted (reconnections).
    pub reconnects: AtomicU64,
    /// Segments closed and indexed.
    pub segments: AtomicU64,
    /// Bytes of the segments closed.
    pub bytes: AtomicU64,
    /// Segments of this camera deleted (retention, requests, early).
    pub deletions: AtomicU64,
    /// Of those, early for the storage budget.
    pub early_deletions: AtomicU64,
    /// 1 while recording is stopped for want of room (protected footage fills it).
    pub stalled: AtomicU64,
    /// 1 while connected and recording.
    pub up: AtomicU64,
    last_error: Mutex<String>,
    preset: Mutex<String>,
    encoder: Mutex<String>,
    decoder: Mutex<(String, bool)>,
}

impl CameraStats {
    /// The last error or warning reported (empty when none).
    pub fn last_error(&self) -> String {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Record an error or warning as the last one.
    pub fn set_error(&self, text: &str) {
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = text.to_string();
    }

    /// The x264 preset the camera records with now.
    pub fn preset(&self) -> String {
        self.preset.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The H.264 encoder the camera records with now (`libx264`, `h264_vaapi` ...; empty
    /// before its first segment).
    pub fn encoder(&self) -> String {
        self.encoder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The decoder the camera's stream is decoded with now (`software`, `vaapi` ...; empty
    /// before its first connection) and whether it is a hardware one.
    pub fn decoder(&self) -> (String, bool) {
        self.decoder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_preset(&self, p: &str) {
        *self.preset.lock().unwrap_or_else(PoisonError::into_inner) = p.to_string();
    }

    pub(crate) fn lag(&self, lag_ms: u64) {
        self.lag_ms.store(lag_ms, Ordering::Relaxed);
        self.max_lag_ms.fetch_max(lag_ms, Ordering::Relaxed);
    }
}

/// The counters of every camera, by camera id.
#[derive(Debug, Default)]
pub struct Metrics {
    cameras: Mutex<BTreeMap<String, Arc<CameraStats>>>,
    /// The site's capacity, as last reported by a recorder.
    capacity: Mutex<Option<Capacity>>,
}

impl Metrics {
    /// No cameras yet.
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// The counters of `camera` (created at zero).
    pub fn camera(&self, camera: &str) -> Arc<CameraStats> {
        let mut m = self.cameras.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(m.entry(camera.to_string()).or_default())
    }

    /// The camera ids with counters.
    pub fn cameras(&self) -> Vec<String> {
        self.cameras
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Count what `camera`'s recorder reported (its directory `cam_dir` gives the sizes of
    /// the segments it closed). A deletion counts for the camera whose segment it was (early
    /// deletion takes the site's oldest footage, any camera's).
    pub fn observe(&self, camera: &str, cam_dir: &Path, event: &Event) {
        let s = self.camera(camera);
        match event {
            Event::Connected { .. } => {
                s.up.store(1, Ordering::Relaxed);
            }
            Event::SegmentClosed(e) => {
                s.segments.fetch_add(1, Ordering::Relaxed);
                s.frames_recorded.fetch_add(e.frames, Ordering::Relaxed);
                if let Ok(m) = std::fs::metadata(cam_dir.join(&e.file)) {
                    s.bytes.fetch_add(m.len(), Ordering::Relaxed);
                }
            }
            Event::Disconnected { reason, .. } => {
                s.up.store(0, Ordering::Relaxed);
                s.lag(0);
                s.reconnects.fetch_add(1, Ordering::Relaxed);
                s.set_error(reason);
            }
            Event::Deleted(d) => {
                let owner = if d.camera == camera {
                    s
                } else {
                    self.camera(&d.camera)
                };
                owner.deletions.fetch_add(1, Ordering::Relaxed);
                if d.early {
                    owner.early_deletions.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Warning(w) => s.set_error(w),
            Event::Encoder(used) => {
                *s.encoder.lock().unwrap_or_else(PoisonError::into_inner) = used.codec.to_string();
            }
            Event::Decoder(used) => {
                *s.decoder.lock().unwrap_or_else(PoisonError::into_inner) =
                    (used.decoder.name().to_string(), used.hardware());
            }
            Event::Stalled(e) => {
                s.stalled.store(1, Ordering::Relaxed);
                s.up.store(0, Ordering::Relaxed);
                s.set_error(e);
            }
            Event::Resumed => s.stalled.store(0, Ordering::Relaxed),
            Event::Capacity(c) => {
                *self.capacity.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
            }
            Event::Lagging { lag, preset, .. } => {
                s.lag_events.fetch_add(1, Ordering::Relaxed);
                s.lag(lag.as_millis() as u64);
                if let Some(p) = preset {
                    s.set_preset(p);
                }
            }
            _ => {}
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every camera's counters.
    pub fn render(&self) -> String {
        let cams: Vec<(String, Arc<CameraStats>)> = self
            .cameras
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        type Get = fn(&CameraStats) -> u64;
        let series: [(&str, &str, &str, Get); 14] = [
            (
                "veil_record_frames_in_total",
                "counter",
                "Frames the source sent (decoded, and missing by its timestamps).",
                |s| load(&s.frames_in),
            ),
            (
                "veil_record_frames_recorded_total",
                "counter",
                "Frames in the segments closed and indexed.",
                |s| load(&s.frames_recorded),
            ),
            (
                "veil_record_frames_lost_total",
                "counter",
                "Frames the source sent that were never recorded.",
                |s| load(&s.frames_lost),
            ),
            (
                "veil_record_lag_seconds",
                "gauge",
                "How far recording is behind the source's clock.",
                |s| load(&s.lag_ms),
            ),
            (
                "veil_record_max_lag_seconds",
                "gauge",
                "The largest lag behind the source's clock since start.",
                |s| load(&s.max_lag_ms),
            ),
            (
                "veil_record_lag_events_total",
                "counter",
                "Times recording fell behind by more than the limit (marked in the index).",
                |s| load(&s.lag_events),
            ),
            (
                "veil_record_reconnects_total",
                "counter",
                "Times the input was lost or restarted.",
                |s| load(&s.reconnects),
            ),
            (
                "veil_record_segments_total",
                "counter",
                "Segments closed and indexed.",
                |s| load(&s.segments),
            ),
            (
                "veil_record_bytes_total",
                "counter",
                "Bytes of the segments closed.",
                |s| load(&s.bytes),
            ),
            (
                "veil_record_deletions_total",
                "counter",
                "Segments deleted (retention, requests, early).",
                |s| load(&s.deletions),
            ),
            (
                "veil_record_early_deletions_total",
                "counter",
                "Segments deleted early for the storage budget.",
                |s| load(&s.early_deletions),
            ),
            (
                "veil_record_stalled",
                "gauge",
                "1 while recording is stopped because protected footage fills the storage (alarm).",
                |s| load(&s.stalled),
            ),
            (
                "veil_record_up",
                "gauge",
                "1 while the camera is connected and recording.",
                |s| load(&s.up),
            ),
            (
                "veil_record_last_error_info",
                "gauge",
                "The last error or warning, as a label.",
                |s| u64::from(!s.last_error().is_empty()),
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, get) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (id, s) in &cams {
                let v = get(s);
                let mut labels = format!("camera=\"{}\"", escape(id));
                if name == "veil_record_last_error_info" {
                    let _ = write!(labels, ",error=\"{}\"", escape(&s.last_error()));
                }
                if name.ends_with("_seconds") {
                    let _ = writeln!(out, "{name}{{{labels}}} {:.3}", v as f64 / 1000.0);
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP veil_record_preset_info The x264 preset each camera records with now.\n# TYPE veil_record_preset_info gauge"
        );
        for (id, s) in &cams {
            let _ = writeln!(
                out,
                "veil_record_preset_info{{camera=\"{}\",preset=\"{}\"}} 1",
                escape(id),
                escape(&s.preset())
            );
        }
        let _ = writeln!(
            out,
            "# HELP veil_record_encoder_info The H.264 encoder each camera records with now (hardware=1 for VAAPI, NVENC, QSV).\n# TYPE veil_record_encoder_info gauge"
        );
        for (id, s) in &cams {
            let e = s.encoder();
            if e.is_empty() {
                continue;
            }
            let hw = u8::from(e != "libx264");
            let _ = writeln!(
                out,
                "veil_record_encoder_info{{camera=\"{}\",encoder=\"{}\",hardware=\"{hw}\"}} 1",
                escape(id),
                escape(&e)
            );
        }
        let _ = writeln!(
            out,
            "# HELP veil_record_decoder_info The decoder each camera's stream is decoded with now (software, or hardware=1 for VAAPI, CUDA, QSV).\n# TYPE veil_record_decoder_info gauge"
        );
        for (id, s) in &cams {
            let (d, hw) = s.decoder();
            if d.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "veil_record_decoder_info{{camera=\"{}\",decoder=\"{}\",hardware=\"{}\"}} 1",
                escape(id),
                escape(&d),
                u8::from(hw)
            );
        }
        let capacity = self
            .capacity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(c) = capacity {
            let _ = writeln!(
                out,
                "# HELP veil_record_site_bytes_per_hour Bytes of footage an hour, every camera, over the last hours.\n# TYPE veil_record_site_bytes_per_hour gauge\nveil_record_site_bytes_per_hour {:.0}",
                c.bytes_per_hour
            );
            let _ = writeln!(
                out,
                "# HELP veil_record_site_days_fit Days of footage that fit in the storage at that rate.\n# TYPE veil_record_site_days_fit gauge\nveil_record_site_days_fit {:.2}",
                c.days_fit
            );
            let _ = writeln!(
                out,
                "# HELP veil_record_site_retention_days The retention period asked.\n# TYPE veil_record_site_retention_days gauge\nveil_record_site_retention_days {:.2}",
                c.retention.as_secs_f64() / 86_400.0
            );
        }
        out
    }
}

fn load(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// A label value escaped as the text format asks (backslash, quote, newline).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serve `metrics` at `addr` (a loopback address) until `stop` is set: `GET /metrics`.
///
/// # Errors
/// [`RecordError::InvalidOption`] for an address that is not loopback, [`RecordError::Io`]
/// when it cannot be bound.
pub fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, RecordError> {
    if !addr.ip().is_loopback() {
        return Err(RecordError::InvalidOption {
            reason: format!(
                "--metrics {addr}: only a loopback address (127.0.0.1:PORT, [::1]:PORT) is served"
            ),
        });
    }
    let io = |op, source| RecordError::Io {
        path: addr.to_string().into(),
        op,
        source,
    };
    let listener = TcpListener::bind(addr).map_err(|e| io("listen on", e))?;
    listener.set_nonblocking(true).map_err(|e| io("listen on", e))?;
    Ok(std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, _)) => answer(conn, &metrics),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }))
}

/// Answer one request; a client that misbehaves gets nothing (best effort).
fn answer(mut conn: TcpStream, metrics: &Metrics) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    // The request line and headers, up to the blank line (at most 8 KiB).
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && !req.windows(2).any(|w| w == b"\n\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
        if req.len() > 8192 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&req);
    let mut words = text.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = match (method, path) {
        ("GET", "/metrics" | "/") => ("200 OK", metrics.render()),
        ("GET", _) => ("404 Not Found", "not found: GET /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "GET /metrics only\n".to_string()),
    };
    let head = format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn
        .write_all(head.as_bytes())
        .and_then(|()| conn.write_all(body.as_bytes()));
}

#[cfg(test)]
mod encoder_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use veil_video::{Encoder, EncoderUsed};

    #[test]
    fn the_encoder_in_use_is_a_label() {
        let m = Metrics::new();
        let dir = std::env::temp_dir();
        m.camera("c1");
        // Before its first segment a camera has no encoder line.
        assert!(!m.render().contains("veil_record_encoder_info{"));
        let used = |encoder, codec| EncoderUsed {
            encoder,
            codec,
            passed_over: Vec::new(),
        };
        m.observe("c1", &dir, &Event::Encoder(used(Encoder::X264, "libx264")));
        assert!(m
            .render()
            .contains("veil_record_encoder_info{camera=\"c1\",encoder=\"libx264\",hardware=\"0\"} 1\n"));
        m.observe("c1", &dir, &Event::Encoder(used(Encoder::Vaapi, "h264_vaapi")));
        let text = m.render();
        assert!(text
            .contains("veil_record_encoder_info{camera=\"c1\",encoder=\"h264_vaapi\",hardware=\"1\"} 1\n"));
        assert!(!text.contains("libx264"));
    }

    #[test]
    fn the_decoder_in_use_is_a_label() {
        use veil_video::{Decoder, DecoderUsed};
        let m = Metrics::new();
        let dir = std::env::temp_dir();
        m.camera("c1");
        assert!(!m.render().contains("veil_record_decoder_info{"));
        let used = |decoder| DecoderUsed {
            decoder,
            codec: "h264".into(),
            passed_over: Vec::new(),
        };
        m.observe("c1", &dir, &Event::Decoder(used(Decoder::Software)));
        assert!(m
            .render()
            .contains("veil_record_decoder_info{camera=\"c1\",decoder=\"software\",hardware=\"0\"} 1\n"));
        m.observe("c1", &dir, &Event::Decoder(used(Decoder::Vaapi)));
        let text = m.render();
        assert!(text.contains("veil_record_decoder_info{camera=\"c1\",decoder=\"vaapi\",hardware=\"1\"} 1\n"));
        assert!(!text.contains("decoder=\"software\""));
    }
}
