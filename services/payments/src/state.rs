//! What handlers share: one handle per dependency, all cheap to clone.

use mongodb::Database;
use shop_http::Metrics;
use shop_streams::Redis;

use crate::payment::Payments;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: stream publishing, readiness.
    pub redis: Redis,
    /// The service's own database (`MONGODB_DATABASE`), its system of record.
    pub db: Database,
    /// This application's registry, served on `/metrics`; stream runners register into it too.
    pub metrics: Metrics,
    /// Charging and reading payments: the domain operations routes and consumers share.
    pub payments: Payments,
}
