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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    stream: String,
    group: String,
    reason: &'static str,
}

/// Why an entry was dead-lettered: the `reason` label of `stream_dead_lettered_by_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadLetterReason {
    /// It cannot be read (bytes, shape) or decoded into the event: no retry can help.
    Undecodable,
    /// Its handler failed on its last allowed delivery, or it was never acknowledged in that many.
    MaxDeliveries,
}

impl DeadLetterReason {
    fn label(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::MaxDeliveries => "max_deliveries",
        }
    }
}

/// Metric families shared by every runner of one service. Register once, hand a clone to each runner.
#[derive(Debug, Clone, Default)]
pub struct StreamMetrics {
    processed: Family<StreamLabels, Counter>,
    failed: Family<StreamLabels, Counter>,
    dead_lettered: Family<StreamLabels, Counter>,
    dead_lettered_by_reason: Family<ReasonLabels, Counter>,
    dead_letter_failed: Family<StreamLabels, Counter>,
    deleted: Family<StreamLabels, Counter>,
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
            "dead_lettered_by_reason",
            "Entries moved to the dead-letter stream, by reason (undecodable, max_deliveries)",
            self.dead_lettered_by_reason.clone(),
        );
        r.register(
            "dead_letter_failed",
            "Dead-letter copies that could not be written; the entry stays pending",
            self.dead_letter_failed.clone(),
        );
        r.register(
            "deleted",
            "Pending entries found deleted or trimmed from the stream, acknowledged without handling",
            self.deleted.clone(),
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
        let by_reason = |reason: DeadLetterReason| {
            self.dead_lettered_by_reason
                .get_or_create(&ReasonLabels {
                    stream: stream.to_owned(),
                    group: group.to_owned(),
                    reason: reason.label(),
                })
                .clone()
        };
        RunnerMetrics {
            processed: self.processed.get_or_create(&labels).clone(),
            failed: self.failed.get_or_create(&labels).clone(),
            dead_lettered: self.dead_lettered.get_or_create(&labels).clone(),
            dead_lettered_undecodable: by_reason(DeadLetterReason::Undecodable),
            dead_lettered_max_deliveries: by_reason(DeadLetterReason::MaxDeliveries),
            dead_letter_failed: self.dead_letter_failed.get_or_create(&labels).clone(),
            deleted: self.deleted.get_or_create(&labels).clone(),
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
    /// Every dead-lettered entry; the two counters below split it by reason.
    pub dead_lettered: Counter,
    pub dead_lettered_undecodable: Counter,
    pub dead_lettered_max_deliveries: Counter,
    /// Dead-letter copies Redis refused; each such entry stays pending and is tried again.
    pub dead_letter_failed: Counter,
    /// Pending entries whose data was deleted (`XDEL`, `MAXLEN`), acknowledged without handling.
    pub deleted: Counter,
    pub claimed: Counter,
    /// Refreshed from `XINFO GROUPS` on every claim pass.
    pub lag: Gauge,
    pub pending: Gauge,
}

impl RunnerMetrics {
    pub(crate) fn count_dead_letter(&self, reason: DeadLetterReason) {
        self.dead_lettered.inc();
        match reason {
            DeadLetterReason::Undecodable => self.dead_lettered_undecodable.inc(),
            DeadLetterReason::MaxDeliveries => self.dead_lettered_max_deliveries.inc(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_are_counted_in_total_and_by_reason() {
        let metrics = StreamMetrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let runner = metrics.runner("S", "g");

        runner.count_dead_letter(DeadLetterReason::Undecodable);
        runner.count_dead_letter(DeadLetterReason::MaxDeliveries);
        runner.count_dead_letter(DeadLetterReason::Undecodable);

        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
        for line in [
            r#"stream_dead_lettered_total{stream="S",group="g"} 3"#,
            r#"stream_dead_lettered_by_reason_total{stream="S",group="g",reason="undecodable"} 2"#,
            r#"stream_dead_lettered_by_reason_total{stream="S",group="g",reason="max_deliveries"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
