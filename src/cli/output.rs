//! What commands print: tables, status, history, files written.

use crate::error::{Error, Result, StorageError};
use comfy_table::{presets::NOTHING, Table};
use serde_json::Value;
use std::path::PathBuf;
use waymark_projections::Status;

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
pub(crate) fn print_history(rows: &[waymark_projections::HistoryRow], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    let mut t = table(&[
        "seq",
        "recorded_at",
        "actor",
        "type",
        "change",
        "reason",
        "evidence",
        "hash",
    ]);
    for r in rows {
        t.add_row(vec![
            r.seq.to_string(),
            r.recorded_at.clone(),
            format!("{} ({})", r.actor, r.actor_roles.join(",")),
            r.event_type.clone(),
            r.change.clone(),
            r.reason.clone().map(|s| clip(&s, 60)).unwrap_or_default(),
            r.evidence.join(" "),
            r.hash.to_hex()[..12].to_string(),
        ]);
    }
    println!("{t}");
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
