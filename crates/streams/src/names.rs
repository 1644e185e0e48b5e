//! The names of the shop's streams in one deployment. A prefix lets several deployments (or tests
//! running in parallel) share one Redis without reading each other's entries.

use crate::events::{IDENTITY_STREAM, ORDERS_STREAM, PAYMENTS_STREAM};

/// The stream names a service uses, all with the same prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamNames {
    pub orders: String,
    pub payments: String,
    pub identity: String,
}

impl StreamNames {
    /// `STREAM_PREFIX` + the documented names; an empty prefix gives `ORDERS_STREAM` and so on.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            orders: format!("{prefix}{ORDERS_STREAM}"),
            payments: format!("{prefix}{PAYMENTS_STREAM}"),
            identity: format!("{prefix}{IDENTITY_STREAM}"),
        }
    }
}

impl Default for StreamNames {
    fn default() -> Self {
        Self::with_prefix("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_prepended_to_every_name() {
        let names = StreamNames::with_prefix("t1:");
        assert_eq!(names.orders, "t1:ORDERS_STREAM");
        assert_eq!(names.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(StreamNames::default().identity, "IDENTITY_STREAM");
    }
}
