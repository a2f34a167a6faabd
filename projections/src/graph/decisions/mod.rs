//! The decision diagram of SPEC section 13 (`graph --decisions`): bodies and decision
//! modules as nodes, one edge per role a body holds in a module's *current* design, read
//! "body → module": the body proposes, decides, vetoes (with the veto's threshold when one
//! is set) or executes the module. Modules are grouped by layer; a module at its target
//! design is green, a module the Foundation decides has a thick orange border, a body of
//! kind `foundation` is orange and a retired body grey and dashed. Every format carries a
//! legend; a status without decision modules draws a note saying so. Output is
//! deterministic: the same status gives the same bytes.
//!
//! - `dot`, `mermaid`, `svg` — one renderer each, over the shared [`Model`].

mod dot;
mod mermaid;
mod svg;

pub use dot::decisions_to_dot;
pub use mermaid::decisions_to_mermaid;
pub use svg::decisions_to_svg;

use crate::design::{percent, process_text};
use crate::status::{DecisionStatus, Status};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use waymark_events::BodyKind;

/// Module at its target design: (fill, stroke), as an achieved milestone.
const AT_TARGET: (&str, &str) = ("#b7e4b0", "#3f8f3f");
/// Any other module.
const MODULE: (&str, &str) = ("#ffffff", "#666666");
/// The border of a module the Foundation decides.
const FOUNDATION_STROKE: &str = "#d9480f";
/// A body of kind `foundation`.
const FOUNDATION_BODY: (&str, &str) = ("#ffd8a8", "#d9480f");
/// Any other body.
const BODY: (&str, &str) = ("#edf2ff", "#4c6ef5");
/// A retired body (and its text colour).
const RETIRED: (&str, &str) = ("#eeeeee", "#999999");
const RETIRED_TEXT: &str = "#777777";

/// The role a body holds in a module's current design, in the order edges are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Proposes,
    Decides,
    Vetoes,
    Executes,
}

impl Role {
    const ALL: [Role; 4] = [Role::Proposes, Role::Decides, Role::Vetoes, Role::Executes];

    fn verb(self) -> &'static str {
        match self {
            Role::Proposes => "proposes",
            Role::Decides => "decides",
            Role::Vetoes => "vetoes",
            Role::Executes => "executes",
        }
    }

    /// The edge colour.
    fn colour(self) -> &'static str {
        match self {
            Role::Proposes => "#868e96",
            Role::Decides => "#212529",
            Role::Vetoes => "#c92a2a",
            Role::Executes => "#1971c2",
        }
    }

    /// What the legend says about the edge.
    fn meaning(self) -> &'static str {
        match self {
            Role::Proposes => "proposes: puts the decision forward",
            Role::Decides => "decides: its decision is required (with the others, jointly)",
            Role::Vetoes => "vetoes: can stop it (the share of its vote a veto needs, when set)",
            Role::Executes => "executes: carries the decision out",
        }
    }
}

/// A body node. A body that a design names but the status does not list (never the case
/// for a recorded ledger) is drawn with its id as title and no kind.
struct BodyNode {
    id: String,
    title: String,
    kind: String,
    retired: bool,
}

impl BodyNode {
    fn foundation(&self) -> bool {
        self.kind == BodyKind::Foundation.as_str()
    }

    /// (fill, stroke)
    fn colours(&self) -> (&'static str, &'static str) {
        if self.retired {
            RETIRED
        } else if self.foundation() {
            FOUNDATION_BODY
        } else {
            BODY
        }
    }

    /// `id · kind`, and `retired` when it is.
    fn detail(&self) -> String {
        let mut s = self.id.clone();
        if !self.kind.is_empty() {
            s.push_str(" · ");
            s.push_str(&self.kind);
        }
        if self.retired {
            s.push_str(" · retired");
        }
        s
    }
}

/// One role of one body in one module's current design.
struct Edge {
    body: usize,
    module: usize,
    role: Role,
    /// The verb, with the veto's threshold when one is set: `vetoes (20%)`.
    label: String,
}

/// The layers' modules: the layer's title and the indices (into `Model::modules`) of its
/// modules.
struct Group {
    title: String,
    modules: Vec<usize>,
}

/// What every format draws.
struct Model<'a> {
    ledger: &'a str,
    /// `seq N`, or `no events`.
    as_of: String,
    /// Ordered so that a body sits near the modules it holds a role in (see [`Model::of`]).
    bodies: Vec<BodyNode>,
    /// In group order, by id within a group.
    modules: Vec<&'a DecisionStatus>,
    groups: Vec<Group>,
    /// By module, then role, then body id.
    edges: Vec<Edge>,
}

