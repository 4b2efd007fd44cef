//! Editing zone files: read one leniently into drafts, write drafts back keeping what a
//! person wrote around them (the `[camera]` table's other keys, comments, the layout of
//! zones that did not change).
//!
//! A zone editor works on [`ZoneDraft`]s: plain strings and numbers, so that anything a
//! person types can be represented, including mistakes. [`edit_zone_file`] writes the drafts
//! into the previous text with `toml_edit` and then validates the result with the one parser
//! every command uses, [`CameraConfig::from_toml_str`]: what the editor saves is exactly
//! what `redact mask` will read, and a mistake is refused with that parser's message.
//!
//! ```
//! use veil_core::zonefile::{edit_zone_file, ZoneDraft};
//!
//! let before = "# entrance camera\n[camera]\nid = \"cam-1\"\npurposes = [\"safety\"]\nresponsible = \"FM\"\n";
//! let door = ZoneDraft {
//!     kind: "dwelling-door".into(),
//!     label: "Door 12".into(),
//!     polygon: vec![[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]],
//!     ..ZoneDraft::default()
//! };
//! let (text, config) = edit_zone_file(before, None, &[door], "cam-1.toml")?;
//! assert!(text.starts_with("# entrance camera\n[camera]"));
//! assert_eq!(config.zones[0].label, "Door 12");
//! # Ok::<(), veil_core::ConfigError>(())
//! ```

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::config::{CameraConfig, ZoneKind, ZoneStyle};
use crate::error::{parse_err, ConfigError};

pub use crate::recording::{camera_recording, CameraRecording, RecordingKeys, DECODERS, ENCODERS};

/// The `[camera]` table as typed in an editor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CameraDraft {
    /// Camera identifier.
    pub id: String,
    /// Purposes.
    pub purposes: Vec<String>,
    /// Who is accountable.
    pub responsible: String,
}

/// One zone as typed in an editor, not yet validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneDraft {
    /// Kind, as written in the file (`dwelling-door`, ...).
    pub kind: String,
    /// Label.
    pub label: String,
    /// Points, normalised `[x, y]`.
    pub polygon: Vec<[f64; 2]>,
    /// Style as written (`None`: the key is left out, which means solid).
    pub style: Option<String>,
    /// Pixelate block.
    pub block: Option<i64>,
    /// Blur radius.
    pub radius: Option<i64>,
    /// Index of the `[[zones]]` table of the previous text this zone was loaded from (its
    /// comments and layout are kept); `None` for a new zone.
    pub source: Option<usize>,
}

impl ZoneKind {
    /// The name used in zone files (`dwelling-door`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::DwellingDoor => "dwelling-door",
            ZoneKind::DwellingWindow => "dwelling-window",
            ZoneKind::Workplace => "workplace",
            ZoneKind::PublicRoad => "public-road",
            ZoneKind::Custom => "custom",
        }
    }
    /// Every kind, in the order of the protocol.
    pub const ALL: [ZoneKind; 5] = [
        ZoneKind::DwellingDoor,
        ZoneKind::DwellingWindow,
        ZoneKind::Workplace,
        ZoneKind::PublicRoad,
        ZoneKind::Custom,
    ];
}

impl ZoneStyle {
    /// The name used in zone files (`solid`, `pixelate`, `blur`, `weak-blur`).
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneStyle::Solid => "solid",
            ZoneStyle::Pixelate => "pixelate",
            ZoneStyle::Blur => "blur",
            ZoneStyle::WeakBlur => "weak-blur",
        }
    }
}

/// What [`read_drafts`] found in a zone file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drafts {
    /// The `[camera]` table's fields (empty strings where missing or not strings).
    pub camera: CameraDraft,
    /// The zones, in file order, each with its `source` index.
    pub zones: Vec<ZoneDraft>,
}

