//! One-shot inzage export of a whole clip through the library, timed per pipeline stage: for
//! profiling (`make bench` times the `redact export` command instead, see scripts/bench/).
//!
//! ```text
//! cargo run --release -p veil-redact --example inzage_bench -- INPUT OUTPUT.mp4 \
//!     [--threads N] [--every N] [--person-every N] [--face-long-side PX] [--keep-at T,X,Y] [--spotlight]
//!     [--preset P] [--crf N] [--encode-threads N] [--models-dir DIR]
//! ```
//! Prints one line: frames, analysis and export seconds, overall frames per second.
#![allow(clippy::unwrap_used)]

use std::process::ExitCode;

use veil_redact::{export, ExportOptions, InputSize, Requester};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: inzage_bench INPUT OUTPUT.mp4 [--threads N] [--every N] [--person-every N] [--face-long-side PX] [--keep-at T,X,Y] [--spotlight] [--preset P] [--crf N] [--encode-threads N] [--models-dir DIR]");
        return ExitCode::from(2);
    }
    let mut o = ExportOptions::new(&args[0], &args[1]);
    let mut i = 2;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--threads" => o.detect.threads = v.parse().unwrap(),
            "--every" => {
                o.detect.every = v.parse().unwrap();
            }
            "--person-every" => o.detect.person_every = v.parse().unwrap(),
            "--preset" => o.encode.preset = v.clone(),
            "--models-dir" => o.detect.models_dir = Some(v.clone().into()),
            "--crf" => o.encode.crf = v.parse().unwrap(),
            "--encode-threads" => o.encode.threads = v.parse().unwrap(),
            "--face-long-side" => o.detect.face_input = InputSize::LongSide(v.parse().unwrap()),
            "--keep-at" => {
                let p: Vec<f64> = v.split(',').map(|s| s.parse().unwrap()).collect();
                o.requester = Requester::At {
                    time: p[0],
                    x: p[1] as f32,
                    y: p[2] as f32,
                };
            }
            "--spotlight" => {
                o.spotlight = true;
                i += 1;
                continue;
            }
            other => {
                eprintln!("unknown option {other}");
                return ExitCode::from(2);
            }
        }
        i += 2;
    }
    match export(&o) {
        Ok(r) => {
            let n = r.manifest.counts.frames;
            let total = r.analysis_seconds + r.export_seconds;
            println!(
                "frames {n} analysis {:.2} s ({:.1} fps) export {:.2} s ({:.1} fps) one-shot {:.1} fps tracks {} boxes_redacted {}",
                r.analysis_seconds,
                n as f64 / r.analysis_seconds.max(1e-9),
                r.export_seconds,
                n as f64 / r.export_seconds.max(1e-9),
                n as f64 / total.max(1e-9),
                r.manifest.counts.tracks,
                r.manifest.counts.boxes_redacted
            );
            let s = r.stages;
            eprintln!(
                "busy seconds: decode {:.2} faces {:.2} persons {:.2} track {:.2} redact {:.2} encode {:.2}",
                s.decode, s.faces, s.persons, s.track, s.redact, s.encode
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
