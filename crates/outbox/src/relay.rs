//! The relay: takes queued entries, claims them with a lease, publishes them pipelined, marks them
//! sent.

use shop_mongo::{DUPLICATE_KEY, is_duplicate_key};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bson::{Bson, DateTime, Document, doc};
use futures::{StreamExt, TryStreamExt};
use mongodb::error::{ErrorKind, InsertManyError};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use prometheus_client::registry::Registry;
use serde::Deserialize;
use shop_streams::{Publisher, StreamsError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::OutboxEntry;
use crate::entry::{AVAILABLE_AT, OUTBOX_FIELD, PENDING, PUBLISHED_AT};
use crate::metrics::OutboxMetrics;

#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Entries claimed per pass (and published in one pipeline).
    pub batch_size: i64,
    /// How long a claim holds before another relay may take the entry over. Longer than a pass can
    /// reasonably take; it is also how late an entry held by a crashed process is published.
    pub lease: Duration,
    /// How often the relay looks for work without being woken (failed publishes, entries left by a
    /// crashed process or written while no relay ran).
    pub poll_interval: Duration,
    /// How long a failed publish waits before it is tried again.
    pub retry_after: Duration,
    /// How often the whole collection is searched for pending entries that have no queue marker
    /// (their writer died between its two inserts), and old claims are deleted. Also done at start.
    pub sweep_interval: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
            sweep_interval: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox storage: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("outbox publishing: {0}")]
    Streams(#[from] StreamsError),
}

/// The outbox of one collection. Cheap to clone; writers call [`Outbox::notify`], one task runs
/// [`Outbox::run`].
#[derive(Debug, Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

/// How long claims are kept at least (see [`Outbox::forget_old_claims`]).
const CLAIM_RETENTION: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Inner {
    collection: Collection<Document>,
    /// `<collection>_outbox_claims`: one document per claimed attempt, see [`Outbox::claim`].
    claims: Collection<Document>,
    /// `<collection>_outbox_queue`: `{_id: <document id>, at}` for each entry not yet published,
    /// see [`Outbox::written`].
    queue: Collection<Document>,
    /// `<collection>_outbox_dead`: queued entries that do not decode, moved out of the queue so
    /// they neither block nor cost a pass, and kept for an operator (`{_id, at, reason}`).
    dead: Collection<Document>,
    publisher: Publisher,
    config: OutboxConfig,
    wake: Notify,
    metrics: OutboxMetrics,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub published: usize,
    pub failed: usize,
}

impl Outbox {
    pub fn new(
        collection: Collection<Document>,
        publisher: Publisher,
        config: OutboxConfig,
    ) -> Self {
        let metrics = OutboxMetrics::new(collection.name());
        let sibling = |suffix: &str| {
            collection
                .client()
                .database(&collection.namespace().db)
                .collection(&format!("{}_outbox_{suffix}", collection.name()))
        };
        let (claims, queue, dead) = (sibling("claims"), sibling("queue"), sibling("dead"));
        Self {
            inner: Arc::new(Inner {
                collection,
                claims,
                queue,
                dead,
                publisher,
                config,
                wake: Notify::new(),
                metrics,
            }),
        }
    }

    /// The indexes the relay's queries use. Idempotent; call at startup.
    pub async fn ensure_indexes(&self) -> Result<(), OutboxError> {
        let pending = IndexModel::builder()
            .keys(doc! { PENDING: 1, AVAILABLE_AT: 1 })
            .options(
                IndexOptions::builder()
                    .name("outbox_pending".to_owned())
                    .build(),
            )
            .build();
        self.inner.collection.create_index(pending).await?;
        let queued = IndexModel::builder()
            .keys(doc! { "at": 1, "_id": 1 })
            .options(
                IndexOptions::builder()
                    .name("queue_order".to_owned())
                    .build(),
            )
            .build();
        self.inner.queue.create_index(queued).await?;
        Ok(())
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        self.inner.metrics.register(registry);
    }

