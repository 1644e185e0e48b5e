//! One stream entry parsed from the raw reply bytes, on its own: whatever is wrong with one entry
//! (bytes that are not UTF-8, a field list of the wrong shape, an element that is not an entry at
//! all) makes that entry unreadable and leaves the others in the reply untouched.
//!
//! An unreadable entry keeps a text copy of what it held, for its dead-letter copy: text stays
//! as it is, bytes that are not UTF-8 become `base64:` followed by their standard base64 (so an
//! operator can recover them exactly), and a value that is not a string at all becomes a
//! placeholder such as `<Array>`. The entry's `error` names each re-encoded part.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use fred::types::Value;

use crate::Fields;

/// Reasons kept per entry: enough to say what is wrong, bounded however broken the entry is.
const MAX_REASONS: usize = 3;

/// An entry as read from a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    /// The entry id; empty when the reply did not carry a well-formed one (then there is nothing to
    /// acknowledge, nor any way to ask Redis about the entry).
    pub id: String,
    pub body: Body,
}

/// What an entry of a reply holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// UTF-8 names and values, in pairs.
    Fields(Fields),
    /// A `nil` field list: the entry was deleted (`XDEL`) or trimmed (`MAXLEN`) while pending.
    Deleted,
    /// Not readable as text fields; `fields` is the text copy described in the module docs.
    Unreadable { fields: Fields, reason: String },
}

impl RawEntry {
    /// The fields, whatever their state: the text copy of an unreadable entry, none for a deleted one.
    pub(crate) fn into_fields(self) -> Fields {
        match self.body {
            Body::Fields(fields) | Body::Unreadable { fields, .. } => fields,
            Body::Deleted => Fields::new(),
        }
    }
}

/// `<milliseconds>-<sequence>`, the only shape Redis gives entry ids. Anything else can be neither
/// acknowledged nor used as a read cursor (Redis rejects the whole command).
pub(crate) fn is_stream_id(id: &str) -> bool {
    let Some((ms, seq)) = id.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    digits(ms) && digits(seq)
}

/// `[id, [name, value, ...] | nil]`, or anything else (which makes an unreadable entry).
pub(crate) fn parse(value: Value) -> RawEntry {
    let mut reasons = Reasons::default();
    let mut parts = match value {
        Value::Array(parts) => parts.into_iter(),
        other => {
            reasons.add(format!(
                "the entry is {} instead of [id, fields]",
                other.kind()
            ));
            return RawEntry {
                id: String::new(),
                body: reasons.into_unreadable(Fields::new()),
            };
        }
    };
    let id = match parts.next().map(text) {
        Some(Ok(id)) if is_stream_id(&id) => id,
        Some(Ok(id)) | Some(Err(id)) => {
            reasons.add(format!("the entry id {id:?} is not a stream id"));
            String::new()
        }
        None => {
            reasons.add("the entry is empty".to_owned());
            String::new()
        }
    };
    // Later elements (a newer Redis may add some) are not ours to judge.
    let fields = match parts.next() {
        Some(Value::Null) if reasons.is_empty() => {
            return RawEntry {
                id,
                body: Body::Deleted,
            };
        }
        Some(Value::Null) => Fields::new(),
        Some(Value::Array(flat)) => field_list(flat, &mut reasons),
        Some(other) => {
            reasons.add(format!(
                "the field list is {} instead of an array",
                other.kind()
            ));
            Fields::new()
        }
        None => {
            reasons.add("the entry has no field list".to_owned());
            Fields::new()
        }
    };
    let body = if reasons.is_empty() {
        Body::Fields(fields)
    } else {
        reasons.into_unreadable(fields)
    };
    RawEntry { id, body }
}

fn field_list(flat: Vec<Value>, reasons: &mut Reasons) -> Fields {
    if flat.is_empty() {
        reasons.add("the field list is empty".to_owned());
    }
    if flat.len() % 2 == 1 {
        reasons.add(format!(
            "the field list has {} items, not name/value pairs",
            flat.len()
        ));
    }
    let mut fields = Fields::new();
    let mut items = flat.into_iter();
    let mut position = 0;
    while let Some(name) = items.next() {
        position += 1;
        let name = text(name).unwrap_or_else(|copy| {
            reasons.add(format!(
                "field name #{position} is not UTF-8 text (kept as {})",
                kept_as(&copy)
            ));
            copy
        });
        let value = match items.next() {
            Some(value) => text(value).unwrap_or_else(|copy| {
                reasons.add(format!(
                    "the value of {name:?} is not UTF-8 text (kept as {})",
                    kept_as(&copy)
                ));
                copy
            }),
            None => String::new(),
        };
        fields.push(name, value);
    }
    fields
}

/// The text of a bulk string, or `Err` with its stand-in (see the module docs).
fn text(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        Value::Bytes(bytes) => match std::str::from_utf8(&bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(format!("base64:{}", BASE64.encode(&bytes))),
        },
        other => Err(format!("<{}>", other.kind())),
    }
}

fn kept_as(copy: &str) -> &'static str {
    if copy.starts_with("base64:") {
        "base64"
    } else {
        "a placeholder"
    }
}

