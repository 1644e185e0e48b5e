//! Building the application (listener, connections, state, consumer) and running it until shutdown.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_domain::events::PaymentProcessed;
use shop_http::{Metrics, Server};
use shop_streams::{Consumer, Redis, RedisSettings, StreamMetrics};
use tokio_util::sync::CancellationToken;

use crate::cache::Cache;
use crate::consumers::{self, GROUP};
use crate::store::Store;
use crate::{AppState, Config, embedded_catalog, router, seed_products};

/// Pause between bootstrap attempts while MongoDB is unreachable.
const BOOTSTRAP_RETRY: Duration = Duration::from_secs(2);

/// A built application: bound to its port, connected, not yet serving.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
    payments: Consumer<PaymentProcessed>,
    seed_catalog: bool,
}

impl Application {
    /// Binds `config.bind_addr` first (a taken port is the cheapest failure), then connects Redis
    /// and bootstraps MongoDB (indexes, then the catalog when `seed_catalog`), so a built
    /// application serves a complete catalog. When MongoDB is down the application still builds:
    /// it reports not ready, stock changes answer 503, and the bootstrap is retried in the
    /// background instead of crash-looping.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let server = Server::bind(config.bind_addr).await?;
        let redis = Redis::connect(RedisSettings::new(config.redis_url.expose_secret()))
            .await
            .context("connecting to Redis")?;
        let db = config
            .mongo
            .connect("products")
            .await
            .context("configuring MongoDB")?;
        let metrics = Metrics::new();
        let stream_metrics = StreamMetrics::default();
        stream_metrics.register(&mut metrics.registry());
        let cache = Cache::new(
            redis.clone(),
            db.name(),
            config.cache_ttl,
            &mut metrics.registry(),
        );
        let payments_stream = config.streams.payments.as_str();
        let payments = Consumer::new(
            redis.clone(),
            config.consumer.consumer_config(payments_stream, GROUP),
            stream_metrics.runner(payments_stream, GROUP),
        )
        .context("configuring the payments consumer")?;
        let state = AppState {
            store: Store::new(&db),
            redis,
            db,
            cache,
            metrics,
            ledger_ready: Arc::new(AtomicBool::new(false)),
        };
        match bootstrap(&state, config.seed_catalog).await {
            Ok(()) => state.mark_ledger_ready(),
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "bootstrapping MongoDB failed; retrying in the background"
                );
            }
        }
        Ok(Self {
            server,
            state,
            payments,
            seed_catalog: config.seed_catalog,
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

    /// Serves HTTP and consumes `PAYMENTS_STREAM` until the shutdown token is cancelled, then waits
    /// for in-flight requests and stream entries, and closes Redis (also when serving failed, so the
    /// error is not hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.server.shutdown_token();
        let background = tokio::spawn(run_background(
            self.state.clone(),
            self.payments,
            self.seed_catalog,
            shutdown.clone(),
        ));
        let served = self.server.serve(router(self.state.clone())).await;
        // Serving may have failed without a shutdown: stop the consumer either way.
        shutdown.cancel();
        if let Err(error) = background.await {
            tracing::error!(%error, "the background task ended abnormally");
        }
        self.state.redis.quit().await;
        served.context("serving HTTP")
    }
}

/// Creates the indexes and seeds the embedded catalog (new products bump the cache version, so
/// listings cached before show them).
async fn bootstrap(state: &AppState, seed_catalog: bool) -> anyhow::Result<()> {
    if !seed_catalog {
        return state
            .store
            .ensure_indexes()
            .await
            .context("creating the indexes");
    }
    let catalog = embedded_catalog().context("parsing the embedded catalog")?;
    let added = seed_products(&state.db, &catalog)
        .await
        .context("seeding the catalog")?;
    if added > 0 {
        state.cache.bump_version().await;
    }
    tracing::info!(added, products = catalog.len(), "catalog seeded");
    Ok(())
}

/// Finishes the bootstrap if MongoDB was down at build time, then runs the payments consumer (which
/// changes stock, so it must not start before the ledger's indexes exist).
async fn run_background(
    state: AppState,
    payments: Consumer<PaymentProcessed>,
    seed_catalog: bool,
    shutdown: CancellationToken,
) {
    while !state.ledger_ready() {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(BOOTSTRAP_RETRY) => {}
        }
        match bootstrap(&state, seed_catalog).await {
            Ok(()) => state.mark_ledger_ready(),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "bootstrapping MongoDB failed; retrying"
            ),
        }
    }
    consumers::run_payments(state, payments, shutdown).await;
}
