//! The decoder choice: FFmpeg's software decoders, or hardware decoding through FFmpeg's
//! hwaccel (VAAPI, CUDA/NVDEC, QSV), probed when an input is opened.
//!
//! A hardware decoder decodes into GPU surfaces; every frame is downloaded to system memory
//! (`av_hwframe_transfer_data`, NV12 for 8-bit video) and then brought to the announced
//! format exactly as a software decoder's frames are (see [`crate::pixels`]): the frames
//! handed out have the same format, size and layout whichever decoder made them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};

use ff::ffi;
use ffmpeg_next as ff;

use crate::hwenc::{render_nodes, BufRef};

/// Which decoder [`crate::VideoReader`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Decoder {
    /// The first hardware decoder that opens for the stream's codec (VAAPI on a `/dev/dri`
    /// render node, then CUDA, then QSV); FFmpeg's software decoder when none does. The
    /// recorder's default.
    Auto,
    /// FFmpeg's software decoder (the default of [`crate::ReadOptions`]: exports and
    /// analysis are reproducible bit for bit).
    #[default]
    Software,
    /// VA-API (Intel/AMD GPUs) through FFmpeg's hwaccel.
    Vaapi,
    /// CUDA (NVIDIA GPUs, NVDEC) through FFmpeg's hwaccel.
    Cuda,
    /// Intel Quick Sync (FFmpeg's `*_qsv` decoders).
    Qsv,
}

/// The hardware decoders [`Decoder::Auto`] tries, in this order.
pub const HARDWARE_DECODERS: [Decoder; 3] = [Decoder::Vaapi, Decoder::Cuda, Decoder::Qsv];

impl Decoder {
    /// The names accepted by [`Decoder::from_str`](std::str::FromStr) and shown by
    /// [`Decoder::name`].
    pub const NAMES: [&'static str; 5] = ["auto", "software", "vaapi", "cuda", "qsv"];

    /// `auto`, `software`, `vaapi`, `cuda` or `qsv`.
    pub fn name(self) -> &'static str {
        match self {
            Decoder::Auto => "auto",
            Decoder::Software => "software",
            Decoder::Vaapi => "vaapi",
            Decoder::Cuda => "cuda",
            Decoder::Qsv => "qsv",
        }
    }

    /// A hardware decoder (neither `auto` nor `software`).
    pub fn is_hardware(self) -> bool {
        HARDWARE_DECODERS.contains(&self)
    }

    /// FFmpeg's device type and the pixel format of its surfaces.
    fn device(self) -> Option<(ffi::AVHWDeviceType, ffi::AVPixelFormat)> {
        use ffi::AVHWDeviceType as T;
        use ffi::AVPixelFormat as P;
        match self {
            Decoder::Vaapi => Some((T::AV_HWDEVICE_TYPE_VAAPI, P::AV_PIX_FMT_VAAPI)),
            Decoder::Cuda => Some((T::AV_HWDEVICE_TYPE_CUDA, P::AV_PIX_FMT_CUDA)),
            Decoder::Qsv => Some((T::AV_HWDEVICE_TYPE_QSV, P::AV_PIX_FMT_QSV)),
            Decoder::Auto | Decoder::Software => None,
        }
    }
}

impl std::fmt::Display for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Decoder {
    type Err = crate::VideoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Decoder::Auto,
            "software" => Decoder::Software,
            "vaapi" => Decoder::Vaapi,
            "cuda" => Decoder::Cuda,
            "qsv" => Decoder::Qsv,
            _ => {
                return Err(crate::VideoError::InvalidOption {
                    reason: format!("unknown decoder {s:?} (one of: {})", Decoder::NAMES.join(", ")),
                })
            }
        })
    }
}

/// The decoder a [`crate::VideoReader`] opened, and why [`Decoder::Auto`] passed over the
/// hardware decoders it did not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderUsed {
    /// The decoder: [`Decoder::Software`] or a hardware one.
    pub decoder: Decoder,
    /// FFmpeg's name of the codec's decoder (`h264`, `hevc`, `h264_qsv` ...).
    pub codec: String,
    /// With [`Decoder::Auto`]: each hardware decoder not used and why (no device, not in
    /// this FFmpeg build, no support for the codec). Empty otherwise.
    pub passed_over: Vec<(Decoder, String)>,
}

impl DecoderUsed {
    /// A hardware decoder.
    pub fn hardware(&self) -> bool {
        self.decoder.is_hardware()
    }

