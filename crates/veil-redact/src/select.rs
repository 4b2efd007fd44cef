//! Choosing the requester: the person whose footage is exported unredacted.

use std::path::Path;

use serde::{Deserialize, Serialize};
use veil_core::BoxF;
use veil_track::facechain::{follow_face, same_faces, seed};
use veil_track::{AtPoint, Cause, Class, Track, TrackBox, TrackletId, Tracks};

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

/// `mm:ss.s` for frame `f`.
pub(crate) fn clock(f: u64, fps: f64) -> String {
    if fps <= 0.0 {
        return format!("frame {f}");
    }
    let s = f as f64 / fps;
    let m = (s / 60.0).floor();
    format!("{:02}:{:04.1}", m as u64, s - 60.0 * m)
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
        let b = if tl.index as usize == list.len() {
            u64::MAX
        } else {
            tl.end
        };
        spans.push((k.track, a, b));
    }
    let withheld = withheld(tracks, &kept);
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
    let mut withheld = withheld;
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
        if let (Some(&a), Some(&b)) = (disowned.first(), disowned.last()) {
            let fps = tracks.fps();
            let time = |f: u64| if fps > 0.0 { f as f64 / fps } else { 0.0 };
            withheld.push(Withheld {
                tracklets: vec![*k],
                from_frame: a,
                to_frame: b,
                from: time(a),
                to: time(b),
                reason: format!(
                    "{} face detection(s) over the requester's body from {} to {} are not established as \
                     the requester's own face (not chained to a face seen unambiguously as theirs): \
                     redacted as a bystander's",
                    disowned.len(),
                    clock(a, fps),
                    clock(b, fps)
                ),
            });
        }
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

/// Appearance distance up to which an undecided best guess into the identity is reported as
/// possibly the requester.
const NEAR_MISS: f32 = 0.35;

