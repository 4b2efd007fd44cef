//! `veilmask` under the gstreamer-check `Harness`: every format with padded strides compared
//! byte for byte with veil-core's `CaptureMasker` on the same frame, in-place operation,
//! no zones with `allow-empty`, caps renegotiation, style override, zone files that go bad
//! while playing and the re-read on PLAYING. Failures when the element starts end a real
//! pipeline (the harness cannot start it): `fail_closed.rs` tests those.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use gst::prelude::*;
use gst_base::prelude::*;
use gst_check::Harness;
use gst_video::VideoFormat;
use veil_core::{CameraConfig, CaptureMasker, FrameMut, PixelFormat, ZoneStyle};

mod support;
use support::init;

/// Three zones, one of each style, one of them concave: every kernel runs.
const ZONES: &str = support::zones!("harness");

fn veil_format(f: VideoFormat) -> PixelFormat {
    gstveil::veilmask::pixel_format(f).unwrap()
}

/// Plane offsets and strides of a buffer: `pad` bytes after every row, and a gap of
/// `pad * 3` bytes before every plane after the first.
struct Layout {
    offsets: Vec<usize>,
    strides: Vec<usize>,
    size: usize,
}

fn padded_layout(format: PixelFormat, w: u32, h: u32, pad: usize) -> Layout {
    let (mut offsets, mut strides, mut size) = (Vec::new(), Vec::new(), 0);
    for i in 0..format.plane_count() {
        let l = format.plane_layout(w, h, i).unwrap();
        if i > 0 {
            size += pad * 3;
        }
        let stride = l.row_bytes() + pad;
        offsets.push(size);
        strides.push(stride);
        size += stride * l.height as usize;
    }
    Layout {
        offsets,
        strides,
        size,
    }
}

/// Deterministic noise (xorshift), so that every masked byte differs from what a kernel writes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// A buffer of noise with a `GstVideoMeta` describing `layout`.
fn buffer(vf: VideoFormat, w: u32, h: u32, layout: &Layout, seed: u64) -> gst::Buffer {
    let mut buf = gst::Buffer::from_mut_slice(noise(layout.size, seed));
    let strides: Vec<i32> = layout.strides.iter().map(|&s| s as i32).collect();
    gst_video::VideoMeta::add_full(
        buf.get_mut().unwrap(),
        gst_video::VideoFrameFlags::empty(),
        vf,
        w,
        h,
        &layout.offsets,
        &strides,
    )
    .unwrap();
    buf
}

/// What `CaptureMasker` makes of `bytes` laid out as `layout`.
fn expected(
    bytes: &[u8],
    layout: &Layout,
    format: PixelFormat,
    w: u32,
    h: u32,
    config: &CameraConfig,
) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut rest: &mut [u8] = &mut out;
    let mut planes = Vec::new();
    let mut at = 0;
    for i in 0..format.plane_count() {
        let (_, r) = rest.split_at_mut(layout.offsets[i] - at);
        let rows = format.plane_layout(w, h, i).unwrap().height as usize;
        let (plane, r) = r.split_at_mut(layout.strides[i] * rows);
        planes.push((plane, layout.strides[i]));
        at = layout.offsets[i] + layout.strides[i] * rows;
        rest = r;
    }
    let mut frame = FrameMut::new(format, w, h, planes).unwrap();
    CaptureMasker::new(config, w, h, format)
        .unwrap()
        .apply(&mut frame)
        .unwrap();
    out
}

fn caps(vf: VideoFormat, w: u32, h: u32) -> gst::Caps {
    gst_video::VideoInfo::builder(vf, w, h)
        .fps(gst::Fraction::new(25, 1))
        .build()
        .unwrap()
        .to_caps()
        .unwrap()
}

fn element(config: Option<&str>) -> gst::Element {
    init();
    let mut b = gst::ElementFactory::make("veilmask");
    if let Some(c) = config {
        b = b.property("config", c);
    }
    b.build().unwrap()
}

fn harness(e: &gst::Element) -> Harness {
    Harness::with_element(e, Some("sink"), Some("src"))
}

