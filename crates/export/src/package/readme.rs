//! `README.txt`: what each file and column means, in plain words for whoever opens the
//! package. One generator for every export; the kind of export ([`Kind`]) picks the wording:
//! a person reads about their own data, a website's owner about the parts of a bulk export.

use std::fmt::Write as _;

use ferry_domain::export::{DataType, Format};

use super::manifest::{Description, Kind};

pub fn text(export: &Description) -> String {
    match &export.kind {
        Kind::Person { .. } => person(export),
        Kind::Website {
            website_id,
            domain,
            time_zone,
            part_size,
        } => website(export, website_id, domain, time_zone, *part_size),
    }
}

const PAGEVIEWS: &str = "Pages you viewed: timestamp (UTC), url, title of the page, referrer (the page you came from), device (desktop, mobile, tablet), browser, country (two-letter code), website_id (which website).";
const EVENTS: &str = "Actions recorded on the sites, such as adding to a cart: timestamp (UTC), name of the action, and its details (in CSV, one property_<name> column per detail; past 200 kinds of detail, the rest in one properties_other column as JSON), website_id (which website).";
const SESSIONS: &str = "Visits: a visit ends after 30 minutes without activity. session_id, started_at and ended_at (UTC), pages_viewed, events_triggered, website_id (which website).";
const PROFILE: &str = "What the site knows about you as a user: user_id, email, name, created_at (UTC), and other properties the site recorded (such as plan or company).";

fn person(export: &Description) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Your data export {}", export.export_id);
    let _ = writeln!(
        out,
        "Generated {} (all times are UTC).\n",
        export.generated_at
    );
    let _ = writeln!(
        out,
        "This archive holds the data collected about you, in a machine-readable format you can\nopen or take to another service. manifest.json lists every file with its size and\nSHA-256 checksum, the identities (visitor ids on each website) that were matched to you\nand who vouched for each link (`linked_by`), and how many rows each file has.\n"
    );
    for t in &export.data_types {
        let (what, about) = match t {
            DataType::Pageviews => ("pageviews", PAGEVIEWS),
            DataType::Events => ("events", EVENTS),
            DataType::Sessions => ("sessions", SESSIONS),
            DataType::Profile => ("profile", PROFILE),
            // A website's data types: not part of a person's export.
            DataType::Visitors | DataType::Summary => continue,
        };
        let file = match export.format {
            Format::Json => format!(
                "export.json, \"{}\"",
                if *t == DataType::Profile {
                    "user"
                } else {
                    what
                }
            ),
            Format::Csv => format!("{what}.csv"),
            Format::Ndjson => format!("{what}.ndjson"),
            Format::Parquet => format!("{what}.parquet"),
        };
        let _ = writeln!(out, "{file}\n  {about}\n");
    }
    if export.format == Format::Csv && export.neutralise {
        let _ = writeln!(
            out,
            "In the CSV files, text that begins with = + - or @ starts with an apostrophe, so that a\nspreadsheet shows it instead of running it as a formula.\n"
        );
    }
    if let Kind::Person {
        about: Some(about), ..
    } = &export.kind
    {
        out.push_str(&crate::report::readme_section(about));
    }
    out
}

const WEBSITE_SECTIONS: [(DataType, &str); 5] = [
    (
        DataType::Pageviews,
        "pageviews-*: one row per page view.\n  timestamp, url, title, referrer, device, browser, country,\n  visitor_id (the tracker's id for the browser), session_id.\n",
    ),
    (
        DataType::Events,
        "events-*: one row per custom event.\n  timestamp, name, the event's properties (CSV: one property_<key> column per key\n  seen in the range, sorted, for the first 200 keys; the rest of a row's properties in\n  one properties_other column as a JSON object; otherwise a JSON object), visitor_id,\n  session_id.\n",
    ),
    (
        DataType::Sessions,
        "sessions-*: one row per visit that started in the range (a visit ends after\n  30 minutes without activity).\n  session_id, started_at, ended_at, pages_viewed, events_triggered, visitor_id.\n",
    ),
    (
        DataType::Visitors,
        "visitors-*: one row per visitor with a visit in the range.\n  visitor_id, first_seen, last_seen (ever), pageviews, sessions (in the range),\n  device, browser, country (latest), user_id, email (when identified).\n",
    ),
    (
        DataType::Summary,
        "summary.json: the range's totals (pageviews, visitors, sessions, events,\n  bounce_rate, avg_session_duration in seconds) and one point per day.\n",
    ),
];

fn website(
    export: &Description,
    website_id: &str,
    domain: &str,
    time_zone: &str,
    part_size: u64,
) -> String {
    let ext = export.format.as_str();
    let range = match (&export.date_range.start, &export.date_range.end) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("{a} onwards"),
        (None, Some(b)) => format!("everything up to {b}"),
        (None, None) => "all time".into(),
    };
    let mut out = format!(
        "Ferry bulk export {id}\n\
         Website {website_id} ({domain}), {range} (days in {time_zone}), generated {at}.\n\n\
         Each data file is split into numbered parts of at most {part_size} bytes\n\
         (name-00001.{ext}, name-00002.{ext}, ...). Every part is a whole file on its own\n\
         (CSV parts repeat the header; JSON parts are complete documents). Read the parts in\n\
         order for the rows in time order. manifest.json lists every file with its size and\n\
         SHA-256, and the rows of each data type.\n\n\
         Timestamps are UTC (RFC 3339, ending in Z).\n\n",
        id = export.export_id,
        at = export.generated_at,
    );
    for (data_type, text) in WEBSITE_SECTIONS {
        if export.data_types.contains(&data_type) {
            out.push_str(text);
            out.push('\n');
        }
    }
    if export.format == Format::Csv && export.neutralise {
        out.push_str(
            "CSV text cells that a spreadsheet would run as a formula (starting with = + - @)\n\
             begin with an added ' so that opening the file runs nothing.\n",
        );
    }
    out
}
