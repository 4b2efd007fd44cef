//! The implementation of `veilmask`.
//!
//! All state sits in one mutex. It is never held while a message is posted (a synchronous
//! bus handler may call back into the element).
//!
//! Zones that cannot be loaded (a bad or missing file, no zones without `allow-empty`, a
//! `style-override` that would weaken a zone) fail the transition to PAUSED and to PLAYING
//! with an element error, so a pipeline ends at once instead of prerolling on blanked frames;
//! set while PLAYING, they post the error and blank (or stop) from the next frame. The element
//! never runs in passthrough: every frame goes through the masker, which checks it.

use std::path::PathBuf;
use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;
use veil_core::{CameraConfig, CaptureMasker, FrameMut, PixelFormat};

use super::zones::{load, no_zones_failure, FailKind, Failure, Source};
use super::{pixel_format, StyleOverride, FORMATS};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "veilmask",
        gst::DebugColorFlags::empty(),
        Some("Veil capture-time zone masking"),
    )
});

struct Inner {
    source: Source,
    style_override: StyleOverride,
    fail_closed: bool,
    /// Whether running with no zones at all is allowed (`allow-empty`).
    allow_empty: bool,
    /// The loaded zones (override applied; empty only with `allow-empty`), or why they
    /// cannot be used.
    zones: Result<CameraConfig, Failure>,
    /// Negotiated geometry in veil-core terms (the GStreamer format kept for blanking).
    geometry: Option<(PixelFormat, u32, u32)>,
    /// The rasterised mask for `zones` x `geometry` (`None`: no caps yet).
    masker: Option<Result<CaptureMasker, Failure>>,
    /// Whether the current failure has been posted as an element error already.
    error_posted: bool,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            source: Source::Unset,
            style_override: StyleOverride::None,
            fail_closed: true,
            allow_empty: false,
            zones: Err(no_zones_failure(&Source::Unset)),
            geometry: None,
            masker: None,
            error_posted: false,
        }
    }
}

impl Inner {
    /// Read the zones from the source and rebuild the mask.
    fn reload(&mut self) {
        self.zones = load(&self.source, self.style_override, self.allow_empty);
        self.rebuild();
    }

    /// Rebuild the mask for the current zones and geometry. With no zones (`allow-empty`)
    /// the mask is empty, and frames still go through it: it checks every frame's geometry.
    fn rebuild(&mut self) {
        let before = self.failure().map(|f| f.reason.clone());
        self.masker = match (&self.zones, self.geometry) {
            (Err(f), _) => Some(Err(f.clone())),
            (Ok(config), Some((format, w, h))) => {
                Some(CaptureMasker::new(config, w, h, format).map_err(|e| Failure {
                    kind: FailKind::Frame,
                    reason: format!("cannot mask {format:?} {w}x{h} frames: {e}"),
                }))
            }
            (Ok(_), None) => None,
        };
        // a new failure is posted anew; the same one again (e.g. the same bad file re-read
        // on PLAYING) is not
        if self.failure().map(|f| &f.reason) != before.as_ref() {
            self.error_posted = false;
        }
    }

    /// Why frames cannot be masked now, if they cannot.
    fn failure(&self) -> Option<&Failure> {
        match (&self.zones, &self.masker) {
            (Err(f), _) | (_, Some(Err(f))) => Some(f),
            _ => None,
        }
    }
}

/// The `veilmask` element's implementation.
#[derive(Default)]
pub struct VeilMask {
    inner: Mutex<Inner>,
}

impl VeilMask {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave `Inner` half-updated in a way that
        // passes unmasked frames (the masker is replaced whole), so a poisoned lock is used.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Apply a changed source, style override or `allow-empty`: reload, rebuild, and post
    /// the error now when the element is already running.
    fn reconfigure(&self, mut inner: MutexGuard<'_, Inner>) {
        inner.reload();
        let failure = inner.zones.as_ref().err().cloned();
        drop(inner);
        if let Some(f) = failure {
            gst::warning!(CAT, imp = self, "{}", f.reason);
            if self.obj().current_state() > gst::State::Ready {
                self.post_once(&f);
            }
        }
    }

