//! Capture-time masking: `veil_masker` and `veil_frame`.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use veil_core::{CameraConfig, CaptureMasker, FrameMut, PixelFormat};

use crate::error::{report, veil_error, write_message, Failure};
use crate::status::veil_status;
use crate::util::{cstr_path, cstr_utf8};

/// Pixel layouts. Strides are in bytes; 4:2:0 formats need even width and height.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_pixel_format {
    /// Three planes Y, U, V; U and V are (width/2) x (height/2).
    VEIL_PIXEL_FORMAT_I420 = 0,
    /// Two planes: Y, then interleaved U/V of (width/2) x (height/2) pairs.
    VEIL_PIXEL_FORMAT_NV12 = 1,
    /// One plane of packed R, G, B bytes.
    VEIL_PIXEL_FORMAT_RGB24 = 2,
    /// One plane of packed B, G, R bytes.
    VEIL_PIXEL_FORMAT_BGR24 = 3,
    /// One plane of packed R, G, B, A bytes.
    VEIL_PIXEL_FORMAT_RGBA = 4,
    /// One 8-bit luma plane.
    VEIL_PIXEL_FORMAT_GRAY8 = 5,
}

/// A pixel format value as passed in from C: any 32-bit value, validated before use.
/// Appears in the header as `veil_pixel_format` (cbindgen.toml renames it and does not emit
/// it), which is a `uint32_t` there too.
pub type veil_pixel_format_t = u32;

/// The veil-core format for a raw value from C, or `None` for a value outside the enum.
fn pixel_format_from_raw(raw: veil_pixel_format_t) -> Option<PixelFormat> {
    const FORMATS: [(veil_pixel_format, PixelFormat); 6] = [
        (veil_pixel_format::VEIL_PIXEL_FORMAT_I420, PixelFormat::I420),
        (veil_pixel_format::VEIL_PIXEL_FORMAT_NV12, PixelFormat::Nv12),
        (veil_pixel_format::VEIL_PIXEL_FORMAT_RGB24, PixelFormat::Rgb24),
        (veil_pixel_format::VEIL_PIXEL_FORMAT_BGR24, PixelFormat::Bgr24),
        (veil_pixel_format::VEIL_PIXEL_FORMAT_RGBA, PixelFormat::Rgba),
        (veil_pixel_format::VEIL_PIXEL_FORMAT_GRAY8, PixelFormat::Gray8),
    ];
    FORMATS
        .into_iter()
        .find(|(c, _)| *c as u32 == raw)
        .map(|(_, f)| f)
}

fn invalid_format(what: &str, raw: u32) -> Failure {
    Failure::new(
        veil_status::VEIL_STATUS_INVALID_PIXEL_FORMAT,
        format!("{what} {raw} is not a VEIL_PIXEL_FORMAT_* value (0..=5)"),
    )
}

/// A frame borrowed for the duration of one call. Plane `i` starts at `data[i]` and its rows
/// are `stride[i]` bytes apart (stride >= visible row bytes; padding is never written).
/// Only the format's planes are read: 3 for I420, 2 for NV12, 1 otherwise; the remaining
/// entries are ignored and may be NULL. Planes must not overlap.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct veil_frame {
    /// One of the `VEIL_PIXEL_FORMAT_*` values.
    pub format: veil_pixel_format_t,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// First byte of each plane.
    pub data: [*mut u8; 3],
    /// Bytes from one row to the next, per plane.
    pub stride: [usize; 3],
}

/// Byte ranges of the frame's planes, when they can be computed; `None` when the size or a
/// stride is invalid (veil-core then rejects the frame before it forms any slice).
fn plane_ranges(frame: &veil_frame, format: PixelFormat) -> Result<Option<Vec<(usize, usize)>>, Failure> {
    let mut ranges = Vec::with_capacity(3);
    for plane in 0..format.plane_count() {
        let Some(layout) = format.plane_layout(frame.width, frame.height, plane) else {
            return Ok(None);
        };
        let row = layout.row_bytes();
        let stride = frame.stride[plane];
        if layout.height == 0 || stride < row {
            return Ok(None);
        }
        let Some(len) = stride
            .checked_mul(layout.height as usize - 1)
            .and_then(|v| v.checked_add(row))
        else {
            return Ok(None);
        };
        let start = frame.data[plane] as usize;
        let end = start.checked_add(len).ok_or_else(|| {
            Failure::new(
                veil_status::VEIL_STATUS_INVALID_FRAME,
                format!("plane {plane}: {len} bytes from its data pointer wrap the address space"),
            )
        })?;
        ranges.push((start, end));
    }
    Ok(Some(ranges))
}

