//! Golden output: the exact bytes of the season review (Markdown and HTML) and of the
//! dependency graph (DOT, Mermaid, SVG) for the shared hand-built ledger, for an open
//! season, for a review with nothing in it, and for inputs whose every free-text field
//! carries characters that Markdown, HTML, XML, DOT or Mermaid would read as syntax.
//!
//! Section 13 adds the decision diagram (DOT, Mermaid, SVG), the review's "Decision
//! authority" section (Markdown, HTML and the review's JSON) and the diff of designs (text
//! and JSON), over the governance ledger of `tests/common` and its hostile twin.
//!
//! The files in `tests/golden/` were written by the renderers as they were before the
//! review and graph modules were split and the HTML moved to a template engine, so any
//! change to the bytes a user gets shows up here as a failing test. After a deliberate
//! change to the output, rewrite them with `WAYMARK_BLESS=1 cargo test -p
//! waymark-projections --test golden` and review the diff.

mod common;

use common::{governance_ledger, governance_review, ledger, season_review};
use serde_json::Value;
use std::path::Path;
use waymark_projections::{
    decisions_to_dot, decisions_to_mermaid, decisions_to_svg, diff, review, to_dot, to_mermaid,
    to_svg, ReviewFormat, ReviewFrame, SeasonReview, Status,
};

/// Appended to every free-text string: an apostrophe and quotes, HTML and Markdown
/// syntax, a pipe, a backslash, CR/LF and tab, control characters and a non-character.
const HOSTILE: &str =
    " it's <i>\"x\"</i> & a|b *c* _d_ `e` [f](g) #h ~i !j \\k\r\nl\tm\u{1}n\u{7f}o\u{FFFE}p";

/// Keys whose values are not free text (hashes, and the values the SPEC fixes as enums),
/// left as they are.
const NOT_TEXT: [&str; 9] = [
    "hash",
    "status",
    "state",
    "status_at_start",
    "status_at_end",
    "roles",
    "actor_roles",
    "type",
    "kind",
];

fn poison(v: &mut Value) {
    match v {
        Value::String(s) => s.push_str(HOSTILE),
        Value::Array(a) => a.iter_mut().for_each(poison),
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if !NOT_TEXT.contains(&k.as_str()) {
                    poison(v);
                }
            }
        }
        _ => {}
    }
}

fn hostile<T: serde::Serialize + serde::de::DeserializeOwned>(t: &T) -> T {
    let mut v = serde_json::to_value(t).unwrap();
    poison(&mut v);
    serde_json::from_value(v).unwrap()
}

/// Compares `actual` with `tests/golden/<name>` byte for byte; `WAYMARK_BLESS=1` writes it.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("WAYMARK_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (WAYMARK_BLESS=1 writes the golden files)",
            path.display()
        )
    });
    if expected != actual {
        let at = expected
            .bytes()
            .zip(actual.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(actual.len()));
        let from = at.saturating_sub(80);
        panic!(
            "{name} differs from the golden file at byte {at} (golden {} bytes, now {}):\n\
             golden: {:?}\n   now: {:?}",
            expected.len(),
            actual.len(),
            expected.get(from..(at + 80).min(expected.len())),
            actual.get(from..(at + 80).min(actual.len())),
        );
    }
}

fn pin_review(name: &str, r: &SeasonReview) {
    golden(&format!("{name}.md"), &r.to_markdown());
    golden(&format!("{name}.html"), &r.to_html());
    // Rendered around its status changes as `site` streams them, from a review that
    // holds none, the review keeps its bytes in all three formats.
    let bare = SeasonReview {
        status_changes: Vec::new(),
        ..r.clone()
    };
    for (format, whole) in [
        (ReviewFormat::Markdown, r.to_markdown()),
        (ReviewFormat::Html, r.to_html()),
        (ReviewFormat::Json, pretty(r)),
    ] {
        let frame = ReviewFrame::of(&bare, r.status_changes.len() as u64, format);
        let mut streamed = frame.head.clone();
        for (i, row) in r.status_changes.iter().enumerate() {
            streamed.push_str(&frame.change(row, i == 0));
        }
        streamed.push_str(&frame.tail);
        assert_eq!(streamed, whole, "{name}, {format:?}");
    }
}

fn pin_graph(name: &str, s: &Status) {
    golden(&format!("{name}.dot"), &to_dot(s));
    golden(&format!("{name}.mmd"), &to_mermaid(s));
    golden(&format!("{name}.svg"), &to_svg(s));
}

#[test]
fn closed_season_review() {
    pin_review("review-closed", &season_review(&ledger()));
}

#[test]
fn open_season_review() {
    let l = ledger();
    let (events, rows) = l.range(10, 16);
    pin_review(
        "review-open",
        &review(7, l.at(10), l.at(16), events, rows).unwrap(),
    );
}

