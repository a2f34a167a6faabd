//! Section 13 in `review N` ("Decision authority") and in `diff` (designs field by field),
//! over the governance ledger of `tests/common`: present exactly when the season or the
//! two statuses involve bodies and decisions, absent (with the old bytes) otherwise.

mod common;

use common::*;
use serde_json::Value;
use waymark_events::{BodyRevised, Payload};
use waymark_projections::{
    diff, review, Authority, Change, DesignDiff, IdsChange, StatusDiff, TargetChange,
};

fn lines(d: &StatusDiff) -> Vec<String> {
    d.to_text().lines().skip(1).map(String::from).collect()
}

#[test]
fn the_review_of_season_8_has_its_transfers_hypotheses_and_changes() {
    let l = governance_ledger();
    let r = governance_review(&l);
    let a = r
        .decision_authority
        .as_ref()
        .expect("season 8 has section 13 events");
    let counts = Authority {
        decisions: 3,
        at_target: 1,
        foundation_decides: 1,
    };
    assert_eq!(
        a.authority,
        Change {
            from: Some(counts),
            to: Some(counts)
        }
    );
    let t: Vec<(&str, u64, &str)> = a
        .transfers
        .iter()
        .map(|t| (t.decision.as_str(), t.seq, t.title.as_str()))
        .collect();
    assert_eq!(
        t,
        [
            ("upgrades", 30, "Protocol upgrades"),
            ("guardian", 32, "Emergency actions <Guardian> & \"pause\""),
            ("fund", 36, "Governance Fund (grants)"),
        ]
    );
    assert_eq!(
        (&a.transfers[0].from, &a.transfers[0].to),
        (&upgrades_2024(), &upgrades_2025())
    );
    assert_eq!(a.transfers[0].actor, "rev");
    assert_eq!(a.transfers[0].effective_on, "2025-07-01");
    assert_eq!(a.hypotheses_stated.len(), 1);
    assert_eq!(
        (
            a.hypotheses_stated[0].id.as_str(),
            a.hypotheses_stated[0].seq
        ),
        ("h-turnout", 31)
    );
    assert_eq!(a.hypotheses_concluded[0].outcome, "inconclusive");
    let changes: Vec<(&str, &str, &str, u64)> = a
        .changes
        .iter()
        .map(|c| (c.subject.as_str(), c.change.as_str(), c.id.as_str(), c.seq))
        .collect();
    assert_eq!(
        changes,
        [
            ("decision", "revised", "fund", 34),
            ("decision", "revised", "guardian", 35),
            ("body", "retired", "cfc", 37),
        ]
    );
    assert_eq!(a.changes[1].target, Some(guardian_2025()));

    let md = r.to_markdown();
    let at = |h: &str| md.find(h).unwrap_or_else(|| panic!("no {h}"));
    assert!(at("## Changes to the model") < at("## Decision authority"));
    assert!(at("## Decision authority") < at("## Assessments"));
    // The transfer: what changed (Markdown-escaped), then both designs.
    assert!(md.contains(concat!(
        "- **upgrades** Protocol upgrades, effective 2025-07-01 (seq 30, by Metrics Council (rev))\n",
        r"  - Changed: deciders \[fnd\] → \[fnd, th\] (+th); process discretion → vote; ",
        r"threshold (none) → 51%; vetoes \[th\] → \[ch (30%)\] (+ch (30%), -th); ",
        r"executors \[fnd\] → \[sc\] (+sc, -fnd)",
        "\n  - From: deciders fnd (discretion); vetoes th; proposers fnd; executors fnd\n",
        "  - To: deciders fnd, th (vote, threshold 51%); vetoes ch (30%); proposers fnd; executors sc\n",
    )));
    assert!(md.contains("| upgrades | h-turnout | inconclusive | only two upgrades \\<so far\\> |"));
    assert!(md.contains("- Retired body **cfc**, seq 37 by Optimism Foundation (foundation): the Commission ended\n"));
    let html = r.to_html();
    assert_balanced(&html);
    assert!(html.contains("<h2 id=\"decisions-h\">Decision authority</h2>"));
    assert!(html.contains(
        "<li><strong>guardian</strong> Emergency actions &lt;Guardian&gt; &amp; &quot;pause&quot;, effective"
    ));
    assert!(html.contains("<dt>From</dt><dd>deciders sc (multisig, 10 of 13 signers); vetoes none; proposers none; executors fnd, sc</dd>"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["decision_authority"]["transfers"][1]["to"]["signers"]["m"],
        8
    );
}

#[test]
fn a_season_without_section_13_events_keeps_its_review_bytes() {
    let l = governance_ledger();
    let (events, rows) = l.range(10, 20);
    let r = review(7, l.at(10), l.at(20), events, rows).unwrap();
    assert_eq!(r, season_review(&ledger()));
    assert!(r.decision_authority.is_none());
    let json = serde_json::to_value(&r).unwrap();
    assert!(json.get("decision_authority").is_none());
    assert!(!r.to_markdown().contains("Decision authority"));
    assert!(!r.to_html().contains("Decision authority"));
}

#[test]
fn a_season_that_defines_the_first_body_starts_from_no_counts() {
    let mut l = governance_ledger();
    l.push(
        "foundation",
        Payload::SeasonOpened(waymark_events::SeasonOpened {
            season: 9,
            starts_on: "2026-01-01".into(),
            intent: "i".into(),
            focus: vec![],
        }),
    );
    l.push(
        "foundation",
        Payload::BodyRevised(BodyRevised {
            id: "th".into(),
            reason: "renamed".into(),
            title: Some("The Token House".into()),
            ..Default::default()
        }),
    );
    let n = l.events.len();
    let (events, rows) = l.range(n - 1, n);
    let r = review(9, l.at(n - 1), l.at(n), events, rows).unwrap();
    let a = r.decision_authority.unwrap();
    assert!(a.transfers.is_empty() && a.hypotheses_stated.is_empty());
    assert_eq!(a.changes.len(), 1);
    assert_eq!(a.changes[0].fields, ["title"]);
    // A ledger whose first body comes in the season: no counts at its start.
    let plain = ledger();
    let mut l = common::Ledger::new();
    for (e, _) in &plain.events[..9] {
        l.push(&e.statement.actor, e.statement.payload.clone());
    }
    l.push(
        "foundation",
        Payload::SeasonOpened(waymark_events::SeasonOpened {
            season: 1,
            starts_on: "2025-01-01".into(),
            intent: "i".into(),
            focus: vec![],
        }),
    );
    l.push("foundation", body("fnd", "Foundation", "foundation"));
    let (events, rows) = l.range(10, 11);
    let r = review(1, l.at(10), l.at(11), events, rows).unwrap();
    let a = r.decision_authority.as_ref().unwrap();
    assert_eq!(a.authority.from, None);
    assert_eq!(a.authority.to.map(|a| a.decisions), Some(0));
    let md = r.to_markdown();
    assert!(md.contains("- **Decision modules:** — → 0\n"), "{md}");
    assert!(md.contains("- Defined body **fnd** Foundation (foundation), seq 11 by"));
    assert!(md.contains("### Authority transfers\n\nNone.\n"));
}

#[test]
fn diff_lists_design_changes_field_by_field() {
    let l = governance_ledger();
    let d = diff(l.at(28), l.at(38));
    assert_eq!(
        lines(&d),
        [
            "season: 7 (closed) → 8 (closed)",
            "body cfc: retired no → yes",
            "decision fund: title \"Governance Fund\" → \"Governance Fund (grants)\"",
            "decision fund: vetoes [ch (20%), th (20%)] → [ch (20%), th (25%)] (th 20% → 25%)",
            "decision fund: target lost",
            "decision fund: milestones [] → [S-1] (+S-1)",
            "decision guardian: signers 10 of 13 → 8 of 12",
            "decision guardian: vetoes [] → [th] (+th)",
            "decision guardian: executors [fnd, sc] → [sc] (-fnd)",
            "decision guardian: target set: deciders sc (multisig, 8 of 12 signers); vetoes th; proposers none; executors sc",
            "decision guardian: target reached",
            "decision upgrades: deciders [fnd] → [fnd, th] (+th)",
            "decision upgrades: process discretion → vote",
            "decision upgrades: threshold (none) → 51%",
            "decision upgrades: vetoes [th] → [ch (30%)] (+ch (30%), -th)",
            "decision upgrades: executors [fnd] → [sc] (+sc, -fnd)",
            "decision upgrades: hypothesis h-turnout absent → inconclusive",
        ]
    );
    let decisions = d.decisions.as_ref().unwrap();
    assert!(decisions.added.is_empty() && decisions.removed.is_empty());
    let upgrades = &decisions.changed[2];
    assert_eq!(upgrades.id, "upgrades");
    let current = upgrades.current.as_ref().unwrap();
    assert_eq!(
        current.deciders,
        Some(IdsChange {
            from: vec!["fnd".into()],
            to: vec!["fnd".into(), "th".into()],
            added: vec!["th".into()],
            removed: vec![],
        })
    );
    assert!(current.proposers.is_none() && current.signers.is_none());
    assert!(upgrades.at_target.is_none() && upgrades.foundation_decides.is_none());
    assert!(matches!(
        decisions.changed[1].target,
        Some(TargetChange::Set { .. })
    ));
    assert!(
        d.authority.is_none(),
        "the counts are the same at both ends"
    );
    let back: StatusDiff = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back, d);
}

