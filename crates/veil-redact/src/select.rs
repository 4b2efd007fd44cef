//! Choosing the requester: the person whose footage is exported unredacted.

use std::path::Path;

use serde::{Deserialize, Serialize};
use veil_core::BoxF;
use veil_track::facechain::{follow_face, same_faces, seed};
use veil_track::{AtPoint, Cause, Class, TrackletId, Tracks};

use crate::owned::owned_faces;
use crate::withheld::{clock, disowned_faces, withheld};
use crate::RedactError;

/// Who the requester is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Requester {
    /// Nobody: every tracked person and face is redacted.
    #[default]
    None,
    /// These track ids (from the tracks file or contact sheet), e.g. a person track and a
    /// face track that the tracker did not attach to it.
    Tracks {
        /// Track ids.
        ids: Vec<u64>,
    },
    /// The person whose box contains pixel `(x, y)` of the frame shown at `time` (seconds
    /// from the start of the input). Nobody there is an error, never a silent full
    /// redaction; boxes of several people there are an error too, unless the point lies on
    /// exactly one of their faces (see [`veil_track::Tracks::at_point`]).
    At {
        /// Time in seconds from the start of the input.
        time: f64,
        /// Pixel column.
        x: f32,
        /// Pixel row.
        y: f32,
    },
}

/// The frame number of a time: `round(time * fps)`. Tracks use frame numbers counted from
/// the start of the input (not of the analysed window), so a tracks file of a long window
/// serves any export window inside it.
pub fn frame_number(time: f64, fps: f64) -> u64 {
    let f = (time * fps).round();
    if f.is_finite() && f > 0.0 {
        f as u64
    } else {
        0
    }
}

/// The requester's track ids in `tracks`.
///
/// # Errors
/// [`RedactError::UnknownTrack`] for an id not in `tracks`; [`RedactError::NobodyAt`] when no
/// box contains the point; [`RedactError::AmbiguousPoint`], listing the candidates, when
/// boxes of several tracks contain it with no clear winner; [`RedactError::InvalidOption`]
/// for a non-finite time or point.
pub fn resolve_requester(
    tracks: &Tracks,
    requester: &Requester,
    tracks_path: Option<&Path>,
) -> Result<Vec<u64>, RedactError> {
    match requester {
        Requester::None => Ok(Vec::new()),
        Requester::Tracks { ids } => {
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                if tracks.get(id).is_none() {
                    return Err(RedactError::UnknownTrack {
                        id,
                        path: tracks_path.map(Path::to_path_buf),
                    });
                }
            }
            Ok(ids)
        }
        &Requester::At { time, x, y } => {
            if !(time.is_finite() && time >= 0.0 && x.is_finite() && y.is_finite()) {
                return Err(RedactError::InvalidOption {
                    reason: format!(
                        "requester point ({x}, {y}) at {time} s is not a finite position and time >= 0"
                    ),
                });
            }
            let frame = frame_number(time, tracks.fps());
            match tracks.at_point(frame, x, y) {
                AtPoint::Track(id) => Ok(vec![id]),
                AtPoint::Nobody => Err(RedactError::NobodyAt { time, frame, x, y }),
                AtPoint::Ambiguous(candidates) => Err(RedactError::AmbiguousPoint {
                    time,
                    frame,
                    x,
                    y,
                    candidates,
                }),
            }
        }
    }
}

/// A stretch of the requester's footage that the export redacted because the identity of the
/// person there is uncertain (see [`resolve_identity`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withheld {
    /// The tracklets redacted although they may be the requester.
    pub tracklets: Vec<TrackletId>,
    /// First frame (numbering of the tracks file).
    pub from_frame: u64,
    /// Last frame.
    pub to_frame: u64,
    /// Time of the first frame, seconds from the start of the input.
    pub from: f64,
    /// Time of the last frame.
    pub to: f64,
    /// Why, e.g. "identity uncertain after meeting track 7 at 00:04.2".
    pub reason: String,
}

