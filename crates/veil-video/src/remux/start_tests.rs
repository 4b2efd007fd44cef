//! Telling the keyframes a copy can start at from the packet's NAL units.

use super::*;

#[test]
fn an_idr_slice_is_found_length_prefixed_or_after_a_start_code() {
    let avc = StartRule::for_stream(ff::codec::Id::H264, &[1, 0x64, 0, 0x1f, 0xff, 0xe1]);
    assert_eq!(avc, StartRule::H264 { nal_length: Some(4) });
    // SEI (6), then an IDR slice (0x65: type 5).
    let idr = [0, 0, 0, 2, 6, 9, 0, 0, 0, 3, 0x65, 1, 2];
    // SEI, then a non-IDR I slice (0x41: type 1), as an open GOP's later keyframes.
    let non_idr = [0, 0, 0, 2, 6, 9, 0, 0, 0, 3, 0x41, 1, 2];
    assert!(avc.can_start(&idr));
    assert!(!avc.can_start(&non_idr));
    // A length running past the packet: no start point.
    assert!(!avc.can_start(&[0, 0, 0, 9, 0x65, 1]));
    let annexb = StartRule::for_stream(ff::codec::Id::H264, &[0, 0, 0, 1, 0x67]);
    assert_eq!(annexb, StartRule::H264 { nal_length: None });
    assert!(annexb.can_start(&[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88]));
    assert!(!annexb.can_start(&[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x88]));
    let other = StartRule::for_stream(ff::codec::Id::HEVC, &[1, 2, 3]);
    assert!(other.can_start(&[]));
}
