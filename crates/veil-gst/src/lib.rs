//! veil-gst: Veil's capture-time zone masking as a GStreamer element.
//!
//! The plugin (`libgstveil.so`) holds one element, `veilmask`: an in-place video filter
//! that masks a camera's forbidden zones (read from its Veil zone file) in every raw frame
//! between a decoder and an encoder or recorder, with veil-core's [`CaptureMasker`]:
//!
//! ```text
//! gst-launch-1.0 rtspsrc location=rtsp://cam/stream ! rtph264depay ! h264parse ! avdec_h264 \
//!   ! veilmask zones=/etc/veil/entrance-north.toml ! x264enc ! splitmuxsink location=rec%05d.mp4
//! ```
//!
//! Formats: I420, NV12, RGB, BGR, RGBA, BGRx and GRAY8, any size veil-core accepts, any
//! strides (taken from the buffer's `GstVideoMeta` when it has one). BGRx is masked as
//! veil-core's RGBA layout: the kernels treat the four bytes of a pixel alike, and black is
//! `[0, 0, 0, 255]` in both.
//!
//! Privacy fails closed: a zone file that cannot be read or is invalid, a missing zone file
//! (unless `allow-empty=true`), or a frame that cannot be masked, never lets an unmasked
//! frame through. Zones that cannot be used when the pipeline starts fail its state change
//! with an element error, so the pipeline ends at once. While playing, with
//! `fail-closed=true` (the default) the frame is blanked to black and an element error is
//! posted; with `fail-closed=false` the error is posted and the stream stops (flow error).
//!
//! An application that links this crate registers the element without the plugin loader:
//!
//! ```no_run
//! gst::init()?;
//! gstveil::plugin_register_static()?;
//! let mask = gst::ElementFactory::make("veilmask")
//!     .property("zones", "/etc/veil/entrance-north.toml")
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate depends on veil-core only: no FFmpeg, no ONNX Runtime.
//!
//! [`CaptureMasker`]: veil_core::CaptureMasker

pub mod veilmask;

pub use veilmask::{StyleOverride, VeilMask};

pub use registration::plugin_register_static;

/// The plugin descriptor (`gst_plugin_veil_get_desc`, `gst_plugin_veil_register`) and
/// [`plugin_register_static`]. The plugin's name is `veil`: GStreamer loads it from
/// `libgstveil.so`, both follow from this name.
#[allow(missing_docs)] // the items the macro generates carry no docs
mod registration {
    use gst::glib;

    fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
        crate::veilmask::register(plugin)
    }

    gst::plugin_define!(
        veil,
        env!("CARGO_PKG_DESCRIPTION"),
        plugin_init,
        env!("CARGO_PKG_VERSION"),
        "MIT/X11",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_REPOSITORY")
    );
}
