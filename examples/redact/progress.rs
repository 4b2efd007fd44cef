//! Progress by stage ("1/2 analysis", "2/2 export") with frames, fps and ETA: a bar on a
//! terminal, or JSON lines on stderr for programs (`--progress-json`), or nothing (`-q`,
//! or stderr not a terminal); and, at the end of an export, where the time went.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use veil::redact::ExportReport;

use crate::output::globals;

/// How often a JSON line is written while a stage runs.
const JSON_PERIOD: Duration = Duration::from_secs(1);

/// A progress reporter for a command of `steps` stages; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Reporter {
    inner: Arc<Mutex<State>>,
}

struct State {
    steps: u32,
    bar: Option<ProgressBar>,
    json: bool,
    /// The stage running: (step, label), its start, frames done and expected.
    stage: Option<(u32, &'static str)>,
    started: Instant,
    done: u64,
    total: Option<u64>,
    last_json: Option<Instant>,
}

impl Reporter {
    /// A reporter for `steps` stages, drawing per the global flags.
    pub fn new(steps: u32) -> Self {
        let g = globals();
        let json = g.progress_json;
        let bar = (!json && !g.quiet && std::io::stderr().is_terminal()).then(ProgressBar::hidden);
        Reporter {
            inner: Arc::new(Mutex::new(State {
                steps: steps.max(1),
                bar,
                json,
                stage: None,
                started: Instant::now(),
                done: 0,
                total: None,
                last_json: None,
            })),
        }
    }

    /// `done` frames of `total` (when known) are finished in stage `step` (1-based), `label`.
    pub fn update(&self, step: u32, label: &'static str, done: u64, total: Option<u64>) {
        let Ok(mut s) = self.inner.lock() else {
            return;
        };
        if s.stage != Some((step, label)) {
            s.end_stage();
            s.begin_stage(step, label);
        }
        s.done = done;
        if total.is_some() {
            s.total = total.map(|t| t.max(done));
        }
        if let Some(bar) = &s.bar {
            if let Some(t) = s.total {
                bar.set_length(t);
            }
            bar.set_position(done);
            bar.set_message(s.rates());
        }
        if s.json && s.last_json.is_some_and(|t| t.elapsed() >= JSON_PERIOD) {
            s.emit_json(false);
        }
    }

    /// The command is over: report the end of the last stage and clear the bar.
    pub fn finish(&self) {
        if let Ok(mut s) = self.inner.lock() {
            s.end_stage();
            if let Some(bar) = &s.bar {
                bar.finish_and_clear();
            }
        }
    }

    /// A library progress callback for the inzage passes: analysis is stage 1 of 2 when the
    /// export runs it itself, the export the last stage.
    pub fn callback(&self) -> veil::redact::Progress {
        let me = self.clone();
        let steps = self.steps();
        veil::redact::Progress::new(move |pass, done, total| {
            let (step, label) = match pass {
                veil::redact::Pass::Analysis => (1, "analysis"),
                _ => (steps, "export"),
            };
            me.update(step, label, done, total);
        })
    }

    fn steps(&self) -> u32 {
        self.inner.lock().map_or(1, |s| s.steps)
    }
}

impl State {
    fn begin_stage(&mut self, step: u32, label: &'static str) {
        self.stage = Some((step, label));
        self.started = Instant::now();
        self.done = 0;
        self.total = None;
        // The first line comes a period into the stage (the first frames' rate means little).
        self.last_json = Some(self.started);
        if let Some(bar) = &self.bar {
            let template = "{prefix:.bold} [{bar:30}] {pos}/{len} frames  {msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.reset();
            bar.set_prefix(format!("{step}/{} {label}", self.steps));
        }
    }

    /// The final report of the stage running, if any.
    fn end_stage(&mut self) {
        if self.stage.is_some() && self.json {
            self.emit_json(true);
        }
        self.stage = None;
    }

    fn fps(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }

    fn eta(&self) -> Option<f64> {
        let (fps, total) = (self.fps(), self.total?);
        (fps > 0.0).then(|| total.saturating_sub(self.done) as f64 / fps)
    }

    fn rates(&self) -> String {
        match self.eta() {
            Some(eta) => format!("{:.1} fps, eta {}", self.fps(), clock(eta)),
            None => format!("{:.1} fps", self.fps()),
        }
    }

    fn emit_json(&mut self, end: bool) {
        let Some((step, label)) = self.stage else {
            return;
        };
        let round = |v: f64| (v * 10.0).round() / 10.0;
        let line = serde_json::json!({
            "stage": label,
            "step": step,
            "steps": self.steps,
            "frame": self.done,
            "frames": self.total,
            "fps": round(self.fps()),
            "eta_s": if end { Some(0.0) } else { self.eta().map(round) },
            "done": end,
        });
        eprintln!("{line}");
        self.last_json = Some(Instant::now());
    }
}

impl Drop for State {
    /// A command that fails clears its bar before the `error:` line is printed.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as M:SS or H:MM:SS.
fn clock(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Say where an export's time went: the wall time of each pass and each stage's busy seconds
/// (stages overlap on their own threads, so they add up to more than the wall time when the
/// pipeline keeps the cores busy).
pub fn note_times(report: &ExportReport) {
    let s = &report.stages;
    crate::note!(
        "time: analysis {:.1} s, export {:.1} s; busy: decoding {:.1} s, faces {:.1} s, persons {:.1} s, \
         tracking {:.1} s, redaction {:.1} s, encoding {:.1} s",
        report.analysis_seconds,
        report.export_seconds,
        s.decode,
        s.faces,
        s.persons,
        s.track,
        s.redact,
        s.encode
    );
}