/// What is wrong with one entry, for the `error` field of its dead-letter copy.
#[derive(Default)]
struct Reasons {
    first: Vec<String>,
    more: usize,
}

impl Reasons {
    fn add(&mut self, reason: String) {
        if self.first.len() < MAX_REASONS {
            self.first.push(reason);
        } else {
            self.more += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    fn into_unreadable(self, fields: Fields) -> Body {
        let mut reason = self.first.join("; ");
        if self.more > 0 {
            reason.push_str(&format!("; and {} more", self.more));
        }
        Body::Unreadable { fields, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fred::bytes::Bytes;

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn b(bytes: &[u8]) -> Value {
        Value::Bytes(Bytes::copy_from_slice(bytes))
    }

    fn entry(id: Value, fields: Value) -> Value {
        Value::Array(vec![id, fields])
    }

    fn unreadable(entry: &RawEntry) -> (&Fields, &str) {
        match &entry.body {
            Body::Unreadable { fields, reason } => (fields, reason.as_str()),
            other => panic!("expected an unreadable entry, got {other:?}"),
        }
    }

    #[test]
    fn text_fields_in_bytes_or_strings_are_read() {
        let parsed = parse(entry(
            s("1-0"),
            Value::Array(vec![b(b"n"), s("7"), s("type"), b(b"T")]),
        ));
        let mut expected = Fields::new();
        expected.push("n", "7");
        expected.push("type", "T");
        assert_eq!(
            parsed,
            RawEntry {
                id: "1-0".into(),
                body: Body::Fields(expected)
            }
        );
    }

    #[test]
    fn a_nil_field_list_is_a_deleted_entry() {
        let parsed = parse(entry(s("5-1"), Value::Null));
        assert_eq!(
            parsed,
            RawEntry {
                id: "5-1".into(),
                body: Body::Deleted
            }
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept_as_base64_and_named_in_the_reason() {
        let parsed = parse(entry(
            s("1-0"),
            Value::Array(vec![s("n"), b(&[0xff, 0xfe, b'x'])]),
        ));
        let (fields, reason) = unreadable(&parsed);
        assert_eq!(
            parsed.id, "1-0",
            "the id is kept, so the entry can be acknowledged"
        );
        assert_eq!(fields.get("n"), Some("base64://54"));
        assert!(
            reason.contains("\"n\"") && reason.contains("base64"),
            "{reason}"
        );

        let bad_name = parse(entry(s("1-0"), Value::Array(vec![b(&[0xc3]), s("v")])));
        assert_eq!(unreadable(&bad_name).0.get("base64:ww=="), Some("v"));
    }

    #[test]
    fn shapes_that_are_not_name_value_pairs_are_unreadable() {
        let odd = parse(entry(
            s("1-0"),
            Value::Array(vec![s("a"), s("1"), s("dangling")]),
        ));
        assert!(unreadable(&odd).1.contains("3 items"));
        assert_eq!(unreadable(&odd).0.get("dangling"), Some(""));

        let empty = parse(entry(s("1-0"), Value::Array(vec![])));
        assert!(unreadable(&empty).1.contains("empty"));

        let nested = parse(entry(
            s("1-0"),
            Value::Array(vec![s("a"), Value::Array(vec![])]),
        ));
        assert_eq!(unreadable(&nested).0.get("a"), Some("<Array>"));

        let not_a_list = parse(entry(s("1-0"), Value::Integer(3)));
        assert!(unreadable(&not_a_list).1.contains("Integer"));

        let no_list = parse(Value::Array(vec![s("1-0")]));
        assert!(unreadable(&no_list).1.contains("no field list"));
    }

    #[test]
    fn an_element_without_a_usable_id_is_unreadable_and_has_no_id() {
        for element in [
            s("not an entry"),
            Value::Array(vec![]),
            entry(b(&[0xff]), Value::Array(vec![s("a"), s("b")])),
            entry(s("12"), Value::Array(vec![s("a"), s("b")])),
            entry(Value::Integer(1), Value::Null),
        ] {
            let parsed = parse(element.clone());
            assert_eq!(parsed.id, "", "{element:?}");
            assert!(
                matches!(parsed.body, Body::Unreadable { .. }),
                "{element:?}"
            );
        }
    }

    #[test]
    fn reasons_are_bounded() {
        let many: Vec<Value> = (0..100).flat_map(|_| [b(&[0xff]), b(&[0xfe])]).collect();
        let parsed = parse(entry(s("1-0"), Value::Array(many)));
        let (fields, reason) = unreadable(&parsed);
        assert_eq!(fields.len(), 100, "every pair is kept");
        assert!(reason.ends_with("and 197 more"), "{reason}");
    }

    #[test]
    fn stream_ids_are_recognised() {
        assert!(is_stream_id("0-0"));
        assert!(is_stream_id("1718000000000-12"));
        for bad in ["", "-", "1-", "-1", "1", "a-1", "1-1-1", "1 -1", "+", "$"] {
            assert!(!is_stream_id(bad), "{bad}");
        }
    }
}
