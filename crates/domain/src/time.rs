//! The one way Ferry writes an instant for people and programs to read: RFC 3339 in UTC,
//! ending in `Z`, with fractional seconds only when there are any (`AutoSi`: 3, 6 or 9
//! digits). Export rows, the audit CSV and receipts all go through [`rfc3339`], so a reader
//! never meets `+00:00` in one file and `Z` in another.
//!
//! ```text
//! 2025-01-15T10:30:00Z        whole seconds (files' and receipts' generated_at)
//! 2025-01-14T15:33:00.500Z    a row stored with milliseconds
//! ```
//!
//! Instants made for files and receipts are cut to whole seconds where they are made
//! ([`whole_seconds`]), as the reference page shows them; the formatter itself drops nothing.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::Millis;

/// `2025-01-15T10:30:00Z`, with `.250` etc. only when the instant has a fraction.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// [`rfc3339`] of a stored instant (milliseconds since the epoch). Out of chrono's range
/// (never stored by Ferry) reads as the epoch rather than failing an export.
pub fn rfc3339_millis(ms: Millis) -> String {
    rfc3339(DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

/// The instant `ms` cut to its second: what a file's or receipt's `generated_at` holds, so
/// that the two are equal when read back.
pub fn whole_seconds(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp(ms.div_euclid(1000), 0).unwrap_or_default()
}

/// `#[serde(with = "ferry_domain::time::serde_rfc3339")]`: a `DateTime<Utc>` written by
/// [`rfc3339`]; any RFC 3339 text (e.g. `+00:00` or nanoseconds, as older receipts were
/// stored) reads back.
pub mod serde_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for `Option<DateTime<Utc>>` (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => s.serialize_some(&super::super::rfc3339(*at)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|text| {
                    DateTime::parse_from_rfc3339(&text)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_as_utc_with_z_and_a_fraction_only_when_there_is_one() {
        assert_eq!(rfc3339_millis(1_736_867_400_000), "2025-01-14T15:10:00Z");
        assert_eq!(
            rfc3339_millis(1_736_867_400_250),
            "2025-01-14T15:10:00.250Z"
        );
        let nanos = DateTime::from_timestamp(1_736_937_000, 123_456_789).unwrap();
        assert_eq!(rfc3339(nanos), "2025-01-15T10:30:00.123456789Z");
    }

    #[test]
    fn whole_seconds_drop_the_fraction_even_before_1970() {
        assert_eq!(
            rfc3339(whole_seconds(1_736_937_000_999)),
            "2025-01-15T10:30:00Z"
        );
        assert_eq!(rfc3339(whole_seconds(-1)), "1969-12-31T23:59:59Z");
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Stamped {
        #[serde(with = "serde_rfc3339")]
        at: DateTime<Utc>,
        #[serde(with = "serde_rfc3339::option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn the_serde_helpers_write_the_one_format_and_read_older_ones() {
        let at = whole_seconds(1_736_937_000_000);
        let text = serde_json::to_string(&Stamped { at, maybe: None }).unwrap();
        assert_eq!(text, r#"{"at":"2025-01-15T10:30:00Z","maybe":null}"#);
        let old: Stamped = serde_json::from_str(
            r#"{"at":"2025-01-15T10:30:00.123456789Z","maybe":"2025-01-15T10:30:00+00:00"}"#,
        )
        .unwrap();
        assert_eq!(old.maybe, Some(at));
        assert_eq!(rfc3339(old.at), "2025-01-15T10:30:00.123456789Z");
    }
}
