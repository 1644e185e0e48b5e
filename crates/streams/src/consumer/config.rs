//! How a consumer-group runner behaves: sizes, timings and limits, with defaults fit for a service.

use std::time::Duration;

use crate::StreamsError;

/// Where a group starts reading when it is created for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// The whole stream (`0`): a new group catches up on history. Handlers are idempotent, so this is
    /// the safe default.
    Beginning,
    /// Only entries added from now on (`$`).
    End,
}

/// `handler_timeout` may use at most `claim_idle - claim_idle / 10`: the rest covers the time
/// between Redis delivering an entry and the runner reading the reply (and clocks that differ).
const CLAIM_MARGIN_DIVISOR: u32 = 10;

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub stream: String,
    pub group: String,
    /// Unique per process, so replicas share the work and a restarted process is a new consumer
    /// (its predecessor's pending entries are claimed after `claim_idle`).
    pub consumer: String,
    pub start_from: StartFrom,
    /// Entries asked for per read.
    pub batch_size: usize,
    /// Handlers running at once.
    pub concurrency: usize,
    /// How long one `XREADGROUP` blocks at most (less when a claim pass is due sooner). Shutdown
    /// interrupts it, so this only bounds idle round trips; the read times out after `block` plus
    /// the Redis `command_timeout`, which is how a server that stopped answering is noticed.
    pub block: Duration,
    /// An entry pending this long is presumed abandoned and is claimed (this is also the retry delay
    /// after a handler failure).
    pub claim_idle: Duration,
    /// How often to look for idle entries (a claim pass waits for a free handler slot).
    pub claim_interval: Duration,
    /// A handler still running this long after its entry was read fails. Counted from the read, as
    /// Redis counts `claim_idle` from the delivery, and at most 90% of `claim_idle`, so no entry is
    /// claimed while its handler still runs.
    pub handler_timeout: Duration,
    /// Attempts before an entry is dead-lettered.
    pub max_deliveries: u64,
    /// Approximate cap of the `<stream>:dlq` stream.
    pub dead_letter_max_len: u64,
}

impl ConsumerConfig {
    pub fn new(stream: impl Into<String>, group: impl Into<String>) -> Self {
        let group = group.into();
        Self {
            consumer: unique_consumer_name(&group),
            stream: stream.into(),
            group,
            start_from: StartFrom::Beginning,
            batch_size: 64,
            concurrency: 32,
            block: Duration::from_secs(5),
            claim_idle: Duration::from_secs(30),
            claim_interval: Duration::from_secs(5),
            handler_timeout: Duration::from_secs(10),
            max_deliveries: 5,
            dead_letter_max_len: 100_000,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), StreamsError> {
        let fail = |m: &str| {
            Err(StreamsError::Config(format!(
                "{}/{}: {m}",
                self.stream, self.group
            )))
        };
        if self.stream.is_empty() || self.group.is_empty() || self.consumer.is_empty() {
            return fail("stream, group and consumer must not be empty");
        }
        if self.batch_size == 0 || self.concurrency == 0 || self.max_deliveries == 0 {
            return fail("batch_size, concurrency and max_deliveries must be at least 1");
        }
        if self
            .handler_timeout
            .saturating_add(self.claim_idle / CLAIM_MARGIN_DIVISOR)
            > self.claim_idle
        {
            return fail(
                "handler_timeout must be at most 90% of claim_idle, or running entries get claimed",
            );
        }
        if self.block.is_zero() {
            return fail("block must be positive (0 would block forever)");
        }
        Ok(())
    }

    /// The dead-letter stream of this runner's stream.
    pub fn dead_letter_stream(&self) -> String {
        dead_letter_stream(&self.stream)
    }
}

/// `<stream>:dlq`.
pub fn dead_letter_stream(stream: &str) -> String {
    format!("{stream}:dlq")
}

/// `<group>-<pid>-<ulid>`: readable in `XINFO CONSUMERS`, unique across restarts and replicas.
pub fn unique_consumer_name(group: &str) -> String {
    format!(
        "{group}-{}-{}",
        std::process::id(),
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_names_unique() {
        let a = ConsumerConfig::new("S", "g");
        let b = ConsumerConfig::new("S", "g");
        assert!(a.validate().is_ok());
        assert_ne!(a.consumer, b.consumer);
        assert_eq!(a.dead_letter_stream(), "S:dlq");
    }

    #[test]
    fn rejects_a_timeout_that_would_let_running_entries_be_claimed() {
        let mut c = ConsumerConfig::new("S", "g");
        c.handler_timeout = c.claim_idle;
        assert!(c.validate().is_err());
        c.claim_idle = Duration::from_millis(1000);
        c.handler_timeout = Duration::from_millis(901);
        assert!(
            c.validate().is_err(),
            "a margin is kept for the read's round trip"
        );
        c.handler_timeout = Duration::from_millis(900);
        assert!(c.validate().is_ok());
        c = ConsumerConfig::new("S", "g");
        c.concurrency = 0;
        assert!(c.validate().is_err());
    }
}