/// The stretches where the requester may be but is not kept: tracklets whose best (but not
/// decisive) link points into the identity, and the tracklets on the other side of an identity
/// event that the kept identity does not cross.
fn withheld(tracks: &Tracks, kept: &[TrackletId]) -> Vec<Withheld> {
    let fps = tracks.fps();
    let kept_tracks: Vec<u64> = kept.iter().map(|k| k.track).collect();
    // The other people of an event: the tracks that were not the requester before it.
    let others = |e: &veil_track::IdentityEvent, before: &[TrackletId]| -> String {
        let mut o: Vec<String> = before
            .iter()
            .filter(|b| !kept.contains(b))
            .map(|b| b.track.to_string())
            .collect();
        if o.is_empty() {
            o = e
                .tracks
                .iter()
                .filter(|t| !kept_tracks.contains(t))
                .map(u64::to_string)
                .collect();
        }
        match o.len() {
            0 => "another tracklet".to_owned(),
            1 => format!("track {}", o[0]),
            _ => format!("tracks {}", o.join(", ")),
        }
    };
    let mut out: Vec<Withheld> = Vec::new();
    let push = |ids: Vec<TrackletId>, reason: String, out: &mut Vec<Withheld>| {
        let ids: Vec<TrackletId> = ids
            .into_iter()
            .filter(|i| !kept.contains(i) && !out.iter().any(|w| w.tracklets.contains(i)))
            .collect();
        let spans: Vec<(u64, u64)> = ids
            .iter()
            .filter_map(|i| tracks.tracklet(*i).map(|t| (t.start, t.end)))
            .collect();
        let (Some(a), Some(b)) = (spans.iter().map(|s| s.0).min(), spans.iter().map(|s| s.1).max()) else {
            return;
        };
        let t = |f: u64| if fps > 0.0 { f as f64 / fps } else { 0.0 };
        out.push(Withheld {
            tracklets: ids,
            from_frame: a,
            to_frame: b,
            from: t(a),
            to: t(b),
            reason,
        });
    };
    for (ei, e) in tracks.events().iter().enumerate() {
        let (before, after) = tracks.event_sides(ei);
        let kept_before = before.iter().any(|b| kept.contains(b));
        let kept_after = after.iter().any(|a| kept.contains(a));
        let what = e.kind.describe();
        let who = others(e, &before);
        if kept_before || kept_after {
            // While people are together, who is who cannot be told: always withheld.
            let during: Vec<TrackletId> = e
                .tracks
                .iter()
                .filter_map(|&id| tracks.get(id))
                .flat_map(|t| {
                    t.tracklets()
                        .iter()
                        .filter(|tl| tl.event == Some(ei) && tl.cause == veil_track::Cause::Event)
                        .map(|tl| TrackletId::new(t.id(), tl.index))
                })
                .collect();
            push(
                during,
                format!(
                    "identity uncertain while {what} {who} from {}",
                    clock(e.frame, fps)
                ),
                &mut out,
            );
        }
        if kept_before && !kept_after {
            push(
                after,
                format!("identity uncertain after {what} {who} at {}", clock(e.frame, fps)),
                &mut out,
            );
        } else if kept_after && !kept_before {
            push(
                before,
                format!(
                    "identity uncertain before {what} {who} at {}",
                    clock(e.frame, fps)
                ),
                &mut out,
            );
        }
    }
    // Re-entries, returns and events: a best guess into the identity that was not decisive,
    // and every return of a kept track after a while unseen that is not linked back.
    for t in tracks.tracks() {
        for (i, tl) in t.tracklets().iter().enumerate() {
            let me = TrackletId::new(t.id(), tl.index);
            let before = i
                .checked_sub(1)
                .map(|j| TrackletId::new(t.id(), t.tracklets()[j].index));
            let returned = tl.cause == veil_track::Cause::Return && before.is_some_and(|b| kept.contains(&b));
            // Only near misses: a best guess far off is just someone else.
            let guess = tl
                .link
                .filter(|l| !l.confident && kept.contains(&l.to) && l.distance <= NEAR_MISS);
            if !returned && guess.is_none() {
                continue;
            }
            let why = match tl.link {
                Some(l) if l.confident => continue,
                Some(l) => {
                    let m = l.margin.map_or(String::new(), |m| format!(", margin {m:.2}"));
                    format!("clothing distance {:.2}{m}", l.distance)
                }
                None => "never seen clearly enough to compare".to_owned(),
            };
            let (gone, what) = match (tl.cause, tl.link) {
                (veil_track::Cause::Return, _) => (before, "found again"),
                (veil_track::Cause::Birth, Some(l)) => (Some(l.to), "a person appeared"),
                (_, Some(l)) => (Some(l.to), "a person after an identity event"),
                (_, None) => (None, "a person appeared"),
            };
            let last = gone.and_then(|g| tracks.get(g.track)).and_then(|g| {
                g.tracklets()
                    .iter()
                    .take_while(|x| x.start < tl.start)
                    .map(|x| x.end)
                    .max()
            });
            let reason = match last {
                Some(e) => format!(
                    "the requester was lost from view at {}; {what} at {} (track {}): identity not established \
                     (no motion continuity with clothing close enough; {why})",
                    clock(e, fps),
                    clock(tl.start, fps),
                    t.id()
                ),
                None => format!(
                    "{what} at {} (track {}) may be the requester: identity not established ({why})",
                    clock(tl.start, fps),
                    t.id()
                ),
            };
            push(vec![me], reason, &mut out);
        }
    }
    out.sort_by_key(|w| w.from_frame);
    out
}

/// Frames between two faces of one chain of owned faces (the detector misses faces).
const OWN_GAP: u64 = 6;

/// Whether face `f` sits where a person's own face sits in body box `body`: centred over it
/// (within half a face width), its top at most one face height below the body's top and at
/// most half a face height above it, and no larger than a head can be. A face beside the
/// head (looking over the shoulder) or at chest height (a child carried) is not.
fn in_head_slot(f: &BoxF, body: &BoxF) -> bool {
    let (fx, _) = f.center();
    let (bx, _) = body.center();
    (fx - bx).abs() <= 0.5 * f.w
        && f.y - body.y <= f.h
        && body.y - f.y <= 0.5 * f.h
        && f.w <= 0.8 * body.w
        && f.h <= 0.5 * body.h
}

/// The box of `list` on `frame` (detected or interpolated).
fn box_on(list: &[TrackBox], frame: u64) -> Option<&TrackBox> {
    list.binary_search_by_key(&frame, |b| b.frame)
        .ok()
        .map(|i| &list[i])
}

