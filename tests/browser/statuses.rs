//! Shared by tests/server.rs and tests/browser.rs: the statuses a status projection
//! gives each milestone, to compare with what the dashboard's board shows.

use serde_json::Value;
use std::collections::BTreeMap;

/// `{milestone id: status}` of a status projection (`waymark status --json`).
pub fn statuses(status: &Value) -> BTreeMap<String, String> {
    status["milestones"]
        .as_array()
        .expect("a status projection has milestones")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_string(),
                m["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
