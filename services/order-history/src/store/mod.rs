//! Persistence: the fact collections of each generation (`orders_created_g<N>`, `payments_g<N>`),
//! the pointer naming the generation in use (`meta`) and the rebuild attempts (`rebuilds`). Every
//! write that must happen once is an insert with a unique key, the one primitive that is atomic on
//! MongoDB and on FerretDB alike.

pub mod generations;
pub mod rebuilds;

use bson::doc;
use futures::TryStreamExt;
use mongodb::error::{Error, ErrorKind};
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use shop_domain::{OrderId, UserId};
use shop_mongo::DUPLICATE_KEY;

use crate::facts::{Fact, OrderFact, PaymentFact, generation_of};
pub use generations::{Generations, POINTER_TTL, Pointer};
pub use rebuilds::{Attempt, Claim, Ended, Rebuilds};

/// What inserting one fact did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The fact was already there (a redelivery, or the rebuild and a consumer both applied it).
    Duplicate,
}

/// The service's collections. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
    pub generations: Generations,
    pub rebuilds: Rebuilds,
}

impl Store {
    pub fn new(db: &Database) -> Self {
        Self {
            db: db.clone(),
            generations: Generations::new(db),
            rebuilds: Rebuilds::new(db),
        }
    }

    fn facts<F: Fact>(&self, generation: i64) -> Collection<F> {
        self.db.collection(&F::collection(generation))
    }

    /// The index the history query uses, on generation `generation`. Idempotent.
    pub async fn ensure_indexes(&self, generation: i64) -> Result<(), Error> {
        let newest_first = IndexModel::builder()
            .keys(doc! { "userId": 1, "createdAt": -1, "_id": -1 })
            .options(
                IndexOptions::builder()
                    .name("userId_createdAt".to_owned())
                    .build(),
            )
            .build();
        self.facts::<OrderFact>(generation)
            .create_index(newest_first)
            .await
            .map(drop)
    }

    /// Inserts `fact` into generation `generation` unless it is already there.
    pub async fn insert<F: Fact>(&self, generation: i64, fact: &F) -> Result<Inserted, Error> {
        match self.facts::<F>(generation).insert_one(fact).await {
            Ok(_) => Ok(Inserted::New),
            Err(error) if is_duplicate_key(&error) => Ok(Inserted::Duplicate),
            Err(error) => Err(error),
        }
    }

    /// Inserts every fact of `facts` that is not there yet, in one unordered batch: a duplicate
    /// does not stop the others.
    pub async fn insert_all<F: Fact>(&self, generation: i64, facts: &[F]) -> Result<(), Error> {
        if facts.is_empty() {
            return Ok(());
        }
        let inserted = self
            .facts::<F>(generation)
            .insert_many(facts)
            .ordered(false)
            .await;
        match inserted {
            Err(error) if only_duplicates(&error) => Ok(()),
            other => other.map(drop),
        }
    }

    /// One page of `user`'s orders in generation `generation`, newest first (ties broken by the
    /// order id), and how many orders the user has in all.
    pub async fn user_orders(
        &self,
        generation: i64,
        user: &UserId,
        skip: u64,
        limit: i64,
    ) -> Result<(Vec<OrderFact>, u64), Error> {
        let orders = self.facts::<OrderFact>(generation);
        let filter = doc! { "userId": user.as_str() };
        let total = orders.count_documents(filter.clone()).await?;
        let page = orders
            .find(filter)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .skip(skip)
            .limit(limit)
            .await?
            .try_collect()
            .await?;
        Ok((page, total))
    }

    /// The payment facts of `orders` in generation `generation` (those that have one).
    pub async fn payments_of(
        &self,
        generation: i64,
        orders: &[OrderId],
    ) -> Result<Vec<PaymentFact>, Error> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = orders.iter().map(OrderId::as_str).collect();
        self.facts::<PaymentFact>(generation)
            .find(doc! { "_id": { "$in": ids } })
            .await?
            .try_collect()
            .await
    }

    /// Drops both fact collections of `generation`.
    pub async fn drop_generation(&self, generation: i64) -> Result<(), Error> {
        self.facts::<OrderFact>(generation).drop().await?;
        self.facts::<PaymentFact>(generation).drop().await
    }

    /// Drops every generation but `keep`: what failed or crashed rebuilds left behind, and
    /// collections a consumer recreated by writing to a generation just after it was dropped.
    /// Returns the generations dropped.
    pub async fn drop_generations_except(&self, keep: &[i64]) -> Result<Vec<i64>, Error> {
        let mut dropped = Vec::new();
        for name in self.db.list_collection_names().await? {
            let Some(generation) = generation_of(&name).filter(|g| !keep.contains(g)) else {
                continue;
            };
            self.db.collection::<bson::Document>(&name).drop().await?;
            if !dropped.contains(&generation) {
                dropped.push(generation);
            }
        }
        Ok(dropped)
    }

    /// The generations that have collections in the database, ascending (for tests and operators).
    pub async fn generations_present(&self) -> Result<Vec<i64>, Error> {
        let mut present: Vec<i64> = self
            .db
            .list_collection_names()
            .await?
            .iter()
            .filter_map(|name| generation_of(name))
            .collect();
        present.sort_unstable();
        present.dedup();
        Ok(present)
    }
}

pub(crate) use shop_mongo::is_duplicate_key;

/// Whether an unordered `insert_many` failed only because some documents were already there.
fn only_duplicates(error: &Error) -> bool {
    match &*error.kind {
        ErrorKind::InsertMany(failure) => {
            failure.write_concern_error.is_none()
                && failure
                    .write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|e| e.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}
