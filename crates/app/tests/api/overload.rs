//! One client cannot starve the service: key checks and tracker look-ups have a reader of their
//! own, requests over the concurrency limit are refused at once, and a request over the time
//! limit is stopped — but never an ingest upload in the middle. Real parallel requests at the
//! real server; the readers are held by row streams nobody reads, as a stalled export holds them.

use std::time::Duration;

use ferry::config::ServeArgs;
use ferry_domain::export::{ExportRange, PageviewRow, SubjectRef};
use ferry_store::RowReceiver;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, error_code, pageview, spawn_app, spawn_app_with};

/// More page views than a row stream's channel holds (four batches of 1,000), so a stream
/// nobody reads keeps its reader until it is dropped.
const HOG_ROWS: u32 = 6_000;

fn second(i: u32) -> String {
    format!(
        "2024-05-01T{:02}:{:02}:{:02}Z",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

/// Holds every general reader of the store (and queues more streams behind them), and checks
/// that an ordinary read now waits.
async fn hold_every_reader(app: &TestApp) -> Vec<RowReceiver<PageviewRow>> {
    let lines: Vec<Value> = (0..HOG_ROWS)
        .map(|i| pageview(&app.website, "hog", &second(i), "/p"))
        .collect();
    app.ingest_ok(&lines).await;
    let account = app.store.account_by_name("acme").await.unwrap().unwrap().id;
    let hog = app
        .store
        .find_subject(account, &SubjectRef::VisitorId("hog".into()), None)
        .await
        .unwrap()
        .unwrap();
    let visitors: Vec<i64> = hog.identities.iter().map(|i| i.visitor_key).collect();
    let streams: Vec<_> = (0..6)
        .map(|_| {
            app.store
                .subject_pageviews(visitors.clone(), ExportRange::default())
        })
        .collect();
    // The streams take the readers on tasks of their own: wait until an ordinary read queues.
    let held = async {
        while tokio::time::timeout(Duration::from_millis(100), app.store.websites(account))
            .await
            .is_ok()
        {}
    };
    tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("every general reader is held: an ordinary read waits");
    streams
}

fn tracker_hit(app: &TestApp) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/api/event"))
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0")
        .body(json!({"website_id": app.website, "visitor_id": "v1", "url": "https://shop.example.com/"}).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_checks_and_tracker_hits_answer_while_exports_hold_every_reader() {
    let app = spawn_app().await;
    let streams = hold_every_reader(&app).await;

    let keyed = app.ingest_with(
        Some(&app.admin_key),
        format!(
            "{}\n",
            pageview(&app.website, "v2", "2024-05-02T10:00:00Z", "/")
        ),
    );
    let keyed = tokio::time::timeout(Duration::from_secs(10), keyed)
        .await
        .expect("a keyed request does not wait behind export reads");
    assert_eq!(keyed.status(), StatusCode::OK);

    let hit = tokio::time::timeout(Duration::from_secs(10), tracker_hit(&app).send())
        .await
        .expect("a tracker hit does not wait behind export reads")
        .unwrap();
    assert_eq!(hit.status(), StatusCode::ACCEPTED);

    let revoked = tokio::time::timeout(
        Duration::from_secs(10),
        app.get_with("ferry_not_a_key", &app.api("/websites")),
    )
    .await
    .expect("an unknown key is refused without waiting");
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    drop(streams);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_over_the_time_limit_gets_503_request_timeout() {
    let mut args = ServeArgs::loopback();
    args.request_timeout = 1;
    let app = spawn_app_with(args).await;
    let streams = hold_every_reader(&app).await;

    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.get_with(&app.admin_key, &app.api("/websites")),
    )
    .await
    .expect("the server stops a request at its time limit");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        error_code(response).await,
        (StatusCode::SERVICE_UNAVAILABLE, "request_timeout".into())
    );
    drop(streams);
    // Once the readers are free, the same request answers.
    let response = app.get_with(&app.admin_key, &app.api("/websites")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ingest_upload_slower_than_the_time_limit_is_not_cut() {
    let mut args = ServeArgs::loopback();
    args.request_timeout = 1;
    let app = spawn_app_with(args).await;
    let lines: Vec<String> = (0..3)
        .map(|i| format!("{}\n", pageview(&app.website, "slow", &second(i), "/")))
        .collect();
    let length: usize = lines.iter().map(String::len).sum();
    let address = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/ingest HTTP/1.1\r\nHost: {address}\r\nX-API-Key: {}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        app.admin_key
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // A slow client: the upload takes well over the one-second limit (real time is the point).
    for line in &lines {
        tokio::time::sleep(Duration::from_millis(700)).await;
        socket.write_all(line.as_bytes()).await.unwrap();
    }
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"accepted\":3"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_the_concurrency_limit_requests_get_503_overloaded_at_once() {
    let mut args = ServeArgs::loopback();
    args.max_concurrent_requests = 2;
    let app = spawn_app_with(args).await;
    let streams = hold_every_reader(&app).await;

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let request = app
            .client
            .get(app.api("/websites"))
            .header("X-API-Key", &app.admin_key);
        requests.spawn(async move { request.send().await.unwrap() });
    }
    // Two take the places and wait for a reader; the other three are refused, not queued.
    for _ in 0..3 {
        let refused = tokio::time::timeout(Duration::from_secs(10), requests.join_next())
            .await
            .expect("a request over the limit is answered at once")
            .unwrap()
            .unwrap();
        assert_eq!(refused.headers()["retry-after"], "1");
        assert_eq!(
            error_code(refused).await,
            (StatusCode::SERVICE_UNAVAILABLE, "overloaded".into())
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), requests.join_next())
            .await
            .is_err(),
        "the two in their places still wait for a reader"
    );

    drop(streams);
    while let Some(served) = requests.join_next().await {
        assert_eq!(served.unwrap().status(), StatusCode::OK);
    }
    let after = app.get_with(&app.admin_key, &app.api("/websites")).await;
    assert_eq!(after.status(), StatusCode::OK, "the places are given back");
}
