//! `idempotency_keys`: one document per (user, `Idempotency-Key`), inserted before any work is
//! done. Its unique `_id` decides, atomically, which request owns the key; every later request with
//! the key reads which order id it is bound to.

use bson::doc;
use mongodb::error::Error;
use serde::{Deserialize, Serialize};
use shop_domain::{OrderId, UserId};

use super::{Store, is_duplicate_key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    /// `<userId>:<key>`: keys are scoped per user (user ids contain no `:`).
    #[serde(rename = "_id")]
    pub id: String,
    /// The request's canonical form, to tell a retry from a reuse of the key for another order.
    pub request: String,
    /// The order every request with this key places (and the id of its reservation).
    pub order_id: OrderId,
    /// Also the expiry clock (TTL index).
    pub created_at: bson::DateTime,
}

impl IdempotencyRecord {
    pub fn new(user: &UserId, key: &str, request: String, order_id: OrderId) -> Self {
        Self {
            id: format!("{user}:{key}"),
            request,
            order_id,
            created_at: bson::DateTime::now(),
        }
    }
}

/// Who owns a key after [`Store::claim_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request inserted the record: the key is new.
    New,
    /// The key was used before; this is its record.
    Existing(IdempotencyRecord),
}

/// A claim that keeps losing to a record that vanishes before it can be read: records are deleted
/// only after a failed attempt, so this takes a client hammering one key as fast as it fails.
const CLAIM_ROUNDS: usize = 3;

impl Store {
    /// Inserts `record` unless its key is taken; when it is, returns the existing record.
    pub async fn claim_key(&self, record: &IdempotencyRecord) -> Result<Claim, Error> {
        for _ in 0..CLAIM_ROUNDS {
            match self.keys.insert_one(record).await {
                Ok(_) => return Ok(Claim::New),
                Err(error) if is_duplicate_key(&error) => {
                    if let Some(existing) = self.keys.find_one(doc! { "_id": &record.id }).await? {
                        return Ok(Claim::Existing(existing));
                    }
                    // Deleted by a failed attempt between our insert and read: claim again.
                }
                Err(error) => return Err(error),
            }
        }
        Err(Error::custom(format!(
            "idempotency key {} kept changing hands",
            record.id
        )))
    }

    /// Rebinds a key from `from` to `to`. Every request that does this computes the same `to`
    /// (see `place_order::successor`), so concurrent rebinds write the same value: no
    /// compare-and-swap is needed, which matters on FerretDB.
    pub async fn rebind_key(&self, id: &str, from: &OrderId, to: &OrderId) -> Result<(), Error> {
        self.keys
            .update_one(
                doc! { "_id": id, "orderId": from.as_str() },
                doc! { "$set": { "orderId": to.as_str() } },
            )
            .await?;
        Ok(())
    }

    /// Frees a key after a definitive failure, so the client can retry it (once stock is back, say).
    /// Only while it is still bound to `order_id`: a rebound key belongs to a newer attempt.
    pub async fn forget_key(&self, id: &str, order_id: &OrderId) -> Result<(), Error> {
        self.keys
            .delete_one(doc! { "_id": id, "orderId": order_id.as_str() })
            .await?;
        Ok(())
    }
}