    /// One line for a log: `h264 with vaapi (hardware)`, `h264 (software)` or `h264
    /// (software; no hardware decoder: vaapi: no /dev/dri render node; ...)`.
    pub fn describe(&self) -> String {
        if self.hardware() {
            return format!("{} with {} (hardware)", self.codec, self.decoder);
        }
        if self.passed_over.is_empty() {
            return format!("{} (software)", self.codec);
        }
        let why: Vec<String> = self
            .passed_over
            .iter()
            .map(|(d, r)| format!("{d}: {r}"))
            .collect();
        format!(
            "{} (software; no hardware decoder: {})",
            self.codec,
            why.join("; ")
        )
    }
}

/// How a hardware decoder is set up on a codec context: the codec to open (the software
/// codec with its hwaccel, or a `*_qsv` decoder) and the device it decodes on.
pub(crate) struct HwSetup {
    pub(crate) codec: ff::Codec,
    device: BufRef,
}

/// The codec and device for decoder `d` on a stream of `codec` (the software decoder), or
/// why it cannot be used here.
pub(crate) fn hw_setup(d: Decoder, codec: ff::Codec) -> Result<HwSetup, String> {
    let Some((device_type, surface)) = d.device() else {
        return Err("not a hardware decoder".into());
    };
    let codec = match d {
        Decoder::Qsv => {
            let name = format!("{}_qsv", codec.name());
            ff::decoder::find_by_name(&name)
                .ok_or_else(|| format!("not in this FFmpeg build (libavcodec has no {name})"))?
        }
        _ => codec,
    };
    if !supports(codec, device_type, surface) {
        return Err(format!(
            "the {} decoder of this FFmpeg build cannot decode with {d}",
            codec.name()
        ));
    }
    let device = match d {
        Decoder::Vaapi => {
            let nodes = render_nodes();
            if nodes.is_empty() {
                return Err("no /dev/dri render node (no VA-API GPU on this machine)".into());
            }
            let mut why = Vec::new();
            let mut dev = None;
            for node in nodes {
                match create_device(device_type, node.to_str()) {
                    Ok(b) => {
                        dev = Some(b);
                        break;
                    }
                    Err(e) => why.push(format!("{}: {e}", node.display())),
                }
            }
            dev.ok_or_else(|| why.join("; "))?
        }
        _ => create_device(device_type, None).map_err(|e| {
            let hint = match d {
                Decoder::Cuda if !Path::new("/dev/nvidiactl").exists() => {
                    " (no NVIDIA device (/dev/nvidiactl) on this machine)"
                }
                Decoder::Qsv if render_nodes().is_empty() => {
                    " (no Intel GPU (/dev/dri render node) on this machine)"
                }
                _ => "",
            };
            format!("no {d} device: {e}{hint}")
        })?,
    };
    Ok(HwSetup { codec, device })
}

/// Whether `codec` decodes into `surface`s of a device of `device_type` given on the
/// codec context (`hw_device_ctx`).
fn supports(codec: ff::Codec, device_type: ffi::AVHWDeviceType, surface: ffi::AVPixelFormat) -> bool {
    for i in 0.. {
        // SAFETY: `codec` is a valid codec; avcodec_get_hw_config returns a pointer to a
        // static descriptor, or null past the last one.
        let cfg = unsafe { ffi::avcodec_get_hw_config(codec.as_ptr(), i) };
        if cfg.is_null() {
            return false;
        }
        // SAFETY: non-null, so a valid static descriptor.
        let cfg = unsafe { *cfg };
        if cfg.device_type == device_type
            && cfg.pix_fmt == surface
            && cfg.methods & ffi::AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX as i32 != 0
        {
            return true;
        }
    }
    false
}

