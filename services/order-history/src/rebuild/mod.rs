//! Rebuilding the read model from the streams into a fresh generation, then swapping it in.
//!
//! 1. Start attempt `N` (a unique insert into `rebuilds`; a running attempt means 409).
//! 2. Drop leftover generations, index generation `N`, and set the pointer to
//!    `{active: old, building: N}`. From [`POINTER_TTL`] later every consumer writes each new fact to
//!    both generations.
//! 3. Only then read where both streams end, and replay them up to there into `N`. An entry after
//!    that end was added after the wait, so a consumer applies it to `N`; one before it the replay
//!    applies. Both may apply the same entry: facts are unique inserts, so that is a no-op.
//! 4. Set the pointer to `{active: N}`, wait [`POINTER_TTL`] for readers still using the old one,
//!    and drop the old generation.
//!
//! Streams capped with `MAXLEN` hold only their newest entries: a rebuild reproduces the history of
//! those, and orders older than what the streams still hold disappear from the view.

mod replay;

use std::time::Duration;

use serde::Serialize;
use shop_domain::events::{OrderCreated, PaymentProcessed};
use shop_streams::{Redis, StreamNames, StreamsError};
use tokio::time::Instant;

use crate::facts::{OrderFact, PaymentFact};
use crate::state::HistoryMetrics;
use crate::store::{Claim, Ended, POINTER_TTL, Pointer, Store};
pub use replay::Replayed;

/// What a finished rebuild reports (`POST /internal/rebuild`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rebuilt {
    /// Entries applied from both streams.
    pub events: u64,
    /// Entries that did not decode, left out.
    pub skipped: u64,
    /// The generation now active.
    pub generation: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("rebuild {0} is in progress")]
    InProgress(i64),
    #[error("the rebuild did not finish within its timeout")]
    TimedOut,
    #[error("database: {0}")]
    Database(#[from] mongodb::error::Error),
    #[error("{0}")]
    Redis(#[from] StreamsError),
}

/// Runs rebuilds. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Rebuilder {
    store: Store,
    redis: Redis,
    streams: StreamNames,
    timeout: Duration,
    metrics: HistoryMetrics,
}

impl Rebuilder {
    pub fn new(
        store: Store,
        redis: Redis,
        streams: StreamNames,
        timeout: Duration,
        metrics: HistoryMetrics,
    ) -> Self {
        Self {
            store,
            redis,
            streams,
            timeout,
            metrics,
        }
    }

    /// Rebuilds the model from both streams and makes it the active one.
    #[tracing::instrument(skip_all, fields(generation = tracing::field::Empty))]
    pub async fn rebuild(&self) -> Result<Rebuilt, RebuildError> {
        // The deadline is measured from before the claim, so this process gives up no later than
        // others start to presume it dead (the attempt's stored deadline).
        let deadline = Instant::now() + self.timeout;
        let previous = self.store.generations.fetch().await?.active;
        let attempt = match self.store.rebuilds.claim(previous, self.timeout).await? {
            Claim::Started(attempt) => attempt,
            Claim::Busy(running) => return Err(RebuildError::InProgress(running)),
        };
        tracing::Span::current().record("generation", attempt.id);
        tracing::info!(previous, "rebuild started");

        let built = self.build(previous, attempt.id, deadline).await;
        let ended = match &built {
            Ok(rebuilt) => Ended::Completed {
                events: rebuilt.events,
                skipped: rebuilt.skipped,
            },
            Err(error) => Ended::Failed(error.to_string()),
        };
        if let Err(error) = self.store.rebuilds.finish(attempt.id, &ended).await {
            // The attempt then blocks new ones until its deadline; nothing else depends on it.
            tracing::warn!(%error, "recording the end of the rebuild failed");
        }
        match &built {
            Ok(rebuilt) => {
                tracing::info!(
                    events = rebuilt.events,
                    skipped = rebuilt.skipped,
                    "rebuild completed"
                );
                self.metrics.rebuilt(true);
            }
            Err(error) => {
                tracing::error!(%error, "rebuild failed");
                self.metrics.rebuilt(false);
            }
        }
        built
    }

    async fn build(
        &self,
        previous: i64,
        generation: i64,
        deadline: Instant,
    ) -> Result<Rebuilt, RebuildError> {
        let dropped = self
            .store
            .drop_generations_except(&[previous, generation])
            .await?;
        if !dropped.is_empty() {
            tracing::info!(?dropped, "dropped leftover generations");
        }
        let replayed = match self.fill_and_swap(previous, generation, deadline).await {
            Ok(replayed) => replayed,
            Err(error) => {
                self.abandon(previous, generation).await;
                return Err(error);
            }
        };
        // Readers and consumers of other processes may use the old pointer for this long.
        tokio::time::sleep(POINTER_TTL).await;
        if let Err(error) = self.store.drop_generation(previous).await {
            // The new model is active; the next rebuild drops what is left of the old one.
            tracing::warn!(%error, previous, "dropping the previous generation failed");
        }
        Ok(Rebuilt {
            events: replayed.events,
            skipped: replayed.skipped,
            generation,
        })
    }

    /// Indexes `generation`, has every consumer feed it, replays both streams into it and makes it
    /// the active generation.
    async fn fill_and_swap(
        &self,
        previous: i64,
        generation: i64,
        deadline: Instant,
    ) -> Result<Replayed, RebuildError> {
        self.store.ensure_indexes(generation).await?;
        self.point(previous, Some(generation)).await?;
        // From now on every process has seen the pointer, so every entry added after the ends read
        // below is applied to `generation` by whichever consumer handles it.
        tokio::time::sleep(POINTER_TTL).await;
        let (orders, payments) = tokio::try_join!(
            replay::replay::<OrderCreated, OrderFact>(
                &self.redis,
                &self.store,
                &self.streams.orders,
                generation,
                deadline,
            ),
            replay::replay::<PaymentProcessed, PaymentFact>(
                &self.redis,
                &self.store,
                &self.streams.payments,
                generation,
                deadline,
            ),
        )?;
        // Past the deadline another process may already have started a rebuild: do not swap.
        if Instant::now() >= deadline {
            return Err(RebuildError::TimedOut);
        }
        self.point(generation, None).await?;
        Ok(orders + payments)
    }

    async fn point(&self, active: i64, building: Option<i64>) -> Result<(), RebuildError> {
        let pointer = Pointer { active, building };
        Ok(self.store.generations.set(pointer).await?)
    }

    /// Puts the pointer back and, once that worked, drops the half-built generation; whatever is
    /// left, the next rebuild drops.
    async fn abandon(&self, previous: i64, generation: i64) {
        if let Err(error) = self.point(previous, None).await {
            // The pointer may still (or already) name `generation`: keep it.
            tracing::warn!(%error, generation, "restoring the generation pointer failed");
            return;
        }
        if let Err(error) = self.store.drop_generation(generation).await {
            tracing::warn!(%error, generation, "dropping the abandoned generation failed");
        }
    }
}
