//! Per-frame composition of redaction layers from tracks: which pixels of a frame are
//! redacted, kept or left alone, and with which style.
//!
//! Priority, lowest first (later layers win where boxes overlap, see [`veil_core::rasterise`]):
//! 1. spotlight only: the whole frame, redacted;
//! 2. the requester's body, kept (shielding it from layer 1);
//! 3. bystander bodies, redacted, even where they overlap the requester's body;
//! 4. the requester's face, kept (shielding it from layers 1 to 3);
//! 5. bystander faces, redacted, even where they overlap the requester's face.
//!
//! The camera's zones are applied before all of these and no layer undoes them, so zones come
//! out on top. In short: requester body < bystander bodies < requester face < bystander faces
//! < zones. Bystanders win ties because inzage is allowed only insofar as it does not harm the
//! privacy of others: where a bystander's box overlaps the requester's body, the overlap is
//! redacted; only the requester's own face is shielded from bystander bodies (a face box is
//! small and a bystander's body box often covers it while people pass each other).
//!
//! Boxes are padded in space ([`Padding`]) and held in time ([`Padding::frames`]) before
//! they are rasterised, because detector boxes are tight and detectors miss frames.

use serde::{Deserialize, Serialize};
use veil_core::{layers_by_strength, Action, BoxF, CpuLevel, FrameMut, Layer, LayerStack, Redaction, Shape};
use veil_track::Tracks;

/// How tracked people are redacted.
///
/// Which styles are irreversible: [`Style::Solid`] (black fill, nothing survives),
/// [`Style::Pixelate`] (block means with blocks of at least 8 pixels) and [`Style::Blur`], the
/// default: it looks like a blur but is computed from cells of a sixth of the box height with
/// random noise on every cell mean, so deconvolution cannot undo it
/// ([`veil_core::Redaction::Blur`]). [`Style::WeakBlur`] is not irreversible: a plain blur is
/// a known linear filter that deconvolution can partly undo; it is there by explicit name
/// only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// Blur over noisy coarse cells, radius scaled with the box height (default; irreversible).
    #[default]
    Blur,
    /// Block means, block scaled with the box height (irreversible).
    Pixelate,
    /// Black fill (irreversible).
    Solid,
    /// Plain blur, radius scaled with the box height (NOT irreversible; by name only).
    #[serde(rename = "weak-blur")]
    WeakBlur,
}

/// Quantisation steps for blur radii and pixelate blocks: each distinct [`Redaction`] is one
/// layer (one rasterised mask per frame), so sizes are rounded up to a few buckets.
pub const SIZE_BUCKETS: [u32; 13] = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

/// The smallest bucket of [`SIZE_BUCKETS`] at or above `v` (the largest bucket past it).
pub fn bucket(v: u32) -> u32 {
    SIZE_BUCKETS
        .iter()
        .copied()
        .find(|&b| b >= v)
        .unwrap_or(SIZE_BUCKETS[SIZE_BUCKETS.len() - 1])
}

impl Style {
    /// Whether nothing of the original pixels can be recovered from the output.
    pub fn is_irreversible(self) -> bool {
        !matches!(self, Style::WeakBlur)
    }

    /// The redaction for a box `box_height` pixels tall: blur radius `max(8, h/4)` (either
    /// blur; the irreversible one's cells are two thirds of it, `h/6`), pixelate block
    /// `max(8, h/6)`, all rounded up to a [`bucket`]. A blur of a quarter of the face height
    /// leaves no recognisable feature; a face pixelated at h/6 is at most 6 blocks tall.
    pub fn for_box(self, box_height: f32) -> Redaction {
        let h = if box_height.is_finite() {
            box_height.max(0.0) as u32
        } else {
            0
        };
        match self {
            Style::Blur => Redaction::Blur {
                radius: bucket((h / 4).max(8)),
            },
            Style::WeakBlur => Redaction::WeakBlur {
                radius: bucket((h / 4).max(8)),
            },
            Style::Pixelate => Redaction::Pixelate {
                block: bucket((h / 6).max(8)),
            },
            Style::Solid => Redaction::Solid,
        }
    }

