//! What the analytics API answers. A page view or event counts on the day it happened; a session
//! (and so a visitor, a bounce and a duration) counts on the day it started.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::Millis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub pageviews: u64,
    pub visitors: u64,
    pub sessions: u64,
    pub events: u64,
    /// Share of sessions with exactly one page view and no events, 0.0–1.0.
    pub bounce_rate: f64,
    /// Mean of (last activity − first activity) over sessions, in seconds.
    pub avg_session_duration: f64,
    /// True when `visitors` (here and in the series) is a HyperLogLog estimate rather than an
    /// exact count: ranges with more sessions than an exact count fits in the time budget.
    /// Left out of the JSON when false, so exact answers read as they always did.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub visitors_estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub pageviews: u64,
    pub visitors: u64,
    pub sessions: u64,
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitorRow {
    pub visitor_id: String,
    /// First and last activity ever seen from this visitor.
    #[serde(serialize_with = "crate::time::serde_rfc3339::option::serialize")]
    pub first_seen: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serde_rfc3339::option::serialize")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Page views in the range.
    pub pageviews: u64,
    /// Sessions started in the range.
    pub sessions: u64,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub country: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageRow {
    pub url: String,
    pub pageviews: u64,
    pub unique_visitors: u64,
    /// True when `unique_visitors` is a HyperLogLog estimate (ranges with many page views);
    /// left out of the JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unique_visitors_estimated: bool,
}

/// A URL among a range's most viewed, as the dashboard's Overview lists them: page views
/// only (its unique visitors would cost a read of every viewer; the pages list has them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopPage {
    pub url: String,
    pub pageviews: u64,
}

/// One page of a list plus the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The first and last day a website (or a person) has any activity on, in the days its
/// reader counts in (the website's time zone for analytics, UTC for a person's export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataSpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DataSpan {
    /// The days of the first and last activity (instants, as the store keeps them) in `tz`.
    pub fn of(first: Millis, last: Millis, tz: chrono_tz::Tz) -> DataSpan {
        let day = |ms: Millis| {
            DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .with_timezone(&tz)
                .date_naive()
        };
        DataSpan {
            first: day(first),
            last: day(last),
        }
    }
}

/// What an answer says when the days asked for hold no data, so that zeros or an empty file
/// are not mistaken for "nothing happened": where the data is, or that there is none yet.
/// `asked`: the days in words (`2024-01-01 to 2024-12-31`); `whose`: `this website`,
/// `this person`.
pub fn empty_range_notice(asked: &str, whose: &str, span: Option<DataSpan>) -> String {
    match span {
        Some(DataSpan { first, last }) => format!(
            "no data in {asked}: {whose} has data from {first} to {last}; ask for days in that span"
        ),
        None => format!("no data in {asked}: {whose} has no recorded activity yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_reads_in_the_readers_days_and_the_notice_names_it() {
        // 2025-01-01T03:00:00Z is still 2024-12-31 in New York.
        let at = 1_735_700_400_000;
        let span = DataSpan::of(at, at, chrono_tz::America::New_York);
        assert_eq!(span.first.to_string(), "2024-12-31");
        assert_eq!(
            DataSpan::of(at, at, chrono_tz::UTC).first.to_string(),
            "2025-01-01"
        );
        assert_eq!(
            empty_range_notice("2024-01-01 to 2024-06-30", "this website", Some(span)),
            "no data in 2024-01-01 to 2024-06-30: this website has data from 2024-12-31 to 2024-12-31; ask for days in that span"
        );
        assert!(
            empty_range_notice("all time", "this person", None).contains("no recorded activity")
        );
    }
}
