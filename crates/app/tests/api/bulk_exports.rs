//! Website-wide bulk exports over HTTP: parts on exact boundaries, one link per file, an empty
//! range, requests refused before anything is queued. Plan and rate limits: `limits`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::exports::{fetch, post, wait_until_completed};
use crate::helpers::*;

/// 60 page views with URLs of varied length and 12 events with properties, over two days.
pub(crate) async fn traffic(app: &TestApp) {
    let w = &app.website;
    let mut lines = Vec::new();
    for i in 0..60 {
        let visitor = format!("v{}", i % 7);
        let at = format!(
            "2024-05-0{}T{:02}:{:02}:00Z",
            1 + i / 30,
            8 + (i % 30) / 6,
            (i * 7) % 60
        );
        let url = format!("/products/{}{}", "x".repeat(i % 23), i);
        lines.push(pageview(w, &visitor, &at, &url));
        if i % 5 == 0 {
            lines.push(json!({"type": "event", "website_id": w, "visitor_id": visitor, "timestamp": at,
                "name": "add_to_cart", "properties": {"sku": format!("SKU-{i}"), "note": "a, \"quoted\"", "qty": i}}));
        }
    }
    app.ingest_ok(&lines).await;
}

pub(crate) async fn bulk(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["kind"] = json!("bulk");
    body["website_id"] = json!(app.website);
    let response = post(app, "/exports", body).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{:?}",
        response.text().await
    );
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["kind"], "bulk");
    wait_until_completed(app, queued["export_id"].as_str().unwrap()).await
}

pub(crate) async fn download_zip(app: &TestApp, job: &Value) -> Vec<(String, Vec<u8>)> {
    let (status, bytes) = fetch(app, job["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        job["files"][0]["sha256"]
    );
    unzip(&bytes)
}

/// The parts of one data file, in order.
fn parts<'a>(files: &'a [(String, Vec<u8>)], stem: &str) -> Vec<&'a (String, Vec<u8>)> {
    let found: Vec<_> = files
        .iter()
        .filter(|(n, _)| n.starts_with(&format!("{stem}-")))
        .collect();
    for (i, (name, _)) in found.iter().enumerate() {
        assert!(
            name.starts_with(&format!("{stem}-{:05}.", i + 1)),
            "parts numbered in order: {name}"
        );
    }
    found
}

#[tokio::test]
async fn csv_parts_close_exactly_where_the_next_row_would_overflow_and_reassemble_every_row() {
    let app = spawn_app_with_small_parts().await;
    traffic(&app).await;
    let part_size = 512u64;
    let job = bulk(
        &app,
        json!({"format": "csv", "part_size": part_size, "from": "2024-05-01", "to": "2024-05-02"}),
    )
    .await;
    assert_eq!(job["progress"]["rows_total"], job["progress"]["rows"]);
    assert_eq!(job["progress"]["percent"], 100.0);
    let files = download_zip(&app, &job).await;
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(manifest["row_counts"]["pageviews"], 60);
    assert_eq!(manifest["row_counts"]["events"], 12);
    for entry in manifest["files"].as_array().unwrap() {
        let (_, bytes) = files
            .iter()
            .find(|(n, _)| n == entry["name"].as_str().unwrap())
            .unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(bytes)), entry["sha256"]);
    }
    for (stem, expected) in [("pageviews", 60), ("events", 12)] {
        let parts = parts(&files, stem);
        assert!(
            parts.len() >= 2,
            "{stem} split into several parts: {}",
            parts.len()
        );
        let mut rows: Vec<String> = Vec::new();
        let mut header = None;
        for (i, (name, bytes)) in parts.iter().enumerate() {
            assert!(
                bytes.len() as u64 <= part_size,
                "{name} is {} bytes",
                bytes.len()
            );
            let text = String::from_utf8(bytes.clone()).unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let head = reader.headers().unwrap().clone();
            assert_eq!(
                header.get_or_insert(head.clone()),
                &head,
                "every part repeats the header"
            );
            let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            assert!(!records.is_empty(), "no empty part");
            if let Some((_, next)) = parts.get(i + 1) {
                // The next part's first row would not have fitted here.
                let next = String::from_utf8(next.clone()).unwrap();
                let first_row = next.split_inclusive("\r\n").nth(1).unwrap();
                assert!(
                    bytes.len() + first_row.len() > part_size as usize,
                    "{name} closed early"
                );
            }
            rows.extend(
                records
                    .iter()
                    .map(|r| r.iter().collect::<Vec<_>>().join("|")),
            );
        }
        assert_eq!(
            rows.len(),
            expected,
            "{stem}: every row in exactly one part"
        );
        if stem == "pageviews" {
            // Reassembled, the parts give back the page views as they were sent, in order.
            let urls: Vec<&str> = rows.iter().map(|r| r.split('|').nth(1).unwrap()).collect();
            let sent: Vec<String> = (0..60)
                .map(|i| format!("/products/{}{}", "x".repeat(i % 23), i))
                .collect();
            assert_eq!(urls, sent);
        }
        let mut unique = rows.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), rows.len(), "no row twice");
    }
    let events = parts(&files, "events");
    let header = String::from_utf8(events[0].1.clone()).unwrap();
    assert!(
        header.starts_with(
            "timestamp,name,property_note,property_qty,property_sku,visitor_id,session_id\r\n"
        ),
        "{header}"
    );
    assert!(
        header.contains("\"a, \"\"quoted\"\"\""),
        "CSV quoting survives: {header}"
    );
}

