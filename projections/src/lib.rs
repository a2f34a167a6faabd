//! Waymark read models: pure folds from recorded events. No I/O, no database.
//!
//! # Layout
//! - `status` — the status projection of SPEC section 9 (with section 13's additions),
//!   folded event by event.
//! - `history` — the audit trail, one row per event, and its filters.
//! - `diff` — what changed between two statuses.
//! - `review` — the end-of-Season review, as data, Markdown and HTML.
//! - `graph` — the dependency graph, and section 13's decision diagram, as DOT, Mermaid
//!   and standalone SVG.
//! - `design` — section 13's designs as short readable text (shared by graph, review, diff).
//! - `html` — the one HTML/XML escaper, and how text enters a maud template (`Text`).
#![forbid(unsafe_code)]
// No unwrap/expect on input paths: failures are typed errors (tests may unwrap).
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod design;
mod diff;
mod graph;
mod history;
pub mod html;
mod review;
mod status;

pub use diff::{
    diff, BodiesDiff, BodyDiff, Change, DecisionDiff, DecisionsDiff, DependsOnChange, DesignDiff,
    HypothesisChange, IdsChange, LayerDiff, MilestoneDiff, Point, ProgressChange, SeasonRef,
    StatusDiff, TargetChange, VetoChange, VetoesChange,
};
pub use graph::{
    decisions_to_dot, decisions_to_mermaid, decisions_to_svg, to_dot, to_mermaid, to_svg,
};
pub use history::{FieldChange, HistoryFilter, HistoryFold, HistoryRow};
pub use review::{
    review, Achievement, ActorActivity, DecisionAuthority, FocusDelivery, FoldedReview,
    GovernanceChange, HypothesisConclusion, HypothesisStatement, LayerDelta, NewMilestone,
    PhaseDelta, PhaseTransition, Regression, Retirement, ReviewError, ReviewFold, ReviewFormat,
    ReviewFrame, Revision, SeasonReview, StillOpen, Transfer,
};
pub use status::{
    AsOf, Authority, BodyStatus, DecisionStatus, HypothesisStatus, LastChange, LayerStatus,
    MilestoneStatus, PhaseProgress, SeasonStatus, Status, StatusFold,
};
