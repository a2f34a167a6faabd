//! SPEC section 13's commands: `body …` and `decision …` (written once against
//! `Writer`, so the `--server` client shares them), and the decision map `decisions`.

use super::*;
use crate::error::{Error, Result, StorageError};
use crate::read::Since;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use waymark_core::{Rejection, Rule};
use waymark_projections::{DecisionStatus, Status};

/// A TOML file given to a section-13 command is at most this large (a statement is
/// at most 64 KiB, rule 8).
const MAX_TOML_BYTES: u64 = 1 << 20;

/// The text of a TOML file named by a flag.
fn read_toml(path: &Path, flag: &str) -> Result<String> {
    let io = |e: std::io::Error| {
        Error::Storage(StorageError::file(format!(
            "{flag} {}: {e}",
            path.display()
        )))
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_TOML_BYTES {
        return Err(Error::BadInput(format!(
            "{flag} {}: {size} bytes is more than a design or decision file may hold ({MAX_TOML_BYTES})",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(io)
}

/// `decision define ID --file`: the file's table, with `id` filled in from ID when
/// the file has none (a file that names another id is refused).
fn decision_from_file(id: &str, path: &Path) -> Result<DecisionDefined> {
    let origin = path.display().to_string();
    let text = read_toml(path, "--file")?;
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| Error::BadInput(format!("decision {origin}: {e}")))?;
    if table.contains_key("decisions") {
        return Err(Error::BadInput(format!(
            "decision {origin}: write the decision's keys at the top level of the file, not under [[decisions]]"
        )));
    }
    match table.get("id") {
        None => {
            table.insert("id".into(), toml::Value::String(id.into()));
        }
        Some(toml::Value::String(s)) if s == id => {}
        Some(other) => {
            return Err(Error::BadInput(format!(
                "decision {origin}: id = {other} but the command defines decision {id:?} (leave `id` out of the file, or make them equal)"
            )))
        }
    }
    let text =
        toml::to_string(&table).map_err(|e| Error::BadInput(format!("decision {origin}: {e}")))?;
    Ok(waymark_core::parse_decision(&text, &origin)?)
}

/// The error `decision transfer` gives for a decision that is not defined: the
/// recorder's (rule 11, `payload.decision`), since `from` cannot be filled in.
fn undefined_decision(id: &str) -> Error {
    Error::Rejected {
        line: None,
        rejection: Rejection {
            rule: Rule::Transfer,
            field: "payload.decision".into(),
            message: format!("decision {id:?} is not defined"),
        },
    }
}

/// `--signers M/N`.
fn parse_signers(s: &str) -> Result<Signers> {
    let bad = || Error::BadInput(format!("--signers {s:?}: expected M/N, e.g. 10/13"));
    let (m, n) = s.split_once('/').ok_or_else(bad)?;
    Ok(Signers {
        m: m.trim().parse().map_err(|_| bad())?,
        n: n.trim().parse().map_err(|_| bad())?,
    })
}

/// `--veto B[:BPS]`.
fn parse_veto(s: &str) -> Result<Veto> {
    match s.split_once(':') {
        None => Ok(Veto {
            body: s.into(),
            threshold_bps: None,
        }),
        Some((body, bps)) => Ok(Veto {
            body: body.into(),
            threshold_bps: Some(bps.parse().map_err(|_| {
                Error::BadInput(format!(
                    "--veto {s:?}: expected BODY or BODY:BPS, with BPS basis points (e.g. citizens-house:3000)"
                ))
            })?),
        }),
    }
}

/// The current design with `a`'s flags applied: a list flag replaces its list, a
/// flag not given keeps the current value, `--clear` drops an optional key.
fn apply_flags(mut d: Design, a: &TransferArgs) -> Result<Design> {
    let both = |flag: &str, key: &str| {
        Error::Usage(format!(
            "--{flag} and --clear {key} contradict each other: give one"
        ))
    };
    let clears = |k: ClearKey| a.clear.contains(&k);
    if let Some(v) = &a.deciders {
        d.deciders.clone_from(v);
    }
    if let Some(v) = &a.proposers {
        d.proposers.clone_from(v);
    }
    if let Some(v) = &a.executors {
        d.executors.clone_from(v);
    }
    if let Some(p) = &a.process {
        d.process.clone_from(p);
    }
    match (a.threshold, clears(ClearKey::Threshold)) {
        (Some(_), true) => return Err(both("threshold", "threshold")),
        (Some(t), false) => d.threshold_bps = Some(t),
        (None, true) => d.threshold_bps = None,
        (None, false) => {}
    }
    match (a.quorum, clears(ClearKey::Quorum)) {
        (Some(_), true) => return Err(both("quorum", "quorum")),
        (Some(q), false) => d.quorum_bps = Some(q),
        (None, true) => d.quorum_bps = None,
        (None, false) => {}
    }
    match (&a.signers, clears(ClearKey::Signers)) {
        (Some(_), true) => return Err(both("signers", "signers")),
        (Some(s), false) => d.signers = Some(parse_signers(s)?),
        (None, true) => d.signers = None,
        (None, false) => {}
    }
    if let Some(v) = &a.vetoes {
        d.vetoes = v.iter().map(|s| parse_veto(s)).collect::<Result<_>>()?;
    }
    Ok(d)
}

/// The canonical form of a design about to be signed (SPEC section 13): lists
/// sorted in byte order without repeats, vetoes sorted by body. The same body given
/// twice as a veto with different thresholds is refused rather than guessed at.
fn canonical(d: Design, what: &str) -> Result<Design> {
    for (i, v) in d.vetoes.iter().enumerate() {
        if let Some(w) = d.vetoes[..i]
            .iter()
            .find(|w| w.body == v.body && w.threshold_bps != v.threshold_bps)
        {
            let t = |x: Option<i64>| x.map_or_else(|| "none".to_string(), |b| b.to_string());
            return Err(Error::BadInput(format!(
                "{what}: the veto of {} is given twice with different thresholds ({} and {})",
                v.body,
                t(w.threshold_bps),
                t(v.threshold_bps)
            )));
        }
    }
    Ok(d.canonicalized())
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids.dedup();
    ids
}

/// `body define|revise|retire|list`.
pub(super) async fn body<W: Writer + ?Sized>(w: &W, c: &BodyCmd) -> Result<i32> {
    let payload = match c {
        BodyCmd::Define {
            id,
            title,
            kind,
            description,
            charter,
        } => Payload::BodyDefined(BodyDefined {
            id: id.clone(),
            title: title.clone(),
            kind: kind.clone(),
            description: description.clone(),
            charter: charter.clone(),
        }),
        BodyCmd::Revise {
            id,
            title,
            description,
            charter,
            reason,
        } => Payload::BodyRevised(BodyRevised {
            id: id.clone(),
            reason: reason.clone(),
            title: title.clone(),
            description: description.clone(),
            charter: charter.clone(),
        }),
        BodyCmd::Retire { id, reason } => Payload::BodyRetired(BodyRetired {
            id: id.clone(),
            reason: reason.clone(),
        }),
        BodyCmd::List => return body_list(w).await,
    };
    w.sign_and_record(payload).await?;
    Ok(0)
}

async fn body_list<W: Writer + ?Sized>(w: &W) -> Result<i32> {
    let ledger = w.ledger().await?;
    let status = w.status(&ledger, None).await?;
    let bodies = status.bodies.unwrap_or_default();
    if w.cli().json {
        println!(
            "{}",
            serde_json::to_string_pretty(&bodies).unwrap_or_default()
        );
        return Ok(0);
    }
    if bodies.is_empty() {
        println!("ledger {ledger} has no bodies (define one with `waymark body define`)");
        return Ok(0);
    }
    let mut t = table(&["body", "kind", "decides", "vetoes", "state", "title"]);
    for b in &bodies {
        t.add_row(vec![
            b.id.clone(),
            b.kind.clone(),
            b.decides.join(", "),
            b.vetoes.join(", "),
            if b.retired { "retired" } else { "active" }.into(),
            clip(&b.title, 48),
        ]);
    }
    println!("{t}");
    Ok(0)
}

/// `decision define|revise|transfer|hypothesis|conclude`.
pub(super) async fn decision<W: Writer + ?Sized>(w: &W, c: &DecisionCmd) -> Result<i32> {
    let payload = match c {
        DecisionCmd::Define { id, file } => {
            Payload::DecisionDefined(Box::new(decision_from_file(id, file)?))
        }
        DecisionCmd::Revise {
            id,
            title,
            description,
            profile,
            target,
            milestones,
            reason,
        } => {
            let profile = profile
                .as_deref()
                .map(|p| {
                    let text = read_toml(p, "--profile")?;
                    Ok::<_, Error>(waymark_core::parse_profile(
                        &text,
                        &p.display().to_string(),
                    )?)
                })
                .transpose()?;
            let target = target
                .as_deref()
                .map(|p| {
                    let text = read_toml(p, "--target")?;
                    Ok::<_, Error>(waymark_core::parse_design(&text, &p.display().to_string())?)
                })
                .transpose()?;
            Payload::DecisionRevised(Box::new(DecisionRevised {
                id: id.clone(),
                reason: reason.clone(),
                title: title.clone(),
                description: description.clone(),
                profile,
                target,
                milestones: milestones.clone().map(sorted),
            }))
        }
        DecisionCmd::Transfer(a) => return transfer(w, a).await,
        DecisionCmd::Hypothesis {
            id,
            hid,
            statement,
            measure,
        } => Payload::HypothesisStated(HypothesisStated {
            decision: id.clone(),
            id: hid.clone(),
            statement: statement.clone(),
            measure: measure.clone(),
        }),
        DecisionCmd::Conclude {
            id,
            hid,
            outcome,
            note,
            evidence,
        } => Payload::HypothesisConcluded(HypothesisConcluded {
            decision: id.clone(),
            id: hid.clone(),
            outcome: outcome.clone(),
            note: note.clone(),
            evidence: evidence.clone(),
        }),
    };
    w.sign_and_record(payload).await?;
    Ok(0)
}

/// `decision transfer`: `from` is the current design in the rule state; `to` is the
/// design of `--to FILE`, or the current one with the flags applied; both ways
/// canonical before signing. `effective_on` defaults to the UTC date of `issued_at`.
async fn transfer<W: Writer + ?Sized>(w: &W, a: &TransferArgs) -> Result<i32> {
    let ledger = w.ledger().await?;
    let st = w.state(&ledger).await?;
    let from = st
        .decisions
        .get(&a.id)
        .map(|d| d.current.clone())
        .ok_or_else(|| undefined_decision(&a.id))?;
    let (to, what) = match &a.to {
        Some(path) => {
            let text = read_toml(path, "--to")?;
            let d = waymark_core::parse_design(&text, &path.display().to_string())?;
            (d, format!("--to {}", path.display()))
        }
        None => (apply_flags(from.clone(), a)?, "--veto".to_string()),
    };
    let to = canonical(to, &what)?;
    let issued_at = now();
    let effective_on = a
        .effective_on
        .clone()
        .unwrap_or_else(|| issued_at[..10].to_string());
    let payload = Payload::AuthorityTransferred(Box::new(AuthorityTransferred {
        decision: a.id.clone(),
        from,
        to,
        reason: a.reason.clone(),
        evidence: a.evidence.clone(),
        effective_on,
    }));
    w.sign_and_record_at(payload, issued_at).await?;
    Ok(0)
}

/// Basis points as a percentage: 7600 → `76%`, 6667 → `66.67%`.
fn percent(bps: i64) -> String {
    let (whole, frac) = (bps / 100, (bps % 100).abs());
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

/// A design's process and thresholds: `vote 76%, quorum 30%`, `multisig 10 of 13`,
/// `approval, quorum 30%`.
pub(super) fn process_words(d: &Design) -> String {
    let mut out = d.process.clone();
    let mut sep = " ";
    if let Some(t) = d.threshold_bps {
        out += &format!("{sep}{}", percent(t));
        sep = ", ";
    }
    if let Some(s) = &d.signers {
        out += &format!("{sep}{} of {}", s.m, s.n);
    }
    if let Some(q) = d.quorum_bps {
        out += &format!(", quorum {}", percent(q));
    }
    out
}

/// A design's vetoes: `citizens-house 30%, security-council`.
fn veto_words(d: &Design) -> String {
    d.vetoes
        .iter()
        .map(|v| match v.threshold_bps {
            Some(t) => format!("{} {}", v.body, percent(t)),
            None => v.body.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn target_words(d: &DecisionStatus) -> &'static str {
    match (&d.target, d.at_target) {
        (None, _) => "no target",
        (Some(_), true) => "yes",
        (Some(_), false) => "no",
    }
}

fn since_words(s: Option<&Since>) -> String {
    match s {
        Some(s) if s.by == "AuthorityTransferred" => {
            format!("seq {}, {} (transfer)", s.seq, s.on)
        }
        Some(s) => format!("seq {}, {} (defined)", s.seq, s.on),
        None => String::new(),
    }
}

/// The decision map as `decisions` prints it: a header, one row per module, the
/// counts.
pub(super) fn render_decisions(status: &Status, since: &BTreeMap<String, Since>) -> String {
    let as_of = status
        .as_of
        .as_ref()
        .map(|a| {
            format!(
                "seq {} ({}) {}",
                a.seq,
                a.recorded_at,
                &a.hash.to_hex()[..12]
            )
        })
        .unwrap_or_default();
    let mut out = format!("ledger {}  decision map as of {as_of}\n", status.ledger);
    let decisions = status.decisions.as_deref().unwrap_or_default();
    if decisions.is_empty() {
        out += "no decision modules (define one with `waymark decision define`, or in a framework's [[decisions]])\n";
        return out;
    }
    let mut t = table(&[
        "module",
        "decided by",
        "process",
        "vetoes",
        "at target",
        "since",
    ]);
    for d in decisions {
        let deciders = if d.current.deciders.is_empty() {
            "nobody".to_string()
        } else {
            d.current.deciders.join(", ")
        };
        t.add_row(vec![
            d.id.clone(),
            deciders,
            process_words(&d.current),
            veto_words(&d.current),
            target_words(d).into(),
            since_words(since.get(&d.id)),
        ]);
    }
    out += &format!("\n{t}\n\n");
    if let Some(a) = &status.authority {
        let with_target = decisions.iter().filter(|d| d.target.is_some()).count();
        out += &format!(
            "{} modules; at their target design: {} (of {} with a target); decided by a body of kind foundation: {}\n",
            a.decisions, a.at_target, with_target, a.foundation_decides
        );
    }
    out += "since: the last AuthorityTransferred (its effective_on) or, where authority never moved, the DecisionDefined (the day it was recorded)\n";
    out
}

/// `decisions [--as-of SPEC]`.
pub(super) async fn decisions<W: Writer + ?Sized>(w: &W, as_of: Option<&str>) -> Result<i32> {
    let ledger = w.ledger().await?;
    let status = w.status(&ledger, as_of).await?;
    let upto = status.as_of.as_ref().map_or(0, |a| a.seq);
    let since = w.authority_since(&ledger, upto).await?;
    if w.cli().json {
        let zero = waymark_projections::Authority {
            decisions: 0,
            at_target: 0,
            foundation_decides: 0,
        };
        let v = json!({
            "ledger": status.ledger,
            "as_of": status.as_of,
            "bodies": status.bodies.clone().unwrap_or_default(),
            "decisions": status.decisions.clone().unwrap_or_default(),
            "authority": status.authority.unwrap_or(zero),
            "since": since,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", render_decisions(&status, &since));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_read_as_percentages() {
        assert_eq!(percent(7600), "76%");
        assert_eq!(percent(6667), "66.67%");
        assert_eq!(percent(3050), "30.5%");
        assert_eq!(percent(5), "0.05%");
        assert_eq!(percent(10000), "100%");
    }

    #[test]
    fn vetoes_and_signers_parse_or_say_what_they_expect() {
        assert_eq!(
            parse_veto("citizens-house:3000").unwrap(),
            Veto {
                body: "citizens-house".into(),
                threshold_bps: Some(3000)
            }
        );
        assert_eq!(parse_veto("sc").unwrap().threshold_bps, None);
        assert!(parse_veto("sc:x")
            .unwrap_err()
            .to_string()
            .contains("BODY:BPS"));
        assert_eq!(parse_signers("10/13").unwrap(), Signers { m: 10, n: 13 });
        assert!(parse_signers("10-13")
            .unwrap_err()
            .to_string()
            .contains("M/N"));
    }
}
