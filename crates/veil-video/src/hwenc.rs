//! The H.264 encoder choice: libx264 in software, or one of FFmpeg's hardware encoders
//! (VAAPI, NVENC, QSV), probed at run time.
//!
//! Frames reach the encoder already masked, as CPU frames. A hardware encoder that takes
//! its input from GPU memory (VAAPI) gets each frame uploaded inside the writer, after the
//! caller masked it: no unmasked pixel reaches any encoder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use ff::ffi;
use ffmpeg_next as ff;

/// Which H.264 encoder [`crate::VideoWriter`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Encoder {
    /// The first hardware encoder that is in this FFmpeg build and opens at the frame size
    /// (VAAPI on a `/dev/dri` render node, then NVENC, then QSV); libx264 with the
    /// configured preset and CRF when none does. The recorder's default.
    Auto,
    /// libx264 in software (the default of [`crate::EncodeOptions`]: exports are
    /// reproducible).
    #[default]
    X264,
    /// `h264_vaapi` (Intel/AMD GPUs through VA-API; frames uploaded after masking).
    Vaapi,
    /// `h264_nvenc` (NVIDIA GPUs).
    Nvenc,
    /// `h264_qsv` (Intel Quick Sync).
    Qsv,
}

/// The hardware encoders [`Encoder::Auto`] tries, in this order.
pub const HARDWARE_ENCODERS: [Encoder; 3] = [Encoder::Vaapi, Encoder::Nvenc, Encoder::Qsv];

impl Encoder {
    /// The names accepted by [`Encoder::from_str`](std::str::FromStr) and shown by
    /// [`Encoder::name`].
    pub const NAMES: [&'static str; 5] = ["auto", "x264", "vaapi", "nvenc", "qsv"];

    /// `auto`, `x264`, `vaapi`, `nvenc` or `qsv`.
    pub fn name(self) -> &'static str {
        match self {
            Encoder::Auto => "auto",
            Encoder::X264 => "x264",
            Encoder::Vaapi => "vaapi",
            Encoder::Nvenc => "nvenc",
            Encoder::Qsv => "qsv",
        }
    }

    /// FFmpeg's name of the encoder (`libx264`, `h264_vaapi` ...); `None` for
    /// [`Encoder::Auto`].
    pub fn codec_name(self) -> Option<&'static str> {
        match self {
            Encoder::Auto => None,
            Encoder::X264 => Some("libx264"),
            Encoder::Vaapi => Some("h264_vaapi"),
            Encoder::Nvenc => Some("h264_nvenc"),
            Encoder::Qsv => Some("h264_qsv"),
        }
    }

    /// A hardware encoder (neither `auto` nor `x264`).
    pub fn is_hardware(self) -> bool {
        HARDWARE_ENCODERS.contains(&self)
    }
}

impl std::fmt::Display for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Encoder {
    type Err = crate::VideoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Encoder::Auto,
            "x264" | "libx264" => Encoder::X264,
            "vaapi" | "h264_vaapi" => Encoder::Vaapi,
            "nvenc" | "h264_nvenc" => Encoder::Nvenc,
            "qsv" | "h264_qsv" => Encoder::Qsv,
            _ => {
                return Err(crate::VideoError::InvalidOption {
                    reason: format!("unknown encoder {s:?} (one of: {})", Encoder::NAMES.join(", ")),
                })
            }
        })
    }
}

/// The encoder a [`crate::VideoWriter`] opened, and why [`Encoder::Auto`] passed over the
/// hardware encoders it did not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderUsed {
    /// The encoder.
    pub encoder: Encoder,
    /// FFmpeg's name of it (`libx264`, `h264_vaapi` ...).
    pub codec: &'static str,
    /// With [`Encoder::Auto`]: each hardware encoder not used and why (not in this FFmpeg
    /// build, no device, would not open at this size). Empty otherwise.
    pub passed_over: Vec<(Encoder, String)>,
}

impl EncoderUsed {
    /// A hardware encoder.
    pub fn hardware(&self) -> bool {
        self.encoder.is_hardware()
    }

    /// One line for a log: `h264_vaapi (hardware)` or `libx264 (software; h264_vaapi: no
    /// /dev/dri render node; ...)`.
    pub fn describe(&self) -> String {
        let kind = if self.hardware() { "hardware" } else { "software" };
        if self.passed_over.is_empty() {
            return format!("{} ({kind})", self.codec);
        }
        let why: Vec<String> = self
            .passed_over
            .iter()
            .map(|(e, r)| format!("{}: {r}", e.codec_name().unwrap_or("?")))
            .collect();
        format!("{} ({kind}; no hardware encoder: {})", self.codec, why.join("; "))
    }
}

