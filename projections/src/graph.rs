//! The milestone dependency graph of a status, as Graphviz DOT, Mermaid or a standalone SVG
//! drawn here (no Graphviz needed).
//!
//! Every format uses the legend of the Optimism Foundation's working model: green =
//! achieved, yellow = focus of the open season, bold = an `in_progress` milestone that
//! another (unretired) milestone depends on ("dependencies being worked on"); other
//! milestones are white, retired ones grey and dashed. Edges point from a dependency to the
//! milestone that depends on it (the arrow shows what achieving it unlocks). Output is
//! deterministic: the same status gives the same bytes.

use crate::html::escape;
use crate::status::{MilestoneStatus, Status};
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// At most `n` characters, the last one an ellipsis when cut.
fn truncate(s: &str, n: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A DOT quoted string.
fn dot_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Graphviz DOT: one `cluster_<layer>` per layer holding one `cluster_<layer>::<phase>`
/// per phase; nodes labelled `id\ntitle`; edges dependency → dependent.
pub fn to_dot(s: &Status) -> String {
    let (columns, _) = layout(s);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Waymark dependency graph of ledger {}, {}.\n\
         // Edges point from a dependency to the milestone that depends on it.\n\
         // Green: achieved; yellow: focus of the open season; bold: in progress and a\n\
         // dependency of another milestone; grey dashed: retired.",
        s.ledger,
        as_of_text(s)
    );
    out.push_str("digraph \"waymark\" {\n");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label={}];",
        dot_str(&format!("{} dependency graph, {}", s.ledger, as_of_text(s)))
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"{}\", color=\"{}\"];",
        OPEN.0, OPEN.1
    );
    out.push_str("  edge [color=\"#555555\"];\n");
    for c in &columns {
        let _ = writeln!(
            out,
            "  subgraph {} {{",
            dot_str(&format!("cluster_{}", c.id))
        );
        let label = if c.phase.is_empty() {
            c.title.clone()
        } else {
            format!("{} (current phase {})", c.title, c.phase)
        };
        let _ = writeln!(out, "    label={};", dot_str(&label));
        for (phase, ms) in c.cells.iter().filter(|(_, ms)| !ms.is_empty()) {
            let _ = writeln!(
                out,
                "    subgraph {} {{",
                dot_str(&format!("cluster_{}::{}", c.id, phase))
            );
            let _ = writeln!(out, "      label={};", dot_str(&format!("Phase {phase}")));
            for m in ms {
                let look = Look::of(m);
                let (fill, stroke) = look.colours();
                let mut attrs = format!(
                    "label={}, fillcolor=\"{fill}\", color=\"{stroke}\"",
                    dot_str(&format!("{}\n{}", m.id, m.title))
                );
                if look == Look::Retired {
                    let _ = write!(
                        attrs,
                        ", style=\"rounded,filled,dashed\", fontcolor=\"{RETIRED_TEXT}\""
                    );
                }
                if working(s, m) {
                    attrs.push_str(", penwidth=3, fontname=\"Helvetica-Bold\"");
                }
                let _ = writeln!(out, "      {} [{attrs}];", dot_str(&m.id));
            }
            out.push_str("    }\n");
        }
        out.push_str("  }\n");
    }
    for m in &s.milestones {
        for d in &m.depends_on {
            let retired = m.retired || s.milestones.iter().any(|o| &o.id == d && o.retired);
            let style = if retired {
                " [style=dashed, color=\"#999999\"]"
            } else {
                ""
            };
            let _ = writeln!(out, "  {} -> {}{style};", dot_str(d), dot_str(&m.id));
        }
    }
    out.push_str("}\n");
    out
}

