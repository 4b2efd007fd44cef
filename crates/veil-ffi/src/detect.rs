//! Per-frame detection: `veil_detector` over veil-detect (CenterFace faces, NanoDet persons).

use std::ffi::c_char;

use veil_detect::{
    CenterFace, Class, DetectError, Detection, Detector, FaceSearch, NanoDet, PersonSearch, DEFAULT_MIN_FACE,
    DEFAULT_MIN_PERSON,
};

use crate::error::{report, veil_error, Failure};
use crate::masker::{frame_ref, read_frame, veil_frame};
use crate::status::veil_status;
use crate::util::cstr_path;

/// What a detector looks for: a bit set of the `VEIL_DETECTOR_*` flags.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_detector_kind {
    /// Faces (CenterFace).
    VEIL_DETECTOR_FACES = 1,
    /// Whole persons (NanoDet, COCO class "person").
    VEIL_DETECTOR_PERSONS = 2,
}

/// What a detection is (`veil_detection.class_id`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_class {
    /// A human face.
    VEIL_CLASS_FACE = 0,
    /// A whole person.
    VEIL_CLASS_PERSON = 1,
}

/// One detected object in frame pixel coordinates: the box's top-left corner is `(x, y)`,
/// its size `w` x `h`, clipped to the frame.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct veil_detection {
    /// One of the `VEIL_CLASS_*` values.
    pub class_id: u32,
    /// Confidence in `0..=1`.
    pub score: f32,
    /// Left edge in pixels.
    pub x: f32,
    /// Top edge in pixels.
    pub y: f32,
    /// Width in pixels.
    pub w: f32,
    /// Height in pixels.
    pub h: f32,
}

impl From<&Detection> for veil_detection {
    fn from(d: &Detection) -> Self {
        let class = match d.class {
            Class::Person => veil_class::VEIL_CLASS_PERSON,
            // Class is non_exhaustive; the detectors built here report faces or persons only.
            _ => veil_class::VEIL_CLASS_FACE,
        };
        veil_detection {
            class_id: class as u32,
            score: d.score,
            x: d.bbox.x,
            y: d.bbox.y,
            w: d.bbox.w,
            h: d.bbox.h,
        }
    }
}

/// The status of a detector error.
pub(crate) fn detect_status(e: &DetectError) -> veil_status {
    match e {
        DetectError::RuntimeNotFound { .. } | DetectError::RuntimeLoad { .. } => {
            veil_status::VEIL_STATUS_DETECT_RUNTIME
        }
        DetectError::ManifestIo { .. }
        | DetectError::ManifestSyntax { .. }
        | DetectError::NotInManifest { .. }
        | DetectError::ModelIo { .. }
        | DetectError::ModelChecksum { .. }
        | DetectError::ModelLoad { .. } => veil_status::VEIL_STATUS_DETECT_MODEL,
        DetectError::InvalidConfig { .. } => veil_status::VEIL_STATUS_INVALID_ARGUMENT,
        // Inference, ModelInterface, InputMismatch and future kinds: the frame could not be
        // analysed.
        _ => veil_status::VEIL_STATUS_DETECT_FAILED,
    }
}

impl From<DetectError> for Failure {
    fn from(e: DetectError) -> Self {
        Failure::new(detect_status(&e), e.to_string())
    }
}

/// A face and/or person detector: the verified models loaded into ONNX Runtime sessions.
/// Create with `veil_detector_new`, release with `veil_detector_free`.
pub struct veil_detector {
    faces: Option<FaceSearch>,
    persons: Option<PersonSearch>,
}

// A detector may move between threads (veil-detect detectors are Send); it is not Sync,
// and `veil_detector_detect` takes it exclusively.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<veil_detector>();
};

const KIND_FACES: u32 = veil_detector_kind::VEIL_DETECTOR_FACES as u32;
const KIND_PERSONS: u32 = veil_detector_kind::VEIL_DETECTOR_PERSONS as u32;

