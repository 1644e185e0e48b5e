//! `GET /internal/orders/{orderId}/outbox`: what `orders` knows of an order's journey, for the
//! operators' timeline (the gateway calls it from `/api/ops/orders/{orderId}/timeline`; it never
//! routes `/internal/*` from a client). The order's outbox entry (pending or published, and when),
//! its placement while unsettled (with the re-announcements), and its settlement.

use std::future::IntoFuture;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bson::doc;
use serde::Serialize;
use shop_domain::OrderId;
use shop_http::ApiJson;
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/orders/{order_id}/outbox", get(order_trail))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Trail {
    order_id: String,
    /// The order document's status code (the settlement may be ahead of it, see `settlement`).
    order_status_code: Option<i32>,
    outbox: Option<OutboxView>,
    /// Present while the order is unsettled: the reconciler still watches it.
    placement: Option<PlacementView>,
    settlement: Option<SettlementView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutboxView {
    stream: String,
    pending: bool,
    #[serde(rename = "type")]
    kind: Option<String>,
    available_at: String,
    published_at: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlacementView {
    created_at: String,
    announced_at: Option<String>,
    announcements: i32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SettlementView {
    order_status_code: i32,
    payment_id: String,
    at: String,
}

#[instrument(skip_all, fields(order_id = %order_id))]
async fn order_trail(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<ApiJson<Trail>> {
    let not_found = || ApiError::OrderNotFound(order_id.clone());
    let id = OrderId::parse(order_id.as_str()).map_err(|_| not_found())?;
    let store = &state.store;
    // By `_id` only: three point reads, cheap on either server.
    let (order, placement, settlement) = futures::try_join!(
        store
            .orders
            .find_one(doc! { "_id": id.as_str() })
            .into_future(),
        store.placement(&id),
        store.settlement(&id),
    )?;
    if order.is_none() && placement.is_none() {
        return Err(not_found());
    }
    let time = |at: bson::DateTime| at.try_to_rfc3339_string().unwrap_or_default();
    Ok(ApiJson(Trail {
        order_id: id.as_str().to_owned(),
        order_status_code: order.as_ref().map(|o| o.order_status_code),
        outbox: order.and_then(|o| o.outbox).map(|entry| OutboxView {
            kind: entry.fields.get_str("type").ok().map(str::to_owned),
            stream: entry.stream,
            pending: entry.pending,
            available_at: time(entry.available_at),
            published_at: entry.published_at.map(time),
        }),
        placement: placement.map(|p| PlacementView {
            created_at: time(p.created_at),
            announced_at: p.announced_at.map(time),
            announcements: p.announcements,
        }),
        settlement: settlement.map(|s| SettlementView {
            order_status_code: s.order_status_code,
            payment_id: s.payment_id.as_str().to_owned(),
            at: time(s.at),
        }),
    }))
}
