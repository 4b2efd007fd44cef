//! File-level inzage exports over veil-redact: `veil_export_run`, mirroring `redact export`.

use std::ffi::c_char;
use std::path::PathBuf;

use veil_redact::{export, ExportAudit, ExportOptions, RedactError, Requester, Style};

use crate::detect::detect_status;
use crate::error::{config_status, report, veil_error, Failure};
use crate::status::veil_status;
use crate::util::{cstr_path, cstr_utf8};

/// Who is kept visible in an export (`veil_export_options.requester_kind`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_requester {
    /// Nobody: every tracked person and face is redacted.
    VEIL_REQUESTER_NONE = 0,
    /// The tracks `keep_tracks[0..keep_tracks_len]` of the tracks file (`tracks_path` is
    /// then required, as the ids come from it).
    VEIL_REQUESTER_TRACKS = 1,
    /// The person whose box contains pixel (`keep_at_x`, `keep_at_y`) of the frame shown at
    /// `keep_at_time` seconds. Nobody there is an error (`VEIL_STATUS_EXPORT_NOBODY_AT`),
    /// never a silent full redaction; so are the boxes of several people there with no clear
    /// winner (exactly one face there wins): `VEIL_STATUS_EXPORT_INVALID_OPTION`, the message
    /// listing the candidates.
    VEIL_REQUESTER_AT = 2,
}

/// How bystanders are redacted (`veil_export_options.style`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_style {
    /// Blur over noisy coarse cells scaled with the box height (irreversible).
    VEIL_STYLE_BLUR = 0,
    /// Block means scaled with the box height (irreversible).
    VEIL_STYLE_PIXELATE = 1,
    /// Black fill (irreversible).
    VEIL_STYLE_SOLID = 2,
}

