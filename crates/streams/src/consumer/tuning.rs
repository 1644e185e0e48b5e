//! The consumer knobs a deployment sets through `CONSUMER_*` environment variables (and tests set
//! directly, for fast retries): one definition for every service.

use std::time::Duration;

use shop_config::{Env, EnvError};

use super::ConsumerConfig;

/// The defaults are [`ConsumerConfig::new`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerTuning {
    /// `CONSUMER_CONCURRENCY`, default 32: entries handled at once.
    pub concurrency: usize,
    /// `CONSUMER_BLOCK_MS`, default 5000: how long one blocking read waits for new entries.
    pub block: Duration,
    /// `CONSUMER_CLAIM_IDLE_MS`, default 30000: the retry delay after a failure, and how long an
    /// entry of a dead replica waits before another takes it over.
    pub claim_idle: Duration,
    /// `CONSUMER_CLAIM_INTERVAL_MS`, default 5000: how often idle entries are looked for.
    pub claim_interval: Duration,
    /// `CONSUMER_HANDLER_TIMEOUT_MS`, default 10000: at most 90% of `claim_idle`, counted from the
    /// moment an entry is read.
    pub handler_timeout: Duration,
    /// `CONSUMER_MAX_DELIVERIES`, default 5: attempts before an entry is dead-lettered.
    pub max_deliveries: u64,
}

impl Default for ConsumerTuning {
    fn default() -> Self {
        let defaults = ConsumerConfig::new("-", "-");
        Self {
            concurrency: defaults.concurrency,
            block: defaults.block,
            claim_idle: defaults.claim_idle,
            claim_interval: defaults.claim_interval,
            handler_timeout: defaults.handler_timeout,
            max_deliveries: defaults.max_deliveries,
        }
    }
}

impl ConsumerTuning {
    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let d = Self::default();
        Ok(Self {
            concurrency: env.or("CONSUMER_CONCURRENCY", d.concurrency)?,
            block: env.millis_or("CONSUMER_BLOCK_MS", d.block)?,
            claim_idle: env.millis_or("CONSUMER_CLAIM_IDLE_MS", d.claim_idle)?,
            claim_interval: env.millis_or("CONSUMER_CLAIM_INTERVAL_MS", d.claim_interval)?,
            handler_timeout: env.millis_or("CONSUMER_HANDLER_TIMEOUT_MS", d.handler_timeout)?,
            max_deliveries: env.or("CONSUMER_MAX_DELIVERIES", d.max_deliveries)?,
        })
    }

    /// Retries after 300 ms instead of 30 s: what tests of failure paths use.
    pub fn fast_retries() -> Self {
        Self {
            block: Duration::from_millis(500),
            claim_idle: Duration::from_millis(300),
            claim_interval: Duration::from_millis(50),
            handler_timeout: Duration::from_millis(250),
            max_deliveries: 3,
            ..Self::default()
        }
    }

    /// The runner configuration for `stream` read as `group`, with these knobs.
    pub fn consumer_config(&self, stream: &str, group: &str) -> ConsumerConfig {
        ConsumerConfig {
            concurrency: self.concurrency,
            block: self.block,
            claim_idle: self.claim_idle,
            claim_interval: self.claim_interval,
            handler_timeout: self.handler_timeout,
            max_deliveries: self.max_deliveries,
            ..ConsumerConfig::new(stream, group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults_and_reaches_the_runner_config() -> Result<(), EnvError> {
        let env = Env::from_pairs([
            ("CONSUMER_CONCURRENCY", "4"),
            ("CONSUMER_CLAIM_IDLE_MS", "300"),
            ("CONSUMER_MAX_DELIVERIES", "3"),
        ]);

        let tuning = ConsumerTuning::from_env(&env)?;
        let config = tuning.consumer_config("S", "g");

        assert_eq!(config.concurrency, 4);
        assert_eq!(config.claim_idle, Duration::from_millis(300));
        assert_eq!(config.max_deliveries, 3);
        assert_eq!(config.block, ConsumerTuning::default().block);
        assert!(
            ConsumerTuning::fast_retries()
                .consumer_config("S", "g")
                .validate()
                .is_ok()
        );
        Ok(())
    }

    #[test]
    fn a_non_number_is_an_error_naming_the_variable() {
        let env = Env::from_pairs([("CONSUMER_MAX_DELIVERIES", "many")]);
        let error = ConsumerTuning::from_env(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("CONSUMER_MAX_DELIVERIES"), "{error}");
    }
}
