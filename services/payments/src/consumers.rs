//! The `ORDERS_STREAM` consumer (group `payments`): every `OrderCreated` is charged once. A failed
//! charge returns an error, so the runner leaves the entry pending and retries it; an undecodable
//! entry, or one that keeps failing, goes to `<orders stream>:dlq`.

use shop_domain::events::OrderCreated;
use shop_streams::{
    Consumer, Delivery, HandlerError, Redis, StreamMetrics, StreamsError, Traceparent,
};
use tokio_util::sync::CancellationToken;
use tracing::{Span, field};

use crate::Config;
use crate::payment::Payments;

/// The consumer group, named after the service as every group is.
pub const GROUP: &str = "payments";

/// The runner for the deployment's orders stream, with the configured tuning. Built at startup so a
/// bad configuration fails the build, not a background task.
pub fn orders_consumer(
    redis: Redis,
    config: &Config,
    metrics: &StreamMetrics,
) -> Result<Consumer<OrderCreated>, StreamsError> {
    let stream = &config.streams.orders;
    Consumer::new(
        redis,
        config.consumer.consumer_config(stream, GROUP),
        metrics.runner(stream, GROUP),
    )
}

/// Charges orders until `shutdown`; in-flight charges finish and are acknowledged first.
pub async fn run(
    consumer: Consumer<OrderCreated>,
    payments: Payments,
    shutdown: CancellationToken,
) -> Result<(), StreamsError> {
    let handler = move |delivery| {
        let payments = payments.clone();
        async move { charge_order(&payments, delivery).await }
    };
    consumer.run(handler, shutdown).await
}

#[tracing::instrument(skip_all, fields(order_id = %delivery.event.order_id, trace_id = field::Empty))]
async fn charge_order(
    payments: &Payments,
    delivery: Delivery<OrderCreated>,
) -> Result<(), HandlerError> {
    // The payment's event continues the order's trace, so one order is one trace across services.
    let traceparent = Traceparent::child_of(delivery.traceparent.as_deref());
    Span::current().record("trace_id", traceparent.trace_id());
    payments
        .charge(&delivery.event, &traceparent, delivery.reannounced)
        .await?;
    Ok(())
}