/// What `veil_export_run` does. Fill it with `veil_export_options_default` first, then set
/// the fields you need, so that unset times are NaN.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct veil_export_options {
    /// Input recording (required).
    pub input: *const c_char,
    /// Output video, H.264 MP4 (required), written atomically.
    pub output: *const c_char,
    /// Manifest path; NULL: `<output>.manifest.json`.
    pub manifest: *const c_char,
    /// The camera's zone file (TOML), masked on every frame first; NULL: none.
    pub zones_toml_path: *const c_char,
    /// Tracks file from a previous analysis (`redact analyze`); NULL: the export analyses
    /// the window itself first. Refused (`VEIL_STATUS_EXPORT_TRACKS`) when it was made from
    /// another recording, does not cover the window, or was analysed on one frame in more
    /// than 6 (`every`; the 5 frames of temporal padding would not cover the frames between
    /// detections) or does not record how often (an older Veil's). The manifest copies the
    /// file's models, thresholds, `every` and minimum sizes.
    pub tracks_path: *const c_char,
    /// Window start in seconds from the start of the input; NaN: the start.
    pub from_s: f64,
    /// Window end in seconds, exclusive; NaN: the end.
    pub to_s: f64,
    /// One of the `VEIL_REQUESTER_*` values.
    pub requester_kind: u32,
    /// `VEIL_REQUESTER_TRACKS`: the track ids to keep visible (NULL when the length is 0).
    pub keep_tracks: *const u64,
    /// Number of entries of `keep_tracks`.
    pub keep_tracks_len: usize,
    /// `VEIL_REQUESTER_AT`: time in seconds from the start of the input.
    pub keep_at_time: f64,
    /// `VEIL_REQUESTER_AT`: pixel column.
    pub keep_at_x: f32,
    /// `VEIL_REQUESTER_AT`: pixel row.
    pub keep_at_y: f32,
    /// One of the `VEIL_STYLE_*` values.
    pub style: u32,
    /// Spotlight mode: redact everything outside the requester's boxes, so that a person the
    /// detector never saw cannot leak (bystander faces are still redacted on top).
    pub spotlight: bool,
    /// Smallest face height, in frame pixels, the analysis searches for in every frame
    /// (default 24; at least 8; lower values cost more). Ignored with `tracks_path` (the
    /// analysis that made the tracks decided it, and the manifest records it).
    pub min_face: u32,
    /// Smallest person height, in frame pixels, the analysis searches for (default 80; at
    /// least 16), so that people whose faces are too small to detect get a body box.
    pub min_person: u32,
    /// Audit log the export is logged in (created if absent); NULL: not logged by this call.
    /// When set, the protocols' rule holds here as in `redact export`: an entry that breaks
    /// a rule refuses the export before any work, and an export whose entry cannot be
    /// appended afterwards is withdrawn (its files are removed,
    /// `VEIL_STATUS_EXPORT_WITHDRAWN`).
    pub audit_log: *const c_char,
    /// With `audit_log`: the entry as one JSON object, as for `veil_audit_append`, with
    /// `action` `"export"` and without `manifest_sha256` and `window` (the export fills them
    /// in: the manifest's SHA-256 and the exported span after `recording_start`). The camera
    /// purposes come from `zones_toml_path`.
    pub audit_entry_json: *const c_char,
    /// With `audit_log`: wall-clock time (RFC 3339, e.g. `2026-03-01T09:00:00Z`) at which
    /// the recording starts.
    pub recording_start: *const c_char,
    /// Replace existing files at `output` and `manifest`. False by default: an existing
    /// destination refuses the export before the work (`VEIL_STATUS_OUTPUT_EXISTS`, the file
    /// untouched), and publishing never replaces a file that appeared meanwhile. Either way
    /// a failed export removes only files it created.
    pub overwrite: bool,
    /// The secret key file (age X25519, mode 0600, as `redact keys generate --encryption`
    /// writes it) that opens an encrypted input: a recorder segment (`.mp4.age`, through its
    /// data key sealed in the camera directory's `keys/`) or a file encrypted to the key. It
    /// is decrypted in memory, never to disk. NULL: an encrypted input is refused
    /// (`VEIL_STATUS_FOOTAGE_KEY`), as is a wrong key.
    pub key: *const c_char,
    /// Deliver the output video encrypted (age) to these public key files (`age1...`, e.g.
    /// `footage.key.pub`), `encrypt_to_len` of them (NULL and 0: in the clear). Any one of
    /// the matching secret keys decrypts it, with Veil or the standard `age` tool. The
    /// manifest stays plain, lists the recipients, and hashes the decrypted copy.
    pub encrypt_to: *const *const c_char,
    /// Number of paths in `encrypt_to`.
    pub encrypt_to_len: usize,
    /// Deliver only where the requester is (`redact export --only-requester --margin`): the
    /// stretches in which a kept tracklet (or the requester's followed face) has a box, each
    /// widened by this many seconds (0 or more) and clamped to the window; frames outside
    /// them are not encoded, the copy's timestamps run on without gaps, audio is dropped, and
    /// the manifest's `only_requester` lists every stretch. NaN (the default): the whole
    /// window. Refused (`VEIL_STATUS_EXPORT_INVALID_OPTION`, nothing written) when negative
    /// or with `VEIL_REQUESTER_NONE` (nobody to deliver).
    pub only_requester_margin_s: f64,
}

impl From<RedactError> for Failure {
    fn from(e: RedactError) -> Self {
        // An entry the log refuses before the work: the audit codes say why.
        let e = match e {
            RedactError::Audit(a) => return Failure::from(a),
            other => other,
        };
        let status = match &e {
            RedactError::NobodyAt { .. } => veil_status::VEIL_STATUS_EXPORT_NOBODY_AT,
            RedactError::InvalidOption { .. } | RedactError::AmbiguousPoint { .. } => {
                veil_status::VEIL_STATUS_EXPORT_INVALID_OPTION
            }
            RedactError::UnknownTrack { .. } => veil_status::VEIL_STATUS_EXPORT_UNKNOWN_TRACK,
            RedactError::Track(_)
            | RedactError::TracksMismatch { .. }
            | RedactError::TracksCoverage { .. } => veil_status::VEIL_STATUS_EXPORT_TRACKS,
            RedactError::EmptyWindow { .. } => veil_status::VEIL_STATUS_EXPORT_EMPTY_WINDOW,
            // a bad window is caught by the reader: still the caller's option, as documented
            RedactError::Video(veil_redact::VideoError::InvalidOption { .. }) => {
                veil_status::VEIL_STATUS_EXPORT_INVALID_OPTION
            }
            RedactError::Video(_) => veil_status::VEIL_STATUS_EXPORT_VIDEO,
            RedactError::Io { .. } => veil_status::VEIL_STATUS_EXPORT_IO,
            // The detector and zone-file codes say more than a generic export failure.
            RedactError::Detect(d) => detect_status(d),
            RedactError::Zones(c) => config_status(c),
            RedactError::ExportWithdrawn { .. } => veil_status::VEIL_STATUS_EXPORT_WITHDRAWN,
            RedactError::OutputExists { .. } => veil_status::VEIL_STATUS_OUTPUT_EXISTS,
            RedactError::Footage(_) | RedactError::Crypt(_) => veil_status::VEIL_STATUS_FOOTAGE_KEY,
            _ => veil_status::VEIL_STATUS_EXPORT_FAILED,
        };
        Failure::new(status, e.to_string())
    }
}