/// Refuse a frame whose planes overlap.
///
/// For a writable view overlapping planes would make two `&mut [u8]` alias, which is
/// undefined behaviour in Rust even if C would cope; a read-only view (detection) refuses
/// them too, so that every entry point accepts exactly the same frames.
fn check_no_overlap(frame: &veil_frame, format: PixelFormat) -> Result<(), Failure> {
    if let Some(ranges) = plane_ranges(frame, format)? {
        for (i, a) in ranges.iter().enumerate() {
            for (j, b) in ranges.iter().enumerate().skip(i + 1) {
                if a.0 < b.1 && b.0 < a.1 && !frame.data[i].is_null() && !frame.data[j].is_null() {
                    return Err(Failure::new(
                        veil_status::VEIL_STATUS_INVALID_FRAME,
                        format!("planes {i} and {j} overlap"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Read a `veil_frame` from C and validate its format value.
///
/// # Safety
/// `frame` is NULL or points to a `veil_frame`.
pub(crate) unsafe fn read_frame(frame: *const veil_frame) -> Result<(veil_frame, PixelFormat), Failure> {
    if frame.is_null() {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            "frame is NULL",
        ));
    }
    // SAFETY: non-NULL and pointing to a veil_frame (contract). Every field is an integer or
    // a raw pointer, so any bit pattern is a valid value.
    let f = unsafe { frame.read() };
    let format = pixel_format_from_raw(f.format).ok_or_else(|| invalid_format("frame format", f.format))?;
    Ok((f, format))
}

/// Validate a C frame and view it as a [`FrameMut`] without copying.
///
/// # Safety
/// Each of the format's planes points to memory readable and writable for
/// `stride * (rows - 1) + row_bytes` bytes, that nothing else accesses during the call.
unsafe fn frame_mut<'a>(frame: &veil_frame, format: PixelFormat) -> Result<FrameMut<'a>, Failure> {
    check_no_overlap(frame, format)?;
    let planes: Vec<(*mut u8, usize)> = (0..format.plane_count())
        .map(|i| (frame.data[i], frame.stride[i]))
        .collect();
    // SAFETY: the caller guarantees each plane's memory is valid and exclusively ours for the
    // call, and the planes were checked above not to overlap. veil-core checks the sizes,
    // strides and NULL pointers before forming slices.
    let f = unsafe { FrameMut::from_raw_parts(format, frame.width, frame.height, &planes) }?;
    Ok(f)
}

/// Validate a C frame and view it as a read-only [`veil_core::FrameRef`] without copying: the same
/// checks as for masking (format, size, strides, NULL planes, overlap).
///
/// # Safety
/// Each of the format's planes points to memory readable for
/// `stride * (rows - 1) + row_bytes` bytes, that nothing writes during the call.
#[cfg(feature = "detect")]
pub(crate) unsafe fn frame_ref<'a>(
    frame: &veil_frame,
    format: PixelFormat,
) -> Result<veil_core::FrameRef<'a>, Failure> {
    check_no_overlap(frame, format)?;
    let planes: Vec<(*const u8, usize)> = (0..format.plane_count())
        .map(|i| (frame.data[i].cast_const(), frame.stride[i]))
        .collect();
    // SAFETY: the caller guarantees each plane's memory is readable and not written for the
    // call. veil-core checks the sizes, strides and NULL pointers before forming slices.
    let f = unsafe { veil_core::FrameRef::from_raw_parts(format, frame.width, frame.height, &planes) }?;
    Ok(f)
}

/// Masks a camera's forbidden zones in frames of one geometry (format, width, height). The
/// zones are rasterised once, in `veil_masker_new`; applying them is then a loop over
/// precomputed spans. Create with `veil_masker_new`, release with `veil_masker_free`.
#[derive(Debug)]
pub struct veil_masker {
    inner: CaptureMasker,
    /// Message of the most recent failed `veil_masker_apply` (not cleared by successes, so
    /// that it can still be read after the failing call returned).
    last_error: Mutex<Option<Failure>>,
}

// `veil_masker_apply` shares a masker between threads; keep that sound if fields change.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<veil_masker>();
};

impl veil_masker {
    fn remember(&self, failure: &Failure) {
        // A poisoned lock only means another thread panicked while holding it; the slot
        // holds plain data, so it is still usable.
        let mut slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(failure.clone());
    }

    fn apply(&self, frame: *const veil_frame) -> Result<(), Failure> {
        // SAFETY: NULL or pointing to a veil_frame (contract of the exports).
        let (f, format) = unsafe { read_frame(frame) }?;
        // SAFETY: plane validity is the contract of the exports.
        let mut fm = unsafe { frame_mut(&f, format) }?;
        let (mformat, mwidth, mheight) = self.inner.geometry();
        if (format, f.width, f.height) != (mformat, mwidth, mheight) {
            // Checked here rather than left to veil-core so that the frame is blanked even
            // for a zone file without zones (veil-core then has no mask to compare with).
            fm.fill_black();
            return Err(Failure::new(
                veil_status::VEIL_STATUS_GEOMETRY_MISMATCH,
                format!(
                    "frame is {format:?} {}x{} but the masker was built for {mformat:?} {mwidth}x{mheight}; \
                     frame blanked",
                    f.width, f.height
                ),
            ));
        }
        match catch_unwind(AssertUnwindSafe(|| self.inner.apply(&mut fm))) {
            Ok(Ok(())) => Ok(()),
            // veil-core has blanked the frame before returning the error.
            Ok(Err(e)) => {
                let mut failure = Failure::from(e);
                failure.message.push_str("; frame blanked");
                Err(failure)
            }
            Err(_) => {
                // A half-masked frame must not escape: blank it before reporting.
                fm.fill_black();
                Err(Failure::new(
                    veil_status::VEIL_STATUS_PANIC,
                    "internal error (panic) while masking; frame blanked",
                ))
            }
        }
    }
}

fn new_masker(
    camera_toml: *const c_char,
    origin: *const c_char,
    width: u32,
    height: u32,
    format: veil_pixel_format_t,
) -> Result<Box<veil_masker>, Failure> {
    // SAFETY: NULL or NUL-terminated strings (contract of the exports).
    let text = unsafe { cstr_utf8(camera_toml, "camera_toml") }?;
    let origin = if origin.is_null() {
        std::path::PathBuf::from("<camera_toml>")
    } else {
        // SAFETY: as above.
        unsafe { cstr_path(origin, "origin") }?
    };
    let format = pixel_format_from_raw(format).ok_or_else(|| invalid_format("format", format))?;
    let config = CameraConfig::from_toml_str(text, origin)?;
    let inner = CaptureMasker::new(&config, width, height, format)?;
    Ok(Box::new(veil_masker {
        inner,
        last_error: Mutex::new(None),
    }))
}

/// Build a masker for `width` x `height` frames in `format` from the text of a zone file
/// (TOML: a `[camera]` table and `[[zones]]` with normalised polygons).
///
/// On success `*out` receives a new masker (free it with `veil_masker_free`); on failure
/// `*out` is left untouched. Use `veil_masker_new_ex` to get the detailed message (which
/// zone, which field).
///
/// # Safety
/// `camera_toml` is NULL or a NUL-terminated string; `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_new(
    camera_toml: *const c_char,
    width: u32,
    height: u32,
    format: veil_pixel_format_t,
    out: *mut *mut veil_masker,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: forwarded contract; NULL err_out is allowed.
        unsafe { veil_masker_new_ex(camera_toml, std::ptr::null(), width, height, format, out, std::ptr::null_mut()) }
    }
}

/// As `veil_masker_new`, plus: `origin` (may be NULL) names the zone file in messages, e.g.
/// its path; on failure, if `err_out` is not NULL, `*err_out` receives a new `veil_error`
/// with the detailed message (free it with `veil_error_free`). `*err_out` is written only
/// on failure, `*out` only on success.
///
/// # Safety
/// `camera_toml` and `origin` are NULL or NUL-terminated strings; `out` and `err_out` are
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_new_ex(
    camera_toml: *const c_char,
    origin: *const c_char,
    width: u32,
    height: u32,
    format: veil_pixel_format_t,
    out: *mut *mut veil_masker,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if out.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "out is NULL"))
        } else {
            new_masker(camera_toml, origin, width, height, format)
        };
        match result {
            Ok(masker) => {
                // SAFETY: `out` is non-NULL and valid for a write (contract).
                unsafe { out.write(Box::into_raw(masker)) };
                veil_status::VEIL_STATUS_OK
            }
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

/// Mask the zones of `frame` in place. Privacy fails closed: on any status but
/// `VEIL_STATUS_OK` do not store or show the frame. When the frame itself is readable but
/// cannot be masked as asked (`VEIL_STATUS_GEOMETRY_MISMATCH`, `VEIL_STATUS_MASKING_FAILED`,
/// `VEIL_STATUS_PANIC`), it has been blanked to black; when the frame description is
/// unusable (`VEIL_STATUS_NULL_PARAMETER`, `VEIL_STATUS_INVALID_PIXEL_FORMAT`,
/// `VEIL_STATUS_INVALID_SIZE`, `VEIL_STATUS_INVALID_FRAME`) nothing was written to it.
///
/// The message of a failure is kept in the masker: `veil_masker_last_error`.
///
/// Thread safety: applying only reads the masker, so one masker may be used by several
/// threads at once (each with its own frame). The last-error slot is then shared between
/// them; use `veil_masker_apply_ex` for per-call messages.
///
/// # Safety
/// `masker` is NULL or a live masker; `frame` is NULL or points to a `veil_frame` whose
/// planes are readable and writable for `stride * (rows - 1) + row_bytes` bytes each, and
/// not accessed by anything else during the call.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_apply(
    masker: *const veil_masker,
    frame: *const veil_frame,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live masker (contract).
        let Some(m) = (unsafe { masker.as_ref() }) else {
            return veil_status::VEIL_STATUS_NULL_PARAMETER;
        };
        match m.apply(frame) {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            Err(failure) => {
                m.remember(&failure);
                failure.status
            }
        }
    }
}