fn create_device(device_type: ffi::AVHWDeviceType, node: Option<&str>) -> Result<BufRef, String> {
    let node = node
        .map(std::ffi::CString::new)
        .transpose()
        .map_err(|_| "device path with a NUL byte".to_string())?;
    let mut dev: *mut ffi::AVBufferRef = std::ptr::null_mut();
    // SAFETY: `dev` is a valid out-pointer; the device path is NUL-terminated or null
    // (FFmpeg's default device of the type).
    let rc = unsafe {
        ffi::av_hwdevice_ctx_create(
            &mut dev,
            device_type,
            node.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc < 0 || dev.is_null() {
        return Err(ff::Error::from(rc).to_string());
    }
    Ok(BufRef::own(dev))
}

/// Give the not yet opened codec context `ctx` the device of `setup` and the callback that
/// chooses its surfaces. Decoding then happens on the device or fails: the callback never
/// lets FFmpeg fall back to a software format.
pub(crate) fn attach(ctx: &mut ff::codec::context::Context, setup: &HwSetup) -> Result<(), String> {
    // SAFETY: `ctx` is a valid, not yet opened codec context; it takes its own reference to
    // the device (released when the context is freed). get_format is a plain field read by
    // the decoder.
    let r = unsafe {
        let r = ffi::av_buffer_ref(setup.device.as_ptr());
        (*ctx.as_mut_ptr()).hw_device_ctx = r;
        (*ctx.as_mut_ptr()).get_format = Some(hw_surface_format);
        r
    };
    if r.is_null() {
        return Err("cannot reference the device".into());
    }
    Ok(())
}

/// `get_format` of a hardware decoding context: the surface format of its device, or
/// none (decoding then fails) when FFmpeg does not offer it.
unsafe extern "C" fn hw_surface_format(
    ctx: *mut ffi::AVCodecContext,
    offered: *const ffi::AVPixelFormat,
) -> ffi::AVPixelFormat {
    // SAFETY: FFmpeg calls this with its valid codec context, whose hw_device_ctx `attach`
    // set (an AVBufferRef holding an AVHWDeviceContext), and a list of formats ended by
    // AV_PIX_FMT_NONE.
    unsafe {
        let dev = (*ctx).hw_device_ctx;
        if dev.is_null() {
            return ffi::AVPixelFormat::AV_PIX_FMT_NONE;
        }
        let kind = (*(*dev).data.cast::<ffi::AVHWDeviceContext>()).type_;
        let Some(want) = HARDWARE_DECODERS
            .iter()
            .filter_map(|d| d.device())
            .find(|(t, _)| *t == kind)
            .map(|(_, p)| p)
        else {
            return ffi::AVPixelFormat::AV_PIX_FMT_NONE;
        };
        let mut p = offered;
        while *p != ffi::AVPixelFormat::AV_PIX_FMT_NONE {
            if *p == want {
                return want;
            }
            p = p.add(1);
        }
        ffi::AVPixelFormat::AV_PIX_FMT_NONE
    }
}

/// The frame in system memory: a hardware surface `frame` downloaded (with its
/// timestamps, flags and colour properties), or why not.
pub(crate) fn download(frame: &ff::frame::Video) -> Result<ff::frame::Video, String> {
    // SAFETY: reading a field of a valid frame.
    if unsafe { (*frame.as_ptr()).hw_frames_ctx }.is_null() {
        // A hardware decoder handing out a frame in system memory decoded it in software:
        // never passed on as hardware decoded.
        return Err("the decoder handed out a frame that is not on the device".into());
    }
    let mut sw = ff::frame::Video::empty();
    // SAFETY: `sw` is an empty frame (the transfer allocates its buffers in the surface's
    // software format); `frame` is a valid hardware frame.
    let rc = unsafe { ffi::av_hwframe_transfer_data(sw.as_mut_ptr(), frame.as_ptr(), 0) };
    if rc < 0 {
        return Err(format!("cannot download a frame: {}", ff::Error::from(rc)));
    }
    // SAFETY: both frames are valid; this copies timestamps, flags (corrupt), decode error
    // flags, colour properties and side data.
    let rc = unsafe { ffi::av_frame_copy_props(sw.as_mut_ptr(), frame.as_ptr()) };
    if rc < 0 {
        return Err(format!(
            "cannot copy a frame's properties: {}",
            ff::Error::from(rc)
        ));
    }
    Ok(sw)
}

/// Hardware decoders that did not open (or failed while decoding) for a codec, and why:
/// [`Decoder::Auto`] does not try them again in this process (a recorder reopens its
/// camera after every drop).
type Failures = Mutex<HashMap<(Decoder, String), String>>;

fn failures() -> &'static Failures {
    static F: OnceLock<Failures> = OnceLock::new();
    F.get_or_init(Default::default)
}

pub(crate) fn known_failure(d: Decoder, codec: &str) -> Option<String> {
    failures()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(d, codec.to_string()))
        .cloned()
}

pub(crate) fn remember_failure(d: Decoder, codec: &str, why: &str) {
    failures()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((d, codec.to_string()), why.to_string());
}

#[cfg(test)]
#[path = "hwdec_tests.rs"]
mod tests;
