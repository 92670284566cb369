//! One CSV file per data type, RFC 4180 (comma, CRLF, quotes only where needed), headers as
//! the reference page gives them, then Ferry's own columns at the end:
//!
//! ```text
//! pageviews.csv  timestamp,url,title,referrer,device,browser,country,website_id
//! events.csv     timestamp,name,property_<key>…,website_id   (one column per key seen, sorted;
//!                past 200 keys the rest share one `properties_other` column: `property_columns`)
//! sessions.csv   session_id,started_at,ended_at,pages_viewed,events_triggered,website_id
//! profile.csv    user_id,email,name,created_at,property_<key>…
//! ```
//!
//! The reference columns are a promise to scripts that read them by position: columns may be
//! added at the end, never renamed, reordered or dropped. `website_id` (as every JSON and
//! NDJSON row carries it) tells apart the rows of a person seen on several websites.
//!
//! A text cell that a spreadsheet would run as a formula is prefixed with `'` unless
//! `neutralise` is off ([`crate::formula`]). Numbers are written as they are.

use std::io::{self, Write};

use ferry_domain::export::{EventRow, PageviewRow, Profile, SessionRow};
use serde_json::{Map, Value};

use crate::formula;
use crate::property_columns::PropertyColumns;
use crate::rows::timestamp;

pub const PAGEVIEWS_HEADER: [&str; 7] = [
    "timestamp",
    "url",
    "title",
    "referrer",
    "device",
    "browser",
    "country",
];
pub const SESSIONS_HEADER: [&str; 5] = [
    "session_id",
    "started_at",
    "ended_at",
    "pages_viewed",
    "events_triggered",
];
/// After every reference column (and after the property columns of events).
pub const WEBSITE_ID: &str = "website_id";

/// A CSV file being written.
pub struct CsvFile<W: Write> {
    out: csv::Writer<W>,
    neutralise: bool,
}

fn csv_error(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> CsvFile<W> {
    pub fn new(out: W, header: &[String], neutralise: bool) -> io::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        out.write_record(header).map_err(csv_error)?;
        Ok(CsvFile { out, neutralise })
    }

    fn text<'a>(&self, cell: &'a str) -> std::borrow::Cow<'a, str> {
        if self.neutralise {
            formula::neutralised(cell)
        } else {
            cell.into()
        }
    }

    fn value(&self, value: Option<&Value>) -> String {
        match value {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => self.text(s).into_owned(),
            Some(other) => other.to_string(),
        }
    }

    fn record(&mut self, cells: &[&str]) -> io::Result<()> {
        self.out.write_record(cells).map_err(csv_error)
    }

    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

/// `fixed`, one `property_<key>` column per key, then `trailing`.
fn header(fixed: &[&str], keys: &[String], trailing: &[&str]) -> Vec<String> {
    fixed
        .iter()
        .map(|s| s.to_string())
        .chain(keys.iter().map(|k| format!("property_{k}")))
        .chain(trailing.iter().map(|s| s.to_string()))
        .collect()
}

