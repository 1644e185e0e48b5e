//! Persistence over typed collections: `orders` (each order with its embedded outbox entry),
//! `idempotency_keys`, and the placement records that give every reservation an owner. Every exactly-once rule here rests on unique inserts (`_id`), the one
//! primitive that is atomic on MongoDB and on FerretDB alike.

pub mod idempotency;
pub mod orders;
pub mod placements;

use std::time::Duration;

use bson::doc;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};

pub use idempotency::{Claim, IdempotencyRecord};
pub use orders::OrderDocument;
pub use placements::{Begun, Fate, Placement, Settlement};

/// The collection of orders; the outbox relay drains the entries embedded in it.
pub const ORDERS: &str = "orders";
/// One document per (user, `Idempotency-Key`).
pub const IDEMPOTENCY_KEYS: &str = "idempotency_keys";
/// Orders from their first step until they settle (see [`placements`]).
pub const PLACEMENTS: &str = "placements";
/// One decision per placement: confirmed or rejected.
pub const PLACEMENT_FATES: &str = "placement_fates";
/// One payment outcome per order.
pub const SETTLEMENTS: &str = "settlements";

/// How long an `Idempotency-Key` is remembered: long enough for any client's retries, short enough
/// that the collection does not grow forever.
pub const IDEMPOTENCY_KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The service's collections. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) orders: Collection<OrderDocument>,
    pub(crate) keys: Collection<IdempotencyRecord>,
    pub(crate) placements: Collection<Placement>,
    pub(crate) fates: Collection<placements::FateDocument>,
    pub(crate) settlements: Collection<Settlement>,
}

impl Store {
    pub fn new(db: &Database) -> Self {
        Self {
            orders: db.collection(ORDERS),
            keys: db.collection(IDEMPOTENCY_KEYS),
            placements: db.collection(PLACEMENTS),
            fates: db.collection(PLACEMENT_FATES),
            settlements: db.collection(SETTLEMENTS),
        }
    }

    /// The indexes the queries use. Idempotent; run at startup (retried until MongoDB answers).
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        let history = IndexModel::builder()
            .keys(doc! { "userId": 1, "createdAt": -1 })
            .options(
                IndexOptions::builder()
                    .name("userId_createdAt".to_owned())
                    .build(),
            )
            .build();
        self.orders.create_index(history).await?;
        let expiry = IndexModel::builder()
            .keys(doc! { "createdAt": 1 })
            .options(
                IndexOptions::builder()
                    .name("createdAt_ttl".to_owned())
                    .expire_after(IDEMPOTENCY_KEY_TTL)
                    .build(),
            )
            .build();
        match self.keys.create_index(expiry).await {
            Err(error) if command_code(&error) == Some(NOT_IMPLEMENTED) => {
                // FerretDB (the test server) has no TTL indexes: keys are then kept forever, which
                // only costs space. MongoDB expires them.
                tracing::warn!(
                    "TTL indexes are not supported by this server; idempotency keys will not expire"
                );
                Ok(())
            }
            created => created.map(drop),
        }
    }
}

/// The server's "not implemented" error code (FerretDB answers unsupported options with it).
const NOT_IMPLEMENTED: i32 = 238;

fn command_code(error: &Error) -> Option<i32> {
    match &*error.kind {
        ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

pub(crate) use shop_mongo::is_duplicate_key;
