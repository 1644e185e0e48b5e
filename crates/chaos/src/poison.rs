//! Poison: malformed entries written straight onto a stream, past every producer's encoder. Each
//! one must end in that stream's dead-letter stream, once per consumer group, without stalling the
//! group for the entries behind it.
//!
//! Every variant is undecodable on its own merits, whatever a consumer does with bytes that are
//! not UTF-8 (reject, replace, escape): a required field is missing or invalid in every one, so
//! no fix can turn poison into a legitimate event (a payment for an order that does not exist).

use serde::Serialize;

/// One poison entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoisonEntry {
    pub variant: &'static str,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A poison entry as written (or not).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectedPoison {
    /// The full stream name.
    pub stream: String,
    pub variant: &'static str,
    /// The entry's id, when the `XADD` succeeded.
    pub id: Option<String>,
    pub error: Option<String>,
    /// Milliseconds from the start of the traffic.
    pub at_ms: u64,
    /// How many bytes of field names and values it carried.
    pub bytes: usize,
}

/// The size of the huge values: about 1 MiB.
pub const HUGE: usize = 1 << 20;

/// Bytes that are not UTF-8 in any position (a lone continuation byte, an invalid lead byte).
const NOT_UTF8: &[u8] = &[0xff, 0xfe, 0x80, b'x', 0xc0];

fn field(name: &[u8], value: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (name.to_vec(), value.to_vec())
}

/// The well-formed fields of the stream's own event type (short name: `orders`, `payments`,
/// `identity`), each variant then breaks one thing.
fn valid_fields(stream: &str, tag: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let id = format!("chaos-poison-{tag}");
    let at = b"2026-01-01T00:00:00.000Z";
    match stream {
        "orders" => vec![
            field(b"type", b"OrderCreated"),
            field(b"orderId", id.as_bytes()),
            field(b"orderAmount", b"10.00"),
            field(b"userId", b"chaos-poison-user"),
            field(
                b"products",
                br#"[{"productId":"p-0001","qty":1,"productPrice":"10.00"}]"#,
            ),
            field(b"createdAt", at),
        ],
        "payments" => vec![
            field(b"type", b"PaymentProcessed"),
            field(b"orderId", id.as_bytes()),
            field(b"paymentId", format!("{id}-pay").as_bytes()),
            field(b"orderStatusCode", b"3"),
            field(b"paidAmount", b"10.00"),
            field(b"userId", b"chaos-poison-user"),
            field(b"createdAt", at),
        ],
        _ => vec![
            field(b"type", b"UserLoggedIn"),
            field(b"userId", b"chaos-poison-user"),
            field(b"sessionId", id.as_bytes()),
            field(b"ipAddress", b"127.0.0.1"),
            field(b"browserAgent", b"chaos"),
            field(b"createdAt", at),
        ],
    }
}

/// The event type a stream carries, and another one (for the wrong-type variant).
fn types(stream: &str) -> (&'static [u8], &'static [u8]) {
    match stream {
        "orders" => (b"OrderCreated", b"PaymentProcessed"),
        "payments" => (b"PaymentProcessed", b"OrderCreated"),
        _ => (b"UserLoggedIn", b"OrderCreated"),
    }
}

/// The first required field after `type`, whose value the non-UTF-8 variant breaks.
fn key_field(stream: &str) -> &'static [u8] {
    match stream {
        "orders" | "payments" => b"orderId",
        _ => b"userId",
    }
}

/// The field the mistyped variant gives a value of the wrong type.
fn mistyped(stream: &str) -> (&'static [u8], &'static [u8]) {
    match stream {
        "orders" => (b"orderAmount", b"abc"),
        "payments" => (b"orderStatusCode", b"abc"),
        _ => (b"createdAt", b"yesterday"),
    }
}

fn replace(fields: &mut [(Vec<u8>, Vec<u8>)], name: &[u8], value: Vec<u8>) {
    if let Some(slot) = fields.iter_mut().find(|(n, _)| n.as_slice() == name) {
        slot.1 = value;
    }
}

