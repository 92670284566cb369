//! Rows as the reference page lays them out. Field order here is the order in every file.
//! Timestamps are RFC 3339 UTC with `Z`, with milliseconds only when there are any: Ferry's
//! one formatter, [`ferry_domain::time::rfc3339_millis`], re-exported here as [`timestamp`].

use ferry_domain::export::{EventRow, PageviewRow, Profile, SessionRow};
use serde::Serialize;
use serde_json::{Map, Value};

pub use ferry_domain::time::rfc3339_millis as timestamp;

#[derive(Serialize)]
pub struct PageviewOut<'a> {
    pub timestamp: String,
    pub url: &'a str,
    pub title: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub device: Option<&'a str>,
    pub browser: Option<&'a str>,
    pub country: Option<&'a str>,
    /// Beyond the reference: which website, for people seen on several.
    pub website_id: &'a str,
}

impl<'a> From<&'a PageviewRow> for PageviewOut<'a> {
    fn from(r: &'a PageviewRow) -> Self {
        PageviewOut {
            timestamp: timestamp(r.timestamp),
            url: &r.url,
            title: r.title.as_deref(),
            referrer: r.referrer.as_deref(),
            device: r.device.as_deref(),
            browser: r.browser.as_deref(),
            country: r.country.as_deref(),
            website_id: &r.website_id,
        }
    }
}

#[derive(Serialize)]
pub struct EventOut<'a> {
    pub timestamp: String,
    pub name: &'a str,
    pub properties: &'a Map<String, Value>,
    pub website_id: &'a str,
}

impl<'a> From<&'a EventRow> for EventOut<'a> {
    fn from(r: &'a EventRow) -> Self {
        EventOut {
            timestamp: timestamp(r.timestamp),
            name: &r.name,
            properties: &r.properties,
            website_id: &r.website_id,
        }
    }
}

#[derive(Serialize)]
pub struct SessionOut<'a> {
    pub session_id: &'a str,
    pub started_at: String,
    pub ended_at: String,
    pub pages_viewed: u64,
    pub events_triggered: u64,
    pub website_id: &'a str,
}

impl<'a> From<&'a SessionRow> for SessionOut<'a> {
    fn from(r: &'a SessionRow) -> Self {
        SessionOut {
            session_id: &r.session_id,
            started_at: timestamp(r.started_at),
            ended_at: timestamp(r.ended_at),
            pages_viewed: r.pages_viewed,
            events_triggered: r.events_triggered,
            website_id: &r.website_id,
        }
    }
}

#[derive(Serialize)]
pub struct ProfileOut<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub created_at: String,
    pub properties: &'a Map<String, Value>,
}

impl<'a> From<&'a Profile> for ProfileOut<'a> {
    fn from(p: &'a Profile) -> Self {
        ProfileOut {
            user_id: &p.user_id,
            email: p.email.as_deref(),
            name: p.name.as_deref(),
            created_at: timestamp(p.created_at),
            properties: &p.properties,
        }
    }
}

/// A row written as one JSON object in the reference layout.
pub trait JsonRow {
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

macro_rules! json_row {
    ($row:ty, $out:ident) => {
        impl JsonRow for $row {
            fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
                Ok(serde_json::to_writer(out, &$out::from(self))?)
            }
        }
    };
}

json_row!(PageviewRow, PageviewOut);
json_row!(EventRow, EventOut);
json_row!(SessionRow, SessionOut);
json_row!(Profile, ProfileOut);

impl JsonRow for Value {
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        Ok(serde_json::to_writer(out, self)?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_carry_milliseconds_only_when_there_are_any() {
        assert_eq!(super::timestamp(1_736_867_400_000), "2025-01-14T15:10:00Z");
        assert_eq!(
            super::timestamp(1_736_867_400_250),
            "2025-01-14T15:10:00.250Z"
        );
    }
}
