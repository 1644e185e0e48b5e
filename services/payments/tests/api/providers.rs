//! A provider a test injects at the `PaymentProvider` boundary: the simulated rules, plus a count of
//! calls and a script: fail the first calls, make the first calls meet, or hold calls until released.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use payments::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError, SimulatedProvider};
use tokio::sync::Barrier;
use tokio_util::sync::CancellationToken;

use crate::helpers::{MAX_AMOUNT, money};

#[derive(Debug)]
pub struct ScriptedProvider {
    simulated: SimulatedProvider,
    calls: AtomicUsize,
    /// The first this many calls fail, as an unreachable gateway would.
    failures: usize,
    /// The first `n` calls wait until all `n` are inside the provider at once.
    meeting: Option<(usize, Barrier)>,
    /// When set, calls that do not fail wait until [`ScriptedProvider::release`].
    hold: Option<CancellationToken>,
}

impl ScriptedProvider {
    pub fn new() -> Self {
        Self {
            simulated: SimulatedProvider::new(money(MAX_AMOUNT)),
            calls: AtomicUsize::new(0),
            failures: 0,
            meeting: None,
            hold: None,
        }
    }

    pub fn failing_first(self, failures: usize) -> Self {
        Self { failures, ..self }
    }

    pub fn meeting(self, n: usize) -> Self {
        Self {
            meeting: Some((n, Barrier::new(n))),
            ..self
        }
    }

    pub fn holding(self) -> Self {
        Self {
            hold: Some(CancellationToken::new()),
            ..self
        }
    }

    pub fn release(&self) {
        if let Some(hold) = &self.hold {
            hold.cancel();
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PaymentProvider for ScriptedProvider {
    fn name(&self) -> &'static str {
        "scripted"
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, ProviderError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures {
            return Err(ProviderError {
                provider: "scripted",
                message: format!("gateway unreachable (call {})", call + 1),
            });
        }
        if let Some((n, barrier)) = &self.meeting
            && call < *n
        {
            barrier.wait().await;
        }
        if let Some(hold) = &self.hold {
            hold.cancelled().await;
        }
        self.simulated.charge(request).await
    }
}
