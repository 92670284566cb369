//! What a person's export contains: whom it is about, which data, in which format, and the rows
//! themselves, named exactly as the reference page names them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Millis;

/// The data types of an export, in the order they appear in files and manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    Pageviews,
    Events,
    Sessions,
    Profile,
    /// Bulk exports only: one row per visitor active in the range.
    Visitors,
    /// Bulk exports only: the analytics totals and per-day series of the range.
    Summary,
}

impl DataType {
    pub const ALL: [DataType; 4] = [
        DataType::Pageviews,
        DataType::Events,
        DataType::Sessions,
        DataType::Profile,
    ];

    /// What a website's bulk export holds with `"include": "all"`.
    pub const BULK: [DataType; 5] = [
        DataType::Pageviews,
        DataType::Events,
        DataType::Sessions,
        DataType::Visitors,
        DataType::Summary,
    ];

    /// A data type by its name, in any case.
    pub fn parse(name: &str) -> Option<DataType> {
        [
            DataType::Pageviews,
            DataType::Events,
            DataType::Sessions,
            DataType::Profile,
            DataType::Visitors,
            DataType::Summary,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(name.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Pageviews => "pageviews",
            DataType::Events => "events",
            DataType::Sessions => "sessions",
            DataType::Profile => "profile",
            DataType::Visitors => "visitors",
            DataType::Summary => "summary",
        }
    }
}

/// `"all"` or a list of data types, as the reference page's `include` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Include {
    Keyword(String),
    /// Names as given; an unknown one is refused with the list of known ones.
    List(Vec<String>),
}

impl Include {
    /// The chosen data types, sorted and without repeats.
    /// The data types of a person's export.
    pub fn resolve(&self) -> Result<Vec<DataType>, String> {
        self.resolve_from(&DataType::ALL)
    }

    /// The data types of a website's bulk export (`profile` means the visitors list there).
    pub fn resolve_bulk(&self) -> Result<Vec<DataType>, String> {
        let mut types = self.resolve_from(&[
            DataType::Pageviews,
            DataType::Events,
            DataType::Sessions,
            DataType::Visitors,
            DataType::Summary,
            DataType::Profile,
        ])?;
        for t in &mut types {
            if *t == DataType::Profile {
                *t = DataType::Visitors;
            }
        }
        types.sort();
        types.dedup();
        Ok(types)
    }

