//! Video decode/encode for Veil over FFmpeg (ffmpeg-next)
