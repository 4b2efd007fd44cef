//! The segments of one camera: opening, closing and indexing them, finding segments an
//! unclean stop left unindexed, and the room the next one needs.

use std::fs;
use std::path::{Path, PathBuf};

use veil_audit::Timestamp;
use veil_core::fsutil::sync_dir;
use veil_crypt::{EncryptingFile, PublicKey, SecretKey};
use veil_video::{EncodeOptions, EncoderUsed, ReadOptions, VideoInfo, VideoReader, VideoWriter};

use crate::config::{Event, FRAGMENT};
use crate::index::{Gap, Index, IndexEntry, INDEX_VERSION, KEYS_DIR};
use crate::RecordError;

/// The extension of an encrypted segment (an age file holding the fragmented MP4).
pub const ENCRYPTED_EXT: &str = ".mp4.age";

/// The sealed data key's file name (in `keys/`) of the encrypted segment `file`.
pub fn key_file_for(file: &str) -> String {
    let stem = file
        .strip_suffix(ENCRYPTED_EXT)
        .or_else(|| file.strip_suffix(".mp4"))
        .unwrap_or(file);
    format!("{stem}.key.age")
}

/// The least room planned for the rest of a segment.
const MIN_RESERVE: u64 = 256 * 1024;

/// The segment being written.
pub(crate) struct Segment {
    pub(crate) writer: VideoWriter,
    pub(crate) file: String,
    pub(crate) path: PathBuf,
    pub(crate) start_ms: i64,
    /// End of the last frame written (its time plus one frame).
    pub(crate) end_ms: i64,
    pub(crate) gaps: Vec<Gap>,
    /// The entry of `gaps` counting this segment's lost frames ([`crate::health`]).
    pub(crate) lost_mark: Option<usize>,
    /// The encrypted file the writer's bytes go to (encrypted recording only).
    pub(crate) enc: Option<EncryptingFile>,
    /// The sealed data key's file name in `keys/` (encrypted recording only).
    pub(crate) key: Option<String>,
}

/// A camera's directory of segments, its index, and what this run has written there.
#[derive(Debug)]
pub(crate) struct Segments {
    /// `dir/<camera id>/`.
    pub(crate) cam_dir: PathBuf,
    pub(crate) index: Index,
    encode: EncodeOptions,
    /// The site's public keys: segments are encrypted (each to its own data key, sealed to
    /// these) when not empty.
    encrypt_to: Vec<PublicKey>,
    /// The largest segment so far (bytes): the free space one more needs.
    largest: u64,
    /// Segments closed and indexed in this run.
    pub(crate) closed: u64,
    /// End of the last footage recorded in this run (ms since the epoch).
    pub(crate) last_end: Option<i64>,
    /// The encoder of the last segment opened.
    encoder: Option<EncoderUsed>,
    /// Set when a segment opened with another encoder than the one before (or the first).
    encoder_changed: bool,
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.unix_millis()
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    // Times come from the system clock plus stream offsets: always within 0001-9999.
    Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now)
}

/// `YYYYmmddTHHMMSSZ` for an instant.
pub fn segment_name(t: Timestamp) -> String {
    let s = t.to_string(); // 2026-03-01T09:00:00.25Z
    let digits: String = s.chars().take(19).filter(|c| *c != '-' && *c != ':').collect();
    format!("{digits}Z")
}

impl Segments {
    /// The segments in `cam_dir`, encoded with `encode`.
    pub(crate) fn new(cam_dir: PathBuf, encode: EncodeOptions, encrypt_to: Vec<PublicKey>) -> Self {
        Segments {
            index: Index::new(&cam_dir),
            cam_dir,
            encode,
            encrypt_to,
            largest: 0,
            closed: 0,
            last_end: None,
            encoder: None,
            encoder_changed: false,
        }
    }

