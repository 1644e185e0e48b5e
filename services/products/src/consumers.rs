//! Stream handlers: `PAYMENTS_STREAM` as group `products` settles reservations. A failed payment
//! releases the order's reservation, a successful one commits it. Both call the same functions as
//! the internal endpoints and are idempotent, so redeliveries are harmless.

use shop_domain::OrderStatus;
use shop_domain::events::PaymentProcessed;
use shop_streams::{Consumer, Delivery, HandlerError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::reservations::{self, CommitResult};

/// The consumer group of this service on every stream it reads.
pub const GROUP: &str = "products";

/// Runs the `PAYMENTS_STREAM` consumer until `shutdown`; in-flight entries finish first.
pub async fn run_payments(
    state: AppState,
    consumer: Consumer<PaymentProcessed>,
    shutdown: CancellationToken,
) {
    let handler = move |delivery: Delivery<PaymentProcessed>| {
        let state = state.clone();
        let span = tracing::info_span!(
            "payment_processed",
            order_id = %delivery.event.order_id,
            entry_id = %delivery.id,
            deliveries = delivery.deliveries,
        );
        async move {
            settle_reservation(&state, &delivery.event)
                .await
                .map_err(|error| Box::new(error) as HandlerError)
        }
        .instrument(span)
    };
    if let Err(error) = consumer.run(handler, shutdown).await {
        tracing::error!(%error, "the payments consumer stopped with an error");
    }
}

/// Releases or commits the reservation of the paid (or declined) order. Outcomes that make the event
/// moot (no such reservation, already decided the other way) are logged and succeed; only errors
/// worth a retry (MongoDB down, contention) fail the delivery.
pub async fn settle_reservation(state: &AppState, event: &PaymentProcessed) -> Result<()> {
    let order_id = event.order_id.as_str();
    match event.order_status {
        OrderStatus::PaymentFailed => match reservations::release(state, order_id).await {
            Ok(()) => tracing::info!("payment failed: reservation released"),
            Err(ApiError::ReservationNotFound(_)) => {
                tracing::warn!(
                    "payment failed for an order without a reservation; nothing to release"
                );
            }
            Err(ApiError::ReservationCommitted(_)) => {
                tracing::warn!("payment failed for an order already paid; keeping its stock");
            }
            Err(error) => return Err(error),
        },
        OrderStatus::Paid => match reservations::commit(state, order_id).await? {
            CommitResult::Committed => {
                tracing::info!("payment succeeded: reservation committed");
            }
            CommitResult::WasReleased => {
                tracing::warn!(
                    "payment succeeded for a released reservation; its stock was already returned"
                );
            }
            CommitResult::Unknown => {
                tracing::warn!(
                    "payment succeeded for an order without a reservation; nothing to commit"
                );
            }
        },
        OrderStatus::Created => {}
    }
    Ok(())
}