fn new_detector(kind: u32, models_dir: *const c_char) -> Result<Box<veil_detector>, Failure> {
    if kind == 0 || kind & !(KIND_FACES | KIND_PERSONS) != 0 {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_INVALID_ARGUMENT,
            format!("kind {kind} is not VEIL_DETECTOR_FACES (1), VEIL_DETECTOR_PERSONS (2) or both (3)"),
        ));
    }
    let dir = if models_dir.is_null() {
        None
    } else {
        // SAFETY: non-NULL, NUL-terminated (contract of the export).
        Some(unsafe { cstr_path(models_dir, "models_dir") }?)
    };
    let mut faces = None;
    let mut persons = None;
    if kind & KIND_FACES != 0 {
        let mut b = CenterFace::builder();
        if let Some(d) = &dir {
            b = b.models_dir(d);
        }
        faces = Some(FaceSearch::new(b.build()?, DEFAULT_MIN_FACE)?);
    }
    if kind & KIND_PERSONS != 0 {
        let mut b = NanoDet::builder();
        if let Some(d) = &dir {
            b = b.models_dir(d);
        }
        persons = Some(PersonSearch::new(b.build()?, DEFAULT_MIN_PERSON)?);
    }
    Ok(Box::new(veil_detector { faces, persons }))
}

/// Load a detector. `kind` is `VEIL_DETECTOR_FACES`, `VEIL_DETECTOR_PERSONS` or both OR-ed
/// together. `models_dir` (may be NULL) is the directory holding `manifest.tsv` and the
/// model files; NULL means `$VEIL_MODELS_DIR`, else the first of
/// `<directory of the executable>/../share/veil/models`, `$XDG_DATA_HOME/veil/models`,
/// `/usr/local/share/veil/models`, `/usr/share/veil/models` that holds the models (and the
/// source checkout's `models/` when the program runs from inside it). Every model
/// file's SHA-256 is checked against the manifest before it is loaded. ONNX Runtime is
/// loaded once per process (`ORT_DYLIB_PATH`, else the places Veil's setup installs it).
///
/// Loading takes a while (model verification and session creation): create one detector
/// per camera stream and reuse it for every frame.
///
/// On success `*out` receives the detector; on failure `*out` is untouched and, if `err_out`
/// is not NULL, `*err_out` receives a new `veil_error` (`VEIL_STATUS_DETECT_RUNTIME`,
/// `VEIL_STATUS_DETECT_MODEL`, `VEIL_STATUS_INVALID_ARGUMENT` for a bad `kind`).
///
/// # Safety
/// `models_dir` is NULL or a NUL-terminated string; `out` and `err_out` are NULL or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_detector_new(
    kind: u32,
    models_dir: *const c_char,
    out: *mut *mut veil_detector,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if out.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "out is NULL"))
        } else {
            new_detector(kind, models_dir)
        };
        match result {
            Ok(d) => {
                // SAFETY: `out` is non-NULL and valid for a write (contract).
                unsafe { out.write(Box::into_raw(d)) };
                veil_status::VEIL_STATUS_OK
            }
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

fn detect(
    d: &mut veil_detector,
    frame: *const veil_frame,
    boxes: *mut veil_detection,
    capacity: usize,
    count_out: *mut usize,
) -> Result<(), Failure> {
    if count_out.is_null() {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            "count_out is NULL",
        ));
    }
    if boxes.is_null() && capacity != 0 {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            format!("boxes is NULL but capacity is {capacity}"),
        ));
    }
    // SAFETY: NULL or pointing to a veil_frame (contract of the export).
    let (f, format) = unsafe { read_frame(frame) }?;
    // SAFETY: the planes are readable and not written during the call (contract).
    let fr = unsafe { frame_ref(&f, format) }?;
    let mut found: Vec<veil_detection> = Vec::new();
    if let Some(det) = &mut d.faces {
        found.extend(det.detect(&fr)?.iter().map(veil_detection::from));
    }
    if let Some(det) = &mut d.persons {
        found.extend(det.detect(&fr)?.iter().map(veil_detection::from));
    }
    if found.len() > capacity {
        // SAFETY: count_out is non-NULL and valid for a write (contract).
        unsafe { count_out.write(found.len()) };
        return Err(Failure::new(
            veil_status::VEIL_STATUS_BUFFER_TOO_SMALL,
            format!(
                "{} detections but capacity is {capacity}; nothing written, retry with *count_out",
                found.len()
            ),
        ));
    }
    if !found.is_empty() {
        // SAFETY: boxes is valid for `capacity >= found.len()` writes (contract; non-NULL
        // since capacity > 0), and `found` is a separate allocation.
        unsafe { std::ptr::copy_nonoverlapping(found.as_ptr(), boxes, found.len()) };
    }
    // SAFETY: as above.
    unsafe { count_out.write(found.len()) };
    Ok(())
}