impl<'a> Model<'a> {
    fn of(s: &'a Status) -> Model<'a> {
        let decisions: &[DecisionStatus] = s.decisions.as_deref().unwrap_or_default();
        // Modules grouped by layer: the framework's layers in order, then any other layer
        // a module names, in the order of the modules (by id).
        let mut groups: Vec<(String, String, Vec<&DecisionStatus>)> = s
            .layers
            .iter()
            .map(|l| (l.id.clone(), l.title.clone(), Vec::new()))
            .collect();
        let mut sorted: Vec<&DecisionStatus> = decisions.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        for d in sorted {
            match groups.iter_mut().find(|(id, _, _)| *id == d.layer) {
                Some((_, _, ms)) => ms.push(d),
                None => groups.push((d.layer.clone(), d.layer.clone(), vec![d])),
            }
        }
        groups.retain(|(_, _, ms)| !ms.is_empty());
        let mut modules = Vec::new();
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|(_, title, ms)| {
                let start = modules.len();
                modules.extend(ms);
                Group {
                    title,
                    modules: (start..modules.len()).collect(),
                }
            })
            .collect();

        // Bodies: the status's, then any id a design names that the status does not list.
        let mut bodies: Vec<BodyNode> = s
            .bodies
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|b| BodyNode {
                id: b.id.clone(),
                title: b.title.clone(),
                kind: b.kind.clone(),
                retired: b.retired,
            })
            .collect();
        let mut index: BTreeMap<String, usize> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.clone(), i))
            .collect();
        let mut raw: Vec<(usize, usize, Role, String)> = Vec::new();
        for (mi, d) in modules.iter().enumerate() {
            let c = &d.current;
            let mut roles: Vec<(Role, &str, String)> = Vec::new();
            roles.extend(
                c.proposers
                    .iter()
                    .map(|b| (Role::Proposes, b.as_str(), "proposes".into())),
            );
            roles.extend(
                c.deciders
                    .iter()
                    .map(|b| (Role::Decides, b.as_str(), "decides".into())),
            );
            roles.extend(c.vetoes.iter().map(|v| {
                let label = match v.threshold_bps {
                    Some(t) => format!("vetoes ({})", percent(t)),
                    None => "vetoes".into(),
                };
                (Role::Vetoes, v.body.as_str(), label)
            }));
            roles.extend(
                c.executors
                    .iter()
                    .map(|b| (Role::Executes, b.as_str(), "executes".into())),
            );
            for (role, body, label) in roles {
                let bi = match index.get(body) {
                    Some(&i) => i,
                    None => {
                        bodies.push(BodyNode {
                            id: body.to_string(),
                            title: body.to_string(),
                            kind: String::new(),
                            retired: false,
                        });
                        index.insert(body.to_string(), bodies.len() - 1);
                        bodies.len() - 1
                    }
                };
                raw.push((bi, mi, role, label));
            }
        }
        raw.sort_by(|a, b| {
            (a.1, a.2)
                .cmp(&(b.1, b.2))
                .then_with(|| bodies[a.0].id.cmp(&bodies[b.0].id))
        });

        // Body order: by the mean position of the modules it holds a role in (compared
        // exactly, as fractions), bodies without a role last; ties by id.
        let mut weight: Vec<(u64, u64)> = vec![(0, 0); bodies.len()];
        for (bi, mi, _, _) in &raw {
            weight[*bi].0 += *mi as u64;
            weight[*bi].1 += 1;
        }
        let mut order: Vec<usize> = (0..bodies.len()).collect();
        order.sort_by(|&a, &b| {
            let ((sa, na), (sb, nb)) = (weight[a], weight[b]);
            let by_weight = match (na, nb) {
                (0, 0) => Ordering::Equal,
                (0, _) => Ordering::Greater,
                (_, 0) => Ordering::Less,
                _ => (u128::from(sa) * u128::from(nb)).cmp(&(u128::from(sb) * u128::from(na))),
            };
            by_weight.then_with(|| bodies[a].id.cmp(&bodies[b].id))
        });
        let mut new_index = vec![0; bodies.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut slots: Vec<Option<BodyNode>> = bodies.into_iter().map(Some).collect();
        let bodies: Vec<BodyNode> = order.iter().filter_map(|&old| slots[old].take()).collect();
        let edges = raw
            .into_iter()
            .map(|(bi, mi, role, label)| Edge {
                body: new_index[bi],
                module: mi,
                role,
                label,
            })
            .collect();

        Model {
            ledger: &s.ledger,
            as_of: s
                .as_of
                .as_ref()
                .map_or_else(|| "no events".into(), |a| format!("seq {}", a.seq)),
            bodies,
            modules,
            groups,
            edges,
        }
    }

    fn title(&self) -> String {
        format!("{} decision diagram, {}", self.ledger, self.as_of)
    }

    /// Said instead of a diagram when there is no module; `None` when there is one.
    fn note(&self) -> Option<String> {
        if !self.modules.is_empty() {
            return None;
        }
        let bodies = match self.bodies.len() {
            0 => "no body either".to_string(),
            1 => "1 body is defined".to_string(),
            n => format!("{n} bodies are defined"),
        };
        Some(format!(
            "No decision module is recorded at {} ({bodies}): no edges to draw.",
            self.as_of
        ))
    }
}

/// What a module's node says below its id and title: the process with its threshold,
/// quorum or signers, then the marks (target reached or not, the Foundation deciding).
fn module_lines(d: &DecisionStatus) -> (String, String) {
    let target = match (&d.target, d.at_target) {
        (_, true) => "at its target design",
        (Some(_), false) => "target not reached",
        (None, false) => "no target recorded",
    };
    let marks = if d.foundation_decides {
        format!("{target} · the Foundation decides")
    } else {
        target.to_string()
    };
    (process_text(&d.current), marks)
}

/// (fill, stroke, stroke width) of a module.
fn module_look(d: &DecisionStatus) -> (&'static str, &'static str, u8) {
    let (fill, stroke) = if d.at_target { AT_TARGET } else { MODULE };
    if d.foundation_decides {
        (fill, FOUNDATION_STROKE, 3)
    } else {
        (fill, stroke, 1)
    }
}

/// Text for a line comment: control characters (a line break would end the comment and
/// let the rest be read as code) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The lines of the legend's text, shared by the formats that write it as text.
const LEGEND_READING: &str =
    "Arrows run from a body to a module it proposes, decides, vetoes or executes, as its current design says.";
