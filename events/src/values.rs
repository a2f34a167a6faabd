//! The SPEC's enumerated values, typed: actor roles, milestone statuses, season
//! states, and (section 13) body kinds, processes, hypothesis outcomes and the DDF
//! profile's values. Each serializes to exactly its SPEC string.
//!
//! Payloads keep these as the strings they were signed with (an unknown role or
//! status must reach the rules, which refuse it with their own rule and message);
//! the rule state and the projections hold the typed values, converted once a
//! statement has passed the rules.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A string that is none of the values of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {kind}")]
pub struct UnknownValue {
    /// `role`, `status` or `season state`.
    pub kind: &'static str,
    pub value: String,
}

/// An enum of SPEC strings: `as_str`, `ALL`, `Display`, `FromStr`, and comparison
/// with a `&str` (so `status == "achieved"` reads as the SPEC does).
macro_rules! spec_values {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in the SPEC's order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The SPEC string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

spec_values!(
    /// An actor's role (SPEC section 5).
    Role, "role", {
        Steward = "steward",
        Reviewer = "reviewer",
        Reporter = "reporter",
    }
);

spec_values!(
    /// A milestone's status (SPEC section 5, rule 3).
    MilestoneState, "status", {
        NotStarted = "not_started",
        InProgress = "in_progress",
        Achieved = "achieved",
    }
);

spec_values!(
    /// A season's state in the status projection (SPEC section 9).
    SeasonState, "season state", {
        Open = "open",
        Closed = "closed",
    }
);

spec_values!(
    /// What kind of party a body is (SPEC section 13, rule 9).
    BodyKind, "body kind", {
        Foundation = "foundation",
        House = "house",
        Council = "council",
        Board = "board",
        Commission = "commission",
        Multisig = "multisig",
        Contract = "contract",
        Other = "other",
    }
);

spec_values!(
    /// How a design's deciders decide (SPEC section 13, rule 10).
    Process, "process", {
        Vote = "vote",
        Approval = "approval",
        Optimistic = "optimistic",
        Appointment = "appointment",
        Multisig = "multisig",
        Automatic = "automatic",
        Discretion = "discretion",
        Suspended = "suspended",
    }
);

spec_values!(
    /// How a hypothesis was concluded (SPEC section 13, rule 12).
    Outcome, "outcome", {
        Supported = "supported",
        Refuted = "refuted",
        Inconclusive = "inconclusive",
    }
);

spec_values!(
    /// DDF profile: how often the decision comes up.
    Cadence, "cadence", {
        Rare = "rare",
        Seasonal = "seasonal",
        Frequent = "frequent",
    }
);

spec_values!(
    /// DDF profile: what is at stake.
    Stakes, "stakes", {
        Low = "low",
        High = "high",
    }
);

spec_values!(
    /// DDF profile: one question or several.
    Complexity, "complexity", {
        Single = "single",
        Multi = "multi",
    }
);

spec_values!(
    /// DDF profile: what kind of answer the decision needs.
    Answer, "answer", {
        Measurement = "measurement",
        Prediction = "prediction",
        Judgement = "judgement",
    }
);

spec_values!(
    /// DDF profile: the shape of the solution space.
    Space, "space", {
        Convex = "convex",
        Concave = "concave",
    }
);

impl Role {
    /// The roles a payload names, typed, for a fold that runs after rule 1 (which
    /// refuses a payload naming any other); a name that is no role is left out.
    pub fn from_names(names: &[String]) -> Vec<Role> {
        names.iter().filter_map(|r| r.parse().ok()).collect()
    }

    /// `steward, reporter`: roles as the rules' messages and the history list them.
    pub fn join(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_is_its_spec_string_on_the_wire_and_back() {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(roles, ["steward", "reviewer", "reporter"]);
        let states: Vec<&str> = MilestoneState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(states, ["not_started", "in_progress", "achieved"]);
        assert_eq!(SeasonState::ALL, [SeasonState::Open, SeasonState::Closed]);
        for s in MilestoneState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<MilestoneState>(&json).unwrap(), s);
            assert_eq!(s.as_str().parse::<MilestoneState>(), Ok(s));
        }
        assert_eq!(
            serde_json::to_string(&SeasonState::Closed).unwrap(),
            "\"closed\""
        );
        assert_eq!(
            serde_json::to_string(&vec![Role::Steward, Role::Reporter]).unwrap(),
            r#"["steward","reporter"]"#
        );
        assert!(MilestoneState::Achieved == "achieved");
        let names = ["reporter".to_string(), "steward".to_string()];
        let roles = Role::from_names(&names);
        assert_eq!(roles, [Role::Reporter, Role::Steward]);
        assert_eq!(Role::join(&roles), "reporter, steward");
        assert!(Role::Reviewer != "steward");
    }

    #[test]
    fn section_13_sets_are_exactly_the_spec_lists() {
        let names = |v: &[&'static str]| v.to_vec();
        assert_eq!(
            names(&BodyKind::ALL.map(BodyKind::as_str)),
            [
                "foundation",
                "house",
                "council",
                "board",
                "commission",
                "multisig",
                "contract",
                "other"
            ]
        );
        assert_eq!(
            names(&Process::ALL.map(Process::as_str)),
            [
                "vote",
                "approval",
                "optimistic",
                "appointment",
                "multisig",
                "automatic",
                "discretion",
                "suspended"
            ]
        );
        assert_eq!(
            names(&Outcome::ALL.map(Outcome::as_str)),
            ["supported", "refuted", "inconclusive"]
        );
        assert_eq!(
            names(&Cadence::ALL.map(Cadence::as_str)),
            ["rare", "seasonal", "frequent"]
        );
        assert_eq!(names(&Stakes::ALL.map(Stakes::as_str)), ["low", "high"]);
        assert_eq!(
            names(&Complexity::ALL.map(Complexity::as_str)),
            ["single", "multi"]
        );
        assert_eq!(
            names(&Answer::ALL.map(Answer::as_str)),
            ["measurement", "prediction", "judgement"]
        );
        assert_eq!(names(&Space::ALL.map(Space::as_str)), ["convex", "concave"]);
        assert_eq!(
            "guild".parse::<BodyKind>().unwrap_err().to_string(),
            r#""guild" is not a body kind"#
        );
    }

    #[test]
    fn unknown_strings_are_refused_by_name() {
        let e = "Steward".parse::<Role>().unwrap_err();
        assert_eq!(e.to_string(), r#""Steward" is not a role"#);
        assert!("done".parse::<MilestoneState>().is_err());
        assert!(serde_json::from_str::<SeasonState>("\"paused\"").is_err());
    }
}
