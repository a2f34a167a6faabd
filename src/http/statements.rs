//! `POST /api/ledgers/{id}/statements`: signed statements, parsed, prechecked and
//! recorded.

use super::*;
use crate::error::{Error, Result, StorageError};
use crate::ledger::Signed;
use crate::wire::{Problem, RecordedOut, SignedStatement};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use waymark_core::{Rejection, Rule};
use waymark_events::{parse_strict, Statement};

/// Reads one signed statement object; `at` names it in errors (`statement` or
/// `statements[i]`).
pub(super) fn signed_from_value(v: &Value, at: &str) -> Result<Signed, ApiError> {
    let malformed = |detail: String| ApiError::Malformed {
        field: at.to_string(),
        detail,
    };
    let mut m = v
        .as_object()
        .cloned()
        .ok_or_else(|| malformed("a signed statement is a JSON object".into()))?;
    let sig = match m.remove("sig") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(malformed("\"sig\" must be a base64 string".into())),
        None => return Err(malformed("missing key \"sig\"".into())),
    };
    let raw = serde_json::to_vec(v).unwrap_or_default();
    if raw.len() > waymark_core::MAX_STATEMENT_BYTES {
        return Err(ApiError::App(Error::Rejected {
            line: None,
            rejection: Rejection {
                rule: Rule::Limits,
                field: "statement".into(),
                message: format!(
                    "{at}: {} bytes exceeds {} (checked before parsing)",
                    raw.len(),
                    waymark_core::MAX_STATEMENT_BYTES
                ),
            },
        }));
    }
    let statement =
        Statement::from_value(&Value::Object(m)).map_err(|e| malformed(e.to_string()))?;
    Ok(Signed { statement, sig })
}

/// Parses the body of `POST statements`: one signed statement, or an array of them
/// (`true` when it was an array).
pub fn parse_statements(body: &[u8]) -> Result<(Vec<Signed>, bool), ApiError> {
    let v = parse_strict(body).map_err(|e| ApiError::Malformed {
        field: "body".into(),
        detail: e.to_string(),
    })?;
    match &v {
        Value::Array(items) if items.is_empty() => Err(ApiError::Malformed {
            field: "body".into(),
            detail: "an empty array records nothing".into(),
        }),
        Value::Array(items) => Ok((
            items
                .iter()
                .enumerate()
                .map(|(i, s)| signed_from_value(s, &format!("statements[{i}]")))
                .collect::<Result<_, _>>()?,
            true,
        )),
        one => Ok((vec![signed_from_value(one, "statement")?], false)),
    }
}

#[utoipa::path(post, path = "/api/ledgers/{id}/statements", params(("id" = String, Path)),
    request_body(content = SignedStatement, description = "a signed statement, or a JSON array of them (recorded all or none)"),
    responses(
        (status = 201, description = "recorded: `{seq, hash, type}`, or an array of them for an array", body = RecordedOut),
        (status = 400, description = "malformed (R0-format)", body = Problem),
        (status = 401, description = "bad signature or unknown actor (R1-signature, R1-unknown-actor)", body = Problem),
        (status = 403, description = "the actor's roles may not sign this type (R1-signer)", body = Problem),
        (status = 404, description = "unknown ledger", body = Problem),
        (status = 413, description = "too large (R8-limits)", body = Problem),
        (status = 422, description = "a rule refused it; `rule` and `field` say which and where", body = Problem)))]
pub(super) async fn statements(
    State(app): State<Shared>,
    P(id): P<String>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_json = media.as_deref().is_some_and(|m| {
        m.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Err(ApiError::MediaType(format!(
            "POST statements takes Content-Type: application/json, not {}",
            media.map_or("none".into(), |m| format!("{m:?}"))
        )));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!("the request body exceeds {MAX_BODY_BYTES} bytes"))
        } else {
            ApiError::Malformed {
                field: "body".into(),
                detail: e.body_text(),
            }
        }
    })?;
    app.known(&id).await?;
    // A single statement has no index; a batch keeps the failing one's.
    let index = |array: bool| {
        move |e| match e {
            Error::Rejected { rejection, line } => Error::Rejected {
                line: line.filter(|_| array),
                rejection,
            },
            e => e,
        }
    };
    // Parsed, and judged by the rules against the head, by the blocking workers
    // before the write queue: a body of badly signed statements is refused there
    // and never holds up the writers (issue 12: four clients posting 4 MiB of
    // them took a valid POST from 3.6 ms to 1.9 s while each waited its turn).
    let (signed, array) = {
        let _worker =
            app.checks.acquire().await.map_err(|e| {
                ApiError::App(Error::Storage(StorageError::internal(e.to_string())))
            })?;
        let (signed, array) = tokio::task::spawn_blocking(move || parse_statements(&body))
            .await
            .map_err(|e| ApiError::App(Error::Storage(StorageError::internal(e.to_string()))))??;
        let signed = app
            .waymark
            .precheck(&id, signed)
            .await
            .map_err(index(array))?;
        (signed, array)
    };
    let recorded = super::commit::Committer::record(&app, &id, signed)
        .await
        .map_err(index(array))?;
    let out: Vec<RecordedOut> = recorded.iter().map(RecordedOut::from).collect();
    let location = out
        .first()
        .map(|r| format!("/api/ledgers/{id}/proof/inclusion/{}", r.seq))
        .unwrap_or_default();
    let body = if array {
        serde_json::to_value(&out)
    } else {
        serde_json::to_value(out.first())
    }
    .unwrap_or_default();
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}
