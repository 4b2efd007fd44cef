//! Identity across meetings: tracklets, identity events and the links between tracklets.
//!
//! IoU tracking cannot tell who is who after two people meet: when boxes overlap, one hides
//! the other or two detections merge into one, the track that continues may carry the other
//! person. So the tracker cuts a track into *tracklets* at every such *identity event*, and
//! [`Tracker::finish`](crate::Tracker::finish) links a tracklet after an event to one before it
//! only when the appearance evidence (clothing colour and texture, see
//! [`Appearance`](crate::Appearance)) is decisive: the best match is close and beats every
//! alternative by a margin, in both directions. A person who leaves and comes back as a new
//! track is re-linked by the same rule with a stricter distance. Everything else stays
//! unlinked, and an export redacts an unlinked tracklet like a bystander (fail closed).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What happened between tracks at an identity event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Two person boxes overlap beyond [`TrackerConfig::contact_overlap`](crate::TrackerConfig).
    Overlap,
    /// One track was lost while another's box covered it (one person hid the other).
    Occlusion,
    /// One detection covered the predictions of two tracks (two people merged into one box).
    Merge,
}

impl EventKind {
    /// Words for reports: "meeting", "being hidden by", "merging with".
    pub fn describe(self) -> &'static str {
        match self {
            EventKind::Overlap => "meeting",
            EventKind::Occlusion => "being hidden by or hiding",
            EventKind::Merge => "merging into one box with",
        }
    }

    /// Rank: a later, more severe observation upgrades an event's kind.
    pub(crate) fn severity(self) -> u8 {
        match self {
            EventKind::Overlap => 0,
            EventKind::Occlusion => 1,
            EventKind::Merge => 2,
        }
    }
}

/// An identity event: tracks whose identity may have been exchanged at `frame`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityEvent {
    /// First frame of the interaction; the tracks involved start new tracklets here.
    pub frame: u64,
    /// What was observed.
    pub kind: EventKind,
    /// The person tracks involved (at least two, sorted).
    pub tracks: Vec<u64>,
}

/// A tracklet's name: track id and 1-based tracklet index, written `3.2` (track 3, its second
/// tracklet). Track 3's first tracklet, `3.1`, is the person shown for track 3 on the contact
/// sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackletId {
    /// The track.
    pub track: u64,
    /// 1-based index within the track.
    pub index: u32,
}

impl TrackletId {
    /// `track.index`.
    pub const fn new(track: u64, index: u32) -> Self {
        TrackletId { track, index }
    }
}

impl fmt::Display for TrackletId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.track, self.index)
    }
}

impl FromStr for TrackletId {
    type Err = String;
    /// `"3.2"`; a bare `"3"` is the track's first tracklet, `3.1`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a tracklet (TRACK or TRACK.INDEX, e.g. 3 or 3.2)");
        let (t, i) = match s.split_once('.') {
            Some((t, i)) => (t, i),
            None => (s, "1"),
        };
        let track = t.trim().parse::<u64>().map_err(|_| bad())?;
        let index = i.trim().parse::<u32>().map_err(|_| bad())?;
        if index == 0 {
            return Err(bad());
        }
        Ok(TrackletId { track, index })
    }
}

impl Serialize for TrackletId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TrackletId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a tracklet starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The track was already there on the first analysed frame.
    Start,
    /// A new track appeared after the first analysed frame (someone entered, or someone came
    /// back after being lost for longer than the tracker keeps a track).
    Birth,
    /// An identity event ([`Tracklet::event`] says which): the stretch while the people
    /// involved are together. Never linked: who is who inside it cannot be told.
    Event,
    /// The track left the contact of an identity event ([`Tracklet::event`] says which):
    /// the tracklet after the meeting, linked to one before it on decisive evidence.
    Parting,
    /// The track was found again after being lost from view for a while (hidden by scenery,
    /// or gone): the person found may be someone else. Linked to the tracklet before it only
    /// on motion and clothing evidence ([`LinkBasis::Motion`]).
    Return,
}

/// A link from a tracklet back to the tracklet it continues.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The earlier tracklet (the same person, if `confident`).
    pub to: TrackletId,
    /// Appearance distance between the two (0 same clothing, 1 nothing in common).
    pub distance: f32,
    /// How much closer than the nearest alternative (`None`: there was no alternative).
    pub margin: Option<f32>,
    /// Whether the evidence was decisive. Only confident links carry identity; others are
    /// recorded as the best guess for review.
    pub confident: bool,
    /// What the link rests on (absent in the file: appearance).
    #[serde(default, skip_serializing_if = "LinkBasis::is_appearance")]
    pub basis: LinkBasis,
}