/// Read a zone file's text leniently into drafts: a file the parser refuses (a point outside
/// 0..1, an unknown kind) still loads, so that an editor can show it and let it be fixed.
/// Values of the wrong type are left empty.
///
/// # Errors
/// [`ConfigError::Parse`] when the text is not TOML at all.
pub fn read_drafts(text: &str, origin: impl AsRef<Path>) -> Result<Drafts, ConfigError> {
    let doc: DocumentMut = text.parse().map_err(|e| parse_err(origin.as_ref(), e))?;
    let str_of = |t: &dyn toml_edit::TableLike, k: &str| -> String {
        t.get(k).and_then(Item::as_str).unwrap_or_default().to_owned()
    };
    let mut drafts = Drafts::default();
    if let Some(cam) = doc.get("camera").and_then(Item::as_table_like) {
        drafts.camera = CameraDraft {
            id: str_of(cam, "id"),
            purposes: cam
                .get("purposes")
                .and_then(Item::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            responsible: str_of(cam, "responsible"),
        };
    }
    if let Some(zones) = doc.get("zones").and_then(Item::as_array_of_tables) {
        for (i, z) in zones.iter().enumerate() {
            let num = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            let polygon = z
                .get("polygon")
                .and_then(Item::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| {
                            let p = p.as_array()?;
                            Some([num(p.get(0)?)?, num(p.get(1)?)?])
                        })
                        .collect()
                })
                .unwrap_or_default();
            drafts.zones.push(ZoneDraft {
                kind: str_of(z, "kind"),
                label: str_of(z, "label"),
                polygon,
                style: z.get("style").and_then(Item::as_str).map(str::to_owned),
                block: z.get("block").and_then(Item::as_integer),
                radius: z.get("radius").and_then(Item::as_integer),
                source: Some(i),
            });
        }
    }
    Ok(drafts)
}

/// Set `key` to `new` unless it already holds an equal value (so its formatting and trailing
/// comment stay).
fn set_kept(t: &mut Table, key: &str, new: Value) {
    let same = t
        .get(key)
        .and_then(Item::as_value)
        .is_some_and(|old| values_equal(old, &new));
    if !same {
        // keep the decoration (comments around the key) of a value that is replaced
        let decor = t.get(key).and_then(Item::as_value).map(|v| v.decor().clone());
        let mut new = new;
        if let Some(d) = decor {
            *new.decor_mut() = d;
        }
        t.insert(key, Item::Value(new));
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Float(x), Value::Float(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => {
            *x.value() as f64 == *y.value()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| values_equal(p, q))
        }
        _ => false,
    }
}

fn polygon_value(points: &[[f64; 2]]) -> Value {
    let mut outer = Array::new();
    for [x, y] in points {
        let mut pair = Array::new();
        pair.push(*x);
        pair.push(*y);
        outer.push(pair);
    }
    Value::Array(outer)
}

fn fill_zone(t: &mut Table, z: &ZoneDraft) {
    set_kept(t, "kind", Value::from(z.kind.as_str()));
    set_kept(t, "label", Value::from(z.label.as_str()));
    set_kept(t, "polygon", polygon_value(&z.polygon));
    let optional: [(&str, Option<Value>); 3] = [
        ("style", z.style.as_deref().map(Value::from)),
        ("block", z.block.map(Value::from)),
        ("radius", z.radius.map(Value::from)),
    ];
    for (key, v) in optional {
        match v {
            Some(v) => set_kept(t, key, v),
            None => {
                t.remove(key);
            }
        }
    }
}