#[test]
fn diff_says_when_the_foundation_stops_deciding_and_a_target_is_reached() {
    let mut l = governance_ledger();
    l.push(
        "rev",
        transfer(
            "upgrades",
            upgrades_2025(),
            upgrades_target(),
            "r",
            &["https://example.org/x"],
        ),
    );
    let d = diff(l.at(38), l.at(39));
    assert_eq!(
        lines(&d),
        [
            "decision upgrades: deciders [fnd, th] → [th] (-fnd)",
            "decision upgrades: threshold 51% → 76%",
            "decision upgrades: quorum (none) → 30%",
            "decision upgrades: vetoes [ch (30%)] → [ch (20%)] (ch 30% → 20%)",
            "decision upgrades: target reached",
            "decision upgrades: the Foundation decides yes → no",
            "authority: 3 modules, 1 at their target, 1 decided by the Foundation → \
             3 modules, 2 at their target, 0 decided by the Foundation",
        ]
    );
    assert_eq!(
        DesignDiff::of(&upgrades_target(), &upgrades_target()),
        None,
        "equal designs have no diff"
    );
}

#[test]
fn diff_of_definitions_lists_the_bodies_and_modules_added() {
    let l = governance_ledger();
    let d = diff(l.at(20), l.at(28));
    let text = lines(&d);
    assert_eq!(text.len(), 9, "{text:#?}");
    assert_eq!(
        text[0],
        "body cfc: added (commission): Collective Feedback Commission"
    );
    assert_eq!(
        text[5],
        "decision fund: added in social: Governance Fund; deciders th (optimistic); \
         vetoes ch (20%), th (20%); proposers th; executors fnd; at its target design"
    );
    assert_eq!(
        text[8],
        "authority: (none) → 3 modules, 1 at their target, 1 decided by the Foundation"
    );
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["authority"]["from"], Value::Null);
    assert_eq!(json["decisions"]["added"][2]["id"], "upgrades");
}

#[test]
fn a_v1_diff_has_none_of_the_section_13_keys() {
    let l = governance_ledger();
    for (a, b) in [(9, 20), (20, 20), (38, 38)] {
        let d = diff(l.at(a), l.at(b));
        let json = serde_json::to_value(&d).unwrap();
        for key in ["bodies", "decisions", "authority"] {
            assert!(json.get(key).is_none(), "{key} in diff {a} → {b}");
        }
    }
    assert!(diff(l.at(38), l.at(38)).is_empty());
    // Only a body changed: the diff is not empty, and says so.
    let d = diff(l.at(36), l.at(37));
    assert!(!d.is_empty());
    assert_eq!(lines(&d), ["body cfc: retired no → yes"]);
}
