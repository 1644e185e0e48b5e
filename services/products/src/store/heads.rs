//! Reading a product's head (its latest stock movement), helped by a per-process hint of each
//! product's last seen `seq`.
//!
//! Seqs are contiguous from 1 and never deleted (each append inserts exactly `head + 1`), so the head
//! is the last movement of the run that starts at any seq known to exist: from a hint, the head is
//! found by `_id` point reads (`<pid>#<hint>`, `<pid>#<hint + 1>`, ... until one is missing). On
//! MongoDB that costs about what the `{productId: 1, seq: -1}` index seek costs; on FerretDB, which
//! uses an index only for `_id`, it avoids a scan of the whole ledger per read, which is what keeps a
//! hot product fast under contention. The hint is only a starting point: a stale one (other
//! replicas appended) costs a few more point reads, and an impossible one falls back to the index.
//! A process starts without hints, at seq 1.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::try_join_all;
use mongodb::bson::doc;

use super::Store;
use super::ledger::{Movement, movement_id};
use crate::error::Result;

/// Point reads past a hint before the indexed query is the cheaper way.
const MAX_PROBES: usize = 8;

/// The last head `seq` this process saw per product. Bounded by the catalog's size.
#[derive(Debug, Clone, Default)]
pub struct HeadHints(Arc<Mutex<HashMap<String, i64>>>);

impl HeadHints {
    fn get(&self, product_id: &str) -> Option<i64> {
        self.lock().get(product_id).copied()
    }

    pub(super) fn set(&self, product_id: &str, seq: i64) {
        self.lock().insert(product_id.to_owned(), seq);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A map of hints stays usable after a panic elsewhere: at worst a hint is stale.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store {
    /// The product's latest movement, or `None` when it has none (it was never seeded).
    pub async fn head(&self, product_id: &str) -> Result<Option<Movement>> {
        // Without a hint (the product's first read in this process), start at the opening movement,
        // seq 1, which every seeded product has: a short ledger is then walked by point reads too.
        let hint = self.hints.get(product_id).unwrap_or(1);
        if let Some(mut head) = self.movement_at(product_id, hint).await? {
            for _ in 0..MAX_PROBES {
                match self.movement_at(product_id, head.seq + 1).await? {
                    Some(next) => head = next,
                    None => {
                        self.hints.set(product_id, head.seq);
                        return Ok(Some(head));
                    }
                }
            }
        }
        let head = self
            .movements
            .find_one(doc! { "productId": product_id })
            .sort(doc! { "seq": -1 })
            .await?;
        if let Some(head) = &head {
            self.hints.set(product_id, head.seq);
        }
        Ok(head)
    }

    /// The current stock of each product, read concurrently; a product without movements has 0.
    pub async fn stock_of(&self, product_ids: &[&str]) -> Result<Vec<i64>> {
        try_join_all(
            product_ids
                .iter()
                .map(|id| async move { Ok(self.head(id).await?.map_or(0, |head| head.balance)) }),
        )
        .await
    }

    /// The movement with this `seq`, by `_id`.
    pub async fn movement_at(&self, product_id: &str, seq: i64) -> Result<Option<Movement>> {
        Ok(self
            .movements
            .find_one(doc! { "_id": movement_id(product_id, seq) })
            .await?)
    }
}
