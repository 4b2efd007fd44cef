//! Reading an encrypted segment: the site's secret key opens the segment's sealed data key,
//! the data key opens the segment.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use veil_crypt::SecretKey;

use crate::index::{Index, IndexEntry, KEYS_DIR};
use crate::segment::key_file_for;
use crate::RecordError;

/// What [`decrypt_segment`] read and wrote.
#[derive(Debug, Clone)]
pub struct DecryptedSegment {
    /// The camera (the name of the segment's directory).
    pub camera: String,
    /// The segment's index entry, when the index lists it.
    pub entry: Option<IndexEntry>,
    /// The sealed data key that was used.
    pub key_file: PathBuf,
    /// Bytes of plaintext written.
    pub bytes: u64,
}

/// Decrypt an encrypted segment (`DIR/<camera>/<start>.mp4.age`) to `output`: its data key
/// is found through the camera directory's index (`keys/<start>.key.age`) and opened with
/// one of `site` (the site's secret keys). `output` is written atomically (a temporary file
/// beside it, mode 0600, synced, renamed): on any failure nothing is left at `output`.
///
/// # Errors
/// [`RecordError::Input`] for a segment that is not in a camera directory, was erased, or
/// has no data key any more (crypto-erased); [`RecordError::Crypt`] for a key that opens
/// neither (`WrongKey`) or a damaged file; [`RecordError::Io`], [`RecordError::BadIndex`].
pub fn decrypt_segment(
    segment: &Path,
    site: &[SecretKey],
    output: &Path,
) -> Result<DecryptedSegment, RecordError> {
    if veil_core::fsutil::same_file(segment, output) {
        return Err(RecordError::Input {
            reason: format!("{}: the output would overwrite the segment", segment.display()),
        });
    }
    let SegmentKey {
        camera,
        entry,
        key_file,
        key: data,
    } = segment_key(segment, site)?;
    let tmp = veil_core::fsutil::TempFile::new(veil_core::fsutil::temp_path_for(output));
    let io = |path: &Path, op| {
        let path = path.to_path_buf();
        move |source| RecordError::Io { path, op, source }
    };
    // Plain footage: readable by its owner only.
    let mut open = fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let mut f = open.open(tmp.path()).map_err(io(output, "create"))?;
    let bytes = {
        let mut w = std::io::BufWriter::new(&mut f);
        let n = veil_crypt::decrypt_file_to(&data, segment, &mut w)?;
        w.flush().map_err(io(output, "write"))?;
        n
    };
    f.sync_all().map_err(io(output, "sync"))?;
    drop(f);
    fs::rename(tmp.path(), output).map_err(io(output, "move into place"))?;
    tmp.disarm();
    Ok(DecryptedSegment {
        camera,
        entry,
        key_file,
        bytes,
    })
}

/// An encrypted segment's data key, opened.
pub(crate) struct SegmentKey {
    pub(crate) camera: String,
    pub(crate) entry: Option<IndexEntry>,
    pub(crate) key_file: PathBuf,
    pub(crate) key: Vec<SecretKey>,
}

/// Find the data key of `segment` (`DIR/<camera>/<start>.mp4.age`) through its camera
/// directory's index (`keys/<start>.key.age`) and open it with one of `site`.
pub(crate) fn segment_key(segment: &Path, site: &[SecretKey]) -> Result<SegmentKey, RecordError> {
    let bad = |reason: String| RecordError::Input {
        reason: format!("{}: {reason}", segment.display()),
    };
    let name = segment
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| bad("not a segment file name".into()))?;
    let cam_dir = match segment.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let camera = cam_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let entry = Index::new(&cam_dir)
        .locked(|i| i.read())?
        .into_iter()
        .rev()
        .find(|e| e.file == name);
    if let Some(d) = entry.as_ref().and_then(|e| e.deleted.as_ref()) {
        return Err(bad(format!("erased at {} ({})", d.time, d.reason)));
    }
    let key_name = entry
        .as_ref()
        .and_then(|e| e.key.clone())
        .unwrap_or_else(|| key_file_for(name));
    let key_file = cam_dir.join(KEYS_DIR).join(&key_name);
    let sealed = match fs::read(&key_file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(format!(
                "its data key {} does not exist: the segment was crypto-erased (or is not an encrypted segment of this directory), and nobody can decrypt it",
                key_file.display()
            )))
        }
        Err(source) => {
            return Err(RecordError::Io {
                path: key_file,
                op: "read",
                source,
            })
        }
    };
    let key = SecretKey::unseal(site, &sealed, &key_file)?;
    Ok(SegmentKey {
        camera,
        entry,
        key_file,
        key,
    })
}
