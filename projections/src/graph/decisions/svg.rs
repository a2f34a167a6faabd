//! The decision diagram as a standalone SVG, drawn here (no Graphviz needed): bodies in a
//! column on the left, modules grouped by layer in a column on the right, one curve per
//! role from a body to a module, labelled at the module's end. As for the dependency
//! graph, written with `format!` (a standalone SVG must be XML) and every text through
//! the one escaper, [`crate::html::escape`].

use super::{module_lines, module_look, Model, Role, RETIRED_TEXT};
use super::{AT_TARGET, BODY, FOUNDATION_BODY, FOUNDATION_STROKE, LEGEND_READING, MODULE, RETIRED};
use crate::graph::svg::truncate;
use crate::html::escape;
use crate::status::Status;
use std::fmt::Write as _;

const MARGIN: i64 = 20;
const TITLE_H: i64 = 78;
const BODY_W: i64 = 240;
/// Horizontal room for the curves between the two columns.
const CURVE_W: i64 = 230;
/// Room for the edge labels, left of the modules.
const LABEL_W: i64 = 96;
const MODULE_W: i64 = 320;
/// Vertical distance between two edge ends on a module (room for a label).
const PORT: i64 = 15;
/// Vertical distance between two edge ends on a body.
const BODY_PORT: i64 = 7;
const BODY_MIN_H: i64 = 44;
const MODULE_MIN_H: i64 = 70;
const GAP: i64 = 12;
const GROUP_H: i64 = 30;

/// The stroke of an edge of `role`.
fn stroke(role: Role) -> String {
    let (width, dash) = match role {
        Role::Proposes => ("1.4", " stroke-dasharray=\"2 3\""),
        Role::Decides => ("2.4", ""),
        Role::Vetoes => ("1.6", " stroke-dasharray=\"7 4\""),
        Role::Executes => ("1.6", ""),
    };
    format!(
        "stroke=\"{}\" stroke-width=\"{width}\"{dash} marker-end=\"url(#arrow-{})\"",
        role.colour(),
        role.verb()
    )
}

