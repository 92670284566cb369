//! Bulk rows as CSV, NDJSON and JSON. Columns are the person export's, in its order, with the
//! bulk-only columns (`visitor_id`, `session_id`) after them:
//!
//! ```text
//! pageviews  timestamp,url,title,referrer,device,browser,country,visitor_id,session_id
//! events     timestamp,name,property_<key>…[,properties_other],visitor_id,session_id
//! sessions   session_id,started_at,ended_at,pages_viewed,events_triggered,visitor_id
//! visitors   visitor_id,first_seen,last_seen,pageviews,sessions,device,browser,country,user_id,email
//! ```

use ferry_domain::analytics::VisitorRow;
use ferry_domain::bulk::{Batch, BulkEvent, BulkPageview, BulkSession};
use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::cells::{Timestamps, csv_text, csv_value, integer, json_text};
use super::parts::Framing;
use crate::property_columns::PropertyColumns;

pub const PAGEVIEW_COLUMNS: [&str; 9] = [
    "timestamp",
    "url",
    "title",
    "referrer",
    "device",
    "browser",
    "country",
    "visitor_id",
    "session_id",
];
pub const SESSION_COLUMNS: [&str; 6] = [
    "session_id",
    "started_at",
    "ended_at",
    "pages_viewed",
    "events_triggered",
    "visitor_id",
];
pub const VISITOR_COLUMNS: [&str; 10] = [
    "visitor_id",
    "first_seen",
    "last_seen",
    "pageviews",
    "sessions",
    "device",
    "browser",
    "country",
    "user_id",
    "email",
];

/// The text formats a bulk export writes row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Csv,
    Json,
    Ndjson,
}

/// The frame of one data type's parts in one format.
pub struct TextFraming {
    pub format: TextFormat,
    /// The CSV header line, or the JSON document's fields before `"part"`.
    pub head: String,
    /// The data type, the JSON document's array name.
    pub data_type: &'static str,
}

impl TextFraming {
    /// `columns`: the CSV header; `document`: the JSON head's fields (`"export_id":"…",…`).
    pub fn new(
        format: TextFormat,
        data_type: &'static str,
        columns: &[String],
        document: &str,
    ) -> Self {
        let head = match format {
            TextFormat::Csv => {
                let mut line = Vec::new();
                for (i, c) in columns.iter().enumerate() {
                    if i > 0 {
                        line.push(b',');
                    }
                    csv_text(&mut line, c, false);
                }
                line.extend_from_slice(b"\r\n");
                String::from_utf8(line).unwrap_or_default()
            }
            TextFormat::Json => document.to_string(),
            TextFormat::Ndjson => String::new(),
        };
        TextFraming {
            format,
            head,
            data_type,
        }
    }
}

impl Framing for TextFraming {
    fn extension(&self) -> &'static str {
        match self.format {
            TextFormat::Csv => "csv",
            TextFormat::Json => "json",
            TextFormat::Ndjson => "ndjson",
        }
    }

    fn head(&self, part: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        if self.format == TextFormat::Json {
            out.extend_from_slice(b"\"part\":");
            integer(out, u64::from(part));
            out.extend_from_slice(b",\"");
            out.extend_from_slice(self.data_type.as_bytes());
            out.extend_from_slice(b"\":[\n");
        }
    }

    fn separator(&self) -> &'static [u8] {
        match self.format {
            TextFormat::Json => b",\n",
            _ => b"",
        }
    }

    fn tail(&self) -> &'static [u8] {
        match self.format {
            TextFormat::Json => b"\n]}\n",
            _ => b"",
        }
    }
}

/// Formats rows of each data type; keeps the per-day timestamp cache.
pub struct RowWriter {
    pub format: TextFormat,
    pub neutralise: bool,
    /// Every event-property key of the rows, sorted: the events CSV's columns follow from it
    /// ([`PropertyColumns`]), so two writers with the same keys write the same cells.
    pub event_keys: Vec<String>,
    columns: PropertyColumns,
    times: Timestamps,
}

fn session_id(out: &mut Vec<u8>, key: i64) {
    out.extend_from_slice(b"sess_");
    integer(out, key);
}

