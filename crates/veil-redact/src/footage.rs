//! Encrypted footage in and out, in one place for every reader and writer of the library.
//!
//! In: [`open_input`] hands an input to the pipelines as a path they read like any other
//! file. An encrypted one (age: a recorder segment, or a file encrypted directly to the key)
//! is decrypted into an anonymous in-memory file ([`veil_record::PlainInput`]), so the
//! plaintext never touches a disk; [`record_input`] then names the input as given in the
//! manifest, with the decrypted stream's SHA-256 and the encrypted file's.
//!
//! Out: a [`Sealer`] diverts an output to a private directory in memory (`/dev/shm`, mode
//! 0700) while it is written and hashed, and [`Sealer::seal`] encrypts it into its staging
//! file beside the destination before anything is logged or published.

use std::fs;
use std::path::{Path, PathBuf};

use veil_crypt::{EncryptingFile, PublicKey};
use veil_record::{DataKey, PlainInput};

use crate::manifest::{EncryptedFile, FileHash};
use crate::RedactError;

/// Open `input` for reading, decrypting it in memory when it is encrypted (with `key`, the
/// secret key file). The returned value must outlive every read of its path.
///
/// # Errors
/// [`RedactError::Footage`]: an encrypted input without a key, a wrong key, a
/// crypto-erased segment, a key file others can read.
pub(crate) fn open_input(input: &Path, key: Option<&Path>) -> Result<PlainInput, RedactError> {
    Ok(PlainInput::open(input, key)?)
}

/// `hash` (of what was read) as the manifest records it: under the input's own name, and
/// for an encrypted input with the encrypted file's hash and data key.
///
/// The joined stream of a camera's recordings (`recordings`) is named by its camera and
/// window: the segments it was read from, each with its recorded hash, are in the record.
pub(crate) fn record_input(
    plain: &PlainInput,
    mut hash: FileHash,
    recordings: Option<&veil_record::RecordingsRecord>,
) -> FileHash {
    hash.path = match recordings {
        Some(r) => r.source_name(),
        None => plain.original().to_path_buf(),
    };
    hash.decrypted_from = plain.encrypted().map(|e| EncryptedFile {
        sha256: e.sha256.clone(),
        data_key: match &e.key {
            DataKey::Segment { key_file, .. } => Some(key_file.clone()),
            _ => None,
        },
    });
    hash
}

/// Refuse to keep the requester visible on both sides of a break in recordings read as one
/// stream: on either side of a hole the pictures are not continuous, and a track (or a
/// tracklet linked by motion) that seems to go on across it may be a bystander standing
/// where the requester stood. Fail closed: such an export is refused, naming the hole, and
/// the stretches on either side can be exported one by one. A requester kept on one side
/// only, and `--keep-none`, go on across holes (everyone else is redacted either way).
pub(crate) fn check_keep_continuous(
    recordings: Option<&veil_record::RecordingsRecord>,
    keep: &crate::KeepSet,
    tracks: &veil_track::Tracks,
) -> Result<(), RedactError> {
    let Some(r) = recordings else {
        return Ok(());
    };
    // The kept tracklets, and the requester's face followed beyond them.
    let kept: Vec<(u64, u64)> = keep
        .tracklets
        .iter()
        .filter_map(|id| tracks.tracklet(*id))
        .map(|t| (t.start, t.end))
        .chain(keep.face_frames())
        .collect();
    let (Some(first), Some(last)) = (kept.iter().map(|k| k.0).min(), kept.iter().map(|k| k.1).max()) else {
        return Ok(());
    };
    let breaks: Vec<String> = r
        .discontinuities()
        .into_iter()
        .filter(|(t, _)| {
            let d = crate::frame_number(*t, tracks.fps());
            first < d && d <= last
        })
        .map(|(_, w)| format!("{} .. {}", w.from, w.to))
        .collect();
    if breaks.is_empty() {
        return Ok(());
    }
    Err(RedactError::InvalidOption {
        reason: format!(
            "the requester would be kept on both sides of a hole in the recordings of camera {} ({}): \
             a person cannot be followed across a hole, so the one after it may be someone else; \
             export the stretches before and after it separately",
            r.camera,
            breaks.join(", ")
        ),
    })
}

/// `e` naming the input as given where it names the plaintext in memory (a
/// `/proc/self/fd` path means nothing to the operator).
pub(crate) fn named(e: RedactError, plain: &PlainInput) -> RedactError {
    named_as(e, plain, None)
}

