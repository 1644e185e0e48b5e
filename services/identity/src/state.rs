//! What handlers share: one handle per dependency, all cheap to clone.

use mongodb::Database;
use shop_http::Metrics;
use shop_streams::Redis;

use crate::accounts::Accounts;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: sessions, stream publishing, readiness.
    pub redis: Redis,
    /// The service's own database (`MONGODB_DATABASE`): users and identity records.
    pub db: Database,
    /// This application's registry, served on `/metrics`; stream runners register into it too.
    pub metrics: Metrics,
    /// Registering, logging in and out, profiles: what the routes do.
    pub accounts: Accounts,
}
