use veil_core::{Frame, PixelFormat};

use super::*;

const W: u32 = 768;
const H: u32 = 576;

/// A textured scene (a CCTV background stand-in), with `f` applied to each luma pixel.
fn scene(format: PixelFormat, f: impl Fn(u32, u32, u8) -> u8) -> Frame {
    let mut frame = Frame::new(format, W, H).unwrap();
    let bpp = format.plane_layout(W, H, 0).unwrap().row_bytes() / W as usize;
    {
        let mut m = frame.as_mut();
        let p = m.plane_mut(0).unwrap();
        for y in 0..H {
            let row = p.row_mut(y);
            for x in 0..W {
                let (xf, yf) = (x as f32, y as f32);
                let v = 110.0
                    + 50.0 * (xf * 0.05).sin() * (yf * 0.031).cos()
                    + 30.0 * ((xf + 2.0 * yf) * 0.013).sin();
                let v = f(x, y, v.clamp(0.0, 255.0) as u8);
                for c in 0..bpp {
                    row[x as usize * bpp + c] = v;
                }
            }
        }
    }
    frame
}

fn luma(f: impl Fn(u32, u32, u8) -> u8) -> Luma {
    Luma::of(&scene(PixelFormat::I420, f).as_ref())
}

/// Sensor noise: a pseudo-random offset in -amp..=amp per pixel, different for each `seed`.
fn noise(x: u32, y: u32, seed: u32, amp: i32) -> i32 {
    let mut h = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77) ^ seed.wrapping_mul(0xC2B2_AE3D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    (h % (2 * amp as u32 + 1)) as i32 - amp
}

fn add(v: u8, d: i32) -> u8 {
    (i32::from(v) + d).clamp(0, 255) as u8
}

#[test]
fn sensor_noise_and_slow_light_changes_are_the_same_scene() {
    let bg = luma(|_, _, v| v);
    for seed in 1..6 {
        let noisy = luma(|x, y, v| add(v, noise(x, y, seed, 10)));
        assert!(noisy.same_scene(&bg), "noise of +-10 levels, seed {seed}");
    }
    for d in [-MAX_OFFSET, -6, 6, MAX_OFFSET] {
        let lit = luma(|x, y, v| add(v, d + noise(x, y, 9, 6)));
        assert!(lit.same_scene(&bg), "the whole picture {d} levels brighter");
    }
}

#[test]
fn a_face_of_the_minimum_size_is_a_change() {
    let bg = luma(|_, _, v| v);
    // 24 x 24 px (the default minimum face), placed across block boundaries, in several
    // contrasts a face has against a wall; with noise everywhere.
    for (x0, y0, d) in [(301u32, 203u32, 40i32), (13, 550, -35), (700, 5, 30)] {
        let face = luma(|x, y, v| {
            let inside = (x0..x0 + 24).contains(&x) && (y0..y0 + 24).contains(&y);
            add(v, noise(x, y, 3, 8) + if inside { d } else { 0 })
        });
        assert!(!face.same_scene(&bg), "face at ({x0}, {y0}), {d} levels");
    }
}

#[test]
fn a_low_contrast_person_is_a_change() {
    let bg = luma(|_, _, v| v);
    // 32 x 80 px, only 8 levels darker than the background (below the block level, above
    // the cell level).
    let person = luma(|x, y, v| {
        let inside = (400..432).contains(&x) && (300..380).contains(&y);
        add(v, noise(x, y, 4, 4) - if inside { 8 } else { 0 })
    });
    assert!(!person.same_scene(&bg));
}

/// The block means of `base` with `f` applied to each luma pixel (`base` is built once: the
/// position sweeps below would otherwise redraw the scene for every frame).
fn over(base: &Frame, f: impl Fn(u32, u32, u8) -> u8) -> Luma {
    let mut frame = base.clone();
    {
        let mut m = frame.as_mut();
        let p = m.plane_mut(0).unwrap();
        for y in 0..H {
            let row = p.row_mut(y);
            for x in 0..W {
                row[x as usize] = f(x, y, row[x as usize]);
            }
        }
    }
    Luma::of(&frame.as_ref())
}

