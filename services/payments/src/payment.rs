//! Charging an order exactly once, and reading the result: the service's domain operations, called by
//! the `ORDERS_STREAM` consumer and the internal read route.

use std::sync::Arc;

use shop_domain::events::{OrderCreated, PaymentProcessed};
use shop_domain::{CURRENCY, OrderId, OrderStatus, PaymentId};
use shop_outbox::{Outbox, OutboxEntry};
use shop_streams::{
    Event, Publisher, REANNOUNCED_FIELD, StreamsError, TRACEPARENT_FIELD, Traceparent,
};

use crate::metrics::PaymentMetrics;
use crate::provider::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError};
use crate::store::{Inserted, PaymentDocument, PaymentStatus, PaymentStore, ProviderRecord};

/// Everything a charge touches. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Payments {
    store: PaymentStore,
    provider: Arc<dyn PaymentProvider>,
    outbox: Outbox,
    /// Re-publishes a recorded payment's event when its order is re-announced.
    publisher: Publisher,
    /// Where `PaymentProcessed` goes (the deployment's prefixed `PAYMENTS_STREAM`).
    payments_stream: String,
    metrics: PaymentMetrics,
}

/// What a charge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charged {
    /// This call recorded the order's payment with this status.
    Recorded(PaymentStatus),
    /// The order already had its payment (a redelivery, a duplicate entry, a concurrent delivery
    /// that won the race): nothing was written and nothing is announced twice.
    AlreadyRecorded,
}

/// Why a charge could not be decided now; the consumer retries the entry.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error("payment storage: {0}")]
    Store(#[from] mongodb::error::Error),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("re-announcing the payment: {0}")]
    Streams(#[from] StreamsError),
}

impl Payments {
    pub fn new(
        store: PaymentStore,
        provider: Arc<dyn PaymentProvider>,
        outbox: Outbox,
        publisher: Publisher,
        payments_stream: String,
        metrics: PaymentMetrics,
    ) -> Self {
        Self {
            store,
            provider,
            outbox,
            publisher,
            payments_stream,
            metrics,
        }
    }

    /// Charges `order` once, however often it is delivered.
    ///
    /// 1. An existing payment ends it: the work was done by an earlier delivery.
    /// 2. The provider charges, keyed by the order id, so the window between step 2 and step 3 (a
    ///    crash, a lost write, a concurrent delivery) can repeat the call but not the charge.
    /// 3. One insert stores the payment and its `PaymentProcessed` entry under `_id = orderId`; a
    ///    duplicate key means a concurrent delivery stored it first, and this one writes nothing.
    ///
    /// `traceparent` is the `PaymentProcessed` entry's own: a child of the order's.
    ///
    /// `reannounced` marks an `OrderCreated` that `orders`' reconciler published again because
    /// the order stayed unpaid: if the payment exists, its `PaymentProcessed` was lost on the way
    /// (Redis acknowledged it and then lost it), so it is published again too.
    pub async fn charge(
        &self,
        order: &OrderCreated,
        traceparent: &Traceparent,
        reannounced: bool,
    ) -> Result<Charged, ChargeError> {
        if reannounced && self.reannounce(&order.order_id).await? {
            return Ok(Charged::AlreadyRecorded);
        }
        if self.store.exists(&order.order_id).await? {
            // Its event may still be pending, unqueued, if the process died between its insert and
            // queueing it: queue it (a no-op when it is queued or published) and wake the relay.
            self.outbox.written(order.order_id.as_str()).await;
            tracing::info!("order already charged; nothing to do");
            return Ok(Charged::AlreadyRecorded);
        }
        let request = ChargeRequest {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            amount: order.order_amount,
        };
        let outcome = self.provider.charge(&request).await?;
        let payment = self.payment_document(order, outcome, traceparent);
        let status = payment.status;
        match self.store.insert(&payment).await? {
            Inserted::New => {
                self.outbox.written(order.order_id.as_str()).await;
                self.metrics.recorded(status);
                tracing::info!(payment_id = %payment.payment_id, status = status.as_str(),
                    reason = payment.reason.as_deref(), "payment recorded");
                Ok(Charged::Recorded(status))
            }
            Inserted::AlreadyExists => {
                tracing::info!("a concurrent delivery recorded the payment first");
                Ok(Charged::AlreadyRecorded)
            }
        }
    }

    /// Publishes the recorded payment's `PaymentProcessed` again (its queued entry, if the relay
    /// has not sent it yet, is left to the relay); false when the order has no payment.
    async fn reannounce(&self, order_id: &OrderId) -> Result<bool, ChargeError> {
        let Some(payment) = self.store.find(order_id).await? else {
            return Ok(false);
        };
        if payment.outbox.pending {
            self.outbox.written(order_id.as_str()).await;
            return Ok(true);
        }
        let mut fields = payment.outbox.stream_fields();
        fields.push(REANNOUNCED_FIELD, "1");
        self.publisher
            .publish_fields(&payment.outbox.stream, fields)
            .await?;
        tracing::warn!(payment_id = %payment.payment_id, "the order was re-announced; its payment is announced again");
        Ok(true)
    }

    /// The payment of `order_id`, if it was charged.
    pub async fn find(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<PaymentDocument>, mongodb::error::Error> {
        self.store.find(order_id).await
    }

    /// The payment and, embedded, the `PaymentProcessed` entry announcing it.
    fn payment_document(
        &self,
        order: &OrderCreated,
        outcome: ChargeOutcome,
        traceparent: &Traceparent,
    ) -> PaymentDocument {
        // Taken once, at BSON's millisecond precision, so the document and the event agree.
        let created_at = bson::DateTime::now();
        let payment_id = PaymentId::generate();
        let (status, reason, reference) = match outcome {
            ChargeOutcome::Approved { reference } => (PaymentStatus::Paid, None, Some(reference)),
            ChargeOutcome::Declined { reason } => (PaymentStatus::Failed, Some(reason), None),
        };
        let event = PaymentProcessed {
            order_id: order.order_id.clone(),
            payment_id: payment_id.clone(),
            user_id: order.user_id.clone(),
            order_status: match status {
                PaymentStatus::Paid => OrderStatus::Paid,
                PaymentStatus::Failed => OrderStatus::PaymentFailed,
            },
            // As in the reference tutorial, the order amount on both outcomes.
            paid_amount: order.order_amount,
            reason: reason.clone(),
            created_at: created_at.to_chrono(),
        };
        let mut fields = event.to_fields();
        fields.push(TRACEPARENT_FIELD, traceparent.to_string());
        PaymentDocument {
            order_id: order.order_id.clone(),
            payment_id,
            user_id: order.user_id.clone(),
            amount: order.order_amount,
            currency: CURRENCY.to_owned(),
            status,
            reason,
            provider: ProviderRecord {
                name: self.provider.name().to_owned(),
                reference,
            },
            created_at,
            traceparent: traceparent.to_string(),
            outbox: OutboxEntry::new(&self.payments_stream, fields),
        }
    }
}
