//! The device setting on this machine's ONNX Runtime (the CPU build): `auto` falls back to
//! the CPU and finds what `cpu` finds; a GPU named explicitly is refused with a typed error
//! naming it, never run on the CPU instead.
#![allow(clippy::unwrap_used)]

mod common;

use common::{convert, load_rgb};
use veil_core::PixelFormat;
use veil_detect::{CenterFace, DetectError, Detector, Device, NanoDet};

/// Whether the loaded runtime was built with a GPU provider. These tests check the
/// CPU-only behaviour and skip what cannot hold where the runtime has one.
fn runtime_has_gpu() -> bool {
    use ort::ep::ExecutionProvider;
    veil_detect::init_runtime(None).unwrap();
    let has = ort::ep::CUDA::is_available().unwrap() || ort::ep::TensorRT::is_available().unwrap();
    assert_eq!(
        Device::Cuda.check_available().is_ok(),
        ort::ep::CUDA::is_available().unwrap()
    );
    assert_eq!(
        Device::TensorRt.check_available().is_ok(),
        ort::ep::TensorRT::is_available().unwrap()
    );
    assert!(Device::Cpu.check_available().is_ok() && Device::Auto.check_available().is_ok());
    has
}

#[test]
fn auto_falls_back_to_the_cpu_and_finds_the_same_faces() {
    let frame = convert(&load_rgb("group_t1.jpg"), PixelFormat::I420);
    let mut cpu = CenterFace::builder().threads(1).build().unwrap();
    assert_eq!(cpu.device(), Device::Cpu);
    let mut auto = CenterFace::builder()
        .threads(1)
        .device(Device::Auto)
        .build()
        .unwrap();
    if runtime_has_gpu() {
        eprintln!(
            "skipped: this ONNX Runtime has a GPU provider (auto chose {})",
            auto.device()
        );
        return;
    }
    assert_eq!(
        auto.device(),
        Device::Cpu,
        "no GPU provider here: auto must report the CPU"
    );
    let a = cpu.detect(&frame.as_ref()).unwrap();
    let b = auto.detect(&frame.as_ref()).unwrap();
    assert_eq!(a.len(), 6, "{a:?}");
    assert_eq!(a, b);
    let mut persons = NanoDet::builder()
        .threads(1)
        .device(Device::Auto)
        .build()
        .unwrap();
    assert_eq!(persons.device(), Device::Cpu);
    let vtest = convert(&load_rgb("vtest_f000.jpg"), PixelFormat::I420);
    let mut persons_cpu = NanoDet::builder().threads(1).build().unwrap();
    assert_eq!(
        persons.detect(&vtest.as_ref()).unwrap(),
        persons_cpu.detect(&vtest.as_ref()).unwrap()
    );
}

#[test]
fn a_gpu_named_explicitly_is_refused_naming_it() {
    if runtime_has_gpu() {
        eprintln!("skipped: this ONNX Runtime has a GPU provider");
        return;
    }
    for (device, provider) in [
        (Device::Cuda, "CUDAExecutionProvider"),
        (Device::TensorRt, "TensorrtExecutionProvider"),
    ] {
        let faces = CenterFace::builder().threads(1).device(device).build();
        let persons = NanoDet::builder().threads(1).device(device).build();
        for err in [faces.err(), persons.err()] {
            match err {
                Some(DetectError::DeviceUnavailable { device: d, reason }) => {
                    assert_eq!(d, device);
                    assert!(reason.contains(provider), "{reason}");
                    let msg = DetectError::DeviceUnavailable { device: d, reason }.to_string();
                    assert!(msg.starts_with(&format!("device {device} unavailable")), "{msg}");
                }
                other => panic!("{device}: expected DeviceUnavailable, got {other:?}"),
            }
        }
    }
}

#[test]
fn device_names_parse_and_print() {
    for (s, d) in [
        ("cpu", Device::Cpu),
        ("cuda", Device::Cuda),
        ("tensorrt", Device::TensorRt),
        ("auto", Device::Auto),
    ] {
        assert_eq!(s.parse::<Device>().unwrap(), d);
        assert_eq!(d.to_string(), s);
    }
    let e = "bogus".parse::<Device>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown device `bogus`: expected one of cpu, cuda, tensorrt, auto"
    );
}
