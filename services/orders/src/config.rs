//! The service's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_mongo::MongoSettings;
use shop_streams::{ConsumerTuning, StreamNames};

/// The port of `orders` in the shop's port plan.
pub const DEFAULT_PORT: u16 = 8082;

/// `PRODUCTS_URL` when unset: `products` on its port in the port plan, on this machine.
pub const DEFAULT_PRODUCTS_URL: &str = "http://127.0.0.1:8081";

/// `PRODUCTS_TIMEOUT_MS` when unset: a reservation is a few small writes, normally milliseconds; under
/// contention products retries for up to 3 s before answering `stock_busy`, and this stays above that.
pub const DEFAULT_PRODUCTS_TIMEOUT: Duration = Duration::from_secs(4);

/// `RECONCILE_INTERVAL_MS`, `PLACEMENT_TIMEOUT_MS` and `REANNOUNCE_AFTER_MS` when unset.
pub const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_PLACEMENT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_REANNOUNCE_AFTER: Duration = Duration::from_secs(60);

/// The reconciler's clock (see `reconciler.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileConfig {
    /// `RECONCILE_INTERVAL_MS`, default 5000: how often unfinished placements are looked at.
    pub interval: Duration,
    /// `PLACEMENT_TIMEOUT_MS`, default 30000: an undecided placement this old is rejected and its
    /// stock released. Above `PRODUCTS_TIMEOUT_MS`, so a request that is merely slow is not
    /// rejected while it waits for products (it would lose the fence and answer 503).
    pub placement_timeout: Duration,
    /// `REANNOUNCE_AFTER_MS`, default 60000: an order still unpaid this long after it was written
    /// (or last re-announced) has its `OrderCreated` published again.
    pub reannounce_after: Duration,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            interval: DEFAULT_RECONCILE_INTERVAL,
            placement_timeout: DEFAULT_PLACEMENT_TIMEOUT,
            reannounce_after: DEFAULT_REANNOUNCE_AFTER,
        }
    }
}

/// Everything the service reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8082`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// The `MONGODB_*` variables (see shop-mongo); the database defaults to `orders`.
    pub mongo: MongoSettings,
    /// The stream names, from `STREAM_PREFIX` (default empty: `ORDERS_STREAM`, ...).
    pub streams: StreamNames,
    /// `STREAM_MAX_LEN`, default `shop_streams::DEFAULT_MAX_LEN`: the approximate cap of
    /// `ORDERS_STREAM` when the outbox relay publishes to it.
    pub stream_max_len: u64,
    /// `PRODUCTS_URL`, default `http://127.0.0.1:8081`: where `products` serves its internal API.
    pub products_url: Url,
    /// `PRODUCTS_TIMEOUT_MS`, default 4000 (above products' 3 s contention deadline): the deadline of every call to `products`.
    pub products_timeout: Duration,
    /// `OUTBOX_RELAY`, default `true`: publish this service's pending events. `false` runs an
    /// API-only replica that leaves publishing to others (any replica's relay publishes every
    /// replica's events: they share the collection).
    pub outbox_relay: bool,
    /// How the `PAYMENTS_STREAM` consumer retries (`CONSUMER_*`).
    pub consumer: ConsumerTuning,
    /// The reconciler's intervals and ages.
    pub reconcile: ReconcileConfig,
}

impl Config {
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_source(&Env::process())
    }

    pub fn from_source(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind_addr: env.bind_addr(DEFAULT_PORT)?,
            redis_url: env.redis_url()?,
            mongo: MongoSettings::from_env(env, "orders")?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            stream_max_len: env.or("STREAM_MAX_LEN", shop_streams::DEFAULT_MAX_LEN)?,
            products_url: products_url(env)?,
            products_timeout: products_timeout(env)?,
            outbox_relay: env.or("OUTBOX_RELAY", true)?,
            consumer: ConsumerTuning::from_env(env)?,
            reconcile: reconcile(env, products_timeout(env)?)?,
        })
    }
}

/// A duration in whole milliseconds, for comparing with BSON dates.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn products_timeout(env: &Env) -> Result<Duration, EnvError> {
    env.millis_or("PRODUCTS_TIMEOUT_MS", DEFAULT_PRODUCTS_TIMEOUT)
}