/// [`named`], naming the joined stream of a camera's recordings (`recordings`) by its camera
/// and window rather than its `/proc/self/fd` path in memory.
pub(crate) fn named_as(
    mut e: RedactError,
    plain: &PlainInput,
    recordings: Option<&veil_record::RecordingsRecord>,
) -> RedactError {
    use veil_video::VideoError as V;
    let name = match recordings {
        Some(r) => r.source_name(),
        None if plain.encrypted().is_some() => plain.original().to_path_buf(),
        None => return e,
    };
    let fix = |p: &mut PathBuf| {
        if p == plain.path() {
            *p = name.clone();
        }
    };
    match &mut e {
        RedactError::EmptyWindow { path, .. }
        | RedactError::Io { path, .. }
        | RedactError::Mask { path, .. } => fix(path),
        RedactError::TracksMismatch { input, .. } | RedactError::TracksCoverage { input, .. } => fix(input),
        RedactError::Video(
            V::Open { path, .. }
            | V::NoVideoStream { path, .. }
            | V::UnsupportedCodec { path, .. }
            | V::UnsupportedSize { path, .. }
            | V::UnsupportedRate { path, .. }
            | V::GeometryChanged { path, .. }
            | V::Read { path, .. }
            | V::Truncated { path, .. }
            | V::Decode { path, .. }
            | V::CopyUnsupported { path, .. }
            | V::Io { path, .. }
            | V::Frame { path, .. },
        ) => fix(path),
        _ => {}
    }
    e
}

/// Load the recipients' public key files (`--encrypt-to`).
///
/// # Errors
/// [`RedactError::Crypt`] for a file that holds no age public key.
pub(crate) fn load_recipients(files: &[PathBuf]) -> Result<Vec<PublicKey>, RedactError> {
    let mut out = Vec::new();
    for f in files {
        out.extend(veil_crypt::load_recipients(f)?);
    }
    Ok(out)
}

/// Outputs written in memory and encrypted into their staging files (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Sealer {
    recipients: Vec<PublicKey>,
    /// The private directory in memory, created on first use.
    dir: Option<PathBuf>,
    /// (plain path in memory, staging path of the encrypted file).
    files: Vec<(PathBuf, PathBuf)>,
}

impl Sealer {
    /// A sealer for `recipients` (none: outputs are written in the clear, as staged).
    pub(crate) fn new(recipients: Vec<PublicKey>) -> Self {
        Sealer {
            recipients,
            dir: None,
            files: Vec::new(),
        }
    }

    /// The public keys, as the manifest records them.
    pub(crate) fn recipients(&self) -> Vec<String> {
        self.recipients.iter().map(|r| r.to_string()).collect()
    }

    /// Where to write the output staged at `staged`: `staged` itself without recipients,
    /// else a file of the same extension in the private in-memory directory.
    ///
    /// # Errors
    /// [`RedactError::Io`] when the directory cannot be made (no `/dev/shm`).
    pub(crate) fn divert(&mut self, staged: PathBuf) -> Result<PathBuf, RedactError> {
        if self.recipients.is_empty() {
            return Ok(staged);
        }
        let dir = match &self.dir {
            Some(d) => d.clone(),
            None => {
                let d = private_dir()?;
                self.dir = Some(d.clone());
                d
            }
        };
        let name = staged
            .extension()
            .map(|e| format!("plain{}.{}", self.files.len(), e.to_string_lossy()))
            .unwrap_or_else(|| format!("plain{}", self.files.len()));
        let plain = dir.join(name);
        self.files.push((plain.clone(), staged));
        Ok(plain)
    }

    /// Encrypt every diverted output into its staging file and drop the plaintext.
    ///
    /// # Errors
    /// [`RedactError::Crypt`], [`RedactError::Io`]. Nothing is left in memory either way
    /// once the sealer is dropped.
    pub(crate) fn seal(&mut self) -> Result<(), RedactError> {
        for (plain, staged) in std::mem::take(&mut self.files) {
            let out = EncryptingFile::create(&staged, &self.recipients)?;
            let copied = fs::File::open(&plain)
                .and_then(|mut f| std::io::copy(&mut f, &mut out.writer()))
                .map_err(|e| RedactError::io(&staged, "cannot encrypt the copy", e));
            let _ = fs::remove_file(&plain);
            if let Err(e) = copied {
                drop(out);
                let _ = fs::remove_file(&staged);
                return Err(e);
            }
            if let Err(e) = out.finish() {
                let _ = fs::remove_file(&staged);
                return Err(e.into());
            }
        }
        Ok(())
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// A new directory only its owner can enter, in memory (`/dev/shm`).
fn private_dir() -> Result<PathBuf, RedactError> {
    let base = Path::new("/dev/shm");
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| RedactError::Internal(format!("no randomness: {e}")))?;
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = base.join(format!("veil-{}-{name}", std::process::id()));
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&dir).map_err(|e| {
        RedactError::io(
            &dir,
            "cannot make a private directory in memory for the copy before it is encrypted (--encrypt-to needs /dev/shm)",
            e,
        )
    })?;
    Ok(dir)
}

#[cfg(test)]
#[path = "footage_tests.rs"]
mod tests;