    /// The redaction for the whole frame in spotlight mode (scaled with the frame height:
    /// blur radius `max(16, h/24)`, pixelate block `max(16, h/30)`, bucketed).
    pub fn for_frame(self, height: u32) -> Redaction {
        match self {
            Style::Blur => Redaction::Blur {
                radius: bucket((height / 24).max(16)),
            },
            Style::WeakBlur => Redaction::WeakBlur {
                radius: bucket((height / 24).max(16)),
            },
            Style::Pixelate => Redaction::Pixelate {
                block: bucket((height / 30).max(16)),
            },
            Style::Solid => Redaction::Solid,
        }
    }
}

/// Spatial and temporal padding of tracked boxes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Padding {
    /// Fraction of a face box's size added on every side: a bystander's (redacted) and the
    /// requester's (kept over bystander bodies). Default 0.15.
    pub face: f32,
    /// Fraction of a bystander body box's size added on every side. Default 0.10.
    pub body: f32,
    /// Fraction of the requester's boxes added on every side of the kept region. Default
    /// 0.05: small, because whatever the kept region covers of a bystander's body stays
    /// visible (their faces are redacted on top regardless).
    pub requester: f32,
    /// Frames a box is held before and after every frame it was seen on (also into gaps
    /// too long to interpolate). Default 5.
    pub frames: u64,
}

impl Default for Padding {
    fn default() -> Self {
        Padding {
            face: 0.15,
            body: 0.10,
            requester: 0.05,
            frames: 5,
        }
    }
}

impl Padding {
    /// Why these values are unusable, if they are.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("face", self.face),
            ("body", self.body),
            ("requester", self.requester),
        ] {
            if !(0.0..=2.0).contains(&v) {
                return Err(format!("{name} padding {v} outside 0..=2"));
            }
        }
        if self.frames > 10_000 {
            return Err(format!(
                "temporal padding of {} frames is above 10000",
                self.frames
            ));
        }
        Ok(())
    }
}

/// What to redact on a frame: the settings of [`frame_layers`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerPlan {
    /// Redaction style of bystanders (and of the background in spotlight mode).
    pub style: Style,
    /// Box padding.
    pub padding: Padding,
    /// Redact everything outside the requester's kept region.
    pub spotlight: bool,
}

/// The layers of one frame plus counts for the manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameLayers {
    /// Prioritised layers for [`veil_core::rasterise`].
    pub layers: Vec<Layer>,
    /// Bystander boxes (bodies and faces) redacted on this frame.
    pub redacted_boxes: u32,
    /// Requester boxes kept on this frame.
    pub kept_boxes: u32,
    /// Ids of the tracks with a redacted box on this frame (sorted, unique).
    pub redacted_tracks: Vec<u64>,
}

/// Add `b` to `shapes` with its redaction, if any of it lies inside the frame.
fn push(shapes: &mut Vec<(Redaction, Shape)>, r: Redaction, b: BoxF, width: u32, height: u32) -> bool {
    let Some(rect) = b.to_rect().clamp_to(width, height) else {
        return false;
    };
    shapes.push((r, Shape::Rect(rect)));
    true
}

/// Which track boxes belong to the requester on which frames.
///
/// A plain list of track ids keeps those tracks on every frame; a keep set keeps
/// only the tracklets whose identity is confirmed (see `KeepSet`).
pub trait Keeps {
    /// Whether the box of track `id` on `frame` is the requester's.
    fn keeps(&self, id: u64, frame: u64) -> bool;

    /// Whether face box `b` on `frame` is the requester's face although its track is not
    /// kept (a face followed box to box through a meeting). None by default.
    fn keeps_face(&self, _frame: u64, _b: &BoxF) -> bool {
        false
    }

    /// Whether face box `b` of track `id` on `frame` is kept. By default: every face of a
    /// kept track, and faces kept by [`Keeps::keeps_face`]. A keep set of an inzage export
    /// keeps only the faces owned by evidence, not every face over the requester's body.
    fn keeps_face_of(&self, id: u64, frame: u64, b: &BoxF) -> bool {
        self.keeps(id, frame) || self.keeps_face(frame, b)
    }
}

