//! What handlers share: one handle per dependency, all cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mongodb::Database;
use shop_http::Metrics;
use shop_streams::Redis;

use crate::cache::Cache;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: cache, readiness.
    pub redis: Redis,
    /// The service's own database (`MONGODB_DATABASE`), its system of record.
    pub db: Database,
    /// The collections of `db`, with the queries over them.
    pub store: Store,
    /// The Redis cache of the read endpoints.
    pub cache: Cache,
    /// This application's registry, served on `/metrics`; stream runners register into it too.
    pub metrics: Metrics,
    /// Set once the startup bootstrap (indexes, catalog seeding) has completed. Stock changes wait
    /// for it: the ledger's at-most-once guarantee rests on the unique index it creates.
    pub ledger_ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn ledger_ready(&self) -> bool {
        self.ledger_ready.load(Ordering::Acquire)
    }

    pub(crate) fn mark_ledger_ready(&self) {
        self.ledger_ready.store(true, Ordering::Release);
    }
}
