//! `GET /internal/reservations/{reservationId}/movements`: the stock-ledger movements made under a
//! reservation (an order's id) and how it ended, for the operators' order timeline (the gateway
//! calls it; it never routes `/internal/*` from a client).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use futures::TryStreamExt;
use mongodb::bson::{self, doc};
use serde::Serialize;
use shop_http::ApiJson;
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::store::ledger::{MovementKind, movement_key};
use crate::store::reservations::Outcome;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/internal/reservations/{reservation_id}/movements",
        get(reservation_movements),
    )
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Movements {
    reservation_id: String,
    /// `committed`, `released`, or `null` while the order is unsettled.
    outcome: Option<Outcome>,
    /// Reserve and release movements of every line, in ledger order per product.
    movements: Vec<MovementView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MovementView {
    product_id: String,
    seq: i64,
    kind: MovementKind,
    delta: i64,
    balance: i64,
    at: String,
}

#[instrument(skip_all, fields(reservation_id = %reservation_id))]
async fn reservation_movements(
    State(state): State<AppState>,
    Path(reservation_id): Path<String>,
) -> Result<ApiJson<Movements>> {
    let store = &state.store;
    let reservation = store
        .reservation(&reservation_id)
        .await?
        .ok_or_else(|| ApiError::ReservationNotFound(reservation_id.clone()))?;
    // Each line's movements by their unique keys: an index seek each on MongoDB.
    let keys: Vec<String> = reservation
        .lines
        .iter()
        .flat_map(|line| {
            [MovementKind::Reserve, MovementKind::Release]
                .map(|kind| movement_key(kind, Some(&reservation_id), &line.product_id))
        })
        .collect();
    let mut movements: Vec<MovementView> = store
        .movements
        .find(doc! { "movementKey": { "$in": keys } })
        .await?
        .map_ok(|m| MovementView {
            product_id: m.product_id,
            seq: m.seq,
            kind: m.kind,
            delta: m.delta,
            balance: m.balance,
            at: bson::DateTime::try_to_rfc3339_string(m.at).unwrap_or_default(),
        })
        .try_collect()
        .await?;
    movements.sort_by(|a, b| (&a.product_id, a.seq).cmp(&(&b.product_id, b.seq)));
    Ok(ApiJson(Movements {
        outcome: store.outcome(&reservation_id).await?,
        reservation_id,
        movements,
    }))
}
