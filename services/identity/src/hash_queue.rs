//! The bounded queue in front of password hashing: at most `concurrency` hashes run, at most
//! `queue` more wait, and none waits longer than `max_wait`. A request that finds the queue full,
//! or waits its limit, is answered at once (503 `busy`) instead of waiting into the gateway's
//! deadline: a flood of logins sheds its excess and never makes the others time out.

use std::sync::Arc;
use std::time::Duration;

use shop_config::{Env, EnvError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// `PASSWORD_HASH_QUEUE` when unset, per permitted hash: how many requests may wait.
const DEFAULT_QUEUE_PER_HASH: usize = 8;
/// `PASSWORD_HASH_MAX_WAIT_MS` when unset. Far below the gateway's 5 s deadline, and a hash takes
/// tens of milliseconds, so a request that waited this long is better told to come back.
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(1);

/// How hashing is bounded (`PASSWORD_HASH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// `PASSWORD_HASH_CONCURRENCY`, default the number of cores: hashes running at once.
    pub concurrency: usize,
    /// `PASSWORD_HASH_QUEUE`, default 8 per concurrent hash: requests waiting for one to finish.
    pub queue: usize,
    /// `PASSWORD_HASH_MAX_WAIT_MS`, default 1000: the longest a request waits in the queue.
    pub max_wait: Duration,
}

impl HashingLimits {
    /// One hash per core, eight waiting per core, one second of waiting at most.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            concurrency: cores,
            queue: DEFAULT_QUEUE_PER_HASH * cores,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    pub fn from_env(env: &Env) -> Result<Self, EnvError> {
        let defaults = Self::per_core();
        let concurrency: usize = env.or("PASSWORD_HASH_CONCURRENCY", defaults.concurrency)?;
        if concurrency == 0 {
            return Err(EnvError::Invalid {
                name: "PASSWORD_HASH_CONCURRENCY".to_owned(),
                value: "0".to_owned(),
                reason: "at least one password must be hashed at a time".to_owned(),
            });
        }
        Ok(Self {
            concurrency,
            queue: env.or("PASSWORD_HASH_QUEUE", DEFAULT_QUEUE_PER_HASH * concurrency)?,
            max_wait: env.millis_or("PASSWORD_HASH_MAX_WAIT_MS", defaults.max_wait)?,
        })
    }
}

/// Why a hash was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Shed {
    #[error("the password-hashing queue is full")]
    QueueFull,
    #[error("waited the longest allowed for a password-hashing slot")]
    WaitedTooLong,
}

impl Shed {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::WaitedTooLong => "waited_too_long",
        }
    }
}

/// Cheap to clone; clones share the slots.
#[derive(Debug, Clone)]
pub struct HashQueue {
    /// Running plus waiting: taken without waiting, or the request is shed.
    admitted: Arc<Semaphore>,
    /// Running.
    running: Arc<Semaphore>,
    max_wait: Duration,
}

/// The right to run one hash. Moved into the blocking task, so a request that is dropped (its
/// client hung up) keeps its slot until the hash it started is really over.
#[derive(Debug)]
pub struct Slot {
    _admitted: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

impl HashQueue {
    pub fn new(limits: HashingLimits) -> Self {
        let concurrency = limits.concurrency.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(limits.queue))),
            running: Arc::new(Semaphore::new(concurrency)),
            max_wait: limits.max_wait,
        }
    }

    /// A slot to hash in: at once when one is free, after waiting (at most `max_wait`) when the
    /// queue has room, never when it is full.
    pub async fn slot(&self) -> Result<Slot, Shed> {
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| Shed::QueueFull)?;
        let running =
            tokio::time::timeout(self.max_wait, Arc::clone(&self.running).acquire_owned())
                .await
                .map_err(|_| Shed::WaitedTooLong)?
                // The semaphores are never closed; a closed one could only mean "no more hashing".
                .map_err(|_| Shed::QueueFull)?;
        Ok(Slot {
            _admitted: admitted,
            _running: running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(concurrency: usize, queue: usize, max_wait: Duration) -> HashQueue {
        HashQueue::new(HashingLimits {
            concurrency,
            queue,
            max_wait,
        })
    }

    #[tokio::test]
    async fn a_full_queue_sheds_at_once_and_frees_up_when_a_hash_ends() {
        let queue = queue(1, 1, Duration::from_secs(60));
        let running = queue.slot().await;
        assert!(running.is_ok());
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.slot().await.map(drop) }
        });
        // The waiter is admitted once it holds its place; until then a third may still get in.
        shop_testkit::eventually("the second request to wait", || async {
            (queue.admitted.available_permits() == 0).then_some(())
        })
        .await;

        assert_eq!(queue.slot().await.err(), Some(Shed::QueueFull));
        drop(running);
        assert_eq!(waiting.await.ok(), Some(Ok(())), "the waiter got the slot");
        assert!(queue.slot().await.is_ok(), "and all is free again");
    }

    #[tokio::test]
    async fn a_request_waits_at_most_max_wait() {
        let queue = queue(1, 4, Duration::from_millis(20));
        let _running = queue.slot().await;

        assert_eq!(queue.slot().await.err(), Some(Shed::WaitedTooLong));
        assert_eq!(
            queue.admitted.available_permits(),
            4,
            "a request that gave up left the queue"
        );
    }

    #[test]
    fn limits_come_from_the_environment_with_per_core_defaults() -> Result<(), EnvError> {
        let defaults = HashingLimits::from_env(&Env::from_pairs::<_, &str, &str>([]))?;
        let set = HashingLimits::from_env(&Env::from_pairs([
            ("PASSWORD_HASH_CONCURRENCY", "3"),
            ("PASSWORD_HASH_MAX_WAIT_MS", "250"),
        ]))?;

        assert_eq!(defaults, HashingLimits::per_core());
        assert_eq!(defaults.queue, 8 * defaults.concurrency);
        assert_eq!(defaults.max_wait, Duration::from_secs(1));
        assert_eq!(
            set,
            HashingLimits {
                concurrency: 3,
                queue: 24,
                max_wait: Duration::from_millis(250)
            }
        );
        assert!(
            HashingLimits::from_env(&Env::from_pairs([("PASSWORD_HASH_CONCURRENCY", "0")]))
                .is_err()
        );
        Ok(())
    }
}
