//! Running handlers: bounded concurrency with slots taken before entries are read, a deadline
//! counted from the moment an entry was read, acknowledgement after success (batched by the ack
//! task), retry by leaving entries pending, and dead-lettering of entries that cannot succeed.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use fred::prelude::StreamsInterface;
use fred::types::Value;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::entry::{Body, RawEntry};
use super::{ConsumerConfig, Delivery, HandlerError, ack, reply};
use crate::dead_letters::{dead_letter_fields, write_dead_letter};
use crate::metrics::DeadLetterReason;
use crate::{
    Event, Fields, REANNOUNCED_FIELD, Redis, RunnerMetrics, StreamsError, TRACEPARENT_FIELD,
};

type BoxedHandler<E> =
    Arc<dyn Fn(Delivery<E>) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync>;

/// Where a batch of entries came from; it decides how their delivery count is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// `XREADGROUP ... >`: first deliveries.
    New,
    /// `XREADGROUP ... 0`: this consumer's own pending entries, after a restart.
    Pending,
    /// `XAUTOCLAIM`: idle entries of any consumer of the group.
    Claimed,
}

pub(super) struct Worker<E> {
    pub(super) redis: Redis,
    pub(super) config: Arc<ConsumerConfig>,
    pub(super) metrics: RunnerMetrics,
    handler: BoxedHandler<E>,
    ack_tx: mpsc::Sender<String>,
    permits: Arc<Semaphore>,
    /// Ids with a handler running here, so a claim pass never starts a second one for the same entry.
    in_flight: Mutex<HashSet<String>>,
    tasks: TaskTracker,
}

/// Handler slots taken before a read: the read asks for as many entries as there are slots, and
/// each entry it returns takes one.
#[derive(Debug)]
pub(super) struct Slots(Option<OwnedSemaphorePermit>);

impl Slots {
    pub(super) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }

    fn take_one(&mut self) -> Option<OwnedSemaphorePermit> {
        let slots = self.0.as_mut()?;
        if slots.num_permits() > 1 {
            slots.split(1)
        } else {
            self.0.take()
        }
    }
}

