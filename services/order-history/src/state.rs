//! What handlers share: one handle per dependency, all cheap to clone.

use mongodb::Database;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use shop_http::Metrics;
use shop_streams::Redis;

use crate::rebuild::Rebuilder;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct AppState {
    /// The shared, pipelined Redis pool: the rebuild's stream reads, readiness.
    pub redis: Redis,
    /// The service's own database (`MONGODB_DATABASE`), holding the read model.
    pub db: Database,
    /// The read model's collections over `db`.
    pub store: Store,
    /// Rebuilds the model from the streams (`POST /internal/rebuild`).
    pub rebuilder: Rebuilder,
    /// This application's registry, served on `/metrics`; stream runners register into it too.
    pub metrics: Metrics,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The service's own numbers for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct HistoryMetrics {
    /// `history_rebuilds_total{outcome="completed"|"failed"}`; a rebuild refused with 409 is not one.
    rebuilds: Family<OutcomeLabels, Counter>,
}

impl HistoryMetrics {
    pub fn register(&self, registry: &mut Registry) {
        // Both series from the start, so a dashboard sees 0 rather than nothing.
        for outcome in ["completed", "failed"] {
            drop(self.rebuilds.get_or_create(&OutcomeLabels { outcome }));
        }
        registry.sub_registry_with_prefix("history").register(
            "rebuilds",
            "Rebuilds of the read model from the streams, by outcome",
            self.rebuilds.clone(),
        );
    }

    pub fn rebuilt(&self, completed: bool) {
        let outcome = if completed { "completed" } else { "failed" };
        self.rebuilds
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}