/// Who is kept visible, tracklet by tracklet: the requester's confirmed identity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeepSet {
    /// The kept tracklets (sorted).
    pub tracklets: Vec<TrackletId>,
    /// Stretches where the requester may be but the identity is uncertain (redacted).
    pub withheld: Vec<Withheld>,
    /// (track, first frame, last frame) kept; the first tracklet of a track extends to
    /// frame 0 and the last to the end, so that temporal padding around a kept track is kept.
    spans: Vec<(u64, u64, u64)>,
    /// Face boxes kept beyond the kept tracklets: the requester's face followed box to box
    /// (unambiguously) into stretches where its body's identity is uncertain. Sorted by frame.
    faces: Vec<(u64, BoxF)>,
}

impl KeepSet {
    /// The first and last frame of the faces kept beyond the kept tracklets (followed box to
    /// box), if any.
    pub(crate) fn face_frames(&self) -> Option<(u64, u64)> {
        Some((
            self.faces.iter().map(|f| f.0).min()?,
            self.faces.iter().map(|f| f.0).max()?,
        ))
    }

    /// The track ids with at least one kept tracklet (sorted, unique).
    pub fn tracks(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.tracklets.iter().map(|t| t.track).collect();
        v.dedup();
        v
    }
}

impl crate::layers::Keeps for KeepSet {
    fn keeps(&self, id: u64, frame: u64) -> bool {
        self.spans
            .iter()
            .any(|&(t, a, b)| t == id && a <= frame && frame <= b)
    }

    /// A face box on `frame` overlapping a followed face of that frame, or a copy of a
    /// followed face box of a nearby frame (a box held there by temporal padding).
    fn keeps_face(&self, frame: u64, b: &BoxF) -> bool {
        let lo = self
            .faces
            .partition_point(|f| f.0 < frame.saturating_sub(HELD_FRAMES));
        self.faces[lo..]
            .iter()
            .take_while(|f| f.0 <= frame.saturating_add(HELD_FRAMES))
            .any(|f| (f.0 == frame && f.1.iou(b) >= 0.5) || f.1 == *b)
    }

    /// Only owned faces (see `owned_faces`) and faces followed from them: a face of a kept
    /// track that is not established as the requester's is redacted.
    fn keeps_face_of(&self, _id: u64, frame: u64, b: &BoxF) -> bool {
        self.keeps_face(frame, b)
    }
}

