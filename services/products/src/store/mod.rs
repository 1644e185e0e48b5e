//! Persistence: concrete code over the service's MongoDB collections.
//!
//! - `products`: the catalog, `_id` = product id. Catalog data only: stock lives in the ledger.
//! - `stock_movements`: the append-only stock ledger (see [`ledger`]).
//! - `reservations` and `reservation_outcomes`: insert-only reservation records (see
//!   [`reservations`]).
//!
//! Nothing here updates a document in place. The test server (FerretDB) applies conditional
//! updates non-atomically under concurrency, so every decision that must be atomic is an insert
//! that a unique key (`_id` or a unique index) either accepts or rejects: atomic on MongoDB and
//! FerretDB alike.

mod heads;
pub mod ledger;
pub mod products;
pub mod reservations;

use mongodb::bson::doc;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};

use ledger::Movement;
use products::CatalogDoc;
use reservations::{OutcomeDoc, ReservationDoc};

/// Handles on the service's collections; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) products: Collection<CatalogDoc>,
    pub(crate) movements: Collection<Movement>,
    pub(crate) reservations: Collection<ReservationDoc>,
    pub(crate) outcomes: Collection<OutcomeDoc>,
    hints: heads::HeadHints,
}

impl Store {
    pub fn new(db: &Database) -> Self {
        Self {
            products: db.collection("products"),
            movements: db.collection("stock_movements"),
            reservations: db.collection("reservations"),
            outcomes: db.collection("reservation_outcomes"),
            hints: heads::HeadHints::default(),
        }
    }

    /// Creates the indexes the ledger's guarantees rest on; creating an existing index is a no-op.
    ///
    /// The unique `movementKey` index is what makes each reserve or release of a line happen at most
    /// once; `{productId: 1, seq: -1}` makes reading a product's head one index seek on MongoDB.
    pub async fn ensure_indexes(&self) -> Result<(), Error> {
        // One `createIndexes` per index: FerretDB 1.24 drops the connection when a single command
        // re-creates several existing indexes.
        self.movements
            .create_index(index(doc! { "movementKey": 1 }, "movementKey_unique", true))
            .await?;
        self.movements
            .create_index(index(doc! { "productId": 1, "seq": -1 }, "head", false))
            .await?;
        self.products
            .create_index(index(doc! { "name": 1, "_id": 1 }, "listing", false))
            .await?;
        Ok(())
    }
}

fn index(keys: mongodb::bson::Document, name: &str, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .name(name.to_owned())
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

pub(crate) use shop_mongo::is_duplicate_key;

/// How many documents an unordered `insert_many` of `attempted` documents inserted, when the only
/// failures were duplicates (documents already there).
pub(crate) fn inserted_despite_duplicates(
    attempted: usize,
    result: Result<(), Error>,
) -> Result<u64, Error> {
    match result {
        Ok(()) => Ok(attempted as u64),
        Err(error) if is_duplicate_key(&error) => {
            let rejected = match &*error.kind {
                ErrorKind::InsertMany(insert) => insert.write_errors.as_ref().map_or(0, Vec::len),
                _ => attempted,
            };
            Ok(attempted.saturating_sub(rejected) as u64)
        }
        Err(error) => Err(error),
    }
}