/// An owned `AVBufferRef` (a hardware device or frames context).
pub(crate) struct BufRef(*mut ffi::AVBufferRef);

// SAFETY: hardware device and frames contexts are reference counted with atomics and may
// be used from any thread; `BufRef` owns one reference and releases it once.
unsafe impl Send for BufRef {}

impl BufRef {
    /// Take ownership of one reference (`p` non-null).
    pub(crate) fn own(p: *mut ffi::AVBufferRef) -> Self {
        BufRef(p)
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::AVBufferRef {
        self.0
    }
}

impl Drop for BufRef {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a reference we own (non-null by construction), released once.
        unsafe { ffi::av_buffer_unref(&mut self.0) }
    }
}

/// The `/dev/dri` render nodes, in order.
pub(crate) fn render_nodes() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("renderD"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A VAAPI frames context for `width` x `height` NV12 surfaces on the first render node
/// that gives one.
pub(crate) fn vaapi_frames(width: u32, height: u32) -> Result<BufRef, String> {
    let nodes = render_nodes();
    if nodes.is_empty() {
        return Err("no /dev/dri render node (no VA-API GPU on this machine)".into());
    }
    let mut why = Vec::new();
    for node in nodes {
        let Some(c) = node.to_str().and_then(|s| std::ffi::CString::new(s).ok()) else {
            continue;
        };
        let mut dev: *mut ffi::AVBufferRef = std::ptr::null_mut();
        // SAFETY: `dev` is a valid out-pointer; `c` a NUL-terminated device path.
        let rc = unsafe {
            ffi::av_hwdevice_ctx_create(
                &mut dev,
                ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI,
                c.as_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        if rc < 0 || dev.is_null() {
            why.push(format!("{}: {}", node.display(), ff::Error::from(rc)));
            continue;
        }
        let dev = BufRef(dev);
        // SAFETY: `dev` is a valid device context reference.
        let frames = unsafe { ffi::av_hwframe_ctx_alloc(dev.as_ptr()) };
        if frames.is_null() {
            why.push(format!("{}: cannot allocate a frames context", node.display()));
            continue;
        }
        let frames = BufRef(frames);
        // SAFETY: `frames` was just allocated by av_hwframe_ctx_alloc: its data is an
        // AVHWFramesContext we may fill in before av_hwframe_ctx_init.
        let rc = unsafe {
            let fc = (*frames.as_ptr()).data.cast::<ffi::AVHWFramesContext>();
            (*fc).format = ffi::AVPixelFormat::AV_PIX_FMT_VAAPI;
            (*fc).sw_format = ffi::AVPixelFormat::AV_PIX_FMT_NV12;
            (*fc).width = width as i32;
            (*fc).height = height as i32;
            (*fc).initial_pool_size = 20;
            ffi::av_hwframe_ctx_init(frames.as_ptr())
        };
        if rc < 0 {
            why.push(format!(
                "{}: no {width}x{height} NV12 surfaces: {}",
                node.display(),
                ff::Error::from(rc)
            ));
            continue;
        }
        return Ok(frames);
    }
    Err(why.join("; "))
}

/// A hint for an encoder that did not open: the device it needs is missing.
pub(crate) fn missing_device(e: Encoder) -> Option<&'static str> {
    match e {
        Encoder::Nvenc if !Path::new("/dev/nvidiactl").exists() => {
            Some("no NVIDIA device (/dev/nvidiactl) on this machine")
        }
        Encoder::Qsv if render_nodes().is_empty() => {
            Some("no Intel GPU (/dev/dri render node) on this machine")
        }
        _ => None,
    }
}

/// Hardware encoders that did not open at a size, and why: [`Encoder::Auto`] does not try
/// them again in this process (a recorder opens a writer every segment).
type Failures = Mutex<HashMap<(Encoder, u32, u32), String>>;

fn failures() -> &'static Failures {
    static F: OnceLock<Failures> = OnceLock::new();
    F.get_or_init(Default::default)
}

pub(crate) fn known_failure(e: Encoder, w: u32, h: u32) -> Option<String> {
    failures()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(e, w, h))
        .cloned()
}

pub(crate) fn remember_failure(e: Encoder, w: u32, h: u32, why: &str) {
    failures()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((e, w, h), why.to_string());
}

#[cfg(test)]
#[path = "hwenc_tests.rs"]
mod tests;
