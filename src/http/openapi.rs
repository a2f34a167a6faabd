//! The OpenAPI document, generated from the handlers' annotations.

use super::*;
use crate::wire::{LedgerSummary, Problem, RecordedOut, SignedStatement};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Waymark",
        description = "An accountability ledger for decentralization roadmaps: SPEC sections 3–10 and 13 over HTTP. Errors are RFC 9457 problem details naming the SPEC rule."
    ),
    paths(
        healthz,
        openapi,
        ledgers,
        status,
        bodies,
        decisions,
        state,
        history,
        events,
        checkpoint,
        snapshot,
        tile,
        inclusion,
        consistency,
        review,
        graph,
        statements
    ),
    components(schemas(
        Problem,
        RecordedOut,
        SignedStatement,
        LedgerSummary,
        ReviewFormat,
        GraphFormat
    ))
)]
pub struct ApiDoc;
