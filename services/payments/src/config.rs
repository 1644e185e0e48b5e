//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_domain::Money;
use shop_mongo::MongoSettings;
use shop_streams::{ConsumerTuning, StreamNames};

/// The port of `payments` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8083;

/// `PAYMENT_MAX_AMOUNT` when unset: 5,000.00 in cents, as in the public API contract.
pub const DEFAULT_PAYMENT_MAX_AMOUNT: i64 = 500_000;

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8083`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `payments`.
    pub mongo: MongoSettings,
    /// The stream names, from `STREAM_PREFIX` (default empty: `ORDERS_STREAM`, `PAYMENTS_STREAM`).
    pub streams: StreamNames,
    /// `STREAM_MAX_LEN`, default `shop_streams::DEFAULT_MAX_LEN`: the approximate cap of the payments
    /// stream this service publishes to.
    pub stream_max_len: u64,
    /// `PAYMENT_MAX_AMOUNT` in cents, default 500000: the simulated provider declines larger orders.
    pub payment_max_amount: Money,
    /// `PAYMENT_PROVIDER_LATENCY_MS`, default 0: how long each simulated charge takes.
    pub provider_latency: Duration,
    /// How the `ORDERS_STREAM` consumer retries and how much it runs at once.
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
            mongo: MongoSettings::from_env(env, "payments")?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            stream_max_len: env.or("STREAM_MAX_LEN", shop_streams::DEFAULT_MAX_LEN)?,
            payment_max_amount: cents(env, "PAYMENT_MAX_AMOUNT", DEFAULT_PAYMENT_MAX_AMOUNT)?,
            provider_latency: env.millis_or("PAYMENT_PROVIDER_LATENCY_MS", Duration::ZERO)?,
            consumer: ConsumerTuning::from_env(env)?,
        })
    }
}

/// An amount given in cents (not the streams' decimal strings: `PAYMENT_MAX_AMOUNT=500000`).
fn cents(env: &Env, name: &str, default: i64) -> Result<Money, EnvError> {
    let minor: i64 = env.or(name, default)?;
    Money::from_minor(minor).map_err(|error| EnvError::Invalid {
        name: name.to_owned(),
        reason: error.to_string(),
        value: minor.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_port_plan_and_own_database() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs::<_, &str, &str>([]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8083)));
        assert_eq!(config.mongo.database, "payments");
        assert_eq!(config.streams.orders, "ORDERS_STREAM");
        assert_eq!(config.stream_max_len, shop_streams::DEFAULT_MAX_LEN);
        assert_eq!(config.payment_max_amount.minor(), 500_000);
        assert_eq!(config.provider_latency, Duration::ZERO);
        assert_eq!(config.consumer, ConsumerTuning::default());
        assert_eq!(config.consumer.max_deliveries, 5);
        Ok(())
    }

    #[test]
    fn variables_override_streams_limit_and_consumer_tuning() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            ("STREAM_PREFIX", "t1:"),
            ("STREAM_MAX_LEN", "1000"),
            ("PAYMENT_MAX_AMOUNT", "2500"),
            ("PAYMENT_PROVIDER_LATENCY_MS", "120"),
            ("CONSUMER_CONCURRENCY", "4"),
            ("CONSUMER_CLAIM_IDLE_MS", "300"),
            ("CONSUMER_CLAIM_INTERVAL_MS", "50"),
            ("CONSUMER_HANDLER_TIMEOUT_MS", "250"),
            ("CONSUMER_MAX_DELIVERIES", "3"),
        ]))?;

        assert_eq!(config.streams.orders, "t1:ORDERS_STREAM");
        assert_eq!(config.streams.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(config.stream_max_len, 1000);
        assert_eq!(config.payment_max_amount.minor(), 2500);
        assert_eq!(config.provider_latency, Duration::from_millis(120));
        let runner = config.consumer.consumer_config("S", "payments");
        assert_eq!(runner.concurrency, 4);
        assert_eq!(runner.claim_idle, Duration::from_millis(300));
        assert_eq!(runner.claim_interval, Duration::from_millis(50));
        assert_eq!(runner.handler_timeout, Duration::from_millis(250));
        assert_eq!(runner.max_deliveries, 3);
        assert_eq!(runner.group, "payments");
        Ok(())
    }

    #[test]
    fn a_negative_or_malformed_limit_is_an_error_naming_the_variable() {
        for value in ["-1", "12.50", "lots"] {
            let env = Env::from_pairs([("PAYMENT_MAX_AMOUNT", value)]);

            let error = Config::from_source(&env).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name, .. }) if name == "PAYMENT_MAX_AMOUNT"),
                "{value}: {error:?}"
            );
        }
    }
}
