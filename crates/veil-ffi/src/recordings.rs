//! The recordings form of exports and disclosures: `veil_export_recordings_run` and
//! `veil_disclose_recordings_run` read a camera's segments for a wall-clock window from the
//! recorder's directory (`DIR/<camera>/index.jsonl`), as `redact export --recordings` and
//! `redact disclose --recordings` do: every segment checked against its recorded SHA-256,
//! encrypted ones decrypted in memory, all joined as one stream; the manifest records the
//! segments used and the holes.

use std::ffi::{c_char, CString};

use veil_audit::Timestamp;
use veil_record::{OpenedRecordings, Recordings, RecordingsError, WallWindow};
use veil_redact::{disclose, export};

use crate::disclose::{disclose_failure, veil_disclose_options};
use crate::error::{report, veil_error, Failure};
use crate::export::{veil_export_options, veil_requester};
use crate::status::veil_status;
use crate::util::{cstr_path, cstr_utf8};

/// Where the footage of a recordings export or disclosure comes from. Every string is
/// NUL-terminated; times are RFC 3339 with their zone (`2026-03-01T14:05:00+01:00`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct veil_recordings {
    /// The recorder's directory (`redact record --dir`; required).
    pub dir: *const c_char,
    /// The camera id: its directory under `dir` (required).
    pub camera: *const c_char,
    /// Start of the window, RFC 3339 (required).
    pub from: *const c_char,
    /// End of the window (exclusive), RFC 3339 (required).
    pub to: *const c_char,
    /// The secret key file that opens encrypted segments (`.mp4.age`); NULL: none (an
    /// encrypted segment is then refused with `VEIL_STATUS_FOOTAGE_KEY`).
    pub key: *const c_char,
    /// For `VEIL_REQUESTER_AT` exports: the wall-clock time (RFC 3339) of the point
    /// `keep_at_x`, `keep_at_y` (`keep_at_time` is not used); NULL otherwise.
    pub keep_at: *const c_char,
}

fn invalid(m: String) -> Failure {
    Failure::new(veil_status::VEIL_STATUS_INVALID_ARGUMENT, m)
}

impl From<RecordingsError> for Failure {
    fn from(e: RecordingsError) -> Self {
        let status = match &e {
            RecordingsError::NoRecording { .. } => veil_status::VEIL_STATUS_RECORDINGS_NO_FOOTAGE,
            RecordingsError::Missing { .. }
            | RecordingsError::Altered { .. }
            | RecordingsError::Unindexed { .. } => veil_status::VEIL_STATUS_RECORDINGS_INTEGRITY,
            RecordingsError::Record(
                veil_record::RecordError::Crypt(_) | veil_record::RecordError::Input { .. },
            ) => veil_status::VEIL_STATUS_FOOTAGE_KEY,
            _ => veil_status::VEIL_STATUS_RECORDINGS_INVALID,
        };
        Failure::new(status, e.to_string())
    }
}

/// An RFC 3339 field.
///
/// # Safety
/// `s` is NULL or NUL-terminated.
unsafe fn time(s: *const c_char, what: &str) -> Result<Timestamp, Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { cstr_utf8(s, what) }?;
    Timestamp::parse(text).map_err(|e| invalid(format!("{what}: {e}")))
}

/// Open the recordings `r` asks for (`copy`: for a stream copy, every recorded keyframe kept).
///
/// # Safety
/// `r`'s strings are NULL or NUL-terminated.
unsafe fn open(r: &veil_recordings, copy: bool) -> Result<OpenedRecordings, Failure> {
    // SAFETY: NULL or NUL-terminated strings (contract), as for every field below.
    let dir = unsafe { cstr_path(r.dir, "recordings.dir") }?;
    // SAFETY: as above.
    let camera = unsafe { cstr_utf8(r.camera, "recordings.camera") }?;
    let window = WallWindow {
        // SAFETY: as above.
        from: unsafe { time(r.from, "recordings.from") }?,
        // SAFETY: as above.
        to: unsafe { time(r.to, "recordings.to") }?,
    };
    let key = if r.key.is_null() {
        None
    } else {
        // SAFETY: as above.
        Some(unsafe { cstr_path(r.key, "recordings.key") }?)
    };
    let list = Recordings::from_index(&dir, camera, window)?;
    Ok(if copy {
        list.open_for_copy(key.as_deref())?
    } else {
        list.open(key.as_deref())?
    })
}

