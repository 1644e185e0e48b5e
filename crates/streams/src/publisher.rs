//! Publishing: `XADD` with an approximate `MAXLEN` cap, one at a time or pipelined in batches.

use fred::prelude::StreamsInterface;
use fred::types::streams::XCap;

use crate::{Event, Fields, Redis, StreamsError};

/// Entries kept per stream by default: enough to replay a demo's history, small enough for a laptop.
pub const DEFAULT_MAX_LEN: u64 = 1_000_000;

/// Pipelined batches are cut at this size so one huge batch cannot build an unbounded buffer.
const PIPELINE_CHUNK: usize = 1_000;

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
    pub async fn publish_batch<'a, E, I>(
        &self,
        stream: &str,
        events: I,
    ) -> Result<Vec<String>, StreamsError>
    where
        E: Event,
        I: IntoIterator<Item = &'a E>,
    {
        let mut ids = Vec::new();
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            let pipeline = self.redis.pool().next().pipeline();
            for event in events.by_ref().take(PIPELINE_CHUNK) {
                let () = pipeline
                    .xadd(stream, false, self.cap()?, "*", pairs(event.to_fields()))
                    .await?;
            }
            let chunk: Vec<String> = pipeline.all().await?;
            ids.extend(chunk);
        }
        Ok(ids)
    }

    fn cap(&self) -> Result<XCap, StreamsError> {
        Ok(XCap::try_from(("MAXLEN", "~", self.max_len as i64))?)
    }
}

fn pairs(fields: Fields) -> Vec<(String, String)> {
    fields.into_iter().collect()
}
