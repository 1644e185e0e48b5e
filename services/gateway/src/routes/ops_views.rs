//! The console's read-only views, behind the admin token: a paged dead-letter browser and an
//! order's timeline (its stream entries with each group's acknowledgement, and from the services
//! that own them its outbox state, its stock-ledger movements and its payment).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use shop_domain::OrderId;
use shop_http::ApiJson;
use tracing::instrument;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Admin;
use crate::error::{ApiError, Result};
use crate::events::is_entry_id;
use crate::openapi::schemas::ErrorBody;
use crate::ops::dead_letters::{self, DeadLetterPage, MAX_PAGE};
use crate::ops::known_stream;
use crate::ops::timeline::{self, TimelineEvent};
use crate::proxy::Outgoing;
use crate::upstream::Upstream;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/ops/dead-letters/{stream}", get(list_dead_letters))
        .route("/api/ops/orders/{orderId}/timeline", get(order_timeline))
}

/// `?after=&limit=` of the dead-letter browser.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the previous page; absent for the first.
    pub after: Option<String>,
    /// 1 to 100; default 20.
    pub limit: Option<u64>,
}

/// A page of a stream's dead letters, oldest first: group, error and deliveries apart from the
/// original fields.
#[utoipa::path(
    get,
    path = "/api/ops/dead-letters/{stream}",
    tag = "operations",
    security(("admin" = [])),
    params(
        ("stream" = String, Path, description = "`ORDERS_STREAM`, `PAYMENTS_STREAM` or `IDENTITY_STREAM`"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of dead letters", body = DeadLetterPage),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "A user's token, not the admin's", body = ErrorBody),
        (status = 404, description = "`unknown_stream`", body = ErrorBody),
        (status = 422, description = "`invalid_query`: a limit out of range or an `after` that is no entry id", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(stream = %given))]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    _: Admin,
    Path(given): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ApiJson<DeadLetterPage>> {
    let stream = known_stream(&state.streams, &given)
        .ok_or_else(|| ApiError::UnknownStream(given.clone()))?;
    let Query(query) = query.map_err(|rejection| ApiError::InvalidQuery(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    if let Some(after) = query.after.as_deref()
        && !is_entry_id(after)
    {
        return Err(ApiError::InvalidQuery(format!(
            "after must be an entry id like 1718000000000-0, got {after:?}"
        )));
    }
    Ok(ApiJson(
        dead_letters::page(&state.redis, stream, query.after.as_deref(), limit).await?,
    ))
}

/// `GET /api/ops/orders/{orderId}/timeline`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub order_id: String,
    /// Every entry about the order, oldest first, among each stream's newest 20,000.
    pub events: Vec<TimelineEvent>,
    /// `orders`' record of the order's `OrderCreated` outbox entry (`pending`, `publishedAt`, ...).
    #[schema(value_type = Option<Object>)]
    pub outbox: Option<serde_json::Value>,
    /// `products`' stock-ledger movements under the order's reservation, and its outcome.
    #[schema(value_type = Option<Object>)]
    pub stock: Option<serde_json::Value>,
    /// `payments`' payment of the order.
    #[schema(value_type = Option<Object>)]
    pub payment: Option<serde_json::Value>,
    /// The services that could not be asked (down, slow): their part is `null`.
    pub unavailable: Vec<String>,
}

/// Every event about an order across the streams and their dead letters, which groups have acked
/// each, and the order's outbox, stock movements and payment as their services record them.
#[utoipa::path(
    get,
    path = "/api/ops/orders/{orderId}/timeline",
    tag = "operations",
    security(("admin" = [])),
    params(("orderId" = String, Path)),
    responses(
        (status = 200, description = "The order's timeline (an unknown order has no events)", body = Timeline),
        (status = 401, description = "No admin token", body = ErrorBody),
        (status = 403, description = "A user's token, not the admin's", body = ErrorBody),
        (status = 404, description = "`not_found`: not an order id", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(order_id = %order_id))]
pub async fn order_timeline(
    State(state): State<AppState>,
    _: Admin,
    Path(order_id): Path<String>,
) -> Result<ApiJson<Timeline>> {
    let order = OrderId::parse(order_id.as_str())
        .map_err(|_| ApiError::NotFound(format!("order {order_id}")))?;
    let id = order.as_str();
    let (events, outbox, stock, payment) = futures::join!(
        timeline::events(&state.redis, &state.streams, id),
        internal(
            &state,
            Upstream::Orders,
            format!("/internal/orders/{id}/outbox")
        ),
        internal(
            &state,
            Upstream::Products,
            format!("/internal/reservations/{id}/movements")
        ),
        internal(
            &state,
            Upstream::Payments,
            format!("/internal/payments/{id}")
        ),
    );
    let mut unavailable = Vec::new();
    let mut part = |upstream: Upstream, answer: Answer| match answer {
        Answer::Found(value) => Some(value),
        Answer::Missing => None,
        Answer::Unavailable => {
            unavailable.push(upstream.name().to_owned());
            None
        }
    };
    let outbox = part(Upstream::Orders, outbox);
    let stock = part(Upstream::Products, stock);
    let payment = part(Upstream::Payments, payment);
    Ok(ApiJson(Timeline {
        order_id: order_id.clone(),
        events: events?,
        outbox,
        stock,
        payment,
        unavailable,
    }))
}

/// What a service said about the order.
enum Answer {
    Found(serde_json::Value),
    /// 404: it has no record of it (never placed, not paid yet).
    Missing,
    /// Down, slow, or an answer that is not JSON.
    Unavailable,
}

/// `GET path` on a service's internal API: the gateway routes no `/internal/*` request from a
/// client, it only calls these itself, for an operator.
async fn internal(state: &AppState, upstream: Upstream, path: String) -> Answer {
    let outgoing = Outgoing {
        method: Method::GET,
        path_and_query: path,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        timeout: state.health_timeout.max(std::time::Duration::from_secs(2)),
    };
    let Ok(response) = state.proxy.send(upstream, outgoing).await else {
        return Answer::Unavailable;
    };
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Answer::Missing,
        _ => return Answer::Unavailable,
    }
    match axum::body::to_bytes(response.into_body(), 1 << 20).await {
        Ok(bytes) => serde_json::from_slice(&bytes).map_or(Answer::Unavailable, Answer::Found),
        Err(_) => Answer::Unavailable,
    }
}
