//! The order state machine. Orders start `created` and settle once, to `paid` or `payment_failed`.
//! Streams deliver at least once and may reorder events from different producers, so applying an
//! event that does not move the order forward is a no-op, not an error.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Created,
    Paid,
    PaymentFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status code {0}")]
pub struct UnknownStatus(pub i32);

impl OrderStatus {
    pub const ALL: [OrderStatus; 3] = [Self::Created, Self::Paid, Self::PaymentFailed];

    /// The numeric code used by the API and the streams (`orderStatusCode`).
    pub fn code(self) -> i32 {
        match self {
            Self::Created => 1,
            Self::Paid => 3,
            Self::PaymentFailed => -3,
        }
    }

    pub fn from_code(code: i32) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or(UnknownStatus(code))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Paid => "paid",
            Self::PaymentFailed => "payment_failed",
        }
    }

    /// A settled order never changes again.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Created)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with an order in `current` status when an event says it is now `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Move the order to the target status.
    Apply(OrderStatus),
    /// Leave the order as it is: the event is a repeat, stale, or contradicts a settled outcome.
    Ignore,
}

/// The whole state machine: only `created` moves, and only forward to a settled status.
pub fn transition(current: OrderStatus, target: OrderStatus) -> Transition {
    match (current, target) {
        (OrderStatus::Created, OrderStatus::Paid | OrderStatus::PaymentFailed) => {
            Transition::Apply(target)
        }
        _ => Transition::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use proptest::prelude::*;

    #[test]
    fn created_settles_to_paid_or_failed() {
        assert_eq!(transition(Created, Paid), Transition::Apply(Paid));
        assert_eq!(
            transition(Created, PaymentFailed),
            Transition::Apply(PaymentFailed)
        );
    }

    #[test]
    fn repeats_and_stale_events_are_ignored() {
        assert_eq!(transition(Created, Created), Transition::Ignore);
        assert_eq!(transition(Paid, Paid), Transition::Ignore);
        assert_eq!(transition(Paid, Created), Transition::Ignore);
        assert_eq!(transition(PaymentFailed, Paid), Transition::Ignore);
        assert_eq!(transition(Paid, PaymentFailed), Transition::Ignore);
    }

    #[test]
    fn codes_match_the_contract() {
        assert_eq!(Created.code(), 1);
        assert_eq!(Paid.code(), 3);
        assert_eq!(PaymentFailed.code(), -3);
        assert_eq!(OrderStatus::from_code(2), Err(UnknownStatus(2)));
        assert_eq!(
            serde_json::to_string(&PaymentFailed).ok().as_deref(),
            Some("\"payment_failed\"")
        );
    }

    fn status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(OrderStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn code_round_trips(s in status()) {
            prop_assert_eq!(OrderStatus::from_code(s.code()), Ok(s));
        }

        /// Whatever sequence of events arrives, in whatever order and however often, the order
        /// settles at most once and then never changes.
        #[test]
        fn any_event_sequence_settles_at_most_once(events in prop::collection::vec(status(), 0..20)) {
            let mut current = Created;
            let mut changes = 0;
            for target in events {
                if let Transition::Apply(next) = transition(current, target) {
                    prop_assert!(!current.is_terminal());
                    prop_assert!(next.is_terminal());
                    current = next;
                    changes += 1;
                }
            }
            prop_assert!(changes <= 1);
        }
    }
}