    /// Re-read the zone file (when the zones come from one) and refuse the state change,
    /// with an element error, if the zones cannot be used: the pipeline fails to start
    /// instead of running on blanked frames.
    fn check_zones(&self, reread: bool) -> Result<(), gst::StateChangeError> {
        let mut inner = self.lock();
        if reread && matches!(inner.source, Source::File(_)) {
            gst::debug!(CAT, imp = self, "re-reading the zone file");
            inner.reload();
        }
        let Err(failure) = inner.zones.clone() else {
            return Ok(());
        };
        inner.error_posted = true;
        drop(inner);
        self.post(&failure);
        Err(gst::StateChangeError)
    }

    /// Post `failure` as an element error unless this failure was posted already.
    fn post_once(&self, failure: &Failure) {
        {
            let mut inner = self.lock();
            if inner.error_posted {
                return;
            }
            inner.error_posted = true;
        }
        self.post(failure);
    }

    fn post(&self, failure: &Failure) {
        match failure.kind {
            FailKind::Settings => {
                gst::element_imp_error!(self, gst::LibraryError::Settings, ("{}", failure.reason))
            }
            FailKind::Frame => {
                gst::element_imp_error!(self, gst::StreamError::Format, ("{}", failure.reason))
            }
        }
    }

    /// Mask one frame in place, or say why it cannot be.
    fn mask(
        masker: Option<&Result<CaptureMasker, Failure>>,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<(), Failure> {
        let masker = match masker {
            Some(Ok(m)) => m,
            Some(Err(f)) => return Err(f.clone()),
            // no mask: no caps were negotiated for this frame
            None => {
                return Err(Failure {
                    kind: FailKind::Frame,
                    reason: "no mask for this frame (caps not negotiated)".into(),
                })
            }
        };
        let frame_err = |reason: String| Failure {
            kind: FailKind::Frame,
            reason,
        };
        let format = pixel_format(frame.format())
            .ok_or_else(|| frame_err(format!("unsupported format {:?}", frame.format())))?;
        let strides = plane_strides(frame).map_err(frame_err)?;
        let (w, h) = (frame.width(), frame.height());
        let planes = frame.planes_data_mut();
        let mut view = FrameMut::new(
            format,
            w,
            h,
            planes.into_iter().zip(strides).take(format.plane_count()),
        )
        .map_err(|e| frame_err(format!("frame rejected: {e}")))?;
        masker
            .apply(&mut view)
            .map_err(|e| frame_err(format!("frame not masked: {e}")))
    }
}

/// The frame's plane strides in bytes (`n_planes` of them, the rest 0), after checking that
/// every plane lies inside the buffer: `planes_data_mut` hands out `stride * rows` bytes a
/// plane, trusting the meta. No allocation: this runs on every frame.
fn plane_strides(
    frame: &gst_video::VideoFrameRef<&mut gst::BufferRef>,
) -> Result<[usize; gst_video::VIDEO_MAX_PLANES], String> {
    let size = frame.buffer().size();
    let mut strides = [0; gst_video::VIDEO_MAX_PLANES];
    for plane in 0..frame.n_planes() {
        let i = plane as usize;
        let stride = usize::try_from(frame.plane_stride()[i])
            .map_err(|_| format!("plane {i}: negative stride {}", frame.plane_stride()[i]))?;
        let end = stride
            .checked_mul(frame.plane_height(plane) as usize)
            .and_then(|n| n.checked_add(frame.plane_offset()[i]));
        match end {
            Some(end) if end <= size => strides[i] = stride,
            _ => {
                return Err(format!(
                    "plane {i}: offset {} + stride {stride} x {} rows exceeds the buffer ({size} bytes)",
                    frame.plane_offset()[i],
                    frame.plane_height(plane)
                ))
            }
        }
    }
    Ok(strides)
}

/// Overwrite every plane of `frame` (stride padding included) with the format's black.
/// Used when a frame cannot be masked: nothing of the scene may leave the element.
fn blank(frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>) {
    let format = pixel_format(frame.format());
    let Ok(strides) = plane_strides(frame) else {
        // the planes cannot be addressed safely; the caller stops the stream instead
        return;
    };
    for (i, (data, stride)) in frame.planes_data_mut().into_iter().zip(strides).enumerate() {
        let black: &[u8] = format.map_or(&[0], |f| f.black(i));
        if stride == 0 {
            continue;
        }
        for row in data.chunks_mut(stride) {
            for px in row.chunks_mut(black.len()) {
                px.copy_from_slice(&black[..px.len()]);
            }
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for VeilMask {
    const NAME: &'static str = "GstVeilMask";
    type Type = super::VeilMask;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for VeilMask {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecString::builder("zones")
                    .nick("Zone file")
                    .blurb(
                        "Path of the camera's Veil zone file (TOML); read when set and on every \
                         transition to PLAYING. Replaces config.",
                    )
                    .mutable_playing()
                    .build(),
                glib::ParamSpecString::builder("config")
                    .nick("Zone file text")
                    .blurb("The zone file's TOML inline, for pipelines built in code. Replaces zones.")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("style-override", StyleOverride::None)
                    .nick("Style override")
                    .blurb(
                        "One redaction style for every zone, or none to keep each zone's own; only \
                         stronger (solid > pixelate > blur > weak-blur): a weaker one is an error",
                    )
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("fail-closed")
                    .nick("Fail closed")
                    .blurb(
                        "On a failure, blank the frame and post an error (true), or post the error \
                         and stop the stream (false); no unmasked frame passes either way",
                    )
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("allow-empty")
                    .nick("Allow no zones")
                    .blurb(
                        "Run with no zones (no zones property, or a zone file without zones); \
                         otherwise that is an error. Frames are still checked by the masker.",
                    )
                    .default_value(false)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut inner = self.lock();
        match pspec.name() {
            "zones" | "config" => {
                let text = value
                    .get::<Option<String>>()
                    .ok()
                    .flatten()
                    .filter(|s| !s.is_empty());
                inner.source = match (pspec.name(), text) {
                    (_, None) => match (&inner.source, pspec.name()) {
                        // clearing one property leaves the other's source alone
                        (Source::File(_), "config") | (Source::Inline(_), "zones") => inner.source.clone(),
                        _ => Source::Unset,
                    },
                    ("zones", Some(path)) => Source::File(PathBuf::from(path)),
                    (_, Some(text)) => Source::Inline(text),
                };
                gst::info!(CAT, imp = self, "zones from {:?}", inner.source);
                self.reconfigure(inner);
            }
            "style-override" => {
                inner.style_override = value.get().unwrap_or_default();
                self.reconfigure(inner);
            }
            "fail-closed" => {
                inner.fail_closed = value.get().unwrap_or(true);
            }
            "allow-empty" => {
                inner.allow_empty = value.get().unwrap_or(false);
                self.reconfigure(inner);
            }
            other => gst::warning!(CAT, imp = self, "unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let inner = self.lock();
        match pspec.name() {
            "zones" => match &inner.source {
                Source::File(p) => Some(p.to_string_lossy().into_owned()).to_value(),
                _ => None::<String>.to_value(),
            },
            "config" => match &inner.source {
                Source::Inline(t) => Some(t.clone()).to_value(),
                _ => None::<String>.to_value(),
            },
            "style-override" => inner.style_override.to_value(),
            "fail-closed" => inner.fail_closed.to_value(),
            "allow-empty" => inner.allow_empty.to_value(),
            // GObject only asks for the properties registered above
            _ => pspec.default_value().clone(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        // every frame goes through the masker, zones or not: it checks the frame
        self.obj().set_passthrough(false);
        // every frame is masked, never dropped as late: a recording stays complete, and live
        // and non-live pipelines behave alike
        self.obj().set_qos(false);
    }
}

impl GstObjectImpl for VeilMask {}

impl ElementImpl for VeilMask {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static META: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Veil zone mask",
                "Filter/Effect/Video",
                "Masks a camera's forbidden zones (Veil zone file) in every frame, at capture time",
                "The Veil developers",
            )
        });
        Some(&*META)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let max = veil_core::MAX_DIMENSION as i32;
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS)
                .width_range(1..=max)
                .height_range(1..=max)
                .build();
            [gst::PadDirection::Src, gst::PadDirection::Sink]
                .into_iter()
                .filter_map(|dir| {
                    let name = if dir == gst::PadDirection::Src {
                        "src"
                    } else {
                        "sink"
                    };
                    gst::PadTemplate::new(name, dir, gst::PadPresence::Always, &caps).ok()
                })
                .collect()
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        match transition {
            // Refused here, before any data flows: an error posted while the pipeline
            // prerolls on blanked frames leaves gst-launch-1.0 (and applications that wait
            // for the state change) hanging.
            gst::StateChange::ReadyToPaused | gst::StateChange::PausedToPlaying => {
                self.check_zones(true)?;
            }
            _ => {}
        }
        self.parent_change_state(transition)
    }
}

impl BaseTransformImpl for VeilMask {
    const MODE: gst_base::subclass::BaseTransformMode = gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn propose_allocation(
        &self,
        decide_query: Option<&gst::query::Allocation>,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        self.parent_propose_allocation(decide_query, query)?;
        // any strides and plane offsets are fine: upstream need not copy into a packed layout
        query.add_allocation_meta::<gst_video::VideoMeta>(None);
        Ok(())
    }
}

impl VideoFilterImpl for VeilMask {
    fn set_info(
        &self,
        incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        outcaps: &gst::Caps,
        out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        if in_info.interlace_mode() == gst_video::VideoInterlaceMode::Alternate {
            return Err(gst::loggable_error!(
                CAT,
                "alternate-field interlacing is not supported"
            ));
        }
        let Some(format) = pixel_format(in_info.format()) else {
            return Err(gst::loggable_error!(
                CAT,
                "unsupported format {:?}",
                in_info.format()
            ));
        };
        let (w, h) = (in_info.width(), in_info.height());
        let failure = {
            let mut inner = self.lock();
            inner.geometry = Some((format, w, h));
            inner.rebuild();
            match &inner.masker {
                Some(Err(f)) if f.kind == FailKind::Frame => Some(f.clone()),
                _ => None,
            }
        };
        gst::debug!(CAT, imp = self, "mask rasterised for {format:?} {w}x{h}");
        if let Some(f) = failure {
            // veil-core cannot mask this geometry (e.g. odd 4:2:0 sizes): refuse the caps
            self.post_once(&f);
            return Err(gst::loggable_error!(CAT, "{}", f.reason));
        }
        self.parent_set_info(incaps, in_info, outcaps, out_info)
    }

    fn transform_frame_ip(
        &self,
        frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let (result, fail_closed) = {
            let inner = self.lock();
            (Self::mask(inner.masker.as_ref(), frame), inner.fail_closed)
        };
        let Err(failure) = result else {
            return Ok(gst::FlowSuccess::Ok);
        };
        // fail closed: nothing of this frame's scene survives, whatever happens next
        blank(frame);
        self.post_once(&failure);
        let addressable = plane_strides(frame).is_ok();
        if fail_closed && addressable {
            gst::debug!(CAT, imp = self, "frame blanked: {}", failure.reason);
            Ok(gst::FlowSuccess::Ok)
        } else {
            Err(gst::FlowError::Error)
        }
    }
}
