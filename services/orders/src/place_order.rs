//! Placing an order so that no stock is ever held by nobody: record the placement, reserve in
//! `products` under its id, decide its fate (one unique insert: confirmed or rejected), then write
//! the order with its `OrderCreated` in one insert, or release the stock.
//!
//! The placement record is written *before* anything is reserved, so every reservation has a record
//! in this database naming it, and the reconciler (`reconciler.rs`) finishes whatever a crashed or
//! frozen request left: a confirmed fate gets its order written, a rejected one its stock released,
//! an undecided one older than `PLACEMENT_TIMEOUT_MS` is rejected. The fate is the fence: an order
//! is written only under a `confirmed` fate and stock is released only under a `rejected` one, and
//! a placement can have only one. Only the request that inserted the placement reserves under its
//! id; a twin with the same `Idempotency-Key` follows it instead, so no second reservation call can
//! undo the first one's stock.
//!
//! The whole placement runs in a task of its own: a client that hangs up cannot cut it halfway.

use std::time::Duration;

use shop_domain::events::{OrderCreated, OrderLine};
use shop_domain::{CURRENCY, Money, OrderId, OrderStatus, UserId};
use shop_outbox::OutboxEntry;
use shop_streams::{Event, StreamNames, TRACEPARENT_FIELD, Traceparent};
use tracing::{Instrument, instrument};

use crate::AppState;
use crate::config::millis;
use crate::error::{ApiError, Result};
use crate::order::{OrderRequest, PricedLine};
use crate::products::ProductsError;
use crate::store::orders::Inserted;
use crate::store::{Begun, Claim, Fate, IdempotencyRecord, OrderDocument, Placement};

/// How many times one request moves on to a new order id (after `stock_busy`, or an id whose
/// placement was rejected) before it answers 503: contention clears in a few tries or not soon.
const MAX_ID_MOVES: u32 = 4;

/// How long a request with the `Idempotency-Key` of a placement in flight waits for that placement
/// to end before answering `order_in_progress` (the client retries; the order will be there).
const FOLLOW_WAIT: Duration = Duration::from_secs(2);

/// Places the order `request` for `user`, or returns the order already placed under `key`.
///
/// Runs in a spawned task, so dropping the returned future (the client hung up) does not stop it.
pub async fn place_order(
    state: &AppState,
    user: &UserId,
    request: &OrderRequest,
    key: Option<&str>,
) -> Result<OrderDocument> {
    let (state, user, request) = (state.clone(), user.clone(), request.clone());
    let key = key.map(str::to_owned);
    let placing = async move { place(&state, &user, &request, key.as_deref()).await };
    tokio::spawn(placing.in_current_span())
        .await
        .map_err(|error| ApiError::Internal(format!("placing the order: {error}")))?
}

#[instrument(skip_all, fields(user_id = %user, order_id = tracing::field::Empty))]
async fn place(
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
            // Bound to an order not written yet: a twin is in flight, or an attempt crashed.
            order_id = existing.order_id;
        }
        key_id = Some(record.id);
    }

    let attempt = Attempt {
        state,
        user,
        request,
        key_id: key_id.as_deref(),
    };
    let mut moves = 0;
    loop {
        tracing::Span::current().record("order_id", order_id.as_str());
        let spent = match attempt.run(&order_id).await? {
            Step::Placed(order) => return Ok(*order),
            Step::Spent(spent) => spent,
        };
        if moves >= MAX_ID_MOVES {
            return Err(ApiError::DependencyUnavailable(format!(
                "placing {order_id}: {spent}"
            )));
        }
        moves += 1;
        if matches!(spent, Spent::Busy(_)) {
            tokio::time::sleep(backoff(moves)).await;
        }
        let next = successor(&order_id);
        if let Some(key_id) = attempt.key_id {
            state.store.rebind_key(key_id, &order_id, &next).await?;
        }
        tracing::info!(from = %order_id, to = %next, %spent, "order id spent; moving on");
        order_id = next;
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

/// Where one order id got the attempt.
enum Step {
    Placed(Box<OrderDocument>),
    /// The id can hold no order any more: go on under its successor.
    Spent(Spent),
}

#[derive(Debug)]
enum Spent {
    /// Stock too contended to reserve in time; nothing is held.
    Busy(String),
    /// The id's placement was rejected (or its reservation released) earlier.
    Ended(String),
}

impl std::fmt::Display for Spent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy(reason) => write!(f, "stock busy: {reason}"),
            Self::Ended(reason) => write!(f, "placement ended: {reason}"),
        }
    }
}

/// Whether a rejected placement may still hold stock that must be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Products said so itself: nothing was reserved, or it undid the reservation.
    Nothing,
    /// Unknown (a timeout), or some lines may be left after products' own clean-up failed.
    Maybe,
}

