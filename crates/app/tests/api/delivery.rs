//! Delivery (issue 11, §2–3) against real S3 servers started by `scripts/services/s3.sh`:
//! moto on 127.0.0.1:5000 (any signature) and s3s-fs on 127.0.0.1:5002 (checks SigV4). The
//! tests fail, not skip, when a server is not there. Back-offs are waited out on the
//! injected clock; the worker is stepped.

use std::sync::{Arc, Mutex};

use ferry_domain::queue::{DELIVERY_ATTEMPTS, DELIVERY_BACKOFF_MS};
use hmac::Mac;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::exports::{fetch, person, post};
use crate::helpers::*;

pub const MOTO: &str = "http://127.0.0.1:5000";
pub const S3S: &str = "http://127.0.0.1:5002";
pub(crate) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A new bucket on moto (unsigned S3 `CreateBucket`: moto takes any signature).
pub async fn moto_bucket(app: &TestApp) -> String {
    let bucket = format!("ferry-{}", &uuid_like());
    let created = app
        .client
        .put(format!("{MOTO}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("moto is not answering on {MOTO} (scripts/services/s3.sh starts it): {e}")
        });
    assert!(created.status().is_success(), "{}", created.status());
    bucket
}

/// The bucket on moto, through the S3 API (signed: moto refuses anonymous reads).
pub fn moto(bucket: &str) -> opendal::Operator {
    opendal::install_default();
    let s3 = opendal::services::S3::default()
        .bucket(bucket)
        .region("us-east-1")
        .endpoint(MOTO)
        .access_key_id("ferry-test")
        .secret_access_key("any")
        .disable_config_load()
        .disable_ec2_metadata();
    opendal::Operator::new(s3).unwrap()
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 6];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

pub fn s3(bucket: &str, endpoint: &str, secret: &str) -> Value {
    json!({"type": "s3", "bucket": bucket, "region": "us-east-1", "path": "ferry-exports/",
           "access_key_id": "ferry-test", "secret_access_key": secret, "endpoint": endpoint})
}

async fn queue(app: &TestApp, body: Value) -> String {
    let response = post(app, "/users/user_123/export", body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["delivery"]["status"], "pending", "{queued}");
    queued["export_id"].as_str().unwrap().to_string()
}

async fn export_view(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.api(&format!("/exports/{id}"))).await
}

