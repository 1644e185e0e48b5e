//! Publishing: `XADD` with an approximate `MAXLEN` cap, one at a time or pipelined in batches.

use fred::prelude::StreamsInterface;
use fred::types::streams::XCap;
use futures::StreamExt;

use crate::{Event, Fields, Redis, StreamsError};

/// Entries kept per stream by default: enough to replay a demo's history, small enough for a laptop.
pub const DEFAULT_MAX_LEN: u64 = 1_000_000;

/// Pipelined batches are cut at this size so one huge batch cannot build an unbounded buffer.
const PIPELINE_CHUNK: usize = 500;

/// Chunks in flight at once (at most one per pooled connection is useful).
const PIPELINES_IN_FLIGHT: usize = 4;

/// Appends entries to streams. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Publisher {
    redis: Redis,
    max_len: u64,
}

impl Publisher {
    pub fn new(redis: Redis, max_len: u64) -> Self {
        Self { redis, max_len }
    }

    /// Publishes one event; returns the new entry's id.
    pub async fn publish<E: Event>(&self, stream: &str, event: &E) -> Result<String, StreamsError> {
        self.publish_fields(stream, event.to_fields()).await
    }

    /// Publishes raw fields (dead-letter replay, tests of malformed entries).
    pub async fn publish_fields(
        &self,
        stream: &str,
        fields: Fields,
    ) -> Result<String, StreamsError> {
        Ok(self
            .redis
            .pool()
            .xadd(stream, false, self.cap()?, "*", pairs(fields))
            .await?)
    }

    /// Publishes many events in pipelined round trips; returns their ids in order.
    ///
    /// Chunks go out over several pooled connections at once, so encoding the next chunk overlaps
    /// with Redis working on the previous one. Order within the stream follows the order of
    /// completion of chunks; callers that need strict order across a batch publish one at a time.
    pub async fn publish_batch<'a, E, I>(
        &self,
        stream: &str,
        events: I,
    ) -> Result<Vec<String>, StreamsError>
    where
        E: Event,
        I: IntoIterator<Item = &'a E>,
    {
        let events: Vec<&E> = events.into_iter().collect();
        let cap = self.cap()?;
        let results: Vec<Result<Vec<String>, StreamsError>> =
            futures::stream::iter(events.chunks(PIPELINE_CHUNK))
                .map(|chunk| {
                    let cap = cap.clone();
                    async move {
                        let pipeline = self.redis.pool().next().pipeline();
                        for event in chunk {
                            let () = pipeline
                                .xadd(stream, false, cap.clone(), "*", pairs(event.to_fields()))
                                .await?;
                        }
                        Ok(pipeline.all::<Vec<String>>().await?)
                    }
                })
                .buffered(PIPELINES_IN_FLIGHT)
                .collect()
                .await;
        let mut ids = Vec::with_capacity(events.len());
        for chunk in results {
            ids.extend(chunk?);
        }
        Ok(ids)
    }

    /// Publishes raw entries to their streams in one pipelined round trip, in order; returns one
    /// result per entry, so a caller (the outbox relay) can tell which were written.
    pub async fn publish_many(
        &self,
        entries: Vec<(String, Fields)>,
    ) -> Result<Vec<Result<String, StreamsError>>, StreamsError> {
        let cap = self.cap()?;
        let pipeline = self.redis.pool().next().pipeline();
        for (stream, fields) in entries {
            let () = pipeline
                .xadd(stream, false, cap.clone(), "*", pairs(fields))
                .await?;
        }
        Ok(pipeline
            .try_all::<String>()
            .await
            .into_iter()
            .map(|result| result.map_err(StreamsError::from))
            .collect())
    }

    fn cap(&self) -> Result<XCap, StreamsError> {
        Ok(XCap::try_from(("MAXLEN", "~", self.max_len as i64))?)
    }
}

fn pairs(fields: Fields) -> Vec<(String, String)> {
    fields.into_iter().collect()
}
