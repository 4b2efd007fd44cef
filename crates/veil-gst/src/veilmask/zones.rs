//! Where `veilmask`'s zones come from and how they are loaded: a zone file or inline TOML,
//! the style override (which may only make zones stronger), and the failures that keep
//! frames from being masked.

use std::path::PathBuf;

use veil_core::{CameraConfig, ZoneStyle};

use super::StyleOverride;

/// Name given to inline TOML (the `config` property) in error messages.
const INLINE_ORIGIN: &str = "<veilmask config property>";

/// Where the zones come from.
#[derive(Debug, Clone, Default)]
pub(super) enum Source {
    /// Neither `zones` nor `config` set: no zones (refused unless `allow-empty`).
    #[default]
    Unset,
    /// The `zones` property: a zone file.
    File(PathBuf),
    /// The `config` property: zone-file text.
    Inline(String),
}

/// What went wrong, for the element error's domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailKind {
    /// The zones could not be loaded (file, TOML, zone geometry).
    Settings,
    /// A frame could not be masked (geometry, strides, buffer size).
    Frame,
}

/// A failure that keeps frames from being masked.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) kind: FailKind,
    pub(super) reason: String,
}

/// Where `source` comes from, for messages.
fn origin(source: &Source) -> String {
    match source {
        Source::Unset => "no zones property".into(),
        Source::File(p) => p.display().to_string(),
        Source::Inline(_) => INLINE_ORIGIN.into(),
    }
}

/// No zones where `allow-empty` is false: a forgotten property must not pass every frame
/// through unmasked.
pub(super) fn no_zones_failure(source: &Source) -> Failure {
    let what = match source {
        Source::Unset => "no zone file: set the zones (or config) property".to_owned(),
        other => format!("{}: the zone file has no zones", origin(other)),
    };
    Failure {
        kind: FailKind::Settings,
        reason: format!("{what}; allow-empty=true is the only way to run without zones"),
    }
}

/// Load the zones of `source`, with `style_override` applied to every zone. No zones are an
/// error unless `allow_empty`; an override weaker than a zone's own style is an error.
pub(super) fn load(
    source: &Source,
    style_override: StyleOverride,
    allow_empty: bool,
) -> Result<CameraConfig, Failure> {
    let config = match source {
        Source::Unset if allow_empty => {
            return Ok(CameraConfig {
                id: String::new(),
                purposes: Vec::new(),
                responsible: String::new(),
                zones: Vec::new(),
            })
        }
        Source::Unset => return Err(no_zones_failure(source)),
        Source::File(path) => CameraConfig::from_file(path),
        Source::Inline(text) => CameraConfig::from_toml_str(text, INLINE_ORIGIN),
    };
    let mut config = config.map_err(|e| Failure {
        kind: FailKind::Settings,
        reason: format!("bad zones: {e}"),
    })?;
    if config.zones.is_empty() && !allow_empty {
        return Err(no_zones_failure(source));
    }
    if let Some(style) = style_override.style() {
        for (i, zone) in config.zones.iter_mut().enumerate() {
            if strength(style) < strength(zone.style) {
                return Err(Failure {
                    kind: FailKind::Settings,
                    reason: format!(
                        "{}: style-override {style:?} would weaken zone {i} ({:?}, {:?}): an override \
                         may only make zones stronger (solid > pixelate > blur > weak-blur)",
                        origin(source),
                        zone.label,
                        zone.style
                    ),
                });
            }
            zone.style = style;
        }
    }
    Ok(config)
}

/// How much of the scene a style removes: solid > pixelate > blur > weak-blur.
pub(super) fn strength(style: ZoneStyle) -> u8 {
    match style {
        ZoneStyle::Solid => 3,
        ZoneStyle::Pixelate => 2,
        ZoneStyle::Blur => 1,
        ZoneStyle::WeakBlur => 0,
    }
}
