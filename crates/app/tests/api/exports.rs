//! Per-person exports over HTTP, as the reference page's client does them: post, poll, download.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::*;

pub(crate) async fn person(app: &TestApp) {
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/products/widget"),
        event(w, "v1", "2024-05-01T10:01:00Z", "add_to_cart"),
        pageview(w, "v1", "2024-05-02T09:00:00Z", "/checkout"),
        json!({"type": "identify", "website_id": w, "visitor_id": "v1", "user_id": "user_123", "email": "user@example.com", "name": "John Doe", "properties": {"plan": "pro"}}),
        json!({"type": "identify", "website_id": w, "visitor_id": "quiet", "user_id": "user_quiet", "email": "quiet@example.com"}),
    ])
    .await;
}

pub(crate) async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.api(path))
        .header("X-API-Key", &app.admin_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Runs the queued jobs, then reads the export as a client would; it must have completed.
pub(crate) async fn wait_until_completed(app: &TestApp, id: &str) -> Value {
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "completed", "{job}");
    job
}

pub(crate) async fn export(app: &TestApp, body: Value) -> Value {
    let response = post(app, "/users/user_123/export", body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    wait_until_completed(app, queued["export_id"].as_str().unwrap()).await
}

pub(crate) async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut request = app.client.get(url);
    if let Some(r) = range {
        request = request.header("Range", r);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_reference_flow_posts_polls_and_downloads_the_json_document() {
    let mut app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"format": "json", "include": "all"})).await;
    let url = job["download_url"].as_str().unwrap();
    let (status, bytes) = fetch(&app, url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    assert_eq!(job["files"][0]["bytes"], bytes.len());
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["export_id"], job["export_id"]);
    assert_eq!(doc["user"]["email"], "user@example.com");
    assert_eq!(doc["pageviews"].as_array().unwrap().len(), 2);
    assert_eq!(doc["events"][0]["name"], "add_to_cart");
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 2);
    // The log entry is written as the stream ends, after the client has its last byte.
    app.downloads_recorded(1).await;
    let after = app
        .get_json(&app.api(&format!("/exports/{}", job["export_id"].as_str().unwrap())))
        .await;
    assert_eq!(after["downloads"][0]["complete"], true);
    assert_eq!(after["downloads"][0]["bytes"], bytes.len());
}

#[tokio::test]
async fn a_csv_export_unzips_and_every_manifest_checksum_matches() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(
        &app,
        json!({"format": "csv", "include": ["pageviews", "events", "profile"]}),
    )
    .await;
    let (_, bytes) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let files = unzip(&bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "pageviews.csv",
            "events.csv",
            "profile.csv",
            "report.html",
            "README.txt",
            "manifest.json"
        ]
    );
    let manifest: Value = serde_json::from_slice(&files.last().unwrap().1).unwrap();
    for (entry, (name, content)) in manifest["files"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(
            (
                entry["name"].as_str().unwrap(),
                entry["sha256"].as_str().unwrap()
            ),
            (
                name.as_str(),
                hex::encode(sha2::Sha256::digest(content)).as_str()
            )
        );
    }
    assert_eq!(manifest["identities"][0]["visitor_id"], "v1");
}

#[tokio::test]
async fn a_one_time_link_survives_an_interrupted_download_and_dies_after_a_complete_one() {
    let mut app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"format": "json", "one_time": true})).await;
    let url = job["download_url"].as_str().unwrap();
    let (status, head) = fetch(&app, url, Some("bytes=0-9")).await;
    assert_eq!((status, head.len()), (StatusCode::PARTIAL_CONTENT, 10));
    let (status, rest) = fetch(&app, url, Some("bytes=10-")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let whole = [head, rest].concat();
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&whole)),
        "a resumed download reassembles the file"
    );
    // The download log is written just after each response ends.
    app.downloads_recorded(2).await;
    let after = app
        .get_json(&app.api(&format!("/exports/{}", job["export_id"].as_str().unwrap())))
        .await;
    let complete: Vec<bool> = after["downloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["complete"].as_bool().unwrap())
        .collect();
    assert_eq!(complete, [false, true]);
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::GONE, "link_used".into())
    );
    assert_eq!(after["download_url"], Value::Null);
}