fn bytes(buf: &gst::Buffer) -> Vec<u8> {
    buf.map_readable().unwrap().as_slice().to_vec()
}

fn config() -> CameraConfig {
    CameraConfig::from_toml_str(ZONES, "test").unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("veil-gst-harness");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Push one padded frame, pull it, and check it equals `CaptureMasker`'s result byte for byte
/// (stride padding and the gaps between planes included: they must stay untouched).
fn push_and_check(
    h: &mut Harness,
    vf: VideoFormat,
    w: u32,
    ht: u32,
    pad: usize,
    seed: u64,
    config: &CameraConfig,
) {
    let format = veil_format(vf);
    let layout = padded_layout(format, w, ht, pad);
    let input = buffer(vf, w, ht, &layout, seed);
    let before = bytes(&input);
    let out = h.push_and_pull(input).unwrap();
    let got = bytes(&out);
    let want = expected(&before, &layout, format, w, ht, config);
    assert_ne!(
        want, before,
        "{vf:?} {w}x{ht}: the zones changed nothing (test is void)"
    );
    let diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert!(
        diff.is_none() && got.len() == want.len(),
        "{vf:?} {w}x{ht} pad {pad}: first differing byte at {diff:?}"
    );
}

#[test]
fn every_format_with_padded_strides_equals_capture_masker() {
    let config = config();
    for vf in gstveil::veilmask::FORMATS {
        for (w, h, pad) in [(70u32, 50u32, 13usize), (64, 48, 0), (98, 34, 64)] {
            let e = element(Some(ZONES));
            let mut hn = harness(&e);
            hn.set_src_caps(caps(vf, w, h));
            for seed in 1..=2 {
                push_and_check(&mut hn, vf, w, h, pad, seed, &config);
            }
        }
    }
}

#[test]
fn frames_without_video_meta_use_the_default_layout() {
    let config = config();
    for vf in [VideoFormat::I420, VideoFormat::Rgb, VideoFormat::Bgrx] {
        let (w, h) = (70, 50);
        let info = gst_video::VideoInfo::builder(vf, w, h).build().unwrap();
        let layout = Layout {
            offsets: info.offset()[..info.n_planes() as usize].to_vec(),
            strides: info.stride()[..info.n_planes() as usize]
                .iter()
                .map(|&s| s as usize)
                .collect(),
            size: info.size(),
        };
        let e = element(Some(ZONES));
        let mut hn = harness(&e);
        hn.set_src_caps(caps(vf, w, h));
        let input = gst::Buffer::from_mut_slice(noise(info.size(), 7));
        let before = bytes(&input);
        let got = bytes(&hn.push_and_pull(input).unwrap());
        assert_eq!(
            got,
            expected(&before, &layout, veil_format(vf), w, h, &config),
            "{vf:?}"
        );
    }
}

#[test]
fn writable_buffers_are_masked_in_place_and_others_copied() {
    let e = element(Some(ZONES));
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::Nv12, 64, 48));
    let layout = padded_layout(PixelFormat::Nv12, 64, 48, 16);

    let input = buffer(VideoFormat::Nv12, 64, 48, &layout, 3);
    let ptr = input.as_ptr();
    let out = h.push_and_pull(input).unwrap();
    assert_eq!(out.as_ptr(), ptr, "a writable buffer must be masked in place");

    let kept = buffer(VideoFormat::Nv12, 64, 48, &layout, 4);
    let before = bytes(&kept);
    let out = h.push_and_pull(kept.clone()).unwrap();
    assert_ne!(out.as_ptr(), kept.as_ptr(), "a shared buffer must be copied");
    assert_eq!(bytes(&kept), before, "the shared input must stay untouched");
    assert_eq!(
        bytes(&out),
        expected(&before, &layout, PixelFormat::Nv12, 64, 48, &config())
    );
}

