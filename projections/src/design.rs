//! Designs (SPEC section 13) as short readable text, shared by the decision diagram, the
//! review's "Decision authority" section and the diff: basis points as percentages, the
//! process with its threshold, quorum or signing rule, vetoes with their thresholds, and a
//! one-line summary of a whole design.

use waymark_events::{Design, Veto};

/// Basis points as a percentage: `5100` → `51%`, `3333` → `33.33%`, `2050` → `20.5%`.
/// A value outside 0..=10000 (refused by rule 10, but a status read from elsewhere may
/// hold one) is written as it is, in basis points.
pub(crate) fn percent(bps: i64) -> String {
    if !(0..=10_000).contains(&bps) {
        return format!("{bps} bps");
    }
    let (whole, frac) = (bps / 100, bps % 100);
    match frac {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

/// The process with what decides it: `vote, threshold 51%, quorum 30%`,
/// `multisig, 10 of 13 signers`, `suspended`.
pub(crate) fn process_text(d: &Design) -> String {
    let mut parts = vec![d.process.clone()];
    if let Some(t) = d.threshold_bps {
        parts.push(format!("threshold {}", percent(t)));
    }
    if let Some(q) = d.quorum_bps {
        parts.push(format!("quorum {}", percent(q)));
    }
    if let Some(s) = &d.signers {
        parts.push(format!("{} of {} signers", s.m, s.n));
    }
    parts.join(", ")
}

/// A veto: the body, and its threshold when set: `token-house (20%)`.
pub(crate) fn veto_text(v: &Veto) -> String {
    match v.threshold_bps {
        Some(t) => format!("{} ({})", v.body, percent(t)),
        None => v.body.clone(),
    }
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

/// A whole design on one line, deciders and process first:
/// `deciders token-house (vote, threshold 51%); vetoes citizens-house (20%);
/// proposers anyone; executors foundation` (`none` for an empty list).
pub(crate) fn summary(d: &Design) -> String {
    let vetoes: Vec<String> = d.vetoes.iter().map(veto_text).collect();
    format!(
        "deciders {} ({}); vetoes {}; proposers {}; executors {}",
        list(&d.deciders),
        process_text(d),
        list(&vetoes),
        list(&d.proposers),
        list(&d.executors)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_events::Signers;

    fn design() -> Design {
        Design {
            proposers: vec!["anyone".into()],
            deciders: vec!["citizens-house".into(), "token-house".into()],
            process: "vote".into(),
            threshold_bps: Some(5100),
            quorum_bps: Some(3000),
            signers: None,
            vetoes: vec![
                Veto {
                    body: "citizens-house".into(),
                    threshold_bps: Some(2000),
                },
                Veto {
                    body: "foundation".into(),
                    threshold_bps: None,
                },
            ],
            executors: vec![],
        }
    }

    #[test]
    fn basis_points_read_as_percentages() {
        assert_eq!(percent(5100), "51%");
        assert_eq!(percent(3333), "33.33%");
        assert_eq!(percent(2050), "20.5%");
        assert_eq!(percent(1), "0.01%");
        assert_eq!(percent(10_000), "100%");
        assert_eq!(percent(-5), "-5 bps");
        assert_eq!(percent(10_001), "10001 bps");
    }

    #[test]
    fn a_design_reads_deciders_process_vetoes_proposers_executors() {
        let d = design();
        assert_eq!(process_text(&d), "vote, threshold 51%, quorum 30%");
        assert_eq!(
            summary(&d),
            "deciders citizens-house, token-house (vote, threshold 51%, quorum 30%); \
             vetoes citizens-house (20%), foundation; proposers anyone; executors none"
        );
        let multisig = Design {
            process: "multisig".into(),
            threshold_bps: None,
            quorum_bps: None,
            signers: Some(Signers { m: 10, n: 13 }),
            ..d
        };
        assert_eq!(process_text(&multisig), "multisig, 10 of 13 signers");
    }
}
