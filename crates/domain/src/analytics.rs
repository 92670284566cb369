//! What the analytics API answers. A page view or event counts on the day it happened; a session
//! (and so a visitor, a bounce and a duration) counts on the day it started.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

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
}

/// One page of a list plus the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