#[test]
fn caps_renegotiation_mid_stream_rasterises_anew() {
    let config = config();
    let e = element(Some(ZONES));
    let mut h = harness(&e);
    let steps = [
        (VideoFormat::I420, 64, 48),
        (VideoFormat::Nv12, 96, 54),
        (VideoFormat::Rgba, 50, 40),
        (VideoFormat::I420, 64, 48),
    ];
    for (i, (vf, w, ht)) in steps.into_iter().enumerate() {
        h.set_src_caps(caps(vf, w, ht));
        push_and_check(&mut h, vf, w, ht, 5, 10 + i as u64, &config);
        push_and_check(&mut h, vf, w, ht, 5, 20 + i as u64, &config);
    }
}

#[test]
fn allow_empty_runs_without_zones_through_the_masker() {
    let empty = "[camera]\nid = \"c\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n";
    for config in [None, Some(empty)] {
        let e = element(config);
        assert!(
            !e.property::<bool>("allow-empty"),
            "allow-empty defaults to false"
        );
        e.set_property("allow-empty", true);
        let bt = e.clone().downcast::<gst_base::BaseTransform>().unwrap();
        // no passthrough: every frame is checked by the (empty) mask
        assert!(!bt.is_passthrough(), "{config:?}");
        let mut h = harness(&e);
        h.set_src_caps(caps(VideoFormat::I420, 64, 48));
        let layout = padded_layout(PixelFormat::I420, 64, 48, 8);
        let input = buffer(VideoFormat::I420, 64, 48, &layout, 5);
        let before = bytes(&input);
        let out = h.push_and_pull(input).unwrap();
        assert_eq!(bytes(&out), before);

        // zones set while playing: masking starts with the next frame
        e.set_property("config", ZONES);
        push_and_check(
            &mut h,
            VideoFormat::I420,
            64,
            48,
            8,
            6,
            &CameraConfig::from_toml_str(ZONES, "t").unwrap(),
        );
    }
}

/// [`ZONES`] with every zone under the weakest style: any override is at least as strong.
fn weak_zones() -> String {
    ZONES
        .replace("label = \"door\"", "label = \"door\"\nstyle = \"weak-blur\"")
        .replace("style = \"pixelate\"\nblock = 8", "style = \"weak-blur\"")
}

#[test]
fn style_override_applies_to_every_zone() {
    let weak = weak_zones();
    // byte for byte: the irreversible blur's noise differs from run to run (below)
    for (nick, style) in [
        ("solid", ZoneStyle::Solid),
        ("pixelate", ZoneStyle::Pixelate),
        ("weak-blur", ZoneStyle::WeakBlur),
    ] {
        let e = element(Some(&weak));
        e.set_property_from_str("style-override", nick);
        let mut config = CameraConfig::from_toml_str(&weak, "test").unwrap();
        for z in &mut config.zones {
            z.style = style;
        }
        let mut h = harness(&e);
        h.set_src_caps(caps(VideoFormat::Bgr, 70, 50));
        push_and_check(&mut h, VideoFormat::Bgr, 70, 50, 3, 8, &config);
    }
    // the irreversible blur: every zone changes, with new noise on every frame
    let e = element(Some(&weak));
    e.set_property_from_str("style-override", "blur");
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::Bgr, 70, 50));
    let layout = padded_layout(PixelFormat::Bgr24, 70, 50, 3);
    let outs: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let input = buffer(VideoFormat::Bgr, 70, 50, &layout, 8);
            let before = bytes(&input);
            let got = bytes(&h.push_and_pull(input).unwrap());
            assert_ne!(got, before, "blur override: nothing masked");
            got
        })
        .collect();
    assert_ne!(outs[0], outs[1], "blur override: the same noise twice");
}

