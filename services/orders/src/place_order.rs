//! Placing an order: bind the idempotency key, price and reserve the lines in `products`, write the
//! order with its `OrderCreated` event in one insert, wake the relay.
//!
//! Every step is idempotent for a given order id (the key's record is a unique insert, the
//! reservation is idempotent per id, the order's `_id` is the order id), and every request with one
//! key works on the order id bound to that key. So retries and concurrent twins converge on one
//! order, without a transaction and without relying on conditional updates.

use std::time::Duration;

use shop_domain::events::{OrderCreated, OrderLine};
use shop_domain::{CURRENCY, Money, OrderId, OrderStatus, UserId};
use shop_outbox::OutboxEntry;
use shop_streams::{Event, TRACEPARENT_FIELD, Traceparent};
use tracing::instrument;

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::order::{OrderRequest, PricedLine};
use crate::products::ProductsError;
use crate::store::orders::Inserted;
use crate::store::{Claim, IdempotencyRecord, OrderDocument};

/// How many times one request moves on to a new order id (after `stock_busy` or
/// `reservation_released`) before it answers 503: contention clears in a few tries or not soon.
const MAX_ID_MOVES: u32 = 4;

/// Places the order `request` for `user`, or returns the order already placed under `key`.
#[instrument(skip_all, fields(user_id = %user, order_id = tracing::field::Empty))]
pub async fn place_order(
    state: &AppState,
    user: &UserId,
    request: &OrderRequest,
    key: Option<&str>,
) -> Result<OrderDocument> {
    let mut order_id = OrderId::generate();
    let mut key_id = None;
    if let Some(key) = key {
        let record = IdempotencyRecord::new(user, key, request.canonical(), order_id.clone());
        if let Claim::Existing(existing) = state.store.claim_key(&record).await? {
            if existing.request != record.request {
                return Err(ApiError::IdempotencyKeyReused);
            }
            if let Some(order) = state.store.order(&existing.order_id).await? {
                tracing::Span::current().record("order_id", existing.order_id.as_str());
                return Ok(order);
            }
            // Bound to an order not written yet: an attempt crashed, or a twin is in flight.
            // Continue with its id; the steps below are idempotent for it.
            order_id = existing.order_id;
        }
        key_id = Some(record.id);
    }
    tracing::Span::current().record("order_id", order_id.as_str());

    let attempt = Attempt {
        state,
        user,
        request,
        key_id: key_id.as_deref(),
    };
    match attempt.reserve(order_id).await? {
        Reserved::Lines(order_id, lines) => attempt.write(order_id, lines).await,
        Reserved::AlreadyPlaced(order) => Ok(*order),
    }
}

/// One request's attempt at placing its order.
struct Attempt<'a> {
    state: &'a AppState,
    user: &'a UserId,
    request: &'a OrderRequest,
    /// The `_id` of the idempotency record this attempt works under, if the client sent a key.
    key_id: Option<&'a str>,
}

enum Reserved {
    Lines(OrderId, Vec<PricedLine>),
    /// A twin request (same key) placed the order meanwhile.
    AlreadyPlaced(Box<OrderDocument>),
}

