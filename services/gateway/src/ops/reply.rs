//! Parsing the replies of `XINFO STREAM` and `XINFO GROUPS` by hand, on `Value`: their shape is a
//! flat `[name, value, ...]` array under RESP2 and a map under RESP3, and fred has no typed form
//! for either. A field this code does not know is ignored; a known one of the wrong type is an error.

use fred::types::Value;

use super::GroupReport;

/// What the report needs from `XINFO STREAM`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfo {
    pub length: u64,
    pub first_entry_id: Option<String>,
    pub last_entry_id: Option<String>,
}

/// A reply that is not what Redis documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected {command} reply: {detail}")]
pub struct ReplyError {
    pub command: &'static str,
    pub detail: String,
}

const STREAM: &str = "XINFO STREAM";
const GROUPS: &str = "XINFO GROUPS";

/// `XINFO STREAM key`: `length`, and the ids of `first-entry` / `last-entry` (`nil` when empty).
pub fn stream_info(value: Value) -> Result<StreamInfo, ReplyError> {
    let mut info = StreamInfo::default();
    for (name, value) in pairs(STREAM, value)? {
        match name.as_str() {
            "length" => info.length = integer(STREAM, &name, &value)?,
            "first-entry" => info.first_entry_id = entry_id(value)?,
            "last-entry" => info.last_entry_id = entry_id(value)?,
            _ => {}
        }
    }
    Ok(info)
}

/// `XINFO GROUPS key`: one report per group. `lag` is `nil` (kept as `None`) when Redis cannot
/// tell, after entries were deleted from the middle of the stream.
pub fn groups(value: Value) -> Result<Vec<GroupReport>, ReplyError> {
    array(GROUPS, value)?
        .into_iter()
        .map(|group| {
            let mut report = GroupReport::default();
            for (name, value) in pairs(GROUPS, group)? {
                match name.as_str() {
                    "name" => report.name = string(GROUPS, &name, value)?,
                    "consumers" => report.consumers = integer(GROUPS, &name, &value)?,
                    "pending" => report.pending = integer(GROUPS, &name, &value)?,
                    "last-delivered-id" => {
                        report.last_delivered_id = string(GROUPS, &name, value)?;
                    }
                    "lag" if value.is_null() => report.lag = None,
                    "lag" => report.lag = Some(integer(GROUPS, &name, &value)?),
                    _ => {}
                }
            }
            Ok(report)
        })
        .collect()
}

/// `MEMORY USAGE key`: bytes, `nil` for a missing key.
pub fn memory_usage(value: &Value) -> Result<u64, ReplyError> {
    if value.is_null() {
        return Ok(0);
    }
    integer("MEMORY USAGE", "reply", value)
}

/// Whether `error` is Redis saying the key does not exist (`XINFO` on a missing stream). Redis
/// answers that only with a message, so this reads the message.
pub fn is_missing_key(error: &fred::error::Error) -> bool {
    error.details().to_ascii_lowercase().contains("no such key")
}

fn unexpected(command: &'static str, detail: impl Into<String>) -> ReplyError {
    ReplyError {
        command,
        detail: detail.into(),
    }
}

fn array(command: &'static str, value: Value) -> Result<Vec<Value>, ReplyError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(unexpected(
            command,
            format!("expected an array, got {:?}", other.kind()),
        )),
    }
}

