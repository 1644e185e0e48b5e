//! The records that make an order's reservation always have an owner: `placements` (an order from
//! its first step until it settles), `placement_fates` (the one decision, confirmed or rejected, that
//! fences a placement) and `settlements` (the payment outcome, insert-only, so no other write to the
//! order document can undo it).
//!
//! Each is written by unique inserts or by `_id`, the writes that are atomic on MongoDB and on
//! FerretDB alike (see docs/testing.md), and each collection stays small or is only read by `_id`:
//! placements are deleted once their order settles, so a reconciler pass reads only unfinished work.

use bson::doc;
use futures::TryStreamExt;
use mongodb::error::Error;
use serde::{Deserialize, Serialize};
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, UserId};

use super::{Store, is_duplicate_key};
use crate::order::{PricedLine, RequestedLine};

/// An order in progress: written before its stock is reserved, so every reservation in `products`
/// has a record here naming it, until the order settles or is rejected and its stock released.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// The order id, which is also the reservation id.
    #[serde(rename = "_id")]
    pub id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<RequestedLine>,
    pub created_at: bson::DateTime,
    /// When the reconciler last re-published the order's `OrderCreated`, and how often it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_at: Option<bson::DateTime>,
    #[serde(default)]
    pub announcements: i32,
}

impl Placement {
    pub fn new(id: OrderId, user_id: UserId, lines: Vec<RequestedLine>) -> Self {
        Self {
            id,
            user_id,
            lines,
            created_at: bson::DateTime::now(),
            announced_at: None,
            announcements: 0,
        }
    }

    /// Milliseconds since the placement began (0 for a clock that went backwards).
    pub fn age_ms(&self, now: bson::DateTime) -> i64 {
        (now.timestamp_millis() - self.created_at.timestamp_millis()).max(0)
    }
}

/// The decision that ends a placement's first phase. Whoever inserts it first decides; everyone
/// else follows it. `Confirmed` carries what the order is written from, so whoever finds a
/// confirmed fate without its order (the writer crashed in between) writes the very same order.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// The stock is reserved and the order is (or will be) written with these priced lines.
    Confirmed {
        lines: Vec<PricedLine>,
        amount: Money,
        traceparent: String,
        at: bson::DateTime,
    },
    /// No order will ever be written under this id; its reservation, if any, is to be released.
    Rejected { reason: String, at: bson::DateTime },
}

impl Fate {
    pub fn rejected(reason: impl Into<String>) -> Self {
        Self::Rejected {
            reason: reason.into(),
            at: bson::DateTime::now(),
        }
    }
}

/// A fate as stored: a flat document (serde's tagged and flattened forms lose BSON dates).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FateDocument {
    #[serde(rename = "_id")]
    id: OrderId,
    /// `confirmed` or `rejected`.
    fate: String,
    at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<PricedLine>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl FateDocument {
    fn new(id: &OrderId, fate: &Fate) -> Self {
        let blank = |fate: &str, at: bson::DateTime| Self {
            id: id.clone(),
            fate: fate.to_owned(),
            at,
            lines: None,
            amount: None,
            traceparent: None,
            reason: None,
        };
        match fate {
            Fate::Confirmed {
                lines,
                amount,
                traceparent,
                at,
            } => Self {
                lines: Some(lines.clone()),
                amount: Some(*amount),
                traceparent: Some(traceparent.clone()),
                ..blank("confirmed", *at)
            },
            Fate::Rejected { reason, at } => Self {
                reason: Some(reason.clone()),
                ..blank("rejected", *at)
            },
        }
    }

    fn fate(self) -> Result<Fate, Error> {
        match (
            self.fate.as_str(),
            self.lines,
            self.amount,
            self.traceparent,
        ) {
            ("confirmed", Some(lines), Some(amount), Some(traceparent)) => Ok(Fate::Confirmed {
                lines,
                amount,
                traceparent,
                at: self.at,
            }),
            ("rejected", ..) => Ok(Fate::Rejected {
                reason: self.reason.unwrap_or_default(),
                at: self.at,
            }),
            (fate, ..) => Err(Error::custom(format!(
                "the fate of {} does not decode ({fate})",
                self.id
            ))),
        }
    }
}