/// Detect faces and/or persons (as chosen in `veil_detector_new`) in `frame`, any
/// `VEIL_PIXEL_FORMAT_*` and size; the frame is only read. The frame goes through the same
/// checks as for `veil_masker_apply`.
///
/// On success the detections are written to `boxes[0..n]` and `*count_out = n`: faces
/// first, then persons, each best score first. If more than `capacity` were found the
/// status is `VEIL_STATUS_BUFFER_TOO_SMALL`, `*count_out` receives the number needed and
/// nothing is written to `boxes`: call again with a larger array (detection runs again; 64
/// entries are plenty for typical scenes). `boxes` may be NULL when `capacity` is 0, to ask
/// for the count. On any other failure `boxes` and `*count_out` are untouched. On a non-OK
/// status, if `err_out` is not NULL, `*err_out` receives a new `veil_error`.
///
/// Thread safety: a detector may be used from any thread, but by one thread at a time.
///
/// # Safety
/// `detector` is NULL or a live detector used by no other thread during the call; `frame`
/// is NULL or points to a `veil_frame` whose planes are readable for
/// `stride * (rows - 1) + row_bytes` bytes each; `boxes` is valid for `capacity` writes;
/// `count_out` and `err_out` are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_detector_detect(
    detector: *mut veil_detector,
    frame: *const veil_frame,
    boxes: *mut veil_detection,
    capacity: usize,
    count_out: *mut usize,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live detector used by this thread only (contract).
        let result = match unsafe { detector.as_mut() } {
            Some(d) => detect(d, frame, boxes, capacity, count_out),
            None => Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "detector is NULL")),
        };
        match result {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

/// Set the smallest face and person heights, in frame pixels, the detector searches for in
/// every frame (defaults 24 and 80; at least 8 and 16; 0 leaves a value unchanged). Faces
/// and persons smaller than the whole-frame network input can see are searched at a finer
/// scale where they can be: where the picture moved since the previous frame, around small
/// ones found in the last 12 frames, and in a band that sweeps the frame every 24 frames (the
/// first frame is searched whole). The detector therefore keeps state between calls: feed it
/// the frames of one stream, in order (a frame of another size starts afresh). It counts the
/// frames it is given: a caller that detects on every n-th frame only stretches these bounds
/// n times (`veil_export_run`'s own analysis tells the search how many frames passed).
///
/// On failure (`VEIL_STATUS_INVALID_ARGUMENT` for a value below the minimum, or
/// `VEIL_STATUS_NULL_PARAMETER`) nothing changes and, if `err_out` is not NULL, `*err_out`
/// receives a new `veil_error`.
///
/// # Safety
/// `detector` is NULL or a live detector used by no other thread during the call;
/// `err_out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_detector_set_min_sizes(
    detector: *mut veil_detector,
    min_face: u32,
    min_person: u32,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        // SAFETY: NULL or a live detector used by this thread only (contract).
        let result = match unsafe { detector.as_mut() } {
            Some(d) => set_min_sizes(d, min_face, min_person),
            None => Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "detector is NULL")),
        };
        match result {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

fn set_min_sizes(d: &mut veil_detector, min_face: u32, min_person: u32) -> Result<(), Failure> {
    // Both checked before either changes.
    let face_ok = min_face == 0 || veil_detect::NET_FACE_PX / min_face as f32 <= veil_detect::MAX_SCALE;
    let person_ok =
        min_person == 0 || veil_detect::NET_PERSON_PX / min_person as f32 <= veil_detect::MAX_SCALE;
    if !face_ok || !person_ok {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_INVALID_ARGUMENT,
            format!("min_face {min_face} (at least 8) or min_person {min_person} (at least 16) too small"),
        ));
    }
    if let (Some(f), true) = (&mut d.faces, min_face != 0) {
        f.set_min_size(min_face)?;
    }
    if let (Some(p), true) = (&mut d.persons, min_person != 0) {
        p.set_min_size(min_person)?;
    }
    Ok(())
}

/// Release a detector. NULL is accepted and ignored.
///
/// # Safety
/// `detector` is NULL or a detector from `veil_detector_new` not yet freed, used by no
/// other thread; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn veil_detector_free(detector: *mut veil_detector) {
    ffi_boundary! {
        if !detector.is_null() {
            // SAFETY: created by Box::into_raw in veil_detector_new, not freed before (contract).
            drop(unsafe { Box::from_raw(detector) });
        }
    }
}