    /// A writer just stored the document `id` with a pending entry: queue it for the relay and wake
    /// the relay now rather than at its next poll.
    ///
    /// The queue is what keeps a pass as cheap with a million documents as with ten: the relay reads
    /// the few queued ids and then each document by `_id`, never searching the collection itself
    /// (FerretDB's SQLite backend, which the tests run on, answers any query other than `_id`
    /// equality by decoding the whole collection). A writer that dies between its insert and this
    /// one leaves the entry unqueued; the sweep (at start and every `sweep_interval`) queues it.
    /// So this never fails the write that came before it: an error is logged and left to the sweep.
    pub async fn written(&self, id: impl Into<Bson>) {
        let id = id.into();
        let marker = doc! { "_id": id.clone(), "at": DateTime::now(), "attempts": 0 };
        match self.inner.queue.insert_one(marker).await {
            Ok(_) => {}
            Err(error) if is_duplicate_key(&error) => {} // queued already (a redelivery)
            Err(error) => {
                tracing::warn!(%error, ?id, "queueing an outbox entry failed; the sweep will find it");
            }
        }
        self.notify();
    }

    /// Wakes the relay. A wake-up sent while the relay is busy is kept, so none is lost.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// Entries queued and not yet published (also the `outbox_backlog` gauge).
    pub async fn backlog(&self) -> Result<u64, OutboxError> {
        let count = self.inner.queue.count_documents(doc! {}).await?;
        self.inner.metrics.backlog(count);
        Ok(count)
    }

    /// Queues every pending entry of the collection that is not queued (a writer died between its
    /// two inserts, or wrote before this version of the relay); returns how many were queued now.
    /// This is the one query that searches the collection (by the `outbox_pending` index on
    /// MongoDB), which is why it runs only at start and every `sweep_interval`.
    pub async fn sweep(&self) -> Result<u64, OutboxError> {
        let Inner {
            collection, queue, ..
        } = &*self.inner;
        let pending: Vec<Document> = collection
            .find(doc! { PENDING: true })
            .projection(doc! { "_id": 1, AVAILABLE_AT: 1 })
            .await?
            .try_collect()
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let now = DateTime::now();
        let markers: Vec<Document> = pending
            .iter()
            .filter_map(|d| {
                let at = d
                    .get_document(OUTBOX_FIELD)
                    .and_then(|entry| entry.get_datetime("availableAt"))
                    .map_or(now, |at| *at);
                Some(doc! { "_id": d.get("_id")?.clone(), "at": at, "attempts": 0 })
            })
            .collect();
        let attempted = markers.len();
        let lost = match queue.insert_many(markers).ordered(false).await {
            Ok(_) => 0,
            Err(error) => duplicate_positions(error)?.len(),
        };
        let queued = u64::try_from(attempted - lost).unwrap_or(u64::MAX);
        if queued > 0 {
            tracing::info!(queued, collection = %collection.name(), "the sweep queued unqueued outbox entries");
        }
        Ok(queued)
    }

    /// Relays until `shutdown`, then makes one last pass so events written just before are not left
    /// for the next start. Storage and Redis failures are logged and retried, never returned.
    pub async fn run(self, shutdown: CancellationToken) {
        let config = &self.inner.config;
        let mut last_backlog = Instant::now();
        let mut last_sweep: Option<Instant> = None;
        tracing::info!(collection = %self.inner.collection.name(), "outbox relay started");
        loop {
            if last_sweep.is_none_or(|at| at.elapsed() >= config.sweep_interval) {
                last_sweep = Some(Instant::now());
                if let Err(error) = self.sweep().await {
                    tracing::warn!(%error, "outbox sweep failed; retrying at the next one");
                }
                if let Err(error) = self.forget_old_claims().await {
                    tracing::debug!(%error, "deleting old outbox claims");
                }
            }
            let full = match self.relay_once().await {
                Ok(pass) => pass.published + pass.failed >= self.batch_len(),
                Err(error) => {
                    tracing::warn!(%error, "outbox pass failed; retrying");
                    false
                }
            };
            if last_backlog.elapsed() >= config.poll_interval {
                last_backlog = Instant::now();
                if let Err(error) = self.backlog().await {
                    tracing::debug!(%error, "counting the outbox backlog");
                }
            }
            if full && !shutdown.is_cancelled() {
                continue; // more is waiting: no pause between full batches
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(config.poll_interval) => {}
            }
        }
        if let Err(error) = self.relay_once().await {
            tracing::warn!(%error, "last outbox pass before shutdown failed; the next start relays it");
        }
        tracing::info!(collection = %self.inner.collection.name(), "outbox relay stopped");
    }

