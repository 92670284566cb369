//! Schedules: a bulk export of a website repeated at a frequency, each run covering exactly
//! the days since the previous one.
//!
//! A schedule's runs cut time at **local midnights** of the website's time zone, so a window
//! is a whole number of local days `[from, to)` (`to` excluded). Its UTC instants come from
//! [`local_midnight`], so a day across a DST change lasts 23 or 25 hours and windows still
//! meet exactly: the end of one is the start of the next. Cron expressions must fire at
//! midnight (`0 0 …`): bulk exports are cut at days, and a window finer than a day would need
//! instant bounds the export does not have.
//!
//! ```text
//! daily    2026-03-28_2026-03-29, 2026-03-29_2026-03-30 (23 h in Europe/Berlin), …
//! weekly   windows end on Mondays;   monthly: on the 1st
//! cron     "0 0 1,15 * *": windows end on the 1st and the 15th
//! ```

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::CronParser;
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::date_range::local_midnight;

/// How often a schedule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    /// Windows end at Monday's midnight.
    Weekly,
    /// Windows end at midnight of each month's 1st.
    Monthly,
    /// A 5-field crontab expression whose minute and hour are `0`.
    Cron(String),
}

impl Frequency {
    /// `daily`, `weekly`, `monthly`, or a cron expression; the error says what to send.
    pub fn parse(text: &str) -> Result<Frequency, String> {
        let text = text.trim();
        match text {
            "daily" => return Ok(Frequency::Daily),
            "weekly" => return Ok(Frequency::Weekly),
            "monthly" => return Ok(Frequency::Monthly),
            _ => {}
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "`{text}` is neither daily, weekly, monthly nor a 5-field cron expression \
                 (minute hour day-of-month month day-of-week)"
            ));
        }
        if fields[0] != "0" || fields[1] != "0" {
            return Err(format!(
                "`{text}` runs at other times than midnight: windows are whole days in the \
                 website's time zone, so a cron expression must start with `0 0` \
                 (e.g. `0 0 * * 1-5`)"
            ));
        }
        let cron =
            parse_cron(text).map_err(|e| format!("`{text}` is not a cron expression: {e}"))?;
        // An expression that never fires (`0 0 31 2 *`) would leave a schedule that never runs.
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        match start.map(|s| cron.find_next_occurrence(&s, false)) {
            Some(Ok(_)) => Ok(Frequency::Cron(text.to_string())),
            _ => Err(format!(
                "`{text}` never fires: check the day and month fields"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Cron(expr) => expr,
        }
    }

    /// The first window boundary (a local day whose midnight ends a window) after `day`.
    pub fn next_boundary(&self, day: NaiveDate) -> NaiveDate {
        match self {
            Frequency::Daily => day + Duration::days(1),
            Frequency::Weekly => {
                let ahead = 7 - day.weekday().num_days_from_monday() as i64;
                let next = day + Duration::days(ahead);
                debug_assert_eq!(next.weekday(), Weekday::Mon);
                next
            }
            Frequency::Monthly => {
                let (y, m) = match day.month() {
                    12 => (day.year() + 1, 1),
                    m => (day.year(), m + 1),
                };
                NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
            }
            Frequency::Cron(expr) => {
                // Dates only: the expression fires at midnight, so UTC stands for any zone.
                let after = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
                parse_cron(expr)
                    .ok()
                    .and_then(|c| c.find_next_occurrence(&after, false).ok())
                    .map_or(NaiveDate::MAX, |t| t.date_naive())
            }
        }
    }
}

fn parse_cron(text: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder().build().parse(text)
}

impl Serialize for Frequency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Frequency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Frequency::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A run's days: `[from, to)` in the website's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunWindow {
    pub from: NaiveDate,
    /// The day after the last day covered: the next window's `from`.
    pub to: NaiveDate,
}

