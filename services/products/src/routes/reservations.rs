//! The internal reservation API used by `orders` (the gateway does not expose `/internal`):
//! `POST /internal/reservations` and `POST /internal/reservations/{reservationId}/release`.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shop_domain::{OrderId, ProductId, Quantity};
use shop_http::ApiJson;
use tracing::Instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::reservations::{self, Reservation, ReservationRequest};

/// More lines than any order needs; bounds the work of one request.
const MAX_LINES: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/internal/reservations", post(reserve))
        .route(
            "/internal/reservations/{reservation_id}/release",
            post(release),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReserveBody {
    reservation_id: String,
    lines: Vec<LineBody>,
}

/// `qty` is a plain integer here so that `0` or `1000` is an `invalid_reservation`, not a body
/// that fails to deserialize.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineBody {
    product_id: String,
    qty: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Released {
    reservation_id: String,
    state: &'static str,
}

async fn reserve(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ReserveBody>,
) -> Result<Json<Reservation>> {
    let request = ReservationRequest::try_from(body)?;
    let span = tracing::info_span!("reserve", reservation_id = %request.reservation_id);
    let reservation = reservations::reserve(&state, &request)
        .instrument(span)
        .await?;
    Ok(Json(reservation))
}

async fn release(
    State(state): State<AppState>,
    Path(reservation_id): Path<String>,
) -> Result<Json<Released>> {
    // An id that is not even valid was never reserved.
    let id = OrderId::parse(reservation_id.as_str())
        .map_err(|_| ApiError::ReservationNotFound(reservation_id))?;
    let span = tracing::info_span!("release", reservation_id = %id);
    reservations::release(&state, id.as_str())
        .instrument(span)
        .await?;
    Ok(Json(Released {
        reservation_id: id.to_string(),
        state: "released",
    }))
}

impl TryFrom<ReserveBody> for ReservationRequest {
    type Error = ApiError;

    fn try_from(body: ReserveBody) -> Result<Self> {
        let invalid = |message: String| ApiError::InvalidReservation(message);
        let reservation_id = OrderId::parse(body.reservation_id.as_str())
            .map_err(|e| invalid(format!("reservationId: {e}")))?;
        if body.lines.is_empty() {
            return Err(invalid("a reservation needs at least one line".into()));
        }
        if body.lines.len() > MAX_LINES {
            return Err(invalid(format!(
                "a reservation has at most {MAX_LINES} lines"
            )));
        }
        let mut seen = HashSet::new();
        let mut lines = Vec::with_capacity(body.lines.len());
        for line in body.lines {
            let product_id = ProductId::parse(line.product_id.as_str())
                .map_err(|e| invalid(format!("productId: {e}")))?;
            let qty = Quantity::try_from(line.qty)
                .map_err(|e| invalid(format!("line {product_id}: {e}")))?;
            if !seen.insert(product_id.clone()) {
                return Err(invalid(format!(
                    "product {product_id} appears on more than one line"
                )));
            }
            lines.push((product_id, qty));
        }
        Ok(Self {
            reservation_id,
            lines,
        })
    }
}
