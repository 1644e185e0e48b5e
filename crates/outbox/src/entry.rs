//! The outbox entry as it is stored inside its document, and the field paths the relay queries.

use bson::{DateTime, Document};
use serde::{Deserialize, Serialize};
use shop_streams::Fields;

/// The field of the owning document that holds its entry.
pub const OUTBOX_FIELD: &str = "outbox";

pub(crate) const PENDING: &str = "outbox.pending";
pub(crate) const AVAILABLE_AT: &str = "outbox.availableAt";
pub(crate) const PUBLISHED_AT: &str = "outbox.publishedAt";

/// One event waiting (or no longer waiting) to be published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// The stream it goes to (already prefixed for the deployment).
    pub stream: String,
    /// The entry's fields in order, all strings (a BSON document keeps insertion order).
    pub fields: Document,
    pub pending: bool,
    /// When it was written, and so when a relay may first publish it. Its schedule after that (a
    /// claim's lease, a retry) and its attempts are kept on its queue marker, not here.
    pub available_at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime>,
}

impl OutboxEntry {
    /// A pending entry any relay may publish at once.
    pub fn new(stream: impl Into<String>, fields: Fields) -> Self {
        Self {
            stream: stream.into(),
            fields: fields
                .into_iter()
                .map(|(name, value)| (name, value.into()))
                .collect(),
            pending: true,
            available_at: DateTime::now(),
            published_at: None,
        }
    }

    /// The stream fields back, in order. A non-string value (never written by this crate) is skipped.
    pub fn stream_fields(&self) -> Fields {
        self.fields
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_survive_a_round_trip_through_bson_in_order() -> Result<(), Box<dyn std::error::Error>>
    {
        let mut fields = Fields::new();
        fields.push("type", "OrderCreated");
        fields.push("orderId", "o-1");
        fields.push("amount", "1.00");
        let entry = OutboxEntry::new("S", fields.clone());

        let stored = bson::to_document(&entry)?;
        let back: OutboxEntry = bson::from_document(stored)?;

        assert_eq!(back.stream_fields(), fields);
        assert!(back.pending);
        Ok(())
    }
}