/// Whether face `g` continues owned face `p` (a few frames before or after it): of one
/// person track with its body on both frames, it keeps its place relative to the body
/// (within half a face width); otherwise (a face track, or the face going from one kept
/// tracklet's track to another's) it overlaps `p` moved on at velocity `v` (IoU 0.3). The
/// size stays within 1.5x either way.
fn continues_owned(tp: &Track, p: &TrackBox, tg: &Track, g: &TrackBox, v: (f32, f32)) -> bool {
    let (a, b) = (p.bbox.w.max(1.0), g.bbox.w.max(1.0));
    if a.max(b) > 1.5 * a.min(b) {
        return false;
    }
    let bodies = (tp.id() == tg.id() && tp.class() == Class::Person)
        .then(|| (box_on(tp.boxes(), p.frame), box_on(tp.boxes(), g.frame)));
    if let Some((Some(bp), Some(bg))) = bodies {
        // Centre to centre across, top to top down: a body box's bottom moves with the legs
        // and whatever the detector cuts off, its top stays with the head.
        let rel = |f: &BoxF, body: &BoxF| {
            let ((fx, _), (bx, _)) = (f.center(), body.center());
            (fx - bx, f.y - body.y)
        };
        let (r0, r1) = (rel(&p.bbox, &bp.bbox), rel(&g.bbox, &bg.bbox));
        return (r0.0 - r1.0).hypot(r0.1 - r1.1) <= 0.5 * a.max(b);
    }
    let k = g.frame as f32 - p.frame as f32;
    let moved = BoxF::new(p.bbox.x + k * v.0, p.bbox.y + k * v.1, p.bbox.w, p.bbox.h);
    moved.iou(&g.bbox) >= 0.3
}

/// Per kept tracklet (in the order of `kept`): its faces that are the requester's, and the
/// frames of its detected faces that are not (sorted). A face is owned only on evidence:
///
/// - an *anchor*: the face the operator pointed at (`pick`: frame and point of `--keep-at`),
///   a face of a face track kept as the requester, or a face seen unambiguously as the
///   person's own: detected in the head slot of its track's detected body box (see
///   [`in_head_slot`]), with no box of any other track touching the body on that frame;
/// - or a face chained to an owned one, over all kept tracklets in time order: the next
///   detected face at most [`OWN_GAP`] frames on (either way) that continues it (see
///   [`continues_owned`]).
///
/// A face first seen over the body with no such chain (a bystander looking over the
/// shoulder of a requester seen from behind, a child carried in front) is not owned; a
/// requester whose own face is never seen keeps the body only. Interpolated boxes are owned
/// when the detected faces of their track on both sides are.
fn owned_faces(
    tracks: &Tracks,
    kept: &[TrackletId],
    pick: Option<(u64, f32, f32)>,
) -> Vec<(Vec<TrackBox>, Vec<u64>)> {
    // Every detected face of the kept tracklets: (index into kept, track, box).
    let mut detected: Vec<(usize, &Track, &TrackBox)> = Vec::new();
    for (i, k) in kept.iter().enumerate() {
        let (Some(t), Some(tl)) = (tracks.get(k.track), tracks.tracklet(*k)) else {
            continue;
        };
        detected.extend(
            t.face_boxes()
                .iter()
                .filter(|b| b.frame >= tl.start && b.frame <= tl.end && !b.interpolated)
                .map(|b| (i, t, b)),
        );
    }
    detected.sort_by_key(|d| (d.2.frame, d.0));
    let anchor = |t: &Track, f: &TrackBox| -> bool {
        if t.class() == Class::Face || pick.is_some_and(|(n, x, y)| n == f.frame && f.bbox.contains(x, y)) {
            return true;
        }
        let Some(body) = box_on(t.boxes(), f.frame).filter(|b| !b.interpolated) else {
            return false;
        };
        in_head_slot(&f.bbox, &body.bbox)
            && !tracks
                .boxes_at(f.frame, 0)
                .any(|(id, _, b, _)| id != t.id() && b.intersection_area(&body.bbox) > 0.0)
    };
    let mut owned: Vec<bool> = detected.iter().map(|&(_, t, f)| anchor(t, f)).collect();
    chain_owned(&detected, &mut owned);
    // The requester's face slot: where their owned faces sit on their body (median, in face
    // sizes). A face of a kept tracklet in that very slot is theirs too (a stable place
    // relative to the body, e.g. after a meeting the body's tracklet is linked across); a
    // face elsewhere on the body (over the shoulder, at the chest) is not.
    let slots: Vec<(f32, f32, f32)> = detected
        .iter()
        .zip(&owned)
        .filter(|(_, &o)| o)
        .filter_map(|(&(_, t, f), _)| face_slot(t, f))
        .collect();
    if let Some(m) = median_slot(&slots) {
        for (i, &(_, t, f)) in detected.iter().enumerate() {
            if !owned[i] && face_slot(t, f).is_some_and(|s| same_slot(s, m)) {
                owned[i] = true;
            }
        }
        chain_owned(&detected, &mut owned);
    }
    let mut out = Vec::with_capacity(kept.len());
    for (i, k) in kept.iter().enumerate() {
        let (Some(t), Some(tl)) = (tracks.get(k.track), tracks.tracklet(*k)) else {
            out.push((Vec::new(), Vec::new()));
            continue;
        };
        let mine: Vec<(u64, bool)> = detected
            .iter()
            .zip(&owned)
            .filter(|(d, _)| d.0 == i)
            .map(|(d, &o)| (d.2.frame, o))
            .collect();
        let owned_at = |frame: u64| mine.iter().any(|&(f, o)| o && f == frame);
        let mut own = Vec::new();
        for b in t
            .face_boxes()
            .iter()
            .filter(|b| b.frame >= tl.start && b.frame <= tl.end)
        {
            let keep = if b.interpolated {
                let before = mine.iter().rev().find(|d| d.0 < b.frame);
                let after = mine.iter().find(|d| d.0 > b.frame);
                matches!((before, after), (Some(x), Some(y)) if x.1 && y.1)
            } else {
                owned_at(b.frame)
            };
            if keep {
                own.push(*b);
            }
        }
        let disowned = mine.iter().filter(|d| !d.1).map(|d| d.0).collect();
        out.push((own, disowned));
    }
    out
}