    pub(crate) fn open(&mut self, info: &VideoInfo, start_ms: i64) -> Result<Segment, RecordError> {
        let base = segment_name(ts(start_ms));
        let encrypted = !self.encrypt_to.is_empty();
        let ext = if encrypted { ENCRYPTED_EXT } else { ".mp4" };
        let taken = |stem: &str| {
            self.cam_dir.join(format!("{stem}.mp4")).exists()
                || self.cam_dir.join(format!("{stem}{ENCRYPTED_EXT}")).exists()
                || self.cam_dir.join(KEYS_DIR).join(key_file_for(stem)).exists()
        };
        let mut stem = base.clone();
        let mut n = 1;
        while taken(&stem) {
            stem = format!("{base}-{n}");
            n += 1;
        }
        let file = format!("{stem}{ext}");
        let path = self.cam_dir.join(&file);
        let fps = f64::from(info.fps.0) / f64::from(info.fps.1);
        let opts = EncodeOptions {
            fragment: Some(FRAGMENT),
            // A keyframe every second or so: fragments of one second, quick seeking.
            keyframe_interval: Some(fps.round().max(1.0) as u32),
            keep_audio: false,
            ..self.encode.clone()
        };
        if !encrypted {
            let writer = VideoWriter::create(&path, info, &opts)?;
            self.note_encoder(&writer);
            return Ok(Segment {
                writer,
                file,
                path,
                start_ms,
                end_ms: start_ms,
                gaps: Vec::new(),
                lost_mark: None,
                enc: None,
                key: None,
            });
        }
        // A fresh data key for this segment, sealed to the site's public keys and written
        // before any footage; the recorder keeps only its public half.
        let key = key_file_for(&file);
        let keys_dir = self.cam_dir.join(KEYS_DIR);
        let key_path = keys_dir.join(&key);
        let io = |path: &Path, op| {
            let path = path.to_path_buf();
            move |source| RecordError::Io { path, op, source }
        };
        fs::create_dir_all(&keys_dir).map_err(io(&keys_dir, "create"))?;
        let data_public = {
            let data = SecretKey::generate();
            let sealed = data.seal(&self.encrypt_to)?;
            veil_core::fsutil::write_atomic(&key_path, &sealed).map_err(io(&key_path, "write"))?;
            sync_dir(&keys_dir);
            data.public()
            // `data` (the secret) is dropped here.
        };
        let cleanup = || {
            let _ = fs::remove_file(&key_path);
        };
        let enc = match EncryptingFile::create(&path, &[data_public]) {
            Ok(e) => e,
            Err(e) => {
                cleanup();
                return Err(e.into());
            }
        };
        let writer = match VideoWriter::create_stream(&path, enc.writer(), info, &opts) {
            Ok(w) => w,
            Err(e) => {
                drop(enc);
                let _ = fs::remove_file(&path);
                cleanup();
                return Err(e.into());
            }
        };
        self.note_encoder(&writer);
        Ok(Segment {
            writer,
            file,
            path,
            start_ms,
            end_ms: start_ms,
            gaps: Vec::new(),
            lost_mark: None,
            enc: Some(enc),
            key: Some(key),
        })
    }

    /// Finish a segment and index it. `next_start`: the next segment's start, which is
    /// this one's end when recording goes on without a break.
    pub(crate) fn close(
        &mut self,
        s: Segment,
        next_start: Option<i64>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), RecordError> {
        let frames = s.writer.frames_written();
        if frames == 0 {
            drop(s.writer); // removes the empty file
            if let Some(enc) = s.enc {
                drop(enc);
                let _ = fs::remove_file(&s.path);
            }
            if let Some(k) = &s.key {
                let _ = fs::remove_file(self.cam_dir.join(KEYS_DIR).join(k));
            }
            return Ok(());
        }
        s.writer.finish()?;
        if let Some(enc) = s.enc {
            enc.finish()?;
        }
        sync_dir(&self.cam_dir);
        let (sha256, size) = sha256_file(&s.path)?;
        self.largest = self.largest.max(size);
        self.last_end = Some(s.end_ms);
        let entry = IndexEntry {
            version: INDEX_VERSION,
            file: s.file,
            start: ts(s.start_ms),
            end: ts(next_start.unwrap_or(s.end_ms)),
            frames,
            sha256,
            gaps: s.gaps,
            deleted: None,
            recovered: None,
            key: s.key,
        };
        self.index.locked(|i| i.append(&entry))?;
        self.closed += 1;
        on_event(&Event::SegmentClosed(entry));
        Ok(())
    }

