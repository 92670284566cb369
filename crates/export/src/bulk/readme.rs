//! `README.txt` of a bulk export: what each file holds and what its columns mean.

use ferry_domain::export::{DataType, Format};

use super::BulkExport;

pub fn text(export: &BulkExport) -> String {
    let ext = match export.format {
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Ndjson => "ndjson",
        Format::Parquet => "parquet",
    };
    let range = match (&export.range.start, &export.range.end) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("{a} onwards"),
        (None, Some(b)) => format!("everything up to {b}"),
        (None, None) => "all time".into(),
    };
    let mut out = format!(
        "Ferry bulk export {id}\n\
         Website {website} ({domain}), {range} (days in {tz}), generated {at}.\n\n\
         Each data file is split into numbered parts of at most {size} bytes\n\
         (name-00001.{ext}, name-00002.{ext}, ...). Every part is a whole file on its own\n\
         (CSV parts repeat the header; JSON parts are complete documents). Read the parts in\n\
         order for the rows in time order. manifest.json lists every file with its size and\n\
         SHA-256, and the rows of each data type.\n\n\
         Timestamps are UTC (RFC 3339, ending in Z).\n\n",
        id = export.export_id,
        website = export.website_id,
        domain = export.domain,
        tz = export.time_zone,
        at = export.generated_at,
        size = export.part_size,
    );
    let sections: [(DataType, &str); 5] = [
        (
            DataType::Pageviews,
            "pageviews-*: one row per page view.\n  timestamp, url, title, referrer, device, browser, country,\n  visitor_id (the tracker's id for the browser), session_id.\n",
        ),
        (
            DataType::Events,
            "events-*: one row per custom event.\n  timestamp, name, the event's properties (CSV: one property_<key> column per key\n  seen in the range, sorted; otherwise a JSON object), visitor_id, session_id.\n",
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
    for (data_type, text) in sections {
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
