//! The stock ledger: one append-only collection of movements per product, `seq` 1, 2, 3, ...
//!
//! Why a ledger instead of a `stockQty` field with `$inc`: a reservation must decrement stock only if
//! enough is left, atomically. MongoDB can do that with a conditional update, but the test server
//! (FerretDB) cannot: it reads, modifies and writes back, so concurrent conditional updates oversell.
//! Inserts with a unique key are atomic on both. So each change is a new document whose `_id` is
//! `<productId>#<seq>`: writing movement `n + 1` is a compare-and-set on the head `n` (two writers
//! that read the same head race for the same `_id`, and exactly one insert wins). A unique
//! `movementKey` (`reserve:<reservationId>:<productId>`, ...) makes each change happen at most once,
//! however often it is retried. The current stock is the `balance` of the highest `seq`; the ledger
//! doubles as an audit trail of every stock change.

use std::time::Duration;

use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{Store, is_duplicate_key};
use crate::error::{ApiError, Result};

/// How long one append keeps retrying under contention before giving up with `stock_busy`. Kept
/// below the deadline `orders` gives a reservation call (`PRODUCTS_TIMEOUT_MS`, 4 s), so under heavy
/// contention the caller hears `stock_busy` instead of timing out on a reservation that may yet land.
const APPEND_DEADLINE: Duration = Duration::from_secs(3);

/// The longest pause between two attempts; pauses grow from 1 ms up to this, jittered.
const MAX_BACKOFF_MS: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MovementKind {
    /// The stock a product starts with, written when it is seeded.
    Opening,
    /// A reservation line taking stock (negative delta).
    Reserve,
    /// A reservation line giving its stock back (positive delta).
    Release,
}

/// One stock change. Never updated, never deleted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    /// `<productId>#<seq, zero-padded to 10 digits>`: unique per (product, seq).
    #[serde(rename = "_id")]
    pub id: String,
    pub product_id: String,
    pub seq: i64,
    pub delta: i64,
    /// The stock after this movement.
    pub balance: i64,
    pub kind: MovementKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    /// Unique: what this movement does, so doing it twice is impossible.
    pub movement_key: String,
    pub at: bson::DateTime,
}

/// A change to append, before the ledger gives it a `seq`.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub product_id: &'a str,
    pub kind: MovementKind,
    pub delta: i64,
    pub reservation_id: Option<&'a str>,
}

impl Change<'_> {
    /// `opening:<pid>`, `reserve:<rid>:<pid>` or `release:<rid>:<pid>`.
    pub fn key(&self) -> String {
        movement_key(self.kind, self.reservation_id, self.product_id)
    }

    fn movement(&self, seq: i64, balance: i64) -> Movement {
        Movement {
            id: movement_id(self.product_id, seq),
            product_id: self.product_id.to_owned(),
            seq,
            delta: self.delta,
            balance,
            kind: self.kind,
            reservation_id: self.reservation_id.map(str::to_owned),
            movement_key: self.key(),
            at: bson::DateTime::now(),
        }
    }
}

/// `<productId>#<seq, zero-padded to 10 digits>`.
pub fn movement_id(product_id: &str, seq: i64) -> String {
    format!("{product_id}#{seq:010}")
}

pub fn movement_key(kind: MovementKind, reservation_id: Option<&str>, product_id: &str) -> String {
    match (kind, reservation_id) {
        (MovementKind::Opening, _) => format!("opening:{product_id}"),
        (MovementKind::Reserve, rid) => format!("reserve:{}:{product_id}", rid.unwrap_or("")),
        (MovementKind::Release, rid) => format!("release:{}:{product_id}", rid.unwrap_or("")),
    }
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// This call wrote the movement.
    Now,
    /// A movement with the same key was already there: an earlier attempt did the work.
    Earlier,
}

/// The opening movement of a product seeded with `stock`.
pub fn opening(product_id: &str, stock: i64) -> Movement {
    Change {
        product_id,
        kind: MovementKind::Opening,
        delta: stock,
        reservation_id: None,
    }
    .movement(1, stock)
}

impl Store {
    pub async fn movement_by_key(&self, key: &str) -> Result<Option<Movement>> {
        Ok(self.movements.find_one(doc! { "movementKey": key }).await?)
    }

