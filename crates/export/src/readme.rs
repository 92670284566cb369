//! `README.txt`: what each file and column means, in plain words for the person receiving it.

use std::fmt::Write as _;

use ferry_domain::export::{DataType, Format};

use crate::person::PersonExport;

const PAGEVIEWS: &str = "Pages you viewed: timestamp (UTC), url, title of the page, referrer (the page you came from), device (desktop, mobile, tablet), browser, country (two-letter code).";
const EVENTS: &str = "Actions recorded on the sites, such as adding to a cart: timestamp (UTC), name of the action, and its details (in CSV, one property_<name> column per detail).";
const SESSIONS: &str = "Visits: a visit ends after 30 minutes without activity. session_id, started_at and ended_at (UTC), pages_viewed, events_triggered.";
const PROFILE: &str = "What the site knows about you as a user: user_id, email, name, created_at (UTC), and other properties the site recorded (such as plan or company).";

pub fn text(export: &PersonExport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Your data export {}", export.export_id);
    let _ = writeln!(
        out,
        "Generated {} (all times are UTC).\n",
        export.generated_at
    );
    let _ = writeln!(
        out,
        "This archive holds the data collected about you, in a machine-readable format you can\nopen or take to another service. manifest.json lists every file with its size and\nSHA-256 checksum, the identities (visitor ids on each website) that were matched to you,\nand how many rows each file has.\n"
    );
    for t in export.data_types {
        let (what, about) = match t {
            DataType::Pageviews => ("pageviews", PAGEVIEWS),
            DataType::Events => ("events", EVENTS),
            DataType::Sessions => ("sessions", SESSIONS),
            DataType::Profile => ("profile", PROFILE),
            // A website's data types: described by the bulk export's own README.
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
    out
}
