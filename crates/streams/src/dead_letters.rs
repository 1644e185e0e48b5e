//! Dead letters: the `<stream>:dlq` entry format and replay. A dead-letter entry is the original
//! entry's fields plus why and where it failed; replay strips those and appends the original again.

use fred::prelude::{StreamsInterface, TransactionInterface};
use fred::types::Value;
use fred::types::streams::XCap;

use crate::consumer::{RawEntry, reply};
use crate::{Fields, Redis, StreamsError, dead_letter_stream};

/// Fields a dead-letter entry adds to the original ones.
pub const DEAD_LETTER_FIELDS: [&str; 4] = ["group", "originalId", "deliveries", "error"];

/// Entries replayed per round trip.
const REPLAY_PAGE: u64 = 100;

/// The dead-letter copy of an entry.
pub(crate) fn dead_letter_fields(
    mut original: Fields,
    group: &str,
    id: &str,
    deliveries: u64,
    error: &str,
) -> Fields {
    original.push("group", group);
    original.push("originalId", id);
    original.push("deliveries", deliveries.to_string());
    original.push("error", error);
    original
}

/// Moves every entry of `<stream>:dlq` back onto `stream` (as a new entry, so every group of the
/// stream sees it again; handlers are idempotent) and deletes it from the dead-letter stream. Each
/// move is one transaction. Returns how many entries were replayed.
pub async fn replay_dead_letters(
    redis: &Redis,
    stream: &str,
    max_len: u64,
) -> Result<u64, StreamsError> {
    let dlq = dead_letter_stream(stream);
    let cap = || XCap::try_from(("MAXLEN", "~", max_len as i64));
    let mut replayed = 0;
    loop {
        let raw: Value = redis
            .pool()
            .xrange(dlq.as_str(), "-", "+", Some(REPLAY_PAGE))
            .await?;
        let page = reply::entries("XRANGE", raw)?;
        if page.is_empty() {
            return Ok(replayed);
        }
        for RawEntry { id, fields } in page {
            let original: Vec<(String, String)> = fields
                .unwrap_or_default()
                .without(&DEAD_LETTER_FIELDS)
                .into_iter()
                .collect();
            let trx = redis.pool().next().multi();
            if !original.is_empty() {
                let () = trx.xadd(stream, false, cap()?, "*", original).await?;
            }
            let () = trx.xdel(dlq.as_str(), id.as_str()).await?;
            let _: Value = trx.exec(true).await?;
            replayed += 1;
        }
    }
}
