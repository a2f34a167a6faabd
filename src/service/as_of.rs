//! A point in a ledger's history (`--as-of`, `?as_of=`).

use crate::error::{Error, Result};

/// A point in the ledger's history (`--as-of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    Seq(u64),
    Season(i64),
    /// A SPEC timestamp: the last event recorded at or before it.
    Time(String),
}

impl std::str::FromStr for AsOf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::BadInput(format!(
                "as-of {s:?}: expected seq:N, season:N or time:RFC3339"
            ))
        };
        let (kind, v) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "seq" => v
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .map(AsOf::Seq)
                .ok_or_else(bad),
            "season" => v.parse().map(AsOf::Season).map_err(|_| bad()),
            "time" => {
                let t = chrono::DateTime::parse_from_rfc3339(v).map_err(|_| bad())?;
                let micros = t.with_timezone(&chrono::Utc).timestamp_micros();
                Ok(AsOf::Time(waymark_events::format_timestamp(micros)))
            }
            _ => Err(bad()),
        }
    }
}
