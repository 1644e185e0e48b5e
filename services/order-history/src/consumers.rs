//! The two consumers of group `order-history`: `OrderCreated` from `ORDERS_STREAM` and
//! `PaymentProcessed` from `PAYMENTS_STREAM`, each recorded as its own fact. A failed write returns an
//! error, so the runner retries the entry; an undecodable entry goes to `<stream>:dlq`.

use shop_domain::events::{OrderCreated, PaymentProcessed};
use shop_streams::{Consumer, Delivery, Event, HandlerError, Redis, StreamMetrics, StreamsError};
use tokio_util::sync::CancellationToken;
use tracing::instrument;

use crate::Config;
use crate::facts::{OrderFact, PaymentFact};
use crate::history::record;
use crate::store::Store;

/// The consumer group, named after the service as every group is.
pub const GROUP: &str = "order-history";

/// The runner of `stream` with the configured tuning. Built at startup so a bad configuration fails
/// the build, not a background task.
pub fn consumer<E: Event>(
    redis: Redis,
    config: &Config,
    stream: &str,
    metrics: &StreamMetrics,
) -> Result<Consumer<E>, StreamsError> {
    Consumer::new(
        redis,
        config.consumer.consumer_config(stream, GROUP),
        metrics.runner(stream, GROUP),
    )
}

/// Records orders until `shutdown`; in-flight entries finish and are acknowledged first.
pub async fn run_orders(
    consumer: Consumer<OrderCreated>,
    store: Store,
    shutdown: CancellationToken,
) -> Result<(), StreamsError> {
    let handler = move |delivery| {
        let store = store.clone();
        async move { record_order(&store, delivery).await }
    };
    consumer.run(handler, shutdown).await
}

/// Records payment outcomes until `shutdown`; in-flight entries finish and are acknowledged first.
pub async fn run_payments(
    consumer: Consumer<PaymentProcessed>,
    store: Store,
    shutdown: CancellationToken,
) -> Result<(), StreamsError> {
    let handler = move |delivery| {
        let store = store.clone();
        async move { record_payment(&store, delivery).await }
    };
    consumer.run(handler, shutdown).await
}

#[instrument(skip_all, fields(order_id = %delivery.event.order_id, entry_id = %delivery.id))]
async fn record_order(store: &Store, delivery: Delivery<OrderCreated>) -> Result<(), HandlerError> {
    record(store, &OrderFact::from(&delivery.event)).await?;
    Ok(())
}

/// A payment whose order has not arrived yet is recorded all the same: it shows once the order does.
#[instrument(skip_all, fields(order_id = %delivery.event.order_id, entry_id = %delivery.id))]
async fn record_payment(
    store: &Store,
    delivery: Delivery<PaymentProcessed>,
) -> Result<(), HandlerError> {
    record(store, &PaymentFact::from(&delivery.event)).await?;
    Ok(())
}
