//! The `users` collection, keyed by the lowercased email: the key that makes "one account per
//! email, whatever its case" hold, atomically, from the first insert into an empty database.

use bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use shop_domain::UserId;

use super::{Inserted, insert_unique};

pub const USERS: &str = "users";

/// A stored account.
///
/// `_id` is the email in lowercase rather than the user id. A unique index on an `emailLower` field
/// would work too on MongoDB, but only once it exists: a registration racing the index creation at
/// first start could slip a duplicate in. The `_id` is unique before anything else exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDocument {
    #[serde(rename = "_id")]
    pub email_key: String,
    pub user_id: UserId,
    /// As the user typed it (trimmed): shown back, never compared.
    pub email: String,
    pub name: String,
    /// Argon2id, as a PHC string (algorithm, parameters and salt included).
    pub password_hash: String,
    pub created_at: bson::DateTime,
}

#[derive(Debug, Clone)]
pub struct Users {
    users: Collection<UserDocument>,
}

impl Users {
    pub fn new(db: &Database) -> Self {
        Self {
            users: db.collection(USERS),
        }
    }

    /// `/api/me` finds users by id.
    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        let by_id = IndexModel::builder()
            .keys(doc! { "userId": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build();
        self.users.create_index(by_id).await.map(drop)
    }

    /// Creates the account unless its email is taken (`AlreadyExists`), in any case.
    pub async fn insert(&self, user: &UserDocument) -> Result<Inserted, mongodb::error::Error> {
        insert_unique(&self.users, user).await
    }

    pub async fn by_email_key(
        &self,
        email_key: &str,
    ) -> Result<Option<UserDocument>, mongodb::error::Error> {
        self.users.find_one(doc! { "_id": email_key }).await
    }

    pub async fn by_id(
        &self,
        user_id: &UserId,
    ) -> Result<Option<UserDocument>, mongodb::error::Error> {
        self.users
            .find_one(doc! { "userId": user_id.as_str() })
            .await
    }
}
