//! The payloads of SPEC v1.1 section 13 (governance decisions): bodies, decision
//! modules with their designs and DDF profiles, authority transfers and hypotheses.
//!
//! As in `payload`: unknown keys are refused at every depth (a design, its vetoes and
//! signers, a profile), optional keys are omitted (never `null`), and enumerated
//! values and ranges (`kind`, `process`, basis points, `signers`, profile values,
//! `outcome`) stay the strings and integers they were signed with, so that a value
//! outside its set reaches the rules (9 to 12), which refuse it by rule and field.

use serde::{Deserialize, Serialize};

/// An m-of-n signing rule (`1 ≤ m ≤ n ≤ 1000`, rule 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signers {
    pub m: i64,
    pub n: i64,
}

/// A body that can veto a decision, with the share of its vote a veto needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Veto {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_bps: Option<i64>,
}

/// Who proposes, decides, vetoes and carries out a decision (SPEC section 13).
/// Recorded designs are canonical: every id list sorted in byte order without
/// repeats, `vetoes` sorted by `body` with no body twice ([`Design::is_canonical`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Design {
    pub proposers: Vec<String>,
    pub deciders: Vec<String>,
    pub process: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_bps: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_bps: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signers: Option<Signers>,
    pub vetoes: Vec<Veto>,
    pub executors: Vec<String>,
}

impl Design {
    /// Every body the design names (proposers, deciders, vetoes, executors), in that
    /// order, repeats included.
    pub fn bodies(&self) -> impl Iterator<Item = &str> {
        self.proposers
            .iter()
            .chain(&self.deciders)
            .map(String::as_str)
            .chain(self.vetoes.iter().map(|v| v.body.as_str()))
            .chain(self.executors.iter().map(String::as_str))
    }

    /// Whether the design names `body` anywhere.
    pub fn names(&self, body: &str) -> bool {
        self.bodies().any(|b| b == body)
    }

    /// Whether `body` is among the vetoes.
    pub fn vetoed_by(&self, body: &str) -> bool {
        self.vetoes.iter().any(|v| v.body == body)
    }

    /// The first list that is not canonical, by its field name relative to the design
    /// (`deciders`, `vetoes`), with the index of the first item out of order or
    /// repeated; `None` when the design is canonical.
    pub fn first_uncanonical(&self) -> Option<(&'static str, usize)> {
        let lists: [(&'static str, Vec<&str>); 4] = [
            (
                "proposers",
                self.proposers.iter().map(String::as_str).collect(),
            ),
            (
                "deciders",
                self.deciders.iter().map(String::as_str).collect(),
            ),
            (
                "vetoes",
                self.vetoes.iter().map(|v| v.body.as_str()).collect(),
            ),
            (
                "executors",
                self.executors.iter().map(String::as_str).collect(),
            ),
        ];
        lists.into_iter().find_map(|(name, ids)| {
            ids.windows(2)
                .position(|w| w[0] >= w[1])
                .map(|i| (name, i + 1))
        })
    }

    pub fn is_canonical(&self) -> bool {
        self.first_uncanonical().is_none()
    }

    /// The canonical form of this design: each id list sorted in byte order without
    /// repeats, `vetoes` sorted by body with the first veto of each body kept. For a
    /// writer that builds a design before signing; the recorder never repairs one.
    pub fn canonicalized(mut self) -> Design {
        for list in [&mut self.proposers, &mut self.deciders, &mut self.executors] {
            list.sort();
            list.dedup();
        }
        self.vetoes.sort_by(|a, b| a.body.cmp(&b.body));
        self.vetoes
            .dedup_by(|later, first| later.body == first.body);
        self
    }
}

/// The Decision Design Framework's answers for a decision module; every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stakes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    /// One of Meadows' twelve leverage points, 1..12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDefined {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charter: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyRevised {
    pub id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charter: Option<String>,
}

