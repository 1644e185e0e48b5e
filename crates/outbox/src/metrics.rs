//! The relay's numbers for `/metrics`, labelled by the collection whose outbox it drains.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CollectionLabel {
    collection: String,
}

#[derive(Debug, Clone)]
pub(crate) struct OutboxMetrics {
    label: CollectionLabel,
    published: Family<CollectionLabel, Counter>,
    failures: Family<CollectionLabel, Counter>,
    backlog: Family<CollectionLabel, Gauge>,
    undecodable: Family<CollectionLabel, Counter>,
    takeovers: Family<CollectionLabel, Counter>,
}

impl OutboxMetrics {
    pub(crate) fn new(collection: &str) -> Self {
        Self {
            label: CollectionLabel {
                collection: collection.to_owned(),
            },
            published: Family::default(),
            failures: Family::default(),
            backlog: Family::default(),
            undecodable: Family::default(),
            takeovers: Family::default(),
        }
    }

    pub(crate) fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("outbox");
        r.register(
            "published",
            "Outbox entries published to their stream",
            self.published.clone(),
        );
        r.register(
            "publish_failures",
            "Outbox entries whose publication failed (retried later)",
            self.failures.clone(),
        );
        r.register(
            "backlog",
            "Outbox entries waiting to be published",
            self.backlog.clone(),
        );
        r.register(
            "undecodable",
            "Queued outbox entries that do not decode, moved to <collection>_outbox_dead",
            self.undecodable.clone(),
        );
        r.register(
            "claim_takeovers",
            "Entries whose claiming relay died before scheduling them, taken over after the lease",
            self.takeovers.clone(),
        );
    }

    pub(crate) fn published(&self, n: usize) {
        self.published.get_or_create(&self.label).inc_by(n as u64);
    }

    pub(crate) fn failed(&self, n: usize) {
        self.failures.get_or_create(&self.label).inc_by(n as u64);
    }

    pub(crate) fn undecodable(&self, n: usize) {
        self.undecodable.get_or_create(&self.label).inc_by(n as u64);
    }

    pub(crate) fn takeovers(&self, n: usize) {
        self.takeovers.get_or_create(&self.label).inc_by(n as u64);
    }

    pub(crate) fn backlog(&self, n: u64) {
        self.backlog
            .get_or_create(&self.label)
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
