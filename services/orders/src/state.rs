//! What handlers share: one handle per dependency, all cheap to clone.

use mongodb::Database;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use shop_http::Metrics;
use shop_outbox::Outbox;
use shop_streams::{Redis, StreamNames};

use crate::products::ProductsClient;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: stream publishing (through the outbox), readiness.
    pub redis: Redis,
    /// The service's own database (`MONGODB_DATABASE`), its system of record.
    pub db: Database,
    /// The typed collections over `db`.
    pub store: Store,
    /// `products`' reservation API: prices and stock.
    pub products: ProductsClient,
    /// The outbox of the `orders` collection; writers call `notify()` after embedding an entry.
    pub outbox: Outbox,
    /// The deployment's stream names (`STREAM_PREFIX`).
    pub streams: StreamNames,
    /// This application's registry, served on `/metrics`; stream runners register into it too.
    pub metrics: Metrics,
    /// The service's own counters, registered in `metrics`.
    pub order_metrics: OrderMetrics,
}

/// Business numbers for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct OrderMetrics {
    /// `orders_created_total`: orders written (a returned idempotent repeat is not counted).
    pub created: Counter,
}

impl OrderMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.sub_registry_with_prefix("orders").register(
            "created",
            "Orders placed",
            self.created.clone(),
        );
    }
}
