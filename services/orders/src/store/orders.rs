//! The `orders` collection: one document per order, holding its `OrderCreated` outbox entry.

use bson::doc;
use futures::TryStreamExt;
use futures::future::try_join_all;
use mongodb::error::Error;
use serde::{Deserialize, Serialize};
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, UnknownStatus, UserId};
use shop_outbox::OutboxEntry;

use super::placements::Settlement;
use super::{Store, is_duplicate_key};
use crate::order::{Order, PricedLine};

/// An order as stored. `_id` is the order id, which is also its reservation id in `products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDocument {
    #[serde(rename = "_id")]
    pub id: OrderId,
    pub user_id: UserId,
    pub order_status_code: i32,
    pub products: Vec<PricedLine>,
    /// Cents.
    pub order_amount: Money,
    pub currency: String,
    pub payment_id: Option<PaymentId>,
    pub created_at: bson::DateTime,
    pub updated_at: bson::DateTime,
    /// The trace this order's journey runs in; its events carry it.
    pub traceparent: String,
    /// Written with the order, in the same insert; left out of reads (the relay reads it itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxEntry>,
}

impl OrderDocument {
    /// The API shape; fails only on a status code this version does not know.
    pub fn to_order(&self) -> Result<Order, UnknownStatus> {
        let status = OrderStatus::from_code(self.order_status_code)?;
        Ok(Order {
            order_id: self.id.clone(),
            user_id: self.user_id.clone(),
            status,
            order_status_code: status.code(),
            order_amount: self.order_amount,
            currency: self.currency.clone(),
            products: self.products.clone(),
            payment_id: self.payment_id.clone(),
            created_at: self.created_at.to_chrono(),
            updated_at: self.updated_at.to_chrono(),
        })
    }
}

/// What the payments consumer reads before settling an order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderState {
    pub user_id: UserId,
    pub order_status_code: i32,
    #[serde(default)]
    pub outbox: Option<OutboxState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OutboxState {
    pub pending: bool,
}

impl OrderState {
    /// Whether the outbox relay may still write this document (its event is not marked sent).
    pub fn unpublished(&self) -> bool {
        self.outbox.as_ref().is_some_and(|outbox| outbox.pending)
    }
}

/// What inserting an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// An order with this id exists: another attempt (same idempotency key) wrote it first.
    AlreadyThere,
}

/// Reads never need the outbox entry.
fn without_outbox() -> bson::Document {
    doc! { "outbox": 0 }
}

impl Store {
    /// Inserts the order and its outbox entry in one single-document write.
    pub async fn insert_order(&self, order: &OrderDocument) -> Result<Inserted, Error> {
        match self.orders.insert_one(order).await {
            Ok(_) => Ok(Inserted::New),
            Err(error) if is_duplicate_key(&error) => Ok(Inserted::AlreadyThere),
            Err(error) => Err(error),
        }
    }

    /// The order, with its settlement applied (see [`Store::settled`]).
    pub async fn order(&self, id: &OrderId) -> Result<Option<OrderDocument>, Error> {
        let order = self
            .orders
            .find_one(doc! { "_id": id.as_str() })
            .projection(without_outbox())
            .await?;
        match order {
            Some(order) => Ok(Some(self.settled(order).await?)),
            None => Ok(None),
        }
    }

    /// `order` as its settlement says, when the document still reads `created`: the settlement is
    /// the truth (an insert nothing can undo), the document's status follows it once the outbox
    /// relay is done with the document (see `consumers::settle_payment`), so a read in between
    /// must not show a paid order as unpaid.
    async fn settled(&self, mut order: OrderDocument) -> Result<OrderDocument, Error> {
        if order.order_status_code == OrderStatus::Created.code()
            && let Some(settlement) = self.settlement(&order.id).await?
        {
            order.order_status_code = settlement.order_status_code;
            order.payment_id = Some(settlement.payment_id);
            order.updated_at = settlement.at;
        }
        Ok(order)
    }

    /// The status of an order, and whether its event still awaits the relay.
    pub async fn order_state(&self, id: &OrderId) -> Result<Option<OrderState>, Error> {
        self.orders
            .clone_with_type::<OrderState>()
            .find_one(doc! { "_id": id.as_str() })
            .projection(doc! { "userId": 1, "orderStatusCode": 1, "outbox.pending": 1 })
            .await
    }

    /// The order, if it exists and belongs to `user`.
    pub async fn user_order(
        &self,
        user: &UserId,
        id: &OrderId,
    ) -> Result<Option<OrderDocument>, Error> {
        // The owner is checked here, not in the filter: a filter of `_id` alone is what every
        // MongoDB-compatible store answers by its primary key (FerretDB's SQLite backend scans the
        // collection for any other filter).
        let order = self.order(id).await?;
        Ok(order.filter(|order| order.user_id == *user))
    }

    /// One page of `user`'s orders, newest first (ties broken by id, which is time-ordered too),
    /// and how many orders the user has in all.
    pub async fn user_orders(
        &self,
        user: &UserId,
        skip: u64,
        limit: i64,
    ) -> Result<(Vec<OrderDocument>, u64), Error> {
        let filter = doc! { "userId": user.as_str() };
        let total = self.orders.count_documents(filter.clone()).await?;
        let items: Vec<OrderDocument> = self
            .orders
            .find(filter)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .skip(skip)
            .limit(limit)
            .projection(without_outbox())
            .await?
            .try_collect()
            .await?;
        let items = try_join_all(items.into_iter().map(|order| self.settled(order))).await?;
        Ok((items, total))
    }

    /// Moves the order to `to`, recording its payment; true when the document changed.
    ///
    /// The caller has checked the transition against the status it read. The filter is the `_id`
    /// alone, not also that status, because a filter of `_id` alone is what every MongoDB-compatible
    /// store answers by its primary key (FerretDB's SQLite backend scans the whole collection for
    /// any other filter, which made settling cost more with every order ever placed). Nothing is
    /// lost by it: every writer copies the order's one standing settlement (see
    /// `Store::record_settlement`), so two handlers racing past the check write the same values.
    ///
    /// The order's `updatedAt` becomes the settlement's time, so the document reads the same
    /// before the copy (when reads apply the settlement) and after it.
    pub async fn settle_order(&self, settlement: &Settlement) -> Result<bool, Error> {
        let updated = self
            .orders
            .update_one(
                doc! { "_id": settlement.order_id.as_str() },
                doc! { "$set": {
                    "orderStatusCode": settlement.order_status_code,
                    "paymentId": settlement.payment_id.as_str(),
                    "updatedAt": settlement.at,
                } },
            )
            .await?;
        Ok(updated.modified_count > 0)
    }
}