#[test]
fn zone_file_property_and_reread_on_playing() {
    let path = tmp("reread.toml");
    std::fs::write(&path, ZONES).unwrap();
    init();
    let e = gst::ElementFactory::make("veilmask")
        .property("zones", path.to_str().unwrap())
        .build()
        .unwrap();
    assert_eq!(e.property::<Option<String>>("zones").as_deref(), path.to_str());
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::Gray8, 64, 48));
    push_and_check(&mut h, VideoFormat::Gray8, 64, 48, 4, 1, &config());

    // the file changes; the element keeps its zones until the next transition to PLAYING
    let solid_only = ZONES
        .replace("style = \"pixelate\"\nblock = 8", "")
        .replace("style = \"weak-blur\"\nradius = 3", "");
    std::fs::write(&path, &solid_only).unwrap();
    push_and_check(&mut h, VideoFormat::Gray8, 64, 48, 4, 2, &config());
    e.set_state(gst::State::Paused).unwrap();
    e.set_state(gst::State::Playing).unwrap();
    let new = CameraConfig::from_toml_str(&solid_only, "t").unwrap();
    push_and_check(&mut h, VideoFormat::Gray8, 64, 48, 4, 3, &new);
}

/// Every visible byte of `bytes` (laid out as `layout`) is the format's black.
fn assert_black(bytes: &[u8], layout: &Layout, format: PixelFormat, w: u32, h: u32) {
    for i in 0..format.plane_count() {
        let l = format.plane_layout(w, h, i).unwrap();
        let black = format.black(i);
        for y in 0..l.height as usize {
            let row = &bytes[layout.offsets[i] + y * layout.strides[i]..][..l.row_bytes()];
            for px in row.chunks(black.len()) {
                assert_eq!(px, black, "plane {i} row {y} not blanked");
            }
        }
    }
}

/// The element errors posted on `bus` so far, as "message / debug" texts.
fn errors(bus: &gst::Bus) -> Vec<String> {
    std::iter::from_fn(|| bus.pop_filtered(&[gst::MessageType::Error]))
        .map(|m| match m.view() {
            gst::MessageView::Error(e) => format!("{} / {:?}", e.error(), e.debug()),
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn a_weakening_style_override_set_while_playing_blanks_frames() {
    let e = element(Some(ZONES));
    let bus = gst::Bus::new();
    e.set_bus(Some(&bus));
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::I420, 64, 48));
    push_and_check(&mut h, VideoFormat::I420, 64, 48, 2, 1, &config());
    // the door and the window are stronger than the plain blur: refused, frames blanked
    e.set_property_from_str("style-override", "weak-blur");
    let layout = padded_layout(PixelFormat::I420, 64, 48, 2);
    let out = h
        .push_and_pull(buffer(VideoFormat::I420, 64, 48, &layout, 2))
        .unwrap();
    assert_black(&bytes(&out), &layout, PixelFormat::I420, 64, 48);
    let errs = errors(&bus);
    assert!(
        errs.len() == 1 && errs[0].contains("would weaken zone 0") && errs[0].contains("stronger"),
        "{errs:?}"
    );
    // back to the zones' own styles
    e.set_property_from_str("style-override", "none");
    push_and_check(&mut h, VideoFormat::I420, 64, 48, 2, 3, &config());
}

#[test]
fn bad_zone_file_set_while_playing_blanks_frames_and_posts_an_error_naming_the_file() {
    let bad = tmp("bad-zone.toml");
    std::fs::write(&bad, ZONES.replace("[0.95, 0.05]", "[1.5, 0.05]")).unwrap();
    let missing = tmp("does-not-exist.toml");
    let _ = std::fs::remove_file(&missing);
    for (path, reason) in [(&bad, "outside 0..1"), (&missing, "cannot read")] {
        for vf in [VideoFormat::I420, VideoFormat::Rgba, VideoFormat::Nv12] {
            let e = element(Some(ZONES));
            let bus = gst::Bus::new();
            e.set_bus(Some(&bus));
            let mut h = harness(&e);
            h.set_src_caps(caps(vf, 64, 48));
            e.set_property("zones", path.to_str().unwrap());
            let format = veil_format(vf);
            let layout = padded_layout(format, 64, 48, 6);
            for seed in 1..=3 {
                let out = h.push_and_pull(buffer(vf, 64, 48, &layout, seed)).unwrap();
                assert_black(&bytes(&out), &layout, format, 64, 48);
            }
            let errs = errors(&bus);
            assert_eq!(
                errs.len(),
                1,
                "one error per failure, not one per frame: {errs:?}"
            );
            assert!(
                errs[0].contains(path.to_str().unwrap()) && errs[0].contains(reason),
                "{errs:?}"
            );
        }
    }
}

#[test]
fn bad_zones_without_fail_closed_stop_the_stream() {
    let e = element(Some(ZONES));
    e.set_property("fail-closed", false);
    let bus = gst::Bus::new();
    e.set_bus(Some(&bus));
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::I420, 64, 48));
    e.set_property(
        "config",
        ZONES.replace("kind = \"public-road\"", "kind = \"pavement\""),
    );
    let layout = padded_layout(PixelFormat::I420, 64, 48, 0);
    assert_eq!(
        h.push(buffer(VideoFormat::I420, 64, 48, &layout, 1)),
        Err(gst::FlowError::Error)
    );
    assert!(h.try_pull().is_none(), "nothing may leave the element");
    let errs = errors(&bus);
    assert!(
        errs.iter()
            .any(|e| e.contains("veilmask config property") && e.contains("pavement")),
        "{errs:?}"
    );
}