#[test]
fn a_person_of_the_minimum_size_is_a_change_wherever_it_stands() {
    // 32 x 80 px (the default minimum person height), 8 levels lighter or darker than the
    // ground, with +-6 levels of sensor noise everywhere: at every horizontal alignment to
    // the 8 px blocks and the 16 px cell steps, and at several vertical ones, some cell is
    // mostly covered (its mean moves 6-8 levels, above CELL_LEVEL).
    let base = scene(PixelFormat::I420, |_, _, v| v);
    let bg = over(&base, |x, y, v| add(v, noise(x, y, 1, 6)));
    for d in [-8, 8] {
        for x0 in 200..216u32 {
            for y0 in [200u32, 205, 211] {
                let person = over(&base, |x, y, v| {
                    let inside = (x0..x0 + 32).contains(&x) && (y0..y0 + 80).contains(&y);
                    add(v, noise(x, y, 2 + x0, 6) + if inside { d } else { 0 })
                });
                assert!(!person.same_scene(&bg), "person at ({x0}, {y0}), {d} levels");
            }
        }
    }
}

#[test]
fn a_face_of_the_minimum_size_is_a_change_at_every_block_alignment() {
    // 24 x 24 px, 20 levels from the wall behind it: whatever its alignment it covers a
    // whole 8 x 8 block (above SAMPLE_LEVEL), with noise.
    let base = scene(PixelFormat::I420, |_, _, v| v);
    let bg = over(&base, |x, y, v| add(v, noise(x, y, 1, 6)));
    for d in [-20, 20] {
        for (dx, dy) in (0..8u32).flat_map(|dx| (0..8u32).map(move |dy| (dx, dy))) {
            let (x0, y0) = (500 + dx, 100 + dy);
            let face = over(&base, |x, y, v| {
                let inside = (x0..x0 + 24).contains(&x) && (y0..y0 + 24).contains(&y);
                add(v, noise(x, y, 7 + dx * 8 + dy, 6) + if inside { d } else { 0 })
            });
            assert!(!face.same_scene(&bg), "face at ({x0}, {y0}), {d} levels");
        }
    }
}

/// A keyframe's re-quantisation of a still scene, `gop` choosing the rounding: every 8 x 8
/// transform block's mean moved by up to +-3 levels and its detail rounded to steps of 6,
/// over +-4 levels of sensor noise.
fn requantised(base: &Frame, gop: u32) -> Luma {
    over(base, |x, y, v| {
        let dc = noise(x / 8, y / 8, 1000 + gop, 3);
        let v = i32::from(v) + noise(x, y, gop, 4);
        let v = (v + 3).div_euclid(6) * 6;
        add(v.clamp(0, 255) as u8, dc)
    })
}

#[test]
fn a_keyframe_requantisation_of_a_still_scene_is_the_same_scene() {
    // (The bench's empty clip, x264 CRF 23 with a keyframe every 2 s over sensor noise:
    // block means within 4 levels and cell means within 3 of the background in 10 000
    // comparisons.)
    let base = scene(PixelFormat::I420, |_, _, v| v);
    let bg = requantised(&base, 0);
    for gop in 1..6 {
        assert!(requantised(&base, gop).same_scene(&bg), "keyframe {gop}");
    }
}

#[test]
fn lights_switched_and_other_sizes_are_changes() {
    let bg = luma(|_, _, v| v);
    assert!(!luma(|_, _, v| add(v, MAX_OFFSET + 10)).same_scene(&bg));
    assert!(!luma(|_, _, v| add(v, -(MAX_OFFSET + 10))).same_scene(&bg));
    let small = Luma::of(&Frame::new(PixelFormat::I420, 640, 480).unwrap().as_ref());
    assert!(!small.same_scene(&bg));
    assert!(!Luma::default().same_scene(&Luma::default()));
}

#[test]
fn packed_rgb_is_sampled_like_the_luma_plane() {
    let yuv = luma(|x, y, v| add(v, noise(x, y, 2, 3)));
    for format in [
        PixelFormat::Rgb24,
        PixelFormat::Bgr24,
        PixelFormat::Rgba,
        PixelFormat::Gray8,
    ] {
        let l = Luma::of(&scene(format, |x, y, v| add(v, noise(x, y, 2, 3))).as_ref());
        assert_eq!(l, yuv, "{format:?}");
    }
}

/// The first frame's and the interval's search.
const FULL: Verdict = Verdict::Search {
    full: true,
    renew: true,
};
/// A search because something changed or a track lives, the previous frame searched too.
const PLAIN: Verdict = Verdict::Search {
    full: false,
    renew: false,
};

/// A gate and its feedback at 10 fps, with tracks living `max_age + 1` = 31 frames.
fn gate() -> (Gate, Feedback) {
    (Gate::new(1.0), Feedback::new(30))
}

