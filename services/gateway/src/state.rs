//! What handlers share: one handle per dependency, all cheap to clone.

use std::time::Duration;

use shop_http::Metrics;
use shop_sessions::SessionStore;
use shop_streams::{Redis, StreamNames};

use crate::auth::AdminToken;
use crate::client::ClientLimiter;
use crate::config::{AllowedOrigins, OpsNetworks};
use crate::events::PaymentEvents;
use crate::proxy::Proxy;
use crate::routes::cart::CartStore;
use crate::routes::shop_health::HealthCache;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: sessions, the operators' stream reports, readiness.
    pub redis: Redis,
    /// Resolves bearer tokens to sessions (one `GET` per authenticated request).
    pub sessions: SessionStore,
    /// The pooled HTTP client of every upstream.
    pub proxy: Proxy,
    /// `SHOP_ADMIN_TOKEN`, as a digest.
    pub admin: AdminToken,
    /// Per-client token buckets; `None` when rate limiting is off.
    pub limiter: Option<ClientLimiter>,
    /// Whether the client's address is the first `x-forwarded-for` entry.
    pub trust_forwarded_for: bool,
    /// The origins CORS allows (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: AllowedOrigins,
    /// The client networks `/api/ops/*` answers (`OPS_ALLOWED_NETWORKS`).
    pub ops_allowed_networks: OpsNetworks,
    /// The deployment's stream names (`STREAM_PREFIX`), for the operators' endpoints.
    pub streams: StreamNames,
    /// The cap of a stream that dead letters are replayed onto.
    pub stream_max_len: u64,
    /// The deadline of each readiness probe of `GET /health`.
    pub health_timeout: Duration,
    /// The last answer of `GET /health`, reused for a second.
    pub health: HealthCache,
    /// The limits on each client connection.
    pub connection_limits: shop_http::edge::ConnectionLimits,
    /// The deadline of an order-history rebuild.
    pub rebuild_timeout: Duration,
    /// Where carts are kept, and for how long (`CART_TTL_SECONDS`).
    pub carts: CartStore,
    /// The shared `PAYMENTS_STREAM` reader behind the order pages' live status.
    pub order_events: PaymentEvents,
    /// This application's registry, served on `/metrics`.
    pub metrics: Metrics,
}
