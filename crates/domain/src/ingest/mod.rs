//! The three ingest line types of DESIGN.md: as they arrive ([`WireLine`]) and once checked
//! ([`IngestLine`]). The same checks serve `POST /api/ingest`, `ferry import` and the tracker.
//!
//! ```text
//! {"type":"pageview","website_id":"web_…","visitor_id":"v1","timestamp":"2024-05-01T10:00:00Z","url":"/","title":"Home","referrer":"https://google.com","device":"desktop","browser":"Chrome","country":"US"}
//! {"type":"event","website_id":"web_…","visitor_id":"v1","timestamp":"2024-05-01T10:01:00Z","name":"add_to_cart","properties":{"price":9.99}}
//! {"type":"identify","website_id":"web_…","visitor_id":"v1","user_id":"user_1","email":"a@example.com","name":"Ann","properties":{"plan":"pro"},"created_at":"2024-01-01T00:00:00Z"}
//! ```

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Millis;

mod fields;
mod trust;
use fields::*;
pub use fields::{MAX_USER_PROPERTIES_BYTES, user_properties_too_large};
pub use trust::LinkTrust;

/// One line as sent. Unknown fields are refused so that a typo never silently drops data.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum WireLine {
    Pageview {
        website_id: String,
        visitor_id: String,
        timestamp: String,
        url: String,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        referrer: Option<String>,
        #[serde(default)]
        device: Option<String>,
        #[serde(default)]
        browser: Option<String>,
        #[serde(default)]
        country: Option<String>,
    },
    Event {
        website_id: String,
        visitor_id: String,
        timestamp: String,
        name: String,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
    },
    Identify {
        website_id: String,
        visitor_id: String,
        user_id: String,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        properties: Option<Map<String, Value>>,
        #[serde(default)]
        created_at: Option<String>,
    },
}

/// A checked line, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestLine {
    Activity(Activity),
    Identify(Identify),
}

impl IngestLine {
    pub fn website_id(&self) -> &str {
        match self {
            IngestLine::Activity(a) => &a.website_id,
            IngestLine::Identify(i) => &i.website_id,
        }
    }

    /// The line in the NDJSON wire format; [`parse_line`] reads it back to an equal line.
    pub fn to_wire(&self) -> Value {
        let time = |ms: Millis| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        match self {
            IngestLine::Activity(a) => match &a.kind {
                ActivityKind::Pageview {
                    url,
                    title,
                    referrer,
                } => serde_json::json!({
                    "type": "pageview", "website_id": a.website_id, "visitor_id": a.visitor_id,
                    "timestamp": time(a.at), "url": url, "title": title, "referrer": referrer,
                    "device": a.device, "browser": a.browser, "country": a.country,
                }),
                ActivityKind::Event { name, properties } => serde_json::json!({
                    "type": "event", "website_id": a.website_id, "visitor_id": a.visitor_id,
                    "timestamp": time(a.at), "name": name, "properties": properties,
                }),
            },
            IngestLine::Identify(i) => serde_json::json!({
                "type": "identify", "website_id": i.website_id, "visitor_id": i.visitor_id,
                "user_id": i.user_id, "email": i.email, "name": i.name, "properties": i.properties,
                "created_at": i.created_at.map(time),
            }),
        }
    }
}

/// A page view or custom event by one visitor at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub website_id: String,
    pub visitor_id: String,
    pub at: Millis,
    pub kind: ActivityKind,
    pub device: Option<String>,
    pub browser: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActivityKind {
    Pageview {
        url: String,
        title: Option<String>,
        referrer: Option<String>,
    },
    Event {
        name: String,
        properties: Map<String, Value>,
    },
}

/// Links a visitor to a known person and updates that person's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Identify {
    pub website_id: String,
    pub visitor_id: String,
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Merged key by key into the stored properties.
    pub properties: Map<String, Value>,
    pub created_at: Option<Millis>,
    /// Who vouched for the line: an unsigned one never changes a known person.
    pub trust: LinkTrust,
}

/// Why a line was refused; `code` is stable, `message` says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    pub code: &'static str,
    pub message: String,
}

impl LineError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        LineError {
            code,
            message: message.into(),
        }
    }
}

/// Parses and checks one NDJSON line.
pub fn parse_line(line: &[u8], now: Millis) -> Result<IngestLine, LineError> {
    let wire: WireLine = serde_json::from_slice(line).map_err(|e| json_error(&e))?;
    wire.validate(now)
}

