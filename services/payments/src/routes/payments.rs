//! `GET /internal/payments/{orderId}`: one order's payment, for operators and tests. Internal: the
//! gateway routes nothing under `/internal`.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Serialize;
use shop_domain::OrderId;
use shop_domain::time::format_millis;
use shop_http::ApiJson;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::store::PaymentDocument;

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/payments/{order_id}", get(get_payment))
}

/// A payment as the API shows it: amounts in cents, times in RFC 3339, `reason` null when paid.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentView {
    payment_id: String,
    order_id: String,
    user_id: String,
    amount: i64,
    currency: String,
    status: &'static str,
    reason: Option<String>,
    created_at: String,
}

impl From<PaymentDocument> for PaymentView {
    fn from(payment: PaymentDocument) -> Self {
        Self {
            payment_id: payment.payment_id.into(),
            order_id: payment.order_id.into(),
            user_id: payment.user_id.into(),
            amount: payment.amount.minor(),
            currency: payment.currency,
            status: payment.status.as_str(),
            reason: payment.reason,
            created_at: format_millis(&payment.created_at.to_chrono()),
        }
    }
}

#[tracing::instrument(skip_all, fields(order_id = %order_id))]
async fn get_payment(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<ApiJson<PaymentView>> {
    // An id that cannot be valid cannot have a payment either: same answer as an unknown one.
    let order_id = OrderId::parse(order_id).map_err(|_| ApiError::PaymentNotFound)?;
    let payment = state
        .payments
        .find(&order_id)
        .await?
        .ok_or(ApiError::PaymentNotFound)?;
    Ok(ApiJson(payment.into()))
}
