//! What handlers share: one handle per dependency, all cheap to clone.

use shop_http::Metrics;
use shop_streams::Redis;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: sessions, rate limits, readiness.
    pub redis: Redis,
    /// This application's registry, served on `/metrics`.
    pub metrics: Metrics,
}
