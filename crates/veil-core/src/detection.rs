//! What a detector found on a frame: the type that veil-detect produces and veil-track
//! consumes, defined once here beside [`BoxF`].

use serde::{Deserialize, Serialize};

use crate::geometry::BoxF;

/// What a detection or track is.
///
/// Deliberately exhaustive: a new class must be handled by every `match` on it (the
/// tracker, the export's layer order), so that nothing a detector reports is dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A human face (CenterFace).
    Face,
    /// A whole person (NanoDet).
    Person,
}

impl Class {
    /// `"face"` or `"person"`, as in the tracks file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Face => "face",
            Class::Person => "person",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detected object on one frame, in frame pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Face or person.
    pub class: Class,
    /// Detector confidence, normally `0..=1`.
    pub score: f32,
    /// The box in frame pixels.
    pub bbox: BoxF,
    /// Face landmarks in frame pixels (left eye, right eye, nose, left and right mouth
    /// corner, as seen in the picture), for faces from CenterFace; `None` otherwise.
    pub landmarks: Option<[[f32; 2]; 5]>,
}

impl Detection {
    /// A detection without landmarks.
    pub const fn new(class: Class, score: f32, bbox: BoxF) -> Self {
        Detection {
            class,
            score,
            bbox,
            landmarks: None,
        }
    }
}