/// Write `camera` (when given) and `zones` into the zone file text `previous` (empty for a
/// new file) and validate the result with [`CameraConfig::from_toml_str`].
///
/// Kept from `previous`: everything outside the `[camera]` table's `id`, `purposes` and
/// `responsible` and the `[[zones]]` tables; comments and layout of the `[camera]` table;
/// for each draft with a `source`, that zone table's comments and the formatting of its
/// unchanged values. Zones without a draft are removed; drafts without a source are
/// appended as new tables.
///
/// # Errors
/// [`ConfigError::Parse`] when `previous` is not TOML; otherwise whatever the parser says of
/// the result (the zone's index and label, the reason), with `origin` as the file.
pub fn edit_zone_file(
    previous: &str,
    camera: Option<&CameraDraft>,
    zones: &[ZoneDraft],
    origin: impl AsRef<Path>,
) -> Result<(String, CameraConfig), ConfigError> {
    let origin: PathBuf = origin.as_ref().to_path_buf();
    let mut doc: DocumentMut = previous.parse().map_err(|e| parse_err(&origin, e))?;
    if let Some(cam) = camera {
        if !doc.contains_table("camera") {
            doc.insert("camera", Item::Table(Table::new()));
        }
        let t = doc
            .get_mut("camera")
            .and_then(Item::as_table_mut)
            .ok_or_else(|| parse_err(&origin, "`camera` is not a table"))?;
        set_kept(t, "id", Value::from(cam.id.as_str()));
        let mut purposes = Array::new();
        for p in &cam.purposes {
            purposes.push(p.as_str());
        }
        set_kept(t, "purposes", Value::Array(purposes));
        set_kept(t, "responsible", Value::from(cam.responsible.as_str()));
    }
    let old: Vec<Table> = doc
        .get("zones")
        .and_then(Item::as_array_of_tables)
        .map(|a| a.iter().cloned().collect())
        .unwrap_or_default();
    // Comments above a zone's header belong to that zone, unless a blank line separates
    // them from it: then they close the section before (e.g. the end of `[camera]`), and
    // they stay when the zone is deleted.
    let mut used = vec![false; old.len()];
    for z in zones {
        if let Some(u) = z.source.and_then(|i| used.get_mut(i)) {
            *u = true;
        }
    }
    let kept_head = |i: usize| -> String {
        let prefix = old
            .get(i)
            .and_then(|t| t.decor().prefix())
            .and_then(|p| p.as_str())
            .unwrap_or("");
        match prefix.rfind("\n\n") {
            Some(k) => prefix[..k + 1].to_owned(),
            None => String::new(),
        }
    };
    let mut pending = String::new();
    let mut next_old = 0;
    let mut new = ArrayOfTables::new();
    for z in zones {
        // heads of deleted zones that stood before this one in the file
        let upto = z.source.unwrap_or(0).min(old.len());
        while next_old < upto {
            if !used[next_old] {
                pending.push_str(&kept_head(next_old));
            }
            next_old += 1;
        }
        let mut t = match z.source.and_then(|i| old.get(i)) {
            Some(t) => t.clone(),
            None => Table::new(),
        };
        fill_zone(&mut t, z);
        if !pending.is_empty() {
            let own = t
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .unwrap_or("\n")
                .to_owned();
            t.decor_mut().set_prefix(format!("{pending}{own}"));
            pending.clear();
        }
        new.push(t);
    }
    for (i, _) in used.iter().enumerate().skip(next_old).filter(|(_, u)| !**u) {
        pending.push_str(&kept_head(i));
    }
    doc.remove("zones");
    if !new.is_empty() {
        doc.insert("zones", Item::ArrayOfTables(new));
    }
    if !pending.is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or("").to_owned();
        doc.set_trailing(format!("{pending}{trailing}"));
    }
    let mut text = doc.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let config = CameraConfig::from_toml_str(&text, &origin)?;
    Ok((text, config))
}

/// Drafts of a validated configuration (for writing one out), without sources.
pub fn drafts_of(config: &CameraConfig) -> (CameraDraft, Vec<ZoneDraft>) {
    let camera = CameraDraft {
        id: config.id.clone(),
        purposes: config.purposes.clone(),
        responsible: config.responsible.clone(),
    };
    let zones = config
        .zones
        .iter()
        .map(|z| ZoneDraft {
            kind: z.kind.as_str().to_owned(),
            label: z.label.clone(),
            polygon: z.polygon.0.clone(),
            style: Some(z.style.as_str().to_owned()),
            block: z.block.map(i64::from),
            radius: z.radius.map(i64::from),
            source: None,
        })
        .collect();
    (camera, zones)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FILE: &str = r#"# Entrance camera, drawn 2026-03-01
[camera]
id = "cam-1"   # as in the NVR
purposes = ["safety"]
responsible = "FM"
# installed 2026, replaced 2027

# the red door
[[zones]]
kind = "dwelling-door"
label = "Door 12"
polygon = [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]]  # checked on site

