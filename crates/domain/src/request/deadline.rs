//! When a data-subject request must be answered. Pure date arithmetic, no clock: the caller
//! says which day it is.
//!
//! GDPR Art. 12(3) gives "one month of receipt"; supervisory authorities read that as a
//! calendar month (received 5 March → due 5 April), and a day the month lacks falls to its
//! last day (received 31 January → due 28 February, or 29 in a leap year). The reference
//! page says 30 days. Ferry's default is the earlier of the two, so the page's promise and the
//! law's are both kept. A due day on a weekend or one of the account's holidays moves to the
//! next working day (as the Regulation 1182/71 on time limits does).
//!
//! Order of the steps, so every caller gets the same day:
//! 1. the rule's day from the day of receipt ([`rule_day`]);
//! 2. plus the days the clock stood still while the subject was unverified (when the
//!    account stops it);
//! 3. plus the extension months (Art. 12(3): "by two further months"), month ends clamped;
//! 4. then the next working day.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Which rule makes a request's due date (an account setting, kept on each request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DueRule {
    /// The earlier of 30 days and one calendar month: both promises kept.
    #[default]
    EarlierOf,
    /// 30 days after receipt, as the reference page says.
    ThirtyDays,
    /// One calendar month after receipt, as GDPR Art. 12(3) reads.
    CalendarMonth,
}

impl DueRule {
    pub const ALL: [DueRule; 3] = [
        DueRule::EarlierOf,
        DueRule::ThirtyDays,
        DueRule::CalendarMonth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DueRule::EarlierOf => "earlier_of",
            DueRule::ThirtyDays => "thirty_days",
            DueRule::CalendarMonth => "calendar_month",
        }
    }

    pub fn parse(s: &str) -> Option<DueRule> {
        DueRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The most an answer may be extended by, in months, over all extensions (Art. 12(3)).
pub const MAX_EXTENSION_MONTHS: u32 = 2;

/// What a request's due date depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub received_on: NaiveDate,
    pub rule: DueRule,
    /// Days the clock stood still (identity unverified, when the account stops the clock).
    pub paused_days: u32,
    /// Extension months granted so far (at most [`MAX_EXTENSION_MONTHS`]).
    pub extension_months: u32,
}

impl Deadline {
    /// The day the answer is due, `holidays` being the account's non-working days.
    pub fn due_on(&self, holidays: &[NaiveDate]) -> NaiveDate {
        let day = rule_day(self.received_on, self.rule) + Days::new(u64::from(self.paused_days));
        next_working_day(add_months(day, self.extension_months), holidays)
    }
}

/// `day` plus `months` calendar months; a day the target month lacks falls to its last day.
pub fn add_months(day: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps to the month's last day, which is exactly the rule.
    day.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// The rule's day, before weekends and holidays are considered.
pub fn rule_day(received_on: NaiveDate, rule: DueRule) -> NaiveDate {
    let thirty = received_on + Days::new(30);
    let month = add_months(received_on, 1);
    match rule {
        DueRule::EarlierOf => thirty.min(month),
        DueRule::ThirtyDays => thirty,
        DueRule::CalendarMonth => month,
    }
}

pub fn is_working_day(day: NaiveDate, holidays: &[NaiveDate]) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day)
}