/// A standalone SVG: the title naming the ledger and the seq, bodies (title, id and
/// kind) on the left, modules (id, title, process, marks) grouped by layer on the right,
/// each edge a curve from the body to its own place on the module's left side with its
/// label just before the module, and a legend; a note instead when no module is recorded.
pub fn decisions_to_svg(s: &Status) -> String {
    let m = Model::of(s);
    let body_x = MARGIN;
    let module_x = body_x + BODY_W + CURVE_W + LABEL_W;
    let width = module_x + MODULE_W + MARGIN;

    // Modules: stacked under their group's heading, tall enough for their edge ends.
    let top = MARGIN + TITLE_H;
    let mut module_y = vec![0; m.modules.len()];
    let mut module_h = vec![0; m.modules.len()];
    let mut group_y = Vec::new();
    let mut y = top;
    for g in &m.groups {
        group_y.push(y);
        y += GROUP_H;
        for &mi in &g.modules {
            let ends = m.edges.iter().filter(|e| e.module == mi).count() as i64;
            module_h[mi] = (ends * PORT + 2 * 6).max(MODULE_MIN_H);
            module_y[mi] = y;
            y += module_h[mi] + GAP;
        }
    }
    let modules_bottom = y;

    // Bodies: each as near as it can be to the middle of the modules it holds a role in,
    // in the model's order, never overlapping.
    let mut body_y = vec![0; m.bodies.len()];
    let mut body_h = vec![0; m.bodies.len()];
    let mut y = top + GROUP_H;
    for (bi, _) in m.bodies.iter().enumerate() {
        let mine: Vec<i64> = m
            .edges
            .iter()
            .filter(|e| e.body == bi)
            .map(|e| module_y[e.module] + module_h[e.module] / 2)
            .collect();
        body_h[bi] = (mine.len() as i64 * BODY_PORT + 2 * 6).max(BODY_MIN_H);
        let want = if mine.is_empty() {
            y
        } else {
            mine.iter().sum::<i64>() / mine.len() as i64 - body_h[bi] / 2
        };
        body_y[bi] = want.max(y);
        y = body_y[bi] + body_h[bi] + GAP;
    }
    let bodies_bottom = y;

    // Edge ends: on a module, by the height of the body they come from; on a body, by
    // the height of the end on the module they go to.
    let mut module_end = vec![0; m.edges.len()];
    for mi in 0..m.modules.len() {
        let mut mine: Vec<usize> = (0..m.edges.len())
            .filter(|&i| m.edges[i].module == mi)
            .collect();
        mine.sort_by_key(|&i| (body_y[m.edges[i].body], m.edges[i].body, m.edges[i].role));
        let first = module_y[mi] + (module_h[mi] - mine.len() as i64 * PORT) / 2 + PORT / 2;
        for (k, &i) in mine.iter().enumerate() {
            module_end[i] = first + k as i64 * PORT;
        }
    }
    let mut body_end = vec![0; m.edges.len()];
    for bi in 0..m.bodies.len() {
        let mut mine: Vec<usize> = (0..m.edges.len())
            .filter(|&i| m.edges[i].body == bi)
            .collect();
        mine.sort_by_key(|&i| module_end[i]);
        let first = body_y[bi] + (body_h[bi] - mine.len() as i64 * BODY_PORT) / 2 + BODY_PORT / 2;
        for (k, &i) in mine.iter().enumerate() {
            body_end[i] = first + k as i64 * BODY_PORT;
        }
    }

    let note = m.note();
    let legend_y = modules_bottom.max(bodies_bottom).max(top + GROUP_H) + 8;
    let legend_h = if note.is_some() {
        0
    } else {
        30 + 4 * 22 + 2 * 26 + 10
    };
    let note_h = if note.is_some() { 40 } else { 0 };
    let height = legend_y + legend_h + note_h + MARGIN;

    let title = m.title();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" \
         role=\"img\" aria-labelledby=\"decisions-title\">\n"
    );
    let _ = writeln!(
        out,
        "<title id=\"decisions-title\">{}</title>",
        escape(&title)
    );
    out.push_str("<defs>");
    for role in Role::ALL {
        let _ = write!(
            out,
            "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"9\" \
             markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            role.verb(),
            role.colour()
        );
    }
    out.push_str("</defs>\n");
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
    let head = match &s.as_of {
        Some(a) => format!("head {} recorded {}", a.hash, a.recorded_at),
        None => "empty ledger".into(),
    };
    let counts = match &s.authority {
        Some(n) => format!(
            "{} decision modules: {} at their target design, {} decided by the Foundation",
            n.decisions, n.at_target, n.foundation_decides
        ),
        None => "no bodies or decision modules recorded".into(),
    };
    for (i, line) in [head, counts].iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"12\" fill=\"#444444\">{}</text>",
            MARGIN + 42 + 16 * i as i64,
            escape(line)
        );
    }

    if !m.bodies.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{body_x}\" y=\"{}\" font-size=\"15\" font-weight=\"bold\">Bodies</text>",
            top + 20
        );
    }
    for (g, gy) in m.groups.iter().zip(&group_y) {
        let _ = writeln!(
            out,
            "<text x=\"{module_x}\" y=\"{}\" font-size=\"15\" font-weight=\"bold\">{}</text>",
            gy + 20,
            escape(&truncate(&g.title, 40))
        );
    }

    // Edges first, so that no curve crosses a box's text.
    let curve_from = body_x + BODY_W;
    let label_x = module_x - LABEL_W;
    let mid = (curve_from + label_x) as f64 / 2.0;
    for (i, e) in m.edges.iter().enumerate() {
        let (y1, y2) = (body_end[i], module_end[i]);
        let b = &m.bodies[e.body];
        let d = m.modules[e.module];
        let _ = writeln!(
            out,
            "<g class=\"edge {}\" data-body=\"{}\" data-decision=\"{}\"><title>{}</title>\
             <path d=\"M{curve_from},{y1} C{mid:.1},{y1} {mid:.1},{y2} {label_x},{y2} L{},{y2}\" fill=\"none\" {}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\" fill=\"{}\" \
             stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text></g>",
            e.role.verb(),
            escape(&b.id),
            escape(&d.id),
            escape(&format!("{} {} {}", b.title, e.label, d.title)),
            module_x - 1,
            stroke(e.role),
            module_x - 12,
            y2 - 3,
            e.role.colour(),
            escape(&e.label)
        );
    }

    for (bi, b) in m.bodies.iter().enumerate() {
        let (fill, stroke) = b.colours();
        let (y, h) = (body_y[bi], body_h[bi]);
        let dash = if b.retired {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let text = if b.retired { RETIRED_TEXT } else { "#000000" };
        let middle = y + h / 2;
        let _ = writeln!(
            out,
            "<g class=\"body\" data-id=\"{}\"><title>{}</title>\
             <rect x=\"{body_x}\" y=\"{y}\" width=\"{BODY_W}\" height=\"{h}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"{text}\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{text}\">{}</text></g>",
            escape(&b.id),
            escape(&format!("{} ({})", b.title, b.detail())),
            h.min(BODY_MIN_H) / 2,
            body_x + 12,
            middle - 3,
            escape(&truncate(&b.title, 30)),
            body_x + 12,
            middle + 12,
            escape(&truncate(&b.detail(), 36))
        );
    }

    for (mi, d) in m.modules.iter().enumerate() {
        let (fill, stroke, sw) = module_look(d);
        let (process, marks) = module_lines(d);
        let (y, h) = (module_y[mi], module_h[mi]);
        let first = y + (h - 4 * 15) / 2 + 12;
        let _ = writeln!(
            out,
            "<g class=\"decision\" data-id=\"{}\"><title>{}</title>\
             <rect x=\"{module_x}\" y=\"{y}\" width=\"{MODULE_W}\" height=\"{h}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{sw}\"/>\
             <text x=\"{tx}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">{}</text>\
             <text x=\"{tx}\" y=\"{}\" font-size=\"11\">{}</text>\
             <text x=\"{tx}\" y=\"{}\" font-size=\"11\" fill=\"#333333\">{}</text>\
             <text x=\"{tx}\" y=\"{}\" font-size=\"11\" font-style=\"italic\" fill=\"#333333\">{}</text></g>",
            escape(&d.id),
            escape(&format!("{}: {} ({process}; {marks})", d.id, d.title)),
            first,
            escape(&truncate(&d.id, 44)),
            first + 15,
            escape(&truncate(&d.title, 52)),
            first + 30,
            escape(&truncate(&process, 52)),
            first + 45,
            escape(&truncate(&marks, 52)),
            tx = module_x + 10,
        );
    }

    match note {
        Some(note) => {
            let _ = writeln!(
                out,
                "<text class=\"note\" x=\"{MARGIN}\" y=\"{}\" font-size=\"14\" fill=\"#444444\">{}</text>",
                legend_y + 20,
                escape(&note)
            );
        }
        None => legend(&mut out, legend_y, legend_h),
    }
    out.push_str("</svg>\n");
    out
}

