//! Waymark read models: pure folds from recorded events. No I/O, no database.
//!
//! # Layout
//! - `status` — the status projection of SPEC section 9, folded event by event.
//! - `history` — the audit trail, one row per event, and its filters.
#![forbid(unsafe_code)]

mod history;
mod status;

pub use history::{HistoryFilter, HistoryFold, HistoryRow};
pub use status::{
    AsOf, LastChange, LayerStatus, MilestoneStatus, PhaseProgress, SeasonStatus, Status, StatusFold,
};
