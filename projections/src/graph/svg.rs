//! A standalone SVG, drawn here (no Graphviz needed). Written with `format!` rather than
//! maud: maud writes HTML, whose void elements (`<rect>`) are not well-formed XML, and a
//! standalone SVG must be XML. Text goes through the one escaper, [`crate::html::escape`].

use super::{as_of_text, layout, working, Look, ACHIEVED, FOCUS, OPEN, RETIRED, RETIRED_TEXT};
use crate::html::escape;
use crate::status::Status;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// At most `n` characters, the last one an ellipsis when cut.
pub(super) fn truncate(s: &str, n: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

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