/// The sorted union of property keys over `maps`.
pub fn property_keys<'a>(maps: impl Iterator<Item = &'a Map<String, Value>>) -> Vec<String> {
    let mut keys: Vec<String> = maps.flat_map(|m| m.keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

pub fn pageviews<W: Write>(
    out: W,
    rows: impl Iterator<Item = io::Result<PageviewRow>>,
    neutralise: bool,
) -> io::Result<(W, u64)> {
    let header = header(&PAGEVIEWS_HEADER, &[], &[WEBSITE_ID]);
    let mut file = CsvFile::new(out, &header, neutralise)?;
    let mut count = 0;
    for row in rows {
        let r = row?;
        let cells = [
            timestamp(r.timestamp),
            file.text(&r.url).into_owned(),
            file.text(r.title.as_deref().unwrap_or("")).into_owned(),
            file.text(r.referrer.as_deref().unwrap_or("")).into_owned(),
            file.text(r.device.as_deref().unwrap_or("")).into_owned(),
            file.text(r.browser.as_deref().unwrap_or("")).into_owned(),
            file.text(r.country.as_deref().unwrap_or("")).into_owned(),
            r.website_id,
        ];
        file.record(&cells.each_ref().map(String::as_str))?;
        count += 1;
    }
    Ok((file.finish()?, count))
}

/// `keys` must hold every property key of the rows (see [`property_keys`]), sorted.
pub fn events<W: Write>(
    out: W,
    keys: &[String],
    rows: impl Iterator<Item = io::Result<EventRow>>,
    neutralise: bool,
) -> io::Result<(W, u64)> {
    let columns = PropertyColumns::new(keys);
    let header: Vec<String> = ["timestamp".to_string(), "name".to_string()]
        .into_iter()
        .chain(columns.header())
        .chain([WEBSITE_ID.to_string()])
        .collect();
    let mut file = CsvFile::new(out, &header, neutralise)?;
    let mut count = 0;
    for row in rows {
        let r = row?;
        let mut cells = vec![timestamp(r.timestamp), file.text(&r.name).into_owned()];
        cells.extend(
            columns
                .keys()
                .iter()
                .map(|k| file.value(r.properties.get(k))),
        );
        if columns.has_other() {
            cells.push(columns.other_cell(&r.properties));
        }
        cells.push(r.website_id);
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        file.record(&refs)?;
        count += 1;
    }
    Ok((file.finish()?, count))
}

pub fn sessions<W: Write>(
    out: W,
    rows: impl Iterator<Item = io::Result<SessionRow>>,
) -> io::Result<(W, u64)> {
    let mut file = CsvFile::new(out, &header(&SESSIONS_HEADER, &[], &[WEBSITE_ID]), false)?;
    let mut count = 0;
    for row in rows {
        let r = row?;
        let cells = [
            r.session_id.clone(),
            timestamp(r.started_at),
            timestamp(r.ended_at),
            r.pages_viewed.to_string(),
            r.events_triggered.to_string(),
            r.website_id,
        ];
        file.record(&cells.each_ref().map(String::as_str))?;
        count += 1;
    }
    Ok((file.finish()?, count))
}

/// The profile as one row (or a header alone for an anonymous visitor).
pub fn profile<W: Write>(
    out: W,
    profile: Option<&Profile>,
    neutralise: bool,
) -> io::Result<(W, u64)> {
    let keys = property_keys(profile.map(|p| &p.properties).into_iter());
    let mut file = CsvFile::new(
        out,
        &header(&["user_id", "email", "name", "created_at"], &keys, &[]),
        neutralise,
    )?;
    let Some(p) = profile else {
        return Ok((file.finish()?, 0));
    };
    let mut cells = vec![
        file.text(&p.user_id).into_owned(),
        file.text(p.email.as_deref().unwrap_or("")).into_owned(),
        file.text(p.name.as_deref().unwrap_or("")).into_owned(),
        timestamp(p.created_at),
    ];
    cells.extend(keys.iter().map(|k| file.value(p.properties.get(k))));
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    file.record(&refs)?;
    Ok((file.finish()?, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, props: Value) -> io::Result<EventRow> {
        Ok(EventRow {
            timestamp: 1_736_869_500_000,
            name: name.into(),
            properties: props.as_object().cloned().unwrap_or_default(),
            website_id: "web_1".into(),
        })
    }

    #[test]
    fn event_properties_become_sorted_columns_and_formulas_are_defused() {
        let rows = vec![
            event(
                "add_to_cart",
                json!({"product_id": "SKU-001", "price": 99.99}),
            ),
            event(
                "=HYPERLINK(\"x\")",
                json!({"quantity": 1, "note": "a, \"quoted\"\nline", "delta": -5}),
            ),
        ];
        let keys = vec![
            "delta".into(),
            "note".into(),
            "price".into(),
            "product_id".into(),
            "quantity".into(),
        ];
        let (out, n) = events(Vec::new(), &keys, rows.into_iter(), true).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "timestamp,name,property_delta,property_note,property_price,property_product_id,property_quantity,website_id\r\n\
             2025-01-14T15:45:00Z,add_to_cart,,,99.99,SKU-001,,web_1\r\n\
             2025-01-14T15:45:00Z,\"'=HYPERLINK(\"\"x\"\")\",-5,\"a, \"\"quoted\"\"\nline\",,,1,web_1\r\n"
        );
    }
}