fn c_string(text: String, what: &str) -> Result<CString, Failure> {
    CString::new(text).map_err(|_| invalid(format!("{what} holds a NUL byte")))
}

/// Fields of the file form that the recordings form fills in itself must be unset.
fn unset(set: bool, what: &str) -> Result<(), Failure> {
    if set {
        return Err(invalid(format!(
            "{what} is set, but with recordings the window and the footage come from veil_recordings"
        )));
    }
    Ok(())
}

/// `veil_export_run` over a camera's recordings for a wall-clock window (see
/// `veil_recordings`): `opts` as for `veil_export_run`, except that `input`, `key`, `from_s`
/// and `to_s` are left unset (NULL, NaN) and `recording_start` may be NULL (the index gives
/// the wall clock); a `VEIL_REQUESTER_AT` point is given by `recordings->keep_at`.
///
/// The segments covering the window are chosen from `<dir>/<camera>/index.jsonl`, each
/// checked against its recorded SHA-256 before any frame of it is used, and read as one
/// stream. The manifest's `recordings` section records the window asked and delivered (wall
/// clock), each segment used (file, SHA-256, index line, the seconds of the export it gave)
/// and every hole (gaps, deleted segments, time not recorded); the audit entry's window is
/// the wall-clock window delivered. Keeping a requester visible across a hole between two
/// segments is refused (`VEIL_STATUS_EXPORT_INVALID_OPTION`).
///
/// Besides `veil_export_run`'s statuses: `VEIL_STATUS_RECORDINGS_NO_FOOTAGE`,
/// `VEIL_STATUS_RECORDINGS_INTEGRITY` (a segment altered, missing or not indexed: the message
/// names it), `VEIL_STATUS_RECORDINGS_INVALID`. Nothing is written on failure.
///
/// # Safety
/// `opts` and `recordings` are NULL or point to their structs, whose strings are NULL or
/// NUL-terminated (and `keep_tracks` valid for `keep_tracks_len` reads); `err_out` is NULL
/// or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_export_recordings_run(
    opts: *const veil_export_options,
    recordings: *const veil_recordings,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if opts.is_null() || recordings.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "opts or recordings is NULL"))
        } else {
            // SAFETY: non-NULL and pointing to their structs (contract); every field is a raw
            // pointer, a number or a bool.
            let (o, r) = unsafe { (opts.read(), recordings.read()) };
            // SAFETY: the field contracts are this function's.
            unsafe { export_recordings(o, &r) }
        };
        match result {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

/// # Safety
/// As [`veil_export_recordings_run`].
unsafe fn export_recordings(mut o: veil_export_options, r: &veil_recordings) -> Result<(), Failure> {
    unset(!o.input.is_null(), "input")?;
    unset(!o.key.is_null(), "key (give recordings.key)")?;
    unset(!o.from_s.is_nan() || !o.to_s.is_nan(), "from_s or to_s")?;
    // SAFETY: the strings of `r` are NULL or NUL-terminated (contract).
    let source = unsafe { open(r, false) }?;
    let record = source.record().clone();
    let input = c_string(source.path().to_string_lossy().into_owned(), "input")?;
    o.input = input.as_ptr();
    let (from, to) = source.window();
    o.from_s = from;
    o.to_s = to;
    let start = c_string(record.asked.from.to_string(), "recording_start")?;
    if o.recording_start.is_null() && !o.audit_log.is_null() {
        o.recording_start = start.as_ptr();
    }
    if o.requester_kind == veil_requester::VEIL_REQUESTER_AT as u32 {
        // SAFETY: NULL or NUL-terminated (contract).
        let at = unsafe { time(r.keep_at, "recordings.keep_at") }?;
        o.keep_at_time = source.seconds_at(at).ok_or_else(|| {
            invalid(format!(
                "recordings.keep_at {at} lies outside the window {} .. {}",
                record.asked.from, record.asked.to
            ))
        })?;
    } else if !r.keep_at.is_null() {
        return Err(invalid("recordings.keep_at without VEIL_REQUESTER_AT".into()));
    }
    // SAFETY: every string of `o` is NULL or NUL-terminated: the caller's (contract) or the
    // CStrings above, alive until the export returns.
    let mut opts = unsafe { crate::export::options(&o) }?;
    opts.recordings = Some(record);
    export(&opts)?;
    drop((input, start, source));
    Ok(())
}

/// `veil_disclose_run` over a camera's recordings for a wall-clock window (see
/// `veil_recordings`): `opts` as for `veil_disclose_run`, except that `input`, `key`,
/// `recording_start`, `from_s` and `to_s` are left unset (NULL, NaN) and `camera` is NULL or
/// `recordings->camera`.
///
/// The recorded packets of the segments are joined without re-encoding (the copy is the
/// recorded frames, bit for bit), after each segment is checked against its recorded
/// SHA-256. The manifest's `recordings` section maps each part of the copy (seconds of the
/// copy) to its segment (file, SHA-256, index line) and lists the holes;
/// `delivered.wall_clock` and the audit entry's window are the wall clock of the segments
/// the copy came from.
///
/// Besides `veil_disclose_run`'s statuses: `VEIL_STATUS_RECORDINGS_NO_FOOTAGE`,
/// `VEIL_STATUS_RECORDINGS_INTEGRITY`, `VEIL_STATUS_RECORDINGS_INVALID`. Nothing is written or
/// logged on failure before the entry.
///
/// # Safety
/// `opts` and `recordings` are NULL or point to their structs, whose strings are NULL or
/// NUL-terminated; `err_out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_disclose_recordings_run(
    opts: *const veil_disclose_options,
    recordings: *const veil_recordings,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if opts.is_null() || recordings.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "opts or recordings is NULL"))
        } else {
            // SAFETY: non-NULL and pointing to their structs (contract).
            let (o, r) = unsafe { (opts.read(), recordings.read()) };
            // SAFETY: the field contracts are this function's.
            unsafe { disclose_recordings(o, &r) }
        };
        match result {
            Ok(()) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}

