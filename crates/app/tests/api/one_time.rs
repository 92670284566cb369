//! One-time links under attack: simultaneous requests, resumes that never end, and resumes a
//! day later. Real parallel requests at the real server.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::{export, fetch, person};
use crate::helpers::*;

async fn one_time_link(app: &TestApp) -> (String, u64) {
    person(app).await;
    let job = export(app, json!({"format": "json", "one_time": true})).await;
    let url = job["download_url"].as_str().unwrap().to_string();
    (url, job["files"][0]["bytes"].as_u64().unwrap())
}

async fn get(app: &TestApp, url: &str, range: Option<&str>) -> (StatusCode, Vec<u8>) {
    fetch(app, url, range).await
}

#[tokio::test]
async fn of_many_simultaneous_requests_on_a_one_time_link_exactly_one_gets_the_file() {
    let app = spawn_app().await;
    let (url, bytes) = one_time_link(&app).await;
    let requests = (0..12).map(|_| get(&app, &url, None));
    let answers = futures_util::future::join_all(requests).await;
    let served: Vec<&(StatusCode, Vec<u8>)> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .collect();
    assert_eq!(
        served.len(),
        1,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(
        served[0].1.len() as u64,
        bytes,
        "the one served gets the whole file"
    );
    let refused = answers
        .iter()
        .filter(|(status, body)| {
            *status == StatusCode::GONE
                && serde_json::from_slice::<Value>(body).unwrap()["error"]["code"] == "link_used"
        })
        .count();
    assert_eq!(refused, 11);
}

#[tokio::test]
async fn a_one_time_link_resumes_by_range_but_never_serves_a_second_fresh_download() {
    let mut app = spawn_app().await;
    let (url, bytes) = one_time_link(&app).await;
    let (status, head) = get(&app, &url, Some("bytes=0-9")).await;
    assert_eq!((status, head.len()), (StatusCode::PARTIAL_CONTENT, 10));
    app.downloads_recorded(1).await;
    let (status, _) = get(&app, &url, None).await;
    assert_eq!(status, StatusCode::GONE, "a fresh download after the claim");
    let (status, rest) = get(&app, &url, Some("bytes=10-")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!((head.len() + rest.len()) as u64, bytes);
    app.downloads_recorded(1).await;
    let (status, _) = get(&app, &url, Some("bytes=0-")).await;
    assert_eq!(status, StatusCode::GONE, "downloaded whole: used up");
}

#[tokio::test]
async fn resumes_that_never_finish_stop_at_the_file_plus_one_mebibyte() {
    let app = spawn_app().await;
    // A file of some 300 KB, so that the budget runs out within a few requests.
    let long = "x".repeat(1_000);
    let views: Vec<Value> = (0..300)
        .map(|i| {
            pageview(
                &app.website,
                "v1",
                "2024-05-01T10:00:00Z",
                &format!("/{i}/{long}"),
            )
        })
        .collect();
    app.ingest_ok(&views).await;
    let (url, bytes) = one_time_link(&app).await;
    assert!(bytes > 300_000, "{bytes}");
    // Every request stops one byte short of the end, so none completes the download.
    let short = format!("bytes=0-{}", bytes - 2);
    let mut served = 0u64;
    let mut answers = 0;
    loop {
        let (status, body) = get(&app, &url, Some(&short)).await;
        answers += 1;
        if status != StatusCode::PARTIAL_CONTENT {
            assert_eq!(status, StatusCode::GONE);
            break;
        }
        served += body.len() as u64;
        assert!(answers < 100, "the budget never ran out");
    }
    let budget = bytes + (1 << 20);
    assert!(served <= budget, "{served} bytes served, budget {budget}");
    assert!(
        served + bytes > budget,
        "the budget is used, not cut short: {served}"
    );
}

#[tokio::test]
async fn a_one_time_link_can_be_resumed_only_within_a_day_of_its_first_use() {
    let app = spawn_app().await;
    let (url, _) = one_time_link(&app).await;
    let (status, _) = get(&app, &url, Some("bytes=0-9")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    app.clock.advance(24 * 3_600_000 + 1_000);
    let (status, body) = get(&app, &url, Some("bytes=10-")).await;
    assert_eq!(status, StatusCode::GONE);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "link_used");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over a day ago")
    );
}

#[tokio::test]
async fn a_range_header_that_is_not_text_is_refused_like_any_unreadable_range() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"format": "json"})).await;
    let url = job["download_url"].as_str().unwrap();
    let range = reqwest::header::HeaderValue::from_bytes(b"bytes=\xff-").unwrap();
    let response = app
        .client
        .get(url)
        .header(reqwest::header::RANGE, range)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert!(
        response
            .headers()
            .contains_key(reqwest::header::CONTENT_RANGE)
    );
}
