//! `/destinations` (issue 11, §2): create, list, show, change, delete, test; scopes and
//! accounts; bad input changes nothing; credentials never come back out — not in an answer,
//! an audit entry, or a log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::{MOTO, moto, moto_bucket, s3};
use crate::exports::person;
use crate::helpers::*;

const SECRET: &str = "Sup3rS3cretAccessKey/ThatMustNeverLeak";

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.api(path))
        .header("X-API-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Everything written through `tracing` while the guard lives, on this thread (a
/// `#[tokio::test]` runs the app's tasks on it).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn destinations_are_managed_by_admins_and_never_show_their_credentials() {
    let logs = Logs::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let app = spawn_app().await;
    person(&app).await;
    let bucket = moto_bucket(&app).await;
    let admin = app.admin_key.clone();

    // The reference page's object, as written (wrapped in "destination").
    let body = json!({"name": "warehouse", "destination": s3(&bucket, MOTO, SECRET)});
    let response = send(&app, "POST", "/destinations", &admin, Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["type"], "s3");
    assert_eq!(created["name"], "warehouse");
    assert_eq!(created["destination"]["bucket"], bucket.as_str());
    assert_eq!(created["destination"]["secret_access_key"], "redacted");

    let reader = app.key_with("exports:read").await;
    let listed = send(&app, "GET", "/destinations", &reader, None).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed_text = listed.text().await.unwrap();
    assert!(listed_text.contains(&id));
    let refused = send(
        &app,
        "POST",
        "/destinations",
        &reader,
        Some(s3(&bucket, MOTO, SECRET)),
    )
    .await;
    assert_eq!(
        error_code(refused).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );

    // A rename keeps the credentials: the test still writes with them.
    let renamed = send(
        &app,
        "PATCH",
        &format!("/destinations/{id}"),
        &admin,
        Some(json!({"name": "lake", "path": "other/"})),
    )
    .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed_text = renamed.text().await.unwrap();
    assert!(renamed_text.contains("\"lake\"") && renamed_text.contains("other/"));
    let tested = send(
        &app,
        "POST",
        &format!("/destinations/{id}/test"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        tested.status(),
        StatusCode::OK,
        "{}",
        tested.text().await.unwrap()
    );
    let leftover = moto(&bucket).exists("other/.ferry-test").await.unwrap();
    assert!(!leftover, "the test object is removed");

    // An export delivered there: its view and receipt say where, never with what.
    let queued = send(
        &app,
        "POST",
        "/users/user_123/export",
        &admin,
        Some(json!({"format": "json", "delivery": id})),
    )
    .await;
    let queued_text = queued.text().await.unwrap();
    let export_id = serde_json::from_str::<Value>(&queued_text).unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let shown = send(&app, "GET", &format!("/exports/{export_id}"), &admin, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(shown.contains("\"delivered\""), "{shown}");
    let inline = send(
        &app,
        "POST",
        "/users/user_123/export",
        &admin,
        Some(json!({"format": "json", "delivery": s3(&bucket, MOTO, SECRET)})),
    )
    .await;
    assert_eq!(inline.status(), StatusCode::ACCEPTED);
    let inline_text = inline.text().await.unwrap();
    app.run_jobs().await;

    // Bad input: a clear code, and nothing stored.
    for (bad, field) in [
        (json!({"type": "ftp", "path": "/x"}), "ftp"),
        (
            json!({"type": "s3", "bucket": "b", "region": "r", "access_key_id": "a"}),
            "secret_access_key",
        ),
        (
            json!({"type": "s3", "bucket": "b", "region": "r", "access_key_id": "a", "secret_access_key": SECRET, "acl": "public"}),
            "acl",
        ),
        (json!({"type": "local", "path": "relative/dir"}), "absolute"),
        (
            json!({"type": "sftp", "host": "h", "username": "u", "host_key": "k"}),
            "password",
        ),
    ] {
        let response = send(&app, "POST", "/destinations", &admin, Some(bad)).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (status, body["error"]["code"].as_str().unwrap()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_destination")
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    let bad_delivery = send(
        &app,
        "POST",
        "/users/user_123/export",
        &admin,
        Some(json!({"delivery": {"type": "s3"}})),
    )
    .await;
    assert_eq!(error_code(bad_delivery).await.1, "invalid_destination");
    let missing = send(
        &app,
        "POST",
        "/users/user_123/export",
        &admin,
        Some(json!({"delivery": "dst_nope"})),
    )
    .await;
    assert_eq!(
        error_code(missing).await,
        (StatusCode::NOT_FOUND, "destination_not_found".into())
    );
    let all: Value = send(&app, "GET", "/destinations", &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        1,
        "nothing stored: {all}"
    );

    // Another account sees nothing of it.
    let (other, _) = app.other_account().await;
    for (method, path) in [
        ("GET", format!("/destinations/{id}")),
        ("PATCH", format!("/destinations/{id}")),
        ("DELETE", format!("/destinations/{id}")),
        ("POST", format!("/destinations/{id}/test")),
    ] {
        let body = (method == "PATCH").then(|| json!({"name": "mine"}));
        let response = send(&app, method, &path, &other, body).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "destination_not_found".into()),
            "{method} {path}"
        );
    }

    // A destination that cannot take the test object: 502 with what it said.
    let down = send(&app, "POST", "/destinations", &admin, Some(json!({"type": "s3", "bucket": "b", "region": "us-east-1", "access_key_id": "a", "secret_access_key": SECRET, "endpoint": "http://127.0.0.1:9"}))).await;
    let down: Value = down.json().await.unwrap();
    let untested = send(
        &app,
        "POST",
        &format!("/destinations/{}/test", down["id"].as_str().unwrap()),
        &admin,
        None,
    )
    .await;
    let (status, code) = error_code(untested).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "destination_unreachable")
    );

    let deleted = send(&app, "DELETE", &format!("/destinations/{id}"), &admin, None).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = send(&app, "GET", &format!("/destinations/{id}"), &admin, None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    let audit = send(&app, "GET", "/audit?limit=500", &admin, None)
        .await
        .text()
        .await
        .unwrap();
    for action in [
        "destination.created",
        "destination.updated",
        "destination.tested",
        "destination.deleted",
        "data_export.delivered",
    ] {
        assert!(audit.contains(action), "{action} is audited");
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("destination created"),
        "the logs were captured"
    );
    for (place, text) in [
        ("a create answer", created.to_string()),
        ("a list", listed_text),
        ("a change", renamed_text),
        ("an export's answer", queued_text),
        ("an export's view", shown),
        ("an inline delivery's answer", inline_text),
        ("the audit trail", audit),
        ("the log", logged),
    ] {
        assert!(!text.contains(SECRET), "the secret is in {place}");
        assert!(
            !text.contains("Sup3rS3cret"),
            "part of the secret is in {place}"
        );
    }
    // Nor is it stored in the clear.
    for entry in std::fs::read_dir(app.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "{} holds the secret in the clear",
                path.display()
            );
        }
    }
}