fn t(n: u64) -> f64 {
    n as f64 / 10.0
}

/// Frame `n` through both stages, as the analysis runs it: the face stage's verdict from
/// what it knows (`lag`: the tracking stage's reports it has not seen yet, frames before
/// `n`), the tracking stage's check of a skip, and its report: `found` whether the
/// detectors returned anything. Returns the face stage's verdict and whether the frame was
/// searched in the end.
fn run(g: &mut Gate, fb: &Feedback, n: u64, l: &Luma, found: bool) -> (Verdict, bool) {
    let v = g.decide(fb, (n, t(n)), l);
    let searched = match v {
        Verdict::Skip => fb.must_search(n, l),
        Verdict::Search { .. } => true,
    };
    if searched {
        let renew = matches!(v, Verdict::Search { renew: true, .. });
        fb.searched(n, found, (renew && !found).then(|| l.clone()));
    }
    (v, searched)
}

/// [`run`] where the face stage knows everything before `n` (the tracking stage has caught
/// up): its verdict, which the tracking stage confirms.
fn step(g: &mut Gate, fb: &Feedback, n: u64, l: &Luma, found: bool) -> Verdict {
    let (v, searched) = run(g, fb, n, l, found);
    assert_eq!(
        v.searched(),
        searched,
        "frame {n}: the exact state confirms the verdict"
    );
    v
}

#[test]
fn the_first_frame_is_searched_in_full_even_against_a_known_background() {
    let bg = luma(|_, _, v| v);
    let (g, fb) = gate();
    fb.searched(9, false, Some(bg.clone()));
    assert_eq!(g.verdict(10, t(10), &bg, &fb.snapshot()), FULL);
}

#[test]
fn an_empty_scene_is_searched_once_per_interval_and_after_skips_in_full() {
    let (mut g, fb) = gate();
    let mut searched = Vec::new();
    for n in 0..100 {
        let l = luma(|x, y, v| add(v, noise(x, y, n as u32, 6)));
        match step(&mut g, &fb, n, &l, false) {
            Verdict::Search { full, renew } => {
                assert!(full && renew, "frame {n}: the interval's search is full");
                searched.push(n);
            }
            Verdict::Skip => {}
        }
    }
    // Once a second (10 frames), from the first frame.
    assert_eq!(searched, (0..100).step_by(10).collect::<Vec<_>>());
    assert_eq!(g.skipped(), 90);
}

#[test]
fn a_changed_frame_is_searched() {
    let (mut g, fb) = gate();
    let bg = luma(|_, _, v| v);
    step(&mut g, &fb, 0, &bg, false);
    assert_eq!(step(&mut g, &fb, 1, &bg, false), Verdict::Skip);
    // Someone comes in (and is not detected: the frame is searched all the same).
    let visit = luma(|x, y, v| {
        add(
            v,
            if (100..130).contains(&x) && (100..190).contains(&y) {
                40
            } else {
                0
            },
        )
    });
    let after_skip = Verdict::Search {
        full: true,
        renew: false,
    };
    assert_eq!(step(&mut g, &fb, 2, &visit, false), after_skip);
    // A changed frame searched with nobody found is not the background (only the interval's
    // searches are): the visitor, standing still, is searched again on every frame.
    for n in 3..10 {
        assert_eq!(step(&mut g, &fb, n, &visit, false), PLAIN, "frame {n}");
    }
}

#[test]
fn a_live_track_is_followed_through_its_coasting_frames() {
    let (mut g, fb) = gate();
    let bg = luma(|_, _, v| v);
    step(&mut g, &fb, 0, &bg, false);
    // A detection on frame 3 of someone the background does not show differently (a low
    // contrast person the gate cannot see).
    assert_eq!(step(&mut g, &fb, 1, &bg, false), Verdict::Skip);
    // Frame 10 is the interval's full search, and it finds someone.
    for n in 2..10 {
        assert_eq!(step(&mut g, &fb, n, &bg, false), Verdict::Skip, "frame {n}");
    }
    assert_eq!(step(&mut g, &fb, 10, &bg, true), FULL);
    // The track lives 31 frames after its last detection: searched through frame 41,
    // although every frame equals the background and nothing more is found.
    for n in 11..=41 {
        assert!(
            step(&mut g, &fb, n, &bg, false).searched(),
            "frame {n}: a live track is followed"
        );
    }
    assert_eq!(step(&mut g, &fb, 42, &bg, false), Verdict::Skip);
}

