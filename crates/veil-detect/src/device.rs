//! Where the networks run: the CPU, or a GPU through ONNX Runtime's CUDA or TensorRT
//! execution provider when the loaded runtime has one.
//!
//! Only inference moves: preprocessing, decoding and NMS stay on the CPU. The execution
//! providers register through ONNX Runtime's C API at run time (`ort`'s `load-dynamic`), so a
//! Veil built on a machine without a GPU is the same binary that uses one where the runtime
//! is the GPU build (`onnxruntime-gpu`'s `libonnxruntime.so` with its
//! `libonnxruntime_providers_*.so` and the CUDA / cuDNN / TensorRT libraries).

use std::fmt;
use std::str::FromStr;

use ort::ep::ExecutionProvider;

use crate::DetectError;

/// Environment variable naming the device when a program (the `redact` CLI) is given none.
pub const DEVICE_ENV: &str = "VEIL_DEVICE";

/// The device a detector's network runs on.
///
/// As a setting ([`crate::CenterFaceBuilder::device`]), [`Device::Auto`] picks the best the
/// loaded ONNX Runtime offers; as a result ([`crate::Detector::device`]) it is never `Auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// ONNX Runtime's CPU execution provider (the default; what every build has).
    #[default]
    Cpu,
    /// NVIDIA GPU through the CUDA execution provider.
    Cuda,
    /// NVIDIA GPU through the TensorRT execution provider (nodes TensorRT does not take run
    /// on CUDA, then the CPU).
    TensorRt,
    /// TensorRT if the runtime has it and it registers, else CUDA, else the CPU.
    Auto,
}

impl Device {
    /// The name used on the command line, in `VEIL_DEVICE` and in manifests: `cpu`, `cuda`,
    /// `tensorrt`, `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
            Device::TensorRt => "tensorrt",
            Device::Auto => "auto",
        }
    }

    /// The device named by `VEIL_DEVICE`, `None` when it is unset or empty.
    ///
    /// # Errors
    /// [`DetectError::InvalidConfig`] naming the variable when it names no device.
    pub fn from_env() -> Result<Option<Device>, DetectError> {
        match std::env::var_os(DEVICE_ENV).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => match v.to_str().map(str::parse::<Device>) {
                Some(Ok(d)) => Ok(Some(d)),
                _ => Err(DetectError::InvalidConfig {
                    reason: format!(
                        "{DEVICE_ENV}={}: expected one of cpu, cuda, tensorrt, auto",
                        v.to_string_lossy()
                    ),
                }),
            },
        }
    }

    /// Whether the ONNX Runtime library (loaded first if it is not yet, as a builder would)
    /// was built with this device's execution provider. The CPU and `Auto` always are. A
    /// provider that is there can still fail to register when its CUDA, cuDNN or TensorRT
    /// libraries or the GPU are missing: only building a detector tells.
    ///
    /// # Errors
    /// The runtime's loading errors, or [`DetectError::DeviceUnavailable`] saying why not.
    pub fn check_available(self) -> Result<(), DetectError> {
        if self.provider().is_none() {
            return Ok(());
        }
        crate::init_runtime(None)?;
        provider_available(self).map_err(|reason| DetectError::DeviceUnavailable { device: self, reason })
    }

    /// ONNX Runtime's name of the execution provider (`None` for the CPU and `Auto`).
    fn provider(self) -> Option<&'static str> {
        match self {
            Device::Cuda => Some(ort::ep::CUDA::NAME),
            Device::TensorRt => Some(ort::ep::TensorRT::NAME),
            Device::Cpu | Device::Auto => None,
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of parsing a [`Device`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device `{0}`: expected one of cpu, cuda, tensorrt, auto")]
pub struct ParseDeviceError(pub String);

impl FromStr for Device {
    type Err = ParseDeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda),
            "tensorrt" => Ok(Device::TensorRt),
            "auto" => Ok(Device::Auto),
            _ => Err(ParseDeviceError(s.to_owned())),
        }
    }
}

/// Whether the loaded ONNX Runtime was built with `device`'s execution provider; `Err` with
/// the reason when it was not (or cannot say).
fn provider_available(device: Device) -> Result<(), String> {
    let name = device.provider().unwrap_or("CPUExecutionProvider");
    let available = match device {
        Device::Cuda => ort::ep::CUDA::is_available(),
        Device::TensorRt => ort::ep::TensorRT::is_available(),
        Device::Cpu | Device::Auto => return Ok(()),
    };
    let lib = crate::runtime_path().map_or_else(|| "?".to_owned(), |p| p.display().to_string());
    match available {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "the ONNX Runtime loaded from {lib} has no {name} (a CPU-only build); a GPU run \
             needs the onnxruntime-gpu library with its provider libraries, named by \
             ORT_DYLIB_PATH or VEIL_ORT_DIR"
        )),
        Err(e) => Err(format!("cannot list the providers of {lib}: {e}")),
    }
}

/// Register `device`'s execution provider(s) on `builder`; registration errors are returned.
fn register(
    builder: ort::session::builder::SessionBuilder,
    device: Device,
) -> Result<ort::session::builder::SessionBuilder, String> {
    let eps = match device {
        Device::Cuda => vec![ort::ep::CUDA::default().build().error_on_failure()],
        // TensorRT first; the nodes it does not take go to CUDA rather than the CPU.
        Device::TensorRt => vec![
            ort::ep::TensorRT::default().build().error_on_failure(),
            ort::ep::CUDA::default().build(),
        ],
        Device::Cpu | Device::Auto => return Ok(builder),
    };
    builder.with_execution_providers(eps).map_err(|e| e.to_string())
}

/// Create a session on `device`: `make` gives a fresh builder (threads set), `commit` turns a
/// builder into the session. Returns the session and the device it runs on.
///
/// [`Device::Cpu`] is exactly the builder as made. A named GPU device that the runtime lacks,
/// or whose provider fails to register or to create the session, is
/// [`DetectError::DeviceUnavailable`], never a silent CPU run. [`Device::Auto`] tries
/// TensorRT, then CUDA, then the CPU.
pub(crate) fn session_on<S>(
    device: Device,
    make: impl Fn() -> Result<ort::session::builder::SessionBuilder, DetectError>,
    commit: impl Fn(ort::session::builder::SessionBuilder) -> Result<S, DetectError>,
) -> Result<(S, Device), DetectError> {
    let try_gpu = |d: Device| -> Result<S, String> {
        provider_available(d)?;
        let builder = register(make().map_err(|e| e.to_string())?, d)?;
        commit(builder).map_err(|e| e.to_string())
    };
    match device {
        Device::Cpu => Ok((commit(make()?)?, Device::Cpu)),
        Device::Cuda | Device::TensorRt => match try_gpu(device) {
            Ok(s) => Ok((s, device)),
            Err(reason) => Err(DetectError::DeviceUnavailable { device, reason }),
        },
        Device::Auto => {
            for d in [Device::TensorRt, Device::Cuda] {
                if let Ok(s) = try_gpu(d) {
                    return Ok((s, d));
                }
            }
            Ok((commit(make()?)?, Device::Cpu))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in [Device::Cpu, Device::Cuda, Device::TensorRt, Device::Auto] {
            assert_eq!(d.to_string().parse::<Device>(), Ok(d));
        }
        assert_eq!(" CUDA ".parse::<Device>(), Ok(Device::Cuda));
        assert_eq!(Device::default(), Device::Cpu);
        let e = "vulkan".parse::<Device>().unwrap_err();
        assert!(e.to_string().contains("`vulkan`"), "{e}");
    }
}
