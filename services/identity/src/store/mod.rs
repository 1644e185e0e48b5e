//! Persistence: concrete code over the service's collections. Every guarantee that must hold under
//! concurrency rests on an insert with a unique `_id`, the one write that is atomic on MongoDB and
//! FerretDB alike.

pub mod records;
pub mod users;

use mongodb::Database;
use shop_mongo::is_duplicate_key;

pub use records::{IdentityRecord, RecordKind, Records};
pub use users::{UserDocument, Users};

/// What a unique insert found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// This write created the document.
    New,
    /// A document with that `_id` was already there; nothing was written.
    AlreadyExists,
}

/// Both stores over one database.
#[derive(Debug, Clone)]
pub struct Store {
    pub users: Users,
    pub records: Records,
}

impl Store {
    pub fn new(db: &Database) -> Self {
        Self {
            users: Users::new(db),
            records: Records::new(db),
        }
    }

    /// The indexes reads need. Uniqueness never depends on them: it is the `_id`'s.
    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        self.users.ensure_indexes().await?;
        self.records.ensure_indexes().await
    }
}

/// Inserts `document`; a duplicate `_id` is an answer, not an error.
async fn insert_unique<T>(
    collection: &mongodb::Collection<T>,
    document: &T,
) -> Result<Inserted, mongodb::error::Error>
where
    T: serde::Serialize + Send + Sync,
{
    match collection.insert_one(document).await {
        Ok(_) => Ok(Inserted::New),
        Err(error) if is_duplicate_key(&error) => Ok(Inserted::AlreadyExists),
        Err(error) => Err(error),
    }
}
