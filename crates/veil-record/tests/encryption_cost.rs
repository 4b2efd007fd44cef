//! What encrypting a recording costs next to encoding it: the bundled clip (768x576, 10 fps,
//! 15 s) encoded as the recorder encodes a segment, once to a plain file and once through an
//! encrypting file, and the encoded bytes encrypted alone. Prints the figures the README
//! quotes (run it optimised: `cargo test --release -p veil-record --test encryption_cost --
//! --nocapture`); asserts that the encrypted segment decrypts to a playable MP4 with every
//! frame, never a time.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use veil_video::{EncodeOptions, ReadOptions, VideoReader, VideoWriter};

fn encode_opts(fps: u32) -> EncodeOptions {
    EncodeOptions {
        fragment: Some(Duration::from_secs(1)),
        keyframe_interval: Some(fps),
        ..EncodeOptions::default()
    }
}

#[test]
fn encryption_costs_little_next_to_encoding() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("veil-record-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut reader = VideoReader::open(root.join("fixtures/vtest.mp4"), &ReadOptions::default()).unwrap();
    let info = reader.info().clone();
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        frames.push(f);
    }
    let fps = (f64::from(info.fps.0) / f64::from(info.fps.1)).round() as u32;
    let opts = encode_opts(fps);
    let keys = veil_crypt::generate_key_files(&dir.join("site.key")).unwrap();
    let site = veil_crypt::load_recipients(&keys.public).unwrap();
    let mut best = [f64::MAX; 3];
    for round in 0..3 {
        // Plain, as an unencrypted recorder writes it.
        let plain = dir.join(format!("plain-{round}.mp4"));
        let t = Instant::now();
        let mut w = VideoWriter::create(&plain, &info, &opts).unwrap();
        for f in &frames {
            w.write_decoded(f).unwrap();
        }
        w.finish().unwrap();
        best[0] = best[0].min(t.elapsed().as_secs_f64());
        // Encrypted as it is written, as `--encrypt-to` writes it (a fresh data key sealed
        // to the site key, then the stream).
        let sealed_path = dir.join(format!("enc-{round}.mp4.age"));
        let t = Instant::now();
        let data = veil_crypt::SecretKey::generate();
        std::fs::write(
            dir.join(format!("enc-{round}.key.age")),
            data.seal(&site).unwrap(),
        )
        .unwrap();
        let enc = veil_crypt::EncryptingFile::create(&sealed_path, &[data.public()]).unwrap();
        let mut w = VideoWriter::create_stream(&sealed_path, enc.writer(), &info, &opts).unwrap();
        for f in &frames {
            w.write_decoded(f).unwrap();
        }
        w.finish().unwrap();
        enc.finish().unwrap();
        best[1] = best[1].min(t.elapsed().as_secs_f64());
        // The encryption alone, of the same bytes.
        let bytes = std::fs::read(&plain).unwrap();
        let alone = dir.join(format!("alone-{round}.age"));
        let t = Instant::now();
        let enc = veil_crypt::EncryptingFile::create(&alone, &[data.public()]).unwrap();
        enc.writer().write_all(&bytes).unwrap();
        enc.finish().unwrap();
        best[2] = best[2].min(t.elapsed().as_secs_f64());
        // The encrypted segment decrypts to a playable MP4 with every frame.
        let opened = dir.join(format!("opened-{round}.mp4"));
        let mut out = std::fs::File::create(&opened).unwrap();
        veil_crypt::decrypt_file_to(&[data], &sealed_path, &mut out).unwrap();
        drop(out);
        let mut r = VideoReader::open(&opened, &ReadOptions::default()).unwrap();
        let mut n = 0;
        while r.next_frame().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, frames.len());
    }
    let mb = std::fs::metadata(dir.join("plain-0.mp4")).unwrap().len() as f64 / 1e6;
    let secs = frames.len() as f64 / f64::from(fps);
    println!(
        "{} frames {}x{} ({secs:.0} s of footage, {mb:.2} MB encoded), best of 3:\n  \
         encode to a plain file:        {:.3} s\n  \
         encode through encryption:     {:.3} s ({:+.1}%)\n  \
         encryption alone of the bytes: {:.4} s ({:.2}% of encoding, {:.0} MB/s)",
        frames.len(),
        info.width,
        info.height,
        best[0],
        best[1],
        100.0 * (best[1] / best[0] - 1.0),
        best[2],
        100.0 * best[2] / best[0],
        mb / best[2],
    );
    std::fs::remove_dir_all(dir).unwrap();
}
