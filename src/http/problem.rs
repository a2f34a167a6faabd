//! Errors as RFC 9457 problem details (`application/problem+json`).

use crate::error::Error;
use crate::wire::Problem;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use waymark_core::{Rejection, Rule};

/// Why a request failed; each kind is mapped to its problem once, in `problem`.
#[derive(Debug)]
pub enum ApiError {
    /// What the ledger said (rule rejections, bad input, storage…): `Error::http_status`.
    App(Error),
    /// The request body is not a signed statement (or an array of them).
    Malformed {
        field: String,
        detail: String,
    },
    /// A query or path parameter that cannot be read.
    BadRequest(String),
    /// The request body exceeds `MAX_BODY_BYTES`.
    TooLarge(String),
    NotFound(String),
    /// The key store has no log key for the ledger, so no checkpoint can be signed.
    NoLogKey(String),
    /// The request was not complete or not answered in time (408).
    Timeout(String),
    /// A POST body that is not `application/json` (415).
    MediaType(String),
    /// The server holds as many unread answers as it allows (503).
    Busy(String),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::App(e)
    }
}

impl From<crate::error::StorageError> for ApiError {
    fn from(e: crate::error::StorageError) -> Self {
        ApiError::App(Error::Storage(e))
    }
}

pub(super) fn rule_problem(status: u16, rejection: &Rejection, index: Option<usize>) -> Problem {
    let id = rejection.rule.id();
    Problem {
        problem_type: format!("urn:waymark:rule:{id}"),
        title: format!("rejected by rule {id}"),
        status,
        detail: format!(
            "rule {id} violated at {}: {}",
            rejection.field, rejection.message
        ),
        rule: Some(id.into()),
        field: Some(rejection.field.clone()),
        index,
        message: Some(rejection.message.clone()),
    }
}

pub(crate) fn plain_problem(status: u16, detail: String) -> Problem {
    Problem {
        problem_type: "about:blank".into(),
        title: StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .into(),
        status,
        detail,
        rule: None,
        field: None,
        index: None,
        message: None,
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::App(e @ Error::Rejected { line, rejection }) => {
                rule_problem(e.http_status(), rejection, *line)
            }
            ApiError::App(e) => plain_problem(e.http_status(), e.to_string()),
            ApiError::Malformed { field, detail } => rule_problem(
                400,
                &Rejection {
                    rule: Rule::Format,
                    field: field.clone(),
                    message: detail.clone(),
                },
                None,
            ),
            ApiError::TooLarge(detail) => rule_problem(
                413,
                &Rejection {
                    rule: Rule::Limits,
                    field: "body".into(),
                    message: detail.clone(),
                },
                None,
            ),
            ApiError::BadRequest(detail) => plain_problem(400, detail.clone()),
            ApiError::NotFound(detail) => plain_problem(404, detail.clone()),
            ApiError::NoLogKey(detail) => plain_problem(503, detail.clone()),
            ApiError::Timeout(detail) => plain_problem(408, detail.clone()),
            ApiError::MediaType(detail) => plain_problem(415, detail.clone()),
            ApiError::Busy(detail) => plain_problem(503, detail.clone()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::warn!(status = problem.status, detail = %problem.detail, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see /openapi.json".into())
}
