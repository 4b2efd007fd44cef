//! The review strip of `export --review`: the kept identity as time-stamped thumbnails along
//! the window, one a second plus one at every identity event, uncertain stretches marked. Its
//! cells are cut from the redacted frame (zones and bystanders as in the export); a cell about
//! a withheld candidate shows that candidate clear within its own boxes only (see
//! [`CandidateCrop`]), never anyone else.

use super::*;

/// Label colour of a cell left out of an `--only-requester` copy.
const GREY: Rgb<u8> = Rgb([150, 150, 150]);

/// One cell of the review strip.
#[derive(Debug, Clone)]
pub(crate) struct ReviewCell {
    /// Frame number and time (seconds from the start of the input).
    pub frame: u64,
    pub time: f64,
    /// The tracklet shown, if anyone is.
    pub tracklet: Option<TrackletId>,
    /// Shown because it may be the requester, but redacted in the export (withheld).
    pub uncertain: bool,
    /// The identity event at this frame, in words.
    pub event: Option<String>,
    /// The picture: the redacted frame, the candidate clear within its own boxes.
    pub img: Option<RgbImage>,
    /// The frame region the picture was scaled from, and the scale.
    pub source: Option<(veil_core::Rect, f32)>,
}

/// Where one review cell's picture came from and where the strip draws it. Not part of the
/// API: Veil's own tests use it to find each person's face in the strip.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPlace {
    /// Frame number of the cell.
    pub frame: u64,
    /// The tracklet shown, if anyone is.
    pub tracklet: Option<TrackletId>,
    /// A withheld candidate's cell.
    pub uncertain: bool,
    /// The frame region (x, y, w, h, frame pixels) the picture was scaled from.
    pub region: [u32; 4],
    /// Picture pixels per frame pixel.
    pub scale: f32,
    /// The picture in the strip's PNG (x, y, w, h).
    pub png: [u32; 4],
}

/// The frames that get a review cell, beyond one per second: those of identity events that
/// involve a kept or withheld track, with the event in words.
pub(crate) fn review_events(tracks: &Tracks, keep: &KeepSet) -> Vec<(u64, String)> {
    let involved: Vec<u64> = keep
        .tracklets
        .iter()
        .map(|t| t.track)
        .chain(
            keep.withheld
                .iter()
                .flat_map(|w| w.tracklets.iter().map(|t| t.track)),
        )
        .collect();
    tracks
        .events()
        .iter()
        .filter(|e| e.tracks.iter().any(|t| involved.contains(t)))
        .map(|e| {
            let ids: Vec<String> = e.tracks.iter().map(u64::to_string).collect();
            (e.frame, format!("{:?} {}", e.kind, ids.join("+")).to_lowercase())
        })
        .collect()
}

/// The person a review cell is about on one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ReviewPick {
    /// The track.
    pub id: u64,
    /// Its tracklet on the frame.
    pub tracklet: Option<TrackletId>,
    /// The box shown: the body, else the face.
    pub bbox: BoxF,
    pub is_face: bool,
    /// A withheld candidate (redacted in the export), not the kept requester.
    pub uncertain: bool,
}

/// Whom the review cell of frame `n` is about: the kept person's body (else face) box, or,
/// where nobody is kept, a withheld tracklet's box (uncertain); `None` when neither is in
/// view. Of the withheld tracklets, those of a track the requester was kept on come first:
/// the others of an identity event (the people the requester met) are candidates only in
/// case the tracks swapped, and most often they are the bystanders themselves.
pub(crate) fn review_pick(tracks: &Tracks, keep: &KeepSet, n: u64) -> Option<ReviewPick> {
    let kept_track = |id: u64| keep.tracklets.iter().any(|t| t.track == id);
    let pick = |want: &dyn Fn(u64) -> bool| {
        let mut best: Option<(u64, BoxF, bool)> = None;
        for (id, _, b, is_face) in tracks.boxes_at(n, 0) {
            if !want(id) {
                continue;
            }
            let better = match best {
                None => true,
                Some((bid, bb, bf)) => {
                    (kept_track(id), !is_face, b.area()) > (kept_track(bid), !bf, bb.area())
                }
            };
            if better {
                best = Some((id, b, is_face));
            }
        }
        best
    };
    let tracklet_of = |id: u64| {
        tracks
            .get(id)
            .map(|t| TrackletId::new(id, t.tracklet_at(n).index))
    };
    let (found, uncertain) = match pick(&|id| keep.keeps(id, n)) {
        Some(k) => (k, false),
        None => {
            let withheld = |id: u64| {
                tracklet_of(id).is_some_and(|t| keep.withheld.iter().any(|w| w.tracklets.contains(&t)))
            };
            (pick(&withheld)?, true)
        }
    };
    let (id, bbox, is_face) = found;
    Some(ReviewPick {
        id,
        tracklet: tracklet_of(id),
        bbox,
        is_face,
        uncertain,
    })
}

