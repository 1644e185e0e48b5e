//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_mongo::MongoSettings;
use shop_streams::{ConsumerTuning, StreamNames};

use crate::hash_queue::HashingLimits;
use crate::throttle::ThrottleSettings;

/// The port of `identity` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8085;

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8085`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `identity`.
    pub mongo: MongoSettings,
    /// The stream names, from `STREAM_PREFIX` (default empty: `IDENTITY_STREAM`, `ORDERS_STREAM`).
    pub streams: StreamNames,
    /// `STREAM_MAX_LEN`, default `shop_streams::DEFAULT_MAX_LEN`: the approximate cap of
    /// `IDENTITY_STREAM` when a login is published to it.
    pub stream_max_len: u64,
    /// `SESSION_TTL_SECS`, default 86400: the fixed lifetime of a session (see shop-sessions).
    pub session_ttl: Duration,
    /// `SESSION_PREFIX`, default empty: prepended to session keys; the gateway must use the same.
    /// The login throttle's keys carry it too.
    pub session_prefix: String,
    /// `SESSION_MAX_PER_USER`, default 10: a login beyond it revokes the user's oldest sessions.
    pub max_sessions_per_user: usize,
    /// The failed-login throttle (`LOGIN_THROTTLE_*`; see `throttle.rs`).
    pub throttle: ThrottleSettings,
    /// The bounded password-hashing queue (`PASSWORD_HASH_*`; see `hash_queue.rs`).
    pub hashing: HashingLimits,
    /// How the `IDENTITY_STREAM` and `ORDERS_STREAM` consumers retry (`CONSUMER_*`). A checkout
    /// whose login has not been recorded yet waits for it through these retries.
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
            mongo: MongoSettings::from_env(env, "identity")?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            stream_max_len: env.or("STREAM_MAX_LEN", shop_streams::DEFAULT_MAX_LEN)?,
            session_ttl: shop_sessions::ttl_from_env(env)?,
            session_prefix: shop_sessions::key_prefix_from_env(env)?,
            max_sessions_per_user: shop_sessions::max_per_user_from_env(env)?,
            throttle: ThrottleSettings::from_env(env)?,
            hashing: HashingLimits::from_env(env)?,
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

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8085)));
        assert_eq!(config.mongo.database, "identity");
        assert_eq!(config.streams.identity, "IDENTITY_STREAM");
        assert_eq!(config.streams.orders, "ORDERS_STREAM");
        assert_eq!(config.stream_max_len, shop_streams::DEFAULT_MAX_LEN);
        assert_eq!(config.session_ttl, Duration::from_secs(86_400));
        assert_eq!(config.session_prefix, "");
        assert_eq!(config.max_sessions_per_user, 10);
        assert_eq!(config.throttle, ThrottleSettings::default());
        assert_eq!(config.hashing, HashingLimits::per_core());
        assert_eq!(config.consumer, ConsumerTuning::default());
        Ok(())
    }

    #[test]
    fn variables_override_the_defaults() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            ("STREAM_PREFIX", "t1:"),
            ("STREAM_MAX_LEN", "1000"),
            ("SESSION_TTL_SECS", "3600"),
            ("SESSION_PREFIX", "t1:"),
            ("SESSION_MAX_PER_USER", "3"),
            ("LOGIN_THROTTLE_ACCOUNT_FAILURES", "2"),
            ("PASSWORD_HASH_QUEUE", "5"),
            ("CONSUMER_CLAIM_IDLE_MS", "300"),
            ("CONSUMER_MAX_DELIVERIES", "3"),
        ]))?;

        assert_eq!(config.streams.identity, "t1:IDENTITY_STREAM");
        assert_eq!(config.streams.orders, "t1:ORDERS_STREAM");
        assert_eq!(config.stream_max_len, 1000);
        assert_eq!(config.session_ttl, Duration::from_secs(3600));
        assert_eq!(config.session_prefix, "t1:");
        assert_eq!(config.max_sessions_per_user, 3);
        assert_eq!(config.throttle.account.failures, 2);
        assert_eq!(config.hashing.queue, 5);
        assert_eq!(config.consumer.claim_idle, Duration::from_millis(300));
        assert_eq!(config.consumer.max_deliveries, 3);
        Ok(())
    }

    #[test]
    fn a_malformed_value_is_an_error_naming_the_variable() {
        for (name, value) in [
            ("SESSION_TTL_SECS", "0"),
            ("SESSION_TTL_SECS", "1d"),
            ("STREAM_MAX_LEN", "lots"),
            ("SESSION_MAX_PER_USER", "0"),
            ("LOGIN_THROTTLE_CLIENT_FAILURES", "0"),
            ("PASSWORD_HASH_CONCURRENCY", "0"),
            ("PASSWORD_HASH_MAX_WAIT_MS", "soon"),
        ] {
            let error = Config::from_source(&Env::from_pairs([(name, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name: got, .. }) if got == name),
                "{name}={value}: {error:?}"
            );
        }
    }
}