#[test]
fn a_fixed_zone_file_recovers_after_a_bad_one() {
    let e = element(Some(ZONES));
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::Gray8, 32, 16));
    e.set_property("config", "not toml [");
    let layout = padded_layout(PixelFormat::Gray8, 32, 16, 2);
    let out = h
        .push_and_pull(buffer(VideoFormat::Gray8, 32, 16, &layout, 1))
        .unwrap();
    assert_black(&bytes(&out), &layout, PixelFormat::Gray8, 32, 16);
    e.set_property("config", ZONES);
    push_and_check(&mut h, VideoFormat::Gray8, 32, 16, 2, 2, &config());
}

#[test]
fn odd_sized_420_caps_are_refused_with_zones() {
    let e = element(Some(ZONES));
    let bus = gst::Bus::new();
    e.set_bus(Some(&bus));
    let mut h = harness(&e);
    h.set_src_caps(caps(VideoFormat::I420, 63, 47));
    let info = gst_video::VideoInfo::builder(VideoFormat::I420, 63, 47)
        .build()
        .unwrap();
    let res = h.push(gst::Buffer::from_mut_slice(noise(info.size(), 1)));
    assert_eq!(res, Err(gst::FlowError::NotNegotiated));
    assert!(h.try_pull().is_none());
    let errs = errors(&bus);
    assert!(errs.iter().any(|e| e.contains("63x47")), "{errs:?}");
}

#[test]
fn live_and_non_live_pipelines_mask_alike() {
    let config = config();
    for live in [false, true] {
        let e = element(Some(ZONES));
        let mut h = harness(&e);
        h.set_live(live);
        h.set_src_caps(caps(VideoFormat::Nv12, 64, 48));
        for seed in 1..=3 {
            push_and_check(&mut h, VideoFormat::Nv12, 64, 48, 4, seed, &config);
        }
    }
}

#[test]
fn zones_and_config_replace_each_other() {
    let path = tmp("replace.toml");
    std::fs::write(&path, ZONES).unwrap();
    let e = element(Some(ZONES));
    assert_eq!(e.property::<Option<String>>("config").as_deref(), Some(ZONES));
    assert_eq!(e.property::<Option<String>>("zones"), None);
    e.set_property("zones", path.to_str().unwrap());
    assert_eq!(e.property::<Option<String>>("config"), None);
    assert_eq!(e.property::<Option<String>>("zones").as_deref(), path.to_str());
    // clearing the property not in use leaves the other alone
    e.set_property("config", None::<String>);
    assert_eq!(e.property::<Option<String>>("zones").as_deref(), path.to_str());
    // clearing the one in use: no zones (an error unless allow-empty), never passthrough
    e.set_property("zones", None::<String>);
    let bt = e.clone().downcast::<gst_base::BaseTransform>().unwrap();
    assert!(!bt.is_passthrough());
    assert!(e.property::<bool>("fail-closed"));
    assert!(!e.property::<bool>("allow-empty"));
    assert_eq!(
        e.property::<gstveil::StyleOverride>("style-override"),
        gstveil::StyleOverride::None
    );
}
