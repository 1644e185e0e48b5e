//! The stream consumers (group `identity`): `UserLoggedIn` from `IDENTITY_STREAM` and `OrderCreated`
//! (a checkout) from `ORDERS_STREAM` each become one scored identity record.

use shop_domain::events::{OrderCreated, UserLoggedIn};
use shop_streams::{Consumer, Delivery, HandlerError, Redis, StreamMetrics, StreamsError};
use tokio_util::sync::CancellationToken;

use crate::Config;
use crate::digital_identity::{self, MissingLogin, Recorded};
use crate::metrics::IdentityMetrics;
use crate::store::Records;

/// The consumer group this service reads both streams as.
pub const GROUP: &str = "identity";

/// The runners, built at startup so a bad configuration fails the build, not a background task.
#[derive(Debug)]
pub struct Consumers {
    logins: Consumer<UserLoggedIn>,
    checkouts: Consumer<OrderCreated>,
}

impl Consumers {
    pub fn new(
        redis: &Redis,
        config: &Config,
        metrics: &StreamMetrics,
    ) -> Result<Self, StreamsError> {
        let runner = |stream: &str| {
            (
                config.consumer.consumer_config(stream, GROUP),
                metrics.runner(stream, GROUP),
            )
        };
        let (logins_config, logins_metrics) = runner(&config.streams.identity);
        let (checkouts_config, checkouts_metrics) = runner(&config.streams.orders);
        Ok(Self {
            logins: Consumer::new(redis.clone(), logins_config, logins_metrics)?,
            checkouts: Consumer::new(redis.clone(), checkouts_config, checkouts_metrics)?,
        })
    }

    /// Runs both until `shutdown`; in-flight entries finish and are acknowledged first.
    pub async fn run(
        self,
        records: Records,
        metrics: IdentityMetrics,
        shutdown: CancellationToken,
    ) -> Result<(), StreamsError> {
        let max_deliveries = self.checkouts.config().max_deliveries;
        let logins = {
            let (records, metrics) = (records.clone(), metrics.clone());
            self.logins.run(
                move |delivery| handle_login(records.clone(), metrics.clone(), delivery),
                shutdown.clone(),
            )
        };
        let checkouts = self.checkouts.run(
            move |delivery| {
                handle_checkout(records.clone(), metrics.clone(), max_deliveries, delivery)
            },
            shutdown,
        );
        let (logins, checkouts) = tokio::join!(logins, checkouts);
        logins.and(checkouts)
    }
}

async fn handle_login(
    records: Records,
    metrics: IdentityMetrics,
    delivery: Delivery<UserLoggedIn>,
) -> Result<(), HandlerError> {
    let recorded = digital_identity::record_login(&records, &delivery.event).await?;
    count(&metrics, recorded);
    Ok(())
}

/// A checkout waits (fails, to be retried) for its user's login to be recorded, except on its last
/// delivery, which records it with an unknown device instead of dead-lettering it.
async fn handle_checkout(
    records: Records,
    metrics: IdentityMetrics,
    max_deliveries: u64,
    delivery: Delivery<OrderCreated>,
) -> Result<(), HandlerError> {
    let missing = if delivery.deliveries >= max_deliveries {
        MissingLogin::RecordWithoutDevice
    } else {
        MissingLogin::Wait
    };
    let recorded = digital_identity::record_checkout(&records, &delivery.event, missing).await?;
    count(&metrics, recorded);
    Ok(())
}

fn count(metrics: &IdentityMetrics, recorded: Recorded) {
    if let Recorded::New { kind, .. } = recorded {
        metrics.recorded(kind);
    }
}