    /// Index the segments an unclean stop left without an index line, so that retention
    /// sees them (a segment nobody indexed would never be deleted).
    pub(crate) fn recover(&mut self, on_event: &mut dyn FnMut(&Event)) -> Result<(), RecordError> {
        let cam_dir = self.cam_dir.clone();
        let found = self.index.locked(|index| {
            let known: std::collections::HashSet<String> =
                index.read()?.into_iter().map(|e| e.file).collect();
            let mut names: Vec<String> = fs::read_dir(&cam_dir)
                .map_err(|source| RecordError::Io {
                    path: cam_dir.clone(),
                    op: "list",
                    source,
                })?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| {
                    (n.ends_with(".mp4") || n.ends_with(ENCRYPTED_EXT))
                        && !n.starts_with('.')
                        && !known.contains(n)
                })
                .collect();
            names.sort();
            let mut last_end = index.read()?.iter().map(|e| ms(e.end)).max();
            let mut found = Vec::new();
            for name in names {
                let Some(mut entry) = recover_segment(&cam_dir, &name) else {
                    continue;
                };
                // The name gives the start to the second only. A segment that began within
                // that second after the last indexed one ended followed it back to back
                // (segments are cut at frames): start it there, so its end, and the gap
                // after it, are not placed before footage already indexed.
                let (start, dur) = (ms(entry.start), ms(entry.end) - ms(entry.start));
                if let Some(le) = last_end {
                    if (start..start + 1000).contains(&le) {
                        entry.start = ts(le);
                        entry.end = ts(le + dur);
                    }
                }
                last_end = Some(last_end.map_or(ms(entry.end), |le| le.max(ms(entry.end))));
                index.append(&entry)?;
                found.push(entry);
            }
            Ok((found, remove_orphan_keys(&cam_dir, &index.read()?)))
        })?;
        let (found, orphans) = found;
        for e in found {
            on_event(&Event::Warning(format!(
                "{}: found without an index line after an unclean stop; indexed ({} frames)",
                e.file, e.frames
            )));
        }
        for k in orphans {
            on_event(&Event::Warning(k));
        }
        Ok(())
    }

    fn note_encoder(&mut self, writer: &VideoWriter) {
        let used = writer.encoder_used();
        if self.encoder.as_ref().map(|e| e.encoder) != Some(used.encoder) {
            self.encoder = Some(used.clone());
            self.encoder_changed = true;
        }
    }

    /// The encoder of the segment just opened, when it differs from the one before (or is
    /// the first of the run); once.
    pub(crate) fn take_encoder_change(&mut self) -> Option<EncoderUsed> {
        if !std::mem::take(&mut self.encoder_changed) {
            return None;
        }
        self.encoder.clone()
    }

    /// FFmpeg's name of the hardware encoder of the current segment (`None`: x264, or no
    /// segment yet).
    pub(crate) fn hardware_encoder(&self) -> Option<&'static str> {
        self.encoder.as_ref().filter(|e| e.hardware()).map(|e| e.codec)
    }

    /// The x264 preset of the next segment.
    pub(crate) fn preset(&self) -> &str {
        &self.encode.preset
    }

    /// Encode the next segments with preset `p` (shedding load).
    pub(crate) fn set_preset(&mut self, p: &str) {
        self.encode.preset = p.to_string();
    }

    /// The largest segment so far (bytes).
    pub(crate) fn largest(&self) -> u64 {
        self.largest
    }

    /// The bytes the rest of the current segment (holding `current` so far) will need: as
    /// much as the largest segment so far, at least a margin.
    pub(crate) fn next_need(&self, current: u64) -> u64 {
        self.largest.saturating_sub(current).max(MIN_RESERVE)
    }

    /// Start from the largest live segment already on disk (footage of earlier runs), so
    /// that the first segment of this run is planned for too.
    pub(crate) fn seed_largest(&mut self) {
        let Ok(entries) = self.index.read() else { return };
        for e in entries
            .iter()
            .filter(|e| e.deleted.is_none() && crate::is_plain_name(&e.file))
        {
            if let Ok(m) = fs::metadata(self.cam_dir.join(&e.file)) {
                self.largest = self.largest.max(m.len());
            }
        }
    }
}

