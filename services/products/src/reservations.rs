//! Reservations: the stock an order holds while its payment is decided.
//!
//! A reservation is an insert-only record of its lines, one `reserve` movement per line in the
//! ledger, and at most one outcome: `committed` (paid, the stock is gone for good) or `released`
//! (the stock goes back through one `release` movement per reserved line). The outcome is a single
//! insert keyed by the reservation id, so the first decision wins and the other can never apply.
//! Every step is keyed (`reserve:<rid>:<pid>`, `release:<rid>:<pid>`), so any of these functions can
//! be re-run after a crash or a duplicate request without moving stock twice.

use std::collections::HashMap;

use futures::future::try_join_all;
use mongodb::bson;
use serde::Serialize;
use shop_domain::{OrderId, ProductId, Quantity};

use crate::AppState;
use crate::error::{ApiError, Result};
use crate::store::ledger::{Appended, Change, MovementKind, movement_key};
use crate::store::reservations::{Outcome, ReservationDoc, ReservedLine};

/// A validated reservation request: an id (the order's), and distinct products with quantities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    pub reservation_id: OrderId,
    pub lines: Vec<(ProductId, Quantity)>,
}

/// The answer to a successful reservation: each line priced from the catalog.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub reservation_id: String,
    pub lines: Vec<PricedLine>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    pub product_id: String,
    pub name: String,
    pub qty: u32,
    /// Unit price in cents.
    pub product_price: i64,
}

/// What a commit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitResult {
    /// Committed, by this call or an earlier one.
    Committed,
    /// Released first (e.g. a failed reservation): committing is a no-op.
    WasReleased,
    /// No reservation has this id.
    Unknown,
}

fn ensure_ready(state: &AppState) -> Result<()> {
    if state.ledger_ready() {
        Ok(())
    } else {
        Err(ApiError::NotReady)
    }
}

/// Reserves every line, or none: on the first line that cannot be reserved, the reservation is
/// released (lines already reserved get their stock back) and that line's error is returned.
pub async fn reserve(state: &AppState, request: &ReservationRequest) -> Result<Reservation> {
    ensure_ready(state)?;
    let rid = request.reservation_id.as_str();
    let lines: Vec<ReservedLine> = request
        .lines
        .iter()
        .map(|(product_id, qty)| ReservedLine {
            product_id: product_id.to_string(),
            qty: i64::from(qty.get()),
        })
        .collect();
    let priced = price_lines(state, rid, &lines).await?;

    let doc = ReservationDoc {
        id: rid.to_owned(),
        lines: lines.clone(),
        created_at: bson::DateTime::now(),
    };
    if let Some(existing) = state.store.insert_reservation(&doc).await?
        && !same_lines(&existing.lines, &lines)
    {
        return Err(ApiError::ReservationConflict(rid.to_owned()));
    }
    match state.store.outcome(rid).await? {
        Some(Outcome::Released) => return Err(ApiError::ReservationReleased(rid.to_owned())),
        Some(Outcome::Committed) => return Ok(priced),
        None => {}
    }

    for line in &lines {
        let change = Change {
            product_id: &line.product_id,
            kind: MovementKind::Reserve,
            delta: -line.qty,
            reservation_id: Some(rid),
        };
        match state.store.append(change).await {
            Ok(Appended::Now) => state.cache.invalidate_product(&line.product_id).await,
            Ok(Appended::Earlier) => {}
            Err(error) => {
                compensate(state, rid, &lines).await;
                return Err(error);
            }
        }
    }

    // A release that ran while the lines above were being reserved may have missed some of them:
    // it wrote its outcome before looking for reserve movements, so it is visible here, and
    // releasing again returns whatever it missed (release movements are keyed, so nothing twice).
    if state.store.outcome(rid).await? == Some(Outcome::Released) {
        release_lines(state, rid, &lines).await?;
        return Err(ApiError::ReservationReleased(rid.to_owned()));
    }
    Ok(priced)
}