/// The evidence of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkBasis {
    /// Clothing colour and texture ([`Link::distance`] and [`Link::margin`] say how decisive).
    #[default]
    Appearance,
    /// The face, followed box to box by position and motion from one tracklet into the other
    /// with no other face that could be it (see [`crate::facechain`]); distance 0, no margin.
    Face,
    /// Someone lost from view (left the picture, or hidden by scenery) and a new track: the
    /// new track appeared shortly after, where and when the old one's motion predicted, moving
    /// on as it did, and its clothing is close ([`Link::distance`]).
    Motion,
}

impl LinkBasis {
    fn is_appearance(&self) -> bool {
        *self == LinkBasis::Appearance
    }
}

/// A piece of a track between identity events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracklet {
    /// 1-based index within its track.
    pub index: u32,
    /// First frame.
    pub start: u64,
    /// Last frame.
    pub end: u64,
    /// Why it starts.
    pub cause: Cause,
    /// For [`Cause::Event`]: the index of the event in the document's events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
    /// The tracklet it continues, if any was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
}

/// One cell of a link decision: the distance between a later and an earlier tracklet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// Both have appearance descriptors: their distance.
    Dist(f32),
    /// One of them has none (never seen clear of others): it may be anyone, so it blocks
    /// every decision in its row and column.
    Unknown,
    /// The pair is impossible (e.g. the earlier one ends after the later one starts).
    Impossible,
}

/// The link chosen for one row (a later tracklet): the column, its distance, its margin
/// against the nearest alternative (`None`: no alternative), and whether it is decisive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Column (earlier tracklet) of the best match.
    pub col: usize,
    /// Its distance.
    pub distance: f32,
    /// Margin against the nearest alternative in the row and in the column.
    pub margin: Option<f32>,
    /// Another column of the row is [`Cell::Unknown`] (an earlier tracklet never seen
    /// clearly, who may be this row): no decision can be confident.
    pub blocked: bool,
    /// Close enough and beating every alternative by `margin`, with no unknown alternative.
    pub confident: bool,
}

/// Link later tracklets (rows) to earlier ones (columns): for every row, its closest column,
/// confident only when the distance is at most `max_dist`, there is at least one alternative
/// (a row with a single possible column is never decided on appearance alone: clothing can
/// be shared), both the row's other columns and the column's other rows are at least
/// `margin` farther, and no other column of the row is
/// [`Cell::Unknown`] (an earlier tracklet never seen clearly may be who this row is). An
/// unknown *row* does not block another row's column: rows start together, so they are
/// different people, and a row that matches a column decisively against every earlier
/// alternative is that person. Rows without any possible column get `None`. At most one row
/// is confidently linked to a column.
pub fn decide(cells: &[Vec<Cell>], max_dist: f32, margin: f32) -> Vec<Option<Decision>> {
    let n_cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let cell = |r: usize, c: usize| cells[r].get(c).copied().unwrap_or(Cell::Impossible);
    (0..cells.len())
        .map(|r| {
            let mut best: Option<(usize, f32)> = None;
            for c in 0..n_cols {
                if let Cell::Dist(d) = cell(r, c) {
                    if best.is_none_or(|(_, b)| d < b) {
                        best = Some((c, d));
                    }
                }
            }
            let (col, distance) = best?;
            let mut unknown = false;
            let mut alt: Option<f32> = None;
            for c in (0..n_cols).filter(|&c| c != col) {
                match cell(r, c) {
                    Cell::Dist(d) => alt = Some(alt.map_or(d, |a: f32| a.min(d))),
                    Cell::Unknown => unknown = true,
                    Cell::Impossible => {}
                }
            }
            for rr in (0..cells.len()).filter(|&rr| rr != r) {
                if let Cell::Dist(d) = cell(rr, col) {
                    alt = Some(alt.map_or(d, |a: f32| a.min(d)));
                }
            }
            let m = alt.map(|a| a - distance);
            // No alternative is no evidence: a decision nobody competed for is not decisive
            // (someone else in the same clothes would have matched just as well).
            let confident = !unknown && distance <= max_dist && m.is_some_and(|m| m >= margin);
            Some(Decision {
                col,
                distance,
                margin: m,
                blocked: unknown,
                confident,
            })
        })
        .collect()
}