fn reconcile(env: &Env, products_timeout: Duration) -> Result<ReconcileConfig, EnvError> {
    let config = ReconcileConfig {
        interval: env.millis_or("RECONCILE_INTERVAL_MS", DEFAULT_RECONCILE_INTERVAL)?,
        placement_timeout: env.millis_or("PLACEMENT_TIMEOUT_MS", DEFAULT_PLACEMENT_TIMEOUT)?,
        reannounce_after: env.millis_or("REANNOUNCE_AFTER_MS", DEFAULT_REANNOUNCE_AFTER)?,
    };
    if config.placement_timeout <= products_timeout {
        return Err(EnvError::Invalid {
            name: "PLACEMENT_TIMEOUT_MS".to_owned(),
            value: config.placement_timeout.as_millis().to_string(),
            reason: format!(
                "must be above PRODUCTS_TIMEOUT_MS ({} ms): a placement still waiting for products must not be rejected",
                products_timeout.as_millis()
            ),
        });
    }
    for (name, value) in [
        ("RECONCILE_INTERVAL_MS", config.interval),
        ("REANNOUNCE_AFTER_MS", config.reannounce_after),
    ] {
        if value.is_zero() {
            return Err(EnvError::Invalid {
                name: name.to_owned(),
                value: "0".to_owned(),
                reason: "must be above 0".to_owned(),
            });
        }
    }
    Ok(config)
}

/// `PRODUCTS_URL` must be an absolute `http(s)` URL: a typo should stop the service at startup, not
/// turn every order into a 503.
fn products_url(env: &Env) -> Result<Url, EnvError> {
    let raw = env
        .get("PRODUCTS_URL")?
        .unwrap_or_else(|| DEFAULT_PRODUCTS_URL.to_owned());
    let invalid = |reason: String| EnvError::Invalid {
        name: "PRODUCTS_URL".to_owned(),
        value: raw.clone(),
        reason,
    };
    let url = Url::parse(&raw).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL".to_owned()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_port_plan_and_own_database() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs::<_, &str, &str>([]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8082)));
        assert_eq!(config.mongo.database, "orders");
        assert_eq!(config.streams.orders, "ORDERS_STREAM");
        assert_eq!(config.stream_max_len, shop_streams::DEFAULT_MAX_LEN);
        assert_eq!(config.products_url.as_str(), "http://127.0.0.1:8081/");
        assert_eq!(config.products_timeout, Duration::from_secs(4));
        assert!(config.outbox_relay);
        assert_eq!(config.consumer, ConsumerTuning::default());
        assert_eq!(config.reconcile, ReconcileConfig::default());
        Ok(())
    }

    #[test]
    fn variables_override_the_defaults() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            ("STREAM_PREFIX", "t1:"),
            ("STREAM_MAX_LEN", "1000"),
            ("PRODUCTS_URL", "http://products:8081"),
            ("PRODUCTS_TIMEOUT_MS", "250"),
            ("OUTBOX_RELAY", "false"),
            ("CONSUMER_CLAIM_IDLE_MS", "300"),
            ("CONSUMER_MAX_DELIVERIES", "3"),
        ]))?;

        assert_eq!(config.streams.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(config.stream_max_len, 1000);
        assert_eq!(config.products_url.host_str(), Some("products"));
        assert_eq!(config.products_timeout, Duration::from_millis(250));
        assert!(!config.outbox_relay);
        assert_eq!(config.consumer.claim_idle, Duration::from_millis(300));
        assert_eq!(config.consumer.max_deliveries, 3);
        Ok(())
    }

    #[test]
    fn a_malformed_value_is_an_error_naming_the_variable() {
        for (name, value) in [
            ("PRODUCTS_URL", "products:8081"),
            ("PRODUCTS_URL", "ftp://products"),
            ("PRODUCTS_TIMEOUT_MS", "2s"),
            ("PLACEMENT_TIMEOUT_MS", "1000"),
            ("RECONCILE_INTERVAL_MS", "0"),
            ("OUTBOX_RELAY", "yes"),
        ] {
            let error = Config::from_source(&Env::from_pairs([(name, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name: got, .. }) if got == name),
                "{name}={value}: {error:?}"
            );
        }
    }
}
