//! Framework files (SPEC section 11, TOML, with section 13's `[[bodies]]` and
//! `[[decisions]]`) and the bundled frameworks.
//!
//! A body or a decision table is its payload, key for key: the payload types refuse
//! unknown keys and require what the SPEC requires, an optional key absent from the
//! file is absent from the payload, and nothing is sorted or defaulted for the author
//! (the rules refuse, when `init` records them, what is not canonical).

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use waymark_events::{
    BodyDefined, DecisionDefined, Design, Framework, LayerDef, MilestoneDefined, PhaseDef,
    Principle, Profile,
};

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
    #[serde(default)]
    bodies: Vec<BodyDefined>,
    #[serde(default)]
    decisions: Vec<DecisionDefined>,
}

/// A framework, its milestones, bodies and decisions (each in file order), ready for
/// `init`: `LedgerOpened`, then one `MilestoneDefined` per milestone, one `BodyDefined`
/// per body, one `DecisionDefined` per decision.
#[derive(Debug, Clone)]
pub struct LoadedFramework {
    pub framework: Framework,
    pub milestones: Vec<MilestoneDefined>,
    pub bodies: Vec<BodyDefined>,
    pub decisions: Vec<DecisionDefined>,
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
        bodies: f.bodies,
        decisions: f.decisions,
    })
}

fn parse_table<T: DeserializeOwned>(text: &str, what: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::BadInput(format!("{what} {origin}: {e}")))
}

/// A decision module from a TOML file holding one table of the framework's
/// `[[decisions]]` shape (`decision define ID --file`).
pub fn parse_decision(text: &str, origin: &str) -> Result<DecisionDefined> {
    parse_table(text, "decision", origin)
}

/// A design from a TOML file (`decision revise --target`, `decision transfer --to`).
pub fn parse_design(text: &str, origin: &str) -> Result<Design> {
    parse_table(text, "design", origin)
}

/// A DDF profile from a TOML file (`decision revise --profile`).
pub fn parse_profile(text: &str, origin: &str) -> Result<Profile> {
    parse_table(text, "profile", origin)
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

    const HEAD: &str = "id='x'\nversion='1'\ntitle='t'\n\
        [[layers]]\nid='gov'\ntitle='G'\nphases=['A']\n\
        [[phases]]\nid='A'\ntitle='A'\ndescription=''\n";

    const BODIES: &str = r#"
[[bodies]]
id = "th"
title = "Token House"
kind = "house"
description = "OP holders"
charter = "https://gov.optimism.io/th"
[[bodies]]
id = "fnd"
title = "Foundation"
kind = "foundation"
description = ""
"#;

    const DECISIONS: &str = r#"
[[decisions]]
id = "upgrades"
title = "Protocol upgrades"
description = "Who ships upgrades"
layer = "gov"
principles = []
milestones = []
source = "https://example.org/om"
[decisions.profile]
stakes = "high"
leverage = 5
[decisions.current]
proposers = ["fnd"]
deciders = ["th"]
process = "vote"
threshold_bps = 7600
quorum_bps = 3000
vetoes = [{ body = "fnd" }]
executors = ["fnd"]
[decisions.target]
proposers = ["th", "fnd"]
deciders = ["th"]
process = "optimistic"
signers = { m = 10, n = 13 }
vetoes = []
executors = ["th"]
[[decisions]]
id = "grants"
title = "Grants"
description = ""
layer = "gov"
principles = []
milestones = []
profile = {}
[decisions.current]
proposers = []
deciders = []
process = "suspended"
vetoes = []
executors = []
"#;

    #[test]
    fn bodies_and_decisions_map_one_to_one_onto_their_payloads_in_file_order() {
        let f = parse(&format!("{HEAD}{BODIES}{DECISIONS}"), "t.toml").unwrap();
        let ids: Vec<&str> = f.bodies.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["th", "fnd"]);
        assert_eq!(
            f.bodies[0].charter.as_deref(),
            Some("https://gov.optimism.io/th")
        );
        assert_eq!(f.bodies[1].charter, None);
        let d = &f.decisions[0];
        assert_eq!(d.source.as_deref(), Some("https://example.org/om"));
        assert_eq!(d.profile.leverage, Some(5));
        assert_eq!(d.profile.cadence, None);
        assert_eq!(d.current.threshold_bps, Some(7600));
        assert_eq!(d.current.signers, None);
        // Not sorted for the author: the recorder will refuse it.
        let target = d.target.as_ref().unwrap();
        assert_eq!(target.proposers, ["th", "fnd"]);
        assert_eq!(target.signers.as_ref().map(|s| (s.m, s.n)), Some((10, 13)));
        let g = &f.decisions[1];
        assert_eq!(
            (g.id.as_str(), g.target.is_none(), g.source.is_none()),
            ("grants", true, true)
        );
        assert_eq!(g.profile, Profile::default());
        // The payload's bytes carry no key the file did not have.
        let v = serde_json::to_value(g).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "current",
                "description",
                "id",
                "layer",
                "milestones",
                "principles",
                "profile",
                "title"
            ]
        );
        // A framework with neither stays as it was.
        let plain = parse(HEAD, "t.toml").unwrap();
        assert!(plain.bodies.is_empty() && plain.decisions.is_empty());
    }

    #[test]
    fn a_missing_required_key_an_unknown_key_or_a_float_is_refused() {
        let full = format!("{HEAD}{BODIES}{DECISIONS}");
        let bad = |from: &str, to: &str| {
            let text = full.replacen(from, to, 1);
            assert_ne!(text, full, "{from}");
            parse(&text, "t.toml").unwrap_err().to_string()
        };
        assert!(bad("description = \"OP holders\"\n", "").contains("description"));
        assert!(bad("principles = []\n", "").contains("principles"));
        assert!(bad("profile = {}\n", "").contains("profile"));
        assert!(bad("vetoes = []\nexecutors = []\n", "executors = []\n").contains("vetoes"));
        assert!(bad("kind = \"house\"", "kind = \"house\"\ncolour = \"red\"").contains("colour"));
        assert!(bad("leverage = 5", "leverage = 5\nmood = \"calm\"").contains("mood"));
        let float = bad("threshold_bps = 7600", "threshold_bps = 76.5");
        assert!(float.contains("float"), "{float}");
        assert!(bad("process = \"vote\"\n", "").contains("process"));
        let signers = bad("{ m = 10, n = 13 }", "{ m = 10, n = 13, k = 1 }");
        assert!(signers.contains("`k`"), "{signers}");
    }

    #[test]
    fn one_decision_design_or_profile_table_parses_alone() {
        let d = parse_design(
            "proposers=[]\ndeciders=['a']\nprocess='vote'\nvetoes=[]\nexecutors=[]\n",
            "d.toml",
        )
        .unwrap();
        assert_eq!(d.deciders, ["a"]);
        assert!(parse_design("deciders=['a']\n", "d.toml").is_err());
        assert_eq!(
            parse_profile("space='convex'\n", "p.toml")
                .unwrap()
                .space
                .as_deref(),
            Some("convex")
        );
        let one = DECISIONS
            .split("[[decisions]]")
            .nth(2)
            .unwrap()
            .replace("decisions.", "");
        assert_eq!(parse_decision(&one, "x.toml").unwrap().id, "grants");
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