/// A required path field.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn required(s: *const c_char, what: &str) -> Result<PathBuf, Failure> {
    // SAFETY: forwarded contract.
    unsafe { cstr_path(s, what) }
}

/// An optional path field (NULL: unset).
///
/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn optional(s: *const c_char, what: &str) -> Result<Option<PathBuf>, Failure> {
    if s.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { cstr_path(s, what) }.map(Some)
    }
}

/// The `encrypt_to` paths (`len` of them at `paths`).
///
/// # Safety
/// `paths` is NULL with `len` 0, or valid for `len` reads of NULL or NUL-terminated strings.
pub(crate) unsafe fn path_list(
    paths: *const *const c_char,
    len: usize,
    what: &str,
) -> Result<Vec<PathBuf>, Failure> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if paths.is_null() {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            format!("{what} is NULL but {what}_len is {len}"),
        ));
    }
    // SAFETY: non-NULL and valid for `len` reads (contract); copied at once.
    let ptrs = unsafe { std::slice::from_raw_parts(paths, len) };
    ptrs.iter()
        .enumerate()
        // SAFETY: each entry is NULL or NUL-terminated (contract); NULL is refused by cstr_path.
        .map(|(i, &p)| unsafe { cstr_path(p, &format!("{what}[{i}]")) })
        .collect()
}