/// The poison for one stream (short name), `run` making the ids of this injection unique.
pub fn entries_for(stream: &str, run: &str) -> Vec<PoisonEntry> {
    let (own_type, other_type) = types(stream);
    let key = key_field(stream);
    let tag = |variant: &str| format!("{run}-{variant}");
    let mut out = Vec::new();

    // A value that is not UTF-8, in a required field.
    let mut fields = valid_fields(stream, &tag("bytes"));
    replace(&mut fields, key, NOT_UTF8.to_vec());
    out.push(PoisonEntry {
        variant: "non-utf8-value",
        fields,
    });

    // A field *name* that is not UTF-8, standing in for a required field (which is then missing).
    let mut fields = valid_fields(stream, &tag("name"));
    if let Some(slot) = fields.iter_mut().find(|(n, _)| n.as_slice() == key) {
        let mut name = NOT_UTF8.to_vec();
        name.extend_from_slice(key);
        slot.0 = name;
    }
    out.push(PoisonEntry {
        variant: "non-utf8-field-name",
        fields,
    });

    // Only the type and one more field: everything else missing.
    let fields = valid_fields(stream, &tag("missing"));
    out.push(PoisonEntry {
        variant: "missing-fields",
        fields: fields.into_iter().take(2).collect(),
    });

    // A number that is not one.
    let mut fields = valid_fields(stream, &tag("mistyped"));
    let (name, value) = mistyped(stream);
    replace(&mut fields, name, value.to_vec());
    out.push(PoisonEntry {
        variant: "mistyped-field",
        fields,
    });

    // Another stream's event type.
    let mut fields = valid_fields(stream, &tag("type"));
    replace(&mut fields, b"type", other_type.to_vec());
    out.push(PoisonEntry {
        variant: "wrong-type",
        fields,
    });

    // A ~1 MiB value where a timestamp belongs.
    let mut fields = valid_fields(stream, &tag("huge"));
    replace(&mut fields, b"createdAt", vec![b'9'; HUGE]);
    out.push(PoisonEntry {
        variant: "huge-value",
        fields,
    });

    // One field, not even `type`.
    out.push(PoisonEntry {
        variant: "single-field",
        fields: vec![field(b"chaos", tag("single").as_bytes())],
    });

    // The right type and nothing else.
    out.push(PoisonEntry {
        variant: "type-only",
        fields: vec![field(b"type", own_type)],
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::STREAMS;

    #[test]
    fn every_stream_gets_every_variant_and_each_breaks_something_required() {
        for stream in STREAMS {
            let entries = entries_for(stream, "r1");
            let variants: Vec<&str> = entries.iter().map(|e| e.variant).collect();

            assert_eq!(variants.len(), 8);
            for entry in &entries {
                assert!(!entry.fields.is_empty(), "{stream}/{}", entry.variant);
                let value = |name: &[u8]| {
                    entry
                        .fields
                        .iter()
                        .find(|(n, _)| n.as_slice() == name)
                        .map(|(_, v)| v.clone())
                };
                let broken = match entry.variant {
                    "non-utf8-value" => {
                        value(key_field(stream)).is_some_and(|v| std::str::from_utf8(&v).is_err())
                    }
                    "non-utf8-field-name" => value(key_field(stream)).is_none(),
                    "mistyped-field" => {
                        value(mistyped(stream).0).is_some_and(|v| v == mistyped(stream).1)
                    }
                    "wrong-type" => value(b"type").is_some_and(|t| t != types(stream).0),
                    "huge-value" => value(b"createdAt").is_some_and(|v| v.len() == HUGE),
                    "missing-fields" | "type-only" | "single-field" => entry.fields.len() <= 2,
                    other => panic!("unknown variant {other}"),
                };
                assert!(broken, "{stream}/{}", entry.variant);
            }
        }
    }

    #[test]
    fn ids_differ_between_injections() {
        let a = entries_for("orders", "r1");
        let b = entries_for("orders", "r2");
        assert_ne!(a[3].fields, b[3].fields);
    }
}
