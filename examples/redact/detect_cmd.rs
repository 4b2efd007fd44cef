//! `redact detect`: faces and persons per frame, as JSON.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use veil::detect::{Class, Detector, FaceSearch, PersonSearch};
use veil::video::{ReadOptions, VideoReader};

use crate::footage::SourceArgs;
use crate::models::ModelArgs;
use crate::output::Outputs;
use crate::progress::Reporter;

/// `redact detect`
#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The camera whose recordings are read (with --recordings).
    #[arg(long, requires = "recordings")]
    pub camera: Option<String>,
    /// Where to write the detections (JSON).
    #[arg(short, long, value_name = "DETECTIONS.json")]
    pub output: PathBuf,
    /// Smallest face height, in frame pixels, searched for in every frame (see `redact
    /// analyze --help`).
    #[arg(long, value_name = "PX", default_value_t = veil::detect::DEFAULT_MIN_FACE,
          value_parser = clap::value_parser!(u32).range(i64::from(veil::detect::MIN_MIN_FACE)..=4096))]
    pub min_face: u32,
    /// Smallest person height, in frame pixels, searched for in every frame.
    #[arg(long, value_name = "PX", default_value_t = veil::detect::DEFAULT_MIN_PERSON,
          value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub min_person: u32,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Run both detectors on every frame of the window and write
/// `{"version":1,"width":W,"height":H,"fps":F,"frames":[{"index":i,"time":t,"detections":[...]}]}`.
pub fn cmd_detect(args: DetectArgs) -> anyhow::Result<()> {
    let source = args.source.open(args.camera.as_deref())?;
    source.check_not_same(&args.output)?;
    let mut outputs = Outputs::new();
    let staged = outputs.stage(&args.output)?;
    let opts = ReadOptions {
        from: source.from,
        to: source.to,
        ..ReadOptions::default()
    };
    let plain = veil::record::PlainInput::open(&source.input, source.key.as_deref())?;
    let mut reader = VideoReader::open(plain.path(), &opts)?;
    let info = reader.info().clone();
    let mut faces = FaceSearch::new(args.model.faces().build()?, args.min_face)?;
    let mut persons = PersonSearch::new(args.model.persons().build()?, args.min_person)?;
    args.model.note_devices(
        [&faces as &dyn Detector, &persons].map(|d| (d.model().name.as_str(), Some(d.device().as_str()))),
    );
    let bar = Reporter::new(1);
    let mut frames = Vec::new();
    while let Some(decoded) = reader.next_frame()? {
        let frame = decoded.frame_ref()?;
        let mut dets = persons.detect(&frame)?;
        dets.extend(faces.detect(&frame)?);
        let list: Vec<_> = dets
            .iter()
            .map(|d| {
                let b =
                    [d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h].map(|v| (f64::from(v) * 10.0).round() / 10.0);
                json!({
                    "class": if d.class == Class::Face { "face" } else { "person" },
                    "score": (f64::from(d.score) * 1000.0).round() / 1000.0,
                    "box": b,
                })
            })
            .collect();
        let mut f = json!({"index": decoded.index(), "time": decoded.time(), "detections": list});
        if let Some(r) = &source.recordings {
            f["wall_clock"] = json!(r.record().wall_at(decoded.time()).to_string());
        }
        frames.push(f);
        bar.update(1, "detect", frames.len() as u64, info.frame_count_estimate);
    }
    bar.finish();
    let fps = f64::from(info.fps.0) / f64::from(info.fps.1.max(1));
    let mut doc = json!({"version": 1, "width": info.width, "height": info.height, "fps": fps,
                     "min_face": args.min_face, "min_person": args.min_person, "frames": frames});
    if let Some(r) = &source.recordings {
        doc["recordings"] = serde_json::to_value(r.record())?;
    }
    let text = serde_json::to_string(&doc)?;
    veil::core::fsutil::write_atomic(&staged, text.as_bytes())
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    outputs.publish()?;
    crate::note!("{}: {} frames", args.output.display(), frames.len());
    Ok(())
}
