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
