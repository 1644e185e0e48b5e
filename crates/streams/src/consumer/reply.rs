//! Parsing of raw stream replies. Done by hand on `Value` because the shapes differ between
//! RESP2 and RESP3, because entries deleted from the stream come back as `nil` field lists, and
//! because one bad entry must not fail the reply it came in: the reply's frame is checked here,
//! each entry on its own in [`super::entry`].

use fred::types::Value;

use super::entry::{self, RawEntry, is_stream_id};
use crate::StreamsError;

fn unexpected(command: &'static str, detail: impl Into<String>) -> StreamsError {
    StreamsError::Reply {
        command,
        detail: detail.into(),
    }
}

fn string(command: &'static str, value: Value) -> Result<String, StreamsError> {
    value
        .as_string()
        .ok_or_else(|| unexpected(command, "expected a string"))
}

fn array(command: &'static str, value: Value) -> Result<Vec<Value>, StreamsError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(unexpected(
            command,
            format!("expected an array, got {:?}", other.kind()),
        )),
    }
}

/// `[[id, [field, value, ...] | nil], ...]`: only the list itself can fail; every element becomes
/// an entry, readable or not.
pub(crate) fn entries(command: &'static str, value: Value) -> Result<Vec<RawEntry>, StreamsError> {
    Ok(array(command, value)?
        .into_iter()
        .map(entry::parse)
        .collect())
}

