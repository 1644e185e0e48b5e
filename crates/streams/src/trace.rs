//! W3C trace context (`traceparent`) carried in stream entries, so one order's journey across
//! services shares one trace id in every log line and span.

use std::fmt;

/// The `traceparent` field name in stream entries.
pub const TRACEPARENT_FIELD: &str = "traceparent";

/// `00-<32 hex trace id>-<16 hex parent span id>-01`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: String,
    span_id: String,
}

impl Traceparent {
    /// A new trace: the start of a journey (an order being placed).
    pub fn generate() -> Self {
        Self {
            trace_id: random_hex(16),
            span_id: random_hex(8),
        }
    }

    /// Parses a header value; `None` when it is not a valid version-00 `traceparent`.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s.bytes().any(|b| b != b'0')
        };
        (parts.next().is_none()
            && version == "00"
            && flags.len() == 2
            && hex(trace_id, 32)
            && hex(span_id, 16))
        .then(|| Self {
            trace_id: trace_id.to_owned(),
            span_id: span_id.to_owned(),
        })
    }

    /// The same trace with a new span: what a consumer passes on when it publishes in turn.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id.clone(),
            span_id: random_hex(8),
        }
    }

    /// Continues `parent` when it is valid, starts a new trace otherwise.
    pub fn child_of(parent: Option<&str>) -> Self {
        parent
            .and_then(Self::parse)
            .map_or_else(Self::generate, |p| p.child())
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }
}

impl fmt::Display for Traceparent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-01", self.trace_id, self.span_id)
    }
}

/// Hex of `bytes` random bytes; ULIDs carry 80 random bits, two of them give enough for a trace id.
fn random_hex(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    while out.len() < bytes * 2 {
        let random = ulid::Ulid::new().random();
        out.push_str(&format!("{random:020x}"));
    }
    out.truncate(bytes * 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_parse_and_children_keep_the_trace() {
        let root = Traceparent::generate();
        let text = root.to_string();
        assert_eq!(text.len(), 55, "{text}");
        assert_eq!(Traceparent::parse(&text), Some(root.clone()));

        let child = Traceparent::child_of(Some(&text));
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child, root);
    }

    #[test]
    fn invalid_values_start_a_new_trace() {
        for bad in [
            "",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        ] {
            assert_eq!(Traceparent::parse(bad), None, "{bad}");
        }
        assert!(
            Traceparent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some()
        );
    }
}
