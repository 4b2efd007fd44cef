//! The tracks file: the JSON form of [`Tracks`], its versions, loading and atomic saving.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use veil_core::Class;

use crate::error::TrackError;
use crate::identity::{IdentityEvent, Tracklet};
use crate::provenance::{check_sha256, DetectorModel, Provenance};
use crate::track::{whole, Track, TrackBox};
use crate::tracks::{check_analyzed, Tracks};

/// The tracks document version this build writes. Version 2 added tracklets, identity
/// events and links; version 1 files still load (each track then is one tracklet without
/// identity information, see [`Tracks::has_identity`]).
pub const TRACKS_VERSION: u32 = 2;

/// The oldest tracks document version this build reads.
pub const TRACKS_VERSION_MIN: u32 = 1;

#[derive(Serialize)]
struct TracksRef<'a> {
    version: u32,
    width: u32,
    height: u32,
    fps: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    analyzed: Option<[u64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_face: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_person: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    veil_version: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    models: &'a [DetectorModel],
    #[serde(skip_serializing_if = "Option::is_none")]
    face_threshold: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    person_threshold: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    every: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    person_every: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_search_every: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes_only: Option<u32>,
    tracks: &'a [Track],
    events: &'a [IdentityEvent],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TracksWire {
    version: u64,
    width: u32,
    height: u32,
    fps: f64,
    #[serde(default)]
    analyzed: Option<[u64; 2]>,
    #[serde(default)]
    source_sha256: Option<String>,
    #[serde(default)]
    min_face: Option<u32>,
    #[serde(default)]
    min_person: Option<u32>,
    #[serde(default)]
    veil_version: Option<String>,
    #[serde(default)]
    models: Vec<DetectorModel>,
    #[serde(default)]
    face_threshold: Option<f32>,
    #[serde(default)]
    person_threshold: Option<f32>,
    #[serde(default)]
    every: Option<u32>,
    #[serde(default)]
    person_every: Option<u32>,
    #[serde(default)]
    full_search_every: Option<f64>,
    #[serde(default)]
    changes_only: Option<u32>,
    tracks: Vec<TrackWire>,
    #[serde(default)]
    events: Option<Vec<IdentityEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackWire {
    id: u64,
    class: Class,
    first_frame: u64,
    last_frame: u64,
    boxes: Vec<TrackBox>,
    faces: Vec<TrackBox>,
    #[serde(default)]
    tracklets: Option<Vec<Tracklet>>,
    #[serde(default)]
    groups: Vec<[u64; 2]>,
}

#[derive(Deserialize)]
struct VersionProbe {
    version: serde_json::Value,
}

impl Serialize for Tracks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TracksRef {
            version: TRACKS_VERSION,
            width: self.width,
            height: self.height,
            fps: self.fps,
            analyzed: self.analyzed,
            source_sha256: self.source_sha256.as_deref(),
            min_face: self.min_face,
            min_person: self.min_person,
            veil_version: self.provenance.veil_version.as_deref(),
            models: &self.provenance.models,
            face_threshold: self.provenance.face_threshold,
            person_threshold: self.provenance.person_threshold,
            every: self.provenance.every,
            person_every: self.provenance.person_every,
            full_search_every: self.provenance.full_search_every,
            changes_only: self.provenance.changes_only,
            tracks: &self.tracks,
            events: &self.events,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tracks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Tracks::from_wire(TracksWire::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Tracks {
    /// The document as compact JSON.
    ///
    /// # Errors
    /// [`TrackError::InvalidTrack`] if serialisation fails (not expected for a valid document).
    pub fn to_json(&self) -> Result<String, TrackError> {
        serde_json::to_string(self).map_err(|e| TrackError::InvalidTrack {
            reason: e.to_string(),
        })
    }

    /// Parse and validate a document held in memory (errors name the file as `<string>`).
    ///
    /// # Errors
    /// [`TrackError::Parse`] or [`TrackError::Invalid`], see [`Tracks::load`].
    pub fn from_json(json: &str) -> Result<Tracks, TrackError> {
        Tracks::parse(json, Path::new("<string>"))
    }

    /// Read and validate a tracks file.
    ///
    /// # Errors
    /// [`TrackError::Read`] if the file cannot be read; [`TrackError::Parse`] if it is not JSON
    /// of the tracks schema (including negative sizes and unknown fields);
    /// [`TrackError::Invalid`] for an unsupported version, a non-finite box or score, a negative
    /// box size or fps, unsorted or repeated frames, inconsistent first/last frame, an empty
    /// track, a repeated id, an `analyzed` range whose first frame comes after its last, or a
    /// `source_sha256` that is not 64 hex digits.
    pub fn load(path: impl AsRef<Path>) -> Result<Tracks, TrackError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TrackError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Tracks::parse(&text, path)
    }

    /// Write the document atomically: to a temporary file beside `path`, flushed to disk, then
    /// renamed over `path`, so a reader never sees a partial file.
    ///
    /// # Errors
    /// [`TrackError::Write`] if any step fails; the temporary file is removed and `path` is left
    /// as it was.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TrackError> {
        let path = path.as_ref();
        let json = self.to_json()?;
        let werr = |source| TrackError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = json.into_bytes();
        bytes.push(b'\n');
        veil_core::fsutil::write_atomic(path, &bytes).map_err(werr)
    }

    fn parse(json: &str, path: &Path) -> Result<Tracks, TrackError> {
        match serde_json::from_str::<TracksWire>(json) {
            Ok(w) => Tracks::from_wire(w).map_err(|reason| TrackError::Invalid {
                path: path.to_path_buf(),
                reason,
            }),
            Err(e) => {
                // A document of another version may fail the schema; say so rather than
                // reporting the first field that differs.
                if let Ok(p) = serde_json::from_str::<VersionProbe>(json) {
                    let known = u64::from(TRACKS_VERSION_MIN)..=u64::from(TRACKS_VERSION);
                    if !p.version.as_u64().is_some_and(|v| known.contains(&v)) {
                        return Err(TrackError::Invalid {
                            path: path.to_path_buf(),
                            reason: version_reason(&p.version),
                        });
                    }
                }
                Err(TrackError::Parse {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        }
    }

    fn from_wire(w: TracksWire) -> Result<Tracks, String> {
        if !(u64::from(TRACKS_VERSION_MIN)..=u64::from(TRACKS_VERSION)).contains(&w.version) {
            return Err(version_reason(&serde_json::Value::from(w.version)));
        }
        let identity = w.version >= 2;
        if identity && w.events.is_none() {
            return Err("version 2 requires \"events\"".into());
        }
        if !identity && (w.events.is_some() || w.tracks.iter().any(|t| t.tracklets.is_some())) {
            return Err("version 1 has no \"events\" or \"tracklets\" (written by a newer Veil?)".into());
        }
        let mut tracks = Vec::with_capacity(w.tracks.len());
        for (i, t) in w.tracks.into_iter().enumerate() {
            let tracklets = match t.tracklets {
                Some(list) => list,
                None if identity => {
                    return Err(format!(
                        "tracks[{i}] (id {}): version 2 requires \"tracklets\"",
                        t.id
                    ))
                }
                None => vec![whole(t.first_frame, t.last_frame)],
            };
            tracks.push(Track {
                id: t.id,
                class: t.class,
                first_frame: t.first_frame,
                last_frame: t.last_frame,
                boxes: t.boxes,
                faces: t.faces,
                tracklets,
                groups: t.groups,
            });
        }
        check_analyzed(w.analyzed)?;
        let source_sha256 = check_sha256(w.source_sha256.as_deref())?;
        let provenance = Provenance {
            veil_version: w.veil_version,
            models: w.models,
            face_threshold: w.face_threshold,
            person_threshold: w.person_threshold,
            every: w.every,
            person_every: w.person_every,
            full_search_every: w.full_search_every,
            changes_only: w.changes_only,
        }
        .checked()?;
        let mut t = Tracks {
            width: w.width,
            height: w.height,
            fps: w.fps,
            analyzed: w.analyzed,
            source_sha256,
            min_face: w.min_face,
            min_person: w.min_person,
            provenance,
            tracks,
            events: w.events.unwrap_or_default(),
            identity,
        };
        t.check()?;
        // Lookups by id use binary search; the file's order is not part of its meaning.
        t.tracks.sort_by_key(|t| t.id);
        Ok(t)
    }
}

fn version_reason(v: &serde_json::Value) -> String {
    format!("unsupported version {v} (this build reads versions {TRACKS_VERSION_MIN} to {TRACKS_VERSION})")
}
