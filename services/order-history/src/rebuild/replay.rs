//! Reading a whole stream with `XRANGE`, page by page, into one generation's facts. This is not the
//! consumer group: it reads every entry the stream still holds, whoever acknowledged it.

use fred::prelude::StreamsInterface;
use fred::types::Value;
use shop_streams::{Event, Fields, Redis, StreamsError};
use tokio::time::Instant;

use super::RebuildError;
use crate::facts::Fact;
use crate::store::Store;

/// Entries per `XRANGE` (and per unordered `insert_many`).
const PAGE: u64 = 500;

/// What replaying one stream did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Entries decoded and applied (a duplicate entry is applied as a no-op, and counts).
    pub events: u64,
    /// Entries that did not decode as the stream's event (the runner dead-letters those).
    pub skipped: u64,
}

impl std::ops::Add for Replayed {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            events: self.events + other.events,
            skipped: self.skipped + other.skipped,
        }
    }
}

/// Applies every entry of `stream` up to its current last entry (read first, so a busy stream
/// cannot keep the replay going forever) as an `F` into generation `generation`.
pub async fn replay<E, F>(
    redis: &Redis,
    store: &Store,
    stream: &str,
    generation: i64,
    deadline: Instant,
) -> Result<Replayed, RebuildError>
where
    E: Event,
    F: Fact + for<'a> From<&'a E>,
{
    let mut replayed = Replayed::default();
    let Some(end) = last_entry_id(redis, stream).await? else {
        return Ok(replayed);
    };
    let mut start = "-".to_owned();
    loop {
        if Instant::now() >= deadline {
            return Err(RebuildError::TimedOut);
        }
        let raw: Value = redis
            .pool()
            .xrange(stream, start.as_str(), end.as_str(), Some(PAGE))
            .await
            .map_err(StreamsError::from)?;
        let page = entries(raw)?;
        let Some(last) = page.last().map(|(id, _)| id.clone()) else {
            break;
        };
        let mut facts = Vec::with_capacity(page.len());
        for (id, fields) in &page {
            match E::from_fields(fields) {
                Ok(event) => facts.push(F::from(&event)),
                Err(error) => {
                    replayed.skipped += 1;
                    tracing::warn!(%stream, entry_id = %id, %error, "skipping an undecodable entry");
                }
            }
        }
        store.insert_all(generation, &facts).await?;
        replayed.events += facts.len() as u64;
        if last == end {
            break;
        }
        // Exclusive start (Redis 6.2+): the page after `last`.
        start = format!("({last}");
    }
    Ok(replayed)
}

/// The id of the stream's newest entry; `None` when the stream is empty or does not exist.
async fn last_entry_id(redis: &Redis, stream: &str) -> Result<Option<String>, StreamsError> {
    let raw: Value = redis.pool().xrevrange(stream, "+", "-", Some(1)).await?;
    Ok(entries(raw)?.into_iter().next().map(|(id, _)| id))
}

/// `[[id, [field, value, ...]], ...]`, parsed by hand so that a value that is not UTF-8 becomes an
/// undecodable entry (skipped) rather than a failed rebuild.
fn entries(raw: Value) -> Result<Vec<(String, Fields)>, StreamsError> {
    let unexpected = |detail: &str| StreamsError::Reply {
        command: "XRANGE",
        detail: detail.to_owned(),
    };
    if raw.is_null() {
        return Ok(Vec::new());
    }
    raw.into_array()
        .into_iter()
        .map(|entry| {
            let mut parts = entry.into_array().into_iter();
            let id = parts
                .next()
                .and_then(|id| id.as_string())
                .ok_or_else(|| unexpected("an entry without an id"))?;
            let flat = parts.next().map(Value::into_array).unwrap_or_default();
            let mut fields = Fields::new();
            let mut values = flat.iter().map(|v| v.as_str_lossy().unwrap_or_default());
            while let (Some(name), Some(value)) = (values.next(), values.next()) {
                fields.push(name, value);
            }
            Ok((id, fields))
        })
        .collect()
}
