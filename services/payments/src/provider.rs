//! The payment provider boundary: who actually moves the money. The service only knows this trait;
//! the shop ships a deterministic simulation, and a real gateway (or a test's failing one) plugs in
//! through `Application::build_with_provider`.

use std::time::Duration;

use async_trait::async_trait;
use shop_domain::{Money, OrderId, UserId};

/// What to charge. `order_id` doubles as the provider's idempotency key (see [`PaymentProvider`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub amount: Money,
}

/// The provider's decision. A decline is an answer, not an error: it is recorded and announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money was taken; `reference` is the provider's id for the charge.
    Approved { reference: String },
    /// The charge was refused; `reason` is a stable `snake_case` code (`amount_limit_exceeded`).
    Declined { reason: String },
}

/// The provider could not decide (unreachable, timed out, failed): the charge is retried later.
#[derive(Debug, thiserror::Error)]
#[error("payment provider {provider}: {message}")]
pub struct ProviderError {
    pub provider: &'static str,
    pub message: String,
}

/// A payment provider.
///
/// **Idempotency contract.** Implementations must treat `request.order_id` as an idempotency key:
/// charging the same order again returns the first outcome and moves no money. The service charges
/// *before* it records the payment, so a crash (or a lost MongoDB write) between the two makes the
/// order be charged again on redelivery, and two deliveries of one order racing both reach the
/// provider; only this key keeps either from charging twice. Real gateways offer exactly this
/// (an `Idempotency-Key` header or a merchant reference checked for duplicates).
#[async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// A short, stable name stored with each payment (`simulated`).
    fn name(&self) -> &'static str;

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, ProviderError>;
}

/// The shop's stand-in for a real gateway. Its rules are deterministic, so demos and tests can
/// predict every outcome:
///
/// - an amount above `max_amount` is declined with reason [`AMOUNT_LIMIT_EXCEEDED`];
/// - any other amount (zero included) is approved, with reference `sim_<orderId>`.
///
/// It never fails, and being a pure function of the request it is idempotent by construction.
#[derive(Debug, Clone)]
pub struct SimulatedProvider {
    pub max_amount: Money,
    /// How long each charge takes: a real provider answers in tens to hundreds of milliseconds,
    /// and a non-zero latency lets demos and system tests catch payments in flight.
    pub latency: Duration,
}

/// The decline reason for an order above the simulated provider's limit.
pub const AMOUNT_LIMIT_EXCEEDED: &str = "amount_limit_exceeded";

impl SimulatedProvider {
    pub fn new(max_amount: Money) -> Self {
        Self {
            max_amount,
            latency: Duration::ZERO,
        }
    }

    pub fn with_latency(self, latency: Duration) -> Self {
        Self { latency, ..self }
    }
}

#[async_trait]
impl PaymentProvider for SimulatedProvider {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, ProviderError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        Ok(if request.amount > self.max_amount {
            ChargeOutcome::Declined {
                reason: AMOUNT_LIMIT_EXCEEDED.to_owned(),
            }
        } else {
            ChargeOutcome::Approved {
                reference: format!("sim_{}", request.order_id),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cents: i64) -> Result<ChargeRequest, Box<dyn std::error::Error>> {
        Ok(ChargeRequest {
            order_id: OrderId::parse("o-1")?,
            user_id: UserId::parse("u-1")?,
            amount: Money::from_minor(cents)?,
        })
    }

    #[tokio::test]
    async fn approves_up_to_the_limit_and_declines_above_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let provider = SimulatedProvider::new(Money::from_minor(500)?);

        let at_limit = provider.charge(&request(500)?).await?;
        let nothing = provider.charge(&request(0)?).await?;
        let above = provider.charge(&request(501)?).await?;

        let approved = ChargeOutcome::Approved {
            reference: "sim_o-1".into(),
        };
        assert_eq!(at_limit, approved);
        assert_eq!(nothing, approved);
        assert_eq!(
            above,
            ChargeOutcome::Declined {
                reason: AMOUNT_LIMIT_EXCEEDED.into()
            }
        );
        Ok(())
    }
}