    fn resolve_from(&self, allowed: &[DataType]) -> Result<Vec<DataType>, String> {
        let names = || {
            allowed
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut types = match self {
            Include::Keyword(k) if k == "all" => allowed.to_vec(),
            Include::Keyword(k) => {
                return Err(format!(
                    "`include` is `{k}`: use \"all\" or a list of {}",
                    names()
                ));
            }
            Include::List(list) if list.is_empty() => {
                return Err("`include` is empty: name at least one data type, or \"all\"".into());
            }
            Include::List(list) => list
                .iter()
                .map(|name| {
                    DataType::parse(name).ok_or_else(|| {
                        format!("`{name}` is not a data type: choose from {}", names())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if let Some(other) = types.iter().find(|t| !allowed.contains(t)) {
            return Err(format!(
                "`{}` is not part of this kind of export: choose from {}",
                other.as_str(),
                names()
            ));
        }
        types.sort();
        types.dedup();
        Ok(types)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Ndjson,
    /// Bulk exports only.
    Parquet,
}

impl Format {
    /// A format by its name, in any case (`"JSON"` is JSON).
    pub fn parse(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "ndjson" => Some(Format::Ndjson),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }
}

/// How the person to export is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectRef {
    UserId(String),
    Email(String),
    VisitorId(String),
    /// This visitor's own rows only, never the profile an identify linked it to (which, on a
    /// shared computer, may be someone else's): a request by visitor id alone.
    VisitorOnly(String),
}

impl SubjectRef {
    /// How the subject appears in the audit trail and filters, e.g. `user_id:user_123`.
    pub fn label(&self) -> String {
        match self {
            SubjectRef::UserId(v) => format!("user_id:{v}"),
            SubjectRef::Email(v) => format!("email:{v}"),
            SubjectRef::VisitorId(v) | SubjectRef::VisitorOnly(v) => format!("visitor_id:{v}"),
        }
    }

    /// What kind of identifier it is, in words: `user id`, `email`, `visitor id`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SubjectRef::UserId(_) => "user id",
            SubjectRef::Email(_) => "email",
            SubjectRef::VisitorId(_) | SubjectRef::VisitorOnly(_) => "visitor id",
        }
    }
}

/// One visitor found to belong to the subject: shown in the manifest so a reviewer sees what
/// was matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    /// The store's handle on this visitor, for reading its rows; never shown. Opaque: only the
    /// backend that handed it out knows what it means (a SQLite row id, a PostgreSQL bigint),
    /// so it is passed back to that store and never compared, stored or put in a link.
    #[serde(skip)]
    pub visitor_key: i64,
    pub website_id: String,
    pub domain: String,
    pub visitor_id: String,
    /// The user the visitor is linked to; absent for an anonymous visitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Who made the link: a keyed ingest line, a signed or an unsigned identify call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_by: Option<crate::LinkTrust>,
    /// Who last set that user's email and name: a reviewer matching by email sees whether
    /// anyone could have put the address there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_set_by: Option<crate::LinkTrust>,
}

/// The profile of an identified person (`user` in the JSON, `profile.csv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub created_at: Millis,
    pub properties: Map<String, Value>,
}

/// Everything the store found for a subject: the profile (absent for an anonymous visitor)
/// and every visitor linked to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub profile: Option<Profile>,
    pub identities: Vec<Identity>,
}

impl Subject {
    /// Who this is, as the audit trail records it: `user_id:…` for an identified person,
    /// `visitor_id:…` for an anonymous visitor. One name per person whichever identifier
    /// found them, so entries about the same person can be linked.
    pub fn person(&self) -> Option<String> {
        match (&self.profile, self.identities.first()) {
            (Some(profile), _) => Some(SubjectRef::UserId(profile.user_id.clone()).label()),
            (None, Some(visitor)) => {
                Some(SubjectRef::VisitorId(visitor.visitor_id.clone()).label())
            }
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageviewRow {
    pub timestamp: Millis,
    pub url: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub country: Option<String>,
    pub website_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub timestamp: Millis,
    pub name: String,
    pub properties: Map<String, Value>,
    pub website_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub session_id: String,
    pub started_at: Millis,
    pub ended_at: Millis,
    pub pages_viewed: u64,
    pub events_triggered: u64,
    pub website_id: String,
}

/// Optional inclusive bounds in UTC days; `None` on a side means unbounded. The one
/// `{start, end}` of days that requests, manifests and receipts all carry: serialised as
/// `{"start": "2024-01-01", "end": null}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExportRange {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

impl ExportRange {
    /// The days an export of this range covers, given the first and last instants of the rows
    /// it wrote: a bound that was asked for stays; an open side closes at the UTC day of the
    /// first or last row. With no rows, the range stays as asked (open sides `None`): there is
    /// no day to name.
    pub fn covering(self, rows: Option<(Millis, Millis)>) -> ExportRange {
        let Some((first, last)) = rows else {
            return self;
        };
        let day = |ms: Millis| {
            chrono::DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .date_naive()
        };
        ExportRange {
            start: self.start.or_else(|| Some(day(first))),
            end: self.end.or_else(|| Some(day(last))),
        }
    }

    /// The days in words, for messages: `2024-01-01 to 2024-12-31`, `2024-01-01 onwards`,
    /// `everything up to 2024-12-31`, `all time`.
    pub fn in_words(self) -> String {
        match (self.start, self.end) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("{a} onwards"),
            (None, Some(b)) => format!("everything up to {b}"),
            (None, None) => "all time".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_range_closes_at_the_days_of_the_rows_written() {
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        // 2025-01-14T15:30:00Z and 2025-02-01T00:00:00Z.
        let rows = Some((1_736_868_600_000, 1_738_368_000_000));
        let open = ExportRange::default();
        assert_eq!(
            open.covering(rows),
            ExportRange {
                start: d("2025-01-14"),
                end: d("2025-02-01")
            }
        );
        let half = ExportRange {
            start: d("2025-01-01"),
            end: None,
        };
        assert_eq!(
            half.covering(rows),
            ExportRange {
                start: d("2025-01-01"),
                end: d("2025-02-01")
            },
            "a requested bound stays as asked"
        );
        assert_eq!(open.covering(None), open, "no rows: nothing to name");
        assert_eq!(
            serde_json::to_string(&half).unwrap(),
            r#"{"start":"2025-01-01","end":null}"#
        );
    }

    #[test]
    fn include_all_or_a_list_resolves_in_a_fixed_order() {
        let all: Include = serde_json::from_str("\"all\"").unwrap();
        assert_eq!(all.resolve().unwrap(), DataType::ALL.to_vec());
        let some: Include = serde_json::from_str(r#"["profile","pageviews","profile"]"#).unwrap();
        assert_eq!(
            some.resolve().unwrap(),
            [DataType::Pageviews, DataType::Profile]
        );
        let bad: Include = serde_json::from_str("\"everything\"").unwrap();
        assert!(bad.resolve().is_err());
        let unknown: Include = serde_json::from_str(r#"["clicks"]"#).unwrap();
        assert!(
            unknown
                .resolve()
                .unwrap_err()
                .contains("`clicks` is not a data type")
        );
    }

    #[test]
    fn bulk_and_person_exports_take_their_own_data_types() {
        let all: Include = serde_json::from_str("\"all\"").unwrap();
        assert_eq!(all.resolve_bulk().unwrap(), DataType::BULK.to_vec());
        let visitors: Include = serde_json::from_str(r#"["visitors"]"#).unwrap();
        assert!(visitors.resolve().unwrap_err().contains("visitors"));
        let profile: Include = serde_json::from_str(r#"["profile","events"]"#).unwrap();
        assert_eq!(
            profile.resolve_bulk().unwrap(),
            [DataType::Events, DataType::Visitors]
        );
    }
}