impl RunWindow {
    /// `2026-03-29_2026-03-30`: the window in object names and queue keys.
    pub fn label(&self) -> String {
        format!("{}_{}", self.from, self.to)
    }

    /// The window's UTC instants `[start, end)`.
    pub fn instants(&self, tz: Tz) -> (Millis, Millis) {
        (local_midnight(tz, self.from), local_midnight(tz, self.to))
    }

    /// The last day covered (the export's inclusive `to`).
    pub fn last_day(&self) -> NaiveDate {
        self.to - Duration::days(1)
    }
}

/// The windows from `cursor` whose end has passed at `now`, in order; at most `max`.
pub fn due_windows(
    frequency: &Frequency,
    tz: Tz,
    cursor: NaiveDate,
    now: Millis,
    max: usize,
) -> Vec<RunWindow> {
    let mut out = Vec::new();
    let mut from = cursor;
    while out.len() < max {
        let to = frequency.next_boundary(from);
        if to == NaiveDate::MAX || local_midnight(tz, to) > now {
            break;
        }
        out.push(RunWindow { from, to });
        from = to;
    }
    out
}

/// The windows of a schedule that started on `start` and has run up to `cursor`, that lie
/// within the days `first..=last`: what a backfill re-runs.
pub fn past_windows(
    frequency: &Frequency,
    start: NaiveDate,
    cursor: NaiveDate,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<RunWindow> {
    let mut out = Vec::new();
    let mut from = start;
    while from < cursor {
        let to = frequency.next_boundary(from);
        if to > cursor || to == NaiveDate::MAX {
            break;
        }
        if from >= first && to <= last + Duration::days(1) {
            out.push(RunWindow { from, to });
        }
        from = to;
    }
    out
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// The window's end passed.
    Scheduled,
    /// `POST /schedules/{id}/run`: the next window, before its end.
    Now,
    /// `POST /schedules/{id}/backfill`: a window already run, again.
    Backfill,
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Scheduled => "scheduled",
            RunTrigger::Now => "now",
            RunTrigger::Backfill => "backfill",
        }
    }

    pub fn parse(s: &str) -> Option<RunTrigger> {
        [RunTrigger::Scheduled, RunTrigger::Now, RunTrigger::Backfill]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    pub website_id: String,
    pub frequency: Frequency,
    pub data_types: Vec<crate::export::DataType>,
    pub format: crate::export::Format,
    pub destination_id: Option<String>,
    pub encryption: Option<crate::job::Encryption>,
    pub enabled: bool,
    /// The first window's first day.
    pub starts_on: NaiveDate,
    /// The next window's first day: every day before it was enqueued.
    pub next_from: NaiveDate,
    /// Event-property columns of the series' CSV files, in the order they first appeared.
    pub event_columns: Vec<String>,
    pub created_at: Millis,
}

/// A schedule to create.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub id: String,
    pub website_id: String,
    pub frequency: Frequency,
    pub data_types: Vec<crate::export::DataType>,
    pub format: crate::export::Format,
    pub destination_id: Option<String>,
    pub encryption: Option<crate::job::Encryption>,
    pub enabled: bool,
    pub starts_on: NaiveDate,
}

/// What editing a schedule may change. Not its website, nor where its series starts, nor its
/// cursor: the windows that ran stay as they ran, and the next window starts where the last
/// one ended (under the new frequency, it ends at the new frequency's next boundary).
#[derive(Debug, Clone)]
pub struct ScheduleChange {
    pub frequency: Frequency,
    pub data_types: Vec<crate::export::DataType>,
    pub format: crate::export::Format,
    pub destination_id: Option<String>,
    pub encryption: Option<crate::job::Encryption>,
    pub enabled: bool,
}

/// One run of a schedule: its window, and the export that carries it (none when the export
/// could not be asked for: `error`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRun {
    pub window: RunWindow,
    pub trigger: RunTrigger,
    pub export_id: Option<String>,
    pub error: Option<(String, String)>,
    pub created_at: Millis,
}