/// As `veil_masker_apply`, plus: on failure, if `err_out` is not NULL, `*err_out` receives a
/// new `veil_error` with the message of this call (free it with `veil_error_free`). The
/// masker's last-error slot is updated as well.
///
/// # Safety
/// As `veil_masker_apply`; `err_out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_apply_ex(
    masker: *const veil_masker,
    frame: *const veil_frame,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live masker (contract).
        let Some(m) = (unsafe { masker.as_ref() }) else {
            let failure = Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "masker is NULL");
            // SAFETY: err_out is NULL or valid for a write (contract).
            return unsafe { report(failure, err_out) };
        };
        match m.apply(frame) {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            Err(failure) => {
                m.remember(&failure);
                // SAFETY: err_out is NULL or valid for a write (contract).
                unsafe { report(failure, err_out) }
            }
        }
    }
}

/// Copy the message of the most recent failed `veil_masker_apply` on `masker` into `buf`
/// (conventions of `veil_error_message`); an empty string if none has failed. Successful
/// calls do not clear it.
///
/// # Safety
/// `masker` is NULL or a live masker; `buf` is valid for `len` bytes of writes; `out_n` is
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_last_error(
    masker: *const veil_masker,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live masker (contract).
        let Some(m) = (unsafe { masker.as_ref() }) else {
            return veil_status::VEIL_STATUS_NULL_PARAMETER;
        };
        let slot = m.last_error.lock().unwrap_or_else(|p| p.into_inner());
        let message = slot.as_ref().map_or("", |f| f.message.as_str());
        // SAFETY: buffer and out_n validity are this function's contract.
        unsafe { write_message(message, buf, len, out_n) }
    }
}

