//! The milestone dependency graph of a status, as Graphviz DOT, Mermaid or a standalone SVG
//! drawn here (no Graphviz needed).
//!
//! Every format uses the legend of the Optimism Foundation's working model: green =
//! achieved, yellow = focus of the open season, bold = an `in_progress` milestone that
//! another (unretired) milestone depends on ("dependencies being worked on"); other
//! milestones are white, retired ones grey and dashed. Edges point from a dependency to the
//! milestone that depends on it (the arrow shows what achieving it unlocks). Output is
//! deterministic: the same status gives the same bytes.
//!
//! - `dot`, `mermaid`, `svg` — one renderer each, over the shared `layout` of layers
//!   (columns) and phases (rows) and the shared `Look` of a milestone.
//! - `decisions` — the decision diagram of SPEC section 13 (`graph --decisions`), in the
//!   same three formats.

mod decisions;
mod dot;
mod mermaid;
mod svg;

pub use decisions::{decisions_to_dot, decisions_to_mermaid, decisions_to_svg};
pub use dot::to_dot;
pub use mermaid::to_mermaid;
pub use svg::to_svg;

use crate::status::{MilestoneStatus, Status};

const ACHIEVED: (&str, &str) = ("#b7e4b0", "#3f8f3f");
const FOCUS: (&str, &str) = ("#ffe873", "#b39b00");
const OPEN: (&str, &str) = ("#ffffff", "#666666");
const RETIRED: (&str, &str) = ("#eeeeee", "#999999");
const RETIRED_TEXT: &str = "#777777";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Achieved,
    Focus,
    Open,
    Retired,
}

impl Look {
    fn of(m: &MilestoneStatus) -> Look {
        if m.retired {
            Look::Retired
        } else if m.status == "achieved" {
            Look::Achieved
        } else if m.focus {
            Look::Focus
        } else {
            Look::Open
        }
    }

    /// (fill, stroke)
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Look::Achieved => ACHIEVED,
            Look::Focus => FOCUS,
            Look::Open => OPEN,
            Look::Retired => RETIRED,
        }
    }
}

/// `in_progress`, unretired, and named in the `depends_on` of an unretired milestone.
fn working(s: &Status, m: &MilestoneStatus) -> bool {
    !m.retired
        && m.status == "in_progress"
        && s.milestones
            .iter()
            .any(|o| !o.retired && o.depends_on.contains(&m.id))
}

/// One layer with its milestones grouped by phase, phases in the layer's order (then any
/// phase only a milestone names).
struct Column<'a> {
    id: String,
    title: String,
    phase: String,
    cells: Vec<(String, Vec<&'a MilestoneStatus>)>,
}

impl Column<'_> {
    /// The layer's title and, when it has one, its current phase.
    fn label(&self) -> String {
        if self.phase.is_empty() {
            self.title.clone()
        } else {
            format!("{} (current phase {})", self.title, self.phase)
        }
    }
}

/// Columns (one per layer, plus one per unknown layer a milestone names) and the row
/// order of phases across all layers.
fn layout(s: &Status) -> (Vec<Column<'_>>, Vec<String>) {
    let mut columns: Vec<Column> = s
        .layers
        .iter()
        .map(|l| Column {
            id: l.id.clone(),
            title: l.title.clone(),
            phase: l.phase.clone(),
            cells: l
                .progress
                .iter()
                .map(|p| (p.phase.clone(), Vec::new()))
                .collect(),
        })
        .collect();
    for m in &s.milestones {
        let ci = match columns.iter().position(|c| c.id == m.layer) {
            Some(i) => i,
            None => {
                columns.push(Column {
                    id: m.layer.clone(),
                    title: m.layer.clone(),
                    phase: String::new(),
                    cells: Vec::new(),
                });
                columns.len() - 1
            }
        };
        let cells = &mut columns[ci].cells;
        match cells.iter_mut().find(|(p, _)| *p == m.phase) {
            Some((_, ms)) => ms.push(m),
            None => cells.push((m.phase.clone(), vec![m])),
        }
    }
    // Merge the layers' phase lists, keeping each list's order.
    let mut phases: Vec<String> = Vec::new();
    for c in &columns {
        let mut at = 0;
        for (p, _) in &c.cells {
            match phases.iter().position(|q| q == p) {
                Some(i) => at = at.max(i + 1),
                None => {
                    phases.insert(at, p.clone());
                    at += 1;
                }
            }
        }
    }
    (columns, phases)
}

fn as_of_text(s: &Status) -> String {
    s.as_of
        .as_ref()
        .map_or_else(|| "no events".into(), |a| format!("seq {}", a.seq))
}
