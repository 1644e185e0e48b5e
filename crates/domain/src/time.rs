//! The one text form of a time in the shop's APIs and stream entries: RFC 3339 with milliseconds
//! and `Z` (`2026-11-25T03:52:23.123Z`), so every service writes and reads it the same way.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-11-25T03:52:23.123Z`.
pub fn format_millis(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serde helpers for `#[serde(with = "shop_domain::time::rfc3339_millis")]`.
pub mod rfc3339_millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_millis(time))
    }

    /// Accepts any RFC 3339 offset and converts it to UTC.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Stamped {
        #[serde(with = "rfc3339_millis")]
        at: DateTime<Utc>,
    }

    #[test]
    fn times_are_written_with_milliseconds_and_z_and_read_back() -> Result<(), serde_json::Error> {
        let at = Utc
            .timestamp_millis_opt(1_764_042_743_123)
            .single()
            .unwrap_or_default();

        let text = serde_json::to_string(&Stamped { at })?;
        let back: Stamped = serde_json::from_str(r#"{"at":"2025-11-25T05:52:23.123+02:00"}"#)?;

        assert_eq!(text, r#"{"at":"2025-11-25T03:52:23.123Z"}"#);
        assert_eq!(back, Stamped { at });
        Ok(())
    }
}