#[test]
fn review_with_nothing_in_it() {
    let mut r = season_review(&ledger());
    r.focus.clear();
    r.overall_phase.from = None;
    r.overall_phase.to = None;
    r.layers.clear();
    r.achieved.clear();
    r.regressions.clear();
    r.status_changes.clear();
    r.phase_transitions.clear();
    r.focus_delivery.clear();
    r.still_open.clear();
    r.revisions.clear();
    r.retirements.clear();
    r.new_milestones.clear();
    r.assessments.clear();
    r.summary = None;
    r.actors.clear();
    pin_review("review-empty", &r);
}

#[test]
fn review_of_hostile_text() {
    let mut r = hostile(&season_review(&ledger()));
    // Links in every form the renderers tell apart: upper-case scheme, no host, not http(s).
    for links in [
        &mut r.achieved[0].evidence,
        &mut r.status_changes[2].evidence,
    ] {
        links.extend(
            [
                "HTTPS://Upper.example/x?y=1#z",
                "http://",
                "javascript:alert('x')",
                "https://h.example/a b(c)|d<e>\u{1}",
            ]
            .map(String::from),
        );
    }
    // An actor without a name is shown by id.
    r.actors[2].name.clear();
    r.ledger.push_str("`tick`");
    pin_review("review-hostile", &r);
    let html = r.to_html();
    // Every text went through the one escaper: no raw apostrophe or control character.
    assert!(!html.contains('\''), "an apostrophe escaped the escaper");
    assert!(
        !html
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
        "a control character escaped the escaper"
    );
}

#[test]
fn dependency_graphs() {
    let l = ledger();
    pin_graph("graph-open", l.at(16));
    pin_graph("graph-closed", l.at(20));
    pin_graph("graph-empty", l.at(1));
}

#[test]
fn dependency_graph_of_hostile_text() {
    let l = ledger();
    let s = hostile(l.at(16));
    pin_graph("graph-hostile", &s);
    let svg = to_svg(&s);
    assert!(!svg.contains('\''), "an apostrophe escaped the escaper");
    assert!(
        !svg.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
        "a control character escaped the escaper"
    );
}

/// No apostrophe and no control character other than tab and newline: everything went
/// through the one escaper.
fn assert_escaped(what: &str, doc: &str) {
    assert!(
        !doc.contains('\''),
        "{what}: an apostrophe escaped the escaper"
    );
    assert!(
        !doc.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
        "{what}: a control character escaped the escaper"
    );
}

fn pin_decisions(name: &str, s: &Status) {
    golden(&format!("{name}.dot"), &decisions_to_dot(s));
    golden(&format!("{name}.mmd"), &decisions_to_mermaid(s));
    golden(&format!("{name}.svg"), &decisions_to_svg(s));
}

fn pretty<T: serde::Serialize>(t: &T) -> String {
    serde_json::to_string_pretty(t).unwrap() + "\n"
}

#[test]
fn decision_diagrams() {
    let l = governance_ledger();
    pin_decisions("decisions", l.at(38));
    pin_decisions("decisions-2024", l.at(28));
    pin_decisions("decisions-empty", l.at(20));
}

#[test]
fn decision_diagram_of_hostile_text() {
    let l = governance_ledger();
    let s = hostile(l.at(38));
    pin_decisions("decisions-hostile", &s);
    assert_escaped("svg", &decisions_to_svg(&s));
    // DOT and Mermaid: no control character, and no line break from the text (each
    // statement stays on its line, as many lines as for the plain ledger).
    let plain = l.at(38);
    for (what, clean, poisoned) in [
        ("dot", decisions_to_dot(plain), decisions_to_dot(&s)),
        (
            "mermaid",
            decisions_to_mermaid(plain),
            decisions_to_mermaid(&s),
        ),
    ] {
        assert!(
            !poisoned.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: a control character reached the output"
        );
        assert_eq!(poisoned.lines().count(), clean.lines().count(), "{what}");
    }
}

#[test]
fn review_with_decision_authority() {
    let r = governance_review(&governance_ledger());
    pin_review("review-decisions", &r);
    golden("review-decisions.json", &pretty(&r));
}

#[test]
fn review_with_decision_authority_of_hostile_text() {
    let r = hostile(&governance_review(&governance_ledger()));
    pin_review("review-decisions-hostile", &r);
    golden("review-decisions-hostile.json", &pretty(&r));
    assert_escaped("html", &r.to_html());
}

#[test]
fn diff_of_designs() {
    let l = governance_ledger();
    let d = diff(l.at(28), l.at(38));
    golden("diff-decisions.txt", &d.to_text());
    golden("diff-decisions.json", &pretty(&d));
    let d = diff(&hostile(l.at(20)), &hostile(l.at(38)));
    golden("diff-decisions-hostile.txt", &d.to_text());
    golden("diff-decisions-hostile.json", &pretty(&d));
}