/// Release a masker. NULL is accepted and ignored.
///
/// # Safety
/// `masker` is NULL or a masker from `veil_masker_new` not yet freed, used by no other
/// thread; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn veil_masker_free(masker: *mut veil_masker) {
    ffi_boundary! {
        if !masker.is_null() {
            // SAFETY: created by Box::into_raw in veil_masker_new_ex, not freed before (contract).
            drop(unsafe { Box::from_raw(masker) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_values_match_veil_core() {
        for f in PixelFormat::ALL {
            assert_eq!(pixel_format_from_raw(f as u32), Some(f));
        }
        assert_eq!(pixel_format_from_raw(6), None);
        assert_eq!(pixel_format_from_raw(u32::MAX), None);
    }

    #[test]
    fn overlapping_planes_are_refused() {
        let mut buf = vec![0u8; 64];
        let p = buf.as_mut_ptr();
        let frame = veil_frame {
            format: veil_pixel_format::VEIL_PIXEL_FORMAT_I420 as u32,
            width: 4,
            height: 4,
            // U and V are the same plane
            data: [p, p.wrapping_add(16), p.wrapping_add(16)],
            stride: [4, 2, 2],
        };
        // SAFETY: all planes lie inside `buf`; the overlap is refused before slicing.
        let err = unsafe { frame_mut(&frame, PixelFormat::I420) }.unwrap_err();
        assert_eq!(err.status, veil_status::VEIL_STATUS_INVALID_FRAME);
        assert!(err.message.contains("planes 1 and 2 overlap"), "{}", err.message);
    }
}