/// `day` itself when it is a working day, else the next one.
pub fn next_working_day(mut day: NaiveDate, holidays: &[NaiveDate]) -> NaiveDate {
    // A year holds at most 366 holidays: the loop ends.
    while !is_working_day(day, holidays) && day < NaiveDate::MAX {
        day = day.succ_opt().unwrap_or(NaiveDate::MAX);
    }
    day
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// (received, rule, paused days, extension months, holidays, due, why)
    type Case = (
        &'static str,
        DueRule,
        u32,
        u32,
        &'static [&'static str],
        &'static str,
        &'static str,
    );

    const TABLE: &[Case] = &[
        (
            "2026-01-31",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2026-03-02",
            "31 Jan → 28 Feb, a Saturday → Monday",
        ),
        (
            "2026-01-31",
            DueRule::ThirtyDays,
            0,
            0,
            &[],
            "2026-03-02",
            "30 days is 2 March, a Monday",
        ),
        (
            "2028-01-31",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2028-02-29",
            "leap year: 31 Jan → 29 Feb",
        ),
        (
            "2028-01-31",
            DueRule::CalendarMonth,
            0,
            0,
            &[],
            "2028-02-29",
            "leap year, calendar month",
        ),
        (
            "2028-01-31",
            DueRule::ThirtyDays,
            0,
            0,
            &[],
            "2028-03-01",
            "leap year, 30 days",
        ),
        (
            "2024-01-31",
            DueRule::CalendarMonth,
            0,
            0,
            &[],
            "2024-02-29",
            "leap year 2024",
        ),
        (
            "2026-02-01",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2026-03-02",
            "1 Feb → 1 Mar (a Sunday), earlier than 3 Mar",
        ),
        (
            "2026-03-31",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2026-04-30",
            "31 Mar → 30 Apr, both rules",
        ),
        (
            "2026-12-15",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2027-01-14",
            "year end: 30 days, a Thursday",
        ),
        (
            "2026-12-15",
            DueRule::EarlierOf,
            0,
            0,
            &["2027-01-14"],
            "2027-01-15",
            "a holiday moves it a day",
        ),
        (
            "2026-12-31",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2027-02-01",
            "year end: 30 Jan is a Saturday",
        ),
        (
            "2026-12-31",
            DueRule::CalendarMonth,
            0,
            0,
            &[],
            "2027-02-01",
            "31 Jan 2027 is a Sunday",
        ),
        (
            "2026-12-01",
            DueRule::CalendarMonth,
            0,
            0,
            &["2027-01-01"],
            "2027-01-04",
            "New Year, then a weekend",
        ),
        (
            "2025-12-24",
            DueRule::EarlierOf,
            0,
            0,
            &[],
            "2026-01-23",
            "30 days is earlier, a Friday",
        ),
        (
            "2025-12-24",
            DueRule::CalendarMonth,
            0,
            0,
            &[],
            "2026-01-26",
            "24 Jan is a Saturday",
        ),
        (
            "2025-12-24",
            DueRule::CalendarMonth,
            0,
            0,
            &["2026-01-26"],
            "2026-01-27",
            "weekend then a holiday",
        ),
        (
            "2028-01-31",
            DueRule::EarlierOf,
            3,
            0,
            &[],
            "2028-03-03",
            "three paused days",
        ),
        (
            "2028-01-31",
            DueRule::EarlierOf,
            0,
            2,
            &[],
            "2028-05-01",
            "29 Feb + 2 months = 29 Apr, a Saturday",
        ),
        (
            "2026-03-31",
            DueRule::EarlierOf,
            0,
            1,
            &[],
            "2026-06-01",
            "30 Apr + 1 month = 30 May, a Saturday",
        ),
    ];

    #[test]
    fn due_dates_follow_the_table_of_month_ends_leap_years_weekends_and_holidays() {
        for (received, rule, paused, months, holidays, due, why) in TABLE {
            let holidays: Vec<NaiveDate> = holidays.iter().map(|h| d(h)).collect();
            let deadline = Deadline {
                received_on: d(received),
                rule: *rule,
                paused_days: *paused,
                extension_months: *months,
            };
            assert_eq!(
                deadline.due_on(&holidays),
                d(due),
                "{received} {} +{paused}d +{months}m: {why}",
                rule.as_str()
            );
        }
    }

    #[test]
    fn a_due_day_is_always_a_working_day_and_never_before_the_rule_day() {
        let holidays = [d("2026-12-25"), d("2026-12-28")];
        let mut day = d("2026-01-01");
        while day < d("2028-12-31") {
            for rule in DueRule::ALL {
                let deadline = Deadline {
                    received_on: day,
                    rule,
                    paused_days: 0,
                    extension_months: 0,
                };
                let due = deadline.due_on(&holidays);
                assert!(is_working_day(due, &holidays), "{day} {due}");
                assert!(due >= rule_day(day, rule));
                assert!(days_between(rule_day(day, rule), due) <= 4, "{day}");
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn rules_parse_back() {
        for rule in DueRule::ALL {
            assert_eq!(DueRule::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(DueRule::parse("forty_days"), None);
    }
}
