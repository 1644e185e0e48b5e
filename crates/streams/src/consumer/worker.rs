//! Running handlers: bounded concurrency, acknowledgement after success (batched by one ack task),
//! retry by leaving entries pending, and dead-lettering once an entry has used up its deliveries.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use fred::prelude::{StreamsInterface, TransactionInterface};
use fred::types::Value;
use fred::types::streams::XCap;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::{ConsumerConfig, Delivery, HandlerError, RawEntry, millis, pause, reply};
use crate::dead_letters::dead_letter_fields;
use crate::{DecodeError, Event, Fields, Redis, RunnerMetrics, StreamsError};

type BoxedHandler<E> =
    Arc<dyn Fn(Delivery<E>) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync>;

/// Acks are sent in batches of up to this many ids per `XACK`.
const ACK_BATCH: usize = 512;

pub(super) struct Worker<E> {
    redis: Redis,
    config: Arc<ConsumerConfig>,
    metrics: RunnerMetrics,
    handler: BoxedHandler<E>,
    ack_tx: mpsc::Sender<String>,
    permits: Arc<Semaphore>,
    /// Ids with a handler running here, so a claim pass never starts a second one for the same entry.
    in_flight: Mutex<HashSet<String>>,
    tasks: TaskTracker,
}

impl<E: Event> Worker<E> {
    pub(super) fn start<H, Fut>(
        redis: Redis,
        config: Arc<ConsumerConfig>,
        metrics: RunnerMetrics,
        handler: H,
    ) -> (Arc<Self>, JoinHandle<()>)
    where
        H: Fn(Delivery<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let (ack_tx, ack_rx) = mpsc::channel(config.concurrency * 2 + config.batch_size);
        let acker = tokio::spawn(ack_loop(redis.clone(), config.clone(), ack_rx));
        let worker = Arc::new(Self {
            permits: Arc::new(Semaphore::new(config.concurrency)),
            handler: Arc::new(move |d| handler(d).boxed()),
            redis,
            config,
            metrics,
            ack_tx,
            in_flight: Mutex::new(HashSet::new()),
            tasks: TaskTracker::new(),
        });
        (worker, acker)
    }

    /// Waits until at least one handler slot is free; returns how many are.
    pub(super) async fn wait_for_capacity(&self) -> usize {
        if self.permits.available_permits() == 0 {
            // Closed never happens: the semaphore lives as long as the worker.
            let _ = self.permits.acquire().await;
        }
        self.permits.available_permits().max(1)
    }

