//! The query parameters of the API's routes.

use super::*;
use crate::error::Result;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use waymark_projections::HistoryFilter;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// `seq:N`, `season:N` or `time:RFC3339` (default: the head)
    pub as_of: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// only events naming this milestone
    pub milestone: Option<String>,
    /// only events signed by this actor
    pub actor: Option<String>,
    /// only events recorded during this season
    pub season: Option<i64>,
    /// only events of this type
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// only events before this seq (the next page: the `Link rel="next"` header)
    #[serde(default, deserialize_with = "number_or_text")]
    pub before: Option<u64>,
}

/// An optional number given as a number or as text: a query flattened into another
/// (the dashboard's `PageQuery`) hands its values over as text.
pub(super) fn number_or_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }
    match Option::<NumberOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrText::Number(n)) => Ok(Some(n)),
        Some(NumberOrText::Text(t)) if t.is_empty() => Ok(None),
        Some(NumberOrText::Text(t)) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("before: {t:?} is not a seq"))),
    }
}

impl HistoryQuery {
    pub fn filter(&self) -> Result<HistoryFilter, ApiError> {
        let blank = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let event_type = blank(&self.event_type);
        if let Some(t) = &event_type {
            t.parse::<waymark_events::EventType>()
                .map_err(|e| ApiError::BadRequest(format!("type: {e}")))?;
        }
        Ok(HistoryFilter {
            milestone: blank(&self.milestone),
            actor: blank(&self.actor),
            season: self.season,
            event_type,
        })
    }

    /// This query's filters (not its page) as a query string, `&`-terminated when
    /// not empty.
    pub fn query_string(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let blank = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        if let Some(m) = blank(&self.milestone) {
            q.append_pair("milestone", &m);
        }
        if let Some(a) = blank(&self.actor) {
            q.append_pair("actor", &a);
        }
        if let Some(s) = self.season {
            q.append_pair("season", &s.to_string());
        }
        if let Some(t) = blank(&self.event_type) {
            q.append_pair("type", &t);
        }
        let q = q.finish();
        if q.is_empty() {
            q
        } else {
            q + "&"
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// the first seq (default 1)
    pub from: Option<u64>,
    /// at most this many lines (default: to the head)
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SizeQuery {
    /// the tree size (default: the head)
    pub size: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub old: u64,
    pub new: u64,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewFormat {
    #[default]
    Json,
    Md,
    Html,
}

impl ReviewFormat {
    /// The review renderer's name for this format.
    pub fn form(self) -> waymark_projections::ReviewFormat {
        match self {
            ReviewFormat::Json => waymark_projections::ReviewFormat::Json,
            ReviewFormat::Md => waymark_projections::ReviewFormat::Markdown,
            ReviewFormat::Html => waymark_projections::ReviewFormat::Html,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// json (default), md or html
    pub format: Option<ReviewFormat>,
}

/// The review of `season` in a format, as the CLI's `review N --format F` prints it.

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GraphFormat {
    #[default]
    Svg,
    Dot,
    Mermaid,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GraphQuery {
    /// svg (default), dot or mermaid
    pub format: Option<GraphFormat>,
    /// `true`: the decision diagram of SPEC section 13 (bodies, decision modules and who
    /// proposes, decides, vetoes and executes each) instead of the dependency graph
    pub decisions: Option<bool>,
    /// `seq:N`, `season:N` or `time:RFC3339` (default: the head)
    pub as_of: Option<String>,
}
