//! Inclusive calendar ranges (`from`/`to` as `YYYY-MM-DD`) read in a website's time zone.
//!
//! A day is the span from one local midnight to the next, so a DST day lasts 23 or 25 hours.

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::Millis;

/// The longest range the analytics API answers in one call (its per-day series has one row a day).
pub const MAX_ANALYTICS_DAYS: i64 = 3_660;

/// Without `from`, a range covers this many days ending at `to`.
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One local day and the UTC instants that bound it (`start` inclusive, `end` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub date: NaiveDate,
    pub start: Millis,
    pub end: Millis,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DateRangeError {
    #[error(
        "`{field}` is `{value}`, which is not a calendar date: use YYYY-MM-DD, e.g. 2024-01-31"
    )]
    NotADate { field: &'static str, value: String },
    #[error("`from` ({from}) is after `to` ({to}): swap them or widen the range")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("the range spans {days} days; ask for at most {max} days at a time")]
    TooLong { days: i64, max: i64 },
}

impl DateRange {
    /// Reads optional `from`/`to` query values; `to` defaults to `today`, `from` to
    /// [`DEFAULT_DAYS`] days ending at `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, DateRangeError> {
        let to = match to {
            Some(v) => parse_date("to", v)?,
            None => today,
        };
        let from = match from {
            Some(v) => parse_date("from", v)?,
            None => to - Duration::days(DEFAULT_DAYS - 1),
        };
        if from > to {
            return Err(DateRangeError::Reversed { from, to });
        }
        let range = DateRange { from, to };
        if range.days() > MAX_ANALYTICS_DAYS {
            return Err(DateRangeError::TooLong {
                days: range.days(),
                max: MAX_ANALYTICS_DAYS,
            });
        }
        Ok(range)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// UTC bounds of the whole range: local midnight starting `from` to local midnight after `to`.
    pub fn bounds(&self, tz: Tz) -> (Millis, Millis) {
        (
            local_midnight(tz, self.from),
            local_midnight(tz, self.to + Duration::days(1)),
        )
    }

    /// Each local day of the range with its UTC bounds, in order.
    pub fn windows(&self, tz: Tz) -> Vec<DayWindow> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .map(|date| DayWindow {
                date,
                start: local_midnight(tz, date),
                end: local_midnight(tz, date + Duration::days(1)),
            })
            .collect()
    }
}

/// The one strict day parser: exactly `YYYY-MM-DD`, a real date.
pub fn parse_date(field: &'static str, value: &str) -> Result<NaiveDate, DateRangeError> {
    let err = || DateRangeError::NotADate {
        field,
        value: value.to_string(),
    };
    // Exactly YYYY-MM-DD: chrono alone would accept `2024-1-5`.
    if value.len() != 10 {
        return Err(err());
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| err())
}

/// The first instant of `date` in `tz`. Where midnight falls in a DST gap, the day starts at the
/// first local time that exists.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> Millis {
    let midnight: NaiveDateTime = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    let mut probe = midnight;
    for _ in 0..=24 * 4 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.timestamp_millis();
        }
        probe += Duration::minutes(15);
    }
    tz.from_utc_datetime(&midnight).timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_cover_thirty_days_ending_today() {
        let r = DateRange::parse(None, None, d("2024-03-31")).unwrap();
        assert_eq!(
            (r.from, r.to, r.days()),
            (d("2024-03-02"), d("2024-03-31"), 30)
        );
    }

    #[test]
    fn bad_dates_and_reversed_ranges_are_refused() {
        let today = d("2024-01-01");
        assert!(matches!(
            DateRange::parse(Some("2024-02-30"), None, today),
            Err(DateRangeError::NotADate { field: "from", .. })
        ));
        assert!(DateRange::parse(None, Some("2024-1-5"), today).is_err());
        assert!(matches!(
            DateRange::parse(Some("2024-02-02"), Some("2024-02-01"), today),
            Err(DateRangeError::Reversed { .. })
        ));
        assert!(DateRange::parse(Some("1990-01-01"), Some("2024-01-01"), today).is_err());
    }

    #[test]
    fn a_dst_day_in_new_york_lasts_23_hours() {
        let r = DateRange::parse(Some("2024-03-10"), Some("2024-03-10"), d("2024-03-10")).unwrap();
        let w = r.windows(chrono_tz::America::New_York)[0];
        assert_eq!(w.end - w.start, 23 * 3_600_000);
        // 2024-03-10 00:00 EST is 05:00 UTC.
        assert_eq!(w.start, 1_710_046_800_000);
    }
}
