//! Parsing of raw stream replies. Done by hand on `Value` because the shapes differ between
//! RESP2 and RESP3 and because entries deleted from the stream come back as `nil` field lists,
//! which typed conversions reject.

use fred::types::Value;

use crate::{Fields, StreamsError};

/// An entry as read: `fields` is `None` when the entry was trimmed or deleted while pending.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    pub id: String,
    pub fields: Option<Fields>,
}

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

/// `[[id, [field, value, ...] | nil], ...]`
pub(crate) fn entries(command: &'static str, value: Value) -> Result<Vec<RawEntry>, StreamsError> {
    array(command, value)?
        .into_iter()
        .map(|entry| {
            let mut parts = array(command, entry)?.into_iter();
            let id = string(command, parts.next().unwrap_or(Value::Null))?;
            let fields = match parts.next().unwrap_or(Value::Null) {
                Value::Null => None,
                raw => {
                    let flat = array(command, raw)?;
                    let mut fields = Fields::new();
                    let mut it = flat.into_iter();
                    while let (Some(name), Some(value)) = (it.next(), it.next()) {
                        fields.push(string(command, name)?, string(command, value)?);
                    }
                    Some(fields)
                }
            };
            Ok(RawEntry { id, fields })
        })
        .collect()
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
                array(CMD, pair).map(|mut kv| {
                    if kv.len() == 2 {
                        kv.swap_remove(1)
                    } else {
                        Value::Null
                    }
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let mut out = Vec::new();
    for stream_entries in per_stream {
        out.extend(entries(CMD, stream_entries)?);
    }
    Ok(out)
}

/// `XAUTOCLAIM`: `[next-cursor, entries, deleted-ids]` (Redis 7).
pub(crate) fn auto_claim(value: Value) -> Result<(String, Vec<RawEntry>, usize), StreamsError> {
    const CMD: &str = "XAUTOCLAIM";
    let mut parts = array(CMD, value)?.into_iter();
    let cursor = string(CMD, parts.next().unwrap_or(Value::Null))?;
    let claimed = entries(CMD, parts.next().unwrap_or(Value::Null))?;
    let deleted = array(CMD, parts.next().unwrap_or(Value::Null))?.len();
    Ok((cursor, claimed, deleted))
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
