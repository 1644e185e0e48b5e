//! Building the application (listener, connections, state) and running it until shutdown.

use anyhow::Context;
use secrecy::ExposeSecret;
use shop_http::{Metrics, Server};
use shop_sessions::SessionStore;
use shop_streams::{Redis, RedisSettings};
use tokio_util::sync::CancellationToken;

use crate::auth::AdminToken;
use crate::client::ClientLimiter;
use crate::events::PaymentEvents;
use crate::proxy::Proxy;
use crate::routes::cart::CartStore;
use crate::routes::shop_health::HealthCache;
use crate::{AppState, Config, router};

/// A built application: bound to its port, connected, not yet serving.
#[derive(Debug)]
pub struct Application {
    server: Server,
    state: AppState,
}

impl Application {
    /// Binds `config.bind_addr` first (a taken port is the cheapest failure), then connects Redis.
    /// The upstreams are not contacted: the gateway starts, and reports them down on `/health`,
    /// while they are not up yet.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let server = Server::bind(config.bind_addr).await?;
        let redis = Redis::connect(RedisSettings::new(config.redis_url.expose_secret()))
            .await
            .context("connecting to Redis")?;
        let proxy = Proxy::new(
            config.upstreams.clone(),
            config.upstream_timeout,
            config.body_limit,
        )
        .context("building the upstream HTTP client")?;
        let state = AppState {
            // The gateway only resolves sessions; the TTL is identity's business when it creates them.
            sessions: SessionStore::new(
                redis.clone(),
                config.session_prefix.clone(),
                shop_sessions::DEFAULT_TTL,
            ),
            carts: CartStore {
                prefix: config.session_prefix.clone(),
                ttl: config.cart_ttl,
            },
            order_events: PaymentEvents::new(
                config.streams.payments.clone(),
                config.order_events_per_user.max(1),
                server.shutdown_token(),
            ),
            redis,
            proxy,
            admin: AdminToken::new(&config.admin_token),
            limiter: config.rate_limit.map(ClientLimiter::new),
            trust_forwarded_for: config.trust_forwarded_for,
            cors_allowed_origins: config.cors_allowed_origins,
            ops_allowed_networks: config.ops_allowed_networks,
            streams: config.streams,
            stream_max_len: config.stream_max_len,
            health_timeout: config.health_timeout,
            health: HealthCache::default(),
            connection_limits: config.connection_limits,
            rebuild_timeout: config.rebuild_timeout,
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
        let Self { server, state } = self;
        let shutdown = server.shutdown_token();
        let forgetting = state
            .limiter
            .clone()
            .map(|limiter| tokio::spawn(limiter.forget_idle_clients(shutdown.clone())));
        let following = tokio::spawn(state.order_events.clone().follow(state.redis.clone()));

        let served = server
            .serve_edge(router(state.clone()), state.connection_limits)
            .await;
        // Serving may have failed without a shutdown request: stop the task either way.
        shutdown.cancel();
        if let Some(task) = forgetting
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the rate limiter's cleanup task ended abnormally");
        }
        if let Err(error) = following.await {
            tracing::error!(%error, "the order events reader ended abnormally");
        }
        state.redis.quit().await;
        served.context("serving HTTP")
    }
}