/// Extend `owned` along chains (see [`owned_faces`]): forwards then backwards, each face
/// continues the last owned one within [`OWN_GAP`] frames; a face that does not is skipped
/// (the chain goes on from the last owned face), and the chain ends where the gap runs out.
fn chain_owned(detected: &[(usize, &Track, &TrackBox)], owned: &mut [bool]) {
    for forward in [true, false] {
        let order: Vec<usize> = if forward {
            (0..detected.len()).collect()
        } else {
            (0..detected.len()).rev().collect()
        };
        let mut last: Option<usize> = None;
        let mut velocity = (0.0f32, 0.0f32);
        for &i in &order {
            let (_, tg, g) = detected[i];
            if let Some(l) = last {
                if g.frame.abs_diff(detected[l].2.frame) > OWN_GAP {
                    last = None;
                }
            }
            let joins = owned[i]
                || last.is_some_and(|l| continues_owned(detected[l].1, detected[l].2, tg, g, velocity));
            if !joins {
                continue;
            }
            owned[i] = true;
            velocity = match last {
                Some(l) if detected[l].2.frame != g.frame => {
                    let p = detected[l].2;
                    let ((px, py), (gx, gy)) = (p.bbox.center(), g.bbox.center());
                    let k = g.frame as f32 - p.frame as f32;
                    ((gx - px) / k, (gy - py) / k)
                }
                Some(_) => velocity,
                None => (0.0, 0.0),
            };
            last = Some(i);
        }
    }
}

/// Where face `f` of person track `t` sits on the track's detected body box of that frame:
/// horizontal offset of the centres and offset of the tops, in face widths and heights, and
/// the face's width as a fraction of the body's.
fn face_slot(t: &Track, f: &TrackBox) -> Option<(f32, f32, f32)> {
    if t.class() != Class::Person {
        return None;
    }
    let body = box_on(t.boxes(), f.frame).filter(|b| !b.interpolated)?;
    let (fw, fh) = (f.bbox.w.max(1.0), f.bbox.h.max(1.0));
    let ((fx, _), (bx, _)) = (f.bbox.center(), body.bbox.center());
    Some((
        (fx - bx) / fw,
        (f.bbox.y - body.bbox.y) / fh,
        fw / body.bbox.w.max(1.0),
    ))
}

/// The median of each component of `slots` (`None` if empty).
fn median_slot(slots: &[(f32, f32, f32)]) -> Option<(f32, f32, f32)> {
    if slots.is_empty() {
        return None;
    }
    let med = |get: fn(&(f32, f32, f32)) -> f32| {
        let mut v: Vec<f32> = slots.iter().map(get).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    Some((med(|s| s.0), med(|s| s.1), med(|s| s.2)))
}

/// Whether two face slots are the same place: within 0.4 face sizes either way, the relative
/// size within 1.4x.
fn same_slot(a: (f32, f32, f32), b: (f32, f32, f32)) -> bool {
    (a.0 - b.0).abs() <= 0.4 && (a.1 - b.1).abs() <= 0.4 && a.2.max(b.2) <= 1.4 * a.2.min(b.2)
}