/// Turns a serde error into a line error with a stable code.
pub fn json_error(e: &serde_json::Error) -> LineError {
    let text = e.to_string();
    let code = if e.is_syntax() || e.is_eof() {
        "malformed_json"
    } else if text.starts_with("unknown field") {
        "unknown_field"
    } else if text.starts_with("missing field") {
        "missing_field"
    } else if text.starts_with("unknown variant") {
        "unknown_type"
    } else {
        "invalid_value"
    };
    LineError::new(code, strip_position(&text))
}

fn strip_position(text: &str) -> String {
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

impl WireLine {
    pub fn validate(self, now: Millis) -> Result<IngestLine, LineError> {
        Ok(match self {
            WireLine::Pageview {
                website_id,
                visitor_id,
                timestamp,
                url,
                title,
                referrer,
                device,
                browser,
                country,
            } => IngestLine::Activity(Activity {
                website_id: required("website_id", website_id, 64)?,
                visitor_id: required("visitor_id", visitor_id, 128)?,
                at: timestamp_field("timestamp", &timestamp, now)?,
                kind: ActivityKind::Pageview {
                    url: required("url", url, 2048)?,
                    title: optional("title", title, 1024)?,
                    referrer: optional("referrer", referrer, 2048)?,
                },
                device: optional("device", device, 32)?,
                browser: optional("browser", browser, 64)?,
                country: country_field(country)?,
            }),
            WireLine::Event {
                website_id,
                visitor_id,
                timestamp,
                name,
                properties,
            } => IngestLine::Activity(Activity {
                website_id: required("website_id", website_id, 64)?,
                visitor_id: required("visitor_id", visitor_id, 128)?,
                at: timestamp_field("timestamp", &timestamp, now)?,
                kind: ActivityKind::Event {
                    name: required("name", name, 128)?,
                    properties: properties_field(properties)?,
                },
                device: None,
                browser: None,
                country: None,
            }),
            WireLine::Identify {
                website_id,
                visitor_id,
                user_id,
                email,
                name,
                properties,
                created_at,
            } => IngestLine::Identify(Identify {
                website_id: required("website_id", website_id, 64)?,
                visitor_id: required("visitor_id", visitor_id, 128)?,
                user_id: required("user_id", user_id, 256)?,
                email: email_field(email)?,
                name: optional("name", name, 256)?,
                properties: properties_field(properties)?,
                created_at: created_at
                    .map(|v| timestamp_field("created_at", &v, now))
                    .transpose()?,
                // Lines arrive with a key (or from the operator's CLI); the tracker lowers this.
                trust: LinkTrust::Keyed,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_714_600_000_000; // 2024-05-01T21:46:40Z

    #[test]
    fn a_pageview_line_is_read_and_normalised() {
        let line = br#"{"type":"pageview","website_id":"w","visitor_id":"v","timestamp":"2024-05-01T12:00:00+02:00","url":"/a","country":"de","title":""}"#;
        let IngestLine::Activity(a) = parse_line(line, NOW).unwrap() else {
            panic!("not an activity")
        };
        assert_eq!(a.at, 1_714_557_600_000);
        assert_eq!(a.country.as_deref(), Some("DE"));
        assert!(matches!(a.kind, ActivityKind::Pageview { title: None, .. }));
    }

    #[test]
    fn a_line_written_to_the_wire_reads_back_equal() {
        let line = br#"{"type":"identify","website_id":"w","visitor_id":"v","user_id":"u","email":"a@b.co","properties":{"plan":"pro"},"created_at":"2024-01-01T00:00:00.250Z"}"#;
        let parsed = parse_line(line, NOW).unwrap();
        let again = parse_line(parsed.to_wire().to_string().as_bytes(), NOW).unwrap();
        assert_eq!(parsed, again);
    }

    #[test]
    fn each_fault_has_its_own_code() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"type":"pageview""#, "malformed_json"),
            (br#"{"type":"event","website_id":"w","visitor_id":"v","timestamp":"2024-05-01T10:00:00Z","name":"x","colour":1}"#, "unknown_field"),
            (br#"{"type":"event","website_id":"w","visitor_id":"v","timestamp":"2024-05-01T10:00:00Z"}"#, "missing_field"),
            (br#"{"type":"click"}"#, "unknown_type"),
            (br#"{"type":"event","website_id":"w","visitor_id":"v","timestamp":"yesterday","name":"x"}"#, "invalid_timestamp"),
            (br#"{"type":"identify","website_id":"w","visitor_id":"v","user_id":"u","email":"nope"}"#, "invalid_value"),
        ];
        for (line, code) in cases {
            assert_eq!(
                parse_line(line, NOW).unwrap_err().code,
                code,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
