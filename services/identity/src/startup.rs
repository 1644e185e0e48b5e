//! Building the application (listener, connections, state, background tasks) and running it until
//! shutdown.

use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_http::{Metrics, Server};
use shop_sessions::SessionStore;
use shop_streams::{Publisher, Redis, RedisSettings, StreamMetrics};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounts::Accounts;
use crate::consumers::Consumers;
use crate::metrics::IdentityMetrics;
use crate::passwords::Passwords;
use crate::store::Store;
use crate::throttle::LoginThrottle;
use crate::{AppState, Config, router};

/// Pause between attempts to create the indexes while MongoDB is unreachable.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// A built application: bound to its port, connected, not yet serving or consuming.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
    consumers: Consumers,
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
            .connect("identity")
            .await
            .context("configuring MongoDB")?;

        let metrics = Metrics::new();
        let stream_metrics = StreamMetrics::default();
        let identity_metrics = IdentityMetrics::default();
        {
            let mut registry = metrics.registry();
            stream_metrics.register(&mut registry);
            identity_metrics.register(&mut registry);
        }
        let consumers = Consumers::new(&redis, &config, &stream_metrics)
            .context("configuring the consumers")?;
        let accounts = Accounts {
            store: Store::new(&db),
            passwords: Passwords::new(config.hashing, identity_metrics.passwords.clone())
                .await
                .context("preparing password hashing")?,
            sessions: SessionStore::new(
                redis.clone(),
                config.session_prefix.clone(),
                config.session_ttl,
            )
            .with_max_per_user(config.max_sessions_per_user),
            publisher: Publisher::new(redis.clone(), config.stream_max_len),
            identity_stream: config.streams.identity.clone(),
            throttle: LoginThrottle::new(
                redis.clone(),
                config.session_prefix.clone(),
                config.throttle,
            ),
            metrics: identity_metrics,
        };
        Ok(Self {
            server,
            state: AppState {
                redis,
                db,
                metrics,
                accounts,
            },
            consumers,
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
    /// cancelled and in-flight requests are done, then waits for the consumers to finish and
    /// acknowledge their entries and closes Redis (also when serving failed, so the error is not
    /// hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            consumers,
        } = self;
        let shutdown = server.shutdown_token();
        let store = state.accounts.store.clone();

        let consume = consumers.run(
            store.records.clone(),
            state.accounts.metrics.clone(),
            shutdown.clone(),
        );
        let tasks: Vec<(&str, JoinHandle<()>)> = vec![
            (
                "indexes",
                tokio::spawn(ensure_indexes(store, shutdown.clone())),
            ),
            (
                "consumers",
                tokio::spawn(async move {
                    if let Err(error) = consume.await {
                        tracing::error!(%error, "a consumer stopped");
                    }
                }),
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

/// Creates the indexes, retrying while MongoDB is unreachable (the service serves, not ready,
/// meanwhile; reads work without indexes, only slower, and no uniqueness depends on them).
async fn ensure_indexes(store: Store, shutdown: CancellationToken) {
    loop {
        match store.ensure_indexes().await {
            Ok(()) => return,
            Err(error) => tracing::warn!(error = %error, "creating indexes; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(INDEX_RETRY) => {}
        }
    }
}
