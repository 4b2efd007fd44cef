//! The two passes as bounded pipelines of threads: decoding, inference (faces and persons in
//! separate stages, so both networks run at once), redaction and encoding overlap, and frames
//! move between stages without being copied (they are the decoder's own buffers, redacted in
//! place and handed to the encoder by reference).
//!
//! Fail closed: a stage that fails returns its error and drops its channel ends; the stages
//! around it then stop, and the encoder only finishes (renames its temporary file onto the
//! destination) after every upstream stage has ended without error.
//!
//! - `activity`: the activity gate of pass 1 (the detectors run where something can be);
//! - `stages`: the three-stage runner, busy timers, the frame clock;
//! - `analysis`: pass 1 and [`analyze`];
//! - `checks`: whether a tracks file may be used for an export;
//! - `deliver`: the stretches of an `--only-requester` copy, and the operator's additions;
//! - `export`: the export plan, pass 2, the manifest and [`export`].

mod activity;
mod analysis;
mod checks;
mod deliver;
mod export;
mod stages;

pub use analysis::analyze;
pub use export::export;
