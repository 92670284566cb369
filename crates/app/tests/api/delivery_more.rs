//! Delivery through the API to the SFTP and GCS destinations (servers started by
//! `scripts/services/sftp.sh` on 127.0.0.1:2222 and `gcs.sh` on 127.0.0.1:4443): the export's
//! file arrives with its view's checksum, and the receipt names the method.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::exports::{person, post};
use crate::helpers::*;

const SFTP_SERVICE: &str = "/var/tmp/ferry-services/sftp";
const SFTP_CHROOT: &str = "/srv/ferry-sftp";
const GCS: &str = "http://127.0.0.1:4443";

/// Queues a person's JSON export delivered to `destination`, runs it, and returns its view.
async fn delivered(app: &TestApp, destination: Value) -> Value {
    let body = json!({"format": "json", "delivery": destination});
    let response = post(app, "/users/user_123/export", body).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{:?}",
        response.text().await
    );
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["delivery"]["status"], "delivered", "{job}");
    job
}

#[tokio::test]
async fn an_export_delivered_by_sftp_arrives_with_its_checksum_behind_a_pinned_host_key() {
    let host_key = std::fs::read_to_string(format!("{SFTP_SERVICE}/ssh_host_ed25519_key.pub"))
        .expect("sshd runs (scripts/services/sftp.sh)");
    let app = spawn_app().await;
    person(&app).await;
    let folder = format!("/upload/api-{}", std::process::id());
    let job = delivered(
        &app,
        json!({"type": "sftp", "host": "127.0.0.1", "port": 2222, "username": "ferrytest",
               "password": "ferry-test-password", "path": folder, "host_key": host_key.trim()}),
    )
    .await;
    let id = job["export_id"].as_str().unwrap();
    let name = job["files"][0]["name"].as_str().unwrap();
    let arrived = std::fs::read(format!("{SFTP_CHROOT}{folder}/{id}/{name}")).unwrap();
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&arrived))
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "sftp");
    assert!(!receipt["delivered_at"].is_null());
    assert!(
        !job.to_string().contains("ferry-test-password"),
        "never shown"
    );
}

#[tokio::test]
async fn an_export_delivered_to_gcs_arrives_as_an_object_with_its_checksum() {
    let app = spawn_app().await;
    person(&app).await;
    let bucket = format!("ferry-api-{}", std::process::id());
    let made = app
        .client
        .post(format!("{GCS}/storage/v1/b?project=ferry-test"))
        .json(&json!({"name": bucket}))
        .send()
        .await
        .expect("fake-gcs-server runs (scripts/services/gcs.sh)");
    assert!(made.status().is_success() || made.status() == StatusCode::CONFLICT);
    let account = include_str!("../../../deliver/tests/fixtures/gcs-test-service-account.json");
    let job = delivered(
        &app,
        json!({"type": "gcs", "bucket": bucket, "path": "exports/", "service_account_json": account,
               "endpoint": GCS}),
    )
    .await;
    let id = job["export_id"].as_str().unwrap();
    let name = job["files"][0]["name"].as_str().unwrap();
    let object = format!("exports/{id}/{name}");
    let mut url = reqwest::Url::parse(&format!("{GCS}/storage/v1/b/")).unwrap();
    url.path_segments_mut()
        .unwrap()
        .pop_if_empty()
        .extend([bucket.as_str(), "o", &object]);
    url.query_pairs_mut().append_pair("alt", "media");
    let arrived = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&arrived))
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "gcs");
    assert!(
        !job.to_string().contains("PRIVATE KEY"),
        "the key is never shown"
    );
}

/// The one mail in the test relay's Maildir (`scripts/services/smtp.sh`) addressed to `to`:
/// subject, body and attachments, as `scripts/services/read_mail.py` reads them.
pub(crate) fn mail_to(to: &str) -> Value {
    // The checkout running the test, not the one that first built it (see golden.rs).
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let script = format!("{dir}/../../scripts/services/read_mail.py");
    let out = std::process::Command::new("python3")
        .args([
            script.as_str(),
            "/var/tmp/ferry-services/smtp/maildir/new",
            to,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn an_export_delivered_by_email_arrives_with_a_link_that_downloads_it() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2525".into());
    args.mail.smtp_from = Some("ferry@example.com".into());
    let app = spawn_app_with(args).await;
    person(&app).await;
    let to = format!("dpo-{}@example.com", std::process::id());
    let job = delivered(&app, json!({"type": "email", "to": to})).await;
    let receipt = app
        .get_json(&app.api(&format!(
            "/exports/{}/receipt",
            job["export_id"].as_str().unwrap()
        )))
        .await;
    assert_eq!(receipt["delivery_method"], "email");

    let mail = mail_to(&to);
    assert_eq!(mail["subject"], "Your data export is ready");
    assert_eq!(
        mail["attachments"].as_array().unwrap().len(),
        1,
        "small: attached"
    );
    let body = mail["body"].as_str().unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/download/"))
        .unwrap_or_else(|| panic!("a download link in {body}"));
    let (status, bytes) = crate::exports::fetch(&app, link, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes))
    );
}

/// `--smtp-ca-file`: STARTTLS to the relay on :2526, whose certificate a test CA signed
/// (`scripts/services/smtp.sh`); the mail arrives over TLS.
#[tokio::test]
async fn an_email_delivery_goes_over_starttls_to_a_relay_whose_ca_is_given() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2526?tls=required".into());
    args.mail.smtp_from = Some("ferry@example.com".into());
    args.mail.smtp_ca_file = Some("/var/tmp/ferry-services/smtp/tls/ca.pem".into());
    let app = spawn_app_with(args).await;
    person(&app).await;
    let to = format!("tls-{}@example.com", std::process::id());
    let job = delivered(&app, json!({"type": "email", "to": to})).await;
    let mail = mail_to(&to);
    assert_eq!(mail["subject"], "Your data export is ready");
    assert_eq!(
        mail["attachments"][0][1], job["files"][0]["sha256"],
        "the attachment is the export"
    );
}

#[tokio::test]
async fn without_a_mail_relay_an_email_delivery_fails_saying_how_to_configure_one() {
    let app = spawn_app().await;
    person(&app).await;
    let body = json!({"format": "json", "delivery": {"type": "email", "to": "x@example.com"}});
    let response = post(&app, "/users/user_123/export", body).await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["delivery"]["status"], "failed", "{job}");
    let error = job["delivery"]["error"].as_str().unwrap();
    assert!(error.contains("FERRY_SMTP_URL"), "{error}");
}

/// `PUT /alerts/webhook`: only an admin sets where alerts go; a URL that is not http(s) or is
/// oversized is refused, and the audit trail records none of them.
#[tokio::test]
async fn only_an_admin_sets_the_alert_webhook_and_hostile_urls_are_refused() {
    let app = spawn_app().await;
    let reader = app.key_with("exports:read,exports:write").await;
    let put = |key: String, url: String| {
        app.client
            .put(app.api("/alerts/webhook"))
            .header("X-API-Key", key)
            .json(&json!({"url": url}))
            .send()
    };
    let response = put(reader, "https://alerts.example.com/hook".into())
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".to_string())
    );
    for url in [
        "file:///etc/passwd".to_string(),
        "javascript:alert(1)".to_string(),
        format!("https://example.com/{}", "a".repeat(3000)),
    ] {
        let response = put(app.admin_key.clone(), url).await.unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::BAD_REQUEST, "invalid_value".to_string())
        );
    }
    let trail = app
        .get_json(&app.api("/audit?action=alert_webhook.set"))
        .await;
    assert_eq!(trail["data"], json!([]), "nothing was set");
}
