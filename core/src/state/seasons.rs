//! Rule 5: `SeasonOpened` and `SeasonReEvaluated`.

use super::LedgerState;
use crate::rules::{reject, Rejection, Rule};
use waymark_events::{SeasonOpened, SeasonReEvaluated};

impl LedgerState {
    pub(super) fn check_season_opened(&self, p: &SeasonOpened) -> Result<(), Rejection> {
        match &self.season {
            Some(s) if s.open => {
                return reject(
                    Rule::Season,
                    "payload.season",
                    format!("season {} is still open", s.number),
                );
            }
            Some(s) if p.season != s.number + 1 => {
                return reject(
                    Rule::Season,
                    "payload.season",
                    format!("the next season is {}, not {}", s.number + 1, p.season),
                );
            }
            None if p.season < 1 => {
                return reject(
                    Rule::Season,
                    "payload.season",
                    "season numbers start at 1 or more",
                );
            }
            _ => {}
        }
        for (i, f) in p.focus.iter().enumerate() {
            self.milestone(f, &format!("payload.focus[{i}]"))
                .or_else(|e| reject(Rule::Season, e.field, e.message))?;
        }
        Ok(())
    }

    pub(super) fn check_season_re_evaluated(&self, p: &SeasonReEvaluated) -> Result<(), Rejection> {
        let Some(s) = self.season.as_ref().filter(|s| s.open) else {
            return reject(Rule::Season, "payload.season", "no season is open");
        };
        if s.number != p.season {
            return reject(
                Rule::Season,
                "payload.season",
                format!("the open season is {}, not {}", s.number, p.season),
            );
        }
        if p.ends_on < s.starts_on {
            return reject(
                Rule::Season,
                "payload.ends_on",
                format!("{} is before the season's start {}", p.ends_on, s.starts_on),
            );
        }
        for (i, a) in p.assessments.iter().enumerate() {
            self.milestone(&a.milestone, &format!("payload.assessments[{i}].milestone"))
                .or_else(|e| reject(Rule::Season, e.field, e.message))?;
        }
        Ok(())
    }
}
