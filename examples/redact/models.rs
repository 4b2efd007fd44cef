//! Detector options shared by `detect`, `analyze` and `export`: `--threshold`, `--threads`,
//! `--models-dir`, `--device`.

use std::path::PathBuf;

use clap::Args;
use veil::detect::{CenterFaceBuilder, Device, NanoDetBuilder};
use veil::redact::{DetectOptions, ModelRecord};

/// Detector settings.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Detection score threshold of both detectors, in (0, 1) (default: faces 0.2, persons
    /// 0.3, tuned for recall). Higher values miss more people, who then stay unredacted.
    #[arg(long, value_name = "SCORE", value_parser = parse_threshold)]
    pub threshold: Option<f32>,
    /// ONNX Runtime threads per detector (default: half the cores, at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Directory holding manifest.tsv and the model files (default: $VEIL_MODELS_DIR, else
    /// the installed models, see ENVIRONMENT).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Where the detectors run: cpu, cuda, tensorrt (an NVIDIA GPU through a GPU build of
    /// ONNX Runtime; refused if the loaded runtime cannot use it), or auto (TensorRT, else
    /// CUDA, else the CPU). Default: $VEIL_DEVICE, else cpu.
    #[arg(long, value_name = "DEVICE", env = veil::detect::DEVICE_ENV, hide_env_values = true,
          value_parser = parse_device)]
    pub device: Option<Device>,
}

fn parse_device(s: &str) -> Result<Device, String> {
    s.parse::<Device>()
        .map_err(|e| format!("{e} (from --device or ${})", veil::detect::DEVICE_ENV))
}

fn parse_threshold(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!(
            "{s:?}: expected a score between 0 and 1 (exclusive), e.g. 0.3"
        )),
    }
}

impl ModelArgs {
    /// Apply to the pipelines' detector options.
    pub fn apply(&self, o: &mut DetectOptions) {
        if let Some(t) = self.threshold {
            o.face_threshold = Some(t);
            o.person_threshold = Some(t);
        }
        if let Some(n) = self.threads {
            o.threads = usize::from(n);
        }
        if let Some(d) = &self.models_dir {
            o.models_dir = Some(d.clone());
        }
        o.device = self.device();
    }

    /// The device asked for (`--device`, else `VEIL_DEVICE`, else the CPU).
    pub fn device(&self) -> Device {
        self.device.unwrap_or_default()
    }

    /// Say which device each detector runs on, when another than the CPU was asked for
    /// (`auto` may have fallen back to it): `(model name, device)` pairs.
    pub fn note_devices<'a>(&self, used: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) {
        if self.device() == Device::Cpu {
            return;
        }
        let list: Vec<String> = used
            .into_iter()
            .map(|(name, device)| format!("{name} on {}", device.unwrap_or("cpu (not recorded)")))
            .collect();
        // auto on the CPU: say why not on the GPU, as far as the runtime tells.
        let why = match Device::Cuda.check_available() {
            Err(e) if self.device() == Device::Auto && list.iter().any(|d| d.ends_with(" on cpu")) => {
                format!("; {e}")
            }
            _ => String::new(),
        };
        crate::note!("detectors: {} (--device {}{why})", list.join(", "), self.device());
    }

    /// The devices recorded for the models of a tracks file or manifest, for [`Self::note_devices`].
    pub fn recorded(models: &[ModelRecord]) -> impl Iterator<Item = (&str, Option<&str>)> {
        models.iter().map(|m| (m.name.as_str(), m.device.as_deref()))
    }

    /// The face detector's builder with these settings.
    pub fn faces(&self) -> CenterFaceBuilder {
        let mut b = veil::detect::CenterFace::builder().device(self.device());
        if let Some(t) = self.threshold {
            b = b.threshold(t);
        }
        if let Some(n) = self.threads {
            b = b.threads(usize::from(n));
        }
        if let Some(d) = &self.models_dir {
            b = b.models_dir(d);
        }
        b
    }

    /// The person detector's builder with these settings.
    pub fn persons(&self) -> NanoDetBuilder {
        let mut b = veil::detect::NanoDet::builder().device(self.device());
        if let Some(t) = self.threshold {
            b = b.threshold(t);
        }
        if let Some(n) = self.threads {
            b = b.threads(usize::from(n));
        }
        if let Some(d) = &self.models_dir {
            b = b.models_dir(d);
        }
        b
    }
}
