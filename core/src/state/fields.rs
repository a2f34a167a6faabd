//! Checks of single values, shared by the rules: non-empty text, roles, keys, dates,
//! SPEC section 2's grammar, and the size an event's leaf will have.

use super::MAX_EVIDENCE;
use crate::rules::{is_evidence_url, reject, Rejection, Rule};
use std::collections::BTreeSet;
use waymark_events::{decode_public_key, is_date, is_timestamp, Payload, Role, Statement};

pub(super) fn non_empty(s: &str, rule: Rule, field: &str) -> Result<(), Rejection> {
    if s.trim().is_empty() {
        return reject(rule, field, "must not be empty");
    }
    Ok(())
}

/// An `http://` or `https://` URL (`charter`, `source`, one evidence link).
pub(super) fn check_url(url: &str, rule: Rule, field: &str) -> Result<(), Rejection> {
    if !is_evidence_url(url) {
        return reject(
            rule,
            field,
            format!("{url:?} is not an http:// or https:// URL"),
        );
    }
    Ok(())
}

/// At most [`MAX_EVIDENCE`] links (rule 8), each an http(s) URL (`rule`), at
/// `payload.evidence`.
pub(super) fn check_evidence(evidence: &[String], rule: Rule) -> Result<(), Rejection> {
    if evidence.len() > MAX_EVIDENCE {
        return reject(
            Rule::Limits,
            "payload.evidence",
            format!("{} links exceed {MAX_EVIDENCE}", evidence.len()),
        );
    }
    for (i, e) in evidence.iter().enumerate() {
        check_url(e, rule, &format!("payload.evidence[{i}]"))?;
    }
    Ok(())
}

/// A list of ids in canonical form: sorted in byte order, no repeats (SPEC section 13:
/// `principles`, `milestones` and a design's lists). Names the first item out of place.
pub(super) fn check_sorted_ids<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    rule: Rule,
    field: &str,
    item: impl Fn(usize) -> String,
) -> Result<(), Rejection> {
    let mut prev: Option<&str> = None;
    for (i, id) in ids.into_iter().enumerate() {
        if let Some(p) = prev {
            if p == id {
                return reject(rule, item(i), format!("{id:?} is listed twice in {field}"));
            }
            if p > id {
                return reject(
                    rule,
                    item(i),
                    format!("{field} must be sorted in byte order: {id:?} comes before {p:?}"),
                );
            }
        }
        prev = Some(id);
    }
    Ok(())
}

pub(super) fn check_roles(roles: &[String], field: &str) -> Result<(), Rejection> {
    if roles.is_empty() {
        return reject(Rule::Signer, field, "at least one role is required");
    }
    let mut seen = BTreeSet::new();
    for (i, r) in roles.iter().enumerate() {
        if r.parse::<Role>().is_err() {
            return reject(
                Rule::Signer,
                format!("{field}[{i}]"),
                format!("unknown role {r:?} (roles: steward, reviewer, reporter)"),
            );
        }
        if !seen.insert(r) {
            return reject(
                Rule::Signer,
                format!("{field}[{i}]"),
                format!("role {r:?} listed twice"),
            );
        }
    }
    Ok(())
}

pub(super) fn check_key(key: &str, field: &str) -> Result<(), Rejection> {
    decode_public_key(key)
        .map(|_| ())
        .or_else(|e| reject(Rule::Format, field, e.to_string()))
}

pub(super) fn check_date(d: &str, field: &str) -> Result<(), Rejection> {
    if !is_date(d) {
        return reject(
            Rule::Format,
            field,
            format!("{d:?} is not a real date YYYY-MM-DD with a year from 0001 to 9999"),
        );
    }
    Ok(())
}

/// SPEC section 2's grammar of a statement's values, as far as the typed statement
/// can break it: no U+0000 in any string, `issued_at` a timestamp, every date a real
/// date. A statement that breaks it is refused as a format error (rule 0); an event
/// that breaks it is `malformed` to every verifier, not a `rule_violation`.
pub(super) fn check_grammar(st: &Statement, nul: Option<String>) -> Result<(), Rejection> {
    if let Some(field) = nul {
        return reject(
            Rule::Format,
            field,
            "U+0000 is not allowed in a string (SPEC section 2)",
        );
    }
    if !is_timestamp(&st.issued_at) {
        return reject(
            Rule::Format,
            "issued_at",
            format!(
                "{:?} is not a real UTC time YYYY-MM-DDTHH:MM:SS.ffffffZ (years 0001 to 9999, \
                 no leap second)",
                st.issued_at
            ),
        );
    }
    match &st.payload {
        Payload::MilestoneStatusChanged(p) => match &p.effective_on {
            Some(d) => check_date(d, "payload.effective_on"),
            None => Ok(()),
        },
        Payload::SeasonOpened(p) => check_date(&p.starts_on, "payload.starts_on"),
        Payload::SeasonReEvaluated(p) => check_date(&p.ends_on, "payload.ends_on"),
        Payload::AuthorityTransferred(p) => check_date(&p.effective_on, "payload.effective_on"),
        _ => Ok(()),
    }
}

/// The length of an event's leaf bytes, `JCS(event)`, from its statement's JCS length:
/// the event adds the members `"prev"` (64 hex digits), `"recorded_at"` (27
/// characters), `"seq"` and `"sig"` to the statement's object, none of which JCS
/// escapes.
pub(super) fn leaf_len(statement_jcs: usize, seq: u64, sig: &str) -> usize {
    let member = |key: &str, value: usize| 1 + key.len() + 2 + 1 + value;
    statement_jcs
        + member("prev", 64 + 2)
        + member("recorded_at", 27 + 2)
        + member("seq", seq.checked_ilog10().map_or(1, |d| d as usize + 1))
        + member("sig", sig.len() + 2)
}