impl Attempt<'_> {
    /// Reserves under `order_id`, moving to its successor when products says the id is spent.
    async fn reserve(&self, mut order_id: OrderId) -> Result<Reserved> {
        let mut moves = 0;
        loop {
            let error = match self
                .state
                .products
                .reserve(&order_id, &self.request.lines)
                .await
            {
                Ok(lines) => return Ok(Reserved::Lines(order_id, lines)),
                Err(error) => error,
            };
            match error {
                // A failed reservation ends its id for good (products records it as released):
                // after `stock_busy` (nothing held, contention), or when an earlier attempt under
                // this id gave its stock back. Either way, go on under the id's successor.
                ProductsError::StockBusy(_) | ProductsError::ReservationReleased(_)
                    if moves < MAX_ID_MOVES =>
                {
                    moves += 1;
                    if matches!(error, ProductsError::StockBusy(_)) {
                        tokio::time::sleep(backoff(moves)).await;
                    }
                    // The id may be spent because its order exists and was settled (a failed
                    // payment releases the stock): then that order is the answer.
                    if self.key_id.is_some()
                        && let Some(order) = self.state.store.order(&order_id).await?
                    {
                        return Ok(Reserved::AlreadyPlaced(Box::new(order)));
                    }
                    let next = successor(&order_id);
                    if let Some(key_id) = self.key_id {
                        self.state
                            .store
                            .rebind_key(key_id, &order_id, &next)
                            .await?;
                    }
                    tracing::info!(from = %order_id, to = %next, %error, "order id spent; moving on");
                    order_id = next;
                }
                error => return self.give_up(&order_id, error).await,
            }
        }
    }

    /// Turns a failed reservation into the client's answer, cleaning up after it.
    async fn give_up(&self, order_id: &OrderId, error: ProductsError) -> Result<Reserved> {
        match error {
            // All or nothing: nothing is reserved, and the key may be used again.
            ProductsError::ProductNotFound(message) => {
                self.forget_key(order_id).await;
                Err(ApiError::ProductNotFound(message))
            }
            ProductsError::OutOfStock(message) => {
                self.forget_key(order_id).await;
                Err(ApiError::OutOfStock(message))
            }
            ProductsError::Rejected { .. } => {
                self.forget_key(order_id).await;
                Err(ApiError::Internal(format!("reserving {order_id}: {error}")))
            }
            // Still contended after every move: nothing is held, and the key keeps its id (a retry
            // finds it spent and moves on).
            ProductsError::StockBusy(_) | ProductsError::ReservationReleased(_) => Err(
                ApiError::DependencyUnavailable(format!("reserving {order_id}: {error}")),
            ),
            // A call that timed out may have reserved: give it back. The key keeps its id; a retry
            // finds the reservation released and moves on to the id's successor.
            ProductsError::Unavailable(_) => match self.release_unless_placed(order_id).await {
                Some(order) => Ok(Reserved::AlreadyPlaced(Box::new(order))),
                None => Err(ApiError::DependencyUnavailable(format!(
                    "reserving {order_id}: {error}"
                ))),
            },
        }
    }

    /// Writes the order and its pending `OrderCreated` in one insert, then wakes the relay.
    async fn write(&self, order_id: OrderId, reserved: Vec<PricedLine>) -> Result<OrderDocument> {
        let state = self.state;
        let (lines, amount) = match self.priced(reserved) {
            Ok(priced) => priced,
            Err(reason) => {
                self.release_unless_placed(&order_id).await;
                return Err(ApiError::Internal(format!(
                    "reservation {order_id}: {reason}"
                )));
            }
        };
        let now = bson::DateTime::now();
        let traceparent = Traceparent::generate().to_string();
        let event = OrderCreated {
            order_id: order_id.clone(),
            user_id: self.user.clone(),
            order_amount: amount,
            products: lines
                .iter()
                .map(|line| OrderLine {
                    product_id: line.product_id.clone(),
                    qty: line.qty,
                    product_price: line.product_price,
                })
                .collect(),
            created_at: now.to_chrono(),
        };
        let mut fields = event.to_fields();
        fields.push(TRACEPARENT_FIELD, traceparent.as_str());
        let order = OrderDocument {
            id: order_id,
            user_id: self.user.clone(),
            order_status_code: OrderStatus::Created.code(),
            products: lines,
            order_amount: amount,
            currency: CURRENCY.to_owned(),
            payment_id: None,
            created_at: now,
            updated_at: now,
            traceparent,
            outbox: Some(OutboxEntry::new(&state.streams.orders, fields)),
        };
        match state.store.insert_order(&order).await {
            Ok(Inserted::New) => {
                state.outbox.written(order.id.as_str()).await;
                state.order_metrics.created.inc();
                tracing::info!(amount = %amount, "order placed");
                Ok(OrderDocument {
                    outbox: None,
                    ..order
                })
            }
            // A twin (same key) finished first: its order is the answer.
            Ok(Inserted::AlreadyThere) => state.store.order(&order.id).await?.ok_or_else(|| {
                ApiError::Internal(format!("order {} exists but cannot be read", order.id))
            }),
            Err(error) => match self.release_unless_placed(&order.id).await {
                Some(placed) => Ok(placed),
                None => Err(error.into()),
            },
        }
    }

    /// The reserved lines in the request's order, checked against it, and their total.
    fn priced(&self, reserved: Vec<PricedLine>) -> Result<(Vec<PricedLine>, Money), String> {
        let mut lines = Vec::with_capacity(self.request.lines.len());
        for wanted in &self.request.lines {
            let line = reserved
                .iter()
                .find(|line| line.product_id == wanted.product_id && line.qty == wanted.qty)
                .ok_or_else(|| {
                    format!(
                        "products did not reserve {} × {}",
                        wanted.qty.get(),
                        wanted.product_id
                    )
                })?;
            lines.push(line.clone());
        }
        let amount = lines
            .iter()
            .map(|line| line.product_price.times(line.qty))
            .collect::<Result<Vec<_>, _>>()
            .and_then(Money::sum)
            .map_err(|error| error.to_string())?;
        Ok((lines, amount))
    }

    /// Compensation when this attempt cannot write its order: give the stock back, unless the
    /// order exists after all (a twin wrote it, or our failed insert did land), which is then the
    /// answer. Best effort: a release that fails is logged and the stock stays held.
    async fn release_unless_placed(&self, order_id: &OrderId) -> Option<OrderDocument> {
        match self.state.store.order(order_id).await {
            Ok(Some(order)) => return Some(order),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "checking for the order before releasing"),
        }
        match self.state.products.release(order_id).await {
            Ok(()) => tracing::info!("reservation released"),
            Err(error) => {
                tracing::error!(%error, "releasing the reservation failed; its stock stays held")
            }
        }
        None
    }

    /// Unbinds the key after a definitive failure, so the client may retry with it.
    async fn forget_key(&self, order_id: &OrderId) {
        if let Some(key_id) = self.key_id
            && let Err(error) = self.state.store.forget_key(key_id, order_id).await
        {
            tracing::warn!(%error, "freeing the idempotency key; it stays bound until it expires");
        }
    }
}

/// The order id that replaces `id` once its reservation has ended. Derived, not random, so that
/// concurrent requests with one key all move to the same id: `01J…` → `01J…-2` → `01J…-3`.
fn successor(id: &OrderId) -> OrderId {
    let (base, n) = match id.as_str().rsplit_once('-') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (base, n.parse::<u32>().unwrap_or(1))
        }
        _ => (id.as_str(), 1),
    };
    OrderId::parse(format!("{base}-{}", n.saturating_add(1)))
        .unwrap_or_else(|_| OrderId::generate())
}

/// 25 ms, 50 ms, ... plus up to 25 ms of jitter, so retrying twins do not collide again.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(25 * u64::from(attempt) + rand::random_range(0..25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_deterministic_and_distinct() {
        let id = OrderId::generate();
        let next = successor(&id);

        assert_eq!(next, successor(&id));
        assert_eq!(next.as_str(), format!("{id}-2"));
        assert_eq!(successor(&next).as_str(), format!("{id}-3"));
    }
}
