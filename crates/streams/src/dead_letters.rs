//! Dead letters: the `<stream>:dlq` entry format and replay. A dead-letter entry is the original
//! entry's fields plus why and where it failed; replay strips those and appends the original again.

use std::collections::HashSet;

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

/// Moves the entries of `<stream>:dlq` back onto `stream` (as new entries, so every group of the
/// stream sees them again; handlers are idempotent) and deletes them from the dead-letter stream.
/// Returns how many entries were re-published.
///
/// Two things keep a replay bounded:
/// - it replays only what was dead-lettered **before it started** (up to the last id it sees
///   first): an entry that fails again while the replay runs is dead-lettered anew and waits for
///   the next replay, instead of being picked up again and again;
/// - every group that reads the stream dead-letters its own copy of a poison entry; those copies
///   share an `originalId`, and only the first is re-published (the others are just deleted), so a
///   replay does not multiply entries by the number of groups.
///
/// Each move is one transaction (`XADD` + `XDEL`), so a replay cut short loses nothing.
pub async fn replay_dead_letters(
    redis: &Redis,
    stream: &str,
    max_len: u64,
) -> Result<u64, StreamsError> {
    let dlq = dead_letter_stream(stream);
    let cap = || XCap::try_from(("MAXLEN", "~", max_len as i64));
    let last: Value = redis
        .pool()
        .xrevrange(dlq.as_str(), "+", "-", Some(1))
        .await?;
    let Some(last) = reply::entries("XREVRANGE", last)?
        .pop()
        .map(|entry| entry.id)
    else {
        return Ok(0);
    };
    let mut originals = HashSet::new();
    let mut replayed = 0;
    loop {
        // Replayed entries are deleted, so each page starts at the (new) head of the DLQ.
        let raw: Value = redis
            .pool()
            .xrange(dlq.as_str(), "-", last.as_str(), Some(REPLAY_PAGE))
            .await?;
        let page = reply::entries("XRANGE", raw)?;
        if page.is_empty() {
            return Ok(replayed);
        }
        for RawEntry { id, fields } in page {
            let fields = fields.unwrap_or_default();
            let first_copy = fields
                .get("originalId")
                .is_none_or(|original| originals.insert(original.to_owned()));
            let original: Vec<(String, String)> =
                fields.without(&DEAD_LETTER_FIELDS).into_iter().collect();
            let trx = redis.pool().next().multi();
            if first_copy && !original.is_empty() {
                let () = trx.xadd(stream, false, cap()?, "*", original).await?;
                replayed += 1;
            }
            let () = trx.xdel(dlq.as_str(), id.as_str()).await?;
            let _: Value = trx.exec(true).await?;
        }
    }
}