/// The requester's identity in `tracks`: the tracklet selected by `requester` (`--keep-at`:
/// the tracklet at that point and time; `--keep-track N`: track N's first tracklet, the one on
/// the contact sheet), the tracklets in `extra` added by the operator after review, and every
/// tracklet confidently linked to these (see [`veil_track::identity`]). Tracklets that may
/// be the requester but are not confidently linked are reported in [`KeepSet::withheld`]
/// and redacted.
///
/// # Errors
/// As [`resolve_requester`]; [`RedactError::InvalidOption`] for a tracklet in `extra` that
/// is not in `tracks`; [`RedactError::TrackletRefused`] for a tracklet in `extra` that cannot
/// be the requester (an event tracklet, or one that coexists in time with a kept tracklet of
/// another person); [`RedactError::TracksCoverage`] when a requester is to be kept but the
/// tracks file records no identity (version 1).
pub fn resolve_identity(
    tracks: &Tracks,
    requester: &Requester,
    extra: &[TrackletId],
    tracks_path: Option<&Path>,
) -> Result<KeepSet, RedactError> {
    let ids = resolve_requester(tracks, requester, tracks_path)?;
    if ids.is_empty() && extra.is_empty() {
        return Ok(KeepSet::default());
    }
    if !tracks.has_identity() {
        return Err(RedactError::TracksCoverage {
            tracks: tracks_path.map(Path::to_path_buf),
            input: tracks_path.map(Path::to_path_buf).unwrap_or_default(),
            reason: "it records no identity events (tracks file version 1, made by an older Veil), \
                     so it cannot say where the requester's track may carry someone else; run the \
                     analysis again"
                .into(),
        });
    }
    let mut seeds: Vec<TrackletId> = Vec::new();
    match requester {
        &Requester::At { time, .. } => {
            let frame = frame_number(time, tracks.fps());
            for &id in &ids {
                if let Some(t) = tracks.get(id) {
                    seeds.push(TrackletId::new(id, t.tracklet_at(frame).index));
                }
            }
        }
        _ => seeds.extend(ids.iter().map(|&id| TrackletId::new(id, 1))),
    }
    check_additions(tracks, &seeds, extra, tracks_path)?;
    seeds.extend(extra.iter().copied());
    let kept = tracks.identity(&seeds);
    let mut spans = Vec::new();
    for k in &kept {
        let Some(t) = tracks.get(k.track) else { continue };
        let list = t.tracklets();
        let Some(tl) = tracks.tracklet(*k) else { continue };
        let a = if tl.index == 1 { 0 } else { tl.start };
        let next_kept = list
            .iter()
            .find(|x| x.index == tl.index + 1)
            .is_none_or(|x| kept.contains(&TrackletId::new(k.track, x.index)));
        let b = if tl.index as usize == list.len() {
            u64::MAX
        } else if next_kept {
            tl.end
        } else {
            // Before a tracklet that is not the requester (after a meeting, or someone found
            // again after a while unseen), the boxes filled in after the last detection lead
            // to that person: not kept (the spotlight would otherwise cut them out).
            t.last_detected_in(tl.start, tl.end).unwrap_or(tl.end)
        };
        spans.push((k.track, a, b));
    }
    let mut withheld = withheld(tracks, &kept);
    // The requester's face, followed out of every kept tracklet into the stretches around it
    // where the identity of the body is uncertain (people together).
    let ranges: Vec<(u64, u64)> = kept
        .iter()
        .filter_map(|k| tracks.tracklet(*k).map(|t| (t.start, t.end)))
        .collect();
    let kept_at = |n: u64| ranges.iter().any(|&(a, b)| a <= n && n <= b);
    let range = tracks.analyzed().unwrap_or([0, u64::MAX]);
    // Crossings of up to 0.4 s are followed through on steady motion (see follow_face).
    let bridge = (tracks.fps() > 0.0).then(|| (CROSSING_S * tracks.fps()).ceil().max(1.0) as u64);
    let pick = match *requester {
        Requester::At { time, x, y } => Some((frame_number(time, tracks.fps()), x, y)),
        _ => None,
    };
    let mut faces: Vec<(u64, BoxF)> = Vec::new();
    // Only the faces owned by evidence: a face lying over the requester's body is not theirs
    // because it lies there (a bystander looking over the shoulder, a child carried in front).
    let owned = owned_faces(tracks, &kept, pick);
    for (k, (own, disowned)) in kept.iter().zip(&owned) {
        let Some(tl) = tracks.tracklet(*k) else { continue };
        // Out of the owned faces, through the rest of this tracklet (its first or last owned
        // face need not be at its edge) and on until another kept tracklet.
        let stop = |n: u64| (n < tl.start || n > tl.end) && kept_at(n);
        for step in [1, -1] {
            let seed = seed(own, tl.start, tl.end, step);
            faces.extend(follow_face(tracks.tracks(), &seed, step, range, &stop, bridge));
        }
        // The owned faces themselves, interpolated ones included (between two owned detected
        // ones). Another track holding the same detection (a face attached to two tracks, e.g.
        // to a box around two people) holds the requester's face there (below).
        faces.extend(own.iter().map(|b| (b.frame, b.bbox)));
        withheld.extend(disowned_faces(*k, disowned, tracks.fps()));
    }
    withheld.sort_by_key(|w| w.from_frame);
    // The same face held in other tracks too (their boxes may be held by temporal padding
    // after those tracks end, and must be recognised as the requester's face there).
    let mut all: Vec<(u64, BoxF)> = Vec::with_capacity(faces.len());
    for &(n, b) in &faces {
        all.push((n, b));
        for o in same_faces(tracks.tracks(), n, &b) {
            if o != b {
                all.push((n, o));
            }
        }
    }
    let mut faces = all;
    faces.sort_by_key(|f| f.0);
    Ok(KeepSet {
        tracklets: kept,
        withheld,
        spans,
        faces,
    })
}

