//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_mongo::MongoSettings;
use shop_streams::{ConsumerTuning, StreamNames};

/// The port of `order-history` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8084;

/// `REBUILD_TIMEOUT_MS` when unset: replaying a million entries per stream (the default `MAXLEN`)
/// takes a few minutes; a rebuild that is not done in ten has a problem.
pub const DEFAULT_REBUILD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8084`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `order_history`.
    pub mongo: MongoSettings,
    /// The stream names, from `STREAM_PREFIX` (default empty: `ORDERS_STREAM`, `PAYMENTS_STREAM`).
    pub streams: StreamNames,
    /// How both consumers (`ORDERS_STREAM`, `PAYMENTS_STREAM`) retry and how much they run at once
    /// (`CONSUMER_*`).
    pub consumer: ConsumerTuning,
    /// `REBUILD_TIMEOUT_MS`, default 600000: a rebuild gives up when it has run this long, and a
    /// rebuild that started longer ago than this no longer blocks a new one (its process died).
    pub rebuild_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_source(&Env::process())
    }

    pub fn from_source(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind_addr: env.bind_addr(DEFAULT_PORT)?,
            redis_url: env.redis_url()?,
            mongo: MongoSettings::from_env(env, "order_history")?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            consumer: ConsumerTuning::from_env(env)?,
            rebuild_timeout: env.millis_or("REBUILD_TIMEOUT_MS", DEFAULT_REBUILD_TIMEOUT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_port_plan_and_own_database() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs::<_, &str, &str>([]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8084)));
        assert_eq!(config.mongo.database, "order_history");
        assert_eq!(config.streams.orders, "ORDERS_STREAM");
        assert_eq!(config.streams.payments, "PAYMENTS_STREAM");
        assert_eq!(config.consumer, ConsumerTuning::default());
        assert_eq!(config.rebuild_timeout, Duration::from_secs(600));
        Ok(())
    }

    #[test]
    fn variables_override_streams_consumer_tuning_and_rebuild_timeout() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            ("STREAM_PREFIX", "t1:"),
            ("CONSUMER_CLAIM_IDLE_MS", "300"),
            ("CONSUMER_MAX_DELIVERIES", "3"),
            ("REBUILD_TIMEOUT_MS", "2500"),
        ]))?;

        assert_eq!(config.streams.orders, "t1:ORDERS_STREAM");
        assert_eq!(config.streams.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(config.consumer.claim_idle, Duration::from_millis(300));
        assert_eq!(config.consumer.max_deliveries, 3);
        assert_eq!(config.rebuild_timeout, Duration::from_millis(2500));
        Ok(())
    }

    #[test]
    fn a_malformed_timeout_is_an_error_naming_the_variable() {
        let error = Config::from_source(&Env::from_pairs([("REBUILD_TIMEOUT_MS", "10m")])).err();

        assert!(
            matches!(&error, Some(EnvError::Invalid { name, .. }) if name == "REBUILD_TIMEOUT_MS"),
            "{error:?}"
        );
    }
}
