//! The privacy statement's API (who may read and change it, what it refuses), and the mail a
//! rejected request sends its subject (Art. 12(4)), read back from the real SMTP relay.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};
use crate::requests::{id, post_ok, post_with, receive, steps, unique_email};
use crate::requests_art15::statement;
use crate::requests_verification::{app_with_mail, mails_to};

async fn put(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.api(path))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

const ACCOUNT: &str = "/account/privacy-statement";

#[tokio::test]
async fn an_admin_sets_the_statement_a_website_overrides_it_and_each_change_is_audited() {
    let app = spawn_app().await;
    let empty = app.get_json(&app.api(ACCOUNT)).await;
    assert_eq!(empty["statement"]["purposes"], Value::Null, "{empty}");
    assert_eq!(empty["updated_by"], Value::Null);

    let body = json!({"purposes": "Statistics", "controller": "Acme", "retention": "13 months"});
    let set = put(&app, &app.admin_key, ACCOUNT, body).await;
    assert_eq!(set.status(), StatusCode::OK);
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["statement"]["purposes"], "Statistics");
    assert!(set["updated_by"].as_str().unwrap().starts_with("key_"));
    // Fields left out keep their values; "" and null clear one.
    let changed: Value = put(
        &app,
        &app.admin_key,
        ACCOUNT,
        json!({"retention": "", "controller": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(changed["statement"]["purposes"], "Statistics");
    assert_eq!(changed["statement"]["retention"], Value::Null);
    assert_eq!(changed["statement"]["controller"], Value::Null);

    let site = format!("/websites/{}/privacy-statement", app.website);
    let response = put(&app, &app.admin_key, &site, json!({"purposes": "Checkout"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let shown = app.get_json(&app.api(&site)).await;
    assert_eq!(shown["website_id"], app.website.as_str());
    assert_eq!(shown["overrides"]["purposes"], "Checkout");
    assert_eq!(shown["overrides"]["retention"], Value::Null);
    assert_eq!(shown["effective"]["purposes"], "Checkout");
    assert_eq!(shown["retention_days"], Value::Null);
    put(&app, &app.admin_key, &site, json!({"purposes": ""})).await;
    let shown = app.get_json(&app.api(&site)).await;
    assert_eq!(
        shown["effective"]["purposes"], "Statistics",
        "cleared: the account's applies"
    );

    let audit = app
        .get_json(&app.api("/audit?action=privacy_statement.updated"))
        .await;
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{audit}");
    assert_eq!(
        entries[1]["details"]["fields"],
        json!(["controller", "retention"])
    );
    assert_eq!(entries[2]["details"]["website_id"], app.website.as_str());
    assert!(
        !audit.to_string().contains("Checkout") && !audit.to_string().contains("Statistics"),
        "the trail names fields, never their text: {audit}"
    );
}

#[tokio::test]
async fn bad_statements_and_callers_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    put(
        &app,
        &app.admin_key,
        ACCOUNT,
        json!({"purposes": "Statistics"}),
    )
    .await;
    let before = app.get_json(&app.api(ACCOUNT)).await;

    let reader = app.key_with("exports:read").await;
    let refusals = [
        (
            reader.as_str(),
            ACCOUNT.to_string(),
            json!({"purposes": "x"}),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ),
        (
            &app.admin_key,
            ACCOUNT.into(),
            json!({"purpose": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            &app.admin_key,
            ACCOUNT.into(),
            json!({"purposes": 5}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            &app.admin_key,
            ACCOUNT.into(),
            json!({"purposes": "é".repeat(4001)}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            &app.admin_key,
            ACCOUNT.into(),
            json!({"purposes": "a\u{0}b"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            &app.admin_key,
            ACCOUNT.into(),
            json!({}),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            &app.admin_key,
            "/websites/web_nope/privacy-statement".into(),
            json!({"purposes": "x"}),
            StatusCode::NOT_FOUND,
            "website_not_found",
        ),
    ];
    for (key, path, body, status, code) in refusals {
        let response = put(&app, key, &path, body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (status, code.to_string()),
            "{path} {body}"
        );
    }
    // A valid field beside a bad one: nothing of it is kept.
    let mixed = put(
        &app,
        &app.admin_key,
        ACCOUNT,
        json!({"source": "ok", "purposes": 5}),
    )
    .await;
    assert_eq!(mixed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get_json(&app.api(ACCOUNT)).await, before);
    // The most a field takes is stored whole.
    let longest = put(
        &app,
        &app.admin_key,
        ACCOUNT,
        json!({"source": "é".repeat(4000)}),
    )
    .await;
    assert_eq!(longest.status(), StatusCode::OK);

    // Another account's website is not found, to read or to change.
    let (other_key, other_site) = app.other_account().await;
    let theirs = format!("/websites/{other_site}/privacy-statement");
    let response = put(&app, &app.admin_key, &theirs, json!({"purposes": "x"})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "website_not_found".into())
    );
    let response = app.get_with(&app.admin_key, &app.api(&theirs)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let theirs_shown: Value = app
        .get_with(&other_key, &app.api(ACCOUNT))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs_shown["statement"]["purposes"],
        Value::Null,
        "one account's statement is its own"
    );
    let response = app.client.get(app.api(ACCOUNT)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rejected_request_mails_the_subject_the_reason_and_their_remedies() {
    let app = app_with_mail().await;
    statement(&app).await;
    let email = unique_email("reject");
    let request = receive(&app, &email, None).await;
    // No reason: refused, nothing sent.
    let response = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{}/reject", id(&request)),
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "missing_field".into())
    );
    app.run_jobs().await;
    assert!(mails_to(&email).is_empty());

    let reason = "We hold no data about this address.";
    let path = format!("/requests/{}/reject", id(&request));
    let rejected = post_ok(&app, &path, json!({"reason": reason}), StatusCode::OK).await;
    assert_eq!(rejected["status"], "rejected");
    app.run_jobs().await;
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(
        mails[0]["subject"],
        "Your data request: we cannot act on it"
    );
    let body = mails[0]["body"].as_str().unwrap();
    for text in [
        reason,
        &id(&request),
        "lodge a complaint with a data protection supervisory authority",
        "Berliner Beauftragte für Datenschutz",
        "judicial remedy",
        "dpo@acme.example",
    ] {
        assert!(body.contains(text), "{text} missing: {body}");
    }
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(steps(&shown), ["received", "rejected", "mail_sent"]);
    assert_eq!(shown["timeline"][2]["details"]["mail"], "rejection");
    // Rejected once, mailed once: another step is refused and sends nothing.
    let again = post_with(&app, &app.admin_key, &path, json!({"reason": "again"})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    app.run_jobs().await;
    assert_eq!(mails_to(&email).len(), 1);
}
