use super::*;

#[test]
fn i420_planes_validated() {
    let y = vec![0u8; 64 * 4];
    let u = vec![0u8; 32 * 2];
    let v = vec![0u8; 32 * 2];
    let f = FrameRef::new(PixelFormat::I420, 64, 4, &[(&y, 64), (&u, 32), (&v, 32)]).expect("valid");
    assert_eq!(f.planes().len(), 3);
    assert_eq!(f.plane(1).map(|p| p.width()), Some(32));
    assert_eq!(
        FrameRef::new(PixelFormat::I420, 64, 4, &[(&y, 63), (&u, 32), (&v, 32)]).unwrap_err(),
        FrameError::InvalidStride {
            plane: 0,
            stride: 63,
            min: 64
        }
    );
    assert_eq!(
        FrameRef::new(PixelFormat::I420, 64, 4, &[(&y[..255], 64), (&u, 32), (&v, 32)]).unwrap_err(),
        FrameError::BufferTooShort {
            plane: 0,
            len: 255,
            min: 256
        }
    );
    assert!(matches!(
        FrameRef::new(PixelFormat::I420, 63, 4, &[(&y, 64), (&u, 32), (&v, 32)]),
        Err(FrameError::OddSize { .. })
    ));
    assert!(matches!(
        FrameRef::new(PixelFormat::I420, 64, 4, &[(&y, 64), (&u, 32)]),
        Err(FrameError::PlaneCount {
            expected: 3,
            got: 2,
            ..
        })
    ));
}

#[test]
fn last_row_needs_no_padding() {
    // stride 10, 3 rows of 8 bytes: 10*2+8 = 28 bytes suffice
    let buf = vec![0u8; 28];
    assert!(FrameRef::new(PixelFormat::Gray8, 8, 3, &[(&buf, 10)]).is_ok());
    assert!(FrameRef::new(PixelFormat::Gray8, 8, 3, &[(&buf[..27], 10)]).is_err());
}

#[test]
fn absurd_sizes_rejected() {
    let buf = vec![0u8; 16];
    assert!(matches!(
        FrameRef::new(PixelFormat::Gray8, 0, 3, &[(&buf, 10)]),
        Err(FrameError::ZeroSize { .. })
    ));
    assert!(matches!(
        FrameRef::new(PixelFormat::Gray8, 60_000, 60_000, &[(&buf, 60_000)]),
        Err(FrameError::TooLarge { .. })
    ));
    assert!(matches!(
        Frame::new(PixelFormat::Rgba, 16_384, 16_384),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn stride_overflow_is_an_error() {
    let buf = vec![0u8; 16];
    assert!(matches!(
        FrameRef::new(PixelFormat::Gray8, 4, 4, &[(&buf, usize::MAX)]),
        Err(FrameError::Overflow { plane: 0 })
    ));
}

#[test]
fn owned_frame_round_trip() {
    for format in PixelFormat::ALL {
        let mut f = Frame::new(format, 18, 6).expect("frame");
        {
            let mut m = f.as_mut();
            for p in m.planes_mut() {
                for y in 0..p.height() {
                    for (x, b) in p.row_mut(y).iter_mut().enumerate() {
                        *b = (x as u32 * 7 + y * 13) as u8;
                    }
                }
            }
        }
        let copy = Frame::from_ref(&f.as_ref());
        assert_eq!(copy, f);
        assert_eq!(f.stride(0) % 64, 0);
    }
}

#[test]
fn raw_parts_match_slices() {
    let mut y = vec![1u8; 8 * 4];
    let mut uv = vec![2u8; 8 * 2];
    // SAFETY: both buffers outlive the view and are not otherwise accessed meanwhile.
    let f = unsafe {
        FrameMut::from_raw_parts(
            PixelFormat::Nv12,
            8,
            4,
            &[(y.as_mut_ptr(), 8), (uv.as_mut_ptr(), 8)],
        )
    }
    .expect("valid");
    assert_eq!(f.as_ref().plane(1).map(|p| p.bytes_per_pixel()), Some(2));
    // SAFETY: null pointers are rejected before any access.
    let e = unsafe { FrameMut::from_raw_parts(PixelFormat::Gray8, 8, 4, &[(std::ptr::null_mut(), 8)]) };
    assert_eq!(e.unwrap_err(), FrameError::NullPlane { plane: 0 });
}
