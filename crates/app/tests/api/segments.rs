//! Export segments: closed days formatted ahead of time by the compactor. A bulk export that
//! copies them has the same bytes as one that reads every row; a late row, a damaged file or
//! a part boundary inside a block never loses or changes a row.

use chrono::Utc;
use ferry::segments::SegmentFiles;
use ferry::segments::build::Compactor;
use ferry_domain::bulk::SegmentRecord;
use serde_json::{Value, json};

use crate::bulk_exports::{bulk, download_zip, traffic};
use crate::helpers::*;

async fn compact(app: &TestApp) -> ferry::segments::build::Report {
    Compactor {
        store: app.store.clone(),
        files: SegmentFiles::new(app.data_dir()),
        level: 1,
    }
    .run_once(Utc::now().timestamp_millis(), 2)
    .await
    .expect("the compactor runs")
}

async fn ready(app: &TestApp) -> Vec<SegmentRecord> {
    let mut records = app
        .store
        .segments(&app.website, (0, i64::MAX / 2))
        .await
        .unwrap();
    records.retain(|r| r.ready);
    records
}

/// The data files of a bulk export of the two days, as (name, bytes).
async fn data_files(app: &TestApp, format: &str, part_size: u64) -> Vec<(String, Vec<u8>)> {
    let job = bulk(
        app,
        json!({"format": format, "include": ["pageviews", "events"], "from": "2024-05-01",
               "to": "2024-05-02", "part_size": part_size}),
    )
    .await;
    let mut files = download_zip(app, &job).await;
    files.retain(|(name, _)| name.starts_with("pageviews-") || name.starts_with("events-"));
    files
}

fn zip_opens_in_unzip_and_python(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    std::fs::write(&path, bytes).unwrap();
    let unzip = std::process::Command::new("unzip")
        .arg("-tq")
        .arg(&path)
        .output()
        .expect("unzip is installed");
    assert!(unzip.status.success(), "{:?}", unzip);
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; assert zipfile.ZipFile(sys.argv[1]).testzip() is None",
        ])
        .arg(&path)
        .output()
        .expect("python3 is installed");
    assert!(python.status.success(), "{:?}", python);
}

#[tokio::test]
async fn segments_give_the_same_bytes_and_a_late_row_or_a_damaged_file_loses_nothing() {
    let app = spawn_app_with_small_parts().await;
    traffic(&app).await;
    let live_csv = data_files(&app, "csv", 1_000_000_000).await;
    let live_ndjson = data_files(&app, "ndjson", 1_000_000_000).await;
    // A part size that puts part boundaries inside the segments' blocks.
    let live_small = data_files(&app, "csv", 1_500).await;

    let report = compact(&app).await;
    // Two days × page views and events × CSV and NDJSON.
    assert_eq!(report.built, 8, "{report:?}");
    assert_eq!(report.rows, 2 * (60 + 12));
    let mut records = ready(&app).await;
    records.retain(|r| r.rows > 0);
    assert_eq!(records.len(), 8);
    for r in &records {
        assert!(SegmentFiles::new(app.data_dir()).path(r.id).exists());
    }
    assert_eq!(
        compact(&app).await.built,
        0,
        "a second pass finds nothing to build"
    );

    assert_eq!(data_files(&app, "csv", 1_000_000_000).await, live_csv);
    assert_eq!(data_files(&app, "ndjson", 1_000_000_000).await, live_ndjson);
    assert_eq!(data_files(&app, "csv", 1_500).await, live_small);
    let job = bulk(
        &app,
        json!({"format": "csv", "from": "2024-05-01", "to": "2024-05-02"}),
    )
    .await;
    let (_, zip) = crate::exports::fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    zip_opens_in_unzip_and_python(&zip);

    // A late page view for the first day drops that day's page-view segments only.
    app.ingest_ok(&[pageview(
        &app.website,
        "late",
        "2024-05-01T23:59:59Z",
        "/late",
    )])
    .await;
    let mut left = ready(&app).await;
    left.retain(|r| r.rows > 0);
    assert_eq!(left.len(), 6);
    assert!(
        left.iter()
            .all(|r| r.key.data_type == "events" || r.key.window.0 > records[0].key.window.0)
    );
    let with_late = data_files(&app, "csv", 1_000_000_000).await;
    let pageviews = String::from_utf8(with_late[0].1.clone()).unwrap();
    assert_eq!(pageviews.lines().count(), 1 + 61);
    assert!(pageviews.contains("/late"));
    assert_eq!(
        compact(&app).await.built,
        2,
        "the changed day is built again"
    );
    let files = SegmentFiles::new(app.data_dir());
    for old in records.iter().filter(|r| !left.contains(r)) {
        assert!(
            !files.path(old.id).exists(),
            "a forgotten segment's file is removed"
        );
    }
    assert_eq!(data_files(&app, "csv", 1_000_000_000).await, with_late);

    // A damaged file: the export reads that day live and the segment is forgotten.
    let damaged = ready(&app)
        .await
        .into_iter()
        .find(|r| r.key.data_type == "events" && r.key.format == "csv")
        .unwrap();
    let path = SegmentFiles::new(app.data_dir()).path(damaged.id);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(data_files(&app, "csv", 1_000_000_000).await, with_late);
    assert!(ready(&app).await.iter().all(|r| r.id != damaged.id));
}

