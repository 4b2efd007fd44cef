//! The recorder's keys in a zone file's `[camera]` table (issue 29: a site configuration):
//! accepted by the zone-file parser as [`RecordingKeys`], read and checked by
//! [`camera_recording`] into a [`CameraRecording`]. Re-exported by [`zonefile`](crate::zonefile).

use std::path::{Path, PathBuf};

use crate::error::{parse_err, ConfigError};

/// The recorder's keys of a `[camera]` table, as the zone-file parser accepts them (typed,
/// not yet checked); [`camera_recording`] checks them.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct RecordingKeys {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    credentials_file: Option<String>,
    #[serde(default)]
    credentials_env: Option<String>,
    #[serde(default)]
    segment: Option<String>,
    #[serde(default)]
    retention: Option<String>,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    crf: Option<u8>,
    #[serde(default)]
    encoder: Option<String>,
    #[serde(default)]
    decoder: Option<String>,
    #[serde(default)]
    encrypt_to: Vec<String>,
    #[serde(default)]
    rtsp_transport: Option<String>,
}

/// How the recorder records a camera, from the keys of its zone file's `[camera]` table:
///
/// ```toml
/// [camera]
/// id = "entrance"
/// purposes = ["safety"]
/// responsible = "Facility management"
/// url = "rtsp://10.0.0.5/stream1"        # the source; no credentials here
/// credentials_file = "entrance.secret"   # one line `user:password` (or credentials_env)
/// segment = "60s"                        # the recorder's defaults where left out
/// retention = "28d"
/// preset = "veryfast"
/// crf = 18
/// encoder = "auto"                       # auto, x264, vaapi, nvenc or qsv
/// decoder = "auto"                       # auto, software, vaapi, cuda or qsv
/// encrypt_to = ["site.key.pub"]          # paths relative to the zone file
/// rtsp_transport = "tcp"
/// ```
///
/// Durations stay text here (the recorder parses them); paths are resolved against the
/// zone file's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CameraRecording {
    /// The camera's source (`rtsp://`, `http://` ...), without credentials.
    pub url: Option<String>,
    /// A file whose first line is `user:password`, inserted into the URL when it is opened.
    pub credentials_file: Option<PathBuf>,
    /// An environment variable holding `user:password`, as `credentials_file`.
    pub credentials_env: Option<String>,
    /// Segment length (`60s`).
    pub segment: Option<String>,
    /// Retention period (`28d`).
    pub retention: Option<String>,
    /// x264 preset.
    pub preset: Option<String>,
    /// x264 CRF, 0..=51.
    pub crf: Option<u8>,
    /// The H.264 encoder: `auto` (a hardware encoder when one opens, else x264), `x264`,
    /// `vaapi`, `nvenc` or `qsv` (one of [`ENCODERS`]).
    pub encoder: Option<String>,
    /// The decoder of the camera's stream: `auto` (a hardware decoder when one opens, else
    /// software), `software`, `vaapi`, `cuda` or `qsv` (one of [`DECODERS`]).
    pub decoder: Option<String>,
    /// The site's public keys the footage is encrypted to.
    pub encrypt_to: Vec<PathBuf>,
    /// RTSP transport, `tcp` or `udp`.
    pub rtsp_transport: Option<String>,
}

/// The values of the `encoder` key (veil-video's `Encoder` names).
pub const ENCODERS: [&str; 5] = ["auto", "x264", "vaapi", "nvenc", "qsv"];

/// The values of the `decoder` key (veil-video's `Decoder` names).
pub const DECODERS: [&str; 5] = ["auto", "software", "vaapi", "cuda", "qsv"];

#[derive(serde::Deserialize)]
struct RecordingFile {
    camera: RecordingKeys,
}

