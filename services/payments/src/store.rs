//! The `payments` collection: one document per order, keyed by the order id, carrying the
//! `PaymentProcessed` event it owes the payments stream in its embedded outbox entry.

use bson::{Document, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use shop_domain::{Money, OrderId, PaymentId, UserId};
use shop_mongo::is_duplicate_key;
use shop_outbox::OutboxEntry;

/// The collection's name; its outbox relay's claims live in `payments_outbox_claims`.
pub const COLLECTION: &str = "payments";

/// A stored payment. `_id` is the order id: that is what makes "one payment per order" hold, since
/// a unique insert is atomic on every store, FerretDB included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDocument {
    #[serde(rename = "_id")]
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub user_id: UserId,
    /// The order amount, in cents.
    pub amount: Money,
    pub currency: String,
    pub status: PaymentStatus,
    /// Why the provider declined; absent when paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub provider: ProviderRecord,
    pub created_at: bson::DateTime,
    /// The trace context of the `PaymentProcessed` entry (a child of the order's).
    pub traceparent: String,
    /// `PaymentProcessed`, written in the same insert so the fact and its announcement cannot part.
    pub outbox: OutboxEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Paid,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Failed => "failed",
        }
    }
}

/// Who decided, and their id for the charge (only approved charges have one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRecord {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// What an insert found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// This write created the order's payment.
    New,
    /// The order already had one (a concurrent delivery won the race); nothing was written.
    AlreadyExists,
}

#[derive(Debug, Clone)]
pub struct PaymentStore {
    payments: Collection<PaymentDocument>,
}

impl PaymentStore {
    pub fn new(db: &Database) -> Self {
        Self {
            payments: db.collection(COLLECTION),
        }
    }

    /// The same collection untyped, as the outbox relay reads it.
    pub fn outbox_collection(&self) -> Collection<Document> {
        self.payments.clone_with_type()
    }

    pub async fn find(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<PaymentDocument>, mongodb::error::Error> {
        self.payments
            .find_one(doc! { "_id": order_id.as_str() })
            .await
    }

    /// Whether the order has a payment, reading only its `_id`.
    pub async fn exists(&self, order_id: &OrderId) -> Result<bool, mongodb::error::Error> {
        let found = self
            .outbox_collection()
            .find_one(doc! { "_id": order_id.as_str() })
            .projection(doc! { "_id": 1 })
            .await?;
        Ok(found.is_some())
    }

    /// Inserts the payment unless the order already has one. Losing to a concurrent insert is not an
    /// error: the unique `_id` let exactly one of the writers through.
    pub async fn insert(
        &self,
        payment: &PaymentDocument,
    ) -> Result<Inserted, mongodb::error::Error> {
        match self.payments.insert_one(payment).await {
            Ok(_) => Ok(Inserted::New),
            Err(error) if is_duplicate_key(&error) => Ok(Inserted::AlreadyExists),
            Err(error) => Err(error),
        }
    }
}