    /// One pass over the `batch_size` queued entries that are due, oldest first: forget those
    /// already published, claim the others, publish what was won, record the outcome.
    pub async fn relay_once(&self) -> Result<Pass, OutboxError> {
        let Inner {
            collection,
            queue,
            config,
            ..
        } = &*self.inner;
        let now = DateTime::now();
        let markers: Vec<Marker> = queue
            .clone_with_type::<Marker>()
            .find(doc! { "at": { "$lte": now } })
            .sort(doc! { "at": 1, "_id": 1 })
            .limit(config.batch_size)
            .await?
            .try_collect()
            .await?;
        if markers.is_empty() {
            return Ok(Pass::default());
        }
        let reads = markers.iter().map(|marker| {
            collection
                .find_one(doc! { "_id": marker.id.clone() })
                .projection(doc! { OUTBOX_FIELD: 1 })
                .into_future()
        });
        let documents = futures::future::try_join_all(reads).await?;

        let mut due = Vec::new();
        let mut done = Vec::new();
        let mut undecodable = Vec::new();
        for (marker, document) in markers.into_iter().zip(documents) {
            // A marker is written after its document, and documents are never deleted: a marker
            // without one was not written by `written`, and is dropped. An entry that does not
            // decode is moved out of the queue (see `bury`), so it cannot hold up the entries
            // behind it or cost every pass a read.
            let Some(document) = document else {
                done.push(marker.id);
                continue;
            };
            match decode(&document) {
                Ok(entry) if entry.pending => due.push((marker, entry)),
                Ok(_) => done.push(marker.id),
                Err(reason) => undecodable.push((marker.id, reason)),
            }
        }
        self.dequeue(done).await?;
        self.bury(undecodable).await?;
        if due.is_empty() {
            return Ok(Pass::default());
        }
        let claimed = self.claim(due, now).await?;
        if claimed.is_empty() {
            return Ok(Pass::default());
        }
        self.publish(claimed).await
    }

    /// Claims entries by inserting one claim document per (entry, attempt): the unique `_id` makes
    /// exactly one relay win each attempt, even on stores whose conditional updates are not atomic.
    /// Only a winner then moves its markers' `at` past the lease and counts the attempt, so that
    /// write has no rival.
    async fn claim(
        &self,
        due: Vec<(Marker, OutboxEntry)>,
        now: DateTime,
    ) -> Result<Vec<(Bson, OutboxEntry)>, OutboxError> {
        let Inner {
            claims,
            queue,
            config,
            ..
        } = &*self.inner;
        let claim_docs: Vec<Document> = due
            .iter()
            .map(|(marker, _)| doc! { "_id": claim_key(&marker.id, marker.attempts), "at": now })
            .collect();
        let lost = match claims.insert_many(claim_docs).ordered(false).await {
            Ok(_) => HashSet::new(),
            Err(error) => duplicate_positions(error)?,
        };
        let mut won = Vec::new();
        let mut lost_markers = Vec::new();
        for (index, (marker, entry)) in due.into_iter().enumerate() {
            if lost.contains(&index) {
                lost_markers.push(marker);
            } else {
                won.push((marker, entry));
            }
        }
        // Each winner moves its marker to the next attempt, due after the lease. `$set` of the
        // attempt number, not `$inc`: a takeover (below) writes the same value, so the two
        // cannot add up to skipping an attempt.
        let next_attempts: Vec<(Bson, i32)> = won
            .iter()
            .map(|(marker, _)| (marker.id.clone(), marker.attempts.saturating_add(1)))
            .collect();
        let lease_end = later(now, config.lease);
        let queue_ = queue.clone();
        futures::stream::iter(next_attempts)
            .map(move |(id, attempts)| {
                let queue = queue_.clone();
                async move {
                    queue
                        .update_one(
                            doc! { "_id": id },
                            doc! { "$set": { "at": lease_end, "attempts": attempts } },
                        )
                        .await
                }
            })
            .buffer_unordered(WRITES_AT_ONCE)
            .try_for_each(|_| async { Ok(()) })
            .await?;
        self.take_over_stalled(lost_markers, now).await?;
        Ok(won
            .into_iter()
            .map(|(marker, entry)| (marker.id, entry))
            .collect())
    }

