//! The service's own numbers for `/metrics`: payments recorded, by outcome.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::store::PaymentStatus;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// `payments_total{outcome="paid"|"failed"}`. Cheap to clone; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct PaymentMetrics {
    payments: Family<OutcomeLabel, Counter>,
}

impl PaymentMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "payments",
            "Payments recorded (one per order; redeliveries are not counted), by outcome",
            self.payments.clone(),
        );
    }

    pub fn recorded(&self, status: PaymentStatus) {
        self.payments
            .get_or_create(&OutcomeLabel {
                outcome: status.as_str(),
            })
            .inc();
    }
}