    /// Appends `change` at most once: retried until the movement is written, found already written,
    /// or refused (`product_not_found`, `out_of_stock`); `stock_busy` after [`APPEND_DEADLINE`] of
    /// losing races.
    ///
    /// The happy path is one head read and one insert. Whether the change is already in the ledger
    /// matters only after a duplicate key and before refusing for lack of stock (a retry of an
    /// applied reservation must succeed, not see its own effect as a shortage); it is checked then.
    pub async fn append(&self, change: Change<'_>) -> Result<Appended> {
        let deadline = Instant::now() + APPEND_DEADLINE;
        let key = change.key();
        let mut attempt: u32 = 0;
        loop {
            let Some(head) = self.head(change.product_id).await? else {
                return Err(ApiError::ProductNotFound(change.product_id.to_owned()));
            };
            let balance = head.balance + change.delta;
            if balance < 0 {
                if self.movement_by_key(&key).await?.is_some() {
                    return Ok(Appended::Earlier);
                }
                return Err(ApiError::OutOfStock {
                    product_id: change.product_id.to_owned(),
                    available: head.balance,
                    requested: -change.delta,
                });
            }
            let seq = head.seq + 1;
            match self
                .movements
                .insert_one(change.movement(seq, balance))
                .await
            {
                Ok(_) => {
                    self.hints.set(change.product_id, seq);
                    return Ok(Appended::Now);
                }
                Err(error) if is_duplicate_key(&error) => {}
                Err(error) => return Err(error.into()),
            }
            // Which key was taken? If `seq` holds this very change, it was ours: done. A free `seq`
            // means our key was the duplicate; one key lookup confirms it rather than assume.
            // Otherwise another writer won `seq`: retry. (Our key may also be further back in the
            // ledger, a retry of an applied change; the next free `seq` or the final check finds it.)
            let ours = match self.movement_at(change.product_id, seq).await? {
                Some(winner) => winner.movement_key == key,
                None => self.movement_by_key(&key).await?.is_some(),
            };
            if ours {
                return Ok(Appended::Earlier);
            }
            if Instant::now() >= deadline {
                if self.movement_by_key(&key).await?.is_some() {
                    return Ok(Appended::Earlier);
                }
                tracing::warn!(
                    product_id = change.product_id,
                    attempt,
                    "stock append gave up under contention"
                );
                return Err(ApiError::StockBusy(change.product_id.to_owned()));
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    /// Writes opening movements, skipping products that already have one.
    pub async fn insert_openings(&self, openings: Vec<Movement>) -> Result<u64> {
        if openings.is_empty() {
            return Ok(0);
        }
        let attempted = openings.len();
        let result = self
            .movements
            .insert_many(openings)
            .ordered(false)
            .await
            .map(drop);
        Ok(super::inserted_despite_duplicates(attempted, result)?)
    }
}

/// A random pause in `1..=min(2^attempt, MAX_BACKOFF_MS)` ms: losers of a race spread out instead of
/// colliding again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let cap = 1_u64
        .checked_shl(attempt.min(16))
        .unwrap_or(MAX_BACKOFF_MS)
        .clamp(1, MAX_BACKOFF_MS);
    Duration::from_millis(rand::random_range(1..=cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_ids_sort_by_seq_and_keys_name_the_change() {
        let change = Change {
            product_id: "p-1",
            kind: MovementKind::Reserve,
            delta: -2,
            reservation_id: Some("o-1"),
        };
        let movement = change.movement(42, 8);

        assert_eq!(movement.id, "p-1#0000000042");
        assert_eq!(movement.movement_key, "reserve:o-1:p-1");
        assert_eq!(opening("p-1", 5).movement_key, "opening:p-1");
        assert_eq!(opening("p-1", 5).id, "p-1#0000000001");
    }

    #[test]
    fn backoff_stays_between_one_millisecond_and_the_cap() {
        for attempt in [0, 1, 5, 30, u32::MAX] {
            let pause = backoff(attempt);
            assert!(pause >= Duration::from_millis(1), "{attempt}: {pause:?}");
            assert!(
                pause <= Duration::from_millis(MAX_BACKOFF_MS),
                "{attempt}: {pause:?}"
            );
        }
    }
}
