//! The `PAYMENTS_STREAM` consumer (group `orders`): settles each order to `paid` or
//! `payment_failed` through the domain's state machine, so stale and repeated events are no-ops.

use shop_domain::events::PaymentProcessed;
use shop_domain::{OrderStatus, Transition, transition};
use shop_streams::{Delivery, HandlerError};
use tracing::instrument;

use crate::store::{Settlement, Store};

/// The consumer group this service reads `PAYMENTS_STREAM` as.
pub const GROUP: &str = "orders";

/// What handling one `PaymentProcessed` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The order moved to this status.
    Moved(OrderStatus),
    /// The outcome is recorded; the order document follows once the outbox relay is done with it
    /// (reads show the outcome at once).
    Recorded(OrderStatus),
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
/// The outcome is first recorded as a settlement (an insert: nothing can undo it, and a repeat is a
/// no-op), then copied onto the order document by `_id`. Two things could go wrong with that copy
/// on FerretDB, where an update reads the document, changes it and writes all of it back, and
/// neither does:
/// - two handlers for one order could both pass the status check. Both copy the one settlement
///   that stands (the first recorded), never their own event, so racing writers write the same
///   values, and a stale or contradicting event cannot overwrite an outcome.
/// - the outbox relay, the document's only other writer, could write back a copy read before ours
///   and so move the status back. So the copy is made only once the relay has marked the
///   document's event sent (after which it never writes it again); until then the settlement alone
///   holds the outcome, reads apply it, and the reconciler copies it later. The handler never
///   waits for the relay, and never fails because of it.
#[instrument(skip_all, fields(order_id = %payment.order_id, payment_id = %payment.payment_id, status = %payment.order_status))]
pub async fn settle_payment(
    store: &Store,
    payment: &PaymentProcessed,
) -> Result<Settled, HandlerError> {
    let order = store
        .order_state(&payment.order_id)
        .await?
        .ok_or_else(|| format!("order {} does not exist", payment.order_id))?;
    let current = OrderStatus::from_code(order.order_status_code)?;
    if order.user_id != payment.user_id {
        tracing::warn!(order_user = %order.user_id, payment_user = %payment.user_id, "payment names another user; applying it to the order it names");
    }
    let next = match transition(current, payment.order_status) {
        Transition::Apply(next) => next,
        Transition::Ignore => {
            tracing::debug!(current = %current, "payment event changes nothing");
            return Ok(Settled::Unchanged);
        }
    };
    let settlement = store
        .record_settlement(Settlement::new(
            payment.order_id.clone(),
            next,
            payment.payment_id.clone(),
        ))
        .await?;
    let next = OrderStatus::from_code(settlement.order_status_code)?;
    if settlement.payment_id != payment.payment_id {
        tracing::warn!(standing = %settlement.payment_id, to = %next, "an earlier settlement stands; this event changes nothing");
    }
    if order.unpublished() {
        tracing::info!(to = %next, "settlement recorded; the order follows once its event is marked sent");
        return Ok(Settled::Recorded(next));
    }
    let moved = store.settle_order(&settlement).await?;
    if let Err(error) = store.finish_placement(&payment.order_id).await {
        tracing::debug!(%error, "removing a settled placement; the reconciler will");
    }
    if moved {
        tracing::info!(from = %current, to = %next, "order settled");
        Ok(Settled::Moved(next))
    } else {
        tracing::debug!("settled by a concurrent delivery");
        Ok(Settled::Unchanged)
    }
}

/// The runner's handler: one delivery, one [`settle_payment`].
pub async fn handle_payment(
    store: Store,
    delivery: Delivery<PaymentProcessed>,
) -> Result<(), HandlerError> {
    settle_payment(&store, &delivery.event).await.map(drop)
}