    /// A claim lost to a winner that never moved the marker on: the winner died (or froze)
    /// between its claim insert and its marker update, and the marker still names the attempt it
    /// claimed, so every relay would lose that attempt until the claim is forgotten (minutes).
    /// Once the claim is older than the lease, the attempt is over: move the marker to the next
    /// attempt, which the next pass claims afresh. Claims younger than the lease belong to a
    /// relay still at work and are left alone.
    async fn take_over_stalled(&self, lost: Vec<Marker>, now: DateTime) -> Result<(), OutboxError> {
        let Inner {
            claims,
            queue,
            config,
            metrics,
            ..
        } = &*self.inner;
        let expired_before = now
            .timestamp_millis()
            .saturating_sub(i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX));
        let mut taken = 0;
        for marker in lost {
            let claim = claims
                .find_one(doc! { "_id": claim_key(&marker.id, marker.attempts) })
                .await?;
            let stalled = claim
                .and_then(|claim| claim.get_datetime("at").ok().copied())
                .is_some_and(|at| at.timestamp_millis() < expired_before);
            if stalled {
                queue
                    .update_one(
                        doc! { "_id": marker.id.clone() },
                        doc! { "$set": { "attempts": marker.attempts.saturating_add(1) } },
                    )
                    .await?;
                tracing::warn!(id = ?marker.id, attempt = marker.attempts, "an outbox claim outlived its lease unscheduled; taking the entry over");
                taken += 1;
            }
        }
        metrics.takeovers(taken);
        Ok(())
    }

    /// Moves queued entries that do not decode out of the queue, into `<collection>_outbox_dead`.
    async fn bury(&self, entries: Vec<(Bson, String)>) -> Result<(), OutboxError> {
        if entries.is_empty() {
            return Ok(());
        }
        let Inner {
            queue,
            dead,
            metrics,
            collection,
            ..
        } = &*self.inner;
        for (id, reason) in &entries {
            tracing::error!(?id, %reason, collection = %collection.name(), "outbox entry does not decode; moved to the dead collection");
            let record = doc! { "_id": id.clone(), "at": DateTime::now(), "reason": reason };
            match dead.insert_one(record).await {
                Ok(_) => {}
                Err(error) if is_duplicate_key(&error) => {} // buried by an earlier pass
                Err(error) => return Err(error.into()),
            }
            queue.delete_one(doc! { "_id": id.clone() }).await?;
        }
        metrics.undecodable(entries.len());
        Ok(())
    }

    async fn publish(&self, claimed: Vec<(Bson, OutboxEntry)>) -> Result<Pass, OutboxError> {
        let Inner {
            collection,
            queue,
            publisher,
            config,
            metrics,
            ..
        } = &*self.inner;
        let (ids, entries): (Vec<Bson>, Vec<(String, _)>) = claimed
            .into_iter()
            .map(|(id, entry)| (id, (entry.stream.clone(), entry.stream_fields())))
            .unzip();
        let results = publisher.publish_many(entries).await?;

        let (mut sent, mut failed) = (Vec::new(), Vec::new());
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(_) => sent.push(id),
                Err(error) => {
                    tracing::warn!(%error, ?id, "publishing an outbox entry failed; will retry");
                    failed.push(id);
                }
            }
        }
        let pass = Pass {
            published: sent.len(),
            failed: failed.len(),
        };
        let now = DateTime::now();
        update_each(
            collection,
            sent.clone(),
            doc! { "$set": { PENDING: false, PUBLISHED_AT: now } },
        )
        .await?;
        self.dequeue(sent).await?;
        update_each(
            queue,
            failed,
            doc! { "$set": { "at": later(now, config.retry_after) } },
        )
        .await?;
        metrics.published(pass.published);
        metrics.failed(pass.failed);
        Ok(pass)
    }

    /// Removes the markers of entries that are published.
    async fn dequeue(&self, ids: Vec<Bson>) -> Result<(), OutboxError> {
        let queue = &self.inner.queue;
        each_by_id(ids, |id| queue.delete_one(doc! { "_id": id }).into_future()).await
    }

    /// Deletes claims old enough that no relay can still act on the read that led to them. A claim
    /// must outlive every pass that might have read its entry before it was claimed: deleting it
    /// at once would let such a pass claim the same attempt again and publish a second time.
    pub async fn forget_old_claims(&self) -> Result<u64, OutboxError> {
        let horizon = self.inner.config.lease.max(CLAIM_RETENTION);
        let cutoff = DateTime::from_millis(
            DateTime::now()
                .timestamp_millis()
                .saturating_sub(i64::try_from(horizon.as_millis()).unwrap_or(i64::MAX)),
        );
        let deleted = self
            .inner
            .claims
            .delete_many(doc! { "at": { "$lt": cutoff } })
            .await?;
        Ok(deleted.deleted_count)
    }

    fn batch_len(&self) -> usize {
        usize::try_from(self.inner.config.batch_size).unwrap_or(usize::MAX)
    }
}