/// `XREADGROUP` on one stream: `nil` on timeout, else `[[key, entries]]` (RESP2) or `{key: entries}` (RESP3).
pub(crate) fn read_group(value: Value) -> Result<Vec<RawEntry>, StreamsError> {
    const CMD: &str = "XREADGROUP";
    let per_stream = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Map(map) => map.inner().into_values().collect::<Vec<_>>(),
        other => array(CMD, other)?
            .into_iter()
            .map(|pair| {
                let mut key_and_entries = array(CMD, pair)?;
                if key_and_entries.len() == 2 {
                    Ok(key_and_entries.swap_remove(1))
                } else {
                    Err(unexpected(
                        CMD,
                        format!(
                            "a stream's reply has {} parts, not [key, entries]",
                            key_and_entries.len()
                        ),
                    ))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::new();
    for stream_entries in per_stream {
        out.extend(entries(CMD, stream_entries)?);
    }
    Ok(out)
}

/// What one `XAUTOCLAIM` call returned.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Claimed {
    /// Where the next call starts; `0-0` once the pending list has been walked.
    pub cursor: String,
    pub entries: Vec<RawEntry>,
    /// Pending ids whose entries were deleted from the stream (Redis 7 lists them apart; it has
    /// already removed them from the pending list).
    pub deleted: Vec<String>,
}

/// `XAUTOCLAIM`: `[next-cursor, entries, deleted-ids]` (Redis 7; Redis 6.2 has no third part and
/// returns deleted entries with `nil` fields among the others).
pub(crate) fn auto_claim(value: Value) -> Result<Claimed, StreamsError> {
    const CMD: &str = "XAUTOCLAIM";
    let mut parts = array(CMD, value)?.into_iter();
    let cursor = string(CMD, parts.next().unwrap_or(Value::Null))?;
    if !is_stream_id(&cursor) {
        return Err(unexpected(
            CMD,
            format!("the cursor {cursor:?} is not a stream id"),
        ));
    }
    let entries = entries(CMD, parts.next().unwrap_or(Value::Null))?;
    // An id that is not one cannot be acknowledged (it would fail the whole `XACK`), so it is left
    // out; Redis has dropped it from the pending list already.
    let deleted = array(CMD, parts.next().unwrap_or(Value::Null))?
        .into_iter()
        .filter_map(|id| id.as_string().filter(|id| is_stream_id(id)))
        .collect();
    Ok(Claimed {
        cursor,
        entries,
        deleted,
    })
}

/// `XPENDING key group start end count`: `[[id, consumer, idle-ms, deliveries], ...]`; returns the
/// delivery count of the first row.
pub(crate) fn delivery_count(value: Value) -> Result<Option<u64>, StreamsError> {
    const CMD: &str = "XPENDING";
    let Some(row) = array(CMD, value)?.into_iter().next() else {
        return Ok(None);
    };
    let count = array(CMD, row)?
        .into_iter()
        .nth(3)
        .and_then(|v| v.as_u64())
        .ok_or_else(|| unexpected(CMD, "row without a delivery count"))?;
    Ok(Some(count))
}

/// `XINFO GROUPS`: the `lag` and `pending` of one group. `lag` is `nil` when Redis cannot compute it.
pub(crate) fn group_info(
    value: Value,
    group: &str,
) -> Result<Option<(Option<u64>, u64)>, StreamsError> {
    const CMD: &str = "XINFO GROUPS";
    for raw in array(CMD, value)? {
        let pairs: Vec<(String, Value)> = match raw {
            Value::Map(map) => map
                .inner()
                .into_iter()
                .map(|(k, v)| (k.as_str().map(|s| s.to_string()).unwrap_or_default(), v))
                .collect(),
            other => {
                let flat = array(CMD, other)?;
                let mut it = flat.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k.as_string().unwrap_or_default(), v));
                }
                pairs
            }
        };
        let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        if field("name").and_then(|v| v.as_string()).as_deref() == Some(group) {
            let lag = field("lag").and_then(|v| v.as_u64());
            let pending = field("pending").and_then(|v| v.as_u64()).unwrap_or(0);
            return Ok(Some((lag, pending)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::entry::Body;
    use fred::bytes::Bytes;

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn good(id: &str) -> Value {
        Value::Array(vec![s(id), Value::Array(vec![s("n"), s("1")])])
    }

    fn poison(id: &str) -> Value {
        let bad = Value::Bytes(Bytes::from_static(&[0xff]));
        Value::Array(vec![s(id), Value::Array(vec![s("n"), bad])])
    }

    #[test]
    fn one_bad_entry_in_a_read_leaves_the_others_readable() {
        let reply = Value::Array(vec![Value::Array(vec![
            s("S"),
            Value::Array(vec![good("1-0"), poison("2-0"), s("junk"), good("3-0")]),
        ])]);

        let entries = read_group(reply).expect("the reply's frame is fine");

        let kinds: Vec<(&str, bool)> = entries
            .iter()
            .map(|e| (e.id.as_str(), matches!(e.body, Body::Fields(_))))
            .collect();
        assert_eq!(
            kinds,
            [("1-0", true), ("2-0", false), ("", false), ("3-0", true)]
        );
    }

    #[test]
    fn a_claim_reports_deleted_ids_and_keeps_bad_entries_apart() {
        let reply = Value::Array(vec![
            s("0-0"),
            Value::Array(vec![poison("1-0"), good("2-0")]),
            Value::Array(vec![s("3-0"), s("not an id")]),
        ]);

        let claimed = auto_claim(reply).expect("the reply's frame is fine");

        assert_eq!(claimed.cursor, "0-0");
        assert_eq!(claimed.entries.len(), 2);
        assert_eq!(claimed.deleted, ["3-0"]);
    }

    #[test]
    fn a_redis_6_claim_without_deleted_ids_is_read() {
        let reply = Value::Array(vec![s("7-0"), Value::Array(vec![good("2-0")])]);
        let claimed = auto_claim(reply).expect("parses");
        assert_eq!(claimed.cursor, "7-0");
        assert!(claimed.deleted.is_empty());
    }

    #[test]
    fn a_reply_whose_frame_is_wrong_is_an_error() {
        assert!(read_group(Value::Integer(1)).is_err());
        assert!(read_group(Value::Array(vec![Value::Array(vec![s("S")])])).is_err());
        assert!(auto_claim(Value::Array(vec![s("nope"), Value::Array(vec![])])).is_err());
        assert_eq!(read_group(Value::Null).map(|e| e.len()).ok(), Some(0));
    }
}