impl Keeps for [u64] {
    fn keeps(&self, id: u64, _frame: u64) -> bool {
        self.contains(&id)
    }
}

impl<const N: usize> Keeps for [u64; N] {
    fn keeps(&self, id: u64, _frame: u64) -> bool {
        self.contains(&id)
    }
}

impl Keeps for Vec<u64> {
    fn keeps(&self, id: u64, _frame: u64) -> bool {
        self.contains(&id)
    }
}

/// The prioritised layers for `frame` (a frame number of `tracks`): every box that `requester`
/// does not keep is redacted, the requester's boxes are kept, bystander bodies win over the
/// requester's body and bystander faces over everything (see the module documentation for
/// the order).
pub fn frame_layers<K: Keeps + ?Sized>(
    tracks: &Tracks,
    frame: u64,
    requester: &K,
    plan: &LayerPlan,
    width: u32,
    height: u32,
) -> FrameLayers {
    let pad = plan.padding;
    let mut bodies: Vec<(Redaction, Shape)> = Vec::new();
    let mut faces: Vec<(Redaction, Shape)> = Vec::new();
    let mut keep_bodies: Vec<Shape> = Vec::new();
    let mut keep_faces: Vec<Shape> = Vec::new();
    let mut out = FrameLayers::default();
    for (id, _class, b, is_face) in tracks.boxes_at(frame, pad.frames) {
        let kept = if is_face {
            requester.keeps_face_of(id, frame, &b)
        } else {
            requester.keeps(id, frame)
        };
        if kept {
            // The requester's face is padded like a bystander's: detected face boxes are
            // tight, and the kept face must cover the head that bystander bodies would
            // otherwise redact.
            let frac = if is_face {
                pad.face.max(pad.requester)
            } else {
                pad.requester
            };
            if let Some(r) = b.pad(frac).to_rect().clamp_to(width, height) {
                if is_face {
                    keep_faces.push(Shape::Rect(r));
                } else {
                    keep_bodies.push(Shape::Rect(r));
                }
                out.kept_boxes += 1;
            }
            continue;
        }
        // A group box (one detection over two people detected on their own as well) is no
        // one person: its people are redacted or kept by their own boxes, and redacting it
        // would hide a kept requester standing in it.
        // (Temporal padding before a track's first box or after its last uses that box.)
        if !is_face
            && tracks
                .get(id)
                .is_some_and(|t| t.group_at(frame.clamp(t.first_frame(), t.last_frame())))
        {
            continue;
        }
        let (groups, frac) = if is_face {
            (&mut faces, pad.face)
        } else {
            (&mut bodies, pad.body)
        };
        let padded = b.pad(frac);
        if push(groups, plan.style.for_box(padded.h), padded, width, height) {
            out.redacted_boxes += 1;
            out.redacted_tracks.push(id);
        }
    }
    out.redacted_tracks.sort_unstable();
    out.redacted_tracks.dedup();
    if plan.spotlight {
        if let Some(full) = veil_core::Rect::new(0, 0, width, height).clamp_to(width, height) {
            out.layers.push(Layer {
                action: Action::Redact(plan.style.for_frame(height)),
                shapes: vec![Shape::Rect(full)],
            });
        }
    }
    let keep = |shapes: Vec<Shape>| {
        (!shapes.is_empty()).then_some(Layer {
            action: Action::Keep,
            shapes,
        })
    };
    // Within a priority group the stronger redaction comes later, so it wins on overlaps.
    out.layers.extend(keep(keep_bodies));
    out.layers.extend(layers_by_strength(bodies));
    out.layers.extend(keep(keep_faces));
    out.layers.extend(layers_by_strength(faces));
    out
}