impl Attempt<'_> {
    async fn run(&self, order_id: &OrderId) -> Result<Step> {
        let placement = Placement::new(
            order_id.clone(),
            self.user.clone(),
            self.request.lines.clone(),
        );
        match self.state.store.begin_placement(&placement).await? {
            Begun::Owner => self.own(&placement).await,
            Begun::Taken(existing) => self.follow(&existing).await,
            Begun::Finished => match self.state.store.order(order_id).await? {
                Some(order) => Ok(Step::Placed(Box::new(order))),
                None => Ok(Step::Spent(Spent::Ended(
                    "its placement finished without an order".to_owned(),
                ))),
            },
        }
    }

    /// The placement is ours: reserve, decide, write (or reject and release).
    async fn own(&self, placement: &Placement) -> Result<Step> {
        let id = &placement.id;
        let several = self.request.lines.len() > 1;
        let error = match self.state.products.reserve(id, &self.request.lines).await {
            Ok(reserved) => return self.confirm(placement, reserved).await,
            Err(error) => error,
        };
        // Products undoes a failed reservation itself; with one line, a refusal means it never
        // took any stock. With several, the lines before the refused one are given back by its
        // clean-up, which is best effort: release to be sure (it is idempotent).
        let refused = if several { Held::Maybe } else { Held::Nothing };
        match error {
            ProductsError::ProductNotFound(message) => {
                self.reject(id, &message, Held::Nothing).await?;
                self.forget_key(id).await;
                Err(ApiError::ProductNotFound(message))
            }
            ProductsError::OutOfStock(message) => {
                self.reject(id, &message, refused).await?;
                self.forget_key(id).await;
                Err(ApiError::OutOfStock(message))
            }
            ProductsError::StockBusy(message) => {
                self.reject(id, &message, refused).await?;
                Ok(Step::Spent(Spent::Busy(message)))
            }
            ProductsError::ReservationReleased(message) => {
                self.reject(id, &message, Held::Nothing).await?;
                Ok(Step::Spent(Spent::Ended(message)))
            }
            ProductsError::Rejected { .. } => {
                self.reject(id, &error.to_string(), Held::Maybe).await?;
                self.forget_key(id).await;
                Err(ApiError::Internal(format!("reserving {id}: {error}")))
            }
            // A call that timed out may have reserved: reject it and give the stock back. The key
            // keeps its id; a retry finds the placement rejected and moves on to the successor.
            ProductsError::Unavailable(_) => {
                self.reject(id, &error.to_string(), Held::Maybe).await?;
                Err(ApiError::DependencyUnavailable(format!(
                    "reserving {id}: {error}"
                )))
            }
        }
    }

    /// The stock is reserved: decide `confirmed` and write the order, unless the placement was
    /// rejected meanwhile (this request was frozen past `PLACEMENT_TIMEOUT_MS`), which wins.
    async fn confirm(&self, placement: &Placement, reserved: Vec<PricedLine>) -> Result<Step> {
        let id = &placement.id;
        let (lines, amount) = match self.priced(reserved) {
            Ok(priced) => priced,
            Err(reason) => {
                self.reject(id, &reason, Held::Maybe).await?;
                self.forget_key(id).await;
                return Err(ApiError::Internal(format!("reservation {id}: {reason}")));
            }
        };
        let fate = Fate::Confirmed {
            lines,
            amount,
            traceparent: Traceparent::generate().to_string(),
            at: bson::DateTime::now(),
        };
        match self.state.store.decide(id, fate).await? {
            confirmed @ Fate::Confirmed { .. } => {
                let order = write_order(self.state, placement, &confirmed).await?;
                Ok(Step::Placed(Box::new(order)))
            }
            Fate::Rejected { reason, .. } => {
                tracing::warn!(%reason, "the placement was rejected while it reserved; releasing");
                release_rejected(self.state, id).await;
                Err(ApiError::DependencyUnavailable(format!(
                    "placing {id} took too long and was rejected; try again"
                )))
            }
        }
    }

    /// Another request owns this placement (a twin with the same key, or an attempt that died):
    /// wait for its fate, take over an abandoned one, or tell the client it is still in progress.
    async fn follow(&self, placement: &Placement) -> Result<Step> {
        let id = &placement.id;
        let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(order) = self.state.store.order(id).await? {
                return Ok(Step::Placed(Box::new(order)));
            }
            let fate = match self.state.store.fate(id).await? {
                Some(fate) => Some(fate),
                None if placement.age_ms(bson::DateTime::now())
                    >= millis(self.state.reconcile.placement_timeout) =>
                {
                    // Abandoned: its owner died or froze. Reject it (the fence stops the owner if
                    // it wakes up) and move on.
                    let fate = self
                        .state
                        .store
                        .decide(id, Fate::rejected("abandoned by its request"))
                        .await?;
                    if matches!(fate, Fate::Rejected { .. }) {
                        release_rejected(self.state, id).await;
                    }
                    Some(fate)
                }
                None => None,
            };
            match fate {
                Some(confirmed @ Fate::Confirmed { .. }) => {
                    let order = write_order(self.state, placement, &confirmed).await?;
                    return Ok(Step::Placed(Box::new(order)));
                }
                Some(Fate::Rejected { reason, .. }) => {
                    return Ok(Step::Spent(Spent::Ended(reason)));
                }
                None => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::OrderInProgress(id.to_string()));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Decides `rejected` and, when stock may be held, releases it. A release that fails leaves
    /// the placement to the reconciler, which releases it later; a failure to decide is returned
    /// (the placement stays undecided, and the reconciler rejects it once it is old enough).
    async fn reject(&self, id: &OrderId, reason: &str, held: Held) -> Result<()> {
        match self.state.store.decide(id, Fate::rejected(reason)).await? {
            Fate::Rejected { .. } if held == Held::Maybe => {
                release_rejected(self.state, id).await;
            }
            Fate::Rejected { .. } => {
                if let Err(error) = self.state.store.finish_placement(id).await {
                    tracing::warn!(%error, "removing a rejected placement; the reconciler will");
                }
            }
            // Only the placement's owner confirms, and that is this request: cannot happen.
            Fate::Confirmed { .. } => {
                tracing::error!("a placement this request owns was confirmed by someone else")
            }
        }
        Ok(())
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

    /// Unbinds the key after a definitive failure, so the client may retry with it.
    async fn forget_key(&self, order_id: &OrderId) {
        if let Some(key_id) = self.key_id
            && let Err(error) = self.state.store.forget_key(key_id, order_id).await
        {
            tracing::warn!(%error, "freeing the idempotency key; it stays bound until it expires");
        }
    }
}

/// Writes the order of a confirmed placement with its pending `OrderCreated`, in one insert, and
/// wakes the relay. Idempotent: whoever finds a confirmed fate (the request, a twin, the
/// reconciler) writes the same document, built from the placement and the fate alone.
pub(crate) async fn write_order(
    state: &AppState,
    placement: &Placement,
    confirmed: &Fate,
) -> Result<OrderDocument> {
    let order = order_document(&state.streams, placement, confirmed)?;
    match state.store.insert_order(&order).await? {
        Inserted::New => {
            state.outbox.written(order.id.as_str()).await;
            state.order_metrics.created.inc();
            tracing::info!(amount = %order.order_amount, "order placed");
            Ok(OrderDocument {
                outbox: None,
                ..order
            })
        }
        Inserted::AlreadyThere => state.store.order(&order.id).await?.ok_or_else(|| {
            ApiError::Internal(format!("order {} exists but cannot be read", order.id))
        }),
    }
}

/// The order document (with its `OrderCreated` entry) of a confirmed placement.
fn order_document(
    streams: &StreamNames,
    placement: &Placement,
    confirmed: &Fate,
) -> Result<OrderDocument> {
    let Fate::Confirmed {
        lines,
        amount,
        traceparent,
        at,
    } = confirmed
    else {
        return Err(ApiError::Internal(format!(
            "order {} written from a fate that is not confirmed",
            placement.id
        )));
    };
    let mut fields =
        order_created(&placement.id, &placement.user_id, lines, *amount, *at).to_fields();
    fields.push(TRACEPARENT_FIELD, traceparent.as_str());
    Ok(OrderDocument {
        id: placement.id.clone(),
        user_id: placement.user_id.clone(),
        order_status_code: OrderStatus::Created.code(),
        products: lines.clone(),
        order_amount: *amount,
        currency: CURRENCY.to_owned(),
        payment_id: None,
        created_at: *at,
        updated_at: *at,
        traceparent: traceparent.clone(),
        outbox: Some(OutboxEntry::new(&streams.orders, fields)),
    })
}

/// The `OrderCreated` of an order: built in one place for the first announcement and for the
/// reconciler's re-announcements, so both say the same.
pub(crate) fn order_created(
    id: &OrderId,
    user: &UserId,
    lines: &[PricedLine],
    amount: Money,
    at: bson::DateTime,
) -> OrderCreated {
    OrderCreated {
        order_id: id.clone(),
        user_id: user.clone(),
        order_amount: amount,
        products: lines
            .iter()
            .map(|line| OrderLine {
                product_id: line.product_id.clone(),
                qty: line.qty,
                product_price: line.product_price,
            })
            .collect(),
        created_at: at.to_chrono(),
    }
}

/// Gives back the stock of a rejected placement and removes the placement; a failure leaves it
/// for the reconciler's next pass (products' release is idempotent).
pub(crate) async fn release_rejected(state: &AppState, id: &OrderId) -> bool {
    match state.products.release(id).await {
        Ok(()) => {
            tracing::info!(order_id = %id, "reservation of a rejected placement released");
            if let Err(error) = state.store.finish_placement(id).await {
                tracing::warn!(%error, "removing a released placement; the reconciler will");
            }
            true
        }
        Err(error) => {
            tracing::warn!(order_id = %id, %error, "releasing a rejected placement failed; the reconciler retries");
            false
        }
    }
}

/// The order id that replaces `id` once its placement has ended. Derived, not random, so that
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
