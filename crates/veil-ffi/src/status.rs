//! Status codes.

use std::ffi::c_char;

/// Result of every fallible Veil call. The numeric values are stable: a code is never
/// renumbered or reused, new codes get new numbers.
///
/// Groups: 0-99 generic, 100-199 frames and masking, 200-299 zone files, 300-399 audit log,
/// 400-499 detection, 500-599 inzage exports.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum veil_status {
    /// Success.
    VEIL_STATUS_OK = 0,
    /// A required pointer argument was NULL.
    VEIL_STATUS_NULL_PARAMETER = 1,
    /// Veil hit an internal bug (a Rust panic was caught at the boundary). For
    /// `veil_masker_apply` the frame has been blanked.
    VEIL_STATUS_PANIC = 2,
    /// A string argument is not valid UTF-8.
    VEIL_STATUS_INVALID_UTF8 = 3,
    /// An argument is out of range or inconsistent with another (the message says which).
    VEIL_STATUS_INVALID_ARGUMENT = 4,
    /// The caller's array is too small for the result. Nothing was written to the array;
    /// the count output holds the number of elements needed: retry with at least that many.
    VEIL_STATUS_BUFFER_TOO_SMALL = 5,
    /// A pixel format value is not one of the `VEIL_PIXEL_FORMAT_*` values.
    VEIL_STATUS_INVALID_PIXEL_FORMAT = 100,
    /// Width or height is zero, too large, or odd for a 4:2:0 format.
    VEIL_STATUS_INVALID_SIZE = 101,
    /// A frame's planes are unusable: NULL data, stride shorter than a row, overlapping
    /// planes, size overflow. Nothing was written to the frame: do not store it.
    VEIL_STATUS_INVALID_FRAME = 102,
    /// The frame's format, width or height differs from the masker's. The frame has been
    /// blanked (privacy fails closed).
    VEIL_STATUS_GEOMETRY_MISMATCH = 103,
    /// Masking failed for another reason. The frame has been blanked.
    VEIL_STATUS_MASKING_FAILED = 104,
    /// The zone file is not valid TOML or does not match the schema (unknown key, kind or
    /// style, missing field).
    VEIL_STATUS_CONFIG_PARSE = 200,
    /// The zone file's `[camera]` table is invalid.
    VEIL_STATUS_CONFIG_CAMERA = 201,
    /// A zone of the zone file is invalid (the message names its index and label).
    VEIL_STATUS_CONFIG_ZONE = 202,
    /// The zone file could not be read.
    VEIL_STATUS_CONFIG_IO = 203,
    /// Reading or writing the audit log failed (the message names the file and operation).
    VEIL_STATUS_AUDIT_IO = 300,
    /// The entry JSON did not parse or an entry field is invalid or missing.
    VEIL_STATUS_AUDIT_INVALID_ENTRY = 301,
    /// The entry was refused by a rule: a disclosure without a legal basis that allows it,
    /// or a purpose that is not among the camera's purposes. Nothing was written.
    VEIL_STATUS_AUDIT_REFUSED = 302,
    /// The log's last line is incomplete or invalid, so nothing can be chained to it;
    /// appending is refused until an operator has verified and repaired the log.
    VEIL_STATUS_AUDIT_LOG_DAMAGED = 303,
    /// `veil_audit_verify` found the log not intact (edited, removed, reordered, inserted
    /// or truncated entries); the message says what and at which line.
    VEIL_STATUS_AUDIT_TAMPERED = 304,
    /// Another audit failure (sequence overflow, no file locking on this platform).
    VEIL_STATUS_AUDIT_FAILED = 305,
    /// ONNX Runtime was not found or could not be loaded (the message lists the places
    /// looked at: install it, or set `ORT_DYLIB_PATH`).
    VEIL_STATUS_DETECT_RUNTIME = 400,
    /// A detection model could not be used: the models directory has no readable
    /// `manifest.tsv` or no entry for the model, the file is missing, its SHA-256 differs
    /// from the manifest, or ONNX Runtime rejects it.
    VEIL_STATUS_DETECT_MODEL = 401,
    /// Detection failed on a frame (inference error, unexpected network output).
    VEIL_STATUS_DETECT_FAILED = 402,
    /// The export failed for a reason without a more specific code (an internal pipeline
    /// error, a frame that could not be redacted). No output file was left.
    VEIL_STATUS_EXPORT_FAILED = 500,
    /// The requester point (`keep_at_*`) is not inside any tracked person or face at that
    /// time. Nothing was exported: pick a point inside the requester's box.
    VEIL_STATUS_EXPORT_NOBODY_AT = 501,
    /// An export option is invalid: a bad window (from >= to, negative, not finite), an
    /// output that is the input, a requester point that is not finite or lies inside the
    /// boxes of several people with no clear winner.
    VEIL_STATUS_EXPORT_INVALID_OPTION = 502,
    /// A requester track id (`keep_tracks`) is not in the tracks file.
    VEIL_STATUS_EXPORT_UNKNOWN_TRACK = 503,
    /// The tracks file cannot be used: unreadable or invalid, made from another input, or
    /// not covering the export window.
    VEIL_STATUS_EXPORT_TRACKS = 504,
    /// The export window holds no frame of the input.
    VEIL_STATUS_EXPORT_EMPTY_WINDOW = 505,
    /// Decoding the input or encoding the output failed (the message names the file). No
    /// output file was left.
    VEIL_STATUS_EXPORT_VIDEO = 506,
    /// A file of the export could not be read or written (the message names it). No output
    /// file was left.
    VEIL_STATUS_EXPORT_IO = 507,
    /// The export was made but its audit entry could not be appended (`audit_log` set):
    /// the protocols require every export to be logged, so its files were removed.
    VEIL_STATUS_EXPORT_WITHDRAWN = 508,
    /// An output of an export or disclosure exists already (the message names it): it was
    /// not replaced and is untouched (set `veil_export_options.overwrite` to replace it; a
    /// disclosure never does). No output file was left.
    VEIL_STATUS_OUTPUT_EXISTS = 509,
    /// Encrypted footage could not be opened, or a copy could not be encrypted (the message
    /// says which file and why): the input is encrypted and no `key` was given, the key opens
    /// neither the file nor its sealed data key (a wrong key), the segment was crypto-erased,
    /// the secret key file is readable by group or others, or an `encrypt_to` file holds no
    /// age public key. Nothing was written.
    VEIL_STATUS_FOOTAGE_KEY = 510,
    /// No recording of the camera overlaps the wall-clock window asked
    /// (`veil_export_recordings_run`, `veil_disclose_recordings_run`); the message names the
    /// nearest recorded times. Nothing was written or logged.
    VEIL_STATUS_RECORDINGS_NO_FOOTAGE = 511,
    /// A segment of the window is not what the recorder's index recorded: altered (its
    /// SHA-256 differs), missing, or not named by the index (the message names the file and
    /// its index line). Nothing was written or logged.
    VEIL_STATUS_RECORDINGS_INTEGRITY = 512,
    /// The recordings cannot be read as asked: no index for the camera, a window that ends
    /// before it starts, a camera id that is not a plain name, segments that are not one
    /// stream. Nothing was written or logged.
    VEIL_STATUS_RECORDINGS_INVALID = 513,
    /// A disclosure was refused: its legal basis is not a police/justice order or the
    /// operator's own report of a crime (an inzage copy goes through `veil_export_run`).
    /// Nothing was written or logged.
    VEIL_STATUS_DISCLOSE_REFUSED = 600,
    /// A disclosure was logged, but its files could not be written afterwards: nothing was
    /// released, and the message names the audit entry that records it.
    VEIL_STATUS_DISCLOSE_WITHDRAWN = 601,
    /// A key file is not an Ed25519 key in PEM (PKCS#8 for a secret key, SubjectPublicKeyInfo
    /// for a public key).
    VEIL_STATUS_KEY_INVALID = 602,
    /// Verification: the file, the manifest or the public key is missing or unreadable.
    VEIL_STATUS_VERIFY_MISSING = 610,
    /// Verification: the manifest is not a Veil manifest (no `output.sha256`).
    VEIL_STATUS_VERIFY_NOT_A_MANIFEST = 611,
    /// Verification: a public key was given but the manifest has no valid signature file.
    VEIL_STATUS_VERIFY_UNSIGNED = 612,
    /// Verification: the manifest was signed with another key than the one given.
    VEIL_STATUS_VERIFY_WRONG_KEY = 613,
    /// Verification: the signature does not verify: the manifest was altered.
    VEIL_STATUS_VERIFY_BAD_SIGNATURE = 614,
    /// Verification: the file's SHA-256 is not the manifest's: the file was altered.
    VEIL_STATUS_VERIFY_MISMATCH = 615,
}