    /// Starts a handler for `entry` once a slot is free, unless one already runs for it here.
    pub(super) async fn dispatch(self: &Arc<Self>, entry: RawEntry, deliveries: u64) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        if !self.lock_in_flight().insert(entry.id.clone()) {
            return;
        }
        let worker = self.clone();
        self.tasks.spawn(async move {
            let id = entry.id.clone();
            worker.process(entry, deliveries).await;
            worker.lock_in_flight().remove(&id);
            drop(permit);
        });
    }

    /// Waits for running handlers, then drops this worker's ack sender so the ack task drains and ends.
    pub(super) async fn finish(self: Arc<Self>) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A poisoned set only means a panic elsewhere while holding it; its contents are still valid.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn process(&self, entry: RawEntry, deliveries: u64) {
        let config = &self.config;
        let Some(fields) = entry.fields else {
            self.dead_letter(
                &entry.id,
                Fields::new(),
                deliveries,
                DecodeError::Deleted.to_string(),
            )
            .await;
            return;
        };
        let event = match E::from_fields(&fields) {
            Ok(event) => event,
            Err(error) => {
                self.dead_letter(
                    &entry.id,
                    fields,
                    deliveries,
                    format!("undecodable entry: {error}"),
                )
                .await;
                return;
            }
        };
        if deliveries > config.max_deliveries {
            // Earlier attempts never reported back (the process died mid-handler each time).
            let error = format!("not acknowledged after {} deliveries", deliveries - 1);
            self.dead_letter(&entry.id, fields, deliveries, error).await;
            return;
        }

        let span = tracing::info_span!("stream_entry", stream = %config.stream, group = %config.group,
            entry_id = %entry.id, deliveries);
        let delivery = Delivery {
            id: entry.id.clone(),
            deliveries,
            event,
            traceparent: fields.get("traceparent").map(str::to_owned),
        };
        let handler = self.handler.clone();
        let attempt = AssertUnwindSafe(async move { handler(delivery).await }).catch_unwind();
        let error = match tokio::time::timeout(config.handler_timeout, attempt)
            .instrument(span)
            .await
        {
            Ok(Ok(Ok(()))) => {
                self.metrics.processed.inc();
                // The ack task outlives every handler, so the send only fails during a crash.
                let _ = self.ack_tx.send(entry.id).await;
                return;
            }
            Ok(Ok(Err(error))) => error_chain(error.as_ref()),
            Ok(Err(_panic)) => "handler panicked".to_owned(),
            Err(_elapsed) => format!("handler timed out after {:?}", config.handler_timeout),
        };
        self.metrics.failed.inc();
        if deliveries >= config.max_deliveries {
            self.dead_letter(&entry.id, fields, deliveries, error).await;
        } else {
            tracing::warn!(stream = %config.stream, group = %config.group, entry_id = %entry.id, deliveries,
                %error, retry_in = ?config.claim_idle, "handler failed; the entry stays pending");
        }
    }

    /// Copies the entry to `<stream>:dlq` with why it failed, and acks it, in one transaction: either
    /// both happen or the entry stays pending and is retried.
    async fn dead_letter(&self, id: &str, fields: Fields, deliveries: u64, error: String) {
        let config = &self.config;
        let fields = dead_letter_fields(fields, &config.group, id, deliveries, &error);
        let result: Result<(), StreamsError> = async {
            let cap = XCap::try_from(("MAXLEN", "~", config.dead_letter_max_len as i64))?;
            let pairs: Vec<(String, String)> = fields.into_iter().collect();
            let trx = self.redis.pool().next().multi();
            let () = trx
                .xadd(config.dead_letter_stream(), false, cap, "*", pairs)
                .await?;
            let () = trx
                .xack(config.stream.as_str(), config.group.as_str(), id)
                .await?;
            let _: Value = trx.exec(true).await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                self.metrics.dead_lettered.inc();
                tracing::error!(stream = %config.stream, group = %config.group, entry_id = %id, deliveries,
                    %error, "entry dead-lettered");
            }
            Err(dlq_error) => tracing::error!(%dlq_error, entry_id = %id,
                "could not dead-letter the entry; it stays pending and will be retried"),
        }
    }

    /// The delivery count of one of our pending entries; 1 if Redis cannot tell.
    pub(super) async fn delivery_count(&self, id: &str) -> u64 {
        let reply = self
            .redis
            .pool()
            .xpending::<Value, _, _, _>(
                self.config.stream.as_str(),
                self.config.group.as_str(),
                (id, id, 1),
            )
            .await;
        match reply
            .map_err(StreamsError::from)
            .and_then(reply::delivery_count)
        {
            Ok(Some(count)) => count,
            Ok(None) => 1,
            Err(error) => {
                tracing::warn!(%error, entry_id = %id, "reading the delivery count failed");
                1
            }
        }
    }

    /// Every `claim_interval`: take over entries idle longer than `claim_idle` (failed ones waiting
    /// for their retry, and those of dead consumers), then refresh the lag and pending gauges.
    pub(super) async fn claim_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(self.config.claim_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(error) = self.claim_idle(&shutdown).await {
                tracing::warn!(%error, stream = %self.config.stream, "claiming idle entries failed");
                pause(&shutdown).await;
            }
            if let Err(error) = self.refresh_gauges().await {
                tracing::debug!(%error, "refreshing stream gauges failed");
            }
        }
    }

    async fn claim_idle(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
    ) -> Result<(), StreamsError> {
        let config = &self.config;
        let mut cursor = "0-0".to_owned();
        loop {
            // Claim no more than can start now: a claimed entry waiting for a slot would age towards
            // being claimed again by another consumer.
            let count = self.wait_for_capacity().await.min(config.batch_size);
            let raw: Value = self
                .redis
                .pool()
                .xautoclaim(
                    config.stream.as_str(),
                    config.group.as_str(),
                    config.consumer.as_str(),
                    millis(config.claim_idle),
                    cursor.as_str(),
                    Some(count as u64),
                    false,
                )
                .await?;
            let (next, entries, _deleted) = reply::auto_claim(raw)?;
            for entry in entries {
                if self.lock_in_flight().contains(&entry.id) {
                    continue;
                }
                self.metrics.claimed.inc();
                let deliveries = self.delivery_count(&entry.id).await;
                self.dispatch(entry, deliveries).await;
            }
            if next == "0-0" || shutdown.is_cancelled() {
                return Ok(());
            }
            cursor = next;
        }
    }

    async fn refresh_gauges(&self) -> Result<(), StreamsError> {
        let raw: Value = self
            .redis
            .pool()
            .xinfo_groups(self.config.stream.as_str())
            .await?;
        if let Some((lag, pending)) = reply::group_info(raw, &self.config.group)? {
            if let Some(lag) = lag {
                self.metrics.lag.set(i64::try_from(lag).unwrap_or(i64::MAX));
            }
            self.metrics
                .pending
                .set(i64::try_from(pending).unwrap_or(i64::MAX));
        }
        Ok(())
    }
}

/// Batches acknowledgements: whatever ids are waiting go out in one `XACK`.
async fn ack_loop(redis: Redis, config: Arc<ConsumerConfig>, mut rx: mpsc::Receiver<String>) {
    let mut batch = Vec::with_capacity(ACK_BATCH);
    let never = CancellationToken::new();
    while rx.recv_many(&mut batch, ACK_BATCH).await > 0 {
        for attempt in 1..=3 {
            let acked: Result<u64, _> = redis
                .pool()
                .xack(config.stream.as_str(), config.group.as_str(), batch.clone())
                .await;
            match acked {
                Ok(_) => break,
                Err(error) if attempt == 3 => tracing::error!(%error, count = batch.len(),
                    "acknowledging failed; the entries stay pending and will be redelivered"),
                Err(error) => {
                    tracing::warn!(%error, "acknowledging failed; retrying");
                    pause(&never).await;
                }
            }
        }
        batch.clear();
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