#[tokio::test]
async fn expired_forged_and_deleted_links_are_refused() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"expires_in": 1})).await;
    let url = job["download_url"].as_str().unwrap().to_string();
    app.clock.advance(1_100);
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::GONE, "link_expired".into())
    );

    let forged = format!("{}x", url);
    let response = app.client.get(&forged).send().await.unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "link_invalid".into())
    );

    let job = export(&app, json!({})).await;
    let url = job["download_url"].as_str().unwrap();
    let deleted = app
        .client
        .delete(app.api(&format!("/exports/{}", job["export_id"].as_str().unwrap())))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.json::<Value>().await.unwrap()["status"], "expired");
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::GONE, "link_expired".into())
    );
}

#[tokio::test]
async fn a_known_person_without_activity_gets_a_valid_export_with_empty_lists() {
    let app = spawn_app().await;
    person(&app).await;
    let response = post(
        &app,
        "/exports",
        json!({"subject": {"email": "QUIET@example.com"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = wait_until_completed(&app, &id).await;
    let (_, bytes) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["user"]["user_id"], "user_quiet");
    assert_eq!(
        (&doc["pageviews"], &doc["events"], &doc["sessions"]),
        (&json!([]), &json!([]), &json!([]))
    );
}

#[tokio::test]
async fn export_requests_are_checked_before_anything_is_queued() {
    let app = spawn_app().await;
    person(&app).await;
    let unknown = post(&app, "/users/nobody/export", json!({"format": "json"})).await;
    assert_eq!(
        error_code(unknown).await,
        (StatusCode::NOT_FOUND, "subject_not_found".into())
    );
    let reversed = post(
        &app,
        "/users/user_123/export",
        json!({"from": "2024-05-02", "to": "2024-05-01"}),
    )
    .await;
    assert_eq!(
        error_code(reversed).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_range".into()
        )
    );
    let bad_date = post(
        &app,
        "/users/user_123/export",
        json!({"from": "2024-02-30"}),
    )
    .await;
    assert_eq!(
        error_code(bad_date).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_range".into()
        )
    );
    let bad_type = post(
        &app,
        "/users/user_123/export",
        json!({"include": ["clicks"]}),
    )
    .await;
    assert_eq!(
        error_code(bad_type).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_include".into())
    );
    let reader = app.key_with("analytics:read,exports:read").await;
    let forbidden = app
        .client
        .post(app.api("/users/user_123/export"))
        .header("X-API-Key", &reader)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(forbidden).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let (other_key, _) = app.other_account().await;
    let foreign = app
        .client
        .post(app.api("/users/user_123/export"))
        .header("X-API-Key", &other_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(foreign).await,
        (StatusCode::NOT_FOUND, "subject_not_found".into())
    );
    let listed = app.get_json(&app.api("/exports")).await;
    assert_eq!(listed["data"], json!([]), "nothing was queued");
}

#[tokio::test]
async fn another_accounts_key_can_neither_see_nor_delete_an_export_nor_read_its_download_log() {
    let mut app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({})).await;
    let id = job["export_id"].as_str().unwrap();
    fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    app.downloads_recorded(1).await;
    let (other_key, _) = app.other_account().await;
    for (method, path) in [
        ("GET", format!("/exports/{id}")),
        ("GET", format!("/exports/{id}/receipt")),
        ("DELETE", format!("/exports/{id}")),
    ] {
        let request = match method {
            "GET" => app.client.get(app.api(&path)),
            _ => app.client.delete(app.api(&path)),
        };
        let response = request
            .header("X-API-Key", &other_key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "export_not_found".into()),
            "{method} {path}"
        );
    }
    let listed = app
        .get_with(&other_key, &app.api("/exports"))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
    let still = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(still["status"], "completed", "their DELETE changed nothing");
    assert_eq!(still["downloads"].as_array().unwrap().len(), 1);
}