/// The index entry of a segment left behind by an unclean stop, or `None` when its name is
/// not a segment's or no frame of it can be read.
fn recover_segment(dir: &Path, name: &str) -> Option<IndexEntry> {
    if name.ends_with(ENCRYPTED_EXT) {
        return recover_encrypted(dir, name);
    }
    let stem = name.strip_suffix(".mp4")?;
    let start = start_from_name(stem)?;
    let path = dir.join(name);
    let mut reader = VideoReader::open(&path, &ReadOptions::default()).ok()?;
    let fps = reader.info().fps;
    let (mut frames, mut last) = (0u64, 0.0f64);
    // A file cut inside its last fragment ends with an error after the complete ones.
    while let Ok(Some(f)) = reader.next_frame() {
        frames += 1;
        last = f.time();
    }
    if frames == 0 {
        return None;
    }
    let frame_s = f64::from(fps.1) / f64::from(fps.0);
    let end_ms = ms(start) + ((last + frame_s) * 1000.0).round() as i64;
    let (sha256, _) = sha256_file(&path).ok()?;
    Some(IndexEntry {
        version: INDEX_VERSION,
        file: name.to_string(),
        start,
        end: ts(end_ms),
        frames,
        sha256,
        gaps: Vec::new(),
        deleted: None,
        recovered: Some("indexed after an unclean stop; start from the file name".into()),
        key: None,
    })
}

/// Destroy the sealed data keys in `keys/` that no index entry names and whose segment does
/// not exist: an unclean stop between sealing a segment's key and writing its first byte
/// leaves one. They protect nothing, so they go (overwritten, as at erasure). Returns a
/// warning for each, and for each that could not be removed.
fn remove_orphan_keys(cam_dir: &Path, entries: &[IndexEntry]) -> Vec<String> {
    let keys_dir = cam_dir.join(KEYS_DIR);
    let Ok(list) = fs::read_dir(&keys_dir) else {
        return Vec::new();
    };
    let named: std::collections::HashSet<&str> = entries.iter().filter_map(|e| e.key.as_deref()).collect();
    let mut out = Vec::new();
    for name in list.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
        let Some(stem) = name.strip_suffix(".key.age") else {
            continue;
        };
        if named.contains(name.as_str()) || cam_dir.join(format!("{stem}{ENCRYPTED_EXT}")).exists() {
            continue;
        }
        let path = keys_dir.join(&name);
        out.push(match crate::erase::overwrite_and_remove(&path) {
            Ok(()) => format!(
                "{}: a data key without a segment (an unclean stop before the segment began); destroyed",
                path.display()
            ),
            Err(e) => format!(
                "{}: cannot destroy a data key without a segment: {e}",
                path.display()
            ),
        });
    }
    if !out.is_empty() {
        sync_dir(&keys_dir);
    }
    out
}

/// The start a segment's name (`YYYYmmddTHHMMSSZ[-n]`) gives, to the second.
pub(crate) fn start_from_name(stem: &str) -> Option<Timestamp> {
    let stamp = stem.split('-').next()?;
    let b = stamp.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !stamp.is_ascii() {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    Timestamp::parse(&rfc).ok()
}

/// An encrypted segment left by an unclean stop: the recorder holds no secret key, so its
/// frames cannot be counted; its end is the file's last modification (the last chunk
/// written), its key the sealed key of the same name if there is one. Its last chunk (at
/// most 64 KiB of the stream) was never written, so a reader decrypts the complete chunks
/// and then reports the file as cut short.
fn recover_encrypted(dir: &Path, name: &str) -> Option<IndexEntry> {
    let start = start_from_name(name.strip_suffix(ENCRYPTED_EXT)?)?;
    let path = dir.join(name);
    let meta = fs::metadata(&path).ok()?;
    if meta.len() == 0 {
        return None;
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(ms(start), |d| d.as_millis() as i64);
    let (sha256, _) = sha256_file(&path).ok()?;
    let key = key_file_for(name);
    let key = dir.join(KEYS_DIR).join(&key).is_file().then_some(key);
    Some(IndexEntry {
        version: INDEX_VERSION,
        file: name.to_string(),
        start,
        end: ts(modified.max(ms(start) + 1)),
        frames: 0,
        sha256,
        gaps: Vec::new(),
        deleted: None,
        recovered: Some(
            "encrypted, indexed after an unclean stop: start from the file name, end from its last write, frames not counted (the recorder holds no secret key)"
                .into(),
        ),
        key,
    })
}

fn sha256_file(path: &Path) -> Result<(String, u64), RecordError> {
    veil_core::hash::sha256_file(path).map_err(|source| RecordError::Io {
        path: path.to_path_buf(),
        op: "read",
        source,
    })
}

/// Bytes available to an unprivileged writer on the file system holding `dir`.
#[cfg(unix)]
// The statvfs field types differ between platforms (u32 on some 32-bit ones).
#[allow(clippy::useless_conversion)]
pub(crate) fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid, writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

#[cfg(not(unix))]
fn free_space(_dir: &Path) -> Option<u64> {
    None
}
