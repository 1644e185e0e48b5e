//! The runners' numbers, as Prometheus metrics in a registry the service owns (not a global, so
//! several services can run in one test process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    stream: String,
    group: String,
}

/// Metric families shared by every runner of one service. Register once, hand a clone to each runner.
#[derive(Debug, Clone, Default)]
pub struct StreamMetrics {
    processed: Family<StreamLabels, Counter>,
    failed: Family<StreamLabels, Counter>,
    dead_lettered: Family<StreamLabels, Counter>,
    claimed: Family<StreamLabels, Counter>,
    lag: Family<StreamLabels, Gauge>,
    pending: Family<StreamLabels, Gauge>,
}

impl StreamMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("stream");
        r.register(
            "processed",
            "Entries handled successfully and acknowledged",
            self.processed.clone(),
        );
        r.register(
            "failed",
            "Handler attempts that failed or timed out",
            self.failed.clone(),
        );
        r.register(
            "dead_lettered",
            "Entries moved to the dead-letter stream",
            self.dead_lettered.clone(),
        );
        r.register(
            "claimed",
            "Idle entries claimed from other (or dead) consumers",
            self.claimed.clone(),
        );
        r.register(
            "lag",
            "Entries in the stream not yet delivered to the group",
            self.lag.clone(),
        );
        r.register(
            "pending",
            "Entries delivered to the group but not yet acknowledged",
            self.pending.clone(),
        );
    }

    /// The handles of one (stream, group).
    pub fn runner(&self, stream: &str, group: &str) -> RunnerMetrics {
        let labels = StreamLabels {
            stream: stream.to_owned(),
            group: group.to_owned(),
        };
        RunnerMetrics {
            processed: self.processed.get_or_create(&labels).clone(),
            failed: self.failed.get_or_create(&labels).clone(),
            dead_lettered: self.dead_lettered.get_or_create(&labels).clone(),
            claimed: self.claimed.get_or_create(&labels).clone(),
            lag: self.lag.get_or_create(&labels).clone(),
            pending: self.pending.get_or_create(&labels).clone(),
        }
    }
}

/// One runner's counters; clones share the same values.
#[derive(Debug, Clone, Default)]
pub struct RunnerMetrics {
    pub processed: Counter,
    pub failed: Counter,
    pub dead_lettered: Counter,
    pub claimed: Counter,
    /// Refreshed from `XINFO GROUPS` on every claim pass.
    pub lag: Gauge,
    pub pending: Gauge,
}
