//! The API's read handlers, one per route (the statement endpoint is `statements`).

use super::*;
use crate::error::Result;
use crate::service::Waymark;
use crate::wire::{BodiesOut, DecisionsOut, LedgerSummary, Problem};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the store answers", body = String), (status = 503, body = Problem)))]
pub(super) async fn healthz(State(app): State<Shared>) -> Result<&'static str, ApiError> {
    app.waymark.db().ledgers().await?;
    Ok("ok\n")
}

#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "this API (OpenAPI 3.1)")))]
pub(super) async fn openapi() -> Result<Typed, ApiError> {
    json_bytes(&ApiDoc::openapi())
}

#[utoipa::path(get, path = "/api/ledgers", responses((status = 200, body = [LedgerSummary])))]
pub(super) async fn ledgers(
    State(app): State<Shared>,
) -> Result<Json<Vec<LedgerSummary>>, ApiError> {
    let mut out = Vec::new();
    for id in app.waymark.db().ledgers().await? {
        let state = app.waymark.state(&id).await?;
        let head = state.head.as_ref();
        out.push(LedgerSummary {
            title: state.title.clone(),
            head_seq: head.map_or(0, |h| h.seq),
            head_hash: head.map(|h| h.hash.to_hex()).unwrap_or_default(),
            dashboard: format!("/ledgers/{id}"),
            api: format!("/api/ledgers/{id}"),
            id,
        });
    }
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/status", params(("id" = String, Path, description = "ledger id"), AsOfQuery),
    responses((status = 200, description = "the status projection (SPEC section 9)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn status(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<AsOfQuery>,
) -> Result<Typed, ApiError> {
    json_bytes(&app.status(&id, q.as_of.as_deref()).await?)
}

#[utoipa::path(get, path = "/api/ledgers/{id}/bodies", params(("id" = String, Path, description = "ledger id"), AsOfQuery),
    responses((status = 200, description = "the bodies of SPEC section 13 at the point: `{ledger, as_of, bodies}`, `bodies` as in the status (sorted by id; each `{id, title, kind, retired, decides[], vetoes[]}`); an empty list when the ledger defines no body at that point (a v1 ledger, or a point before the first `BodyDefined`)"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn bodies(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<AsOfQuery>,
) -> Result<Typed, ApiError> {
    json_bytes(&BodiesOut::of(app.status(&id, q.as_of.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/decisions", params(("id" = String, Path, description = "ledger id"), AsOfQuery),
    responses((status = 200, description = "the decision map of SPEC section 13 at the point: `{ledger, as_of, decisions, authority}`, `decisions` as in the status (sorted by id; each with its `current` and `target` designs, `at_target`, `foundation_decides`, `milestones`, `hypotheses` and `last_change`) and `authority` its three counts; an empty list and zero counts when the ledger defines no decision at that point (a v1 ledger, or a point before the first `DecisionDefined`)"),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn decisions(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<AsOfQuery>,
) -> Result<Typed, ApiError> {
    json_bytes(&DecisionsOut::of(
        app.status(&id, q.as_of.as_deref()).await?,
    ))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/state", params(("id" = String, Path)),
    responses((status = 200, description = "the rule state at the head: actors with roles and public keys, milestones, each layer's phase, the season, the head; what a client needs to fill in a statement (`from` of a status change) before it signs"), (status = 404, body = Problem)))]
pub(super) async fn state(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
) -> Result<Typed, ApiError> {
    json_bytes(&app.waymark.state(&id).await?)
}

#[utoipa::path(get, path = "/api/ledgers/{id}/history", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, description = "the audit trail, filtered: at most 50 rows, newest first; a `Link: <…?before=SEQ>; rel=\"next\"` header names the next page"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn history(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<HistoryQuery>,
) -> Result<Response, ApiError> {
    let filter = q.filter()?;
    let mut rows = app
        .waymark
        .history_page(&id, &filter, q.before, HISTORY_PAGE + 1)
        .await?;
    let more = rows.len() > HISTORY_PAGE;
    rows.truncate(HISTORY_PAGE);
    let mut r = json_bytes(&rows)?.into_response();
    if let Some(last) = rows.last().filter(|_| more) {
        let link = format!(
            "</api/ledgers/{id}/history?{}before={}>; rel=\"next\"",
            q.query_string(),
            last.seq
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/ledgers/{id}/events", params(("id" = String, Path), EventsQuery),
    responses((status = 200, description = "JSON Lines, one JCS(event ∪ {hash}) per line (SPEC section 7), streamed", content_type = "application/jsonl"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn events(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<EventsQuery>,
) -> Result<Response, ApiError> {
    let from = q.from.unwrap_or(1);
    if from == 0 || q.limit == Some(0) {
        return Err(ApiError::BadRequest(
            "events: from and limit start at 1".into(),
        ));
    }
    let head = app.waymark.state(&id).await?.head.map_or(0, |h| h.seq);
    let upto = q
        .limit
        .map_or(head, |l| head.min(from.saturating_add(l - 1)));
    // Streamed a chunk at a time, each read when the client has taken the one
    // before: a reader of the whole export holds one chunk, not the ledger.
    let chunks = futures_util::stream::unfold(from, move |next| {
        let (app, id) = (app.clone(), id.clone());
        async move {
            if next > upto {
                return None;
            }
            let hi = upto.min(next.saturating_add(EXPORT_CHUNK - 1));
            let chunk = app
                .waymark
                .export_range(&id, next, hi)
                .await
                .map(Bytes::from)
                .map_err(|e| std::io::Error::other(e.to_string()));
            Some((chunk, hi + 1))
        }
    });
    Ok((
        [(header::CONTENT_TYPE, JSONL)],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/ledgers/{id}/checkpoint", params(("id" = String, Path), SizeQuery),
    responses((status = 200, description = "the C2SP signed note of the tree of the first `size` events (default: all); without `size`, the checkpoint of the C2SP tlog-tiles API whose prefix is /api/ledgers/{id}: the latest one witnesses cosigned (`publish --witness`) if there is one, else the head's (not cached: `Cache-Control: no-store`)", content_type = "text/plain; charset=utf-8"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(super) async fn checkpoint(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<SizeQuery>,
) -> Result<Response, ApiError> {
    // The tlog-tiles checkpoint of a witnessed ledger is the latest one its witnesses
    // cosigned (`publish --witness`): what a monitor with a quorum can accept. Events
    // recorded since show up there at the next publication.
    let witnessed = match q.size {
        None => app.waymark.witnessed(&id).await?,
        Some(_) => None,
    };
    let note = match witnessed {
        Some(w) => w.note,
        None => {
            let key = app.log_key(&id)?;
            app.waymark.checkpoint(&id, q.size, &key).await?.1
        }
    };
    let mut r = Typed(TEXT, note.into_bytes()).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    Ok(r)
}

#[utoipa::path(get, path = "/api/ledgers/{id}/snapshot", params(("id" = String, Path), SizeQuery),
    responses((status = 200, description = "the snapshot bundle (SPEC section 8)"), (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(super) async fn snapshot(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<SizeQuery>,
) -> Result<Typed, ApiError> {
    let key = app.log_key(&id)?;
    let bundle = app.waymark.snapshot(&id, q.size, &key).await?;
    Ok(Typed(JSON, bundle.to_bytes()))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/proof/inclusion/{seq}", params(("id" = String, Path), ("seq" = u64, Path), SizeQuery),
    responses((status = 200, description = "waymark-inclusion/v1 (SPEC section 6)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn inclusion(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    P((_, seq)): P<(String, u64)>,
    Q(q): Q<SizeQuery>,
) -> Result<Typed, ApiError> {
    let proof = app.waymark.prove_inclusion(&id, seq, q.size).await?;
    Ok(Typed(JSON, proof.to_bytes()))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/proof/consistency", params(("id" = String, Path), ConsistencyQuery),
    responses((status = 200, description = "waymark-consistency/v1 (SPEC section 6)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn consistency(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<ConsistencyQuery>,
) -> Result<Typed, ApiError> {
    let proof = app.waymark.prove_consistency(&id, q.old, q.new).await?;
    Ok(Typed(JSON, proof.to_bytes()))
}

/// The review of `season` in a format, as the CLI's `review N --format F` prints it.
async fn review_bytes(
    waymark: &Waymark,
    id: &str,
    season: i64,
    format: ReviewFormat,
) -> Result<Typed, ApiError> {
    let bytes = waymark.review(id, season, format.form()).await?;
    Ok(Typed(
        match format {
            ReviewFormat::Json => JSON,
            ReviewFormat::Md => MARKDOWN,
            ReviewFormat::Html => HTML,
        },
        bytes,
    ))
}

#[utoipa::path(get, path = "/api/ledgers/{id}/reviews/{season}", params(("id" = String, Path), ("season" = i64, Path), ReviewQuery),
    responses((status = 200, description = "the end-of-Season review"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn review(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    P((_, season)): P<(String, i64)>,
    Q(q): Q<ReviewQuery>,
) -> Result<Typed, ApiError> {
    review_bytes(&app.waymark, &id, season, q.format.unwrap_or_default()).await
}

pub(crate) fn graph_bytes(status: &waymark_projections::Status, format: GraphFormat) -> Typed {
    match format {
        GraphFormat::Svg => Typed(SVG, waymark_projections::to_svg(status).into_bytes()),
        GraphFormat::Dot => Typed(DOT, waymark_projections::to_dot(status).into_bytes()),
        GraphFormat::Mermaid => Typed(TEXT, waymark_projections::to_mermaid(status).into_bytes()),
    }
}

/// The decision diagram (SPEC section 13) in a format, as `graph --decisions` prints it.
pub(crate) fn decisions_graph_bytes(
    status: &waymark_projections::Status,
    format: GraphFormat,
) -> Typed {
    use waymark_projections as p;
    match format {
        GraphFormat::Svg => Typed(SVG, p::decisions_to_svg(status).into_bytes()),
        GraphFormat::Dot => Typed(DOT, p::decisions_to_dot(status).into_bytes()),
        GraphFormat::Mermaid => Typed(TEXT, p::decisions_to_mermaid(status).into_bytes()),
    }
}

#[utoipa::path(get, path = "/api/ledgers/{id}/graph", params(("id" = String, Path), GraphQuery),
    responses((status = 200, description = "the dependency graph coloured by status, or with decisions=true the decision diagram (bodies, modules, who proposes, decides, vetoes and executes each)"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn graph(
    State(app): State<Shared>,
    LedgerId(id): LedgerId,
    Q(q): Q<GraphQuery>,
) -> Result<Typed, ApiError> {
    let s = app.status(&id, q.as_of.as_deref()).await?;
    let format = q.format.unwrap_or_default();
    Ok(if q.decisions.unwrap_or(false) {
        decisions_graph_bytes(&s, format)
    } else {
        graph_bytes(&s, format)
    })
}