# the window
[[zones]]
kind = "dwelling-window"
label = "Window"
polygon = [[0.5, 0.5], [0.6, 0.5], [0.6, 0.6]]
"#;

    #[test]
    fn keeps_comments_and_camera_keys() {
        let d = read_drafts(FILE, "f.toml").unwrap();
        assert_eq!(d.camera.id, "cam-1");
        assert_eq!(d.zones.len(), 2);
        // delete the door, move a window point, add a zone
        let mut window = d.zones[1].clone();
        window.polygon[0] = [0.45, 0.5];
        let new = ZoneDraft {
            kind: "public-road".into(),
            label: "Road".into(),
            polygon: vec![[0.0, 0.9], [1.0, 0.9], [1.0, 1.0], [0.0, 1.0]],
            style: Some("pixelate".into()),
            block: Some(16),
            ..ZoneDraft::default()
        };
        let (text, cfg) = edit_zone_file(FILE, Some(&d.camera), &[window, new], "f.toml").unwrap();
        assert!(text.starts_with(
            "# Entrance camera, drawn 2026-03-01\n[camera]\nid = \"cam-1\"   # as in the NVR\n"
        ));
        assert!(text.contains("# installed 2026, replaced 2027"));
        assert!(text.contains("# the window"));
        assert!(!text.contains("# the red door"));
        assert_eq!(cfg.zones.len(), 2);
        assert_eq!(cfg.zones[0].polygon.0[0], [0.45, 0.5]);
        assert_eq!(cfg.zones[1].style, ZoneStyle::Pixelate);
        assert_eq!(cfg.zones[1].block, Some(16));
        // unchanged zone: byte-identical text
        let d = read_drafts(FILE, "f.toml").unwrap();
        let (same, _) = edit_zone_file(FILE, Some(&d.camera), &d.zones, "f.toml").unwrap();
        assert_eq!(same, FILE);
    }

    #[test]
    fn invalid_drafts_get_the_parsers_message() {
        let d = read_drafts(FILE, "f.toml").unwrap();
        let mut z = d.zones[0].clone();
        z.polygon.truncate(2);
        let err = edit_zone_file(FILE, None, &[z], "f.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml: zone 0 (\"Door 12\"): polygon has 2 point(s), needs at least 3"
        );
        let mut z = d.zones[0].clone();
        z.kind = "garden".into();
        let err = edit_zone_file(FILE, None, &[z], "f.toml").unwrap_err();
        assert!(err.to_string().contains("unknown variant `garden`"), "{err}");
        assert!(matches!(
            edit_zone_file("[camera", None, &[], "f.toml"),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn new_file_from_nothing() {
        let cam = CameraDraft {
            id: "new".into(),
            purposes: vec!["safety".into()],
            responsible: "FM".into(),
        };
        let z = ZoneDraft {
            kind: "custom".into(),
            label: "x".into(),
            polygon: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]],
            ..ZoneDraft::default()
        };
        let (text, cfg) = edit_zone_file("", Some(&cam), &[z], "n.toml").unwrap();
        assert_eq!(cfg.id, "new");
        assert_eq!(CameraConfig::from_toml_str(&text, "n.toml").unwrap(), cfg);
        let (c, zs) = drafts_of(&cfg);
        let (again, cfg2) = edit_zone_file("", Some(&c), &zs, "n.toml").unwrap();
        assert_eq!(cfg2, cfg);
        assert!(again.contains("style = \"solid\""));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn draft() -> impl Strategy<Value = ZoneDraft> {
            (
                0usize..5,
                "\\PC{0,20}",
                proptest::collection::vec((0.0f64..=1.0, 0.0f64..=1.0), 3..8),
                0usize..5,
            )
                .prop_map(|(k, label, pts, st)| ZoneDraft {
                    kind: ZoneKind::ALL[k].as_str().to_owned(),
                    label,
                    polygon: pts.into_iter().map(|(x, y)| [x, y]).collect(),
                    style: [
                        None,
                        Some("solid"),
                        Some("pixelate"),
                        Some("blur"),
                        Some("weak-blur"),
                    ][st]
                        .map(str::to_owned),
                    block: (st == 2).then_some(16),
                    radius: (st >= 3).then_some(9),
                    source: None,
                })
        }

        proptest! {
            /// Whatever an editor writes from valid drafts, the parser reads back exactly.
            #[test]
            fn valid_drafts_round_trip(zones in proptest::collection::vec(draft(), 0..6), keep_old in any::<bool>()) {
                let cam = CameraDraft { id: "c\"1".into(), purposes: vec!["safety".into()], responsible: "FM".into() };
                let previous = if keep_old { FILE } else { "" };
                let (text, cfg) = edit_zone_file(previous, Some(&cam), &zones, "p.toml").unwrap();
                prop_assert_eq!(cfg.zones.len(), zones.len());
                for (z, d) in cfg.zones.iter().zip(&zones) {
                    prop_assert_eq!(z.kind.as_str(), d.kind.as_str());
                    prop_assert_eq!(&z.label, &d.label);
                    prop_assert_eq!(&z.polygon.0, &d.polygon);
                }
                let back = read_drafts(&text, "p.toml").unwrap();
                prop_assert_eq!(back.camera, cam);
                prop_assert_eq!(back.zones.len(), zones.len());
            }

            /// A point outside 0..1 is never saved.
            #[test]
            fn points_outside_are_refused(x in prop_oneof![-10.0f64..-1e-9, 1.000_000_001f64..10.0], at in 0usize..3) {
                let mut z = ZoneDraft { kind: "custom".into(), label: "z".into(),
                    polygon: vec![[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], ..ZoneDraft::default() };
                z.polygon[at][at % 2] = x;
                let err = edit_zone_file(FILE, None, &[z], "p.toml").unwrap_err();
                prop_assert!(err.to_string().contains("lies outside 0..1"), "{}", err);
            }
        }
    }
}
