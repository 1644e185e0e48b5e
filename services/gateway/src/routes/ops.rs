//! `/api/ops/*`: the operators' endpoints, all behind `Authorization: Bearer $SHOP_ADMIN_TOKEN`.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;
use shop_http::ApiJson;
use tracing::instrument;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Admin;
use crate::error::{ApiError, Result};
use crate::openapi::schemas::{ErrorBody, Rebuilt};
use crate::ops::{StreamReport, known_stream, stream_reports};
use crate::proxy::Outgoing;
use crate::upstream::Upstream;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/ops/streams", get(streams))
        .route(
            "/api/ops/dead-letters/{stream}/replay",
            post(replay_dead_letters),
        )
        .route(
            "/api/ops/order-history/rebuild",
            post(rebuild_order_history),
        )
}

/// `POST /api/ops/dead-letters/{stream}/replay`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Dead letters appended to the stream again (and removed from `<stream>:dlq`).
    pub replayed: u64,
}

/// The state of every stream: length, memory, dead letters, and per consumer group the entries
/// pending acknowledgement and the lag (entries not delivered yet).
#[utoipa::path(
    get,
    path = "/api/ops/streams",
    tag = "operations",
    security(("admin" = [])),
    responses(
        (status = 200, description = "One report per stream", body = [StreamReport]),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "A user's token, not the admin's", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all)]
pub async fn streams(
    State(state): State<AppState>,
    _: Admin,
) -> Result<ApiJson<Vec<StreamReport>>> {
    Ok(ApiJson(stream_reports(&state.redis, &state.streams).await?))
}

/// Appends every entry of `<stream>:dlq` to the stream again, for every group to retry (handlers
/// are idempotent), and removes it from the dead-letter stream.
#[utoipa::path(
    post,
    path = "/api/ops/dead-letters/{stream}/replay",
    tag = "operations",
    security(("admin" = [])),
    params(("stream" = String, Path, description = "`ORDERS_STREAM`, `PAYMENTS_STREAM` or `IDENTITY_STREAM`")),
    responses(
        (status = 200, description = "The dead letters were replayed", body = Replayed),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "A user's token, not the admin's", body = ErrorBody),
        (status = 404, description = "`unknown_stream`", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(stream = %given))]
pub async fn replay_dead_letters(
    State(state): State<AppState>,
    _: Admin,
    Path(given): Path<String>,
) -> Result<ApiJson<Replayed>> {
    let stream = known_stream(&state.streams, &given)
        .ok_or_else(|| ApiError::UnknownStream(given.clone()))?;
    let replayed = shop_streams::replay_dead_letters(&state.redis, stream, state.stream_max_len)
        .await
        .map_err(|error| ApiError::RedisUnavailable(error.to_string()))?;
    tracing::info!(replayed, "dead letters replayed");
    Ok(ApiJson(Replayed { replayed }))
}

/// Rebuilds `order-history`'s read model from the streams (its `POST /internal/rebuild`); the
/// answer, a 409 `rebuild_in_progress` included, is relayed as it is.
#[utoipa::path(
    post,
    path = "/api/ops/order-history/rebuild",
    tag = "operations",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The new model is active", body = Rebuilt),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "A user's token, not the admin's", body = ErrorBody),
        (status = 409, description = "`rebuild_in_progress`", body = ErrorBody),
        (status = 503, description = "order-history is unavailable", body = ErrorBody),
        (status = 504, description = "The rebuild outlasted `REBUILD_TIMEOUT_MS`", body = ErrorBody),
    )
)]
#[instrument(skip_all)]
pub async fn rebuild_order_history(
    State(state): State<AppState>,
    _: Admin,
    request: Request,
) -> Result<Response> {
    // The admin token is the gateway's secret; order-history has no use for it.
    let mut outgoing: Outgoing = state.proxy.outgoing(request, None, None, false).await?;
    outgoing.method = Method::POST;
    outgoing.path_and_query = "/internal/rebuild".to_owned();
    outgoing.timeout = state.rebuild_timeout;
    state.proxy.send(Upstream::OrderHistory, outgoing).await
}