/// Two person boxes are together when the smaller overlaps the other by at least this
/// fraction of its area (the tracker's contact threshold, README "How Veil keeps the right
/// person")...
pub(super) const TOGETHER_OVERLAP: f32 = 0.2;
/// ...and their heights differ by at most this factor (one far behind the other is not).
pub(super) const TOGETHER_SIZE_RATIO: f32 = 2.0;

/// What a withheld candidate's review cell shows clear, taken from the frame after the zones
/// are masked and before anyone is redacted: the pixels inside the candidate's own boxes
/// (padded as a kept box is) and inside nobody else's (padded as a bystander's, held in time
/// as in the export). Nothing while the candidate is together with another person (their
/// body boxes overlapping as at an identity event): a box can then hold either of them, so
/// the cell shows the export's pixels only. Everywhere else a cell shows the export's pixels
/// (zones masked a second time, bystanders redacted).
pub(crate) struct CandidateCrop {
    /// The picture, sampled like the cell's.
    img: RgbImage,
    /// Per picture pixel (row-major): shown clear.
    clear: Vec<bool>,
}

impl CandidateCrop {
    /// The clear pixels of `pick`'s cell on frame `n`, from `masked` (the frame with the zones
    /// masked, nobody redacted); `None` when nothing of it may be shown.
    pub(crate) fn new(
        masked: &FrameRef<'_>,
        tracks: &Tracks,
        n: u64,
        pick: &ReviewPick,
        padding: &crate::Padding,
    ) -> Option<CandidateCrop> {
        let size = (masked.width(), masked.height());
        let (mut own, mut others) = (Vec::new(), Vec::new());
        for (id, class, b, is_face) in tracks.boxes_at(n, padding.frames) {
            if id == pick.id {
                let frac = if is_face {
                    padding.face.max(padding.requester)
                } else {
                    padding.requester
                };
                own.push((b, b.pad(frac), is_face));
            } else {
                let frac = if is_face { padding.face } else { padding.body };
                others.push((b, b.pad(frac), class == Class::Person && !is_face));
            }
        }
        let together = own.iter().filter(|o| !o.2).any(|(a, ..)| {
            others.iter().filter(|o| o.2).any(|(b, ..)| {
                let (ha, hb) = (a.h.max(1.0), b.h.max(1.0));
                let smaller = a.area().min(b.area()).max(1.0);
                ha.max(hb) <= TOGETHER_SIZE_RATIO * ha.min(hb)
                    && a.intersection_area(b) >= TOGETHER_OVERLAP * smaller
            })
        });
        if together {
            return None;
        }
        let inside = |bs: &[(BoxF, BoxF, bool)], x: u32, y: u32| {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            bs.iter().any(|(_, p, _)| p.contains(fx, fy))
        };
        let mut clear = Vec::new();
        let pad = if pick.is_face { 0.6 } else { 0.1 };
        let crop = Crop::new(size, pick.bbox, pad, (REVIEW_W, REVIEW_H), |x, y| {
            let shown = inside(&own, x, y) && !inside(&others, x, y);
            clear.push(shown);
            if shown {
                rgb_at(masked, x, y)
            } else {
                [0, 0, 0]
            }
        })?;
        Some(CandidateCrop { img: crop.img, clear })
    }
}

/// The review cell of frame `n` (at `time` s) about `pick`, cut from the `redacted` frame
/// (the export's pixels); in a withheld candidate's cell, the pixels its [`CandidateCrop`]
/// shows clear replace them.
pub(crate) fn review_cell(
    redacted: &FrameRef<'_>,
    candidate: Option<&CandidateCrop>,
    pick: Option<&ReviewPick>,
    n: u64,
    time: f64,
    event: Option<String>,
) -> ReviewCell {
    let mut crop = pick.and_then(|p| {
        let size = (redacted.width(), redacted.height());
        let pad = if p.is_face { 0.6 } else { 0.1 };
        Crop::new(size, p.bbox, pad, (REVIEW_W, REVIEW_H), |x, y| {
            rgb_at(redacted, x, y)
        })
    });
    if let (Some(c), Some(cand)) = (&mut crop, candidate) {
        if c.img.dimensions() == cand.img.dimensions() {
            for ((px, clear), shown) in c.img.pixels_mut().zip(&cand.clear).zip(cand.img.pixels()) {
                if *clear {
                    *px = *shown;
                }
            }
        }
    }
    ReviewCell {
        frame: n,
        time,
        tracklet: pick.and_then(|p| p.tracklet),
        uncertain: pick.is_some_and(|p| p.uncertain),
        event,
        source: crop.as_ref().map(|c| (c.region, c.scale)),
        img: crop.map(|c| c.img),
    }
}

/// Height of the review strip's title line.
pub(super) const REVIEW_HEADER: u32 = 34;

/// Top-left corner of review cell `i` (its label strip) in the strip.
pub(super) fn review_origin(i: usize) -> (u32, u32) {
    let (col, row) = (i as u32 % REVIEW_COLUMNS, i as u32 / REVIEW_COLUMNS);
    let cell_h = LABEL_H + REVIEW_H + CAPTION_H;
    (GAP + col * (REVIEW_W + GAP), REVIEW_HEADER + row * (cell_h + GAP))
}

