//! Connections to Redis: one shared, pipelined pool for ordinary commands, and dedicated clients for
//! blocking reads. A blocking `XREADGROUP` parks its connection on the server, so sharing that
//! connection would stall every other command multiplexed onto it.

use std::time::Duration;

use fred::clients::{Client, Pool};
use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};

use crate::StreamsError;

/// Connection settings. `url` is a `redis://` URL; the rest have defaults fit for a service.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Clients in the shared pool; each is one multiplexed, auto-pipelined connection.
    pub pool_size: usize,
    /// Upper bound on any single non-blocking command, so a stalled server fails calls instead of
    /// hanging request handlers.
    pub command_timeout: Duration,
    pub connect_timeout: Duration,
}

impl RedisSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 4,
            command_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A handle to Redis: cheap to clone, shared by publishers, runners, caches and health checks.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    settings: RedisSettings,
    config: Config,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("pool_size", &self.settings.pool_size)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Connects the shared pool. Fails if the server cannot be reached now; once connected, clients
    /// reconnect on their own with exponential backoff.
    pub async fn connect(settings: RedisSettings) -> Result<Self, StreamsError> {
        let config = Config::from_url(&settings.url)?;
        let pool = builder(&config, &settings, Some(settings.command_timeout))
            .build_pool(settings.pool_size.max(1))?;
        pool.init().await?;
        Ok(Self {
            pool,
            settings,
            config,
        })
    }

    /// The shared pool, for any non-blocking command.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A new connection of its own, for blocking reads. It has no command timeout: a blocking read's
    /// duration is bounded by its own `BLOCK` argument.
    pub async fn dedicated(&self) -> Result<Client, StreamsError> {
        let client = builder(&self.config, &self.settings, None).build()?;
        client.init().await?;
        Ok(client)
    }

    /// `PING` through the pool: the readiness check.
    pub async fn ping(&self) -> Result<(), StreamsError> {
        let _: String = self.pool.ping(None).await?;
        Ok(())
    }

    /// Closes every pooled connection.
    pub async fn quit(&self) {
        if let Err(error) = self.pool.quit().await {
            tracing::debug!(%error, "closing the redis pool");
        }
    }
}

fn builder(
    config: &Config,
    settings: &RedisSettings,
    command_timeout: Option<Duration>,
) -> Builder {
    let mut builder = Builder::from_config(config.clone());
    builder
        // Retry forever: a service outlives a Redis restart and resumes where it was.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .with_connection_config(|c| {
            c.connection_timeout = settings.connect_timeout;
            c.tcp.nodelay = Some(true);
        });
    if let Some(timeout) = command_timeout {
        builder.with_performance_config(|p| p.default_command_timeout = timeout);
    }
    builder
}

#[cfg(test)]
mod tests {
    use fred::types::config::Config;

    #[test]
    fn rediss_urls_turn_tls_on_for_managed_redis() -> Result<(), fred::error::Error> {
        let managed = Config::from_url("rediss://:secret@redis.example.com:6380")?;
        let local = Config::from_url("redis://127.0.0.1:6379")?;

        assert!(managed.tls.is_some(), "rediss:// must connect with TLS");
        assert!(local.tls.is_none());
        Ok(())
    }
}