/// Each alert received: its signature header and its body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An HTTP listener that keeps every request's signature header and body.
async fn alert_listener() -> (String, Received) {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let seen: Received = Arc::default();
    let keep = seen.clone();
    let router = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                let signature = headers
                    .get("x-ferry-signature")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                keep.lock().unwrap().push((signature, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

pub(crate) async fn set_webhook(app: &TestApp, url: &str) -> String {
    let response = app
        .client
        .put(app.api("/alerts/webhook"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["secret"].as_str().unwrap().to_string()
}

/// Steps the worker through every attempt of a failing delivery, checking that each retry
/// waits exactly its back-off (30 s, then twice the one before). Returns the attempts run.
/// The last failure queues the alerts, which run then too (each channel the account set).
pub(crate) async fn run_failing_delivery(app: &TestApp) -> u32 {
    let mut attempts = 1; // the first ran with the export
    for n in 1..DELIVERY_ATTEMPTS {
        let wait = DELIVERY_BACKOFF_MS << (n - 1);
        app.clock.advance(wait - 1000);
        assert!(
            app.run_jobs().await.is_empty(),
            "attempt {} ran before its back-off of {wait} ms",
            n + 1
        );
        app.clock.advance(1000);
        let ran = app.run_jobs().await;
        let deliveries = ran.iter().filter(|e| e.kind.name() == "deliver").count();
        assert_eq!(deliveries, 1, "attempt {} runs after {wait} ms", n + 1);
        attempts += 1;
    }
    app.clock.advance(DELIVERY_BACKOFF_MS << DELIVERY_ATTEMPTS);
    let after = app.run_jobs().await;
    assert!(
        !after.iter().any(|e| e.kind.name() == "deliver"),
        "no attempt after the last"
    );
    attempts
}

#[tokio::test]
async fn an_export_delivered_to_s3_arrives_with_the_manifests_checksums() {
    let app = spawn_app().await;
    person(&app).await;
    let bucket = moto_bucket(&app).await;
    let created = post(&app, "/destinations", s3(&bucket, MOTO, SECRET)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let destination: Value = created.json().await.unwrap();
    let id = queue(
        &app,
        json!({"format": "csv", "include": "all", "delivery": destination["id"]}),
    )
    .await;
    app.run_jobs().await;

    let job = export_view(&app, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["delivery"]["status"], "delivered", "{job}");
    assert_eq!(job["delivery"]["attempts"], 1);
    let files = job["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for file in files {
        let name = file["name"].as_str().unwrap();
        let key = format!("ferry-exports/{id}/{name}");
        let bytes = moto(&bucket).read(&key).await.unwrap().to_vec();
        assert_eq!(file["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        assert_eq!(file["bytes"], bytes.len());
    }
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "s3", "{receipt}");
    assert!(receipt["delivered_at"].is_string(), "{receipt}");
    // The download link stays available beside the delivery.
    let (status, _) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    let audit = app
        .get_json(&app.api("/audit?action=data_export.delivered"))
        .await;
    assert_eq!(
        audit["data"][0]["details"]["delivery_method"], "s3",
        "{audit}"
    );
}

#[tokio::test]
async fn refused_credentials_are_retried_then_fail_clearly_with_a_signed_alert() {
    let app = spawn_app().await;
    person(&app).await;
    let (url, alerts) = alert_listener().await;
    let webhook_secret = set_webhook(&app, &url).await;
    // s3s-fs checks the signature: this secret is not the one it knows.
    let wrong = s3("ferry-test", S3S, "not-the-secret-s3s-fs-knows");
    let id = queue(&app, json!({"format": "json", "delivery": wrong})).await;
    app.run_jobs().await;
    let job = export_view(&app, &id).await;
    assert_eq!(
        job["status"], "completed",
        "the export itself is fine: {job}"
    );
    assert_eq!(job["delivery"]["status"], "pending", "{job}");
    let first_error = job["delivery"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        first_error.contains("refused the credentials"),
        "s3s-fs answered (is it running on {S3S}?): {first_error}"
    );

    assert_eq!(run_failing_delivery(&app).await, DELIVERY_ATTEMPTS);
    let job = export_view(&app, &id).await;
    assert_eq!(job["delivery"]["status"], "failed", "{job}");
    assert_eq!(job["delivery"]["attempts"], DELIVERY_ATTEMPTS);
    assert!(
        job["delivery"]["error"]
            .as_str()
            .unwrap()
            .contains("refused the credentials")
    );
    assert!(job["delivery"]["delivered_at"].is_null());
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "download", "{receipt}");
    assert!(receipt["delivered_at"].is_null(), "nothing was delivered");
    let audit = app.get_json(&app.api("/audit?action=data_export")).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"data_export.delivery_failed"),
        "{actions:?}"
    );
    assert!(!actions.contains(&"data_export.delivered"), "{actions:?}");

    let alerts = alerts.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1, "one alert, at the last failure");
    let (signature, body) = &alerts[0];
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(webhook_secret.as_bytes()).unwrap();
    mac.update(body);
    assert_eq!(
        signature,
        &format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let alert: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(alert["event"], "data_export.delivery_failed");
    assert_eq!(alert["export_id"], id.as_str());
}

#[tokio::test]
async fn a_destination_that_is_down_is_retried_with_back_off_then_failed() {
    let app = spawn_app().await;
    person(&app).await;
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = s3("ferry-test", &format!("http://127.0.0.1:{port}"), SECRET);
    let id = queue(&app, json!({"format": "json", "delivery": down})).await;
    app.run_jobs().await;
    assert_eq!(run_failing_delivery(&app).await, DELIVERY_ATTEMPTS);
    let job = export_view(&app, &id).await;
    assert_eq!(job["delivery"]["status"], "failed", "{job}");
    assert!(
        job["delivery"]["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{job}"
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert!(receipt["delivered_at"].is_null());
}

#[tokio::test]
async fn an_export_delivered_to_a_local_directory_never_replaces_what_is_there() {
    let app = spawn_app().await;
    person(&app).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "mine").unwrap();
    let local = json!({"type": "local", "path": dir.path()});
    let id = queue(&app, json!({"format": "json", "delivery": local.clone()})).await;
    app.run_jobs().await;
    let job = export_view(&app, &id).await;
    assert_eq!(job["delivery"]["status"], "delivered", "{job}");
    let name = job["files"][0]["name"].as_str().unwrap();
    let bytes = std::fs::read(dir.path().join(&id).join(name)).unwrap();
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "local");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "mine"
    );
}

#[tokio::test]
async fn a_bulk_export_of_separate_parts_arrives_file_by_file_with_the_manifests_checksums() {
    let app = spawn_app_with_small_parts().await;
    crate::bulk_exports::traffic(&app).await;
    let bucket = moto_bucket(&app).await;
    let body = json!({"format": "csv", "zip": false, "part_size": 1024, "include": ["pageviews"],
                      "delivery": s3(&bucket, MOTO, SECRET)});
    let job = crate::bulk_exports::bulk(&app, body).await;
    let id = job["export_id"].as_str().unwrap();
    assert_eq!(job["delivery"]["status"], "delivered", "{job}");
    let files = job["files"].as_array().unwrap();
    assert!(files.len() >= 5, "manifest, parts, README: {files:?}");
    let op = moto(&bucket);
    let manifest: Value = serde_json::from_slice(
        &op.read(&format!("ferry-exports/{id}/manifest.json"))
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    for file in files {
        let name = file["name"].as_str().unwrap();
        let bytes = op
            .read(&format!("ferry-exports/{id}/{name}"))
            .await
            .unwrap()
            .to_vec();
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(file["sha256"], digest.as_str(), "{name}");
        if name != "manifest.json" {
            assert!(
                manifest.to_string().contains(&digest),
                "the manifest lists {name}'s checksum"
            );
        }
    }
}

#[tokio::test]
async fn an_export_refused_by_the_daily_limit_keeps_no_copy_of_its_destination() {
    let app = spawn_app().await;
    person(&app).await;
    let account = app.store.account_by_name("acme").await.unwrap().unwrap();
    app.store
        .set_account_limits(
            account.id,
            Some(ferry_domain::LimitSetting::Limited(0)),
            None,
        )
        .await
        .unwrap();
    let body = json!({"format": "json", "delivery": s3("b", MOTO, SECRET)});
    let response = post(&app, "/users/user_123/export", body).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::TOO_MANY_REQUESTS, "export_limit_reached".into())
    );
    let db = rusqlite::Connection::open(app.data_dir().join("ferry.db")).unwrap();
    let kept: i64 = db
        .query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        kept, 0,
        "the sealed credentials of an export that never runs are not kept"
    );
}
