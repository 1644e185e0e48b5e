//! Property tests of the decoding path, from reply values to typed events: whatever Redis (or a
//! producer) hands over, parsing never panics, and anything that is not a readable event comes
//! out as a value the runner dead-letters (an unreadable entry or a [`DecodeError`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use fred::bytes::Bytes;
use fred::types::Value;
use proptest::collection::vec;
use proptest::prelude::*;
use shop_domain::events::{OrderCreated, PaymentProcessed, UserLoggedIn};

use crate::consumer::entry::{self, Body};
use crate::consumer::reply;
use crate::{DecodeError, Event, Fields, REANNOUNCED_FIELD, TRACEPARENT_FIELD};

/// Any reply value, nested a few levels deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        vec(any::<u8>(), 0..24).prop_map(|b| Value::Bytes(Bytes::from(b))),
        any::<String>().prop_map(|s| Value::String(s.into())),
        "[0-9]{1,4}-[0-9]{1,3}".prop_map(|s| Value::String(s.into())),
        any::<i64>().prop_map(Value::Integer),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| vec(inner, 0..8).prop_map(Value::Array))
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(Bytes::copy_from_slice(b))
}

/// Names the shop's events read, so arbitrary lists often get past the first missing field.
const KNOWN: [&str; 14] = [
    "type",
    "orderId",
    "orderAmount",
    "userId",
    "products",
    "createdAt",
    "paymentId",
    "orderStatusCode",
    "paidAmount",
    "reason",
    "sessionId",
    "ipAddress",
    "browserAgent",
    REANNOUNCED_FIELD,
];

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(KNOWN.to_vec()).prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::sample::select(vec![
            "OrderCreated",
            "PaymentProcessed",
            "UserLoggedIn",
            "3",
            "-3",
            "229.85",
            "-1",
            "1e9",
            "2026-11-25T10:00:00.123Z",
            "[]",
            r#"[{"productId":"p1","qty":0,"productPrice":"x"}]"#,
            r#"[{"productId":"p1","qty":2,"productPrice":"99.99"}]"#,
            "",
        ])
        .prop_map(str::to_owned),
    ]
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// A valid entry of each event, as a producer writes it.
fn valid_entries() -> [Fields; 3] {
    [
        fields(&[
            ("type", "OrderCreated"),
            ("orderId", "01JDORDER"),
            ("orderAmount", "229.85"),
            ("userId", "u1"),
            (
                "products",
                r#"[{"productId":"p1","qty":2,"productPrice":"99.99"}]"#,
            ),
            ("createdAt", "2026-11-25T10:00:00.123Z"),
        ]),
        fields(&[
            ("type", "PaymentProcessed"),
            ("orderId", "o1"),
            ("paymentId", "pay1"),
            ("orderStatusCode", "3"),
            ("paidAmount", "10.00"),
            ("userId", "u1"),
            ("createdAt", "2026-11-25T10:00:00.123Z"),
        ]),
        fields(&[
            ("type", "UserLoggedIn"),
            ("userId", "u1"),
            ("sessionId", "s1"),
            ("ipAddress", "127.0.0.1"),
            ("browserAgent", "curl"),
            ("createdAt", "2026-11-25T10:00:00.123Z"),
        ]),
    ]
}

/// Decodes with every event type; what the runner does with the result is all that matters.
fn decode_all(fields: &Fields) -> [Result<(), DecodeError>; 3] {
    [
        OrderCreated::from_fields(fields).map(drop),
        PaymentProcessed::from_fields(fields).map(drop),
        UserLoggedIn::from_fields(fields).map(drop),
    ]
}

proptest! {
    #[test]
    fn parsing_any_reply_value_never_panics_and_only_well_formed_entries_have_fields(value in any_value()) {
        let parsed = entry::parse(value.clone());
        if let Body::Fields(fields) = &parsed.body {
            prop_assert!(entry::is_stream_id(&parsed.id));
            prop_assert!(!fields.is_empty());
        }
        if parsed.id.is_empty() {
            prop_assert!(matches!(parsed.body, Body::Unreadable { .. }), "an entry without id: {parsed:?}");
        }
        let _ = reply::read_group(value.clone());
        let _ = reply::auto_claim(value.clone());
        let _ = reply::entries("XRANGE", value);
    }

    #[test]
    fn an_entry_of_byte_pairs_is_text_exactly_when_every_byte_string_is_utf8(
        pairs in vec((vec(any::<u8>(), 0..12), vec(any::<u8>(), 0..12)), 0..6),
        seq in 0u64..1_000,
    ) {
        let flat: Vec<Value> = pairs.iter().flat_map(|(n, v)| [bytes(n), bytes(v)]).collect();
        let id = format!("1718000000000-{seq}");
        let parsed = entry::parse(Value::Array(vec![Value::String(id.clone().into()), Value::Array(flat)]));

        prop_assert_eq!(&parsed.id, &id, "a good id is kept, so the entry can be acknowledged");
        let all_text = pairs.iter().all(|(n, v)| std::str::from_utf8(n).is_ok() && std::str::from_utf8(v).is_ok());
        let (Body::Fields(fields) | Body::Unreadable { fields, .. }) = &parsed.body else {
            return Err(TestCaseError::fail("a field list is not a deleted entry"));
        };
        prop_assert_eq!(matches!(parsed.body, Body::Fields(_)), all_text && !pairs.is_empty());
        prop_assert_eq!(fields.len(), pairs.len());
        for ((name, value), (copy_name, copy_value)) in pairs.iter().zip(fields.iter()) {
            for (original, copy) in [(name, copy_name), (value, copy_value)] {
                let recovered = match std::str::from_utf8(original) {
                    Ok(text) => { prop_assert_eq!(text, copy); continue; }
                    Err(_) => copy.strip_prefix("base64:").and_then(|b| BASE64.decode(b).ok()),
                };
                prop_assert_eq!(recovered.as_ref(), Some(original), "bytes are kept exactly");
            }
        }
    }

    #[test]
    fn decoding_any_field_list_never_panics(pairs in vec((field_name(), field_value()), 0..12)) {
        let fields: Fields = pairs.into_iter().collect();
        // Either outcome is fine: an error is what makes the runner dead-letter the entry.
        let _ = decode_all(&fields);
    }

    #[test]
    fn extra_fields_such_as_a_reannouncement_do_not_change_what_an_event_decodes_to(
        extra in vec((
            prop_oneof![
                Just(REANNOUNCED_FIELD.to_owned()),
                Just(TRACEPARENT_FIELD.to_owned()),
                any::<String>(),
            ],
            any::<String>(),
            any::<prop::sample::Index>(),
        ), 0..5),
        which in 0usize..3,
    ) {
        let original = valid_entries()[which].clone();
        let mut with_extra: Vec<(String, String)> = original.clone().into_iter().collect();
        for (name, value, at) in extra {
            // Only names the event does not read: a second `orderId` would be a different entry.
            if KNOWN[..13].contains(&name.as_str()) {
                continue;
            }
            with_extra.insert(at.index(with_extra.len() + 1), (name, value));
        }
        let with_extra: Fields = with_extra.into_iter().collect();
        match which {
            0 => prop_assert_eq!(OrderCreated::from_fields(&with_extra), OrderCreated::from_fields(&original)),
            1 => prop_assert_eq!(PaymentProcessed::from_fields(&with_extra), PaymentProcessed::from_fields(&original)),
            _ => prop_assert_eq!(UserLoggedIn::from_fields(&with_extra), UserLoggedIn::from_fields(&original)),
        }
        prop_assert!(decode_all(&original).iter().filter(|r| r.is_ok()).count() == 1);
    }
}