/// `[name, value, name, value, ...]` (RESP2) or `{name: value, ...}` (RESP3) as pairs.
fn pairs(command: &'static str, value: Value) -> Result<Vec<(String, Value)>, ReplyError> {
    if let Value::Map(map) = value {
        return map
            .inner()
            .into_iter()
            .map(|(key, value)| {
                let key = key
                    .as_str()
                    .ok_or_else(|| unexpected(command, "a field name that is not text"))?;
                Ok((key.to_owned(), value))
            })
            .collect();
    }
    let flat = array(command, value)?;
    if flat.len() % 2 != 0 {
        return Err(unexpected(command, "an odd number of name/value items"));
    }
    let mut items = flat.into_iter();
    let mut pairs = Vec::new();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        let name = name
            .as_string()
            .ok_or_else(|| unexpected(command, "a field name that is not text"))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn integer(command: &'static str, name: &str, value: &Value) -> Result<u64, ReplyError> {
    value
        .as_u64()
        .ok_or_else(|| unexpected(command, format!("{name} is not a count: {value:?}")))
}

fn string(command: &'static str, name: &str, value: Value) -> Result<String, ReplyError> {
    value
        .as_string()
        .ok_or_else(|| unexpected(command, format!("{name} is not text")))
}

/// An entry is `[id, [field, value, ...]]`, or `nil` when the stream is empty.
fn entry_id(value: Value) -> Result<Option<String>, ReplyError> {
    if value.is_null() {
        return Ok(None);
    }
    let id = array(STREAM, value)?
        .into_iter()
        .next()
        .and_then(|id| id.as_string())
        .ok_or_else(|| unexpected(STREAM, "an entry without an id"))?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::from(s)
    }

    fn int(n: i64) -> Value {
        Value::Integer(n)
    }

    fn entry(id: &str) -> Value {
        Value::Array(vec![
            text(id),
            Value::Array(vec![text("type"), text("OrderCreated")]),
        ])
    }

    /// `XINFO STREAM` of a Redis 7 stream with 3 entries, as RESP2 delivers it.
    fn resp2_stream() -> Value {
        Value::Array(vec![
            text("length"),
            int(3),
            text("radix-tree-keys"),
            int(1),
            text("last-generated-id"),
            text("3-0"),
            text("groups"),
            int(1),
            text("first-entry"),
            entry("1-0"),
            text("last-entry"),
            entry("3-0"),
        ])
    }

    #[test]
    fn a_resp2_stream_reply_gives_length_and_end_ids() {
        let info = stream_info(resp2_stream());

        assert_eq!(
            info,
            Ok(StreamInfo {
                length: 3,
                first_entry_id: Some("1-0".to_owned()),
                last_entry_id: Some("3-0".to_owned()),
            })
        );
    }

    #[test]
    fn an_empty_stream_has_no_end_ids() {
        let reply = Value::Array(vec![
            text("length"),
            int(0),
            text("first-entry"),
            Value::Null,
            text("last-entry"),
            Value::Null,
        ]);

        assert_eq!(stream_info(reply), Ok(StreamInfo::default()));
    }

    #[test]
    fn a_resp3_map_reply_reads_the_same_as_resp2() -> Result<(), fred::error::Error> {
        let map = fred::types::Map::try_from(vec![
            (text("length"), int(2)),
            (text("first-entry"), entry("5-0")),
            (text("last-entry"), entry("6-1")),
        ])?;

        let info = stream_info(Value::Map(map));

        assert_eq!(
            info.map(|i| (i.length, i.first_entry_id, i.last_entry_id)),
            Ok((2, Some("5-0".to_owned()), Some("6-1".to_owned())))
        );
        Ok(())
    }

    #[test]
    fn groups_report_consumers_pending_lag_and_last_delivered_id() {
        let group = |name: &str, lag: Value| {
            Value::Array(vec![
                text("name"),
                text(name),
                text("consumers"),
                int(2),
                text("pending"),
                int(1),
                text("last-delivered-id"),
                text("2-0"),
                text("entries-read"),
                int(2),
                text("lag"),
                lag,
            ])
        };
        let reply = Value::Array(vec![
            group("payments", int(3)),
            group("orders", Value::Null),
        ]);

        let groups = groups(reply);

        let expected = |name: &str, lag| GroupReport {
            name: name.to_owned(),
            consumers: 2,
            pending: 1,
            lag,
            last_delivered_id: "2-0".to_owned(),
        };
        assert_eq!(
            groups,
            Ok(vec![
                expected("payments", Some(3)),
                expected("orders", None)
            ])
        );
    }

    #[test]
    fn malformed_replies_are_errors_not_zeroes() {
        let odd = Value::Array(vec![text("length")]);
        let wrong_type = Value::Array(vec![text("length"), text("many")]);

        assert!(stream_info(odd).is_err());
        assert!(stream_info(wrong_type).is_err());
        assert!(stream_info(int(7)).is_err());
        assert!(groups(Value::Array(vec![int(1)])).is_err());
    }

    #[test]
    fn memory_usage_of_a_missing_key_is_zero() {
        assert_eq!(memory_usage(&Value::Null), Ok(0));
        assert_eq!(memory_usage(&int(1234)), Ok(1234));
    }
}
