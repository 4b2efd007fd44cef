//! Ending a [`VideoWriter`]'s output: [`VideoWriter::finish`] writes the index, syncs the
//! file and renames it onto the destination; dropping the writer unfinished removes it.

use std::fs;
use std::path::PathBuf;

use ff::ffi;
use ffmpeg_next as ff;

use super::encoder::enc_err;
use super::VideoWriter;
use crate::VideoError;

impl VideoWriter {
    /// Flush the encoder, write the MP4 index, sync the file to disk and rename it onto
    /// the destination. Returns the number of frames written.
    ///
    /// # Errors
    /// [`VideoError::Encode`] if no frame was written or the encoder/muxer fails,
    /// [`VideoError::Io`] if syncing or renaming fails. The temporary file is removed.
    pub fn finish(mut self) -> Result<u64, VideoError> {
        if self.frames == 0 {
            return Err(enc_err(
                &self.dest,
                "nothing to write",
                "no frames (is the time window empty?)",
            ));
        }
        self.enc
            .send_eof()
            .map_err(|e| enc_err(&self.dest, "cannot flush the encoder", e))?;
        self.drain()?;
        let Some(mut out) = self.out.take() else {
            return Err(enc_err(&self.dest, "internal", "output already closed"));
        };
        out.write_trailer()
            .map_err(|e| enc_err(&self.dest, "cannot write the MP4 index", e))?;
        if self.streamed {
            // SAFETY: `pb` is the stream's valid I/O context, owned by `out`, which is alive.
            let err = unsafe {
                let pb = (*out.as_mut_ptr()).pb;
                ffi::avio_flush(pb);
                (*pb).error
            };
            drop(out); // hands the last bytes to the sink and flushes it
            if err < 0 {
                return Err(enc_err(
                    &self.dest,
                    "cannot write to the stream",
                    ff::Error::from(err),
                ));
            }
            let frames = self.frames;
            self.frames = 0;
            return Ok(frames);
        }
        drop(out); // closes the file
        let io = |what: &str, e: std::io::Error| VideoError::Io {
            path: self.dest.clone(),
            reason: format!("{what}: {e}"),
        };
        fs::File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot sync the output to disk", e))?;
        if self.fragmented {
            // Written in place: nothing to rename.
            let frames = self.frames;
            self.tmp = PathBuf::new();
            return Ok(frames);
        }
        fs::rename(&self.tmp, &self.dest).map_err(|e| io("cannot move the finished output into place", e))?;
        // Make the rename itself durable (best effort: not every file system allows it).
        veil_core::fsutil::sync_parent(&self.dest);
        let frames = self.frames;
        self.frames = 0;
        self.tmp = PathBuf::new();
        Ok(frames)
    }
}

impl Drop for VideoWriter {
    fn drop(&mut self) {
        // Close the file before removing it; `finish` leaves `tmp` empty once renamed.
        drop(self.out.take());
        // A fragmented recording keeps what it wrote (its complete fragments are playable),
        // unless it holds no frame at all.
        if !self.tmp.as_os_str().is_empty() && (!self.fragmented || self.frames == 0) {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
