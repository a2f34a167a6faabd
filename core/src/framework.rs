//! Framework files (SPEC section 11, TOML) and the bundled frameworks.

use crate::error::{Error, Result};
use serde::Deserialize;
use waymark_events::{Framework, LayerDef, MilestoneDefined, PhaseDef, Principle};

const BUNDLED: &[(&str, &str)] = &[
    ("optimism", include_str!("../frameworks/optimism.toml")),
    (
        "l2beat-stages",
        include_str!("../frameworks/l2beat-stages.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneFile {
    id: String,
    title: String,
    layer: String,
    phase: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    principles: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameworkFile {
    id: String,
    version: String,
    title: String,
    #[serde(default)]
    principles: Vec<Principle>,
    layers: Vec<LayerDef>,
    phases: Vec<PhaseDef>,
    #[serde(default)]
    milestones: Vec<MilestoneFile>,
}

/// A framework and its milestones, ready for `init`.
#[derive(Debug, Clone)]
pub struct LoadedFramework {
    pub framework: Framework,
    pub milestones: Vec<MilestoneDefined>,
}

/// Names of the bundled frameworks.
pub fn bundled_names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(n, _)| *n).collect()
}

/// Parses framework TOML. A milestone's `source` is kept at the end of its description
/// (`MilestoneDefined` has no field of its own for it).
pub fn parse(text: &str, origin: &str) -> Result<LoadedFramework> {
    let f: FrameworkFile =
        toml::from_str(text).map_err(|e| Error::BadInput(format!("framework {origin}: {e}")))?;
    let milestones = f
        .milestones
        .into_iter()
        .map(|m| MilestoneDefined {
            description: match m.source {
                Some(s) if m.description.is_empty() => format!("Source: {s}"),
                Some(s) => format!("{}\n\nSource: {s}", m.description),
                None => m.description,
            },
            id: m.id,
            title: m.title,
            layer: m.layer,
            phase: m.phase,
            principles: m.principles,
            depends_on: m.depends_on,
        })
        .collect();
    Ok(LoadedFramework {
        framework: Framework {
            id: f.id,
            version: f.version,
            title: f.title,
            principles: f.principles,
            layers: f.layers,
            phases: f.phases,
        },
        milestones,
    })
}

/// Loads a bundled framework by name, or a TOML file by path.
pub fn load(name_or_path: &str) -> Result<LoadedFramework> {
    if let Some((_, text)) = BUNDLED.iter().find(|(n, _)| *n == name_or_path) {
        return parse(text, name_or_path);
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| {
        Error::BadInput(format!(
            "framework {name_or_path:?}: not a bundled framework ({}) and not a readable file: {e}",
            bundled_names().join(", ")
        ))
    })?;
    parse(&text, name_or_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_frameworks_parse_and_cite_their_sources() {
        for name in bundled_names() {
            let f = load(name).unwrap();
            assert!(!f.framework.layers.is_empty(), "{name}");
            assert!(!f.milestones.is_empty(), "{name}");
            for m in &f.milestones {
                assert!(
                    m.description.contains("Source: http"),
                    "{name} {} has no source",
                    m.id
                );
            }
        }
        let op = load("optimism").unwrap();
        let layers: Vec<&str> = op.framework.layers.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(layers, ["technical", "economic", "social"]);
        for l in &op.framework.layers {
            assert_eq!(l.phases, ["A", "B", "C"]);
        }
        let stages = load("l2beat-stages").unwrap();
        assert_eq!(stages.framework.layers[0].phases, ["0", "1", "2"]);
    }

    #[test]
    fn unknown_keys_in_a_framework_file_are_refused() {
        let err = parse(
            "id='x'\nversion='1'\ntitle='t'\nlayers=[]\nphases=[]\ncolour='red'\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