/// A status value as passed in from C: any 32-bit value, validated before use (reading an
/// out-of-range value as a Rust enum would be undefined behaviour). Appears in the header as
/// `veil_status` (cbindgen.toml renames it and does not emit it).
pub type veil_status_t = u32;

impl veil_status {
    /// Every status, for lookups from a raw value.
    pub(crate) const ALL: [veil_status; 47] = [
        veil_status::VEIL_STATUS_OK,
        veil_status::VEIL_STATUS_NULL_PARAMETER,
        veil_status::VEIL_STATUS_PANIC,
        veil_status::VEIL_STATUS_INVALID_UTF8,
        veil_status::VEIL_STATUS_INVALID_ARGUMENT,
        veil_status::VEIL_STATUS_BUFFER_TOO_SMALL,
        veil_status::VEIL_STATUS_INVALID_PIXEL_FORMAT,
        veil_status::VEIL_STATUS_INVALID_SIZE,
        veil_status::VEIL_STATUS_INVALID_FRAME,
        veil_status::VEIL_STATUS_GEOMETRY_MISMATCH,
        veil_status::VEIL_STATUS_MASKING_FAILED,
        veil_status::VEIL_STATUS_CONFIG_PARSE,
        veil_status::VEIL_STATUS_CONFIG_CAMERA,
        veil_status::VEIL_STATUS_CONFIG_ZONE,
        veil_status::VEIL_STATUS_CONFIG_IO,
        veil_status::VEIL_STATUS_AUDIT_IO,
        veil_status::VEIL_STATUS_AUDIT_INVALID_ENTRY,
        veil_status::VEIL_STATUS_AUDIT_REFUSED,
        veil_status::VEIL_STATUS_AUDIT_LOG_DAMAGED,
        veil_status::VEIL_STATUS_AUDIT_TAMPERED,
        veil_status::VEIL_STATUS_AUDIT_FAILED,
        veil_status::VEIL_STATUS_DETECT_RUNTIME,
        veil_status::VEIL_STATUS_DETECT_MODEL,
        veil_status::VEIL_STATUS_DETECT_FAILED,
        veil_status::VEIL_STATUS_EXPORT_FAILED,
        veil_status::VEIL_STATUS_EXPORT_NOBODY_AT,
        veil_status::VEIL_STATUS_EXPORT_INVALID_OPTION,
        veil_status::VEIL_STATUS_EXPORT_UNKNOWN_TRACK,
        veil_status::VEIL_STATUS_EXPORT_TRACKS,
        veil_status::VEIL_STATUS_EXPORT_EMPTY_WINDOW,
        veil_status::VEIL_STATUS_EXPORT_VIDEO,
        veil_status::VEIL_STATUS_EXPORT_IO,
        veil_status::VEIL_STATUS_EXPORT_WITHDRAWN,
        veil_status::VEIL_STATUS_OUTPUT_EXISTS,
        veil_status::VEIL_STATUS_FOOTAGE_KEY,
        veil_status::VEIL_STATUS_RECORDINGS_NO_FOOTAGE,
        veil_status::VEIL_STATUS_RECORDINGS_INTEGRITY,
        veil_status::VEIL_STATUS_RECORDINGS_INVALID,
        veil_status::VEIL_STATUS_DISCLOSE_REFUSED,
        veil_status::VEIL_STATUS_DISCLOSE_WITHDRAWN,
        veil_status::VEIL_STATUS_KEY_INVALID,
        veil_status::VEIL_STATUS_VERIFY_MISSING,
        veil_status::VEIL_STATUS_VERIFY_NOT_A_MANIFEST,
        veil_status::VEIL_STATUS_VERIFY_UNSIGNED,
        veil_status::VEIL_STATUS_VERIFY_WRONG_KEY,
        veil_status::VEIL_STATUS_VERIFY_BAD_SIGNATURE,
        veil_status::VEIL_STATUS_VERIFY_MISMATCH,
    ];

