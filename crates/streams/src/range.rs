//! Reading a stream outside any consumer group (`XRANGE`), page by page: for replays, rebuilds,
//! operations views and tests that look at what was published.

use fred::prelude::StreamsInterface;
use fred::types::Value;

use crate::consumer::reply;
use crate::{Fields, Redis, StreamsError};

/// Entries per `XRANGE` round trip.
const PAGE: u64 = 1_000;

/// One page of entries after `after` (exclusive; `None` = from the start), at most `count`, as
/// `(id, fields)`. An empty page means the end of the stream (or a stream that does not exist).
/// An entry that is not UTF-8 text comes back as the text copy a dead letter would keep (bytes as
/// `base64:...`, see the consumer's entry parsing) rather than failing the page.
pub async fn read_page(
    redis: &Redis,
    stream: &str,
    after: Option<&str>,
    count: u64,
) -> Result<Vec<(String, Fields)>, StreamsError> {
    let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
    let raw: Value = redis
        .pool()
        .xrange(stream, start.as_str(), "+", Some(count))
        .await?;
    Ok(reply::entries("XRANGE", raw)?
        .into_iter()
        // An element without an id is no entry to page on from (Redis never sends one).
        .filter(|entry| !entry.id.is_empty())
        .map(|entry| (entry.id.clone(), entry.into_fields()))
        .collect())
}

/// Every entry of `stream`, oldest first, read in pages so a long stream is not one huge reply.
pub async fn read_all(redis: &Redis, stream: &str) -> Result<Vec<(String, Fields)>, StreamsError> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map(|(id, _): &(String, Fields)| id.clone());
        let page = read_page(redis, stream, after.as_deref(), PAGE).await?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}