/// A payment outcome for an order, as the payments consumer learned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    #[serde(rename = "_id")]
    pub order_id: OrderId,
    pub order_status_code: i32,
    pub payment_id: PaymentId,
    pub at: bson::DateTime,
}

impl Settlement {
    pub fn new(order_id: OrderId, status: OrderStatus, payment_id: PaymentId) -> Self {
        Self {
            order_id,
            order_status_code: status.code(),
            payment_id,
            at: bson::DateTime::now(),
        }
    }
}

/// What beginning a placement found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begun {
    /// This request owns the placement: it alone reserves under the id.
    Owner,
    /// Another request (same `Idempotency-Key`) owns it, or did before it died.
    Taken(Placement),
    /// The order was placed, or the placement finished, before this request came.
    Finished,
}

impl Store {
    /// Starts a placement, unless one with its id exists. A placement whose order already exists
    /// is not started again (its order is the answer, and its record may be gone already).
    pub async fn begin_placement(&self, placement: &Placement) -> Result<Begun, Error> {
        match self.placements.insert_one(placement).await {
            Ok(_) => Ok(Begun::Owner),
            Err(error) if is_duplicate_key(&error) => match self.placement(&placement.id).await? {
                Some(existing) => Ok(Begun::Taken(existing)),
                None => Ok(Begun::Finished),
            },
            Err(error) => Err(error),
        }
    }

    pub async fn placement(&self, id: &OrderId) -> Result<Option<Placement>, Error> {
        self.placements.find_one(doc! { "_id": id.as_str() }).await
    }

    /// Every unfinished placement. The collection holds only orders that have not settled yet, so
    /// this is a small read even where the server scans (see docs/testing.md).
    pub async fn placements(&self) -> Result<Vec<Placement>, Error> {
        self.placements
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await
    }

    pub async fn finish_placement(&self, id: &OrderId) -> Result<(), Error> {
        self.placements
            .delete_one(doc! { "_id": id.as_str() })
            .await
            .map(drop)
    }

    /// Records a re-announcement. Only the reconciler writes this field, and writing the same
    /// values twice (two replicas) is harmless.
    pub async fn mark_announced(&self, id: &OrderId, count: i32) -> Result<(), Error> {
        self.placements
            .update_one(
                doc! { "_id": id.as_str() },
                doc! { "$set": { "announcedAt": bson::DateTime::now(), "announcements": count } },
            )
            .await
            .map(drop)
    }

    /// Decides the placement `id` as `fate`, unless it was decided already: returns the fate that
    /// holds, which is `fate` only if this call inserted it.
    pub async fn decide(&self, id: &OrderId, fate: Fate) -> Result<Fate, Error> {
        match self.fates.insert_one(FateDocument::new(id, &fate)).await {
            Ok(_) => Ok(fate),
            Err(error) if is_duplicate_key(&error) => match self.fate(id).await? {
                Some(fate) => Ok(fate),
                // Fates are never deleted, so a duplicate key means one exists.
                None => Err(Error::custom(format!(
                    "the fate of {id} exists and cannot be read"
                ))),
            },
            Err(error) => Err(error),
        }
    }

    pub async fn fate(&self, id: &OrderId) -> Result<Option<Fate>, Error> {
        self.fates
            .find_one(doc! { "_id": id.as_str() })
            .await?
            .map(FateDocument::fate)
            .transpose()
    }

    /// Records a payment outcome and returns the one that stands: the first recorded for the order.
    /// `payments` stores one payment per order, so a later record normally carries the same values;
    /// when it does not (a stale event, a foreign producer), the first one still wins, and every
    /// writer copies the winner, never its own event.
    pub async fn record_settlement(&self, settlement: Settlement) -> Result<Settlement, Error> {
        match self.settlements.insert_one(&settlement).await {
            Ok(_) => Ok(settlement),
            Err(error) if is_duplicate_key(&error) => Ok(self
                .settlement(&settlement.order_id)
                .await?
                .unwrap_or(settlement)),
            Err(error) => Err(error),
        }
    }

    pub async fn settlement(&self, id: &OrderId) -> Result<Option<Settlement>, Error> {
        self.settlements.find_one(doc! { "_id": id.as_str() }).await
    }
}
