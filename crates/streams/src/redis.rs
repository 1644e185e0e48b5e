//! Connections to Redis: one shared, pipelined pool for ordinary commands, and dedicated clients for
//! blocking reads. A blocking `XREADGROUP` parks its connection on the server, so sharing that
//! connection would stall every other command multiplexed onto it.

use std::time::Duration;

use fred::clients::{Client, Pool};
use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};
use fred::socket2::TcpKeepalive;
use fred::types::config::UnresponsiveConfig;

use crate::StreamsError;

/// Connection settings. `url` is a `redis://` URL; the rest have defaults fit for a service.
///
/// A server can stop answering without closing its sockets (paused, swapped out, behind a dead
/// link): every connection then notices and reconnects by itself, through three layers. Command
/// timeouts fail the caller; fred's unresponsive-connection check closes a connection whose
/// oldest command has gone unanswered for `unresponsive_timeout` and reconnects it (retrying its
/// commands); TCP keepalive finds peers that vanished while nothing was being sent.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: String,
    /// Clients in the shared pool; each is one multiplexed, auto-pipelined connection.
    pub pool_size: usize,
    /// Upper bound on any single non-blocking command, so a stalled server fails calls instead of
    /// hanging request handlers. Blocking reads get their `BLOCK` time on top of this.
    pub command_timeout: Duration,
    /// TCP connect (and TLS handshake), and each set-up command of a new connection.
    pub connect_timeout: Duration,
    /// A connection waiting this long for an answer is closed and reconnected.
    pub unresponsive_timeout: Duration,
    /// Idle time before TCP keepalive probes start, and the time between probes.
    pub keepalive: Duration,
}

impl RedisSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 4,
            command_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            unresponsive_timeout: Duration::from_secs(5),
            keepalive: Duration::from_secs(15),
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
        let pool = builder(
            &config,
            &settings,
            Some(settings.command_timeout),
            settings.unresponsive_timeout,
        )
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

    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    /// A new connection of its own, for blocking reads. It has no command timeout: give each
    /// command one (its `BLOCK` time plus a margin) with `with_options`. fred does not check a
    /// connection for unresponsiveness while a blocking command runs on it, so that timeout is
    /// also what notices a server that stopped answering; [`Redis::blocking_client`] sets it up.
    pub async fn dedicated(&self) -> Result<Client, StreamsError> {
        self.dedicated_with(None, self.settings.unresponsive_timeout)
            .await
    }

    /// A new connection of its own for blocking commands that block for at most `longest_block`:
    /// every command on it times out after `longest_block` + `command_timeout` (see
    /// [`Redis::blocking_timeout`]), and the unresponsive check waits at least that long too, so
    /// a read that is merely blocking is never taken for a dead connection.
    pub async fn blocking_client(&self, longest_block: Duration) -> Result<Client, StreamsError> {
        let timeout = self.blocking_timeout(longest_block);
        self.dedicated_with(
            Some(timeout),
            timeout.max(self.settings.unresponsive_timeout),
        )
        .await
    }

    /// How long a command blocking for `block` may take before it has failed: `block` +
    /// `command_timeout`.
    pub fn blocking_timeout(&self, block: Duration) -> Duration {
        block.saturating_add(self.settings.command_timeout)
    }

    async fn dedicated_with(
        &self,
        command_timeout: Option<Duration>,
        unresponsive_timeout: Duration,
    ) -> Result<Client, StreamsError> {
        let client = builder(
            &self.config,
            &self.settings,
            command_timeout,
            unresponsive_timeout,
        )
        .build()?;
        client.init().await?;
        Ok(client)
    }

    /// `PING` through the pool: the readiness check.
    pub async fn ping(&self) -> Result<(), StreamsError> {
        let _: String = self.pool.ping(None).await?;
        Ok(())
    }

    /// Closes every pooled connection; gives up after `command_timeout` (a server that does not
    /// answer would otherwise hold `QUIT` forever).
    pub async fn quit(&self) {
        match tokio::time::timeout(self.settings.command_timeout, self.pool.quit()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::debug!(%error, "closing the redis pool"),
            Err(_) => tracing::debug!("closing the redis pool timed out"),
        }
    }
}

fn builder(
    config: &Config,
    settings: &RedisSettings,
    command_timeout: Option<Duration>,
    unresponsive_timeout: Duration,
) -> Builder {
    let mut builder = Builder::from_config(config.clone());
    builder
        // Retry forever: a service outlives a Redis restart and resumes where it was.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .with_connection_config(|c| {
            c.connection_timeout = settings.connect_timeout;
            c.internal_command_timeout = settings.connect_timeout;
            c.tcp.nodelay = Some(true);
            c.tcp.keepalive = Some(
                TcpKeepalive::new()
                    .with_time(settings.keepalive)
                    .with_interval(settings.keepalive),
            );
            c.unresponsive = UnresponsiveConfig {
                max_timeout: Some(unresponsive_timeout),
                // fred's advice: well under half the timeout, and more than a millisecond.
                interval: (unresponsive_timeout / 4).max(Duration::from_millis(10)),
            };
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