/// Text for a Mermaid quoted label: entity codes for the characters Mermaid would
/// interpret (the quotes themselves, entities, HTML, markdown strings).
fn mermaid_esc(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_class(s: &Status, m: &MilestoneStatus, class: &str) -> bool {
    match class {
        "achieved" => Look::of(m) == Look::Achieved,
        "focus" => Look::of(m) == Look::Focus,
        "working" => working(s, m),
        _ => Look::of(m) == Look::Retired,
    }
}

/// Mermaid flowchart: a subgraph per layer with one per phase inside; nodes `m0, m1, …`
/// (milestones in id order) labelled `id<br/>title`; `classDef achieved/focus/working/
/// retired`; arrows dependency → dependent.
pub fn to_mermaid(s: &Status) -> String {
    let (columns, _) = layout(s);
    let node: BTreeMap<&str, usize> = s
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut out = format!(
        "%% Waymark dependency graph of ledger {}, {}. Arrows: dependency --> dependent.\n\
         flowchart LR\n",
        s.ledger,
        as_of_text(s)
    );
    for (li, c) in columns.iter().enumerate() {
        let label = if c.phase.is_empty() {
            c.title.clone()
        } else {
            format!("{} (current phase {})", c.title, c.phase)
        };
        let _ = writeln!(out, "  subgraph L{li}[\"{}\"]", mermaid_esc(&label));
        for (pi, (phase, ms)) in c
            .cells
            .iter()
            .enumerate()
            .filter(|(_, (_, ms))| !ms.is_empty())
        {
            let _ = writeln!(
                out,
                "    subgraph L{li}P{pi}[\"Phase {}\"]",
                mermaid_esc(phase)
            );
            for m in ms {
                let _ = writeln!(
                    out,
                    "      m{}[\"{}<br/>{}\"]",
                    node[m.id.as_str()],
                    mermaid_esc(&m.id),
                    mermaid_esc(&m.title)
                );
            }
            out.push_str("    end\n");
        }
        out.push_str("  end\n");
    }
    for m in &s.milestones {
        for d in &m.depends_on {
            if let Some(di) = node.get(d.as_str()) {
                let _ = writeln!(out, "  m{di} --> m{}", node[m.id.as_str()]);
            }
        }
    }
    let _ = writeln!(
        out,
        "  classDef achieved fill:{},stroke:{},color:#000000\n  \
         classDef focus fill:{},stroke:{},color:#000000\n  \
         classDef working stroke-width:3px,font-weight:bold\n  \
         classDef retired fill:{},stroke:{},color:{RETIRED_TEXT},stroke-dasharray:5 5",
        ACHIEVED.0, ACHIEVED.1, FOCUS.0, FOCUS.1, RETIRED.0, RETIRED.1
    );
    for name in ["achieved", "focus", "working", "retired"] {
        let ids: Vec<String> = s
            .milestones
            .iter()
            .enumerate()
            .filter(|(_, m)| mermaid_class(s, m, name))
            .map(|(i, _)| format!("m{i}"))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {name}", ids.join(","));
        }
    }
    out
}

const MARGIN: i64 = 20;
const TITLE_H: i64 = 56;
const HEAD_H: i64 = 36;
const LABEL_W: i64 = 90;
const COL_W: i64 = 240;
const BOX_W: i64 = 210;
const BOX_H: i64 = 42;
const GAP: i64 = 12;
const PAD: i64 = 14;
const TITLE_CHARS: usize = 32;

