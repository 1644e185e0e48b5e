//! The consumer-group runner: reads one stream as one group, runs a handler per entry with bounded
//! concurrency, acknowledges only after success, retries through `XAUTOCLAIM`, and moves entries that
//! cannot succeed to `<stream>:dlq` so they never block the entries behind them.

mod config;
pub(crate) mod reply;
mod tuning;
mod worker;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{ClientInterface, ClientLike, StreamsInterface};
use fred::types::Value;
use tokio_util::sync::CancellationToken;

pub use config::{ConsumerConfig, StartFrom, dead_letter_stream, unique_consumer_name};
pub(crate) use reply::RawEntry;
pub use tuning::ConsumerTuning;

use crate::{Event, Redis, RunnerMetrics, StreamsError};
use worker::Worker;

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
            self.redis.dedicated()
        })
        .await
        else {
            return Ok(());
        };
        tracing::info!(stream = %config.stream, group = %config.group, consumer = %config.consumer, "consumer started");

        let (worker, acker) = Worker::start(
            self.redis.clone(),
            config.clone(),
            self.metrics.clone(),
            handler,
        );
        self.read_loop(&worker, &blocking, &shutdown, "0").await;
        let claimer = tokio::spawn(worker.clone().claim_loop(shutdown.clone()));
        self.read_loop(&worker, &blocking, &shutdown, ">").await;

        // Shutdown: no more reads or claims; running handlers finish and their acks are flushed.
        if let Err(error) = claimer.await {
            tracing::error!(%error, "claim task ended abnormally");
        }
        worker.finish().await;
        if let Err(error) = acker.await {
            tracing::error!(%error, "ack task ended abnormally");
        }
        self.leave_group_if_done().await;
        if let Err(error) = blocking.quit().await {
            tracing::debug!(%error, "closing the blocking connection");
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

    /// Reads from `start`: `"0"` walks this consumer's own pending entries once (recovery after a
    /// restart) and returns when there are none left; `">"` blocks for new entries until shutdown.
    async fn read_loop(
        &self,
        worker: &Arc<Worker<E>>,
        blocking: &fred::clients::Client,
        shutdown: &CancellationToken,
        start: &str,
    ) {
        let history = start != ">";
        let mut cursor = start.to_owned();
        while !shutdown.is_cancelled() {
            let count = tokio::select! {
                _ = shutdown.cancelled() => return,
                free = worker.wait_for_capacity() => free.min(self.config.batch_size),
            };
            let block = (!history).then(|| millis(self.config.block));
            let from = cursor.clone();
            let read = blocking.xreadgroup::<Value, _, _, _, _>(
                self.config.group.as_str(),
                self.config.consumer.as_str(),
                Some(count as u64),
                block,
                false,
                self.config.stream.as_str(),
                from.as_str(),
            );
            tokio::pin!(read);
            let result = tokio::select! {
                result = &mut read => result,
                _ = shutdown.cancelled() => interrupt(blocking, read).await,
            };
            match result
                .map_err(StreamsError::from)
                .and_then(reply::read_group)
            {
                Ok(entries) if history && entries.is_empty() => return,
                Ok(entries) => {
                    if let Some(last) = entries.last().filter(|_| history) {
                        cursor = last.id.clone();
                    }
                    for entry in entries {
                        let deliveries = if history {
                            worker.delivery_count(&entry.id).await
                        } else {
                            1
                        };
                        worker.dispatch(entry, deliveries).await;
                    }
                }
                Err(_) if shutdown.is_cancelled() => return,
                Err(error) => {
                    tracing::warn!(%error, stream = %self.config.stream, "reading the stream failed; retrying");
                    if error.to_string().contains("NOGROUP") {
                        // The stream or group vanished (e.g. Redis lost its data): recreate and go on.
                        let _ = self.ensure_group().await;
                    }
                    pause(shutdown).await;
                }
            }
        }
    }

    /// `XGROUP CREATE ... MKSTREAM`; an existing group (`BUSYGROUP`) is fine.
    async fn ensure_group(&self) -> Result<(), StreamsError> {
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

/// Ends a blocking read early with `CLIENT UNBLOCK`, and returns what it returned: entries the server
/// had already handed over are still processed, so none are left behind unprocessed.
async fn interrupt<F>(
    blocking: &fred::clients::Client,
    mut read: std::pin::Pin<&mut F>,
) -> F::Output
where
    F: Future,
{
    loop {
        // The read may not have reached the server yet, so unblock until it returns.
        if let Err(error) = blocking.unblock_self(None).await {
            tracing::debug!(%error, "unblocking the stream read");
        }
        tokio::select! {
            result = &mut read => return result,
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
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
