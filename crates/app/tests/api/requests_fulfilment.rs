//! Fulfilment of access and portability requests through the real SMTP relay
//! (`scripts/services/smtp.sh`): the code, the download links and the "I received it" link
//! are all read from the mails that arrived, as the subject would read them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, pageview, unzip};
use crate::requests::{id, post_ok, post_with, steps, unique_email};
use crate::requests_verification::{app_with_mail, code_and_link, mails_to, verify};

const READY: &str = "Your data is ready";

/// A person with an email, one visitor and two page views.
pub async fn person(app: &TestApp, email: &str) {
    app.ingest_ok(&[
        json!({"type": "identify", "website_id": app.website, "visitor_id": "v1",
               "user_id": "u1", "email": email, "name": "Ann"}),
        pageview(&app.website, "v1", "2026-11-20T10:00:00Z", "/pricing"),
        pageview(&app.website, "v1", "2026-11-20T10:01:00Z", "/checkout"),
    ])
    .await;
}

/// A request of `kind`, verified with the code read from the mail.
pub async fn verified(app: &TestApp, email: &str, kind: &str) -> Value {
    let body = json!({"type": kind, "subject_email": email});
    let request = post_ok(app, "/requests", body, StatusCode::CREATED).await;
    let path = format!("/requests/{}/verification", id(&request));
    post_ok(app, &path, json!({}), StatusCode::ACCEPTED).await;
    app.run_jobs().await;
    let (code, _) = code_and_link(email);
    let response = verify(app, &request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub async fn show(app: &TestApp, request: &Value) -> Value {
    app.get_json(&app.api(&format!("/requests/{}", id(request))))
        .await
}

pub fn path(request: &Value, action: &str) -> String {
    format!("/requests/{}/{action}", id(request))
}

/// The mails "your data is ready" sent to `to`.
pub fn ready_mails(to: &str) -> Vec<String> {
    mails_to(to)
        .iter()
        .filter(|m| m["subject"] == READY)
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect()
}

fn links<'a>(body: &'a str, part: &str) -> Vec<&'a str> {
    body.split_whitespace()
        .filter(|w| w.contains(part))
        .collect()
}

