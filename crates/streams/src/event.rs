//! Typed events and their flat-field form. Entries are flat string fields so that anyone can read a
//! stream with `redis-cli XRANGE`, and every service decodes them through one checked path.

use std::fmt::Display;
use std::str::FromStr;

use crate::DecodeError;

/// The fields of one stream entry, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

/// The field every entry carries to name its event type.
pub const TYPE_FIELD: &str = "type";

/// Marks an entry as a re-announcement: an event published again (by a reconciler) after its first
/// publication, whatever the field's value. Decoding ignores it, as it ignores every field an event
/// does not read; handlers see it as [`Delivery::reannounced`](crate::Delivery::reannounced).
pub const REANNOUNCED_FIELD: &str = "reannounced";

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a field the event cannot do without.
    pub fn require(&self, name: &'static str) -> Result<&str, DecodeError> {
        self.get(name).ok_or(DecodeError::Missing(name))
    }

    /// A required field parsed with `FromStr`; the parse error becomes the reason.
    pub fn parse<T>(&self, name: &'static str) -> Result<T, DecodeError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.require(name)?
            .parse()
            .map_err(|e: T::Err| DecodeError::Invalid {
                field: name,
                reason: e.to_string(),
            })
    }

    /// Checks the `type` field.
    pub fn expect_type(&self, expected: &'static str) -> Result<(), DecodeError> {
        match self.get(TYPE_FIELD) {
            Some(got) if got == expected => Ok(()),
            Some(got) => Err(DecodeError::WrongType {
                expected,
                got: got.to_owned(),
            }),
            None => Err(DecodeError::Missing(TYPE_FIELD)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes every field whose name is in `names` (used to strip dead-letter metadata on replay).
    pub fn without(mut self, names: &[&str]) -> Self {
        self.0.retain(|(n, _)| !names.contains(&n.as_str()));
        self
    }
}

impl FromIterator<(String, String)> for Fields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for Fields {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// An event that travels on a stream as flat fields.
///
/// Implementors write their payload in [`Event::encode`] and read it back in [`Event::decode`]; the
/// `type` field is handled by the provided methods.
pub trait Event: Sized + Send + Sync + 'static {
    /// The stream it is published to, before any deployment prefix.
    const STREAM: &'static str;
    /// The value of the `type` field.
    const TYPE: &'static str;

    fn encode(&self, fields: &mut Fields);
    fn decode(fields: &Fields) -> Result<Self, DecodeError>;

    fn to_fields(&self) -> Fields {
        let mut fields = Fields::new();
        fields.push(TYPE_FIELD, Self::TYPE);
        self.encode(&mut fields);
        fields
    }

    fn from_fields(fields: &Fields) -> Result<Self, DecodeError> {
        fields.expect_type(Self::TYPE)?;
        Self::decode(fields)
    }
}
