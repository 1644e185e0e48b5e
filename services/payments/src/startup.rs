//! Building the application (listener, connections, state, background tasks) and running it until
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_domain::events::OrderCreated;
use shop_http::{Metrics, Server};
use shop_outbox::{Outbox, OutboxConfig};
use shop_streams::{Consumer, Publisher, Redis, RedisSettings, StreamMetrics};
use tokio_util::sync::CancellationToken;

use crate::metrics::PaymentMetrics;
use crate::payment::Payments;
use crate::provider::{PaymentProvider, SimulatedProvider};
use crate::store::PaymentStore;
use crate::{AppState, Config, consumers, router};

/// Pause between attempts to create the outbox indexes while MongoDB is unreachable.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// A built application: bound to its port, connected, not yet serving or consuming.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
    consumer: Consumer<OrderCreated>,
    outbox: Outbox,
}

impl Application {
    /// The application with the [`SimulatedProvider`] and `config.payment_max_amount` as its limit.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let provider = Arc::new(
            SimulatedProvider::new(config.payment_max_amount).with_latency(config.provider_latency),
        );
        Self::build_with_provider(config, provider).await
    }

    /// The application charging through `provider` (a real gateway, or a test's failing one).
    ///
    /// Binds `config.bind_addr` first (a taken port is the cheapest failure), then connects Redis.
    /// MongoDB connects lazily: the service starts, and reports not ready, while MongoDB is down,
    /// instead of crash-looping.
    pub async fn build_with_provider(
        config: Config,
        provider: Arc<dyn PaymentProvider>,
    ) -> anyhow::Result<Self> {
        let server = Server::bind(config.bind_addr).await?;
        let redis = Redis::connect(RedisSettings::new(config.redis_url.expose_secret()))
            .await
            .context("connecting to Redis")?;
        let db = config
            .mongo
            .connect("payments")
            .await
            .context("configuring MongoDB")?;
        let metrics = Metrics::new();

        let store = PaymentStore::new(&db);
        let outbox = Outbox::new(
            store.outbox_collection(),
            Publisher::new(redis.clone(), config.stream_max_len),
            OutboxConfig::default(),
        );
        let stream_metrics = StreamMetrics::default();
        let payment_metrics = PaymentMetrics::default();
        {
            let mut registry = metrics.registry();
            stream_metrics.register(&mut registry);
            outbox.register_metrics(&mut registry);
            payment_metrics.register(&mut registry);
        }
        let consumer = consumers::orders_consumer(redis.clone(), &config, &stream_metrics)
            .context("configuring the orders consumer")?;
        let payments = Payments::new(
            store,
            provider,
            outbox.clone(),
            Publisher::new(redis.clone(), config.stream_max_len),
            config.streams.payments.clone(),
            payment_metrics,
        );
        Ok(Self {
            server,
            state: AppState {
                redis,
                db,
                metrics,
                payments,
            },
            consumer,
            outbox,
        })
    }

    /// The port actually bound (the one chosen by the OS when configured as 0).
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Cancelling this token stops the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.server.shutdown_token()
    }

    /// Consumes orders, relays the outbox and serves HTTP until the shutdown token is cancelled; then
    /// lets in-flight charges finish and be acknowledged, relays what they wrote, and closes Redis
    /// (also when serving failed, so the error is not hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.server.shutdown_token();
        // The relay stops only after the consumer: its last pass then publishes the events of
        // charges that finished during shutdown, instead of leaving them for the next start.
        let relay_shutdown = CancellationToken::new();
        let relay = tokio::spawn(relay(self.outbox, relay_shutdown.clone()));
        let consumer = tokio::spawn(consumers::run(
            self.consumer,
            self.state.payments.clone(),
            shutdown.clone(),
        ));

        let served = self.server.serve(router(self.state.clone())).await;
        shutdown.cancel(); // already cancelled, unless serving failed
        let consumed = consumer.await;
        relay_shutdown.cancel();
        let relayed = relay.await;
        self.state.redis.quit().await;

        served.context("serving HTTP")?;
        consumed
            .context("the orders consumer panicked")?
            .context("consuming orders")?;
        relayed.context("the outbox relay panicked")
    }
}

/// Creates the outbox indexes, then relays until `shutdown`. MongoDB may be down at startup (the
/// service then runs and reports not ready), so index creation is retried rather than fatal.
async fn relay(outbox: Outbox, shutdown: CancellationToken) {
    loop {
        let created = tokio::select! {
            created = outbox.ensure_indexes() => created,
            () = shutdown.cancelled() => return,
        };
        match created {
            Ok(()) => break,
            Err(error) => tracing::warn!(%error, "creating the outbox indexes failed; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(INDEX_RETRY) => {}
            () = shutdown.cancelled() => return,
        }
    }
    outbox.run(shutdown).await;
}
