//! `redact detect` on the vtest fixture: the pedestrians, frame by frame, with the real models.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsStr;

use common::{redact, root, scratch};

#[test]
fn lists_the_pedestrians_of_vtest() {
    let dir = scratch("detect");
    let out = dir.join("detections.json");
    let input = root().join("fixtures/vtest.mp4");
    let args: Vec<&OsStr> = vec![
        "detect".as_ref(),
        input.as_os_str(),
        "--to".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    let o = redact(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(
        (doc["width"].as_u64(), doc["height"].as_u64()),
        (Some(768), Some(576))
    );
    assert_eq!(doc["fps"].as_f64(), Some(10.0));
    let frames = doc["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 10, "1 s at 10 fps");
    // frame 0: the three pedestrians (boxes annotated by eye on fixtures/images/vtest_f000.jpg)
    let truth = [
        [639.0, 241.0, 46.0, 82.0],
        [500.0, 156.0, 29.0, 76.0],
        [253.0, 221.0, 28.0, 86.0],
    ];
    let persons: Vec<[f64; 4]> = frames[0]["detections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["class"] == "person")
        .map(|d| {
            let b = d["box"].as_array().unwrap();
            [0, 1, 2, 3].map(|i| b[i].as_f64().unwrap())
        })
        .collect();
    let iou = |a: &[f64; 4], b: &[f64; 4]| {
        let iw = ((a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0])).max(0.0);
        let ih = ((a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1])).max(0.0);
        iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)
    };
    for t in &truth {
        assert!(
            persons.iter().any(|p| iou(p, t) >= 0.5),
            "pedestrian {t:?} not found in {persons:?}"
        );
    }
    assert!(persons.len() <= 4, "false positives: {persons:?}");
    // every frame lists at least two of them, times advance by 0.1 s
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["index"].as_u64(), Some(i as u64));
        assert!((f["time"].as_f64().unwrap() - i as f64 * 0.1).abs() < 1e-6);
        let n = f["detections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["class"] == "person")
            .count();
        assert!(n >= 2, "frame {i}: {n} persons");
    }
}

#[test]
fn broken_input_is_a_clear_error_and_no_output() {
    let dir = scratch("detect-broken");
    let input = dir.join("garbage.mp4");
    std::fs::write(&input, b"this is not a video").unwrap();
    let out = dir.join("d.json");
    let args: Vec<&OsStr> = vec![
        "detect".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    let o = redact(&args);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.starts_with("error: ") && e.contains("garbage.mp4"), "{e}");
    assert!(!out.exists());
}

/// `redact detect` over the first 0.2 s of vtest into `dir/name`, with `args` added and
/// `VEIL_DEVICE` set to `env` (unset with `None`).
fn detect_with(dir: &std::path::Path, name: &str, args: &[&str], env: Option<&str>) -> std::process::Output {
    let mut c = std::process::Command::new(common::redact_bin());
    c.arg("detect")
        .arg(common::vtest())
        .args(["--to", "0.2", "-o"])
        .arg(dir.join(name))
        .args(args);
    match env {
        Some(v) => c.env(veil::detect::DEVICE_ENV, v),
        None => c.env_remove(veil::detect::DEVICE_ENV),
    };
    c.output().unwrap()
}

#[test]
fn a_gpu_the_runtime_lacks_is_refused_and_nothing_is_written() {
    // This machine's ONNX Runtime is the CPU build (the tests run where there is no GPU).
    let dir = scratch("detect-device");
    for (args, env) in [(&["--device", "cuda"][..], None), (&[][..], Some("cuda"))] {
        let o = detect_with(&dir, "d.json", args, env);
        let e = common::stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?} {env:?}: {e}");
        assert!(
            e.starts_with("error: device cuda unavailable") && e.contains("CUDAExecutionProvider"),
            "{e}"
        );
        assert!(common::listing(&dir).is_empty(), "{:?}", common::listing(&dir));
    }
    // The flag wins over the environment.
    let o = detect_with(&dir, "cpu.json", &["--device", "cpu"], Some("cuda"));
    assert!(o.status.success(), "{}", common::stderr(&o));
}

#[test]
fn auto_falls_back_to_the_cpu_and_says_so() {
    let dir = scratch("detect-auto");
    let o = detect_with(&dir, "cpu.json", &[], None);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let o = detect_with(&dir, "auto.json", &[], Some("auto"));
    let e = common::stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains("detectors: centerface on cpu, nanodet on cpu (--device auto; device cuda unavailable: ")
            && e.contains("no CUDAExecutionProvider"),
        "{e}"
    );
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    assert_eq!(read("cpu.json"), read("auto.json"), "the same detections");
}

#[test]
fn an_unknown_device_is_a_usage_error() {
    let dir = scratch("detect-bogus");
    for (args, env) in [(&["--device", "bogus"][..], None), (&[][..], Some("bogus"))] {
        let o = detect_with(&dir, "d.json", args, env);
        let e = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {e}");
        assert!(
            e.contains("unknown device `bogus`: expected one of cpu, cuda, tensorrt, auto"),
            "{e}"
        );
        assert!(e.contains("VEIL_DEVICE"), "{e}");
        assert!(common::listing(&dir).is_empty());
    }
}
