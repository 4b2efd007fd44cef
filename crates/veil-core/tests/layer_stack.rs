//! The layer stack and what it is built from, through the public API: the order of styles,
//! their parameter ranges, the grouping of shapes into layers, and the accessors of masks.

#![allow(clippy::unwrap_used)]
use veil_core::{
    apply_mask, layers_by_strength, rasterise, Action, CpuLevel, Frame, Geometry, Layer, LayerStack, Mask,
    PixelFormat, Rect, RedactError, Redaction, Shape,
};

fn rect_layer(r: Redaction, rects: &[Rect]) -> Layer {
    Layer {
        action: Action::Redact(r),
        shapes: rects.iter().map(|&r| Shape::Rect(r)).collect(),
    }
}

/// A frame whose every byte differs from black, varying with position.
fn frame(format: PixelFormat, w: u32, h: u32) -> Frame {
    let mut f = Frame::new(format, w, h).unwrap();
    for (p, plane) in f.as_mut().planes_mut().iter_mut().enumerate() {
        for y in 0..plane.height() {
            for (i, b) in plane.row_mut(y).iter_mut().enumerate() {
                *b = 40 + ((i as u32 * 7 + y * 13 + p as u32 * 29) % 150) as u8;
            }
        }
    }
    f
}

fn bytes(f: &Frame) -> Vec<Vec<u8>> {
    let r = f.as_ref();
    r.planes()
        .iter()
        .map(|p| (0..p.height()).flat_map(|y| p.row(y).to_vec()).collect())
        .collect()
}