pub async fn exports(app: &TestApp) -> Vec<Value> {
    let list = app.get_json(&app.api("/exports")).await;
    list["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_access_request_walks_from_receipt_through_approval_and_real_mail_to_closed() {
    let app = app_with_mail().await;
    let email = unique_email("fulfil");
    person(&app, &email).await;
    let settings = json!({"require_approval": true});
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let request = verified(&app, &email, "access").await;
    // Before anything leaves: whom the email resolves to, and who linked each identity.
    let shown = show(&app, &request).await;
    let identities = shown["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1, "{shown}");
    assert_eq!(identities[0]["visitor_id"], "v1");
    assert_eq!(identities[0]["user_id"], "u1");
    assert_eq!(identities[0]["linked_by"], "keyed_ingest");

    let asked = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    assert_eq!(asked["status"], "awaiting_approval");
    assert!(
        asked["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("approve"))
    );
    app.run_jobs().await;
    assert!(
        exports(&app).await.is_empty(),
        "nothing generated before approval"
    );
    assert!(ready_mails(&email).is_empty());

    let approved = post_ok(&app, &path(&request, "approve"), json!({}), StatusCode::OK).await;
    assert_eq!(approved["status"], "in_progress");
    let export_ids = approved["fulfilment"]["export_ids"].as_array().unwrap();
    assert_eq!(export_ids.len(), 1, "access: one JSON export");
    let export_id = export_ids[0].as_str().unwrap().to_string();

    app.run_jobs().await;
    let mails = ready_mails(&email);
    assert_eq!(mails.len(), 1, "one mail: {mails:?}");
    let body = &mails[0];
    let downloads = links(body, "/download/");
    assert_eq!(downloads.len(), 1, "{body}");
    let file = app.client.get(downloads[0]).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    // A package: the JSON document beside the Art. 15 report.
    let files = unzip(&file.bytes().await.unwrap());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["export.json", "report.html", "README.txt", "manifest.json"]
    );
    let data: Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(data["user"]["email"], email.as_str());
    let urls: Vec<&str> = data["pageviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/pricing", "/checkout"]);

    let receipt = app
        .get_json(&app.api(&format!("/exports/{export_id}/receipt")))
        .await;
    assert_eq!(receipt["delivery_method"], "email", "{receipt}");
    assert!(receipt["delivered_at"].is_string(), "{receipt}");
    assert!(
        receipt["requested_by"]
            .as_str()
            .unwrap()
            .contains(&format!("data-subject request {}", id(&request))),
        "{receipt}"
    );
    assert_eq!(show(&app, &request).await["status"], "delivered");

    // "I received it": a GET (a mail scanner) changes nothing; the button's POST records it.
    let confirm = links(body, "/privacy/received/")[0].to_string();
    let page = app.client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(!html.contains(&email) && !html.contains(&id(&request)));
    assert_eq!(show(&app, &request).await["status"], "delivered");
    let pressed = app.client.post(&confirm).send().await.unwrap();
    assert_eq!(pressed.status(), StatusCode::OK);
    assert_eq!(show(&app, &request).await["status"], "confirmed");

    post_ok(&app, &path(&request, "close"), json!({}), StatusCode::OK).await;
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "closed");
    assert_eq!(
        steps(&shown),
        [
            "received",
            "verification_sent",
            "mail_sent",
            "verified",
            "approval_requested",
            "approved",
            "delivered",
            "confirmed",
            "closed"
        ]
    );
    for step in shown["timeline"].as_array().unwrap() {
        assert!(step["at"].is_string(), "{step}");
    }
    let timeline = shown["timeline"].as_array().unwrap();
    assert_eq!(timeline[6]["actor"], "worker");
    assert_eq!(timeline[6]["details"]["delivery_method"], "email");
    assert_eq!(timeline[7]["actor"], "subject");

    let audit = app
        .get_json(&app.api(&format!("/audit?subject={email}")))
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "request.received",
        "request.verification_sent",
        "request.verified",
        "request.approval_requested",
        "request.approved",
        "data_export.requested",
        "data_export.completed",
        "data_export.delivered",
        "request.delivered",
        "request.confirmed",
        "request.closed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn a_portability_request_is_answered_with_json_and_csv_in_one_mail() {
    let app = app_with_mail().await;
    let email = unique_email("port");
    person(&app, &email).await;
    let settings = json!({"delivery_link_days": 2});
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let request = verified(&app, &email, "portability").await;
    let started = post_ok(
        &app,
        &path(&request, "fulfil"),
        json!({"one_time": true}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(started["status"], "in_progress", "no approval required");
    assert_eq!(started["fulfilment"]["one_time"], true);
    assert_eq!(
        started["fulfilment"]["export_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A second fulfil cannot ask for the exports again.
    let again = post_with(&app, &app.admin_key, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(
        error_code(again).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );

    app.run_jobs().await;
    // The links work for the account's `delivery_link_days`.
    for export in exports(&app).await {
        let created = chrono::DateTime::parse_from_rfc3339(export["created_at"].as_str().unwrap());
        let expires = chrono::DateTime::parse_from_rfc3339(export["expires_at"].as_str().unwrap());
        let days = (expires.unwrap() - created.unwrap()).num_hours() as f64 / 24.0;
        assert!((days - 2.0).abs() < 0.1, "{export}");
    }
    let mails = ready_mails(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let downloads = links(&mails[0], "/download/");
    assert_eq!(downloads.len(), 2, "{}", mails[0]);
    let mut zip = None;
    for link in &downloads {
        let bytes = app
            .client
            .get(*link)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        if bytes.starts_with(b"PK") {
            zip = Some(unzip(&bytes));
        }
        // One-time: the second fetch is refused.
        let second = app.client.get(*link).send().await.unwrap();
        assert_eq!(second.status(), StatusCode::GONE);
    }
    let files = zip.expect("a ZIP of CSV files");
    let pageviews = files
        .iter()
        .find(|(name, _)| name.ends_with("pageviews.csv"))
        .expect("pageviews.csv");
    assert!(String::from_utf8_lossy(&pageviews.1).contains("/checkout"));
}

#[tokio::test]
async fn a_request_whose_export_was_cancelled_is_fulfilled_again() {
    let app = app_with_mail().await;
    let email = unique_email("again");
    person(&app, &email).await;
    let request = verified(&app, &email, "access").await;
    let first = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    let old = first["fulfilment"]["export_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = app
        .client
        .delete(app.api(&format!("/exports/{old}")))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    app.run_jobs().await;
    assert!(
        ready_mails(&email).is_empty(),
        "a cancelled export is not delivered"
    );

    let again = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    let new = again["fulfilment"]["export_ids"][0].as_str().unwrap();
    assert_ne!(new, old);
    app.run_jobs().await;
    let mails = ready_mails(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("/download/"));
    assert_eq!(show(&app, &request).await["status"], "delivered");
}
