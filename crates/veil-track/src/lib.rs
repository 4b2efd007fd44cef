//! veil-track: multi-object tracking of persons and faces across frames, for inzage exports.
//!
//! Pass 1 of an export detects persons and faces on every frame and feeds them to a
//! [`Tracker`]; [`Tracker::finish`] yields [`Tracks`], saved as a JSON tracks file. Pass 2
//! asks [`Tracks::boxes_at`] for every box to redact on a frame and skips the requester's
//! track ids.
//!
//! Privacy shapes the design: detectors miss frames, so gaps are interpolated and boxes are
//! held in time around every observed frame (temporal padding); defaults favour recall (every
//! detection above the birth threshold is covered by an output box); and a face is attached to
//! a person only when the attachment is unambiguous, so a bystander's face is never filed under
//! the requester.
//!
//! ```
//! use veil_core::BoxF;
//! use veil_track::{Class, Detection, Tracker, TrackerConfig};
//!
//! # fn main() -> Result<(), veil_track::TrackError> {
//! let mut tracker = Tracker::new(TrackerConfig::default())?;
//! for frame in 0..10u64 {
//!     if frame == 4 {
//!         tracker.update(frame, &[])?; // the detector missed this frame
//!         continue;
//!     }
//!     let x = 10.0 + 5.0 * frame as f32;
//!     let person = Detection::new(Class::Person, 0.9, BoxF::new(x, 50.0, 40.0, 100.0));
//!     let face = Detection::new(Class::Face, 0.8, BoxF::new(x + 12.0, 55.0, 16.0, 20.0));
//!     tracker.update(frame, &[person, face])?;
//! }
//! let mut tracks = tracker.finish();
//! tracks.set_video(640, 480, 25.0)?;
//! assert_eq!(tracks.len(), 1);
//! // Frame 4 has an interpolated body box and face box.
//! assert_eq!(tracks.boxes_at(4, 0).count(), 2);
//! // Frame 12 is held from frame 9 by 5 frames of temporal padding.
//! assert_eq!(tracks.boxes_at(12, 5).count(), 2);
//! let back = veil_track::Tracks::from_json(&tracks.to_json()?)?;
//! assert_eq!(back, tracks);
//! # Ok(())
//! # }
//! ```

pub mod appearance;
mod config;
mod contact;
mod error;
pub mod facechain;
mod faces;
mod geom;
pub mod identity;
mod kalman;
mod link;
mod pool;
mod provenance;
mod track;
mod tracker;
mod tracks;
mod wire;

pub use appearance::{Appearance, AppearanceMean};
pub use config::TrackerConfig;
pub use error::TrackError;
pub use identity::{Cause, EventKind, IdentityEvent, Link, LinkBasis, Tracklet, TrackletId};
pub use provenance::{DetectorModel, Provenance};
pub use track::{Track, TrackBox};
pub use tracker::Tracker;
pub use tracks::{AtPoint, PointCandidate, Tracks};
pub use veil_core::{Class, Detection};
pub use wire::{TRACKS_VERSION, TRACKS_VERSION_MIN};

#[cfg(test)]
mod facechain_tests;
#[cfg(test)]
mod identity_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tracks_tests;