    /// The status with this numeric value, if there is one.
    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u32 == raw)
    }

    /// Static, NUL-terminated description.
    pub(crate) fn text(self) -> &'static std::ffi::CStr {
        match self {
            veil_status::VEIL_STATUS_OK => c"ok",
            veil_status::VEIL_STATUS_NULL_PARAMETER => c"a required pointer argument was NULL",
            veil_status::VEIL_STATUS_PANIC => c"internal error (panic caught at the C boundary)",
            veil_status::VEIL_STATUS_INVALID_UTF8 => c"a string argument is not valid UTF-8",
            veil_status::VEIL_STATUS_INVALID_ARGUMENT => c"invalid argument",
            veil_status::VEIL_STATUS_BUFFER_TOO_SMALL => {
                c"buffer too small; nothing written, the count holds the size needed"
            }
            veil_status::VEIL_STATUS_INVALID_PIXEL_FORMAT => c"invalid pixel format value",
            veil_status::VEIL_STATUS_INVALID_SIZE => {
                c"invalid frame size (zero, too large, or odd for a 4:2:0 format)"
            }
            veil_status::VEIL_STATUS_INVALID_FRAME => {
                c"invalid frame planes (NULL data, short stride, overlap or overflow); frame not written"
            }
            veil_status::VEIL_STATUS_GEOMETRY_MISMATCH => {
                c"frame geometry differs from the masker's; frame blanked"
            }
            veil_status::VEIL_STATUS_MASKING_FAILED => c"masking failed; frame blanked",
            veil_status::VEIL_STATUS_CONFIG_PARSE => c"zone file does not parse or match the schema",
            veil_status::VEIL_STATUS_CONFIG_CAMERA => c"zone file: invalid [camera] table",
            veil_status::VEIL_STATUS_CONFIG_ZONE => c"zone file: invalid zone",
            veil_status::VEIL_STATUS_CONFIG_IO => c"zone file could not be read",
            veil_status::VEIL_STATUS_AUDIT_IO => c"audit log I/O failed",
            veil_status::VEIL_STATUS_AUDIT_INVALID_ENTRY => c"invalid audit entry",
            veil_status::VEIL_STATUS_AUDIT_REFUSED => c"audit entry refused by a rule; nothing written",
            veil_status::VEIL_STATUS_AUDIT_LOG_DAMAGED => {
                c"audit log ends in an incomplete or invalid line; appending refused"
            }
            veil_status::VEIL_STATUS_AUDIT_TAMPERED => c"audit log is not intact",
            veil_status::VEIL_STATUS_AUDIT_FAILED => c"audit operation failed",
            veil_status::VEIL_STATUS_DETECT_RUNTIME => c"ONNX Runtime not found or not loadable",
            veil_status::VEIL_STATUS_DETECT_MODEL => {
                c"detection model unusable (manifest, file, checksum or format)"
            }
            veil_status::VEIL_STATUS_DETECT_FAILED => c"detection failed",
            veil_status::VEIL_STATUS_EXPORT_FAILED => c"export failed; no output written",
            veil_status::VEIL_STATUS_EXPORT_NOBODY_AT => {
                c"nobody is tracked at the requester point; nothing exported"
            }
            veil_status::VEIL_STATUS_EXPORT_INVALID_OPTION => c"invalid export option",
            veil_status::VEIL_STATUS_EXPORT_UNKNOWN_TRACK => c"requester track id not in the tracks",
            veil_status::VEIL_STATUS_EXPORT_TRACKS => {
                c"tracks file unusable (invalid, another input, or not covering the window)"
            }
            veil_status::VEIL_STATUS_EXPORT_EMPTY_WINDOW => c"the export window holds no frame",
            veil_status::VEIL_STATUS_EXPORT_VIDEO => c"decoding or encoding failed; no output written",
            veil_status::VEIL_STATUS_EXPORT_IO => c"export file I/O failed; no output written",
            veil_status::VEIL_STATUS_EXPORT_WITHDRAWN => {
                c"export could not be logged; its files were removed"
            }
            veil_status::VEIL_STATUS_OUTPUT_EXISTS => c"an output file exists already; not replaced",
            veil_status::VEIL_STATUS_FOOTAGE_KEY => {
                c"encrypted footage: no key, a wrong key, an erased segment or an unusable key file; nothing written"
            }
            veil_status::VEIL_STATUS_RECORDINGS_NO_FOOTAGE => {
                c"no recording of the camera in the window; nothing written"
            }
            veil_status::VEIL_STATUS_RECORDINGS_INTEGRITY => {
                c"a segment is altered, missing or not indexed; nothing written"
            }
            veil_status::VEIL_STATUS_RECORDINGS_INVALID => c"the recordings cannot be read as asked; nothing written",
            veil_status::VEIL_STATUS_DISCLOSE_REFUSED => {
                c"disclosure refused: the basis is not a police order or own report; nothing written"
            }
            veil_status::VEIL_STATUS_DISCLOSE_WITHDRAWN => {
                c"disclosure logged but its files could not be written; nothing released"
            }
            veil_status::VEIL_STATUS_KEY_INVALID => c"not an Ed25519 key in PEM",
            veil_status::VEIL_STATUS_VERIFY_MISSING => c"file, manifest or key missing",
            veil_status::VEIL_STATUS_VERIFY_NOT_A_MANIFEST => c"not a Veil manifest",
            veil_status::VEIL_STATUS_VERIFY_UNSIGNED => c"unsigned manifest (a key was given)",
            veil_status::VEIL_STATUS_VERIFY_WRONG_KEY => c"manifest signed with another key",
            veil_status::VEIL_STATUS_VERIFY_BAD_SIGNATURE => c"manifest altered: signature does not verify",
            veil_status::VEIL_STATUS_VERIFY_MISMATCH => c"file does not match its manifest",
        }
    }
}

