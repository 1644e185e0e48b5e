//! Building the application (listener, connections, state) and running it until shutdown.

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_http::{Metrics, Server};
use shop_streams::{Redis, RedisSettings};
use tokio_util::sync::CancellationToken;

use crate::{AppState, Config, router};

/// A built application: bound to its port, connected, not yet serving.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
}

impl Application {
    /// Binds `config.bind_addr` first (a taken port is the cheapest failure), then connects Redis.
    /// MongoDB connects lazily: the service starts, and reports not ready, while MongoDB is down,
    /// instead of crash-looping.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let server = Server::bind(config.bind_addr).await?;
        let state = AppState {
            redis: Redis::connect(RedisSettings::new(config.redis_url.expose_secret()))
                .await
                .context("connecting to Redis")?,
            db: config
                .mongo
                .connect("orders")
                .await
                .context("configuring MongoDB")?,
            metrics: Metrics::new(),
        };
        Ok(Self { server, state })
    }

    /// The port actually bound (the one chosen by the OS when configured as 0).
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Cancelling this token stops the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.server.shutdown_token()
    }

    /// Serves until the shutdown token is cancelled and in-flight requests are done, then closes Redis
    /// (also when serving failed, so the error is not hidden by a leaked connection).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.serve(router(self.state.clone())).await;
        self.state.redis.quit().await;
        served.context("serving HTTP")
    }
}