impl RowWriter {
    pub fn new(format: TextFormat, neutralise: bool, event_keys: Vec<String>) -> Self {
        RowWriter {
            format,
            neutralise,
            columns: PropertyColumns::new(&event_keys),
            event_keys,
            times: Timestamps::default(),
        }
    }

    fn end(&self, out: &mut Vec<u8>) {
        match self.format {
            TextFormat::Csv => out.extend_from_slice(b"\r\n"),
            TextFormat::Ndjson => out.push(b'\n'),
            TextFormat::Json => {}
        }
    }

    fn csv_cells(&self, out: &mut Vec<u8>, cells: &[Option<&str>]) {
        for cell in cells {
            out.push(b',');
            csv_text(out, cell.unwrap_or(""), self.neutralise);
        }
    }

    fn json_field(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
        out.push(b',');
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        json_text(out, value);
    }

    fn json_time(&mut self, out: &mut Vec<u8>, name: &str, ms: i64) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b":\"");
        self.times.write(ms, out);
        out.push(b'"');
    }

    pub fn pageview(&mut self, b: &Batch<BulkPageview>, r: &BulkPageview, out: &mut Vec<u8>) {
        let text = [
            b.get(r.url),
            b.get(r.title),
            b.get(r.referrer),
            b.get(r.device),
            b.get(r.browser),
            b.get(r.country),
            b.get(r.visitor_id),
        ];
        match self.format {
            TextFormat::Csv => {
                self.times.write(r.timestamp, out);
                self.csv_cells(out, &text);
                out.push(b',');
                session_id(out, r.session);
            }
            TextFormat::Json | TextFormat::Ndjson => {
                out.push(b'{');
                self.json_time(out, "\"timestamp\"", r.timestamp);
                for (name, value) in PAGEVIEW_COLUMNS[1..8].iter().zip(text) {
                    Self::json_field(out, name, value);
                }
                out.extend_from_slice(b",\"session_id\":\"");
                session_id(out, r.session);
                out.extend_from_slice(b"\"}");
            }
        }
        self.end(out);
    }

    pub fn event(&mut self, b: &Batch<BulkEvent>, r: &BulkEvent, out: &mut Vec<u8>) {
        let properties = b
            .get(r.properties)
            .filter(|p| !p.is_empty())
            .unwrap_or("{}");
        match self.format {
            TextFormat::Csv => {
                self.times.write(r.timestamp, out);
                out.push(b',');
                csv_text(out, b.str(r.name), self.neutralise);
                if !self.columns.is_empty() {
                    self.property_cells(properties, out);
                }
                self.csv_cells(out, &[b.get(r.visitor_id)]);
                out.push(b',');
                session_id(out, r.session);
            }
            TextFormat::Json | TextFormat::Ndjson => {
                out.push(b'{');
                self.json_time(out, "\"timestamp\"", r.timestamp);
                Self::json_field(out, "name", b.get(r.name));
                out.extend_from_slice(b",\"properties\":");
                // Stored as compact JSON already: copied, not re-encoded.
                out.extend_from_slice(properties.as_bytes());
                Self::json_field(out, "visitor_id", b.get(r.visitor_id));
                out.extend_from_slice(b",\"session_id\":\"");
                session_id(out, r.session);
                out.extend_from_slice(b"\"}");
            }
        }
        self.end(out);
    }

    /// One cell per property column, then the other properties' cell when there is one.
    /// Values are read borrowed from the stored JSON: a number or object is copied as its JSON
    /// text (what the person export writes), a string decoded.
    fn property_cells(&self, properties: &str, out: &mut Vec<u8>) {
        let borrowed: Option<BTreeMap<&str, &RawValue>> = serde_json::from_str(properties).ok();
        let Some(map) = borrowed else {
            // Keys with escapes cannot be borrowed: read this row whole.
            let map: Map<String, Value> = serde_json::from_str(properties).unwrap_or_default();
            for key in self.columns.keys() {
                out.push(b',');
                csv_value(out, map.get(key), self.neutralise);
            }
            if self.columns.has_other() {
                out.push(b',');
                csv_text(out, &self.columns.other_cell(&map), false);
            }
            return;
        };
        for key in self.columns.keys() {
            out.push(b',');
            let Some(raw) = map.get(key.as_str()).map(|r| r.get()) else {
                continue;
            };
            if raw.starts_with('"') {
                match serde_json::from_str::<&str>(raw) {
                    Ok(text) => csv_text(out, text, self.neutralise),
                    Err(_) => {
                        let text: String = serde_json::from_str(raw).unwrap_or_default();
                        csv_text(out, &text, self.neutralise);
                    }
                }
            } else if raw != "null" {
                csv_text(out, raw, false);
            }
        }
        if self.columns.has_other() {
            self.other_cell(&map, out);
        }
    }

    /// The other properties' cell: those without a column, as one JSON object. The stored
    /// JSON is compact already, so each value is copied as it is.
    fn other_cell(&self, map: &BTreeMap<&str, &RawValue>, out: &mut Vec<u8>) {
        let mut other = String::new();
        for (key, raw) in map {
            if self.columns.has_column(key) {
                continue;
            }
            other.push(if other.is_empty() { '{' } else { ',' });
            other.push_str(&serde_json::to_string(key).unwrap_or_default());
            other.push(':');
            other.push_str(raw.get());
        }
        if !other.is_empty() {
            other.push('}');
        }
        out.push(b',');
        csv_text(out, &other, false);
    }

    pub fn session(&mut self, b: &Batch<BulkSession>, r: &BulkSession, out: &mut Vec<u8>) {
        match self.format {
            TextFormat::Csv => {
                session_id(out, r.session);
                out.push(b',');
                self.times.write(r.started_at, out);
                out.push(b',');
                self.times.write(r.ended_at, out);
                out.push(b',');
                integer(out, r.pages_viewed);
                out.push(b',');
                integer(out, r.events_triggered);
                self.csv_cells(out, &[b.get(r.visitor_id)]);
            }
            TextFormat::Json | TextFormat::Ndjson => {
                out.extend_from_slice(b"{\"session_id\":\"");
                session_id(out, r.session);
                out.extend_from_slice(b"\",");
                self.json_time(out, "\"started_at\"", r.started_at);
                out.push(b',');
                self.json_time(out, "\"ended_at\"", r.ended_at);
                out.extend_from_slice(b",\"pages_viewed\":");
                integer(out, r.pages_viewed);
                out.extend_from_slice(b",\"events_triggered\":");
                integer(out, r.events_triggered);
                Self::json_field(out, "visitor_id", b.get(r.visitor_id));
                out.push(b'}');
            }
        }
        self.end(out);
    }

    pub fn visitor(&mut self, r: &VisitorRow, out: &mut Vec<u8>) {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
        let text = [
            r.device.as_deref(),
            r.browser.as_deref(),
            r.country.as_deref(),
            r.user_id.as_deref(),
            r.email.as_deref(),
        ];
        match self.format {
            TextFormat::Csv => {
                csv_text(out, &r.visitor_id, self.neutralise);
                for t in [time(r.first_seen), time(r.last_seen)] {
                    out.push(b',');
                    if let Some(ms) = t {
                        self.times.write(ms, out);
                    }
                }
                out.push(b',');
                integer(out, r.pageviews);
                out.push(b',');
                integer(out, r.sessions);
                self.csv_cells(out, &text);
            }
            TextFormat::Json | TextFormat::Ndjson => {
                out.extend_from_slice(b"{\"visitor_id\":");
                json_text(out, Some(&r.visitor_id));
                for (name, t) in [
                    ("first_seen", time(r.first_seen)),
                    ("last_seen", time(r.last_seen)),
                ] {
                    out.extend_from_slice(b",\"");
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"\":");
                    match t {
                        Some(ms) => {
                            out.push(b'"');
                            self.times.write(ms, out);
                            out.push(b'"');
                        }
                        None => out.extend_from_slice(b"null"),
                    }
                }
                out.extend_from_slice(b",\"pageviews\":");
                integer(out, r.pageviews);
                out.extend_from_slice(b",\"sessions\":");
                integer(out, r.sessions);
                for (name, value) in VISITOR_COLUMNS[5..].iter().zip(text) {
                    Self::json_field(out, name, value);
                }
                out.push(b'}');
            }
        }
        self.end(out);
    }
}