/// The recorder's settings of a zone file's `[camera]` table (see [`CameraRecording`]).
/// The file must also be a valid zone file: call
/// [`CameraConfig::from_toml_str`](crate::CameraConfig::from_toml_str) for its zones.
///
/// # Errors
/// [`ConfigError::Parse`] when the text is not TOML or a key has the wrong type,
/// [`ConfigError::Camera`] for a URL carrying credentials (they belong in
/// `credentials_file` or `credentials_env`, never in a file that is shown and logged), both
/// credential keys at once, a CRF over 51, an encoder not in [`ENCODERS`], a decoder not in
/// [`DECODERS`] or an RTSP
/// transport other than `tcp`/`udp`.
pub fn camera_recording(text: &str, origin: impl AsRef<Path>) -> Result<CameraRecording, ConfigError> {
    let origin = origin.as_ref();
    let raw: RecordingFile = toml::from_str(text).map_err(|e| parse_err(origin, e))?;
    let k = raw.camera;
    let bad = |reason: String| ConfigError::Camera {
        path: origin.to_path_buf(),
        reason,
    };
    if let Some(url) = &k.url {
        if url.trim().is_empty() {
            return Err(bad("url is empty".into()));
        }
        if let Some((_, rest)) = url.split_once("://") {
            let host = &rest[..rest.find('/').unwrap_or(rest.len())];
            if host.contains('@') {
                return Err(bad(
                    "url carries credentials (user:password@): put them in credentials_file or credentials_env, which are never shown or logged".into(),
                ));
            }
        }
    }
    if k.credentials_file.is_some() && k.credentials_env.is_some() {
        return Err(bad("credentials_file and credentials_env: give one".into()));
    }
    if let Some(c) = k.crf.filter(|&c| c > 51) {
        return Err(bad(format!("crf {c} outside 0..=51")));
    }
    if let Some(e) = k.encoder.as_deref().filter(|e| !ENCODERS.contains(e)) {
        return Err(bad(format!("encoder {e:?}: one of {}", ENCODERS.join(", "))));
    }
    if let Some(d) = k.decoder.as_deref().filter(|d| !DECODERS.contains(d)) {
        return Err(bad(format!("decoder {d:?}: one of {}", DECODERS.join(", "))));
    }
    if let Some(t) = k
        .rtsp_transport
        .as_deref()
        .filter(|t| !["tcp", "udp"].contains(t))
    {
        return Err(bad(format!("rtsp_transport {t:?}: tcp or udp")));
    }
    let base = origin.parent().unwrap_or(Path::new(""));
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    Ok(CameraRecording {
        url: k.url,
        credentials_file: k.credentials_file.as_deref().map(resolve),
        credentials_env: k.credentials_env,
        segment: k.segment,
        retention: k.retention,
        preset: k.preset,
        crf: k.crf,
        encoder: k.encoder,
        decoder: k.decoder,
        encrypt_to: k.encrypt_to.iter().map(|p| resolve(p)).collect(),
        rtsp_transport: k.rtsp_transport,
    })
}

#[cfg(test)]
mod recording_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::CameraConfig;

    const BASE: &str = "[camera]\nid = \"c1\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n";

    #[test]
    fn recording_keys_are_part_of_the_zone_file() {
        let text = format!(
            "{BASE}url = \"rtsp://10.0.0.5/s1\"\ncredentials_file = \"c1.secret\"\nsegment = \"10s\"\ncrf = 23\nencrypt_to = [\"/k/site.pub\", \"rel.pub\"]\n"
        );
        let cfg = CameraConfig::from_toml_str(&text, "/site/c1.toml").unwrap();
        assert_eq!(cfg.id, "c1");
        let r = camera_recording(&text, "/site/c1.toml").unwrap();
        assert_eq!(r.url.as_deref(), Some("rtsp://10.0.0.5/s1"));
        assert_eq!(r.credentials_file, Some(PathBuf::from("/site/c1.secret")));
        assert_eq!(r.segment.as_deref(), Some("10s"));
        assert_eq!(r.crf, Some(23));
        assert_eq!(
            r.encrypt_to,
            vec![PathBuf::from("/k/site.pub"), PathBuf::from("/site/rel.pub")]
        );
        // A zone file without them is a camera the site does not record.
        assert_eq!(
            camera_recording(BASE, "x.toml").unwrap(),
            CameraRecording::default()
        );
    }

    #[test]
    fn unknown_keys_and_credentials_in_the_url_are_refused() {
        let typo = format!("{BASE}ulr = \"rtsp://x/\"\n");
        assert!(CameraConfig::from_toml_str(&typo, "x.toml").is_err());
        let secret = format!("{BASE}url = \"rtsp://admin:hunter2@10.0.0.5/s1\"\n");
        let e = camera_recording(&secret, "x.toml").unwrap_err().to_string();
        assert!(e.contains("credentials_file"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let both = format!("{BASE}credentials_file = \"a\"\ncredentials_env = \"B\"\n");
        assert!(camera_recording(&both, "x.toml").is_err());
        let crf = format!("{BASE}crf = 60\n");
        assert!(camera_recording(&crf, "x.toml").is_err());
        let encoder = format!("{BASE}encoder = \"cuda\"\n");
        let e = camera_recording(&encoder, "x.toml").unwrap_err().to_string();
        assert!(e.contains("auto, x264, vaapi, nvenc, qsv"), "{e}");
        let vaapi = format!("{BASE}encoder = \"vaapi\"\n");
        assert!(CameraConfig::from_toml_str(&vaapi, "x.toml").is_ok());
        assert_eq!(
            camera_recording(&vaapi, "x.toml").unwrap().encoder.as_deref(),
            Some("vaapi")
        );
        let decoder = format!("{BASE}decoder = \"nvenc\"\n");
        let e = camera_recording(&decoder, "x.toml").unwrap_err().to_string();
        assert!(e.contains("auto, software, vaapi, cuda, qsv"), "{e}");
        let cuda = format!("{BASE}decoder = \"cuda\"\n");
        assert!(CameraConfig::from_toml_str(&cuda, "x.toml").is_ok());
        assert_eq!(
            camera_recording(&cuda, "x.toml").unwrap().decoder.as_deref(),
            Some("cuda")
        );
        let wrong_type = format!("{BASE}crf = \"high\"\n");
        assert!(CameraConfig::from_toml_str(&wrong_type, "x.toml").is_err());
    }
}