#[test]
fn strength_orders_solid_then_pixelate_then_blur_and_larger_sizes_first() {
    let order = [
        Redaction::Solid,
        Redaction::Pixelate { block: 4096 },
        Redaction::Pixelate { block: 32 },
        Redaction::Pixelate { block: 2 },
        Redaction::Blur { radius: 1024 },
        Redaction::Blur { radius: 12 },
        Redaction::Blur { radius: 1 },
        Redaction::WeakBlur { radius: 1024 },
        Redaction::WeakBlur { radius: 12 },
        Redaction::WeakBlur { radius: 1 },
    ];
    for pair in order.windows(2) {
        assert!(
            pair[0].strength() > pair[1].strength(),
            "{:?} before {:?}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn parameters_outside_their_range_are_refused() {
    let m = &rasterise(
        &[rect_layer(Redaction::Solid, &[Rect::new(0, 0, 8, 8)])],
        16,
        16,
        PixelFormat::Gray8,
    )
    .unwrap()[0];
    let cases = [
        (Redaction::Pixelate { block: 1 }, false),
        (Redaction::Pixelate { block: 2 }, true),
        (Redaction::Pixelate { block: 4096 }, true),
        (Redaction::Pixelate { block: 4097 }, false),
        (Redaction::Blur { radius: 0 }, false),
        (Redaction::Blur { radius: 1 }, true),
        (Redaction::Blur { radius: 1024 }, true),
        (Redaction::Blur { radius: 1025 }, false),
        (Redaction::WeakBlur { radius: 0 }, false),
        (Redaction::WeakBlur { radius: 1 }, true),
        (Redaction::WeakBlur { radius: 1024 }, true),
        (Redaction::WeakBlur { radius: 1025 }, false),
    ];
    for (r, ok) in cases {
        let mut f = frame(PixelFormat::Gray8, 16, 16);
        let before = bytes(&f);
        let res = apply_mask(&mut f.as_mut(), m, r, CpuLevel::Scalar);
        if ok {
            assert!(res.is_ok(), "{r:?}: {res:?}");
            assert_ne!(bytes(&f), before, "{r:?} changed nothing");
        } else {
            assert!(
                matches!(res, Err(RedactError::InvalidParameter(_))),
                "{r:?}: {res:?}"
            );
            assert_eq!(bytes(&f), before, "{r:?} refused but wrote");
        }
    }
}

#[test]
fn shapes_are_grouped_per_redaction_weakest_first() {
    let (a, b, c, d) = (
        Shape::Rect(Rect::new(0, 0, 1, 1)),
        Shape::Rect(Rect::new(1, 0, 1, 1)),
        Shape::Rect(Rect::new(2, 0, 1, 1)),
        Shape::Rect(Rect::new(3, 0, 1, 1)),
    );
    let blur = Redaction::Blur { radius: 8 };
    let layers = layers_by_strength([
        (Redaction::Solid, a.clone()),
        (blur, b.clone()),
        (Redaction::Solid, c.clone()),
        (Redaction::Pixelate { block: 8 }, d.clone()),
    ]);
    assert_eq!(
        layers,
        vec![
            Layer {
                action: Action::Redact(blur),
                shapes: vec![b]
            },
            Layer {
                action: Action::Redact(Redaction::Pixelate { block: 8 }),
                shapes: vec![d]
            },
            Layer {
                action: Action::Redact(Redaction::Solid),
                shapes: vec![a, c]
            },
        ]
    );
    assert!(layers_by_strength([]).is_empty());
}

#[test]
fn stack_applies_strongest_first_and_checks_the_geometry() {
    let g = Geometry::new(PixelFormat::I420, 32, 16);
    // the weak blur: its bytes are exact, so the pooled run below can be compared with them
    let layers = [
        rect_layer(Redaction::WeakBlur { radius: 4 }, &[Rect::new(0, 0, 32, 16)]),
        Layer {
            action: Action::Keep,
            shapes: vec![Shape::Rect(Rect::new(0, 0, 4, 4))],
        },
        rect_layer(Redaction::Solid, &[Rect::new(8, 0, 8, 8)]),
        rect_layer(Redaction::Pixelate { block: 4 }, &[Rect::new(20, 8, 8, 8)]),
    ];
    let stack = LayerStack::new(&layers, g).unwrap();
    assert_eq!(stack.geometry(), g);
    let order: Vec<Redaction> = stack.layers().iter().map(|(r, _)| *r).collect();
    assert_eq!(
        order,
        [
            Redaction::Solid,
            Redaction::Pixelate { block: 4 },
            Redaction::WeakBlur { radius: 4 }
        ]
    );
    // the kept corner belongs to no applied layer
    assert!(stack
        .layers()
        .iter()
        .all(|(_, m)| !m.plane(0).unwrap().contains(1, 1)));

    let mut f = frame(PixelFormat::I420, 32, 16);
    let before = bytes(&f);
    stack.apply(&mut f.as_mut(), CpuLevel::Scalar).unwrap();
    let after = bytes(&f);
    assert_eq!(after[0][32 + 9], 0, "solid pixel (9, 1)");
    assert_eq!(after[0][32 + 1], before[0][32 + 1], "kept pixel (1, 1)");
    assert_ne!(
        after[0][32 * 10 + 5],
        before[0][32 * 10 + 5],
        "blurred pixel (5, 10)"
    );

    #[cfg(feature = "rayon")]
    {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut pooled = frame(PixelFormat::I420, 32, 16);
        stack
            .apply_in_pool(&mut pooled.as_mut(), CpuLevel::Scalar, &pool)
            .unwrap();
        assert_eq!(bytes(&pooled), after);
    }

    let mut wrong = frame(PixelFormat::I420, 32, 18);
    let before = bytes(&wrong);
    let err = stack.apply(&mut wrong.as_mut(), CpuLevel::Scalar).unwrap_err();
    assert!(matches!(err, RedactError::Frame(_)), "{err}");
    assert_eq!(bytes(&wrong), before, "a refused frame is untouched by the stack");
}

#[test]
fn mask_and_span_accessors() {
    let masks = rasterise(
        &[rect_layer(
            Redaction::Solid,
            &[Rect::new(2, 1, 3, 2), Rect::new(7, 1, 1, 1)],
        )],
        10,
        6,
        PixelFormat::Nv12,
    )
    .unwrap();
    let m: &Mask = &masks[0];
    assert_eq!(m.geometry(), Geometry::new(PixelFormat::Nv12, 10, 6));
    assert_eq!((m.format(), m.width(), m.height()), (PixelFormat::Nv12, 10, 6));
    assert!(!m.is_empty());
    assert_eq!(m.pixel_count(), 7);
    let y = m.plane(0).unwrap();
    assert_eq!(y.rows(), 6);
    assert_eq!(y.row(1), &[[2, 5], [7, 8]]);
    assert_eq!(y.row(6), &[] as &[[u32; 2]], "past the last row");
    assert_eq!(y.pixel_count(), 7);
    assert!(y.contains(2, 1) && y.contains(4, 2) && y.contains(7, 1));
    assert!(!y.contains(1, 1) && !y.contains(5, 1) && !y.contains(8, 1) && !y.contains(2, 3));
    let uv = m.plane(1).unwrap();
    assert_eq!(uv.rows(), 3);
    assert_eq!(uv.row(0), &[[1, 4]], "chroma of both rects, adjacent: one span");
    assert_eq!(uv.row(1), &[[1, 3]]);
    assert!(m.plane(2).is_none());
    assert_eq!(m.regions(2), &[] as &[Rect]);
    assert_eq!(m.regions(1), &[Rect::new(1, 0, 2, 2), Rect::new(3, 0, 1, 1)]);

    let empty = &rasterise(&[rect_layer(Redaction::Solid, &[])], 10, 6, PixelFormat::Gray8).unwrap()[0];
    assert!(empty.is_empty());
    assert_eq!(empty.pixel_count(), 0);
    assert!(empty.plane(0).unwrap().is_empty());
}

#[test]
fn at_most_254_layers() {
    let layer = rect_layer(Redaction::Solid, &[Rect::new(0, 0, 1, 1)]);
    let ok = rasterise(&vec![layer.clone(); 254], 4, 4, PixelFormat::Gray8).unwrap();
    assert_eq!(ok.len(), 254);
    // the last layer wins the pixel
    assert!(ok[253].plane(0).unwrap().contains(0, 0) && !ok[0].plane(0).unwrap().contains(0, 0));
    for n in [255, 256] {
        let err = rasterise(&vec![layer.clone(); n], 4, 4, PixelFormat::Gray8).unwrap_err();
        assert!(
            matches!(err, veil_core::FrameError::Overflow { .. }),
            "{n} layers: {err}"
        );
    }
}
