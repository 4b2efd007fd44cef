//! The `veilmask` element: a `GstBaseTransform` (through `GstVideoFilter`) that masks a
//! camera's zones in place.
//!
//! Properties:
//! - `zones` (string, path): the camera's Veil zone file. Read when the property is set and
//!   again on every transition to PLAYING.
//! - `config` (string): the same TOML inline, for pipelines built in code. Setting `zones`
//!   or `config` replaces the other.
//! - `style-override` ([`StyleOverride`]): none (default: each zone's own style), solid,
//!   pixelate, blur or weak-blur for every zone. It may only make zones stronger (solid >
//!   pixelate > blur > weak-blur): an override weaker than a zone's own style is refused
//!   like a bad zone file.
//! - `fail-closed` (bool, default true): on a failure, blank the frame and post an error
//!   (true), or post the error and stop the stream (false). Either way no unmasked frame
//!   leaves the element.
//! - `allow-empty` (bool, default false): the only way to run with no zones (neither
//!   property set, or a zone file without zones). Frames still go through the masker.
//!
//! Zones that cannot be used (a bad, missing or unreadable zone file, no zones without
//! `allow-empty`, a weakening override) fail the element's state change to PAUSED or PLAYING
//! with an element error on the bus: the pipeline ends instead of starting. Set while
//! PLAYING, they post the error and every later frame is blanked (or the stream stops).

use gst::glib;
use gst::prelude::*;

mod imp;
mod zones;

glib::wrapper! {
    /// The `veilmask` element.
    pub struct VeilMask(ObjectSubclass<imp::VeilMask>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

/// The `style-override` property: one redaction style for every zone, or each zone's own.
#[derive(Debug, Default, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstVeilMaskStyleOverride")]
pub enum StyleOverride {
    /// Each zone keeps the style of its zone file.
    #[default]
    #[enum_value(name = "None: each zone's own style", nick = "none")]
    None = 0,
    /// Every zone solid black (irreversible).
    #[enum_value(name = "Solid: black fill (irreversible)", nick = "solid")]
    Solid = 1,
    /// Every zone pixelated (irreversible for blocks of at least 8 pixels).
    #[enum_value(name = "Pixelate: block means (irreversible)", nick = "pixelate")]
    Pixelate = 2,
    /// Every zone blurred over noisy coarse cells (irreversible: deconvolution cannot undo it).
    #[enum_value(name = "Blur: blur over noisy coarse cells (irreversible)", nick = "blur")]
    Blur = 3,
    /// Every zone under the plain box blur (NOT irreversible: it can be partly undone).
    #[enum_value(name = "Weak blur: plain box blur (not irreversible)", nick = "weak-blur")]
    WeakBlur = 4,
}

impl StyleOverride {
    /// The zone style this override imposes (`None` keeps each zone's own).
    pub fn style(self) -> Option<veil_core::ZoneStyle> {
        match self {
            StyleOverride::None => None,
            StyleOverride::Solid => Some(veil_core::ZoneStyle::Solid),
            StyleOverride::Pixelate => Some(veil_core::ZoneStyle::Pixelate),
            StyleOverride::Blur => Some(veil_core::ZoneStyle::Blur),
            StyleOverride::WeakBlur => Some(veil_core::ZoneStyle::WeakBlur),
        }
    }
}

/// Map a GStreamer video format to the veil-core layout that masks it, if supported.
///
/// BGRx maps to [`veil_core::PixelFormat::Rgba`]: four bytes a pixel, treated alike by every
/// kernel, with black `[0, 0, 0, 255]` (the padding byte set to 255 is harmless).
pub fn pixel_format(format: gst_video::VideoFormat) -> Option<veil_core::PixelFormat> {
    use gst_video::VideoFormat as V;
    use veil_core::PixelFormat as P;
    Some(match format {
        V::I420 => P::I420,
        V::Nv12 => P::Nv12,
        V::Rgb => P::Rgb24,
        V::Bgr => P::Bgr24,
        V::Rgba | V::Bgrx => P::Rgba,
        V::Gray8 => P::Gray8,
        _ => return None,
    })
}

/// The formats `veilmask` accepts, in order of preference.
pub const FORMATS: [gst_video::VideoFormat; 7] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Nv12,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Gray8,
];

/// Register `veilmask` with `plugin`.
///
/// # Errors
/// When GStreamer refuses the registration.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "veilmask", gst::Rank::NONE, VeilMask::static_type())
}