/// The operator's additions (`extra`) to the requester selected by `seeds`, checked before
/// anything is kept:
///
/// - an event tracklet ([`Cause::Event`], people together) is refused: who is who there cannot
///   be told, by the operator either;
/// - an addition, or a tracklet confidently linked to it, that coexists in time (shares a
///   frame) with another tracklet kept (the requester's, everything linked to it, or another
///   addition) of another track of the same class is refused: two people tracked at the same
///   time are two people, by the tracker's own rule. A face track beside a person track is not
///   refused: it may be the requester's face that the tracker did not attach.
///
/// # Errors
/// [`RedactError::InvalidOption`] for a tracklet not in `tracks`;
/// [`RedactError::TrackletRefused`] naming the reason, the tracklets and the frames.
fn check_additions(
    tracks: &Tracks,
    seeds: &[TrackletId],
    extra: &[TrackletId],
    tracks_path: Option<&Path>,
) -> Result<(), RedactError> {
    if extra.is_empty() {
        return Ok(());
    }
    let fps = tracks.fps();
    let refuse = |tracklet: TrackletId, reason: String| RedactError::TrackletRefused {
        tracklet,
        tracks: tracks_path.map(Path::to_path_buf),
        reason,
    };
    let span = |a: u64, b: u64| format!("frames {a}-{b}, {}-{}", clock(a, fps), clock(b, fps));
    for &x in extra {
        let Some(tl) = tracks.tracklet(x) else {
            return Err(RedactError::InvalidOption {
                reason: format!(
                    "tracklet {x} is not in the tracks file{}",
                    tracks_path.map_or(String::new(), |p| format!(" {}", p.display()))
                ),
            });
        };
        if tl.cause == Cause::Event {
            let event = tl.event.and_then(|e| tracks.events().get(e));
            let who = event.map_or_else(
                || format!("track {} was together with someone else", x.track),
                |e| {
                    let o: Vec<String> = e
                        .tracks
                        .iter()
                        .filter(|&&t| t != x.track)
                        .map(u64::to_string)
                        .collect();
                    format!(
                        "track {} was {} track{} {}",
                        x.track,
                        e.kind.describe(),
                        if o.len() == 1 { "" } else { "s" },
                        o.join(", ")
                    )
                },
            );
            return Err(refuse(
                x,
                format!(
                    "it is an event tracklet ({}): {who}, and while people are together who is \
                     who cannot be told; add the tracklet after they part instead",
                    span(tl.start, tl.end)
                ),
            ));
        }
    }
    let automatic = tracks.identity(seeds);
    let mut all = seeds.to_vec();
    all.extend_from_slice(extra);
    let kept = tracks.identity(&all);
    let class = |t: TrackletId| tracks.get(t.track).map(|t| t.class());
    // The additions themselves first, then the tracklets they bring in, each with the
    // addition that brought it (the one it is confidently linked to).
    let mut added: Vec<(TrackletId, TrackletId)> = extra
        .iter()
        .filter(|x| !automatic.contains(x))
        .map(|&x| (x, x))
        .collect();
    for &a in kept
        .iter()
        .filter(|a| !automatic.contains(a) && !extra.contains(a))
    {
        let by = extra
            .iter()
            .copied()
            .find(|&x| tracks.identity(&[x]).contains(&a))
            .unwrap_or(a);
        added.push((a, by));
    }
    for &(a, by) in &added {
        let Some(ta) = tracks.tracklet(a) else { continue };
        for &b in &kept {
            if b.track == a.track || class(a) != class(b) {
                continue;
            }
            let Some(tb) = tracks.tracklet(b) else { continue };
            if ta.start > tb.end || tb.start > ta.end {
                continue;
            }
            let what = if a == by {
                "it".to_owned()
            } else {
                format!(
                    "tracklet {a} ({}), confidently linked to it,",
                    span(ta.start, ta.end)
                )
            };
            let other = if automatic.contains(&b) {
                format!("the requester's tracklet {b}")
            } else {
                format!("tracklet {b}, also added,")
            };
            let both = span(ta.start.max(tb.start), ta.end.min(tb.end));
            let person = if class(a) == Some(Class::Face) {
                "faces"
            } else {
                "people"
            };
            return Err(refuse(
                by,
                format!(
                    "{what} coexists in time with {other} ({both}: both in view at once); two \
                     {person} tracked at the same time are two different {person} (the tracker's \
                     own rule), so it is not the requester"
                ),
            ));
        }
    }
    Ok(())
}

/// How far (frames) a followed face box is looked for as the source of a box held by
/// temporal padding (padding is a fraction of a second).
const HELD_FRAMES: u64 = 120;

/// Longest crossing of two faces (seconds) that the requester's face is followed through.
const CROSSING_S: f64 = 0.4;