/// Rasterise `layers` for `frame`'s geometry and apply every redacting layer, the strongest
/// style first (so that blur and pixelate read pixels that stronger styles already blanked):
/// a [`LayerStack`].
///
/// # Errors
/// [`veil_core::RedactError`] if the geometry is invalid or a parameter is out of range; the
/// frame may then be partly redacted and must not be used (the export aborts).
pub fn apply_layers(
    frame: &mut FrameMut<'_>,
    layers: &[Layer],
    level: CpuLevel,
) -> Result<(), veil_core::RedactError> {
    if !layers
        .iter()
        .any(|l| matches!(l.action, Action::Redact(_)) && !l.shapes.is_empty())
    {
        return Ok(());
    }
    LayerStack::new(layers, frame.geometry())?.apply(frame, level)
}

#[cfg(test)]
mod tests {
    //! The parts of this module the frame-level tests in `crate::tests` do not pin down (found
    //! by `make mutants`).

    use super::*;

    #[test]
    fn id_lists_keep_exactly_their_tracks() {
        let (v, a): (Vec<u64>, [u64; 2]) = (vec![3, 7], [3, 7]);
        for id in 0..10 {
            let want = id == 3 || id == 7;
            assert_eq!(v.keeps(id, 0), want, "Vec, track {id}");
            assert_eq!(a.keeps(id, 5), want, "array, track {id}");
            assert_eq!(a[..].keeps(id, 9), want, "slice, track {id}");
            assert!(!v.keeps_face(0, &BoxF::new(0.0, 0.0, 1.0, 1.0)));
        }
    }

    #[test]
    fn only_the_weak_blur_is_reversible() {
        assert!(!Style::WeakBlur.is_irreversible());
        assert!(Style::Blur.is_irreversible());
        assert!(Style::Pixelate.is_irreversible());
        assert!(Style::Solid.is_irreversible());
        // the style's flag agrees with the redaction it gives
        for style in [Style::Blur, Style::Pixelate, Style::Solid, Style::WeakBlur] {
            assert_eq!(
                style.is_irreversible(),
                style.for_box(100.0).is_irreversible(),
                "{style:?}"
            );
            assert_eq!(
                style.is_irreversible(),
                style.for_frame(1080).is_irreversible(),
                "{style:?}"
            );
        }
        // names in manifests and options: the default `blur` is the irreversible one
        assert_eq!(serde_json::to_string(&Style::default()).unwrap(), "\"blur\"");
        assert_eq!(serde_json::to_string(&Style::WeakBlur).unwrap(), "\"weak-blur\"");
        assert_eq!(
            serde_json::from_str::<Style>("\"weak-blur\"").unwrap(),
            Style::WeakBlur
        );
    }

    #[test]
    fn frame_sizes_scale_with_the_height() {
        // 1080 / 24 = 45 and 1080 / 30 = 36, both rounded up to the bucket 48
        assert_eq!(Style::Blur.for_frame(1080), Redaction::Blur { radius: 48 });
        assert_eq!(
            Style::WeakBlur.for_frame(1080),
            Redaction::WeakBlur { radius: 48 }
        );
        assert_eq!(Style::Pixelate.for_frame(1080), Redaction::Pixelate { block: 48 });
        // small frames: the floor of 16
        assert_eq!(Style::Blur.for_frame(120), Redaction::Blur { radius: 16 });
        assert_eq!(Style::Pixelate.for_frame(120), Redaction::Pixelate { block: 16 });
        assert_eq!(Style::Solid.for_frame(1080), Redaction::Solid);
    }

    #[test]
    fn padding_ranges() {
        assert_eq!(Padding::default().check(), Ok(()));
        let at = |face: f32, body: f32, requester: f32, frames: u64| Padding {
            face,
            body,
            requester,
            frames,
        };
        assert_eq!(at(2.0, 0.0, 2.0, 10_000).check(), Ok(()));
        for (p, name) in [
            (at(2.01, 0.1, 0.1, 5), "face padding"),
            (at(0.1, -0.01, 0.1, 5), "body padding"),
            (at(0.1, 0.1, 2.5, 5), "requester padding"),
            (at(0.1, 0.1, f32::NAN, 5), "requester padding"),
            (at(0.1, 0.1, 0.1, 10_001), "10001 frames"),
        ] {
            let err = p.check().unwrap_err();
            assert!(err.contains(name), "{p:?}: {err}");
        }
    }
}