#[tokio::test]
async fn json_parts_are_whole_documents_and_ndjson_parts_are_whole_lines() {
    let app = spawn_app_with_small_parts().await;
    traffic(&app).await;
    let job = bulk(&app, json!({"format": "json", "part_size": 2048, "include": ["pageviews", "sessions", "visitors", "summary"]})).await;
    let files = download_zip(&app, &job).await;
    let mut count = 0;
    for (i, (_, bytes)) in parts(&files, "pageviews").iter().enumerate() {
        assert!(bytes.len() <= 2048);
        let doc: Value = serde_json::from_slice(bytes).expect("each part parses alone");
        assert_eq!(doc["part"], i + 1);
        assert_eq!(doc["website_id"], json!(app.website));
        count += doc["pageviews"].as_array().unwrap().len();
    }
    assert_eq!(count, 60);
    let visitors: Value = serde_json::from_slice(&parts(&files, "visitors")[0].1).unwrap();
    assert_eq!(visitors["visitors"].as_array().unwrap().len(), 7);
    let summary: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "summary.json").unwrap().1)
            .unwrap();
    assert_eq!(summary["totals"]["pageviews"], 60);
    assert!(files.iter().any(|(n, _)| n == "README.txt"));

    let job = bulk(
        &app,
        json!({"format": "ndjson", "part_size": 1500, "include": ["events"]}),
    )
    .await;
    let files = download_zip(&app, &job).await;
    let lines: Vec<Value> = parts(&files, "events")
        .iter()
        .flat_map(|(_, b)| {
            String::from_utf8(b.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0]["properties"]["note"], "a, \"quoted\"");
}

#[tokio::test]
async fn separate_files_each_have_a_link_and_one_time_links_die_per_file() {
    let app = spawn_app_with_small_parts().await;
    traffic(&app).await;
    let job = bulk(&app, json!({"format": "csv", "zip": false, "part_size": 1024, "include": ["pageviews"], "one_time": true})).await;
    let files = job["files"].as_array().unwrap();
    assert_eq!(files[0]["name"], "manifest.json");
    assert!(files.len() >= 5, "manifest, parts, README: {files:?}");
    let (status, manifest) = fetch(&app, files[0]["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    let mut rows = 0;
    for file in &files[1..] {
        let url = file["download_url"].as_str().unwrap();
        let (status, bytes) = fetch(&app, url, None).await;
        assert_eq!(status, StatusCode::OK, "{}", file["name"]);
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), file["sha256"]);
        let listed = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == file["name"])
            .unwrap();
        assert_eq!(listed["sha256"], file["sha256"]);
        if file["name"].as_str().unwrap().ends_with(".csv") {
            rows += String::from_utf8(bytes).unwrap().matches("\r\n").count() - 1;
        }
        let (again, _) = fetch(&app, url, None).await;
        assert_eq!(again, StatusCode::GONE, "a one-time file link works once");
    }
    assert_eq!(rows, 60);
    let done = app
        .get_json(&app.api(&format!("/exports/{}", job["export_id"].as_str().unwrap())))
        .await;
    assert_eq!(
        done["download_url"],
        Value::Null,
        "used up once every file was fetched"
    );
}

#[tokio::test]
async fn a_bulk_export_of_an_empty_range_is_a_valid_empty_package() {
    let app = spawn_app().await;
    traffic(&app).await;
    for format in ["csv", "json", "ndjson", "parquet"] {
        let job = bulk(
            &app,
            json!({"format": format, "from": "2001-01-01", "to": "2001-01-31"}),
        )
        .await;
        let files = download_zip(&app, &job).await;
        let manifest: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
                .unwrap();
        for t in ["pageviews", "events", "sessions", "visitors"] {
            assert_eq!(manifest["row_counts"][t], 0, "{format} {t}");
            let part = &parts(&files, t)[0].1;
            match format {
                "csv" => assert!(
                    String::from_utf8(part.clone()).unwrap().ends_with("\r\n") && !part.is_empty()
                ),
                "json" => assert_eq!(serde_json::from_slice::<Value>(part).unwrap()[t], json!([])),
                "ndjson" => assert!(part.is_empty()),
                _ => assert_eq!(&part[..4], b"PAR1"),
            }
        }
        let summary: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "summary.json").unwrap().1)
                .unwrap();
        assert_eq!(summary["totals"]["pageviews"], 0);
    }
}

#[tokio::test]
async fn bulk_requests_are_checked_before_anything_is_queued() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"kind": "bulk"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "website_required",
        ),
        (
            json!({"kind": "bulk", "website_id": "web_nope"}),
            StatusCode::NOT_FOUND,
            "website_not_found",
        ),
        (
            json!({"kind": "bulk", "website_id": app.website, "subject": {"user_id": "u"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_kind",
        ),
        (
            json!({"kind": "bulk", "website_id": app.website, "part_size": 10}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_part_size",
        ),
        (
            // Parts under 1 MiB would only multiply files.
            json!({"kind": "bulk", "website_id": app.website, "part_size": (1 << 20) - 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_part_size",
        ),
        (
            json!({"kind": "bulk", "website_id": app.website, "include": ["clicks"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_include",
        ),
        (
            json!({"subject": {"user_id": "u"}, "format": "parquet"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        ),
        (
            json!({"subject": {"user_id": "u"}, "include": ["visitors"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_include",
        ),
        (
            json!({"kind": "everything", "website_id": app.website}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_kind",
        ),
    ];
    for (body, status, code) in cases {
        let (got, got_code) = error_code(post(&app, "/exports", body.clone()).await).await;
        assert_eq!((got, got_code.as_str()), (status, code), "{body}");
    }
    let listed = app.get_json(&app.api("/exports")).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
}