/// Static, NUL-terminated English text for `status`; never NULL, never to be freed. An
/// unknown value gives "unknown status".
#[no_mangle]
pub extern "C" fn veil_status_str(status: veil_status_t) -> *const c_char {
    ffi_boundary! {
        match veil_status::from_raw(status) {
            Some(s) => s.text().as_ptr(),
            None => c"unknown status".as_ptr(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use veil_status::*;

    /// The documented group of each status (README: 0-99 generic, 100-199 frames, 200-299
    /// zone files, 300-399 audit, 400-499 detection, 500-599 exports, 600-699 disclosures
    /// and verification). The match has no wildcard: a new variant does not compile until
    /// it is given a group here, and `every_status_is_listed_once` then fails until it is
    /// in `ALL`, in the header and has its own text.
    fn group(s: veil_status) -> std::ops::RangeInclusive<u32> {
        match s {
            VEIL_STATUS_OK
            | VEIL_STATUS_NULL_PARAMETER
            | VEIL_STATUS_PANIC
            | VEIL_STATUS_INVALID_UTF8
            | VEIL_STATUS_INVALID_ARGUMENT
            | VEIL_STATUS_BUFFER_TOO_SMALL => 0..=99,
            VEIL_STATUS_INVALID_PIXEL_FORMAT
            | VEIL_STATUS_INVALID_SIZE
            | VEIL_STATUS_INVALID_FRAME
            | VEIL_STATUS_GEOMETRY_MISMATCH
            | VEIL_STATUS_MASKING_FAILED => 100..=199,
            VEIL_STATUS_CONFIG_PARSE
            | VEIL_STATUS_CONFIG_CAMERA
            | VEIL_STATUS_CONFIG_ZONE
            | VEIL_STATUS_CONFIG_IO => 200..=299,
            VEIL_STATUS_AUDIT_IO
            | VEIL_STATUS_AUDIT_INVALID_ENTRY
            | VEIL_STATUS_AUDIT_REFUSED
            | VEIL_STATUS_AUDIT_LOG_DAMAGED
            | VEIL_STATUS_AUDIT_TAMPERED
            | VEIL_STATUS_AUDIT_FAILED => 300..=399,
            VEIL_STATUS_DETECT_RUNTIME | VEIL_STATUS_DETECT_MODEL | VEIL_STATUS_DETECT_FAILED => 400..=499,
            VEIL_STATUS_EXPORT_FAILED
            | VEIL_STATUS_EXPORT_NOBODY_AT
            | VEIL_STATUS_EXPORT_INVALID_OPTION
            | VEIL_STATUS_EXPORT_UNKNOWN_TRACK
            | VEIL_STATUS_EXPORT_TRACKS
            | VEIL_STATUS_EXPORT_EMPTY_WINDOW
            | VEIL_STATUS_EXPORT_VIDEO
            | VEIL_STATUS_EXPORT_IO
            | VEIL_STATUS_EXPORT_WITHDRAWN
            | VEIL_STATUS_OUTPUT_EXISTS
            | VEIL_STATUS_FOOTAGE_KEY
            | VEIL_STATUS_RECORDINGS_NO_FOOTAGE
            | VEIL_STATUS_RECORDINGS_INTEGRITY
            | VEIL_STATUS_RECORDINGS_INVALID => 500..=599,
            VEIL_STATUS_DISCLOSE_REFUSED
            | VEIL_STATUS_DISCLOSE_WITHDRAWN
            | VEIL_STATUS_KEY_INVALID
            | VEIL_STATUS_VERIFY_MISSING
            | VEIL_STATUS_VERIFY_NOT_A_MANIFEST
            | VEIL_STATUS_VERIFY_UNSIGNED
            | VEIL_STATUS_VERIFY_WRONG_KEY
            | VEIL_STATUS_VERIFY_BAD_SIGNATURE
            | VEIL_STATUS_VERIFY_MISMATCH => 600..=699,
        }
    }

    /// `(name, value)` of every `VEIL_STATUS_*` enumerator in the committed header (which
    /// `tests/header.rs` keeps equal to what cbindgen makes of the enum), sorted.
    fn header_statuses() -> Vec<(String, u32)> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include/veil.h");
        let header = std::fs::read_to_string(&path).expect("read include/veil.h");
        let mut found: Vec<(String, u32)> = header
            .lines()
            .filter_map(|l| {
                let (name, value) = l.trim().strip_suffix(',')?.split_once(" = ")?;
                name.starts_with("VEIL_STATUS_")
                    .then(|| (name.to_owned(), value.parse().expect("numeric status value")))
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn every_status_is_listed_once() {
        // Distinct codes, each in its documented group.
        let mut raw: Vec<u32> = veil_status::ALL.iter().map(|s| *s as u32).collect();
        raw.sort_unstable();
        raw.dedup();
        assert_eq!(raw.len(), veil_status::ALL.len(), "a code appears twice in ALL");
        for s in veil_status::ALL {
            assert!(
                group(s).contains(&(s as u32)),
                "{s:?} = {} is outside its group",
                s as u32
            );
        }
        // ALL is exactly the enum as C sees it: every enumerator of the header, by name and
        // value, so a variant missing from ALL (and thus unknown to veil_status_str) fails.
        let mut listed: Vec<(String, u32)> = veil_status::ALL
            .iter()
            .map(|s| (format!("{s:?}"), *s as u32))
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            header_statuses(),
            "ALL and the header's veil_status differ"
        );
        // Every code round-trips and has its own static text, through the C entry point.
        let mut texts = std::collections::HashSet::new();
        for s in veil_status::ALL {
            assert_eq!(veil_status::from_raw(s as u32), Some(s));
            // SAFETY: veil_status_str returns a static NUL-terminated string.
            let text = unsafe { std::ffi::CStr::from_ptr(veil_status_str(s as u32)) };
            assert_eq!(text, s.text(), "{s:?}");
            let text = text.to_str().expect("UTF-8 status text");
            assert!(!text.is_empty() && text != "unknown status", "{s:?}: {text:?}");
            assert!(
                texts.insert(text),
                "{s:?} shares its text {text:?} with another status"
            );
        }
        // Values that are no status.
        for raw in (0..=1000).chain([u32::MAX]) {
            let known = veil_status::ALL.iter().any(|s| *s as u32 == raw);
            assert_eq!(veil_status::from_raw(raw).is_some(), known, "{raw}");
            if !known {
                // SAFETY: as above.
                let text = unsafe { std::ffi::CStr::from_ptr(veil_status_str(raw)) };
                assert_eq!(text, c"unknown status", "{raw}");
            }
        }
    }
}
