//! The service's own numbers for `/metrics`: registrations, logins by outcome, password hashing,
//! sessions revoked by the cap, identity records by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::passwords::PasswordMetrics;
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
    /// Refused by the failed-login throttle (429), before any lookup or hash.
    Throttled,
    /// Refused because the hashing queue was full (503 `busy`).
    Busy,
}

/// Cheap to clone; clones share the counters.
#[derive(Debug, Clone, Default)]
pub struct IdentityMetrics {
    registrations: Counter,
    logins: Family<OutcomeLabel, Counter>,
    records: Family<KindLabel, Counter>,
    sessions_revoked_by_cap: Counter,
    /// Handed to `Passwords`, which counts its own work.
    pub passwords: PasswordMetrics,
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
            "Login attempts, by outcome (success, invalid_credentials, throttled, busy)",
            self.logins.clone(),
        );
        registry.register(
            "sessions_revoked_by_cap",
            "Older sessions revoked because a login took the user past SESSION_MAX_PER_USER",
            self.sessions_revoked_by_cap.clone(),
        );
        self.passwords.register(registry);
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
            LoginOutcome::Throttled => "throttled",
            LoginOutcome::Busy => "busy",
        };
        self.logins.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn sessions_revoked_by_cap(&self, revoked: u64) {
        self.sessions_revoked_by_cap.inc_by(revoked);
    }

    pub fn recorded(&self, kind: RecordKind) {
        self.records
            .get_or_create(&KindLabel {
                kind: kind.as_str(),
            })
            .inc();
    }
}
