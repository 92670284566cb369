//! Alerts by email (issue 11, §3): the account's alert address (`/alerts/email`, admin only)
//! and the mail a delivery's final failure sends there, read back from the real relay's
//! Maildir (`scripts/services/smtp.sh`). Retries are stepped on the injected clock.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::delivery::{SECRET, run_failing_delivery, s3};
use crate::delivery_more::mail_to;
use crate::exports::{person, post};
use crate::helpers::*;

pub(crate) fn with_relay() -> ferry::config::ServeArgs {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2525".into());
    args.mail.smtp_from = Some("Ferry <alerts@ferry.test>".into());
    args
}

/// An address no other test (or earlier run) mails.
pub(crate) fn unique_address(what: &str) -> String {
    let mut bytes = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    format!(
        "{what}-{}-{}@example.com",
        std::process::id(),
        hex::encode(bytes)
    )
}

pub(crate) async fn put_alert_email(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.api("/alerts/email"))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_delivery_that_fails_for_good_mails_the_alert_address_what_failed_and_what_to_do() {
    let app = spawn_app_with(with_relay()).await;
    person(&app).await;
    let to = unique_address("dpo");
    let set = put_alert_email(&app, &app.admin_key, json!({"to": to})).await;
    assert_eq!(set.status(), StatusCode::OK);
    // A saved destination that is down: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut down = s3("ferry-test", &format!("http://127.0.0.1:{port}"), SECRET);
    down["name"] = json!("warehouse");
    let created = post(&app, "/destinations", down).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let destination = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = post(
        &app,
        "/users/user_123/export",
        json!({"format": "json", "delivery": destination}),
    )
    .await;
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    let id = queued.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    run_failing_delivery(&app).await;

    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["delivery"]["status"], "failed", "{job}");
    assert!(job["delivery"]["delivered_at"].is_null());
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert!(receipt["delivered_at"].is_null(), "nothing was delivered");
    assert_eq!(receipt["delivery_method"], "download");

    let mail = mail_to(&to);
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.contains(&id), "names the export: {subject}");
    assert!(
        subject.contains("warehouse"),
        "names the destination: {subject}"
    );
    let body = mail["body"].as_str().unwrap();
    for expected in [
        format!("Export:       {id}"),
        format!("Destination:  \"warehouse\" (s3, {destination})"),
        "Attempts:     6".to_string(),
        "could not be reached".to_string(),
        format!(
            "POST {}/api/external/v1/destinations/{destination}/test",
            app.base
        ),
        format!("GET {}/api/external/v1/exports/{id}", app.base),
    ] {
        assert!(
            body.contains(&expected),
            "{expected:?} missing from:\n{body}"
        );
    }
    assert!(!body.contains(SECRET), "never the credentials:\n{body}");
    assert!(mail["attachments"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_mail_relay_an_alert_email_is_refused_saying_how_to_configure_one() {
    let app = spawn_app().await;
    let response = put_alert_email(&app, &app.admin_key, json!({"to": "dpo@example.com"})).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "mail_relay_not_configured");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("FERRY_SMTP_URL"), "{message}");
    assert_eq!(
        app.get_json(&app.api("/alerts/email")).await,
        json!({"to": null}),
        "nothing was set"
    );
}

/// Who reaches the address and what it takes: only an admin of the account, only one plain
/// address (no header tricks, no oversized values); another account never sees it; the
/// audit trail records each change but never the address.
#[tokio::test]
async fn only_an_admin_sets_the_alert_email_hostile_values_are_refused_and_the_audit_never_holds_it()
 {
    let app = spawn_app_with(with_relay()).await;
    let url = app.api("/alerts/email");
    let reader = app
        .key_with("analytics:read,exports:read,exports:write")
        .await;
    for request in [
        app.client.put(&url).json(&json!({"to": "dpo@example.com"})),
        app.client.get(&url),
        app.client.delete(&url),
    ] {
        let response = request.header("X-API-Key", &reader).send().await.unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::FORBIDDEN, "insufficient_scope".to_string())
        );
    }
    for hostile in [
        json!({"to": "not-an-address"}),
        json!({"to": "Mallory <mallory@example.com>"}),
        json!({"to": "dpo@example.com\r\nBcc: victim@example.com"}),
        json!({"to": "dpo@example.com, victim@example.com"}),
        json!({"to": format!("{}@example.com", "a".repeat(300))}),
        json!({"to": ""}),
        json!({"to": 42}),
    ] {
        let response = put_alert_email(&app, &app.admin_key, hostile.clone()).await;
        let (status, _) = error_code(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{hostile}");
    }
    let response = put_alert_email(
        &app,
        &app.admin_key,
        json!({"to": "dpo@example.com", "cc": "x@example.com"}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "unknown_field".to_string())
    );
    assert_eq!(app.get_json(&url).await, json!({"to": null}), "nothing set");

    let address = unique_address("privacy");
    let set = put_alert_email(&app, &app.admin_key, json!({"to": address})).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(app.get_json(&url).await, json!({"to": address}));
    let (globex, _) = app.other_account().await;
    let theirs = app.get_with(&globex, &url).await;
    assert_eq!(theirs.json::<Value>().await.unwrap(), json!({"to": null}));

    let removed = app
        .client
        .delete(&url)
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        removed.json::<Value>().await.unwrap(),
        json!({"to": null, "removed": true})
    );
    assert_eq!(app.get_json(&url).await, json!({"to": null}));
    let trail = app.get_json(&app.api("/audit?action=alert_email")).await;
    let actions: Vec<&str> = texts(&trail["data"], "action");
    assert_eq!(actions.len(), 2, "{trail}");
    assert!(actions.contains(&"alert_email.set") && actions.contains(&"alert_email.removed"));
    assert!(
        !trail.to_string().contains(&address),
        "the audit trail never holds the address: {trail}"
    );
}
