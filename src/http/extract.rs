//! Extractors whose rejection is a problem, and bodies with their content type.

use super::*;
use crate::error::{Error, Result, StorageError};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Query parameters whose rejection is a problem, not axum's plain text.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| Q(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// Path parameters whose rejection is a problem.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| P(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// The `{id}` of a `/api/ledgers/{id}/…` route, checked to name a ledger of the store
/// (404 otherwise): the step every ledger handler starts with, taken once here.
pub struct LedgerId(pub String);

impl FromRequestParts<Shared> for LedgerId {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let P(params) =
            P::<std::collections::HashMap<String, String>>::from_request_parts(parts, app).await?;
        let id = params
            .get("id")
            .cloned()
            .ok_or_else(|| ApiError::BadRequest("the route names no ledger".into()))?;
        app.known(&id).await?;
        Ok(LedgerId(id))
    }
}

// ---------------------------------------------------------------------------------
// Responses with a content type.

/// A body with its content type.
pub struct Typed(pub &'static str, pub Vec<u8>);

impl IntoResponse for Typed {
    fn into_response(self) -> Response {
        let mut r = self.1.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(self.0));
        r
    }
}

pub const JSON: &str = "application/json";
pub const JSONL: &str = "application/jsonl";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const HTML: &str = "text/html; charset=utf-8";
pub const MARKDOWN: &str = "text/markdown; charset=utf-8";
pub const SVG: &str = "image/svg+xml";
pub const DOT: &str = "text/vnd.graphviz; charset=utf-8";

pub(super) fn json_bytes<T: Serialize>(v: &T) -> Result<Typed, ApiError> {
    serde_json::to_vec_pretty(v)
        .map(|b| Typed(JSON, b))
        .map_err(|e| ApiError::App(Error::Storage(StorageError::internal(e.to_string()))))
}
