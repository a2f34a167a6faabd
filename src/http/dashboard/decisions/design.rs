//! A design (SPEC section 13) in words: who proposes, decides, vetoes and carries out
//! a decision, and how it is decided; and what a transfer changed.

use maud::{html, Markup};
use std::collections::BTreeMap;
use waymark_events::{Design, Veto};
use waymark_projections::html::Text;
use waymark_projections::Status;

/// Body titles by id, for the bodies a design names.
pub struct Names(BTreeMap<String, String>);

impl Names {
    pub fn of(status: &Status) -> Self {
        Names(
            status
                .bodies
                .iter()
                .flatten()
                .map(|b| (b.id.clone(), b.title.clone()))
                .collect(),
        )
    }

    /// A body's title, or its id when the status does not hold it.
    pub fn title<'a>(&'a self, id: &'a str) -> &'a str {
        self.0.get(id).map_or(id, String::as_str)
    }

    /// Bodies by title, each carrying its id (`data-body`), comma-separated.
    pub fn list(&self, ids: &[String]) -> Markup {
        html! {
            @for (i, id) in ids.iter().enumerate() {
                @if i > 0 { ", " }
                span class="body" data-body=(Text(id)) title=(Text(id)) { (Text(self.title(id))) }
            }
        }
    }

    /// Vetoes by title, each with the share of the vote it needs.
    fn vetoes(&self, vetoes: &[Veto]) -> Markup {
        html! {
            @for (i, v) in vetoes.iter().enumerate() {
                @if i > 0 { ", " }
                span class="body" data-body=(Text(&v.body)) title=(Text(&v.body)) { (Text(self.title(&v.body))) }
                @if let Some(t) = v.threshold_bps { " (" (Text(&bps(t))) ")" }
            }
        }
    }

    /// Plain words for a list of bodies (a transfer's before and after).
    fn words(&self, ids: &[String]) -> String {
        if ids.is_empty() {
            "none".into()
        } else {
            ids.iter()
                .map(|id| self.title(id))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    fn veto_words(&self, vetoes: &[Veto]) -> String {
        if vetoes.is_empty() {
            return "none".into();
        }
        vetoes
            .iter()
            .map(|v| match v.threshold_bps {
                Some(t) => format!("{} ({})", self.title(&v.body), bps(t)),
                None => self.title(&v.body).to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Basis points as a percentage: 5100 → `51%`, 3333 → `33.33%`.
pub fn bps(b: i64) -> String {
    if b % 100 == 0 {
        format!("{}%", b / 100)
    } else {
        format!("{}.{:02}%", b / 100, (b % 100).abs())
    }
}

/// How a design decides: the process, its threshold and quorum, its signers.
pub fn how(d: &Design) -> String {
    let mut parts = vec![d.process.clone()];
    if let Some(t) = d.threshold_bps {
        parts.push(format!("threshold {}", bps(t)));
    }
    if let Some(q) = d.quorum_bps {
        parts.push(format!("quorum {}", bps(q)));
    }
    if let Some(s) = &d.signers {
        parts.push(format!("{} of {} signers", s.m, s.n));
    }
    parts.join(", ")
}

/// A design as a short list: who decides, how, who vetoes, proposes and executes.
pub fn design(d: &Design, names: &Names) -> Markup {
    html! {
        ul class="design" data-deciders=(Text(&d.deciders.join(" "))) data-process=(Text(&d.process)) {
            li class="deciders" {
                "Decided by "
                @if d.deciders.is_empty() { "nobody" } @else { strong { (names.list(&d.deciders)) } }
            }
            li class="how" { (Text(&how(d))) }
            @if !d.vetoes.is_empty() { li { "Vetoes: " (names.vetoes(&d.vetoes)) } }
            @if !d.proposers.is_empty() { li { "Proposed by " (names.list(&d.proposers)) } }
            @if !d.executors.is_empty() { li { "Carried out by " (names.list(&d.executors)) } }
        }
    }
}

/// What differs between two designs, aspect by aspect, in words: `(aspect, before,
/// after)`.
pub fn changes(from: &Design, to: &Design, names: &Names) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let mut aspect = |name, a: String, b: String| {
        if a != b {
            out.push((name, a, b));
        }
    };
    aspect(
        "decided by",
        names.words(&from.deciders),
        names.words(&to.deciders),
    );
    aspect("how", how(from), how(to));
    aspect(
        "vetoes",
        names.veto_words(&from.vetoes),
        names.veto_words(&to.vetoes),
    );
    aspect(
        "proposed by",
        names.words(&from.proposers),
        names.words(&to.proposers),
    );
    aspect(
        "carried out by",
        names.words(&from.executors),
        names.words(&to.executors),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_events::Signers;

    fn d(deciders: &[&str], process: &str) -> Design {
        Design {
            proposers: vec![],
            deciders: deciders.iter().map(|s| s.to_string()).collect(),
            process: process.into(),
            threshold_bps: None,
            quorum_bps: None,
            signers: None,
            vetoes: vec![],
            executors: vec![],
        }
    }

    #[test]
    fn basis_points_read_as_percentages() {
        assert_eq!(bps(5100), "51%");
        assert_eq!(bps(3333), "33.33%");
        assert_eq!(bps(5), "0.05%");
        assert_eq!(bps(10000), "100%");
    }

    #[test]
    fn a_transfer_lists_what_it_changed_only() {
        let names = Names(BTreeMap::from([(
            "th".to_string(),
            "Token House".to_string(),
        )]));
        let mut a = d(&["th"], "vote");
        a.threshold_bps = Some(5100);
        let mut b = a.clone();
        assert!(changes(&a, &b, &names).is_empty());
        b.signers = Some(Signers { m: 5, n: 7 });
        b.vetoes = vec![Veto {
            body: "ch".into(),
            threshold_bps: Some(2000),
        }];
        assert_eq!(
            changes(&a, &b, &names),
            vec![
                (
                    "how",
                    "vote, threshold 51%".to_string(),
                    "vote, threshold 51%, 5 of 7 signers".to_string()
                ),
                ("vetoes", "none".to_string(), "ch (20%)".to_string()),
            ]
        );
        let c = d(&[], "suspended");
        assert_eq!(
            changes(&a, &c, &names)[0],
            ("decided by", "Token House".to_string(), "none".to_string())
        );
    }
}
