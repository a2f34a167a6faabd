//! The progress of each layer across Seasons: an inline SVG bar chart of the
//! milestones achieved at each Season's end (and at the page's point), and the same
//! numbers as a table.

use super::Page;
use maud::{html, Markup, PreEscaped};
use waymark_projections::html::Text;
use waymark_projections::Status;

const COLORS: [&str; 6] = [
    "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457",
];
/// Width, height and the margins left, bottom and top of the chart.
const W: i64 = 720;
const H: i64 = 260;
const LEFT: i64 = 40;
const BOTTOM: i64 = 40;
const TOP: i64 = 20;

/// Achieved and total (unretired) milestones of `layer` in `s`.
fn count(s: &Status, layer: &str) -> (u64, u64) {
    s.layers
        .iter()
        .find(|l| l.id == layer)
        .map(|l| {
            l.progress
                .iter()
                .fold((0, 0), |(a, t), pp| (a + pp.achieved, t + pp.total))
        })
        .unwrap_or((0, 0))
}

/// Achieved milestones per layer at each Season's end (and at the page's point).
pub(super) fn progress(p: &Page) -> Markup {
    let mut points: Vec<(String, &Status)> = p
        .seasons
        .iter()
        .map(|se| (format!("S{}", se.number), &se.status))
        .collect();
    let at = p.status.as_of.as_ref().map_or(0, |a| a.seq);
    if p.seasons.last().is_none_or(|se| se.end_seq != at) {
        points.push((format!("seq {at}"), &p.status));
    }
    let layers: Vec<(&str, &str)> = p
        .status
        .layers
        .iter()
        .map(|l| (l.id.as_str(), l.title.as_str()))
        .collect();
    html! {
        section id="progress" aria-labelledby="progress-h" {
            "\n"
            h2 id="progress-h" { "Progress per layer across Seasons" } "\n"
            p {
                "Milestones achieved in each layer at the end of each Season (out of the \
                 layer's unretired milestones)."
            } "\n"
            figure class="chart" { (chart(&points, &layers)) } "\n"
            details {
                summary { "The same as a table" } "\n"
                table {
                    "\n"
                    thead {
                        tr {
                            th scope="col" { "Point" }
                            @for (_, title) in &layers { th scope="col" { (Text(title)) } }
                        }
                    }
                    tbody {
                        "\n"
                        @for (label, s) in &points {
                            tr {
                                th scope="row" { (Text(label)) }
                                @for (id, _) in &layers {
                                    @let (a, t) = count(s, id);
                                    td { (a) " / " (t) }
                                }
                            } "\n"
                        }
                    }
                }
            } "\n"
        } "\n"
    }
}

/// The bar chart: a group of bars (one per layer) at each point, a grid, a legend.
fn chart(points: &[(String, &Status)], layers: &[(&str, &str)]) -> Markup {
    let max = points
        .iter()
        .flat_map(|(_, s)| layers.iter().map(|(id, _)| count(s, id).1))
        .max()
        .unwrap_or(1)
        .max(1);
    let plot_h = H - BOTTOM - TOP;
    let group_w = (W - LEFT - 10) / (points.len().max(1) as i64);
    let bar_w = ((group_w - 16) / (layers.len().max(1) as i64)).clamp(4, 40);
    let ticks = (0..=max).filter(|tick| max <= 10 || tick % (max / 5).max(1) == 0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox={ "0 0 " (W) " " (H) }
            role="img" aria-labelledby="chart-t" {
            "\n"
            title id="chart-t" { "Achieved milestones per layer at each Season's end" } "\n"
            @for tick in ticks {
                @let y = TOP + plot_h - plot_h * tick as i64 / max as i64;
                (empty(&format!(
                    "line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e0e0e0\"",
                    W - 5
                )))
                text x=(LEFT - 6) y=(y + 4) font-size="11" text-anchor="end" { (tick) } "\n"
            }
            @for (gi, (label, s)) in points.iter().enumerate() {
                @let gx = LEFT + 8 + gi as i64 * group_w;
                @for (li, (id, title)) in layers.iter().enumerate() {
                    @let (a, t) = count(s, id);
                    @let bh = plot_h * a as i64 / max as i64;
                    rect x=(gx + li as i64 * bar_w) y=(TOP + plot_h - bh) width=(bar_w - 2)
                        height=(bh) fill=(Text(COLORS[li % COLORS.len()])) {
                        title { (Text(title)) ": " (a) " of " (t) " achieved at " (Text(label)) }
                    } "\n"
                }
                text x=(gx + (bar_w * layers.len() as i64) / 2) y=(H - BOTTOM + 16) font-size="12"
                    text-anchor="middle" { (Text(label)) } "\n"
            }
            @for (li, (_, title)) in layers.iter().enumerate() {
                @let x = LEFT + li as i64 * 150;
                (empty(&format!(
                    "rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"",
                    H - 16,
                    COLORS[li % COLORS.len()]
                )))
                text x=(x + 16) y=(H - 6) font-size="12" { (Text(title)) } "\n"
            }
        }
    }
}

/// An empty SVG element closed with `/>`, which maud does not write. Its attributes
/// are numbers and fixed colours, never text from the ledger.
fn empty(element: &str) -> PreEscaped<String> {
    PreEscaped(format!("<{element}/>"))
}
