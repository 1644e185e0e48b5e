//! The consumer-group runner: reads one stream as one group, runs a handler per entry with bounded
//! concurrency, acknowledges only after success, retries through `XAUTOCLAIM`, and moves entries that
//! cannot succeed to `<stream>:dlq` so they never block the entries behind them.

mod ack;
mod claim;
mod config;
pub(crate) mod entry;
mod read;
pub(crate) mod reply;
mod tuning;
mod worker;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{ClientLike, StreamsInterface};
use fred::types::Value;
use tokio_util::sync::CancellationToken;

pub use config::{ConsumerConfig, StartFrom, dead_letter_stream, unique_consumer_name};
pub use tuning::ConsumerTuning;

use crate::{Event, Redis, RunnerMetrics, StreamsError};
use worker::{Source, Worker};

/// What a handler may fail with: any error; its message (with its causes) is what the dead-letter
/// entry records.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// One delivery of one entry to a handler.
#[derive(Debug, Clone)]
pub struct Delivery<E> {
    /// The stream entry id, e.g. `1718000000000-0`.
    pub id: String,
    /// Which attempt this is, starting at 1 (from `XPENDING` for redeliveries).
    pub deliveries: u64,
    pub event: E,
    /// W3C trace context of the producer, when the entry carries one.
    pub traceparent: Option<String>,
    /// The entry has a [`REANNOUNCED_FIELD`](crate::REANNOUNCED_FIELD) (whatever its value): a
    /// reconciler published this event again, so its effects may well have happened already.
    pub reannounced: bool,
}

/// A runner for one (stream, group, consumer). Build it, then [`Consumer::run`] it until shutdown.
#[derive(Debug)]
pub struct Consumer<E> {
    redis: Redis,
    config: Arc<ConsumerConfig>,
    metrics: RunnerMetrics,
    _event: PhantomData<fn() -> E>,
}

/// Pause after a failed Redis call in a loop, so an outage is not a busy loop.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

impl<E: Event> Consumer<E> {
    pub fn new(
        redis: Redis,
        config: ConsumerConfig,
        metrics: RunnerMetrics,
    ) -> Result<Self, StreamsError> {
        config.validate()?;
        Ok(Self {
            redis,
            config: Arc::new(config),
            metrics,
            _event: PhantomData,
        })
    }

    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// Runs until `shutdown` is cancelled, then stops reading, lets running handlers finish, flushes
    /// their acknowledgements and closes its connection. Redis outages are waited out, not returned.
    ///
    /// Stopping takes a bounded time even when Redis does not answer: a blocking read that does not
    /// return within `command_timeout` of the cancel is abandoned, handlers end by their deadline,
    /// and acknowledging, leaving the group and closing get one `command_timeout` together.
    /// Whatever could not be acknowledged stays pending, to be claimed by a later consumer.
    pub async fn run<H, Fut>(
        self,
        handler: H,
        shutdown: CancellationToken,
    ) -> Result<(), StreamsError>
    where
        H: Fn(Delivery<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let config = &self.config;
        if !retry_until_ok(&shutdown, "creating the consumer group", || {
            self.ensure_group()
        })
        .await
        {
            return Ok(());
        }
        let Some(blocking) = retry_value(&shutdown, "opening the blocking connection", || {
            self.redis.blocking_client(config.block)
        })
        .await
        else {
            return Ok(());
        };
        tracing::info!(stream = %config.stream, group = %config.group, consumer = %config.consumer, "consumer started");

        let (worker, mut acker) = Worker::start(
            self.redis.clone(),
            config.clone(),
            self.metrics.clone(),
            handler,
            shutdown.clone(),
        );
        self.read_loop(&worker, &blocking, &shutdown, Source::Pending)
            .await;
        self.read_loop(&worker, &blocking, &shutdown, Source::New)
            .await;

        // Shutdown: no more reads or claims; running handlers finish and their acks are flushed.
        worker.finish().await;
        let grace = self.redis.settings().command_timeout;
        let closed = tokio::time::timeout(grace, async {
            if let Err(error) = (&mut acker).await {
                tracing::error!(%error, "ack task ended abnormally");
            }
            self.leave_group_if_done().await;
            if let Err(error) = blocking.quit().await {
                tracing::debug!(%error, "closing the blocking connection");
            }
        })
        .await;
        if closed.is_err() {
            acker.abort();
            tracing::warn!(stream = %config.stream, group = %config.group, ?grace,
                "redis did not answer while stopping; unacknowledged entries stay pending and will be claimed");
        }
        tracing::info!(stream = %config.stream, group = %config.group, "consumer stopped");
        Ok(())
    }

    /// Removes this consumer's name from the group once it has stopped with nothing pending. A
    /// name belongs to one process, so afterwards it would only inflate `XINFO CONSUMERS` and the
    /// operators' consumer counts. With entries still pending (a failed handler left one to be
    /// retried) the name stays: deleting it would drop those entries from the pending list, and
    /// they must remain there for another consumer to claim.
    async fn leave_group_if_done(&self) {
        let config = &self.config;
        let pool = self.redis.pool();
        let (stream, group, consumer) = (
            config.stream.as_str(),
            config.group.as_str(),
            config.consumer.as_str(),
        );
        let pending = pool
            .xpending::<Value, _, _, _>(stream, group, ("-", "+", 1, consumer))
            .await;
        match pending {
            Ok(Value::Array(entries)) if entries.is_empty() => {
                if let Err(error) = pool
                    .xgroup_delconsumer::<Value, _, _, _>(stream, group, consumer)
                    .await
                {
                    tracing::debug!(%error, "could not remove the consumer from its group");
                }
            }
            Ok(_) => {
                tracing::info!(%consumer, "leaving the consumer in its group: entries still pending")
            }
            Err(error) => tracing::debug!(%error, "could not read the consumer's pending entries"),
        }
    }

    /// `XGROUP CREATE ... MKSTREAM`; an existing group (`BUSYGROUP`) is fine.
    pub(super) async fn ensure_group(&self) -> Result<(), StreamsError> {
        let start = match self.config.start_from {
            StartFrom::Beginning => "0",
            StartFrom::End => "$",
        };
        let created: Result<Value, _> = self
            .redis
            .pool()
            .xgroup_create(
                self.config.stream.as_str(),
                self.config.group.as_str(),
                start,
                true,
            )
            .await;
        match created {
            Err(error) if !error.to_string().contains("BUSYGROUP") => Err(error.into()),
            _ => Ok(()),
        }
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) async fn pause(shutdown: &CancellationToken) {
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(RETRY_PAUSE) => {}
    }
}

/// Runs `op` until it succeeds or shutdown; false if shut down first.
async fn retry_until_ok<F, Fut>(shutdown: &CancellationToken, what: &str, op: F) -> bool
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), StreamsError>>,
{
    retry_value(shutdown, what, op).await.is_some()
}

async fn retry_value<T, F, Fut>(shutdown: &CancellationToken, what: &str, op: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, StreamsError>>,
{
    while !shutdown.is_cancelled() {
        match op().await {
            Ok(value) => return Some(value),
            Err(error) => tracing::warn!(%error, "{what} failed; retrying"),
        }
        pause(shutdown).await;
    }
    None
}