/// # Safety
/// As [`veil_disclose_recordings_run`].
unsafe fn disclose_recordings(mut o: veil_disclose_options, r: &veil_recordings) -> Result<(), Failure> {
    unset(!o.input.is_null(), "input")?;
    unset(!o.key.is_null(), "key (give recordings.key)")?;
    unset(!o.recording_start.is_null(), "recording_start")?;
    unset(!o.from_s.is_nan() || !o.to_s.is_nan(), "from_s or to_s")?;
    if !o.camera.is_null() {
        // SAFETY: NULL or NUL-terminated (contract).
        let (a, b) = unsafe {
            (
                cstr_utf8(o.camera, "camera")?,
                cstr_utf8(r.camera, "recordings.camera")?,
            )
        };
        if a != b {
            return Err(invalid(format!(
                "camera `{a}` but the recordings are of camera `{b}`"
            )));
        }
    }
    // SAFETY: the strings of `r` are NULL or NUL-terminated (contract).
    let source = unsafe { open(r, true) }?;
    let record = source.record().clone();
    let input = c_string(source.path().to_string_lossy().into_owned(), "input")?;
    let start = c_string(record.wall_at(0.0).to_string(), "recording_start")?;
    o.input = input.as_ptr();
    o.recording_start = start.as_ptr();
    o.camera = r.camera;
    let (from, to) = source.window();
    o.from_s = from;
    // A wall-clock window ends before `to`; a copy's `to` is inclusive.
    o.to_s = (to - 0.001).max(from);
    // SAFETY: every string of `o` is NULL or NUL-terminated: the caller's (contract) or the
    // CStrings above, alive until the disclosure returns.
    let mut opts = unsafe { crate::disclose::options(&o) }?;
    opts.recordings = Some(record);
    disclose(&opts).map_err(disclose_failure)?;
    drop((input, start, source));
    Ok(())
}