/// Point writes (by `_id`) a relay pass keeps in flight at once.
const WRITES_AT_ONCE: usize = 16;

/// Applies `update` to each document of `ids`, one update by `_id` per document, a few at a time.
///
/// Not one `update_many` with `$in`: `_id` equality is the lookup every MongoDB-compatible store
/// answers from its primary key, while FerretDB's SQLite backend answers `$in` by decoding the
/// whole collection, here the growing collection of orders or payments.
async fn update_each(
    collection: &Collection<Document>,
    ids: Vec<Bson>,
    update: Document,
) -> Result<(), OutboxError> {
    each_by_id(ids, |id| {
        collection
            .update_one(doc! { "_id": id }, update.clone())
            .into_future()
    })
    .await
}

/// Runs `write` for each of `ids`, [`WRITES_AT_ONCE`] at a time; the first error ends it.
async fn each_by_id<W, T>(ids: Vec<Bson>, write: impl FnMut(Bson) -> W) -> Result<(), OutboxError>
where
    W: std::future::Future<Output = mongodb::error::Result<T>>,
{
    futures::stream::iter(ids)
        .map(write)
        .buffer_unordered(WRITES_AT_ONCE)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    Ok(())
}

/// An entry's place in the queue: when a relay may (re)try it, and how many claims it has had.
#[derive(Debug, Deserialize)]
struct Marker {
    #[serde(rename = "_id")]
    id: Bson,
    #[serde(default)]
    attempts: i32,
}

/// `<entry id>#<attempt>`: one claim per attempt of one entry.
fn claim_key(id: &Bson, attempts: i32) -> String {
    match id {
        Bson::String(id) => format!("{id}#{attempts}"),
        other => format!("{other}#{attempts}"),
    }
}

/// The positions of the documents that were there already (duplicate key): claims another relay
/// won, markers queued before. Any other failure is an error.
fn duplicate_positions(error: mongodb::error::Error) -> Result<HashSet<usize>, OutboxError> {
    if let ErrorKind::InsertMany(InsertManyError {
        write_errors: Some(write_errors),
        write_concern_error: None,
        ..
    }) = error.kind.as_ref()
        && write_errors.iter().all(|e| e.code == DUPLICATE_KEY)
    {
        return Ok(write_errors.iter().map(|e| e.index).collect());
    }
    Err(error.into())
}

fn later(now: DateTime, by: Duration) -> DateTime {
    let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(now.timestamp_millis().saturating_add(millis))
}

/// The entry of a queued document, or why it has none that decodes (written by something else).
fn decode(document: &Document) -> Result<OutboxEntry, String> {
    let entry = document
        .get_document(OUTBOX_FIELD)
        .map_err(|error| format!("no `{OUTBOX_FIELD}` document: {error}"))?;
    bson::from_document(entry.clone()).map_err(|error| error.to_string())
}