/// A standalone SVG: one column per layer, one row band per phase (the layers' phase
/// lists merged in order), milestone boxes stacked in their cell and labelled with id and
/// a shortened title, arrows dependency → dependent, a legend and a title naming the
/// ledger and the seq it shows.
pub fn to_svg(s: &Status) -> String {
    let (columns, phases) = layout(s);
    let count = |ci: usize, phase: &str| {
        columns[ci]
            .cells
            .iter()
            .find(|(p, _)| p == phase)
            .map_or(0, |(_, ms)| ms.len() as i64)
    };
    let row_h: Vec<i64> = phases
        .iter()
        .map(|p| {
            let n = (0..columns.len()).map(|ci| count(ci, p)).max().unwrap_or(0);
            n.max(1) * (BOX_H + GAP) - GAP + 2 * PAD
        })
        .collect();
    let grid_top = MARGIN + TITLE_H + HEAD_H;
    let row_y: Vec<i64> = row_h
        .iter()
        .scan(grid_top, |y, h| {
            let top = *y;
            *y += h;
            Some(top)
        })
        .collect();
    let grid_bottom = grid_top + row_h.iter().sum::<i64>();
    let legend_h = 28 + 7 * 22 + 6;
    let width = (2 * MARGIN + LABEL_W + COL_W * columns.len() as i64).max(600);
    let height = grid_bottom + 20 + legend_h + MARGIN;

    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" \
         role=\"img\" aria-labelledby=\"graph-title\">\n"
    );
    let title = format!("{} dependency graph, {}", s.ledger, as_of_text(s));
    let _ = writeln!(out, "<title id=\"graph-title\">{}</title>", escape(&title));
    let _ = writeln!(
        out,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555555\"/></marker></defs>"
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"20\" font-weight=\"bold\">{}</text>",
        MARGIN + 22,
        escape(&title)
    );
    let mut sub = match &s.as_of {
        Some(a) => format!("head {} recorded {}", a.hash, a.recorded_at),
        None => String::from("empty ledger"),
    };
    if let Some(p) = &s.overall_phase {
        let _ = write!(sub, " · overall phase {p}");
    }
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"12\" fill=\"#444444\">{}</text>",
        MARGIN + 44,
        escape(&sub)
    );

    // Grid: headers, phase labels, cells (the layer's current phase shaded).
    let col_x = |ci: usize| MARGIN + LABEL_W + COL_W * ci as i64;
    for (ci, c) in columns.iter().enumerate() {
        let head = if c.phase.is_empty() {
            c.title.clone()
        } else {
            format!("{} · phase {}", c.title, c.phase)
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\" text-anchor=\"middle\">{}</text>",
            col_x(ci) + COL_W / 2,
            grid_top - 12,
            escape(&truncate(&head, 30))
        );
    }
    for (ri, p) in phases.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            MARGIN,
            row_y[ri] + row_h[ri] / 2 + 5,
            escape(&truncate(&format!("Phase {p}"), 11))
        );
        for (ci, c) in columns.iter().enumerate() {
            let fill = if &c.phase == p { "#e8f0fe" } else { "#f7f7f7" };
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{COL_W}\" height=\"{}\" fill=\"{fill}\" stroke=\"#d0d0d0\"/>",
                col_x(ci),
                row_y[ri],
                row_h[ri]
            );
        }
    }

    // Boxes, written after the edges so that a line never crosses a label.
    let mut boxes = String::new();
    let mut pos: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (ci, c) in columns.iter().enumerate() {
        for (phase, ms) in &c.cells {
            let Some(ri) = phases.iter().position(|p| p == phase) else {
                continue;
            };
            for (k, m) in ms.iter().enumerate() {
                let x = col_x(ci) + (COL_W - BOX_W) / 2;
                let y = row_y[ri] + PAD + k as i64 * (BOX_H + GAP);
                pos.insert(&m.id, (x, y));
                let look = Look::of(m);
                let (fill, stroke) = look.colours();
                let bold = working(s, m);
                let mut rect = format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"6\" \
                     fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"",
                    if bold { 3 } else { 1 }
                );
                if look == Look::Retired {
                    rect.push_str(" stroke-dasharray=\"5 4\"");
                }
                let text_fill = if look == Look::Retired {
                    RETIRED_TEXT
                } else {
                    "#000000"
                };
                let tooltip = format!("{}: {} ({})", m.id, m.title, m.status);
                let _ = writeln!(
                    boxes,
                    "<g class=\"milestone\" data-id=\"{}\"><title>{}</title>{rect}/>\
                     <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"{}\" fill=\"{text_fill}\">{}</text>\
                     <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{text_fill}\">{}</text></g>",
                    escape(&m.id),
                    escape(&tooltip),
                    x + 8,
                    y + 17,
                    if bold { "bold" } else { "normal" },
                    escape(&truncate(&m.id, TITLE_CHARS)),
                    x + 8,
                    y + 33,
                    escape(&truncate(&m.title, TITLE_CHARS)),
                );
            }
        }
    }

    // Edges, under the boxes: across columns a straight line clipped to the box
    // borders; within a column a curve through the right-hand gutter, so it does not
    // run through the boxes stacked between its ends.
    let centre = |(x, y): (i64, i64)| ((x + BOX_W / 2) as f64, (y + BOX_H / 2) as f64);
    for m in &s.milestones {
        let Some(&to) = pos.get(m.id.as_str()) else {
            continue;
        };
        for d in &m.depends_on {
            let Some(&from) = pos.get(d.as_str()) else {
                continue;
            };
            if from.0 == to.0 {
                let x = (from.0 + BOX_W) as f64;
                let (y1, y2) = ((from.1 + BOX_H / 2) as f64, (to.1 + BOX_H / 2) as f64);
                let bulge = x + ((COL_W - BOX_W) as f64 / 2.0) * 1.2 + 4.0;
                let _ = writeln!(
                    out,
                    "<path class=\"dependency\" d=\"M{x:.1},{y1:.1} C{bulge:.1},{y1:.1} {bulge:.1},{y2:.1} {x:.1},{y2:.1}\" \
                     fill=\"none\" stroke=\"#555555\" stroke-opacity=\"0.8\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>"
                );
                continue;
            }
            let ((x1, y1), (x2, y2)) = (centre(from), centre(to));
            let (dx, dy) = (x2 - x1, y2 - y1);
            let t = edge_t(dx, dy);
            if t >= 0.5 {
                continue; // overlapping boxes: nothing to draw
            }
            let _ = writeln!(
                out,
                "<line class=\"dependency\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" \
                 stroke=\"#555555\" stroke-opacity=\"0.8\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>",
                x1 + dx * t,
                y1 + dy * t,
                x2 - dx * t,
                y2 - dy * t
            );
        }
    }

    out.push_str(&boxes);

    // Legend.
    let ly = grid_bottom + 20;
    let _ = writeln!(
        out,
        "<rect x=\"{MARGIN}\" y=\"{ly}\" width=\"420\" height=\"{legend_h}\" fill=\"#ffffff\" stroke=\"#999999\"/>\n\
         <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">Legend</text>",
        MARGIN + 10,
        ly + 18
    );
    let entries: [(&str, &str, u8, &str, &str); 6] = [
        (ACHIEVED.0, ACHIEVED.1, 1, "", "achieved"),
        (FOCUS.0, FOCUS.1, 1, "", "focus of the open season"),
        (OPEN.0, OPEN.1, 1, "", "not achieved"),
        (
            OPEN.0,
            OPEN.1,
            3,
            "",
            "in progress, and another milestone depends on it",
        ),
        (
            RETIRED.0,
            RETIRED.1,
            1,
            " stroke-dasharray=\"5 4\"",
            "retired",
        ),
        ("#e8f0fe", "#d0d0d0", 1, "", "the layer's current phase"),
    ];
    let (x, tx) = (MARGIN + 10, MARGIN + 48);
    for (i, (fill, stroke, sw, dash, label)) in entries.iter().enumerate() {
        let y = ly + 28 + 22 * i as i64;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"28\" height=\"16\" rx=\"3\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"{sw}\"{dash}/>\
             <text x=\"{tx}\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 12,
            escape(label)
        );
    }
    let y = ly + 28 + 22 * entries.len() as i64 + 8;
    let _ = writeln!(
        out,
        "<line x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#555555\" stroke-width=\"1.5\" \
         marker-end=\"url(#arrow)\"/>\
         <text x=\"{tx}\" y=\"{}\" font-size=\"12\">from a dependency to the milestone that needs it</text>",
        x + 28,
        y + 4
    );
    out.push_str("</svg>\n");
    out
}

/// The fraction of the centre-to-centre vector that lies inside a box, so a line from
/// `c1 + t·d` to `c2 − t·d` runs between the two borders.
fn edge_t(dx: f64, dy: f64) -> f64 {
    let tx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (BOX_W as f64 / 2.0) / dx.abs()
    };
    let ty = if dy == 0.0 {
        f64::INFINITY
    } else {
        (BOX_H as f64 / 2.0) / dy.abs()
    };
    tx.min(ty)
}
