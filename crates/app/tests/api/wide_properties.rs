//! Attacker-sized columns: events with hundreds of distinct property keys. The first 200 keys
//! (sorted) get a CSV column each; the rest of each row's properties share one JSON column,
//! `properties_other`, so no value is lost and the header stays bounded. Bulk exports read
//! through segments write the same bytes as live ones.

use std::collections::BTreeMap;

use chrono::Utc;
use ferry::segments::SegmentFiles;
use ferry::segments::build::Compactor;
use serde_json::{Map, Value, json};

use crate::bulk_exports::{bulk, download_zip};
use crate::helpers::*;
use crate::output::csv_rows;

const KEYS: usize = 250;
const COLUMNS: usize = 200;

/// Five events of 50 new keys each (a line takes at most 64), then one with a single key.
async fn wide_events(app: &TestApp, visitor: &str) -> Vec<Map<String, Value>> {
    let mut sent = Vec::new();
    let mut lines = Vec::new();
    for chunk in 0..KEYS / 50 {
        let properties: Map<String, Value> = (chunk * 50..chunk * 50 + 50)
            .map(|k| (format!("k{k:03}"), json!(format!("v{k}, \"{k}\""))))
            .collect();
        sent.push(properties);
    }
    sent.push([("k000".to_string(), json!(7))].into_iter().collect());
    for (i, properties) in sent.iter().enumerate() {
        lines.push(json!({"type": "event", "website_id": app.website, "visitor_id": visitor,
            "timestamp": format!("2024-05-01T10:{i:02}:00Z"), "name": "spam", "properties": properties}));
    }
    lines.push(json!({"type": "identify", "website_id": app.website, "visitor_id": visitor, "user_id": "wide"}));
    app.ingest_ok(&lines).await;
    sent
}

/// Each row's properties put back together from its columns and its `properties_other` cell.
fn reassembled(header: &[String], rows: &[Vec<String>]) -> Vec<BTreeMap<String, Value>> {
    rows.iter()
        .map(|row| {
            let mut properties = BTreeMap::new();
            for (name, cell) in header.iter().zip(row) {
                if let Some(key) = name.strip_prefix("property_") {
                    if !cell.is_empty() {
                        let value = serde_json::from_str(cell).unwrap_or(json!(cell));
                        properties.insert(key.to_string(), value);
                    }
                } else if name == "properties_other" && !cell.is_empty() {
                    let other: Map<String, Value> = serde_json::from_str(cell).unwrap();
                    properties.extend(other);
                }
            }
            properties
        })
        .collect()
}

fn expected_header(trailing: &[&str]) -> Vec<String> {
    let mut header = vec!["timestamp".to_string(), "name".to_string()];
    header.extend((0..COLUMNS).map(|k| format!("property_k{k:03}")));
    header.push("properties_other".into());
    header.extend(trailing.iter().map(|s| s.to_string()));
    header
}

#[tokio::test]
async fn a_websites_events_csv_has_at_most_200_property_columns_and_the_rest_in_one_json_column() {
    let app = spawn_app().await;
    let sent = wide_events(&app, "a").await;
    let body =
        json!({"format": "csv", "include": ["events"], "from": "2024-05-01", "to": "2024-05-01"});
    let job = bulk(&app, body.clone()).await;
    let live = download_zip(&app, &job).await;
    let events = &live
        .iter()
        .find(|(n, _)| n.starts_with("events-"))
        .unwrap()
        .1;
    let (header, rows) = csv_rows(events);
    assert_eq!(header, expected_header(&["visitor_id", "session_id"]));
    assert_eq!(rows.len(), sent.len());
    let sent: Vec<BTreeMap<String, Value>> =
        sent.into_iter().map(|m| m.into_iter().collect()).collect();
    assert_eq!(reassembled(&header, &rows), sent, "no value lost");
    assert_eq!(
        rows[0][2 + COLUMNS],
        "",
        "a row whose keys all have columns"
    );

    // Segments of the day (written with the same keys) give the same bytes.
    let report = Compactor {
        store: app.store.clone(),
        files: SegmentFiles::new(app.data_dir()),
        level: 1,
    }
    .run_once(Utc::now().timestamp_millis(), 1)
    .await
    .unwrap();
    assert!(report.built > 0, "{report:?}");
    let from_segments = download_zip(&app, &bulk(&app, body).await).await;
    let segment_events = &from_segments
        .iter()
        .find(|(n, _)| n.starts_with("events-"))
        .unwrap()
        .1;
    assert_eq!(segment_events, events);
}

#[tokio::test]
async fn a_persons_events_csv_caps_its_property_columns_the_same_way() {
    let app = spawn_app().await;
    let sent = wide_events(&app, "a").await;
    let response = crate::exports::post(&app, "/users/wide/export", json!({"format": "csv"})).await;
    let queued: Value = response.json().await.unwrap();
    let job =
        crate::exports::wait_until_completed(&app, queued["export_id"].as_str().unwrap()).await;
    let (_, bytes) = crate::exports::fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let files = unzip(&bytes);
    let events = &files.iter().find(|(n, _)| n == "events.csv").unwrap().1;
    let (header, rows) = csv_rows(events);
    assert_eq!(header, expected_header(&["website_id"]));
    let sent: Vec<BTreeMap<String, Value>> =
        sent.into_iter().map(|m| m.into_iter().collect()).collect();
    assert_eq!(reassembled(&header, &rows), sent);
}