impl BodyRevised {
    /// Names of the fields this revision changes, in payload order.
    pub fn revised_fields(&self) -> Vec<&'static str> {
        [
            ("title", self.title.is_some()),
            ("description", self.description.is_some()),
            ("charter", self.charter.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, set)| set.then_some(f))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyRetired {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionDefined {
    pub id: String,
    pub title: String,
    pub description: String,
    pub layer: String,
    pub principles: Vec<String>,
    pub profile: Profile,
    pub current: Design,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Design>,
    pub milestones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A revision of a decision module. `current` is not among its keys: only
/// `AuthorityTransferred` changes who decides (rule 10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRevised {
    pub id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Design>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestones: Option<Vec<String>>,
}

impl DecisionRevised {
    /// Names of the fields this revision changes, in payload order.
    pub fn revised_fields(&self) -> Vec<&'static str> {
        [
            ("title", self.title.is_some()),
            ("description", self.description.is_some()),
            ("profile", self.profile.is_some()),
            ("target", self.target.is_some()),
            ("milestones", self.milestones.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, set)| set.then_some(f))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityTransferred {
    pub decision: String,
    pub from: Design,
    pub to: Design,
    pub reason: String,
    pub evidence: Vec<String>,
    pub effective_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HypothesisStated {
    pub decision: String,
    pub id: String,
    pub statement: String,
    pub measure: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HypothesisConcluded {
    pub decision: String,
    pub id: String,
    pub outcome: String,
    pub note: String,
    pub evidence: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canonical_value, EventType, Payload, PayloadError};
    use serde_json::json;

    fn design() -> serde_json::Value {
        json!({
            "proposers": ["foundation"], "deciders": ["council"], "process": "multisig",
            "signers": {"m": 10, "n": 13},
            "vetoes": [{"body": "citizens", "threshold_bps": 3000}, {"body": "token-house"}],
            "executors": ["council"]
        })
    }

    fn decision() -> serde_json::Value {
        json!({
            "id": "upgrades", "title": "Protocol upgrades", "description": "d",
            "layer": "technical", "principles": [], "profile": {"stakes": "high", "leverage": 5},
            "current": design(), "milestones": ["T-A1"]
        })
    }

    #[test]
    fn a_decision_round_trips_to_exact_canonical_bytes_with_optional_keys_absent() {
        let v = decision();
        let p = Payload::from_value(EventType::DecisionDefined, &v).unwrap();
        assert_eq!(p.to_value(), v);
        assert_eq!(
            String::from_utf8(canonical_value(&p.to_value())).unwrap(),
            concat!(
                r#"{"current":{"deciders":["council"],"executors":["council"],"#,
                r#""process":"multisig","proposers":["foundation"],"signers":{"m":10,"n":13},"#,
                r#""vetoes":[{"body":"citizens","threshold_bps":3000},{"body":"token-house"}]},"#,
                r#""description":"d","id":"upgrades","layer":"technical","milestones":["T-A1"],"#,
                r#""principles":[],"profile":{"leverage":5,"stakes":"high"},"#,
                r#""title":"Protocol upgrades"}"#
            )
        );
    }

    #[test]
    fn unknown_keys_nulls_and_wrong_types_are_refused_at_every_depth() {
        let shape = |v: serde_json::Value| Payload::from_value(EventType::DecisionDefined, &v);
        let with = |path: &[&str], value: serde_json::Value| {
            let mut v = decision();
            let mut at = &mut v;
            for k in &path[..path.len() - 1] {
                at = &mut at[*k];
            }
            at[path[path.len() - 1]] = value;
            shape(v)
        };
        assert!(matches!(
            with(&["colour"], json!("red")),
            Err(PayloadError::Shape(_))
        ));
        assert!(matches!(
            with(&["current", "colour"], json!("red")),
            Err(PayloadError::Shape(_))
        ));
        assert!(matches!(
            with(&["current", "signers", "k"], json!(1)),
            Err(PayloadError::Shape(_))
        ));
        assert!(matches!(
            with(&["profile", "mood"], json!("calm")),
            Err(PayloadError::Shape(_))
        ));
        assert_eq!(
            with(&["target"], json!(null)),
            Err(PayloadError::NullOptional)
        );
        assert_eq!(
            with(&["current", "quorum_bps"], json!(null)),
            Err(PayloadError::NullOptional)
        );
        assert_eq!(
            with(&["profile", "cadence"], json!(null)),
            Err(PayloadError::NullOptional)
        );
        assert!(matches!(
            with(&["current", "threshold_bps"], json!("5000")),
            Err(PayloadError::Shape(_))
        ));
        assert!(matches!(
            with(&["current", "deciders"], json!("council")),
            Err(PayloadError::Shape(_))
        ));
        assert!(matches!(
            with(&["profile"], json!(null)),
            Err(PayloadError::Shape(_))
        ));
        let mut missing = decision();
        missing.as_object_mut().unwrap().remove("milestones");
        assert!(shape(missing).is_err());
        let mut vetoes = decision();
        vetoes["current"]["vetoes"][1]["threshold_bps"] = json!(null);
        assert_eq!(shape(vetoes), Err(PayloadError::NullOptional));
        // `current` is no key of a revision (only a transfer changes it).
        let revised = json!({"id": "upgrades", "reason": "r", "current": design()});
        assert!(matches!(
            Payload::from_value(EventType::DecisionRevised, &revised),
            Err(PayloadError::Shape(_))
        ));
    }

    #[test]
    fn out_of_set_values_parse_so_that_the_rules_refuse_them() {
        let body = json!({"id": "b", "title": "B", "kind": "guild", "description": ""});
        assert!(Payload::from_value(EventType::BodyDefined, &body).is_ok());
        let mut v = decision();
        v["current"]["process"] = json!("lottery");
        v["current"]["threshold_bps"] = json!(-1);
        v["profile"]["leverage"] = json!(13);
        assert!(Payload::from_value(EventType::DecisionDefined, &v).is_ok());
    }

    #[test]
    fn designs_know_their_bodies_and_their_canonical_form() {
        let d: Design = serde_json::from_value(design()).unwrap();
        assert_eq!(
            d.bodies().collect::<Vec<_>>(),
            [
                "foundation",
                "council",
                "citizens",
                "token-house",
                "council"
            ]
        );
        assert!(d.names("token-house") && !d.names("nobody"));
        assert!(d.vetoed_by("citizens") && !d.vetoed_by("council"));
        assert!(d.is_canonical());
        let mut messy = d.clone();
        messy.deciders = vec!["z".into(), "a".into(), "a".into()];
        messy.vetoes.reverse();
        assert_eq!(messy.first_uncanonical(), Some(("deciders", 1)));
        let mut twice = d.clone();
        twice.executors = vec!["a".into(), "a".into()];
        assert_eq!(twice.first_uncanonical(), Some(("executors", 1)));
        let fixed = messy.canonicalized();
        assert!(fixed.is_canonical());
        assert_eq!(fixed.deciders, ["a", "z"]);
        assert_eq!(fixed.vetoes, d.vetoes);
    }

    #[test]
    fn revisions_list_their_fields() {
        let r = DecisionRevised {
            id: "x".into(),
            reason: "r".into(),
            target: Some(serde_json::from_value(design()).unwrap()),
            milestones: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(r.revised_fields(), ["target", "milestones"]);
        assert!(DecisionRevised::default().revised_fields().is_empty());
        let b = BodyRevised {
            charter: Some("https://x".into()),
            ..Default::default()
        };
        assert_eq!(b.revised_fields(), ["charter"]);
    }
}
