//! What commands print: tables, status, history, files written.

use crate::error::{Error, Result, StorageError};
use crate::read::IdKind;
use comfy_table::{presets::NOTHING, Table};
use serde_json::Value;
use std::path::PathBuf;
use waymark_core::LedgerState;
use waymark_projections::{HistoryRow, Status};

/// The count of an export's lines and, for a message, its head: " (head seq N HASH)".
pub(super) fn export_head(bytes: &[u8]) -> (usize, String) {
    let n = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let head = bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .and_then(|l| serde_json::from_slice::<Value>(l).ok())
        .map(|v| {
            format!(
                " (head seq {} {})",
                v["seq"],
                v["hash"].as_str().unwrap_or("")
            )
        })
        .unwrap_or_default();
    (n, head)
}

pub(crate) fn write_out(out: Option<&PathBuf>, bytes: &[u8]) -> Result<()> {
    match out {
        // Replaced atomically; a symlink or non-regular file at P is refused (issue 12).
        Some(p) => crate::files::safe::write_file(p, bytes),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| Error::Storage(StorageError::file(format!("stdout: {e}"))))
        }
    }
}

pub(crate) use waymark_core::print_report;

/// The status as `status` prints it: tables, or JSON with `--json`.
pub(crate) fn print_status(status: &Status, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(status).unwrap_or_default()
        );
    } else {
        print!("{}", render_status(status));
    }
}

/// The audit trail as `history` prints it: a table, or JSON with `--json`.
pub(crate) fn print_history(rows: &[HistoryRow], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    let rows: Vec<(&HistoryRow, Option<&[IdKind]>)> = rows.iter().map(|r| (r, None)).collect();
    println!("{}", history_table(&rows));
}

/// The audit trail of a decision or body id (SPEC section 13's `history ID`): each
/// row with the kinds of id it matched (`matched`: milestone, decision, body).
pub(crate) fn print_history_matched(rows: &[(HistoryRow, Vec<IdKind>)], json: bool) {
    if json {
        let out: Vec<Value> = rows
            .iter()
            .map(|(r, kinds)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["matched"] = serde_json::json!(kinds);
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return;
    }
    let rows: Vec<(&HistoryRow, Option<&[IdKind]>)> =
        rows.iter().map(|(r, k)| (r, Some(k.as_slice()))).collect();
    println!("{}", history_table(&rows));
}

/// The history table; a `matched` column after the type when the rows carry kinds.
fn history_table(rows: &[(&HistoryRow, Option<&[IdKind]>)]) -> Table {
    let matched = rows.iter().any(|(_, k)| k.is_some());
    let mut header = vec!["seq", "recorded_at", "actor", "type"];
    if matched {
        header.push("matched");
    }
    header.extend(["change", "reason", "evidence", "hash"]);
    let mut t = table(&header);
    for (r, kinds) in rows {
        let mut cells = vec![
            r.seq.to_string(),
            r.recorded_at.clone(),
            format!("{} ({})", r.actor, r.actor_roles.join(",")),
            r.event_type.clone(),
        ];
        if let Some(kinds) = kinds {
            let k: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            cells.push(k.join(","));
        }
        cells.extend([
            r.change.clone(),
            r.reason.clone().map(|s| clip(&s, 60)).unwrap_or_default(),
            r.evidence.join(" "),
            r.hash.to_hex()[..12].to_string(),
        ]);
        t.add_row(cells);
    }
    t
}

/// The namespaces `id` is defined in (SPEC section 13: milestones, decisions and
/// bodies are three); an id that names nothing is refused, with the closest id.
pub(crate) fn id_kinds(state: &LedgerState, id: &str, ledger: &str) -> Result<Vec<IdKind>> {
    let kinds: Vec<IdKind> = [
        (IdKind::Milestone, state.milestones.contains_key(id)),
        (IdKind::Decision, state.decisions.contains_key(id)),
        (IdKind::Body, state.bodies.contains_key(id)),
    ]
    .into_iter()
    .filter_map(|(k, named)| named.then_some(k))
    .collect();
    if kinds.is_empty() {
        let known = state
            .milestones
            .keys()
            .chain(state.decisions.keys())
            .chain(state.bodies.keys())
            .map(String::as_str);
        super::unknown(id, "milestone, decision or body", ledger, known)?;
    }
    Ok(kinds)
}

pub(super) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header(header.to_vec());
    t
}

pub(super) fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        one_line.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The status as aligned tables: layers with per-phase progress, then milestones.
pub(crate) fn render_status(s: &Status) -> String {
    let mut out = String::new();
    let as_of = s
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
    out += &format!("ledger {}  as of {as_of}\n", s.ledger);
    out += &format!(
        "overall phase: {}\n",
        s.overall_phase.clone().unwrap_or_default()
    );
    if let Some(se) = &s.season {
        let end = se
            .ends_on
            .clone()
            .map(|e| format!(" – {e}"))
            .unwrap_or_default();
        out += &format!(
            "season {} ({}): {}{end}; focus: {}\n",
            se.number,
            se.state,
            se.starts_on,
            se.focus.join(", ")
        );
    }
    let mut t = table(&["layer", "phase", "progress (achieved/total per phase)"]);
    for l in &s.layers {
        let p: Vec<String> = l
            .progress
            .iter()
            .map(|p| format!("{}: {}/{}", p.phase, p.achieved, p.total))
            .collect();
        t.add_row(vec![l.title.clone(), l.phase.clone(), p.join("  ")]);
    }
    out += &format!("\n{t}\n\n");
    let mut t = table(&[
        "milestone",
        "layer",
        "phase",
        "status",
        "flags",
        "blocked by",
        "title",
    ]);
    for m in &s.milestones {
        let mut flags = Vec::new();
        if m.focus {
            flags.push("focus");
        }
        if m.regressed {
            flags.push("regressed");
        }
        if m.retired {
            flags.push("retired");
        }
        t.add_row(vec![
            m.id.clone(),
            m.layer.clone(),
            m.phase.clone(),
            m.status.clone(),
            flags.join(","),
            m.blocked_by.join(", "),
            clip(&m.title, 56),
        ]);
    }
    out += &format!("{t}\n");
    out
}