/// The legend: the four edges on the left, the node looks on the right.
fn legend(out: &mut String, y: i64, h: i64) {
    let w = BODY_W + CURVE_W + LABEL_W + MODULE_W;
    let _ = writeln!(
        out,
        "<g class=\"legend\"><rect x=\"{MARGIN}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\" stroke=\"#999999\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">Legend</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#444444\">{}</text>",
        MARGIN + 10,
        y + 19,
        MARGIN + 70,
        y + 19,
        escape(LEGEND_READING)
    );
    let x = MARGIN + 10;
    for (i, role) in Role::ALL.iter().enumerate() {
        let ly = y + 40 + 22 * i as i64;
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" {}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            x + 40,
            stroke(*role),
            x + 52,
            ly + 4,
            escape(role.meaning())
        );
    }
    let looks: [(&str, &str, u8, &str, &str, &str); 6] = [
        (BODY.0, BODY.1, 1, "", "9", "body"),
        (
            FOUNDATION_BODY.0,
            FOUNDATION_BODY.1,
            1,
            "",
            "9",
            "body of kind foundation",
        ),
        (
            RETIRED.0,
            RETIRED.1,
            1,
            " stroke-dasharray=\"5 4\"",
            "9",
            "retired body",
        ),
        (MODULE.0, MODULE.1, 1, "", "3", "decision module"),
        (
            AT_TARGET.0,
            AT_TARGET.1,
            1,
            "",
            "3",
            "module at its target design",
        ),
        (
            MODULE.0,
            FOUNDATION_STROKE,
            3,
            "",
            "3",
            "module the Foundation decides",
        ),
    ];
    for (i, (fill, stroke, sw, dash, rx, label)) in looks.iter().enumerate() {
        let (row, col) = (i as i64 / 3, i as i64 % 3);
        let (lx, ly) = (x + col * 280, y + 30 + 4 * 22 + 26 * row);
        let _ = writeln!(
            out,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"34\" height=\"18\" rx=\"{rx}\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"{sw}\"{dash}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            lx + 44,
            ly + 13,
            escape(label)
        );
    }
    out.push_str("</g>\n");
}