impl<E: Event> Worker<E> {
    pub(super) fn start<H, Fut>(
        redis: Redis,
        config: Arc<ConsumerConfig>,
        metrics: RunnerMetrics,
        handler: H,
        shutdown: CancellationToken,
    ) -> (Arc<Self>, JoinHandle<()>)
    where
        H: Fn(Delivery<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let (ack_tx, ack_rx) = mpsc::channel(config.concurrency * 2 + config.batch_size);
        let acker = tokio::spawn(ack::ack_loop(
            redis.clone(),
            config.clone(),
            ack_rx,
            shutdown,
        ));
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

    /// Waits until at least one handler slot is free, then takes up to `max` of the free ones;
    /// `None` on shutdown.
    pub(super) async fn reserve(&self, max: usize, shutdown: &CancellationToken) -> Option<Slots> {
        let mut slots = tokio::select! {
            _ = shutdown.cancelled() => return None,
            // Closed never happens: the semaphore lives as long as the worker.
            permit = self.permits.clone().acquire_owned() => permit.ok()?,
        };
        let more = self.permits.available_permits().min(max.saturating_sub(1));
        if let Ok(more) = u32::try_from(more)
            && let Ok(extra) = self.permits.clone().try_acquire_many_owned(more)
        {
            slots.merge(extra);
        }
        Some(Slots(Some(slots)))
    }

    /// Starts a handler for each entry of a batch read at `read_at`, in its own slot. Deleted
    /// entries are acknowledged instead, and slots left over are freed when `slots` drops.
    pub(super) async fn hand_over(
        self: &Arc<Self>,
        entries: Vec<RawEntry>,
        source: Source,
        mut slots: Slots,
        read_at: Instant,
    ) {
        let (deleted, mut entries): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|entry| entry.body == Body::Deleted);
        self.acknowledge_deleted(deleted.into_iter().map(|entry| entry.id).collect())
            .await;
        if source == Source::Claimed {
            // Our own running entry, claimed because it is idle in Redis' eyes: it is being handled.
            let in_flight = self.lock_in_flight();
            entries.retain(|entry| !in_flight.contains(&entry.id));
            drop(in_flight);
            self.metrics.claimed.inc_by(entries.len() as u64);
        }
        let deliveries = match source {
            Source::New => vec![1; entries.len()],
            Source::Pending | Source::Claimed => self.delivery_counts(&entries).await,
        };
        let deadline = read_at + self.config.handler_timeout;
        for (entry, deliveries) in entries.into_iter().zip(deliveries) {
            let slot = match slots.take_one() {
                Some(slot) => slot,
                // Redis returned more than was asked for; wait for a slot rather than overrun.
                None => match self.permits.clone().acquire_owned().await {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            self.dispatch(entry, deliveries, slot, deadline);
        }
    }

    /// Starts a handler for `entry` in `slot`, unless one already runs for it here.
    fn dispatch(
        self: &Arc<Self>,
        entry: RawEntry,
        deliveries: u64,
        slot: OwnedSemaphorePermit,
        deadline: Instant,
    ) {
        let tracked = !entry.id.is_empty();
        if tracked && !self.lock_in_flight().insert(entry.id.clone()) {
            return;
        }
        let worker = self.clone();
        self.tasks.spawn(async move {
            let id = entry.id.clone();
            worker.process(entry, deliveries, deadline).await;
            if tracked {
                worker.lock_in_flight().remove(&id);
            }
            drop(slot);
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

    /// Acknowledges pending entries whose data is gone (deleted with `XDEL` or trimmed by `MAXLEN`
    /// while they waited), and counts them. There is nothing left to handle, nor to copy to the
    /// dead-letter stream, and left pending they would come back on every pending read and claim
    /// pass. Every path that meets them ends here: the start-up read of this consumer's pending
    /// entries (`nil` fields), `XAUTOCLAIM`'s list of deleted ids (Redis 7, which has already
    /// dropped them from the pending list, so the ack is a no-op there) and a Redis 6.2 claim's
    /// `nil` entries.
    pub(super) async fn acknowledge_deleted(&self, ids: Vec<String>) {
        let Some(first) = ids.first() else {
            return;
        };
        tracing::warn!(stream = %self.config.stream, group = %self.config.group, count = ids.len(),
            first = %first, "pending entries were deleted from the stream before being handled; acknowledging them");
        self.metrics.deleted.inc_by(ids.len() as u64);
        for id in ids {
            // The ack task outlives every sender, so the send only fails during a crash.
            let _ = self.ack_tx.send(id).await;
        }
    }

    async fn process(&self, entry: RawEntry, deliveries: u64, deadline: Instant) {
        let config = &self.config;
        let RawEntry { id, body } = entry;
        let fields = match body {
            Body::Fields(fields) => fields,
            Body::Unreadable { fields, reason } => {
                let error = format!("undecodable entry: {reason}");
                self.dead_letter(
                    &id,
                    fields,
                    deliveries,
                    error,
                    DeadLetterReason::Undecodable,
                )
                .await;
                return;
            }
            Body::Deleted => return self.acknowledge_deleted(vec![id]).await,
        };
        let event = match E::from_fields(&fields) {
            Ok(event) => event,
            Err(error) => {
                let error = format!("undecodable entry: {error}");
                self.dead_letter(
                    &id,
                    fields,
                    deliveries,
                    error,
                    DeadLetterReason::Undecodable,
                )
                .await;
                return;
            }
        };
        if deliveries > config.max_deliveries {
            // Earlier attempts never reported back (the process died mid-handler each time).
            let error = format!("not acknowledged after {} deliveries", deliveries - 1);
            self.dead_letter(
                &id,
                fields,
                deliveries,
                error,
                DeadLetterReason::MaxDeliveries,
            )
            .await;
            return;
        }

        let span = tracing::info_span!("stream_entry", stream = %config.stream, group = %config.group,
            entry_id = %id, deliveries);
        let delivery = Delivery {
            id: id.clone(),
            deliveries,
            event,
            traceparent: fields.get(TRACEPARENT_FIELD).map(str::to_owned),
            reannounced: fields.get(REANNOUNCED_FIELD).is_some(),
        };
        let handler = self.handler.clone();
        let attempt = AssertUnwindSafe(async move { handler(delivery).await }).catch_unwind();
        // The deadline runs from the read, as Redis' idle time does from the delivery: with
        // `handler_timeout` below `claim_idle` no entry is claimed while its handler runs.
        let error = match tokio::time::timeout_at(deadline, attempt)
            .instrument(span)
            .await
        {
            Ok(Ok(Ok(()))) => {
                self.metrics.processed.inc();
                // The ack task outlives every handler, so the send only fails during a crash.
                let _ = self.ack_tx.send(id).await;
                return;
            }
            Ok(Ok(Err(error))) => error_chain(error.as_ref()),
            Ok(Err(_panic)) => "handler panicked".to_owned(),
            Err(_elapsed) => format!(
                "handler timed out after {:?} from delivery",
                config.handler_timeout
            ),
        };
        self.metrics.failed.inc();
        if deliveries >= config.max_deliveries {
            self.dead_letter(
                &id,
                fields,
                deliveries,
                error,
                DeadLetterReason::MaxDeliveries,
            )
            .await;
        } else {
            tracing::warn!(stream = %config.stream, group = %config.group, entry_id = %id, deliveries,
                %error, retry_in = ?config.claim_idle, "handler failed; the entry stays pending");
        }
    }

    /// Copies the entry to `<stream>:dlq` with why it failed, then acknowledges it; if the copy
    /// cannot be written the entry stays pending and is tried again after `claim_idle`.
    async fn dead_letter(
        &self,
        id: &str,
        fields: Fields,
        deliveries: u64,
        error: String,
        reason: DeadLetterReason,
    ) {
        let config = &self.config;
        let copy = dead_letter_fields(fields, &config.group, id, deliveries, &error);
        let written = write_dead_letter(
            &self.redis,
            &config.stream,
            &config.group,
            id,
            copy,
            config.dead_letter_max_len,
        )
        .await;
        match written {
            Ok(()) => {
                self.metrics.count_dead_letter(reason);
                tracing::error!(stream = %config.stream, group = %config.group, entry_id = %id, deliveries,
                    %error, "entry dead-lettered");
            }
            Err(dlq_error) => {
                self.metrics.dead_letter_failed.inc();
                tracing::error!(%dlq_error, stream = %config.stream, group = %config.group, entry_id = %id,
                    %error, "could not dead-letter the entry; it stays pending and will be retried");
            }
        }
    }

    /// The delivery counts of entries of ours (pending or just claimed), asked for all at once; 1
    /// where Redis cannot tell.
    async fn delivery_counts(&self, entries: &[RawEntry]) -> Vec<u64> {
        futures::future::join_all(entries.iter().map(|entry| self.delivery_count(&entry.id))).await
    }

    async fn delivery_count(&self, id: &str) -> u64 {
        if id.is_empty() {
            return 1;
        }
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
