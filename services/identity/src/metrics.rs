//! The service's own numbers for `/metrics`: registrations, logins by outcome, identity records by
//! kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::store::RecordKind;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// How a login attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success,
    InvalidCredentials,
}

/// Cheap to clone; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct IdentityMetrics {
    registrations: Counter,
    logins: Family<OutcomeLabel, Counter>,
    records: Family<KindLabel, Counter>,
}

impl IdentityMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "registrations",
            "Accounts created",
            self.registrations.clone(),
        );
        registry.register(
            "logins",
            "Login attempts, by outcome (success, invalid_credentials)",
            self.logins.clone(),
        );
        registry.register(
            "identity_records",
            "Identity records written (redeliveries are not counted), by kind",
            self.records.clone(),
        );
    }

    pub fn registered(&self) {
        self.registrations.inc();
    }

    pub fn login(&self, outcome: LoginOutcome) {
        let outcome = match outcome {
            LoginOutcome::Success => "success",
            LoginOutcome::InvalidCredentials => "invalid_credentials",
        };
        self.logins.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn recorded(&self, kind: RecordKind) {
        self.records
            .get_or_create(&KindLabel {
                kind: kind.as_str(),
            })
            .inc();
    }
}