/// Ends the reservation as released and returns the stock of every line that was reserved.
/// Idempotent; `reservation_committed` once the order was paid.
///
/// The outcome is written before looking the reservation up, even for an unknown id (which then
/// answers `reservation_not_found`): a reservation still in flight under that id will see the
/// outcome and undo itself, instead of holding stock nobody will release.
pub async fn release(state: &AppState, reservation_id: &str) -> Result<()> {
    ensure_ready(state)?;
    if state
        .store
        .decide(reservation_id, Outcome::Released)
        .await?
        == Outcome::Committed
    {
        return Err(ApiError::ReservationCommitted(reservation_id.to_owned()));
    }
    let reservation = state
        .store
        .reservation(reservation_id)
        .await?
        .ok_or_else(|| ApiError::ReservationNotFound(reservation_id.to_owned()))?;
    release_lines(state, reservation_id, &reservation.lines).await
}

/// Ends the reservation as committed (its order was paid): its stock stays taken.
pub async fn commit(state: &AppState, reservation_id: &str) -> Result<CommitResult> {
    ensure_ready(state)?;
    // Without a reservation there is nothing to commit, and an outcome written now would turn a
    // later reservation with this id into an instant "success" that reserved nothing.
    if state.store.reservation(reservation_id).await?.is_none() {
        return Ok(CommitResult::Unknown);
    }
    let outcome = state
        .store
        .decide(reservation_id, Outcome::Committed)
        .await?;
    Ok(match outcome {
        Outcome::Released => CommitResult::WasReleased,
        Outcome::Committed => CommitResult::Committed,
    })
}

/// Prices the lines from the catalog; the first unknown product is `product_not_found`.
async fn price_lines(state: &AppState, rid: &str, lines: &[ReservedLine]) -> Result<Reservation> {
    let ids: Vec<&str> = lines.iter().map(|l| l.product_id.as_str()).collect();
    let mut catalog: HashMap<String, _> = state
        .store
        .products_by_ids(&ids)
        .await?
        .into_iter()
        .map(|doc| (doc.product_id.to_string(), doc))
        .collect();
    let lines = lines
        .iter()
        .map(|line| {
            let doc = catalog
                .remove(&line.product_id)
                .ok_or_else(|| ApiError::ProductNotFound(line.product_id.clone()))?;
            Ok(PricedLine {
                product_id: line.product_id.clone(),
                name: doc.name,
                qty: u32::try_from(line.qty).unwrap_or(0),
                product_price: doc.price.minor(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Reservation {
        reservation_id: rid.to_owned(),
        lines,
    })
}

/// Undoes a reservation that failed part-way. Best effort: the original error is what the caller
/// needs to see; if this fails, a retry of the reservation or of its release finishes the job.
async fn compensate(state: &AppState, rid: &str, lines: &[ReservedLine]) {
    let undone = async {
        match state.store.decide(rid, Outcome::Released).await? {
            Outcome::Released => release_lines(state, rid, lines).await,
            // Cannot happen in the order flow (a payment follows a successful reservation); the
            // outcome rule wins over this cleanup either way.
            Outcome::Committed => Ok(()),
        }
    };
    if let Err(error) = undone.await {
        tracing::error!(reservation_id = rid, %error, "undoing a failed reservation");
    }
}

/// Appends a release movement for every line that has a reserve movement (lines are independent, so
/// concurrently).
async fn release_lines(state: &AppState, rid: &str, lines: &[ReservedLine]) -> Result<()> {
    try_join_all(lines.iter().map(|line| async move {
        let reserved = movement_key(MovementKind::Reserve, Some(rid), &line.product_id);
        if state.store.movement_by_key(&reserved).await?.is_none() {
            return Ok(());
        }
        let change = Change {
            product_id: &line.product_id,
            kind: MovementKind::Release,
            delta: line.qty,
            reservation_id: Some(rid),
        };
        if state.store.append(change).await? == Appended::Now {
            state.cache.invalidate_product(&line.product_id).await;
        }
        Ok(())
    }))
    .await
    .map(drop)
}

/// Lines are equal as sets: a retry may list them in another order.
fn same_lines(a: &[ReservedLine], b: &[ReservedLine]) -> bool {
    let sorted = |lines: &[ReservedLine]| {
        let mut lines = lines.to_vec();
        lines.sort_by(|x, y| x.product_id.cmp(&y.product_id));
        lines
    };
    sorted(a) == sorted(b)
}