#[tokio::test]
async fn only_closed_days_get_segments_and_events_csv_columns_follow_every_day() {
    let app = spawn_app().await;
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let w = &app.website;
    app.ingest_ok(&[
        json!({"type": "event", "website_id": w, "visitor_id": "a", "timestamp": "2024-05-01T10:00:00Z",
               "name": "signup", "properties": {"plan": "pro"}}),
        json!({"type": "event", "website_id": w, "visitor_id": "b", "timestamp": "2024-05-02T10:00:00Z",
               "name": "signup", "properties": {"coupon": "=HACK"}}),
        json!({"type": "event", "website_id": w, "visitor_id": "c", "timestamp": format!("{today}T00:00:01Z"),
               "name": "signup", "properties": {"plan": "free", "seats": 3}}),
    ])
    .await;
    compact(&app).await;
    let records = ready(&app).await;
    let today_start = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    assert!(!records.is_empty());
    assert!(
        records.iter().all(|r| r.key.window.1 <= today_start),
        "today is still open"
    );
    let days: Vec<&SegmentRecord> = records
        .iter()
        .filter(|r| r.key.data_type == "events" && r.key.format == "csv" && r.rows > 0)
        .collect();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].event_keys, ["plan"]);
    assert_eq!(days[1].event_keys, ["coupon"]);

    // The export's columns are every day's keys; days whose segments lack some are read live.
    let job = bulk(&app, json!({"format": "csv", "include": ["events"]})).await;
    let files = download_zip(&app, &job).await;
    let events = String::from_utf8(files[0].1.clone()).unwrap();
    let lines: Vec<&str> = events.lines().collect();
    assert_eq!(
        lines[0],
        "timestamp,name,property_coupon,property_plan,property_seats,visitor_id,session_id"
    );
    assert_eq!(lines.len(), 4, "{events}");
    assert!(lines[1].contains(",signup,,pro,,a,"), "{}", lines[1]);
    assert!(lines[2].contains(",signup,'=HACK,,,b,"), "{}", lines[2]);
    let json_job = bulk(&app, json!({"format": "ndjson", "include": ["events"]})).await;
    let json_files = download_zip(&app, &json_job).await;
    let rows: Vec<Value> = String::from_utf8(json_files[0].1.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["properties"], json!({"plan": "pro"}));
}

#[tokio::test]
async fn segments_of_an_older_row_layout_are_dropped_and_rebuilt() {
    let app = spawn_app().await;
    traffic(&app).await;
    let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let key = ferry_domain::bulk::SegmentKey {
        data_type: "pageviews".into(),
        format: "csv".into(),
        layout: "0".into(),
        window: (day, day + 86_400_000),
    };
    let old = app
        .store
        .claim_segment(&app.website, key, 0)
        .await
        .unwrap()
        .unwrap();
    let facts = ferry_domain::bulk::SegmentFacts {
        rows: 30,
        ..Default::default()
    };
    assert!(app.store.complete_segment(old, facts).await.unwrap());
    compact(&app).await;
    let records = ready(&app).await;
    assert!(
        records.iter().all(|r| r.id != old && r.key.layout != "0"),
        "the old layout is gone (and its id is not reused)"
    );
    assert!(records.iter().any(|r| r.key.window.0 == day
        && r.key.data_type == "pageviews"
        && r.key.format == "csv"
        && r.key.layout == ferry_export::bulk::segment::LAYOUT));
}

/// Session ids of a bulk CSV export of 2024-05-01 and 02: (named by page views, listed in
/// sessions).
async fn session_ids_exported(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let job = bulk(
        app,
        json!({"format": "csv", "include": ["pageviews", "sessions"], "from": "2024-05-01",
               "to": "2024-05-02"}),
    )
    .await;
    let files = download_zip(app, &job).await;
    let column = |stem: &str, pick: fn(&str) -> String| -> Vec<String> {
        files
            .iter()
            .filter(|(name, _)| name.starts_with(stem))
            .flat_map(|(_, bytes)| {
                let text = String::from_utf8(bytes.clone()).unwrap();
                text.lines().skip(1).map(pick).collect::<Vec<_>>()
            })
            .collect()
    };
    let named = column("pageviews", |row| {
        row.rsplit(',').next().unwrap().to_string()
    });
    let listed = column("sessions", |row| row.split(',').next().unwrap().to_string());
    (named, listed)
}

#[tokio::test]
async fn a_late_row_that_merges_sessions_across_midnight_leaves_no_segment_naming_a_gone_session() {
    let app = spawn_app().await;
    let w = &app.website;
    // Two sessions of one visitor: one at 22:00, one from 22:50 past midnight.
    let times = [
        "2024-05-01T22:00:00Z",
        "2024-05-01T22:50:00Z",
        "2024-05-01T23:15:00Z",
        "2024-05-01T23:40:00Z",
        "2024-05-02T00:05:00Z",
    ];
    let views: Vec<Value> = times.iter().map(|t| pageview(w, "v9", t, "/")).collect();
    app.ingest_ok(&views).await;
    let (named, listed) = session_ids_exported(&app).await;
    assert_eq!((named.len(), listed.len()), (5, 2));
    assert!(compact(&app).await.built >= 2, "both days have segments");

    // 22:25 is within 30 minutes of both: the two sessions become one.
    app.ingest_ok(&[pageview(w, "v9", "2024-05-01T22:25:00Z", "/late")])
        .await;
    let (named, listed) = session_ids_exported(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(named.len(), 6);
    for id in &named {
        assert_eq!(id, &listed[0], "every page view names the merged session");
    }
}