#[test]
fn the_background_is_only_a_full_search_with_nobody_and_no_track_alive() {
    let (mut g, fb) = gate();
    let empty = luma(|_, _, v| v);
    let visitor = luma(|x, y, v| {
        add(
            v,
            if (300..340).contains(&x) && (200..300).contains(&y) {
                -50
            } else {
                0
            },
        )
    });
    // The first frame holds a visitor, and the detectors find them: no background yet.
    assert_eq!(step(&mut g, &fb, 0, &visitor, true), FULL);
    // Within the track's lifetime the interval's full search finds nobody (the visitor
    // stands still, missed): still no background, since a track is alive.
    for n in 1..=31 {
        assert!(step(&mut g, &fb, n, &visitor, false).searched(), "frame {n}");
    }
    // After it, the scene with the visitor is searched until a full search with nobody
    // and no track makes it the background (frame 32 is not full; frame 40 is the interval).
    for n in 32..40 {
        assert_eq!(step(&mut g, &fb, n, &visitor, false), PLAIN, "frame {n}");
    }
    assert_eq!(step(&mut g, &fb, 40, &visitor, false), FULL);
    assert_eq!(step(&mut g, &fb, 41, &visitor, false), Verdict::Skip);
    // The empty hall is not the background (the visitor's frame is): it is searched.
    assert!(step(&mut g, &fb, 42, &empty, false).searched());
}

#[test]
fn a_skip_decided_on_stale_knowledge_is_searched_after_all() {
    let (mut g, fb) = gate();
    let bg = luma(|_, _, v| v);
    step(&mut g, &fb, 0, &bg, false);
    // Frame 10 is the interval's search; the face stage decides frames 11 and 12 before the
    // tracking stage reports that frame 10 found someone (the gate cannot see them).
    let v10 = g.decide(&fb, (10, t(10)), &bg);
    assert_eq!(v10, FULL);
    let v11 = g.decide(&fb, (11, t(11)), &bg);
    let v12 = g.decide(&fb, (12, t(12)), &bg);
    assert_eq!(
        (v11, v12),
        (Verdict::Skip, Verdict::Skip),
        "the face stage knew nothing yet"
    );
    fb.searched(10, true, None);
    // The tracking stage, knowing frame 10, searches both, and the face stage, once told,
    // searches the next frames itself.
    assert!(fb.must_search(11, &bg) && fb.must_search(12, &bg));
    assert!(step(&mut g, &fb, 13, &bg, false).searched());
}

#[test]
fn a_newer_background_is_checked_by_the_tracking_stage() {
    let (mut g, fb) = gate();
    let old = luma(|_, _, v| v);
    step(&mut g, &fb, 0, &old, false);
    // The light changes beyond the offset taken out; the interval's search renews the
    // background, and a frame the face stage skipped on the old one is searched.
    let new = luma(|_, _, v| add(v, MAX_OFFSET + 20));
    assert!(step(&mut g, &fb, 10, &new, false).searched());
    assert!(
        fb.must_search(11, &old),
        "the old scene is no longer the background"
    );
    assert!(!fb.must_search(11, &new));
}

#[test]
fn the_gated_queues_hold_an_interval_of_frames_within_a_memory_bound() {
    let small = (PixelFormat::I420, 768, 576);
    // Without the gate: the pipeline's own depth.
    assert_eq!(queue_depth(4, None, 10.0, small), 4);
    // With it: one interval more (1 s at 10 fps, 2 s at 25 fps).
    assert_eq!(queue_depth(4, Some(1.0), 10.0, small), 14);
    assert_eq!(queue_depth(4, Some(2.0), 25.0, small), 54);
    // Bounded in bytes (64 MiB of 1080p I420 frames: 21), never below the pipeline's depth.
    assert_eq!(
        queue_depth(4, Some(1.0), 25.0, (PixelFormat::I420, 1920, 1080)),
        21
    );
    assert_eq!(
        queue_depth(4, Some(1.0), 25.0, (PixelFormat::Rgba, 7680, 4320)),
        4
    );
    assert_eq!(
        queue_depth(4, Some(3600.0), 1000.0, small),
        64 * 1024 * 1024 / (768 * 576 * 3 / 2)
    );
    // A frame rate that is not a number (never from a probe) adds nothing.
    assert_eq!(queue_depth(4, Some(1.0), f64::NAN, small), 4);
}