/// `{schedule}/{window}/`: where a run's objects go, the same for every run of one window,
/// so a re-run replaces its objects instead of adding a second copy.
pub fn object_prefix(schedule: &str, window: RunWindow) -> String {
    format!("{schedule}/{}/", window.label())
}

/// The object name of `file` of a run's export: under [`object_prefix`], with the export's
/// id in the file's name (`exp_….zip`) replaced by `export`, so every run of a window names
/// its objects alike: `sch_…/2026-03-29_2026-03-30/export.zip`.
pub fn object_name(schedule: &str, window: RunWindow, export_id: &str, file: &str) -> String {
    format!(
        "{}{}",
        object_prefix(schedule, window),
        file.replacen(export_id, "export", 1)
    )
}

/// Columns of a series: those used before, in their order, then new keys, sorted.
pub fn extend_columns(previous: &[String], seen: &[String]) -> Vec<String> {
    let mut out = previous.to_vec();
    let mut new: Vec<&String> = seen.iter().filter(|k| !previous.contains(k)).collect();
    new.sort();
    new.dedup();
    out.extend(new.into_iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn boundaries_fall_on_local_midnights_of_each_frequency() {
        assert_eq!(
            Frequency::Daily.next_boundary(d("2026-03-28")),
            d("2026-03-29")
        );
        assert_eq!(
            Frequency::Weekly.next_boundary(d("2026-03-30")),
            d("2026-04-06")
        );
        assert_eq!(
            Frequency::Weekly.next_boundary(d("2026-04-01")),
            d("2026-04-06")
        );
        assert_eq!(
            Frequency::Monthly.next_boundary(d("2026-12-15")),
            d("2027-01-01")
        );
        let cron = Frequency::parse("0 0 1,15 * *").unwrap();
        assert_eq!(cron.next_boundary(d("2026-03-01")), d("2026-03-15"));
        assert_eq!(cron.next_boundary(d("2026-03-15")), d("2026-04-01"));
    }

    #[test]
    fn a_day_across_a_dst_change_lasts_23_or_25_hours() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let spring = RunWindow {
            from: d("2026-03-29"),
            to: d("2026-03-30"),
        }
        .instants(tz);
        assert_eq!(spring.1 - spring.0, 23 * 3_600_000);
        let autumn = RunWindow {
            from: d("2026-10-25"),
            to: d("2026-10-26"),
        }
        .instants(tz);
        assert_eq!(autumn.1 - autumn.0, 25 * 3_600_000);
    }

    #[test]
    fn cron_must_fire_at_midnight_and_at_all() {
        assert!(
            Frequency::parse("30 2 * * *")
                .unwrap_err()
                .contains("midnight")
        );
        assert!(
            Frequency::parse("0 0 31 2 *")
                .unwrap_err()
                .contains("never")
        );
        assert!(Frequency::parse("every day").is_err());
        assert_eq!(
            Frequency::parse("0 0 * * 1-5").unwrap().as_str(),
            "0 0 * * 1-5"
        );
    }

    #[test]
    fn due_windows_meet_end_to_start_and_stop_at_now() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = local_midnight(tz, d("2026-04-03")) + 1;
        let w = due_windows(&Frequency::Daily, tz, d("2026-03-28"), now, 100);
        assert_eq!(w.len(), 6);
        assert!(w.windows(2).all(|p| p[0].to == p[1].from));
        assert_eq!(w.last().unwrap().to, d("2026-04-03"));
    }

    #[test]
    fn columns_keep_their_order_and_new_keys_come_last() {
        let prev = vec!["plan".to_string(), "amount".to_string()];
        let seen = vec!["amount".to_string(), "coupon".to_string(), "a".to_string()];
        assert_eq!(
            extend_columns(&prev, &seen),
            ["plan", "amount", "a", "coupon"]
        );
    }
}
