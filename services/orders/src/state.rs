//! What handlers share: one handle per dependency, all cheap to clone.

use mongodb::Database;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use shop_http::Metrics;
use shop_outbox::Outbox;
use shop_streams::{Publisher, Redis, StreamNames};

use crate::config::ReconcileConfig;

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
    /// The outbox of the `orders` collection; writers call `written(id)` after embedding an entry.
    pub outbox: Outbox,
    /// The deployment's stream names (`STREAM_PREFIX`).
    pub streams: StreamNames,
    /// Publishes the reconciler's re-announcements (first announcements go through the outbox).
    pub publisher: Publisher,
    /// The reconciler's intervals, and the age at which a placement counts as abandoned.
    pub reconcile: ReconcileConfig,
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
    pub reconciler: ReconcilerMetrics,
}

/// `orders_reconciler_*`: what the reconciler found to do (see `reconciler.rs`).
#[derive(Debug, Clone, Default)]
pub struct ReconcilerMetrics {
    pub rejected: Counter,
    pub released: Counter,
    pub written: Counter,
    pub settled: Counter,
    pub reannounced: Counter,
    pub failed: Counter,
    /// Placements not finished at the last pass (in flight, or waiting for their payment).
    pub unfinished: Gauge,
}

impl OrderMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("orders");
        registry.register("created", "Orders placed", self.created.clone());
        let reconciler = registry.sub_registry_with_prefix("reconciler");
        let r = &self.reconciler;
        for (name, help, counter) in [
            (
                "rejected",
                "Undecided placements rejected for their age",
                &r.rejected,
            ),
            (
                "released",
                "Rejected placements whose stock was released",
                &r.released,
            ),
            (
                "written",
                "Orders written from a confirmed placement",
                &r.written,
            ),
            ("settled", "Settlements applied to their order", &r.settled),
            (
                "reannounced",
                "OrderCreated events published again",
                &r.reannounced,
            ),
            (
                "failed",
                "Placements whose reconciliation failed (retried)",
                &r.failed,
            ),
        ] {
            reconciler.register(name, help, counter.clone());
        }
        reconciler.register(
            "unfinished",
            "Placements not finished at the last pass",
            r.unfinished.clone(),
        );
    }
}
