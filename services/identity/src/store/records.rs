//! The `identity_records` collection: one record per login and per checkout, keyed by the event
//! (`login:<sessionId>`, `checkout:<orderId>`), so a redelivered event can never add a second one.

use bson::doc;
use futures::TryStreamExt;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use shop_domain::{OrderId, UserId};

use super::{Inserted, insert_unique};
use crate::score::Device;

pub const RECORDS: &str = "identity_records";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Login,
    Checkout,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Checkout => "checkout",
        }
    }
}

/// What the service knows about one event of a user's, and the score it was given. Written once,
/// never updated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    /// `login:<sessionId>` or `checkout:<orderId>`.
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: UserId,
    pub kind: RecordKind,
    /// SHA-256 (hex) of the user agent; `null` when unknown.
    pub fingerprint: Option<String>,
    /// `null` when unknown.
    pub ip: Option<String>,
    /// When the event happened (the login's or the order's `createdAt`).
    pub at: bson::DateTime,
    /// In [0, 1], see [`crate::score::score`].
    pub score: f64,
    /// For a checkout: the login record whose device it carries, if one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_from: Option<String>,
    pub recorded_at: bson::DateTime,
}

impl IdentityRecord {
    pub fn login_id(session_id: &str) -> String {
        format!("login:{session_id}")
    }

    pub fn checkout_id(order_id: &OrderId) -> String {
        format!("checkout:{order_id}")
    }

    pub fn device(&self) -> Device<'_> {
        Device {
            fingerprint: self.fingerprint.as_deref(),
            ip: self.ip.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Records {
    records: Collection<IdentityRecord>,
}

impl Records {
    pub fn new(db: &Database) -> Self {
        Self {
            records: db.collection(RECORDS),
        }
    }

    /// Every read is "a user's records, newest first".
    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        let by_user = IndexModel::builder()
            .keys(doc! { "userId": 1, "at": -1 })
            .build();
        self.records.create_index(by_user).await.map(drop)
    }

    /// Writes the record unless one with its `_id` exists (`AlreadyExists`: a redelivery).
    pub async fn insert(&self, record: &IdentityRecord) -> Result<Inserted, mongodb::error::Error> {
        insert_unique(&self.records, record).await
    }

    pub async fn exists(&self, id: &str) -> Result<bool, mongodb::error::Error> {
        let found = self
            .records
            .clone_with_type::<bson::Document>()
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 })
            .await?;
        Ok(found.is_some())
    }

    /// The user's `limit` most recent records strictly before `before`.
    pub async fn earlier(
        &self,
        user_id: &UserId,
        before: bson::DateTime,
        limit: i64,
    ) -> Result<Vec<IdentityRecord>, mongodb::error::Error> {
        self.records
            .find(doc! { "userId": user_id.as_str(), "at": { "$lt": before } })
            .sort(doc! { "at": -1, "_id": -1 })
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// The user's latest login at or before `at`.
    pub async fn latest_login(
        &self,
        user_id: &UserId,
        at: bson::DateTime,
    ) -> Result<Option<IdentityRecord>, mongodb::error::Error> {
        self.records
            .find_one(doc! {
                "userId": user_id.as_str(),
                "kind": RecordKind::Login.as_str(),
                "at": { "$lte": at },
            })
            .sort(doc! { "at": -1, "_id": -1 })
            .await
    }

    /// The user's latest record of any kind.
    pub async fn latest(
        &self,
        user_id: &UserId,
    ) -> Result<Option<IdentityRecord>, mongodb::error::Error> {
        self.records
            .find_one(doc! { "userId": user_id.as_str() })
            .sort(doc! { "at": -1, "_id": -1 })
            .await
    }

    pub async fn get(&self, id: &str) -> Result<Option<IdentityRecord>, mongodb::error::Error> {
        self.records.find_one(doc! { "_id": id }).await
    }
}
