//! Building the application (listener, connections, state, background tasks) and running it until
//! shutdown.

use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_domain::events::PaymentProcessed;
use shop_http::{Metrics, Server};
use shop_outbox::{Outbox, OutboxConfig};
use shop_streams::{Consumer, Publisher, Redis, RedisSettings, StreamMetrics};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::consumers::{GROUP, handle_payment};
use crate::products::ProductsClient;
use crate::state::OrderMetrics;
use crate::store::{ORDERS, Store};
use crate::{AppState, Config, router};

/// Pause between attempts to create the indexes while MongoDB is unreachable.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// A built application: bound to its port, connected, not yet serving.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
    payments: Consumer<PaymentProcessed>,
    outbox_relay: bool,
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
            .connect("orders")
            .await
            .context("configuring MongoDB")?;
        let products = ProductsClient::new(&config.products_url, config.products_timeout)
            .context("building the products client")?;

        let metrics = Metrics::new();
        let outbox = Outbox::new(
            db.collection(ORDERS),
            Publisher::new(redis.clone(), config.stream_max_len),
            OutboxConfig::default(),
        );
        let stream_metrics = StreamMetrics::default();
        let order_metrics = OrderMetrics::default();
        {
            let mut registry = metrics.registry();
            stream_metrics.register(&mut registry);
            outbox.register_metrics(&mut registry);
            order_metrics.register(&mut registry);
        }
        let payments_stream = &config.streams.payments;
        let payments = Consumer::new(
            redis.clone(),
            config.consumer.consumer_config(payments_stream, GROUP),
            stream_metrics.runner(payments_stream, GROUP),
        )
        .context("configuring the payments consumer")?;

        let state = AppState {
            publisher: Publisher::new(redis.clone(), config.stream_max_len),
            reconcile: config.reconcile,
            redis,
            store: Store::new(&db),
            db,
            products,
            outbox,
            streams: config.streams,
            metrics,
            order_metrics,
        };
        Ok(Self {
            server,
            state,
            payments,
            outbox_relay: config.outbox_relay,
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

    /// Starts the background tasks (indexes, the payments consumer, the reconciler, the outbox relay
    /// unless disabled), serves until the shutdown token is cancelled and in-flight requests are done, then
    /// waits for the tasks to finish their work and closes Redis (also when serving failed, so the
    /// error is not hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            payments,
            outbox_relay,
        } = self;
        let shutdown = server.shutdown_token();

        let mut tasks: Vec<(&str, JoinHandle<()>)> = vec![(
            "indexes",
            tokio::spawn(ensure_indexes(state.clone(), shutdown.clone())),
        )];
        let store = state.store.clone();
        let consumer = payments.run(
            move |delivery| handle_payment(store.clone(), delivery),
            shutdown.clone(),
        );
        tasks.push((
            "payments consumer",
            tokio::spawn(async move {
                if let Err(error) = consumer.await {
                    tracing::error!(%error, "the payments consumer stopped");
                }
            }),
        ));
        tasks.push((
            "reconciler",
            tokio::spawn(crate::reconciler::run(state.clone(), shutdown.clone())),
        ));
        if outbox_relay {
            let relay = state.outbox.clone().run(shutdown.clone());
            tasks.push(("outbox relay", tokio::spawn(relay)));
        } else {
            tracing::info!("outbox relay disabled (OUTBOX_RELAY=false): other replicas publish");
        }

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

/// Creates the indexes, retrying while MongoDB is unreachable (the service serves, not ready,
/// meanwhile; queries work without indexes, only slower).
async fn ensure_indexes(state: AppState, shutdown: CancellationToken) {
    loop {
        let created = async {
            state.store.ensure_indexes().await?;
            state.outbox.ensure_indexes().await?;
            anyhow::Ok(())
        };
        match created.await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "creating indexes; retrying")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(INDEX_RETRY) => {}
        }
    }
}