fn time(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn invalid(message: String) -> Failure {
    Failure::new(veil_status::VEIL_STATUS_INVALID_ARGUMENT, message)
}

/// Translate the C options into veil-redact's, checking every enum value and pointer.
///
/// # Safety
/// `o`'s strings are NULL or NUL-terminated; `keep_tracks` is valid for `keep_tracks_len`
/// reads when the requester is `VEIL_REQUESTER_TRACKS`.
pub(crate) unsafe fn options(o: &veil_export_options) -> Result<ExportOptions, Failure> {
    // SAFETY: NULL or NUL-terminated strings, like every path field below (contract).
    let input = unsafe { required(o.input, "input") }?;
    // SAFETY: as above.
    let output = unsafe { required(o.output, "output") }?;
    let mut opts = ExportOptions::new(input, output);
    // SAFETY: as above.
    opts.manifest = unsafe { optional(o.manifest, "manifest") }?;
    // SAFETY: as above.
    opts.zones = unsafe { optional(o.zones_toml_path, "zones_toml_path") }?;
    // SAFETY: as above.
    opts.tracks = unsafe { optional(o.tracks_path, "tracks_path") }?;
    opts.from = time(o.from_s);
    opts.to = time(o.to_s);
    opts.requester = match o.requester_kind {
        k if k == veil_requester::VEIL_REQUESTER_NONE as u32 => Requester::None,
        k if k == veil_requester::VEIL_REQUESTER_TRACKS as u32 => {
            if opts.tracks.is_none() {
                return Err(invalid(
                    "VEIL_REQUESTER_TRACKS needs tracks_path: track ids are those of a tracks file".into(),
                ));
            }
            if o.keep_tracks_len == 0 {
                return Err(invalid("VEIL_REQUESTER_TRACKS with keep_tracks_len 0".into()));
            }
            if o.keep_tracks.is_null() {
                return Err(Failure::new(
                    veil_status::VEIL_STATUS_NULL_PARAMETER,
                    format!("keep_tracks is NULL but keep_tracks_len is {}", o.keep_tracks_len),
                ));
            }
            // SAFETY: non-NULL and valid for keep_tracks_len reads (contract); copied at once.
            let ids = unsafe { std::slice::from_raw_parts(o.keep_tracks, o.keep_tracks_len) }.to_vec();
            Requester::Tracks { ids }
        }
        k if k == veil_requester::VEIL_REQUESTER_AT as u32 => Requester::At {
            time: o.keep_at_time,
            x: o.keep_at_x,
            y: o.keep_at_y,
        },
        k => {
            return Err(invalid(format!(
                "requester_kind {k} is not a VEIL_REQUESTER_* value (0..=2)"
            )))
        }
    };
    opts.style = match o.style {
        s if s == veil_style::VEIL_STYLE_BLUR as u32 => Style::Blur,
        s if s == veil_style::VEIL_STYLE_PIXELATE as u32 => Style::Pixelate,
        s if s == veil_style::VEIL_STYLE_SOLID as u32 => Style::Solid,
        s => return Err(invalid(format!("style {s} is not a VEIL_STYLE_* value (0..=2)"))),
    };
    opts.spotlight = o.spotlight;
    opts.overwrite = o.overwrite;
    // SAFETY: NULL or NUL-terminated (contract).
    opts.key = unsafe { optional(o.key, "key") }?;
    // SAFETY: NULL with length 0, or valid for encrypt_to_len strings (contract).
    opts.encrypt_to = unsafe { path_list(o.encrypt_to, o.encrypt_to_len, "encrypt_to") }?;
    opts.detect.min_face = o.min_face;
    opts.detect.min_person = o.min_person;
    opts.only_requester = time(o.only_requester_margin_s);
    // SAFETY: NULL or NUL-terminated strings (contract).
    opts.audit = unsafe { audit(o, opts.zones.as_deref()) }?;
    Ok(opts)
}

/// The audit entry of `o`, if it asks for one.
///
/// # Safety
/// `o`'s audit strings are NULL or NUL-terminated.
unsafe fn audit(
    o: &veil_export_options,
    zones: Option<&std::path::Path>,
) -> Result<Option<ExportAudit>, Failure> {
    // SAFETY: as above.
    let Some(log) = unsafe { optional(o.audit_log, "audit_log") }? else {
        if !o.audit_entry_json.is_null() || !o.recording_start.is_null() {
            return Err(invalid(
                "audit_entry_json or recording_start without audit_log: the export would not be logged"
                    .into(),
            ));
        }
        return Ok(None);
    };
    if o.audit_entry_json.is_null() || o.recording_start.is_null() {
        return Err(Failure::new(
            veil_status::VEIL_STATUS_NULL_PARAMETER,
            "audit_log needs audit_entry_json and recording_start",
        ));
    }
    // SAFETY: as above.
    let json = unsafe { cstr_utf8(o.audit_entry_json, "audit_entry_json") }?;
    let entry = crate::audit::parse_entry(json)?;
    if entry.action != veil_audit::Action::Export {
        return Err(invalid(format!(
            "audit_entry_json: action `{}`, an export is logged as `export`",
            entry.action
        )));
    }
    if entry.manifest_sha256.is_some() || entry.window.is_some() {
        return Err(invalid(
            "audit_entry_json: manifest_sha256 and window are filled in by the export".into(),
        ));
    }
    // SAFETY: as above.
    let start = unsafe { cstr_utf8(o.recording_start, "recording_start") }?;
    let start = veil_audit::Timestamp::parse(start)?;
    let purposes = match zones {
        Some(z) => {
            let config = veil_core::CameraConfig::from_file(z)?;
            if let Some(camera) = &entry.camera {
                if *camera != config.id {
                    return Err(invalid(format!(
                        "audit_entry_json: camera `{camera}` but zones_toml_path describes camera `{}`",
                        config.id
                    )));
                }
            }
            config.purposes
        }
        None => Vec::new(),
    };
    Ok(Some(ExportAudit::new(log, entry, purposes, start)))
}

/// Fill `*opts` with the defaults: all pointers NULL, no window (`from_s`, `to_s` NaN),
/// `VEIL_REQUESTER_NONE`, `VEIL_STYLE_BLUR`, no spotlight, `min_face` 24 and `min_person`
/// 80 pixels. Then set at least `input` and
/// `output`. Does nothing when `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_export_options_default(opts: *mut veil_export_options) {
    ffi_boundary! {
        if !opts.is_null() {
            let d = veil_export_options {
                input: std::ptr::null(),
                output: std::ptr::null(),
                manifest: std::ptr::null(),
                zones_toml_path: std::ptr::null(),
                tracks_path: std::ptr::null(),
                from_s: f64::NAN,
                to_s: f64::NAN,
                requester_kind: veil_requester::VEIL_REQUESTER_NONE as u32,
                keep_tracks: std::ptr::null(),
                keep_tracks_len: 0,
                keep_at_time: 0.0,
                keep_at_x: 0.0,
                keep_at_y: 0.0,
                style: veil_style::VEIL_STYLE_BLUR as u32,
                spotlight: false,
                min_face: veil_detect::DEFAULT_MIN_FACE,
                min_person: veil_detect::DEFAULT_MIN_PERSON,
                audit_log: std::ptr::null(),
                audit_entry_json: std::ptr::null(),
                recording_start: std::ptr::null(),
                overwrite: false,
                key: std::ptr::null(),
                encrypt_to: std::ptr::null(),
                encrypt_to_len: 0,
                only_requester_margin_s: f64::NAN,
            };
            // SAFETY: non-NULL and valid for a write (contract).
            unsafe { opts.write(d) };
        }
    }
}

