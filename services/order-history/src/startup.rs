//! Building the application (listener, connections, state, consumers) and running it until
//! shutdown.

use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_domain::events::{OrderCreated, PaymentProcessed};
use shop_http::{Metrics, Server};
use shop_streams::{Consumer, Redis, RedisSettings, StreamMetrics};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::consumers::{self, run_orders, run_payments};
use crate::rebuild::Rebuilder;
use crate::state::HistoryMetrics;
use crate::store::Store;
use crate::{AppState, Config, router};

/// Pause between attempts to create the indexes while MongoDB is unreachable.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// A built application: bound to its port, connected, not yet serving or consuming.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
    orders: Consumer<OrderCreated>,
    payments: Consumer<PaymentProcessed>,
}

impl Application {
    /// Binds `config.bind_addr` first (a taken port is the cheapest failure), then connects Redis.
    /// MongoDB connects lazily: the service starts, and reports not ready, while MongoDB is down,
    /// instead of crash-looping.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let server = Server::bind(config.bind_addr).await?;
        let redis = Redis::connect(RedisSettings::new(config.redis_url.expose_secret()))
            .await
            .context("connecting to Redis")?;
        let db = config
            .mongo
            .connect("order-history")
            .await
            .context("configuring MongoDB")?;

        let metrics = Metrics::new();
        let stream_metrics = StreamMetrics::default();
        let history_metrics = HistoryMetrics::default();
        {
            let mut registry = metrics.registry();
            stream_metrics.register(&mut registry);
            history_metrics.register(&mut registry);
        }
        let streams = &config.streams;
        let orders = consumers::consumer(redis.clone(), &config, &streams.orders, &stream_metrics)
            .context("configuring the orders consumer")?;
        let payments =
            consumers::consumer(redis.clone(), &config, &streams.payments, &stream_metrics)
                .context("configuring the payments consumer")?;

        let store = Store::new(&db);
        let rebuilder = Rebuilder::new(
            store.clone(),
            redis.clone(),
            config.streams.clone(),
            config.rebuild_timeout,
            history_metrics,
        );
        Ok(Self {
            server,
            state: AppState {
                redis,
                db,
                store,
                rebuilder,
                metrics,
            },
            orders,
            payments,
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

    /// Starts the background tasks (indexes, both consumers), serves until the shutdown token is
    /// cancelled and in-flight requests are done, then lets the consumers finish and acknowledge
    /// their in-flight entries and closes Redis (also when serving failed, so the error is not
    /// hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            orders,
            payments,
        } = self;
        let shutdown = server.shutdown_token();

        let store = &state.store;
        let tasks: Vec<(&str, JoinHandle<()>)> = vec![
            (
                "indexes",
                tokio::spawn(ensure_indexes(store.clone(), shutdown.clone())),
            ),
            (
                "orders consumer",
                tokio::spawn(report(
                    "orders",
                    run_orders(orders, store.clone(), shutdown.clone()),
                )),
            ),
            (
                "payments consumer",
                tokio::spawn(report(
                    "payments",
                    run_payments(payments, store.clone(), shutdown.clone()),
                )),
            ),
        ];

        let served = server.serve(router(state.clone())).await;
        // Serving may have failed without a shutdown request: stop the tasks either way.
        shutdown.cancel();
        for (name, task) in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, task = name, "background task ended abnormally");
            }
        }
        state.redis.quit().await;
        served.context("serving HTTP")
    }
}

async fn report(
    stream: &'static str,
    consumer: impl Future<Output = Result<(), shop_streams::StreamsError>>,
) {
    if let Err(error) = consumer.await {
        tracing::error!(%error, stream, "a consumer stopped");
    }
}

/// Creates the history index of the active generation (a rebuild indexes its own before it becomes
/// active), retrying while MongoDB is unreachable: the service serves, not ready, meanwhile.
async fn ensure_indexes(store: Store, shutdown: CancellationToken) {
    loop {
        let created = async {
            let active = store.generations.fetch().await?.active;
            store.ensure_indexes(active).await
        };
        match created.await {
            Ok(()) => return,
            Err(error) => tracing::warn!(%error, "creating indexes; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(INDEX_RETRY) => {}
        }
    }
}
