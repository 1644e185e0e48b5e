//! The `PAYMENTS_STREAM` consumer (group `orders`): settles each order to `paid` or
//! `payment_failed` through the domain's state machine, so stale and repeated events are no-ops.

use std::time::Duration;

use shop_domain::events::PaymentProcessed;
use shop_domain::{OrderStatus, Transition, transition};
use shop_streams::{Delivery, HandlerError};
use tracing::instrument;

use crate::store::Store;
use crate::store::orders::OrderState;

/// The consumer group this service reads `PAYMENTS_STREAM` as.
pub const GROUP: &str = "orders";

/// How long a handler waits for its order's event to be marked sent before handing the entry back
/// for a later retry. Normally it is marked milliseconds after the publish that led to this
/// payment, but under load the payment can overtake the mark by much more; giving up early sends
/// the entry to the retry path, which waits `CONSUMER_CLAIM_IDLE_MS` (30 s), so the wait is long,
/// well inside the handler's timeout (`CONSUMER_HANDLER_TIMEOUT_MS`, 10 s).
const PUBLISHED_WAIT: Duration = Duration::from_secs(5);
/// The first pause between reads of the order; it doubles up to [`PUBLISHED_POLL_MAX`].
const PUBLISHED_POLL: Duration = Duration::from_millis(10);
const PUBLISHED_POLL_MAX: Duration = Duration::from_millis(250);

/// What handling one `PaymentProcessed` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The order moved to this status.
    Moved(OrderStatus),
    /// The order already had a settled status (a repeat, or an event that lost a race): no change.
    Unchanged,
}

/// Applies a payment outcome to its order.
///
/// An event for an order that does not exist is an error, so the entry is retried and, after
/// `max_deliveries`, dead-lettered where an operator sees it: the order is always written before its
/// `OrderCreated` is published, so a payment for an unknown order means lost data or a foreign
/// producer, never a race to wait out.
///
/// The status change is checked against the status read, then written by `_id`. Two things could
/// go wrong between the read and the write (on FerretDB, where an update reads the document,
/// changes it and writes all of it back, even within the write), and neither does:
/// - two handlers for one order could both pass the check. `payments` stores one payment per order
///   (unique on `orderId`), so every event about one order, however often delivered, carries the
///   same outcome and payment id: racing writers write the same values.
/// - a concurrent write to *other* fields of the order could be overwritten, or overwrite ours. The
///   only other writer is the outbox relay, which is done with a document once its entry is marked
///   sent; so the update waits for that (it is usually already so: the payment exists because the
///   event was published, and the mark follows the publish within milliseconds).
#[instrument(skip_all, fields(order_id = %payment.order_id, payment_id = %payment.payment_id, status = %payment.order_status))]
pub async fn settle_payment(
    store: &Store,
    payment: &PaymentProcessed,
) -> Result<Settled, HandlerError> {
    let order = published_order(store, payment).await?;
    let current = OrderStatus::from_code(order.order_status_code)?;
    if order.user_id != payment.user_id {
        tracing::warn!(order_user = %order.user_id, payment_user = %payment.user_id, "payment names another user; applying it to the order it names");
    }
    match transition(current, payment.order_status) {
        Transition::Apply(next) => {
            let moved = store
                .settle_order(&payment.order_id, next, &payment.payment_id)
                .await?;
            if moved {
                tracing::info!(from = %current, to = %next, "order settled");
                Ok(Settled::Moved(next))
            } else {
                tracing::debug!("settled by a concurrent delivery");
                Ok(Settled::Unchanged)
            }
        }
        Transition::Ignore => {
            tracing::debug!(current = %current, "payment event changes nothing");
            Ok(Settled::Unchanged)
        }
    }
}

/// The payment's order once the relay is done writing it; an error (retry later) if it does not
/// exist, or is still not marked sent after [`PUBLISHED_WAIT`].
async fn published_order(
    store: &Store,
    payment: &PaymentProcessed,
) -> Result<OrderState, HandlerError> {
    let deadline = tokio::time::Instant::now() + PUBLISHED_WAIT;
    let mut pause = PUBLISHED_POLL;
    loop {
        let order = store
            .order_state(&payment.order_id)
            .await?
            .ok_or_else(|| format!("order {} does not exist", payment.order_id))?;
        if !order.unpublished() {
            return Ok(order);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "order {}: its OrderCreated is not marked sent yet; retrying later",
                payment.order_id
            )
            .into());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(PUBLISHED_POLL_MAX);
    }
}

/// The runner's handler: one delivery, one [`settle_payment`].
pub async fn handle_payment(
    store: Store,
    delivery: Delivery<PaymentProcessed>,
) -> Result<(), HandlerError> {
    settle_payment(&store, &delivery.event).await.map(drop)
}
