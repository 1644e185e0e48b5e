//! Browsing a dead-letter stream (`<stream>:dlq`) page by page: each entry's failing group, error
//! and delivery count, apart from the original entry's own fields.

use std::collections::BTreeMap;

use fred::prelude::StreamsInterface;
use serde::Serialize;
use shop_streams::{DEAD_LETTER_FIELDS, Redis, dead_letter_stream};
use utoipa::ToSchema;

use crate::error::{ApiError, Result};

/// The largest page a caller may ask for.
pub const MAX_PAGE: u64 = 100;

/// A page of dead letters, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterPage {
    /// The dead-letter stream's key.
    #[schema(example = "ORDERS_STREAM:dlq")]
    pub stream: String,
    /// Entries in it now.
    pub total: u64,
    pub items: Vec<DeadLetter>,
    /// Pass as `after` for the next page; `null` on the last one.
    pub next: Option<String>,
}

/// One dead letter.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Its id in the dead-letter stream.
    pub id: String,
    /// The consumer group that gave up on it.
    pub group: Option<String>,
    /// The id it had in the original stream.
    pub original_id: Option<String>,
    pub deliveries: Option<u64>,
    pub error: Option<String>,
    /// The original entry's fields (`type`, `orderId`, ...), as they were.
    pub fields: BTreeMap<String, String>,
}

/// `limit` entries of `stream`'s dead letters after `after` (exclusive; `None`: from the oldest).
pub async fn page(
    redis: &Redis,
    stream: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<DeadLetterPage> {
    let dlq = dead_letter_stream(stream);
    let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
    // One more than asked tells whether a next page exists without a second round trip.
    let read = redis
        .pool()
        .xrange_values::<String, String, String, _, _, _>(
            dlq.as_str(),
            start.as_str(),
            "+",
            Some(limit + 1),
        );
    let total = redis.pool().xlen::<u64, _>(dlq.as_str());
    let (mut entries, total) = futures::try_join!(read, total)
        .map_err(|error| ApiError::RedisUnavailable(error.to_string()))?;
    let more = entries.len() as u64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let items: Vec<DeadLetter> = entries
        .into_iter()
        .map(|(id, fields)| dead_letter(id, fields))
        .collect();
    let next = more
        .then(|| items.last().map(|item| item.id.clone()))
        .flatten();
    Ok(DeadLetterPage {
        stream: dlq,
        total,
        items,
        next,
    })
}

pub fn dead_letter(id: String, fields: impl IntoIterator<Item = (String, String)>) -> DeadLetter {
    let mut original: BTreeMap<String, String> = fields.into_iter().collect();
    let group = original.remove(DEAD_LETTER_FIELDS[0]);
    let original_id = original.remove(DEAD_LETTER_FIELDS[1]);
    let deliveries = original
        .remove(DEAD_LETTER_FIELDS[2])
        .and_then(|n| n.parse().ok());
    let error = original.remove(DEAD_LETTER_FIELDS[3]);
    DeadLetter {
        id,
        group,
        original_id,
        deliveries,
        error,
        fields: original,
    }
}
