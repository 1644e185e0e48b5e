//! Dead letters: the `<stream>:dlq` entry format, the write that moves an entry there, and replay.
//! A dead-letter entry is the original entry's fields plus why and where it failed; replay strips
//! those and appends the original again.
//!
//! Both moves are Lua scripts, not `MULTI` blocks. A transaction does not roll back: when its `XADD`
//! fails (a wrong type at the key, out of memory, a value over a configured limit) its `XACK` or
//! `XDEL` still applies, and the entry is gone from both places. A script stops at its first error,
//! so the entry is only acknowledged (or deleted from the DLQ) once its copy is written. Both keys
//! are the script's `KEYS`, so on a cluster it works when a stream and its DLQ share a hash slot
//! (a `{tag}` in the stream name).

use std::collections::HashSet;

use fred::prelude::{LuaInterface, StreamsInterface};
use fred::types::Value;

use crate::consumer::reply;
use crate::{Fields, Redis, StreamsError, dead_letter_stream};

/// Fields a dead-letter entry adds to the original ones.
pub const DEAD_LETTER_FIELDS: [&str; 4] = ["group", "originalId", "deliveries", "error"];

/// Entries replayed per round trip.
const REPLAY_PAGE: u64 = 100;

/// Original fields kept in a dead-letter copy. Redis' Lua passes a command at most ~8,000
/// arguments (`unpack`'s stack limit); an entry with more fields would fail its dead-lettering
/// forever, so the copy keeps the first ones and says so.
const MAX_COPIED_FIELDS: usize = 1_000;

/// `KEYS[1]` stream, `KEYS[2]` its DLQ; `ARGV[1]` group, `ARGV[2]` entry id (`''`: nothing to
/// acknowledge), `ARGV[3]` DLQ cap, then the copy's names and values. `XADD` first: if it fails,
/// the script ends there and the entry stays pending.
const DEAD_LETTER: &str = r"
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
if ARGV[2] == '' then
  return 0
end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
";

/// `KEYS[1]` stream, `KEYS[2]` its DLQ; `ARGV[1]` DLQ entry id, `ARGV[2]` stream cap, then the
/// original names and values (none: a copy already replayed, only deleted).
const REPLAY: &str = r"
if #ARGV > 2 then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
end
return redis.call('XDEL', KEYS[2], ARGV[1])
";

/// The dead-letter copy of an entry.
pub(crate) fn dead_letter_fields(
    original: Fields,
    group: &str,
    id: &str,
    deliveries: u64,
    error: &str,
) -> Fields {
    let kept = original.len().min(MAX_COPIED_FIELDS);
    let dropped = original.len() - kept;
    let mut copy: Fields = original.into_iter().take(kept).collect();
    copy.push("group", group);
    copy.push("originalId", id);
    copy.push("deliveries", deliveries.to_string());
    if dropped == 0 {
        copy.push("error", error);
    } else {
        copy.push(
            "error",
            format!("{error} (only the first {kept} fields are copied, {dropped} left out)"),
        );
    }
    copy
}

/// Appends `copy` to `<stream>:dlq` (capped at about `max_len`), then acknowledges `id` for `group`
/// (unless `id` is empty); nothing is acknowledged when the copy cannot be written.
pub(crate) async fn write_dead_letter(
    redis: &Redis,
    stream: &str,
    group: &str,
    id: &str,
    copy: Fields,
    max_len: u64,
) -> Result<(), StreamsError> {
    let mut args = vec![group.to_owned(), id.to_owned(), max_len.to_string()];
    args.extend(copy.into_iter().flat_map(|(name, value)| [name, value]));
    // `EVAL`, not `EVALSHA`: dead letters are rare and a few hundred bytes more per call spare the
    // `NOSCRIPT` dance after a restart or failover empties the script cache.
    let _: Value = redis
        .pool()
        .eval(
            DEAD_LETTER,
            vec![stream.to_owned(), dead_letter_stream(stream)],
            args,
        )
        .await?;
    Ok(())
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
/// Each move is one script (`XADD`, then `XDEL` only if it succeeded), so a replay cut short or
/// failing loses nothing.
pub async fn replay_dead_letters(
    redis: &Redis,
    stream: &str,
    max_len: u64,
) -> Result<u64, StreamsError> {
    let dlq = dead_letter_stream(stream);
    let last: Value = redis
        .pool()
        .xrevrange(dlq.as_str(), "+", "-", Some(1))
        .await?;
    let Some(last) = reply::entries("XREVRANGE", last)?
        .pop()
        .map(|entry| entry.id)
        .filter(|id| !id.is_empty())
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
        for entry in page {
            let id = entry.id.clone();
            if id.is_empty() {
                // Not an entry Redis would send: nothing to delete it by, and re-reading the page
                // would meet it again.
                return Err(StreamsError::Reply {
                    command: "XRANGE",
                    detail: "a dead letter without a usable id".to_owned(),
                });
            }
            let fields = entry.into_fields();
            let first_copy = fields
                .get("originalId")
                .is_none_or(|original| originals.insert(original.to_owned()));
            let original = fields.without(&DEAD_LETTER_FIELDS);
            let mut args = vec![id, max_len.to_string()];
            if first_copy && !original.is_empty() {
                args.extend(original.into_iter().flat_map(|(name, value)| [name, value]));
                replayed += 1;
            }
            let _: Value = redis
                .pool()
                .eval(REPLAY, vec![stream.to_owned(), dlq.clone()], args)
                .await?;
        }
    }
}
