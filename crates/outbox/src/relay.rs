//! The relay: claims pending entries with a lease, publishes them pipelined, marks them sent.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bson::{Bson, DateTime, Document, doc};
use futures::TryStreamExt;
use mongodb::error::{ErrorKind, InsertManyError};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use prometheus_client::registry::Registry;
use shop_streams::{Publisher, StreamsError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::OutboxEntry;
use crate::entry::{ATTEMPTS, AVAILABLE_AT, OUTBOX_FIELD, PENDING, PUBLISHED_AT};
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
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
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

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

#[derive(Debug)]
struct Inner {
    collection: Collection<Document>,
    /// `<collection>_outbox_claims`: one document per claimed attempt, see [`Outbox::claim`].
    claims: Collection<Document>,
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
        let claims = collection
            .client()
            .database(&collection.namespace().db)
            .collection(&format!("{}_outbox_claims", collection.name()));
        Self {
            inner: Arc::new(Inner {
                collection,
                claims,
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
        Ok(())
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        self.inner.metrics.register(registry);
    }

    /// A writer just stored an entry: relay it now rather than at the next poll. A wake-up sent while
    /// the relay is busy is kept, so none is lost.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// Entries not yet published.
    pub async fn backlog(&self) -> Result<u64, OutboxError> {
        let count = self
            .inner
            .collection
            .count_documents(doc! { PENDING: true })
            .await?;
        self.inner.metrics.backlog(count);
        Ok(count)
    }

    /// Relays until `shutdown`, then makes one last pass so events written just before are not left
    /// for the next start. Storage and Redis failures are logged and retried, never returned.
    pub async fn run(self, shutdown: CancellationToken) {
        let config = &self.inner.config;
        let mut last_backlog = Instant::now();
        tracing::info!(collection = %self.inner.collection.name(), "outbox relay started");
        loop {
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
                if let Err(error) = self.forget_old_claims().await {
                    tracing::debug!(%error, "deleting old outbox claims");
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

    /// One pass: claim up to a batch of due entries, publish them, record the outcome.
    pub async fn relay_once(&self) -> Result<Pass, OutboxError> {
        let now = DateTime::now();
        let due: Vec<(Bson, OutboxEntry)> = self
            .inner
            .collection
            .find(doc! { PENDING: true, AVAILABLE_AT: { "$lte": now } })
            .sort(doc! { AVAILABLE_AT: 1, "_id": 1 })
            .limit(self.inner.config.batch_size)
            .projection(doc! { OUTBOX_FIELD: 1 })
            .await?
            .try_filter_map(|d| async move { Ok(decode(&d)) })
            .try_collect()
            .await?;
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
    /// Only a winner then moves its entries' `availableAt` past the lease, so that write has no rival.
    async fn claim(
        &self,
        due: Vec<(Bson, OutboxEntry)>,
        now: DateTime,
    ) -> Result<Vec<(Bson, OutboxEntry)>, OutboxError> {
        let Inner {
            collection,
            claims,
            config,
            ..
        } = &*self.inner;
        let claim_docs: Vec<Document> = due
            .iter()
            .map(|(id, entry)| doc! { "_id": claim_key(id, entry.attempts), "at": now })
            .collect();
        let lost = match claims.insert_many(claim_docs).ordered(false).await {
            Ok(_) => HashSet::new(),
            Err(error) => lost_claims(error)?,
        };
        let won: Vec<(Bson, OutboxEntry)> = due
            .into_iter()
            .enumerate()
            .filter(|(index, _)| !lost.contains(index))
            .map(|(_, entry)| entry)
            .collect();
        if !won.is_empty() {
            let ids: Vec<Bson> = won.iter().map(|(id, _)| id.clone()).collect();
            collection
                .update_many(
                    doc! { "_id": { "$in": ids } },
                    doc! {
                        "$set": { AVAILABLE_AT: later(now, config.lease) },
                        "$inc": { ATTEMPTS: 1 },
                    },
                )
                .await?;
        }
        Ok(won)
    }

    async fn publish(&self, claimed: Vec<(Bson, OutboxEntry)>) -> Result<Pass, OutboxError> {
        let Inner {
            collection,
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
        if !sent.is_empty() {
            collection
                .update_many(
                    doc! { "_id": { "$in": sent } },
                    doc! { "$set": { PENDING: false, PUBLISHED_AT: now } },
                )
                .await?;
        }
        if !failed.is_empty() {
            collection
                .update_many(
                    doc! { "_id": { "$in": failed } },
                    doc! { "$set": { AVAILABLE_AT: later(now, config.retry_after) } },
                )
                .await?;
        }
        metrics.published(pass.published);
        metrics.failed(pass.failed);
        Ok(pass)
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

/// `<entry id>#<attempt>`: one claim per attempt of one entry.
fn claim_key(id: &Bson, attempts: i32) -> String {
    match id {
        Bson::String(id) => format!("{id}#{attempts}"),
        other => format!("{other}#{attempts}"),
    }
}

/// The positions of the claims another relay won (duplicate key); any other failure is an error.
fn lost_claims(error: mongodb::error::Error) -> Result<HashSet<usize>, OutboxError> {
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

/// The `_id` and entry of a claimed document; a document whose entry does not decode (written by
/// something else) is logged and left claimed, so it is retried after the lease, visibly.
fn decode(document: &Document) -> Option<(Bson, OutboxEntry)> {
    let id = document.get("_id")?.clone();
    let entry = document
        .get_document(OUTBOX_FIELD)
        .ok()
        .and_then(|d| bson::from_document(d.clone()).ok());
    if entry.is_none() {
        tracing::error!(?id, "outbox entry does not decode; left for inspection");
    }
    Some((id, entry?))
}
