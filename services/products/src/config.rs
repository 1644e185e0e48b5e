//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_mongo::MongoSettings;
use shop_streams::{ConsumerTuning, StreamNames};

/// The port of `products` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8081;

/// `CACHE_TTL_SECS` when unset: long enough to absorb browsing bursts, short enough that the rare
/// stale entry left by a racing fill (see the README) heals quickly.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8081`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `products`.
    pub mongo: MongoSettings,
    /// The stream names, from `STREAM_PREFIX` (default empty: `PAYMENTS_STREAM`, ...).
    pub streams: StreamNames,
    /// `CACHE_TTL_SECS`, default 60: how long a cached product or list page lives in Redis.
    pub cache_ttl: Duration,
    /// `SEED_CATALOG`, default `true`: load the embedded catalog into MongoDB at startup (only the
    /// products that are missing; existing products and their stock are never touched).
    pub seed_catalog: bool,
    /// How the `PAYMENTS_STREAM` consumer retries (`CONSUMER_*`, see `shop_streams::ConsumerTuning`).
    pub consumer: ConsumerTuning,
}

impl Config {
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_source(&Env::process())
    }

    pub fn from_source(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind_addr: env.bind_addr(DEFAULT_PORT)?,
            redis_url: env.redis_url()?,
            mongo: MongoSettings::from_env(env, "products")?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            cache_ttl: Duration::from_secs(env.or("CACHE_TTL_SECS", DEFAULT_CACHE_TTL.as_secs())?),
            seed_catalog: env.or("SEED_CATALOG", true)?,
            consumer: ConsumerTuning::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_port_plan_and_own_database() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs::<_, &str, &str>([]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8081)));
        assert_eq!(config.mongo.database, "products");
        assert_eq!(config.streams.payments, "PAYMENTS_STREAM");
        assert_eq!(config.cache_ttl, Duration::from_secs(60));
        assert!(config.seed_catalog);
        Ok(())
    }

    #[test]
    fn variables_override_streams_cache_and_seeding() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            ("STREAM_PREFIX", "t1:"),
            ("CACHE_TTL_SECS", "5"),
            ("SEED_CATALOG", "false"),
        ]))?;

        assert_eq!(config.streams.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(config.cache_ttl, Duration::from_secs(5));
        assert!(!config.seed_catalog);
        Ok(())
    }

    #[test]
    fn a_malformed_ttl_or_flag_is_an_error_naming_the_variable() {
        for (name, value) in [("CACHE_TTL_SECS", "1m"), ("SEED_CATALOG", "yes")] {
            let error = Config::from_source(&Env::from_pairs([(name, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name: got, .. }) if got == name),
                "{name}={value}: {error:?}"
            );
        }
    }
}