/// Top-left corner of a `tw` x `th` picture in review cell `i`: centred under the label.
pub(super) fn review_picture_at(i: usize, tw: u32, th: u32) -> (u32, u32) {
    let (x, y) = review_origin(i);
    (x + (REVIEW_W - tw) / 2, y + LABEL_H + (REVIEW_H - th) / 2)
}

/// Where [`render_review`] draws each cell's picture, and where it came from.
pub(crate) fn review_places(cells: &[ReviewCell]) -> Vec<ReviewPlace> {
    cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (img, (r, scale)) = (c.img.as_ref()?, c.source?);
            let (tw, th) = img.dimensions();
            let (x, y) = review_picture_at(i, tw, th);
            Some(ReviewPlace {
                frame: c.frame,
                tracklet: c.tracklet,
                uncertain: c.uncertain,
                region: [r.x.max(0) as u32, r.y.max(0) as u32, r.w, r.h],
                scale,
                png: [x, y, tw, th],
            })
        })
        .collect()
}

/// Render the review strip: the cells in time order, wrapped in rows; each with its time and
/// tracklet above it, uncertain (withheld) cells framed in red, event cells captioned.
pub(crate) fn render_review(cells: &[ReviewCell]) -> Result<RgbImage, RedactError> {
    render_review_marked(cells, &[])
}

/// [`render_review`], with the cells whose `left_out` entry is set marked as left out of the
/// copy (`--only-requester`: outside every stretch where the requester is in view), so that
/// the operator sees what was not delivered and why. Cells without an entry are delivered.
pub(crate) fn render_review_marked(cells: &[ReviewCell], left_out: &[bool]) -> Result<RgbImage, RedactError> {
    let is_left_out = |i: usize| left_out.get(i).copied().unwrap_or(false);
    let f = font()?;
    let n = cells.len().max(1) as u32;
    let cols = n.min(REVIEW_COLUMNS);
    let rows = n.div_ceil(REVIEW_COLUMNS);
    let cell_h = LABEL_H + REVIEW_H + CAPTION_H;
    let w = (GAP + cols * (REVIEW_W + GAP)).max(560);
    let h = REVIEW_HEADER + rows * (cell_h + GAP) + GAP;
    let mut img = RgbImage::from_pixel(w, h, BG);
    text(
        &mut img,
        &f,
        GAP,
        8,
        17.0,
        WHITE,
        if left_out.iter().any(|&l| l) {
            "requester, one view a second and at each identity event; red: withheld (uncertain); \
             grey: left out of the copy (--only-requester)"
        } else {
            "requester, one view a second and at each identity event; red: withheld (uncertain)"
        },
    );
    for (i, c) in cells.iter().enumerate() {
        let (x, y) = review_origin(i);
        let label_bg = match (c.uncertain, is_left_out(i)) {
            (true, _) => RED,
            (false, true) => GREY,
            (false, false) => WHITE,
        };
        rect(&mut img, x, y, REVIEW_W, LABEL_H, label_bg);
        let s = clock_secs(c.time);
        text(&mut img, &f, x + 4, y + 1, 14.0, BLACK, &s);
        let tl = c.tracklet.map_or("-".to_owned(), |t| t.to_string());
        text(&mut img, &f, x + 4, y + 15, 13.0, BLACK, &tl);
        rect(&mut img, x, y + LABEL_H, REVIEW_W, REVIEW_H, Rgb([96, 96, 96]));
        match &c.img {
            Some(t) => {
                let (tw, th) = t.dimensions();
                let (px, py) = review_picture_at(i, tw, th);
                image::imageops::overlay(&mut img, t, i64::from(px), i64::from(py));
            }
            None => text(
                &mut img,
                &f,
                x + 8,
                y + LABEL_H + REVIEW_H / 2,
                13.0,
                LIGHT,
                "not in view",
            ),
        }
        if c.uncertain {
            for k in 0..3 {
                draw_hollow_rect_mut(
                    &mut img,
                    Rect::at((x + k) as i32, (y + LABEL_H + k) as i32)
                        .of_size(REVIEW_W - 2 * k, REVIEW_H - 2 * k),
                    RED,
                );
            }
        }
        let mut caption = match (&c.event, c.uncertain) {
            (Some(e), _) => e.clone(),
            (None, true) => "withheld".to_owned(),
            (None, false) => format!("frame {}", c.frame),
        };
        if is_left_out(i) {
            // Why it is not in the copy: outside every stretch where the requester is in view.
            // (The picture says "not in view" where nobody is shown; the caption is short.)
            caption = match &c.event {
                Some(e) => format!("out; {e}"),
                None => "left out".to_owned(),
            };
        }
        text(
            &mut img,
            &f,
            x + 2,
            y + LABEL_H + REVIEW_H + 3,
            13.0,
            LIGHT,
            &caption,
        );
    }
    Ok(img)
}

/// `mm:ss.s` of a time in seconds.
pub(super) fn clock_secs(t: f64) -> String {
    let m = (t / 60.0).floor().max(0.0);
    format!("{:02}:{:04.1}", m as u64, (t - 60.0 * m).max(0.0))
}