/// Make an inzage copy of a recording, as `redact export` does: decode the window, mask the
/// camera's zones, redact every tracked person and face except the requester (style per
/// `opts->style`; with `spotlight` everything outside the requester), encode H.264 to
/// `opts->output` and write the manifest (`opts->manifest`, else `<output>.manifest.json`).
/// Without `tracks_path` the window is analysed first (faces and persons detected and
/// tracked; needs ONNX Runtime and the models, found as `veil_detector_new` finds them with
/// a NULL `models_dir`). Runs to completion on the calling thread, using worker threads inside;
/// it takes about as long as the video on a small machine.
///
/// Privacy fails closed: on any status but `VEIL_STATUS_OK` no output or manifest file is
/// left (outputs are written to temporary files beside them and published when complete,
/// with a rename that never replaces a file unless `overwrite`); an existing file at a
/// destination is refused (`VEIL_STATUS_OUTPUT_EXISTS`) and left untouched.
/// On failure, if `err_out` is not NULL, `*err_out` receives a new `veil_error` naming the
/// file and reason (`VEIL_STATUS_EXPORT_*`, `VEIL_STATUS_DETECT_*`, `VEIL_STATUS_CONFIG_*`
/// for the zone file, `VEIL_STATUS_INVALID_ARGUMENT` for a bad enum value).
///
/// With `audit_log` set the export is logged there once its files are written and before
/// any is published (refused before the work if the entry breaks a rule, never published
/// if it cannot be appended); without
/// it, log the export yourself with `veil_audit_append` (action `export`, the manifest's
/// SHA-256 in `manifest_sha256`).
///
/// # Safety
/// `opts` is NULL or points to a `veil_export_options` whose strings are NULL or
/// NUL-terminated and whose `keep_tracks` is valid for `keep_tracks_len` reads; `err_out`
/// is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn veil_export_run(
    opts: *const veil_export_options,
    err_out: *mut *mut veil_error,
) -> veil_status {
    ffi_boundary! {
        let result = if opts.is_null() {
            Err(Failure::new(veil_status::VEIL_STATUS_NULL_PARAMETER, "opts is NULL"))
        } else {
            // SAFETY: non-NULL and pointing to a veil_export_options (contract); every field
            // is an integer, float, bool or raw pointer. A bool must be 0 or 1 in C too.
            let o = unsafe { opts.read() };
            // SAFETY: the field contracts are this function's.
            unsafe { options(&o) }.and_then(|opts| export(&opts).map_err(Failure::from))
        };
        match result {
            Ok(_) => veil_status::VEIL_STATUS_OK,
            // SAFETY: err_out is NULL or valid for a write (contract).
            Err(failure) => unsafe { report(failure, err_out) },
        }
    }
}
